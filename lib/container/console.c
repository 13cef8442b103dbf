/* process.terminal: the pty is made inside the container (its devpts), and
 * its master goes to the engine over --console-socket, as runc does: one
 * message whose data is the pty's name and whose SCM_RIGHTS is the fd. */
#include "container/init.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/cleanup.h"

static int send_fd(int sock, int fd, const char *name)
{
    char control[CMSG_SPACE(sizeof(int))] = { 0 };
    struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                          .msg_controllen = sizeof(control) };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int tm_console_setup(int console_fd, tm_error *err)
{
    _cleanup_close_ int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return tm_error_sys(err, "cannot open /dev/ptmx in the container");
    char name[64];
    if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
        return tm_error_sys(err, "cannot unlock the container's pty");
    _cleanup_close_ int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0)
        return tm_error_sys(err, "cannot open %s", name);
    int r = send_fd(console_fd, master, name);
    if (r < 0)
        return tm_error_set(err, -r, "cannot send the pty to the console socket: %s", strerror(-r));
    if (setsid() < 0 && errno != EPERM)
        return tm_error_sys(err, "setsid");
    if (ioctl(slave, TIOCSCTTY, 0) < 0)
        return tm_error_sys(err, "cannot make %s the controlling terminal", name);
    for (int fd = 0; fd < 3; fd++)
        if (dup2(slave, fd) < 0)
            return tm_error_sys(err, "cannot make %s stdio", name);
    return 0;
}

int tm_console_connect(const char *path, tm_error *err)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path))
        return tm_error_set(err, ENAMETOOLONG, "console socket path %s is too long", path);
    strcpy(sa.sun_path, path);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return tm_error_sys(err, "cannot connect to the console socket %s", path);
    return TM_STEAL_FD(fd);
}
