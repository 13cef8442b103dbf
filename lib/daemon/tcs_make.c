/* A TCS made at run time, SGX2's way (trusted/tm_tcs_make.c is the inside):
 * the thread's range is mapped here as one that grows, so the enclave's
 * EACCEPTs of its pages EAUG them; MAKE writes the TCS and thread data; the
 * host EMODTs the TCS page to PT_TCS; ACCEPT takes it. All on the daemon's
 * TCS, which no lease holds. Its pages count against --max-epc as slots do. */
#include <errno.h>
#include <sys/mman.h>

#include "daemon/state.h"
#include "enclave/ecall.h"

int tm_tcs_make(struct tm_denclave *e, uint32_t t, uint64_t *epc_left, tm_error *err)
{
    struct tm_enclave *en = e->enclave;
    uint64_t off, len;
    if (!en->ops->make_tcs)
        return tm_error_set(err, ENOSYS, "the %s backend cannot make TCSs", en->ops->name);
    const struct tm_layout_settings *ls = &e->image->layout.settings;
    if (t >= ls->tcs_count || t < ls->tcs_count - ls->tcs_on_demand ||
        tm_layout_thread_span(&e->image->layout, t, &off, &len) < 0)
        return tm_error_set(err, EINVAL, "TCS %u is not one made on demand", t);
    if (len / SGX_PAGE_SIZE > *epc_left)
        return tm_error_set(err, ENOSPC, "enclave '%s': TCS %u needs %llu pages and teemated's EPC "
                            "limit has %llu left: wait for instances to end, or start teemated with "
                            "a larger --max-epc", e->name, t, (unsigned long long)(len / SGX_PAGE_SIZE),
                            (unsigned long long)*epc_left);
    int32_t on = tm_pool_tcs_for_daemon(&e->pool);
    if (on < 0)
        return tm_error_set(err, EBUSY, "no free TCS to make TCS %u on", t);
    struct tm_tcs_make_in in = { .tcs = t };
    int ret = en->ops->map(en->be, off, len, PROT_READ | PROT_WRITE, err);
    if (ret == 0)
        ret = tm_lease_ecall(e, (uint32_t)on, TM_ECALL_TCS_MAKE, &in, sizeof in, NULL, 0, NULL, err);
    if (ret == 0)
        ret = en->ops->make_tcs(en->be, tm_enclave_tcs_offset(en, t), err);
    if (ret == 0)
        ret = tm_lease_ecall(e, (uint32_t)on, TM_ECALL_TCS_ACCEPT, &in, sizeof in, NULL, 0, NULL, err);
    if (ret < 0)
        return tm_error_prefix(err, "making TCS %u", t);
    e->pool.made[t] = true;
    *epc_left -= len / SGX_PAGE_SIZE;
    tm_daemon_log("%s: TCS %u made (%llu pages)", e->name, t, (unsigned long long)(len / SGX_PAGE_SIZE));
    return 0;
}
