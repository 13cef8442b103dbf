/* CREATE's work, in its build thread (build.c): a shared enclave from an
 * image the client sent as an open file (the daemon never opens a client's
 * path), within the operator's limits, signed by the client's SIGSTRUCT or
 * else with the development key. It touches nothing but its struct tm_build. */
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
                     tm_error *note, tm_error *err)
{
    if (sig_fd >= 0) {
        _cleanup_free_ uint8_t *data = NULL;
        size_t len;
        int ret = read_fd(sig_fd, "SIGSTRUCT", 4096, &data, &len, err);
        return ret < 0 ? ret : tm_sigstruct_parse(ss, data, len, err);
    }
    char key[PATH_MAX + 64];
    int ret = tm_devkey_sign(image, ss, key, sizeof key, err);
    if (ret == 0)
        snprintf(note->msg, sizeof note->msg,
                 "signed as a debug enclave with the development key %.200s", key);
    return ret;
}

#define MIB(pages) ((unsigned long long)((pages) >> 8))

/* The operator's limits: the largest enclave, and EPC for all of them: what
 * the build adds and the heap may grow to is reserved here, so that builds
 * running at once cannot overshoot (slots and made TCSs: budget.c). */
static int reserve(struct tm_build *b, const struct tm_layout *l, uint64_t *pages, tm_error *err)
{
    const struct tm_daemon_limits *lim = &b->limits;
    uint64_t size = l->settings.enclave_size;
    if (size > lim->max_enclave_size)
        return tm_error_set(err, EFBIG, "enclave '%s' has an ELRANGE of %llu MiB, more than teemated "
                            "allows for one enclave (%llu MiB): start teemated with "
                            "--max-enclave-size to raise it", b->req.name, MIB(size >> 12),
                            MIB(lim->max_enclave_size >> 12));
    uint64_t want = tm_budget_create_pages(l);
    uint64_t cur = atomic_load(b->epc_committed);
    do {
        if (want > lim->max_epc_pages || cur > lim->max_epc_pages - want)
            return tm_error_set(err, ENOSPC, "enclave '%s' may commit %llu MiB of EPC, and teemated "
                                "has %llu MiB left of its limit of %llu MiB: remove an enclave, or "
                                "start teemated with a larger --max-epc", b->req.name, MIB(want),
                                MIB(cur < lim->max_epc_pages ? lim->max_epc_pages - cur : 0),
                                MIB(lim->max_epc_pages));
    } while (!atomic_compare_exchange_weak(b->epc_committed, &cur, cur + want));
    *pages = want;
    return 0;
}

static int progress(void *ctx, uint64_t done, uint64_t total, tm_error *err)
{
    struct tm_build *b = ctx;
    atomic_store(&b->pages_total, total);
    atomic_store(&b->pages_done, done);
    if (atomic_load(&b->cancel))
        return tm_error_set(err, ECANCELED, "enclave '%s' was removed while it was being built",
                            b->req.name);
    return 0;
}

int tm_create_build(struct tm_build *b)
{
    const struct tm_proto_create *c = &b->req;
    tm_error *err = &b->err;
    struct tm_denclave *e = calloc(1, sizeof *e);
    if (!e)
        return tm_error_set(err, ENOMEM, "out of memory");
    memcpy(e->name, c->name, sizeof e->name);
    memcpy(e->image_name, c->image_name, sizeof e->image_name);
    _cleanup_free_ uint8_t *data = NULL;
    size_t len;
    struct sgx_sigstruct ss;
    int ret = read_fd(b->fds[0], "image", TM_IMAGE_MAX_FILE_SIZE, &data, &len, err);
    if (ret == 0)
        ret = tm_image_load_memory(data, len, c->image_name[0] ? c->image_name : c->name, &e->image,
                                   err);
    if (ret == 0) {
        atomic_store(&b->size, e->image->layout.settings.enclave_size);
        atomic_store(&b->pages_total, tm_enclave_build_pages(&e->image->layout));
        ret = reserve(b, &e->image->layout, &e->epc_commit, err);
    }
    if (ret == 0)
        ret = signature(e->image, c->flags & TM_CREATE_HAS_SIG ? b->fds[1] : -1, &ss, &b->note, err);
    double t0 = tm_now_ms();
    if (ret == 0)
        ret = tm_enclave_build_watched(e->image, &ss, b->ops, progress, b, &e->enclave, err);
    e->create_ms = tm_now_ms() - t0;
    if (ret == 0)
        ret = tm_pool_init(&e->pool, e->image->layout.regions.slot_count,
                           e->image->layout.regions.tcs_count,
                           e->image->layout.settings.tcs_on_demand, err);
    if (ret < 0) {
        atomic_fetch_sub(b->epc_committed, e->epc_commit);
        tm_denclave_free(e);
        return ret;
    }
    memcpy(e->mrenclave, ss.body.enclave_hash, sizeof e->mrenclave);
    tm_sigstruct_mrsigner(&ss, e->mrsigner);
    b->e = e;
    return 0;
}
