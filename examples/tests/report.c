/* Local attestation.
 *   ecall 16: in = TARGETINFO (512 bytes) + optional report data (<= 64),
 *             out = REPORT (432 bytes)
 *   ecall 17: in = REPORT; returns 0 if its MAC checks for this enclave,
 *             else -EBADMSG
 *   ecall 18: out = this enclave's own TARGETINFO (to target a report at it) */
#include <errno.h>
#include <string.h>

#include "layout.h"

TM_TEST_LAYOUT();

TM_ECALL(make_report, 16)
{
    struct sgx_targetinfo target;
    uint8_t data[64] = { 0 };
    if (in_len < sizeof target || in_len > sizeof target + sizeof data ||
        out_cap < sizeof(struct sgx_report))
        return -EINVAL;
    memcpy(&target, in, sizeof target);
    memcpy(data, (const uint8_t *)in + sizeof target, in_len - sizeof target);
    int r = tm_report(&target, data, out);
    if (r == 0)
        *out_len = sizeof(struct sgx_report);
    return r;
}

TM_ECALL(verify_report, 17)
{
    if (in_len != sizeof(struct sgx_report))
        return -EINVAL;
    return tm_report_verify(in);
}

TM_ECALL(self_target, 18)
{
    if (out_cap < sizeof(struct sgx_targetinfo))
        return -EINVAL;
    int r = tm_self_target(out);
    if (r == 0)
        *out_len = sizeof(struct sgx_targetinfo);
    return r;
}
