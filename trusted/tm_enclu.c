/* ENCLU[EREPORT], ENCLU[EGETKEY] and ENCLU[EACCEPT]. The instructions want
 * their structures aligned (TARGETINFO, REPORT, KEYREQUEST 512, REPORTDATA
 * 128, SECINFO 64, key 16): they are copied into aligned buffers on the
 * trusted stack. */
#include <errno.h>
#include <string.h>

#include "sgx_arch.h"
#include "teemate_enclave.h"
#include "tm_runtime.h"

#define TM_ENCLU ".byte 0x0f, 0x01, 0xd7"

/* SGX error codes of EGETKEY (RAX). */
#define SGX_INVALID_ATTRIBUTE 2
#define SGX_INVALID_CPUSVN 32
#define SGX_INVALID_ISVSVN 64
#define SGX_INVALID_KEYNAME 256

int tm_report(const struct sgx_targetinfo *target, const uint8_t data[64], struct sgx_report *report)
{
    _Alignas(512) struct sgx_targetinfo ti;
    _Alignas(128) uint8_t report_data[64];
    _Alignas(512) struct sgx_report out;
    memset(&ti, 0, sizeof ti);
    memset(report_data, 0, sizeof report_data);
    if (target)
        memcpy(&ti, target, sizeof ti);
    if (data)
        memcpy(report_data, data, sizeof report_data);
    __asm__ volatile(TM_ENCLU : : "a"((uint64_t)SGX_EREPORT), "b"(&ti), "c"(report_data), "d"(&out)
                     : "memory");
    memcpy(report, &out, sizeof out);
    return 0;
}

int tm_self_target(struct sgx_targetinfo *target)
{
    struct sgx_report self;
    int r = tm_report(NULL, NULL, &self);
    if (r < 0)
        return r;
    memset(target, 0, sizeof *target);
    memcpy(target->measurement, self.body.mrenclave, sizeof target->measurement);
    target->attributes = self.body.attributes;
    target->config_svn = self.body.config_svn;
    target->miscselect = self.body.miscselect;
    memcpy(target->config_id, self.body.config_id, sizeof target->config_id);
    return 0;
}

int tm_getkey(const struct sgx_keyrequest *request, uint8_t key[16])
{
    _Alignas(512) struct sgx_keyrequest kr;
    _Alignas(16) uint8_t out[16];
    memcpy(&kr, request, sizeof kr);
    uint64_t rc;
    __asm__ volatile(TM_ENCLU : "=a"(rc) : "a"((uint64_t)SGX_EGETKEY), "b"(&kr), "c"(out)
                     : "memory", "cc");
    if (rc != 0) {
        memset(out, 0, sizeof out);
        return rc == SGX_INVALID_ATTRIBUTE || rc == SGX_INVALID_KEYNAME ? -EINVAL : -EACCES;
    }
    memcpy(key, out, sizeof out);
    memset(out, 0, sizeof out);
    return 0;
}

uint64_t tm_eaccept(uint64_t secinfo_flags, uintptr_t page)
{
    _Alignas(64) struct sgx_secinfo si;
    memset(&si, 0, sizeof si);
    si.flags = secinfo_flags;
    uint64_t rc;
    __asm__ volatile(TM_ENCLU : "=a"(rc) : "a"((uint64_t)SGX_EACCEPT), "b"(&si), "c"(page)
                     : "memory", "cc");
    return rc;
}
