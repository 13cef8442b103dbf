/* Where teemated listens: $TEEMATE_SOCKET, else <state dir>/teemated.sock. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/client.h"
#include "util/state_dir.h"

int tm_daemon_socket_resolve(const char *path, char *buf, size_t len, tm_error *err)
{
    char state[PATH_MAX];
    const char *env = getenv("TEEMATE_SOCKET");
    int n;
    if (!path && env && *env)
        path = env;
    if (path) {
        char cwd[PATH_MAX];
        /* Absolute, so that a daemon started elsewhere finds the same file. */
        if (path[0] != '/' && !getcwd(cwd, sizeof cwd))
            return tm_error_sys(err, "cannot resolve the socket path %s", path);
        n = path[0] == '/' ? snprintf(buf, len, "%s", path) : snprintf(buf, len, "%s/%s", cwd, path);
    } else {
        int ret = tm_state_dir(state, sizeof state, err);
        if (ret < 0)
            return ret;
        n = snprintf(buf, len, "%s/%s", state, TM_DAEMON_SOCKET_NAME);
    }
    if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return tm_error_set(err, ENAMETOOLONG, "socket path %s is too long for a unix socket "
                            "(at most %zu bytes)", path ? path : buf,
                            sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
    return 0;
}

const char *tm_daemon_socket_path(void)
{
    static char buf[PATH_MAX];
    tm_error err;
    return tm_daemon_socket_resolve(NULL, buf, sizeof buf, &err) < 0 ? NULL : buf;
}
