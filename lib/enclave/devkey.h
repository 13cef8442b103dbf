/* The development signing key: used when an image is run without a SIGSTRUCT,
 * created on first use in the state directory (0600). Never for production. */
#ifndef TM_DEVKEY_H
#define TM_DEVKEY_H

#include <stddef.h>

#include "enclave/image.h"
#include "sgx_arch.h"
#include "util/error.h"

/* Sign image as a DEBUG enclave with the development key; its path goes to
 * key_path (for the message telling the user). */
int tm_devkey_sign(const struct tm_image *image, struct sgx_sigstruct *ss, char *key_path,
                   size_t key_path_len, tm_error *err);

#endif
