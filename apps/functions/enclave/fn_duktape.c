/* Duktape 2.7 from Debian's duktape-dev (/usr/share/duktape/duktape.c, never
 * copied into this tree), compiled with our options (fn_duk_config.h). */
#include "fn_duk_config.h"
#include "duktape.c"
