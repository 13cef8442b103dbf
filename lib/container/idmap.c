/* A new user namespace's id maps, written by the runtime (root on the host,
 * so no newuidmap and no "deny" in setgroups) while init waits for "go". */
#include "container/init.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "util/cleanup.h"

int tm_idmap_write(pid_t pid, const char *name, const struct tm_id_mapping *m, size_t n, tm_error *err)
{
    char text[340 * 36];   /* the kernel's most lines, each at most 3 * 10 digits + 3 */
    size_t len = 0;
    for (size_t i = 0; i < n && len < sizeof(text); i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%u %u %u\n", m[i].container_id, m[i].host_id,
                                m[i].size);
    if (len >= sizeof(text))
        return tm_error_set(err, E2BIG, "too many %s lines", name);
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len)
        return tm_error_sys(err, "failed to update %s", path);
    return 0;
}
