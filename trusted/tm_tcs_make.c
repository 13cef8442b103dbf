/* TCSs made at run time (SGX2), the last tcs_on_demand of the image's: the
 * host EAUGs the thread's pages (stack, TCS, SSA frames, thread data: on the
 * fault of MAKE's EACCEPTs), MAKE accepts them and writes the TCS and the
 * thread data as the loader would have, the host EMODTs the TCS page to
 * PT_TCS, and ACCEPT takes it as one. Only the enclave writes what the new
 * thread trusts, so a made TCS is as good as a built one; MRENCLAVE covers
 * only the built ones. Both run on a free TCS; each TCS is made once (its
 * state lives in .bss, which every process shares). */
#include <string.h>

#include "sgx_arch.h"
#include "tm_lease.h"
#include "tm_runtime.h"
#include "tm_slot.h"

#define TM_PAGE 4096ULL
#define TM_SECINFO_ADDED (SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_REG | SGX_SECINFO_PENDING)

enum { TM_TCS_UNMADE = 0, TM_TCS_WRITING, TM_TCS_WRITTEN, TM_TCS_ACCEPTING, TM_TCS_MADE, TM_TCS_BROKEN };

static uint32_t tm_tcs_state[TM_LAYOUT_MAX_TCS];

/* Where thread t's pages lie: the loader lays threads out at one stride
 * (tm_image.h), which this thread's measured data gives. */
struct tm_thread_geometry {
    uint64_t stack, tcs, ssa, tdata, end;   /* offsets from the base */
};

static struct tm_thread_geometry tm_thread_geometry(const struct tm_thread_data *me, uint32_t t)
{
    uint64_t stack_size = me->tcs_offset - me->stack_bottom;
    uint64_t ssa_bytes = me->nssa * me->ssa_frame_size;
    uint64_t stride = stack_size + TM_PAGE + ssa_bytes + 2 * TM_PAGE;   /* + guard page */
    struct tm_thread_geometry g;
    g.stack = me->stack_bottom + ((uint64_t)t - me->tcs_index) * stride;   /* wraps right below */
    g.tcs = g.stack + stack_size;
    g.ssa = g.tcs + TM_PAGE;
    g.tdata = g.ssa + ssa_bytes;
    g.end = g.tdata + TM_PAGE;
    return g;
}

/* The TCS number of the call: one of the image's on-demand ones. */
static uint32_t tm_tcs_request(const void *in, size_t in_len)
{
    struct tm_tcs_make_in req;
    const struct tm_thread_data *me = tm_thread_current();
    if (in_len != sizeof req)
        tm_ecall_unwind(TM_STATUS_BAD_ARGUMENTS, 0);
    memcpy(&req, in, sizeof req);
    uint32_t count = me->regions.tcs_count;
    if (req.reserved || req.tcs >= count || req.tcs < count - me->tcs_on_demand)
        tm_ecall_unwind(TM_STATUS_BAD_ARGUMENTS, 0);
    if (tm_lease_current())
        tm_ecall_unwind(TM_STATUS_SLOT_STATE, 0);   /* only an unleased TCS makes one */
    return req.tcs;
}

static bool tm_tcs_step(uint32_t t, uint32_t from, uint32_t to)
{
    return __atomic_compare_exchange_n(&tm_tcs_state[t], &from, to, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

static void tm_tcs_write(const struct tm_thread_data *me, uint32_t t, const struct tm_thread_geometry *g)
{
    uintptr_t base = me->enclave_base;
    struct sgx_tcs *tcs = (struct sgx_tcs *)(base + g->tcs);
    memset(tcs, 0, TM_PAGE);
    extern char tm_entry[];
    tcs->ossa = g->ssa;
    tcs->nssa = (uint32_t)me->nssa;
    tcs->oentry = (uintptr_t)tm_entry - base;
    tcs->ofsbase = g->tdata;
    tcs->ogsbase = g->tdata;
    tcs->fslimit = 0xFFFFFFFF;
    tcs->gslimit = 0xFFFFFFFF;
    struct tm_thread_data *td = (struct tm_thread_data *)(base + g->tdata);
    memset(td, 0, TM_PAGE);
    td->tcs_index = t;
    td->tcs_offset = g->tcs;
    td->stack_top = g->tcs;
    td->stack_bottom = g->stack;
    td->ssa_offset = g->ssa;
    td->ssa_frame_size = me->ssa_frame_size;
    td->nssa = me->nssa;
    td->regions = me->regions;
    td->heap_on_demand = me->heap_on_demand;
    td->tcs_on_demand = me->tcs_on_demand;
}

int tm_ecall_tcs_make(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)out, (void)out_cap, (void)out_len;
    uint32_t t = tm_tcs_request(in, in_len);
    if (!tm_tcs_step(t, TM_TCS_UNMADE, TM_TCS_WRITING))
        tm_ecall_unwind(TM_STATUS_SLOT_STATE, 0);
    const struct tm_thread_data *me = tm_thread_current();
    struct tm_thread_geometry g = tm_thread_geometry(me, t);
    for (uint64_t off = g.stack; off < g.end; off += TM_PAGE) {
        if (tm_eaccept(TM_SECINFO_ADDED, me->enclave_base + off) != 0) {
            /* Not a page the host just added: this TCS is not ours to make. */
            __atomic_store_n(&tm_tcs_state[t], TM_TCS_BROKEN, __ATOMIC_RELEASE);
            tm_ecall_unwind(TM_STATUS_SLOT_STATE, 0);
        }
    }
    tm_tcs_write(me, t, &g);
    __atomic_store_n(&tm_tcs_state[t], TM_TCS_WRITTEN, __ATOMIC_RELEASE);
    return 0;
}

int tm_ecall_tcs_accept(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)out, (void)out_cap, (void)out_len;
    uint32_t t = tm_tcs_request(in, in_len);
    if (!tm_tcs_step(t, TM_TCS_WRITTEN, TM_TCS_ACCEPTING))
        tm_ecall_unwind(TM_STATUS_SLOT_STATE, 0);
    const struct tm_thread_data *me = tm_thread_current();
    struct tm_thread_geometry g = tm_thread_geometry(me, t);
    /* EMODT left the page MODIFIED with no permissions; until this EACCEPT
     * it is neither a regular page nor an enterable TCS. */
    uint64_t rc = tm_eaccept(SGX_SECINFO_TCS | SGX_SECINFO_MODIFIED, me->enclave_base + g.tcs);
    /* A refusal (the host did not EMODT it) may be asked again. */
    __atomic_store_n(&tm_tcs_state[t], rc == 0 ? TM_TCS_MADE : TM_TCS_WRITTEN, __ATOMIC_RELEASE);
    if (rc != 0)
        tm_ecall_unwind(TM_STATUS_SLOT_STATE, (int64_t)rc);
    return 0;
}
