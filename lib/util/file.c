#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"

int tm_file_read(const char *path, size_t max_size, uint8_t **data, size_t *len, tm_error *err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tm_error_sys(err, "cannot open %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return tm_error_sys(err, "cannot stat %s", path);
    if (!S_ISREG(st.st_mode))
        return tm_error_set(err, EINVAL, "%s: not a regular file", path);
    if ((uint64_t)st.st_size > max_size)
        return tm_error_set(err, EFBIG, "%s: too large (%lld bytes, at most %zu)", path,
                            (long long)st.st_size, max_size);
    size_t size = (size_t)st.st_size;
    _cleanup_free_ uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return tm_error_set(err, ENOMEM, "%s: out of memory", path);
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, buf + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return tm_error_sys(err, "cannot read %s", path);
        if (n == 0)
            return tm_error_set(err, EIO, "%s: file shrank while reading", path);
        done += (size_t)n;
    }
    *data = TM_STEAL(buf);
    *len = size;
    return 0;
}

int tm_write_full(int fd, const void *buf, size_t len)
{
    for (const char *p = buf; len;) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n, len -= (size_t)n;
    }
    return 0;
}

int tm_file_write(const char *path, const void *data, size_t len, mode_t mode, tm_error *err)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
        return tm_error_set(err, ENAMETOOLONG, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return tm_error_sys(err, "cannot create %s", tmp);
    if ((errno = -tm_write_full(fd, data, len)) != 0) {
        int ret = tm_error_sys(err, "cannot write %s", tmp);
        close(fd);
        unlink(tmp);
        return ret;
    }
    if (fchmod(fd, mode) < 0 || close(fd) < 0) {
        int ret = tm_error_sys(err, "cannot finish %s", tmp);
        unlink(tmp);
        return ret;
    }
    if (rename(tmp, path) < 0) {
        int ret = tm_error_sys(err, "cannot rename %s to %s", tmp, path);
        unlink(tmp);
        return ret;
    }
    return 0;
}

int tm_file_write_pid(const char *path, pid_t pid, tm_error *err)
{
    char text[32];
    int n = snprintf(text, sizeof(text), "%d", (int)pid);
    int ret = tm_file_write(path, text, (size_t)n, 0644, err);
    return ret < 0 ? tm_error_prefix(err, "pid file") : 0;
}

int tm_file_open_private(const char *path, const char *what, tm_error *err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0 && errno == ELOOP)
        return tm_error_set(err, ELOOP, "%s %s is a symbolic link: refusing it", what, path);
    if (fd < 0)
        return tm_error_sys(err, "cannot open the %s %s", what, path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return tm_error_sys(err, "cannot stat the %s %s", what, path);
    if (!S_ISREG(st.st_mode))
        return tm_error_set(err, EINVAL, "%s %s is not a regular file", what, path);
    if (st.st_uid != geteuid())
        return tm_error_set(err, EACCES, "%s %s belongs to uid %u, not to this user (%u): refusing "
                            "it; remove it", what, path, (unsigned)st.st_uid, (unsigned)geteuid());
    if (st.st_mode & 077)
        return tm_error_set(err, EACCES, "%s %s is accessible by group or others (mode %04o): "
                            "refusing it; chmod 600 it if it was never exposed, else remove it",
                            what, path, (unsigned)(st.st_mode & 07777));
    int ret = fd;
    fd = -1;
    return ret;
}
