/* The sim's per-machine root key: 32 random bytes in <state dir>/sim-root.key,
 * standing for the secrets a CPU has fused in. Created once (0600, atomically,
 * even by racing processes); refused when other users could have read it. */
#include "backend/sim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/file.h"
#include "util/state_dir.h"

#define ROOT_KEY_SIZE 32

static int read_full(int fd, uint8_t *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = read(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

/* -ENOENT (err set) when there is no key yet. */
static int root_key_read(const char *path, uint8_t key[ROOT_KEY_SIZE], tm_error *err)
{
    _cleanup_close_ int fd = tm_file_open_private(path, "sim root key", err);
    if (fd < 0)
        return fd;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return tm_error_sys(err, "cannot stat the sim root key %s", path);
    if (st.st_size != ROOT_KEY_SIZE)
        return tm_error_set(err, EINVAL, "sim root key %s is %lld bytes, not %d", path, (long long)st.st_size,
                            ROOT_KEY_SIZE);
    if (read_full(fd, key, ROOT_KEY_SIZE) < 0)
        return tm_error_sys(err, "cannot read the sim root key %s", path);
    return 0;
}

static int random_bytes(uint8_t *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(buf + done, len - done, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

/* Write a fresh key to a private temporary file (O_EXCL, 0600), then link it
 * to its name: the key appears whole or not at all, and of processes racing to
 * create it exactly one link succeeds; the others read the winner's key. */
static int root_key_create(const char *dir, const char *path, tm_error *err)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, TM_SIM_ROOT_KEY_FILE) >= (int)sizeof(tmp))
        return tm_error_set(err, ENAMETOOLONG, "state directory path is too long");
    uint8_t key[ROOT_KEY_SIZE];
    if (random_bytes(key, sizeof(key)) < 0)
        return tm_error_sys(err, "getrandom failed");
    int fd = mkostemp(tmp, O_CLOEXEC);   /* O_CREAT | O_EXCL, mode 0600 */
    if (fd < 0) {
        explicit_bzero(key, sizeof(key));
        return tm_error_sys(err, "cannot create a sim root key in %s", dir);
    }
    ssize_t n = write(fd, key, sizeof(key));
    explicit_bzero(key, sizeof(key));
    int ret = 0;
    if (n != (ssize_t)sizeof(key) || fchmod(fd, 0600) < 0 || fsync(fd) < 0)
        ret = tm_error_sys(err, "cannot write the sim root key %s", tmp);
    if (close(fd) < 0 && ret == 0)
        ret = tm_error_sys(err, "cannot write the sim root key %s", tmp);
    if (ret == 0 && link(tmp, path) < 0 && errno != EEXIST)
        ret = tm_error_sys(err, "cannot install the sim root key %s", path);
    unlink(tmp);
    if (ret == 0) {
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
            fsync(dfd);   /* the new name survives a crash */
    }
    return ret;
}

int tm_sim_root_key(uint8_t key[32], tm_error *err)
{
    char dir[PATH_MAX], path[PATH_MAX];
    int ret = tm_state_dir(dir, sizeof(dir), err);
    if (ret < 0)
        return ret;
    if (snprintf(path, sizeof(path), "%s/%s", dir, TM_SIM_ROOT_KEY_FILE) >= (int)sizeof(path))
        return tm_error_set(err, ENAMETOOLONG, "state directory path is too long");
    ret = root_key_read(path, key, err);
    if (ret != -ENOENT)
        return ret;
    ret = root_key_create(dir, path, err);
    if (ret == 0)
        ret = root_key_read(path, key, err);
    return ret;
}
