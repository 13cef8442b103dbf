/* The simulation backend as a struct tm_backend_ops: the ENCLS side lives in
 * sim_enclave.c/sim_build.c, entry and exit in sim_cpu.c. */
#include "backend/sim.h"

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

const struct tm_backend_ops tm_backend_sim = {
    .name = "sim",
    .create = sim_create,
    .add_pages = sim_add_pages,
    .init = sim_init,
    .enter = tm_sim_enter,
    .resume = tm_sim_resume,
    .epc_pages = sim_epc_pages,
    .destroy = sim_destroy,
};
