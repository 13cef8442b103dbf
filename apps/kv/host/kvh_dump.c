/* `teemate kv export` / `teemate kv import`: see kvh_dump.h. The enclave is
 * this process's own (no teemated, no slot): kv.elf as built, signed with
 * the development key of this state directory, which is also the one
 * teemated signs kv-NAME with. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "enclave/devkey.h"
#include "enclave/ecall.h"
#include "enclave/enclave.h"
#include "enclave/image.h"
#include "kv_abi.h"
#include "kv_persist.h"
#include "kvh_dump.h"
#include "kvh_files.h"
#include "util/cleanup.h"

struct kvh_dump_result {
    int rc;                      /* the ecall's value */
    char why[256];               /* its reason when rc < 0 */
    struct kvh_files_stats files;
};

static int kvh_dump_enclave(const char *image_path, struct tm_image **image, struct tm_enclave **e,
                            tm_error *err)
{
    const struct tm_backend_ops *ops;
    struct sgx_sigstruct ss;
    char key_path[PATH_MAX + 64];
    int r = tm_backend_select(TM_BACKEND_AUTO, &ops, err);
    if (r == 0)
        r = tm_image_load(image_path, image, err);
    if (r == 0)
        r = tm_devkey_sign(*image, &ss, key_path, sizeof key_path, err);
    if (r == 0)
        r = tm_enclave_build(*image, &ss, ops, e, err);
    return r < 0 ? tm_error_prefix(err, "the store's enclave (%s)", image_path) : 0;
}

/* One export or import ecall from in_fd to out_fd. */
static int kvh_dump_run(struct tm_enclave *e, uint32_t ecall, int in_fd, int out_fd,
                        struct kvh_dump_result *res, tm_error *err)
{
    struct tm_ecall_call call = {
        .ecall = ecall, .out = res->why, .out_cap = sizeof res->why - 1,
        .app_ocall = kvh_files_ocall,
    };
    memset(res, 0, sizeof *res);
    kvh_files_begin(in_fd, out_fd);
    int r = tm_ecall(e->ops, e->be, e->base, e->size, tm_enclave_tcs_offset(e, 0), &call, err);
    kvh_files_stats(&res->files);
    kvh_files_end();
    if (r < 0)
        return tm_error_prefix(err, "the store's enclave");
    if (call.exited || call.aborted)
        return tm_error_set(err, ECONNABORTED, "the store's enclave exited during ecall %u", ecall);
    res->why[call.out_len < sizeof res->why ? call.out_len : sizeof res->why - 1] = '\0';
    res->rc = (int)call.retval;
    if (res->rc < 0 && !res->why[0])
        snprintf(res->why, sizeof res->why, "%s", strerror(-res->rc));
    return 0;
}

/* A temporary file next to target, for a whole-or-nothing replacement. */
static int kvh_dump_temp(const char *target, char *tmp, size_t len, tm_error *err)
{
    if (snprintf(tmp, len, "%s.tmp-XXXXXX", target) >= (int)len)
        return tm_error_set(err, ENAMETOOLONG, "%s: path too long", target);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", target);
        return tm_error_sys(err, "cannot create a file in %s", dirname(dir));
    }
    return fd;
}

static int kvh_dump_fsync_dir(const char *target, tm_error *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", target);
    _cleanup_close_ int fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0)
        return tm_error_sys(err, "cannot sync the directory of %s", target);
    return 0;
}

/* The temporary file made durable and renamed to target (replace: over an
 * existing one), then the directory synced. */
static int kvh_dump_commit(int fd, const char *tmp, const char *target, bool replace, tm_error *err)
{
    if (fsync(fd) < 0)
        return tm_error_sys(err, "cannot write %s", target);
    int r = replace ? rename(tmp, target)
                    : renameat2(AT_FDCWD, tmp, AT_FDCWD, target, RENAME_NOREPLACE);
    if (r < 0 && !replace && (errno == EINVAL || errno == ENOSYS)) {
        /* a file system without RENAME_NOREPLACE: link(2) refuses an existing name too */
        r = link(tmp, target);
        if (r == 0)
            unlink(tmp);
    }
    if (r < 0 && errno == EEXIST)
        return tm_error_set(err, EEXIST, "%s exists (--force replaces it)", target);
    if (r < 0)
        return tm_error_sys(err, "cannot rename %s to %s", tmp, target);
    return kvh_dump_fsync_dir(target, err);
}

/* What the first bytes say a dump is, for a message better than the
 * enclave's "does not authenticate" for a file that was never sealed. */
