#include "enclave/devkey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enclave/key.h"
#include "enclave/measure.h"
#include "enclave/sigstruct.h"
#include "util/cleanup.h"
#include "util/file.h"
#include "util/state_dir.h"

/* The key signs whatever asks: it must be this user's alone. In a state
 * directory others can write (1777), someone could plant their own key, or
 * a symlink, and have us sign with a key they know. The same rules as
 * sim-root.key: no symlink, a regular file of this uid, mode 0600 or stricter. */
static int devkey_check(const char *path, tm_error *err)
{
    _cleanup_close_ int fd = tm_file_open_private(path, "development key", err);
    return fd < 0 ? fd : 0;
}

static int devkey_load_or_create(char *path, size_t len, struct evp_pkey_st **key, tm_error *err)
{
    char dir[4096];
    int ret = tm_state_dir(dir, sizeof(dir), err);
    if (ret < 0)
        return ret;
    if (snprintf(path, len, "%s/dev-signing-key.pem", dir) >= (int)len)
        return tm_error_set(err, ENAMETOOLONG, "state directory path too long");
    struct stat st;
    if (lstat(path, &st) == 0)
        return (ret = devkey_check(path, err)) < 0 ? ret : tm_key_load(path, key, err);
    /* Two processes creating it at once each write a whole key and rename: the
     * last one wins, and both sign with a key that was on disk. */
    if ((ret = tm_key_generate(key, err)) < 0 || (ret = tm_key_save(*key, path, err)) < 0)
        return ret;
    tm_key_freep(key);
    return (ret = devkey_check(path, err)) < 0 ? ret : tm_key_load(path, key, err);
}

int tm_devkey_sign(const struct tm_image *image, struct sgx_sigstruct *ss, char *key_path,
                   size_t key_path_len, tm_error *err)
{
    _cleanup_key_ struct evp_pkey_st *key = NULL;
    int ret = devkey_load_or_create(key_path, key_path_len, &key, err);
    if (ret < 0)
        return ret;
    uint8_t mr[32];
    if ((ret = tm_measure_layout(&image->layout, NULL, NULL, mr, err)) < 0)
        return ret;
    struct tm_sign_options opts;
    tm_sign_options_default(&opts);
    opts.debug = true;
    return tm_sigstruct_sign(ss, mr, &opts, key, err);
}
