/* The object store: <store_dir>/<bucket>/<key>, names checked
 * (fn_name_is_valid: no '/', no ".."), files written whole (a temporary file
 * renamed over the key) and never followed through a symlink. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fn_abi.h"
#include "fn_services.h"
#include "util/cleanup.h"
#include "util/file.h"

/* The bucket's directory fd (made when create), or -errno. */
static int fn_store_bucket(const struct fn_services *s, const char *bucket, size_t blen, bool create)
{
    if (!s->store_dir || !fn_name_is_valid(bucket, blen))
        return -EINVAL;
    char name[FN_MAX_NAME + 1];
    memcpy(name, bucket, blen);
    name[blen] = '\0';
    if (create && mkdir(s->store_dir, 0700) < 0 && errno != EEXIST)
        return -errno;
    _cleanup_close_ int root = open(s->store_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return -errno;
    if (create && mkdirat(root, name, 0700) < 0 && errno != EEXIST)
        return -errno;
    int fd = openat(root, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

long fn_service_store_put(const struct fn_services *s, const char *bucket, size_t blen,
                          const char *key, size_t klen, const void *data, size_t len)
{
    if (!fn_name_is_valid(key, klen))
        return -EINVAL;
    _cleanup_close_ int dir = fn_store_bucket(s, bucket, blen, true);
    if (dir < 0)
        return dir;
    char name[FN_MAX_NAME + 1], tmp[FN_MAX_NAME + 32];
    memcpy(name, key, klen);
    name[klen] = '\0';
    snprintf(tmp, sizeof tmp, ".tmp-%d-%s", (int)getpid(), name);
    _cleanup_close_ int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int r = tm_write_full(fd, data, len);
    if (r < 0) {
        unlinkat(dir, tmp, 0);
        return r;
    }
    if (renameat(dir, tmp, dir, name) < 0) {
        int e = errno;
        unlinkat(dir, tmp, 0);
        return -e;
    }
    return 0;
}

long fn_service_store_get(const struct fn_services *s, const char *bucket, size_t blen,
                          const char *key, size_t klen, void *out, size_t cap, size_t *len)
{
    *len = 0;
    if (!fn_name_is_valid(key, klen))
        return -EINVAL;
    _cleanup_close_ int dir = fn_store_bucket(s, bucket, blen, false);
    if (dir < 0)
        return dir;
    char name[FN_MAX_NAME + 1];
    memcpy(name, key, klen);
    name[klen] = '\0';
    _cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    if ((uint64_t)st.st_size > cap)
        return (long)st.st_size;   /* the caller sees it is too large */
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, (char *)out + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    *len = got;
    return (long)got;
}
