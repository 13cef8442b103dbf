#include "daemon/listen.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/cleanup.h"

#define LISTEN_BACKLOG 128

/* An OFD lock on one byte: waiting or not. */
static int lock_byte(int fd, off_t byte, int type, bool wait)
{
    struct flock fl = { .l_type = (short)type, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1 };
    int r;
    do
        r = fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}

/* The socket's directory: made 0700 when missing; refused when someone else
 * owns it or others may write it (they could swap the socket). */
static int check_dir(const char *path, tm_error *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return tm_error_set(err, EINVAL, "socket path %s is not absolute", path);
    if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return tm_error_sys(err, "cannot create the socket directory %s", dir);
    struct stat st;
    if (stat(dir, &st) < 0)
        return tm_error_sys(err, "socket directory %s", dir);
    if (!S_ISDIR(st.st_mode))
        return tm_error_set(err, ENOTDIR, "socket directory %s is not a directory", dir);
    if ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & 022))
        return tm_error_set(err, EPERM, "socket directory %s can be written by others (mode %03o, "
                            "owner %u): use a directory only you can write", dir,
                            (unsigned)(st.st_mode & 0777), (unsigned)st.st_uid);
    return 0;
}

static int read_pid(int fd)
{
    char buf[32] = { 0 };
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    return n > 0 ? atoi(buf) : 0;
}

static int take_locks(const char *path, struct tm_daemon_listener *l, int *other_pid, tm_error *err)
{
    char lock_path[PATH_MAX];
    snprintf(lock_path, sizeof lock_path, "%s.lock", path);
    l->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (l->lock_fd < 0)
        return tm_error_sys(err, "cannot open the lock file %s", lock_path);
    int ret = lock_byte(l->lock_fd, 0, F_WRLCK, true);
    if (ret < 0)
        return tm_error_set(err, -ret, "cannot lock %s: %s", lock_path, strerror(-ret));
    ret = lock_byte(l->lock_fd, 1, F_WRLCK, false);
    if (ret == -EAGAIN || ret == -EACCES) {
        *other_pid = read_pid(l->lock_fd);
        return tm_error_set(err, EALREADY, "teemated already runs on %s (pid %d)", path, *other_pid);
    }
    if (ret < 0)
        return tm_error_set(err, -ret, "cannot lock %s: %s", lock_path, strerror(-ret));
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (ftruncate(l->lock_fd, 0) < 0 || pwrite(l->lock_fd, pid, (size_t)n, 0) != n)
        return tm_error_sys(err, "cannot write %s", lock_path);
    return 0;
}

static int bind_socket(const char *path, struct tm_daemon_listener *l, tm_error *err)
{
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return tm_error_set(err, EEXIST, "%s exists and is not a socket", path);
        if (unlink(path) < 0)   /* stale: its daemon is gone (we hold the run lock) */
            return tm_error_sys(err, "cannot replace the stale socket %s", path);
    }
    l->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (l->fd < 0)
        return tm_error_sys(err, "cannot create a socket");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    mode_t old = umask(0177);   /* the socket appears as 0600, never wider */
    int r = bind(l->fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (r < 0)
        return tm_error_sys(err, "cannot bind %s", path);
    if (chmod(path, 0600) < 0 || lstat(path, &st) < 0)
        return tm_error_sys(err, "cannot set up %s", path);
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    if (listen(l->fd, LISTEN_BACKLOG) < 0)
        return tm_error_sys(err, "cannot listen on %s", path);
    return 0;
}

int tm_daemon_listen(const char *path, struct tm_daemon_listener *l, int *other_pid, tm_error *err)
{
    memset(l, 0, sizeof *l);
    l->fd = l->lock_fd = -1;
    *other_pid = 0;
    if (strlen(path) >= sizeof l->path)
        return tm_error_set(err, ENAMETOOLONG, "socket path %s is too long", path);
    snprintf(l->path, sizeof l->path, "%s", path);
    int ret = check_dir(path, err);
    if (ret == 0)
        ret = take_locks(path, l, other_pid, err);
    if (ret == 0)
        ret = bind_socket(path, l, err);
    if (ret == 0 && lock_byte(l->lock_fd, 0, F_UNLCK, false) < 0)   /* started: the next one may look */
        ret = tm_error_sys(err, "cannot unlock %s.lock", path);
    if (ret < 0) {
        if (l->dev) {
            unlink(path);
            l->dev = 0;
        }
        tm_daemon_unlisten(l);
    }
    return ret;
}

void tm_daemon_unlisten(struct tm_daemon_listener *l)
{
    struct stat st;
    /* Unlink only our own socket file, not one a later daemon put there. */
    if (l->dev && lstat(l->path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino)
        unlink(l->path);
    l->dev = 0;
    if (l->fd >= 0)
        close(l->fd);
    if (l->lock_fd >= 0)
        close(l->lock_fd);   /* drops the locks */
    l->fd = l->lock_fd = -1;
}
