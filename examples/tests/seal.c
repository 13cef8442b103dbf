/* Sealing round trip.
 *   ecall 16: in = policy (2 bytes LE: 1 MRENCLAVE, 2 MRSIGNER) + secret,
 *             out = the sealed blob
 *   ecall 17: in = a sealed blob, out = the secret; returns -EBADMSG (as a
 *             value) when the blob does not authenticate here */
#include <errno.h>
#include <string.h>

#include "layout.h"

TM_TEST_LAYOUT();

TM_ECALL(seal_secret, 16)
{
    if (in_len < 2)
        return -EINVAL;
    uint16_t policy;
    memcpy(&policy, in, 2);
    return tm_seal(policy, (const uint8_t *)in + 2, in_len - 2, out, out_cap, out_len);
}

TM_ECALL(unseal_secret, 17)
{
    return tm_unseal(in, in_len, out, out_cap, out_len);
}
