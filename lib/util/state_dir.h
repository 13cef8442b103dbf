/* Where TeeMate keeps per-machine state (the sim's root key, ...). */
#ifndef TM_STATE_DIR_H
#define TM_STATE_DIR_H

#include <stddef.h>

#include "util/error.h"

/* $TEEMATE_STATE_DIR, else /var/lib/teemate for root, else
 * $XDG_STATE_HOME/teemate or ~/.local/state/teemate. Created (with missing
 * parents) mode 0700 if absent; the path goes to buf. */
int tm_state_dir(char *buf, size_t len, tm_error *err);

#endif