static int kvh_dump_check_sealed(int fd, const char *path, tm_error *err)
{
    char magic[8];
    ssize_t n = pread(fd, magic, sizeof magic, 0);
    if (n < 0)
        return tm_error_sys(err, "cannot read %s", path);
    if (n >= 5 && !memcmp(magic, "REDIS", 5))
        return tm_error_set(err, EINVAL, "%s is a plain RDB file, not a sealed dump "
                            "(teemate kv import seals one)", path);
    if (n < (ssize_t)sizeof magic || memcmp(magic, KV_SEALED_MAGIC, sizeof magic))
        return tm_error_set(err, EINVAL, "%s is not a sealed dump (no %s magic)", path,
                            KV_SEALED_MAGIC);
    return 0;
}

static int kvh_dump_io_error(const struct kvh_dump_result *res, const char *in_path,
                             const char *out_path, tm_error *err)
{
    if (res->files.write_error)
        return tm_error_set(err, -res->files.write_error, "cannot write %s: %s", out_path,
                            strerror(-res->files.write_error));
    if (res->files.read_error)
        return tm_error_set(err, -res->files.read_error, "cannot read %s: %s", in_path,
                            strerror(-res->files.read_error));
    return tm_error_set(err, -res->rc, "%s: %s", in_path, res->why);
}

int kvh_export(const char *image, const char *sealed_path, const char *out_path, tm_error *err)
{
    _cleanup_close_ int in = open(sealed_path, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return tm_error_sys(err, "cannot open %s", sealed_path);
    int r = kvh_dump_check_sealed(in, sealed_path, err);
    _cleanup_image_ struct tm_image *img = NULL;
    _cleanup_enclave_ struct tm_enclave *e = NULL;
    if (r < 0 || (r = kvh_dump_enclave(image, &img, &e, err)) < 0)
        return r;
    struct kvh_dump_result res;
    bool to_stdout = !strcmp(out_path, "-");
    if (to_stdout) {
        /* stdout cannot be taken back: authenticate everything first */
        _cleanup_close_ int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null < 0)
            return tm_error_sys(err, "cannot open /dev/null");
        if ((r = kvh_dump_run(e, KV_ECALL_EXPORT, in, null, &res, err)) < 0)
            return r;
        if (res.rc < 0)
            return kvh_dump_io_error(&res, sealed_path, "/dev/null", err);
        if (lseek(in, 0, SEEK_SET) < 0)
            return tm_error_sys(err, "cannot rewind %s", sealed_path);
        if ((r = kvh_dump_run(e, KV_ECALL_EXPORT, in, STDOUT_FILENO, &res, err)) < 0)
            return r;
        return res.rc < 0 ? kvh_dump_io_error(&res, sealed_path, "standard output", err) : 0;
    }
    struct stat in_st, out_st;
    if (fstat(in, &in_st) == 0 && stat(out_path, &out_st) == 0 && in_st.st_dev == out_st.st_dev &&
        in_st.st_ino == out_st.st_ino)
        return tm_error_set(err, EINVAL, "%s is the sealed dump itself: export it elsewhere",
                            out_path);
    char tmp[PATH_MAX];
    _cleanup_close_ int out = kvh_dump_temp(out_path, tmp, sizeof tmp, err);
    if (out < 0)
        return out;
    r = kvh_dump_run(e, KV_ECALL_EXPORT, in, out, &res, err);
    if (r == 0 && res.rc < 0)
        r = kvh_dump_io_error(&res, sealed_path, out_path, err);
    if (r == 0)
        r = kvh_dump_commit(out, tmp, out_path, true, err);
    if (r < 0)
        unlink(tmp);
    return r;
}

int kvh_import(const char *image, const char *rdb_path, const char *sealed_path, bool force,
               tm_error *err)
{
    _cleanup_close_ int in = open(rdb_path, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return tm_error_sys(err, "cannot open %s", rdb_path);
    if (!force && access(sealed_path, F_OK) == 0)
        return tm_error_set(err, EEXIST, "%s exists (--force replaces it)", sealed_path);
    char tmp[PATH_MAX];
    _cleanup_close_ int out = kvh_dump_temp(sealed_path, tmp, sizeof tmp, err);
    if (out < 0)
        return out;
    _cleanup_image_ struct tm_image *img = NULL;
    _cleanup_enclave_ struct tm_enclave *e = NULL;
    struct kvh_dump_result res;
    int r = kvh_dump_enclave(image, &img, &e, err);
    if (r == 0)
        r = kvh_dump_run(e, KV_ECALL_IMPORT, in, out, &res, err);
    if (r == 0 && res.rc < 0)
        r = kvh_dump_io_error(&res, rdb_path, sealed_path, err);
    if (r == 0)
        r = kvh_dump_commit(out, tmp, sealed_path, force, err);
    if (r < 0)
        unlink(tmp);
    return r;
}
