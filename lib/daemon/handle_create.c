/* CREATE: build a shared enclave from an image the client sent as an open
 * file (the daemon never opens a client's path), signed by the client's
 * SIGSTRUCT or else with the development key. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/state.h"
#include "enclave/devkey.h"
#include "enclave/sigstruct.h"
#include "util/cleanup.h"
#include "util/clock.h"

/* A regular file only: a pipe or a device could block the daemon forever. */
static int read_fd(int fd, const char *what, size_t max, uint8_t **data, size_t *len, tm_error *err)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return tm_error_sys(err, "%s", what);
    if (!S_ISREG(st.st_mode))
        return tm_error_set(err, EINVAL, "the %s is not a regular file", what);
    if ((uint64_t)st.st_size > max)
        return tm_error_set(err, EFBIG, "the %s is too large (%lld bytes, at most %zu)", what,
                            (long long)st.st_size, max);
    size_t size = (size_t)st.st_size;
    _cleanup_free_ uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return tm_error_set(err, ENOMEM, "out of memory for the %s", what);
    size_t done = 0;
    while (done < size) {
        ssize_t n = pread(fd, buf + done, size - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return tm_error_sys(err, "cannot read the %s", what);
        if (n == 0)
            return tm_error_set(err, EIO, "the %s shrank while it was read", what);
        done += (size_t)n;
    }
    *data = TM_STEAL(buf);
    *len = size;
    return 0;
}

static int signature(const struct tm_image *image, int sig_fd, struct sgx_sigstruct *ss,
                     struct tm_daemon_answer *a)
{
    if (sig_fd >= 0) {
        _cleanup_free_ uint8_t *data = NULL;
        size_t len;
        int ret = read_fd(sig_fd, "SIGSTRUCT", 4096, &data, &len, &a->err);
        return ret < 0 ? ret : tm_sigstruct_parse(ss, data, len, &a->err);
    }
    char key[PATH_MAX + 64];
    int ret = tm_devkey_sign(image, ss, key, sizeof key, &a->err);
    if (ret == 0)
        snprintf(a->err.msg, sizeof a->err.msg,
                 "signed as a debug enclave with the development key %.200s", key);
    return ret;
}

static int create(struct tm_daemon *d, const struct tm_proto_create *c, const int *fds,
                  struct tm_daemon_answer *a)
{
    if (tm_registry_find(d, c->name))
        return tm_error_set(&a->err, EEXIST, "an enclave named '%s' already exists", c->name);
    enum tm_backend_kind kind;
    const struct tm_backend_ops *ops;
    if (tm_backend_parse(c->backend, &kind) < 0)
        return tm_error_set(&a->err, EINVAL, "unknown backend '%s'", c->backend);
    int ret = tm_backend_select(kind, &ops, &a->err);
    if (ret < 0)
        return ret;
    struct tm_denclave *e = calloc(1, sizeof *e);
    if (!e)
        return tm_error_set(&a->err, ENOMEM, "out of memory");
    memcpy(e->name, c->name, sizeof e->name);
    memcpy(e->image_name, c->image_name, sizeof e->image_name);
    _cleanup_free_ uint8_t *data = NULL;
    size_t len;
    struct sgx_sigstruct ss;
    ret = read_fd(fds[0], "image", TM_IMAGE_MAX_FILE_SIZE, &data, &len, &a->err);
    if (ret == 0)
        ret = tm_image_load_memory(data, len, c->image_name[0] ? c->image_name : c->name, &e->image,
                                   &a->err);
    if (ret == 0)
        ret = signature(e->image, c->flags & TM_CREATE_HAS_SIG ? fds[1] : -1, &ss, a);
    tm_error note = a->err;
    double t0 = tm_now_ms();
    if (ret == 0)
        ret = tm_enclave_build(e->image, &ss, ops, &e->enclave, &a->err);
    e->create_ms = tm_now_ms() - t0;
    if (ret == 0)
        ret = tm_pool_init(&e->pool, e->image->layout.regions.slot_count,
                           e->image->layout.regions.tcs_count, &a->err);
    if (ret == 0)
        ret = tm_registry_add(d, e, &a->err);
    if (ret < 0) {
        tm_denclave_free(e);
        return ret;
    }
    memcpy(e->mrenclave, ss.body.enclave_hash, sizeof e->mrenclave);
    tm_sigstruct_mrsigner(&ss, e->mrsigner);
    a->err = note;   /* the development key note, if any */
    struct tm_proto_enclave *out = (struct tm_proto_enclave *)d->payload;
    tm_registry_describe(e, out);
    a->payload = out;
    a->payload_len = sizeof *out;
    return 0;
}

void tm_handle_create(struct tm_daemon *d, const struct tm_request *req, const int *fds,
                      struct tm_daemon_answer *a)
{
    a->err.msg[0] = '\0';
    a->status = create(d, &req->u.create, fds, a);
    if (a->status == 0)
        tm_daemon_log("created enclave %s (%s, %s backend) in %.1f ms", req->u.create.name,
                      req->u.create.image_name, d->enclaves[d->nenclaves - 1]->enclave->ops->name,
                      d->enclaves[d->nenclaves - 1]->create_ms);
}
