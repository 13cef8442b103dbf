/* A function's scripts from files: each file one script, named by its base
 * name (what error messages show). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fn_host.h"
#include "util/file.h"

int fn_sources_read(char *const *paths, size_t n, void **wire, size_t *len, tm_error *err)
{
    if (n == 0 || n > FN_MAX_SCRIPTS)
        return tm_error_set(err, EINVAL, "a function has 1 to %d scripts, not %zu", FN_MAX_SCRIPTS, n);
    struct fn_source src[FN_MAX_SCRIPTS];
    uint8_t *text[FN_MAX_SCRIPTS] = { 0 };
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        r = tm_file_read(paths[i], FN_MAX_SOURCE, &text[i], &src[i].len, err);
        const char *slash = strrchr(paths[i], '/');
        src[i].name = slash ? slash + 1 : paths[i];
        src[i].text = (const char *)text[i];
    }
    if (r == 0)
        r = fn_sources_pack(src, n, wire, len, err);
    for (size_t i = 0; i < n; i++)
        free(text[i]);
    return r;
}
