/* Connecting to teemated, starting it when none answers. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/client.h"
#include "util/cleanup.h"

/* The connected fd or -errno. */
static int try_connect(const char *path)
{
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int r;
    do
        r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    return TM_STEAL_FD(fd);
}

/* The daemon must be this user's (or root's): never talk to another user's. */
static int check_peer(int fd, const char *path, tm_error *err)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return tm_error_sys(err, "cannot check who runs teemated at %s", path);
    if (cred.uid != geteuid() && cred.uid != 0)
        return tm_error_set(err, EPERM, "teemated at %s runs as uid %u, not as you (uid %u)", path,
                            cred.uid, geteuid());
    return 0;
}

int tm_daemon_connect(const char *path, bool autostart, bool *started, tm_error *err)
{
    char p[PATH_MAX];
    int ret = tm_daemon_socket_resolve(path, p, sizeof p, err);
    if (started)
        *started = false;
    if (ret < 0)
        return ret;
    int fd = try_connect(p);
    if (fd < 0 && (fd == -ENOENT || fd == -ECONNREFUSED) && autostart) {
        int pid;
        ret = tm_daemon_spawn(p, &pid, err);
        if (ret < 0 && ret != -EALREADY)   /* already: another one started meanwhile */
            return ret;
        if (ret == 0 && started)
            *started = true;
        fd = try_connect(p);
    }
    if (fd == -ENOENT || fd == -ECONNREFUSED)
        return tm_error_set(err, ECONNREFUSED, "no teemated listens on %s (start it with "
                            "'teemate daemon')", p);
    if (fd < 0)
        return tm_error_set(err, -fd, "cannot connect to teemated at %s: %s", p, strerror(-fd));
    ret = check_peer(fd, p, err);
    if (ret < 0) {
        close(fd);
        return ret;
    }
    return fd;
}
