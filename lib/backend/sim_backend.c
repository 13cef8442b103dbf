/* The simulation backend as a struct tm_backend_ops: the ENCLS side lives in
 * sim_enclave.c/sim_build.c/sim_trim.c, views in sim_views.c, entry and exit
 * in sim_cpu.c. */
#include "backend/sim.h"

#include <errno.h>

static int sim_create(const struct sgx_secs *secs, struct tm_backend_enclave **out, uint64_t *base,
                      tm_error *err)
{
    struct tm_sim_enclave *e;
    int ret = tm_sim_ecreate(secs, &e, err);
    if (ret < 0)
        return ret;
    *out = (struct tm_backend_enclave *)e;
    *base = e->base;
    return 0;
}

static int sim_add_pages(struct tm_backend_enclave *be, uint64_t offset, const void *src, uint64_t len,
                         uint64_t secinfo_flags, bool measured, tm_error *err)
{
    return tm_sim_eadd(tm_sim_enclave_of(be), offset, src, len, secinfo_flags, measured, err);
}

static int sim_init(struct tm_backend_enclave *be, const struct sgx_sigstruct *sigstruct, tm_error *err)
{
    return tm_sim_einit(tm_sim_enclave_of(be), sigstruct, err);
}

static uint64_t sim_epc_pages(struct tm_backend_enclave *be)
{
    return tm_sim_epc_pages(tm_sim_enclave_of(be));
}

static void sim_destroy(struct tm_backend_enclave *be)
{
    tm_sim_destroy(tm_sim_enclave_of(be));
}

static int sim_export_fds(struct tm_backend_enclave *be, int fds[TM_BACKEND_MAX_FDS])
{
    struct tm_sim_enclave *e = tm_sim_enclave_of(be);
    fds[0] = e->epc_fd;
    fds[1] = e->state_fd;
    return 2;
}

static int sim_attach(const int *fds, int nfds, uint64_t base, uint64_t size, struct tm_backend_enclave **out,
                      tm_error *err)
{
    if (nfds != 2)
        return tm_error_set(err, EINVAL, "attach: a sim enclave is 2 fds (EPC and CPU state), not %d", nfds);
    struct tm_sim_enclave *e;
    int ret = tm_sim_attach(fds[0], fds[1], base, size, &e, err);
    if (ret == 0)
        *out = (struct tm_backend_enclave *)e;
    return ret;
}

static int sim_map(struct tm_backend_enclave *be, uint64_t offset, uint64_t len, int prot, tm_error *err)
{
    return tm_sim_map(tm_sim_enclave_of(be), offset, len, prot, err);
}

static int sim_unmap(struct tm_backend_enclave *be, uint64_t offset, uint64_t len, tm_error *err)
{
    return tm_sim_unmap(tm_sim_enclave_of(be), offset, len, err);
}

static int sim_make_tcs(struct tm_backend_enclave *be, uint64_t offset, tm_error *err)
{
    return tm_sim_emodt_tcs(tm_sim_enclave_of(be), offset, err);
}

static int sim_trim(struct tm_backend_enclave *be, uint64_t offset, uint64_t len, tm_error *err)
{
    return tm_sim_emodt_trim(tm_sim_enclave_of(be), offset, len, err);
}

static int sim_remove(struct tm_backend_enclave *be, uint64_t offset, uint64_t len, uint64_t *removed,
                      tm_error *err)
{
    return tm_sim_eremove(tm_sim_enclave_of(be), offset, len, removed, err);
}

static uint64_t sim_epc_pages_in(struct tm_backend_enclave *be, uint64_t offset, uint64_t len)
{
    return tm_sim_epc_pages_in(tm_sim_enclave_of(be), offset, len);
}

/* A process that died inside left the busy flag set; no AEX ran for it, so
 * its CSSA is as it was at entry. */
static void sim_tcs_reclaim(struct tm_backend_enclave *be, uint64_t tcs_offset)
{
    tm_sim_tcs_release(tm_sim_enclave_of(be), tcs_offset);
}

static void sim_expand_stats(struct tm_backend_enclave *be, struct tm_expand_stats *st)
{
    struct tm_sim_enclave *e = tm_sim_enclave_of(be);
    st->pages = __atomic_load_n(&e->expand_pages, __ATOMIC_RELAXED);
    st->ms = (double)__atomic_load_n(&e->expand_ns, __ATOMIC_RELAXED) / 1e6;
}

const struct tm_backend_ops tm_backend_sim = {
    .name = "sim",
    .create = sim_create,
    .add_pages = sim_add_pages,
    .init = sim_init,
    .enter = tm_sim_enter,
    .resume = tm_sim_resume,
    .epc_pages = sim_epc_pages,
    .destroy = sim_destroy,
    .export_fds = sim_export_fds,
    .attach = sim_attach,
    .map = sim_map,
    .unmap = sim_unmap,
    .trim = sim_trim,
    .make_tcs = sim_make_tcs,
    .remove = sim_remove,
    .epc_pages_in = sim_epc_pages_in,
    .tcs_reclaim = sim_tcs_reclaim,
    .expand_stats = sim_expand_stats,
};
