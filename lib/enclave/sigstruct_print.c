/* Showing a SIGSTRUCT: every field as text or JSON, with MRSIGNER and whether
 * the signature verifies. */
#include "enclave/sigstruct.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <string.h>

#include "util/hex.h"

static const struct {
    uint64_t bit;
    const char *name;
} attribute_names[] = {
    { SGX_ATTR_INIT, "INIT" },
    { SGX_ATTR_DEBUG, "DEBUG" },
    { SGX_ATTR_MODE64BIT, "MODE64BIT" },
    { SGX_ATTR_PROVISIONKEY, "PROVISIONKEY" },
    { SGX_ATTR_EINITTOKENKEY, "EINITTOKENKEY" },
    { SGX_ATTR_CET, "CET" },
    { SGX_ATTR_KSS, "KSS" },
    { SGX_ATTR_AEXNOTIFY, "AEXNOTIFY" },
};
#define N_ATTRIBUTE_NAMES (sizeof(attribute_names) / sizeof(attribute_names[0]))

/* "DEBUG|MODE64BIT", unnamed bits in hex at the end, "none" for 0. */
static const char *attribute_string(uint64_t flags, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < N_ATTRIBUTE_NAMES; i++)
        if (flags & attribute_names[i].bit) {
            len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "|" : "",
                                    attribute_names[i].name);
            flags &= ~attribute_names[i].bit;
        }
    if (flags || !len)
        snprintf(buf + len, size - len, "%s0x%llx", len ? "|" : "", (unsigned long long)flags);
    return buf;
}

static json_t *attribute_json_names(uint64_t flags)
{
    json_t *names = json_array();
    for (size_t i = 0; names && i < N_ATTRIBUTE_NAMES; i++)
        if (flags & attribute_names[i].bit)
            json_array_append_new(names, json_string(attribute_names[i].name));
    return names;
}

static bool bcd_valid(uint32_t v)
{
    for (; v; v >>= 4)
        if ((v & 0xf) > 9)
            return false;
    return true;
}

/* BCD yyyymmdd as "yyyy-mm-dd": the hex digits of BCD are the decimal digits. */
static const char *date_string(uint32_t date, char buf[32])
{
    unsigned month = (date >> 8) & 0xff, day = date & 0xff;
    if (bcd_valid(date) && month >= 0x01 && month <= 0x12 && day >= 0x01 && day <= 0x31)
        snprintf(buf, 32, "%04x-%02x-%02x", date >> 16, month, day);
    else
        snprintf(buf, 32, "invalid (0x%08x)", date);
    return buf;
}

static json_t *json_hex(const uint8_t *data, size_t len)
{
    char hex[2 * SGX_MODULUS_SIZE + 1];
    return json_string(tm_hex(hex, data, len));
}

/* 64-bit masks as "0x..." strings: JSON numbers cannot hold all 64 bits. */
static json_t *json_u64_hex(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "0x%016llx", (unsigned long long)v);
    return json_string(buf);
}

#define LABEL_WIDTH 24

/* Long byte fields wrap at 32 bytes a line, aligned under the first. */
static void print_hex(FILE *out, const char *label, const uint8_t *data, size_t len)
{
    char hex[65];
    for (size_t off = 0; off < len; off += 32) {
        size_t n = len - off < 32 ? len - off : 32;
        fprintf(out, "%-*s %s\n", LABEL_WIDTH, off ? "" : label, tm_hex(hex, data + off, n));
    }
}

static void print_attributes(FILE *out, const char *label, const struct sgx_attributes *a,
                             bool names)
{
    char buf[160];
    fprintf(out, "%-*s flags 0x%016llx", LABEL_WIDTH, label, (unsigned long long)a->flags);
    if (names)
        fprintf(out, " (%s)", attribute_string(a->flags, buf, sizeof(buf)));
    fprintf(out, ", xfrm 0x%016llx\n", (unsigned long long)a->xfrm);
}

static void print_text(FILE *out, const struct sgx_sigstruct *ss, const uint8_t mrsigner[32],
                       const tm_error *verify_err)
{
    const struct sgx_sigstruct_header *h = &ss->header;
    const struct sgx_sigstruct_body *b = &ss->body;
    char date[32];
    print_hex(out, "header:", h->header, sizeof(h->header));
    fprintf(out, "%-*s 0x%04x%s\n", LABEL_WIDTH, "vendor:", h->vendor,
            h->vendor == 0x8086 ? " (Intel)" : "");
    fprintf(out, "%-*s %s\n", LABEL_WIDTH, "date:", date_string(h->date, date));
    print_hex(out, "header2:", h->header2, sizeof(h->header2));
    fprintf(out, "%-*s 0x%08x\n", LABEL_WIDTH, "swdefined:", h->swdefined);
    print_hex(out, "modulus:", ss->modulus, sizeof(ss->modulus));
    fprintf(out, "%-*s %u\n", LABEL_WIDTH, "exponent:", ss->exponent);
    print_hex(out, "signature:", ss->signature, sizeof(ss->signature));
    fprintf(out, "%-*s 0x%08x\n", LABEL_WIDTH, "miscselect:", b->miscselect);
    fprintf(out, "%-*s 0x%08x\n", LABEL_WIDTH, "miscmask:", b->miscmask);
    print_hex(out, "isvfamilyid:", b->isv_family_id, sizeof(b->isv_family_id));
    print_attributes(out, "attributes:", &b->attributes, true);
    print_attributes(out, "attribute mask:", &b->attributes_mask, false);
    print_hex(out, "enclavehash (MRENCLAVE):", b->enclave_hash, sizeof(b->enclave_hash));
    print_hex(out, "isvextprodid:", b->isv_ext_prod_id, sizeof(b->isv_ext_prod_id));
    fprintf(out, "%-*s %u\n", LABEL_WIDTH, "isvprodid:", b->isv_prod_id);
    fprintf(out, "%-*s %u\n", LABEL_WIDTH, "isvsvn:", b->isv_svn);
    print_hex(out, "q1:", ss->q1, sizeof(ss->q1));
    print_hex(out, "q2:", ss->q2, sizeof(ss->q2));
    print_hex(out, "MRSIGNER:", mrsigner, SGX_HASH_SIZE);
    if (verify_err)
        fprintf(out, "signature: INVALID (%s)\n", verify_err->msg);
    else
        fprintf(out, "signature: valid\n");
}

static int print_json(FILE *out, const struct sgx_sigstruct *ss, const uint8_t mrsigner[32],
                      const tm_error *verify_err, tm_error *err)
{
    const struct sgx_sigstruct_header *h = &ss->header;
    const struct sgx_sigstruct_body *b = &ss->body;
    char date[32];
    json_auto_t *obj = json_pack(
        "{s:o, s:I, s:s, s:o, s:I, s:o, s:I, s:o, s:I, s:I, s:o,"
        " s:{s:o, s:o, s:o}, s:{s:o, s:o}, s:o, s:o, s:I, s:I, s:o, s:o, s:o, s:b}",
        "header", json_hex(h->header, sizeof(h->header)),
        "vendor", (json_int_t)h->vendor,
        "date", date_string(h->date, date),
        "header2", json_hex(h->header2, sizeof(h->header2)),
        "swdefined", (json_int_t)h->swdefined,
        "modulus", json_hex(ss->modulus, sizeof(ss->modulus)),
        "exponent", (json_int_t)ss->exponent,
        "signature", json_hex(ss->signature, sizeof(ss->signature)),
        "miscselect", (json_int_t)b->miscselect,
        "miscmask", (json_int_t)b->miscmask,
        "isvfamilyid", json_hex(b->isv_family_id, sizeof(b->isv_family_id)),
        "attributes",
            "flags", json_u64_hex(b->attributes.flags),
            "xfrm", json_u64_hex(b->attributes.xfrm),
            "flag_names", attribute_json_names(b->attributes.flags),
        "attribute_mask",
            "flags", json_u64_hex(b->attributes_mask.flags),
            "xfrm", json_u64_hex(b->attributes_mask.xfrm),
        "mrenclave", json_hex(b->enclave_hash, sizeof(b->enclave_hash)),
        "isvextprodid", json_hex(b->isv_ext_prod_id, sizeof(b->isv_ext_prod_id)),
        "isvprodid", (json_int_t)b->isv_prod_id,
        "isvsvn", (json_int_t)b->isv_svn,
        "q1", json_hex(ss->q1, sizeof(ss->q1)),
        "q2", json_hex(ss->q2, sizeof(ss->q2)),
        "mrsigner", json_hex(mrsigner, SGX_HASH_SIZE),
        "signature_valid", verify_err == NULL);
    if (!obj || (verify_err && json_object_set_new(obj, "signature_error",
                                                   json_string(verify_err->msg)) < 0))
        return tm_error_set(err, ENOMEM, "cannot build the SIGSTRUCT's JSON");
    if (json_dumpf(obj, out, JSON_INDENT(2)) < 0)
        return tm_error_set(err, EIO, "cannot write the SIGSTRUCT's JSON");
    fputc('\n', out);
    return 0;
}

int tm_sigstruct_print(FILE *out, const struct sgx_sigstruct *ss, bool json, tm_error *err)
{
    uint8_t mrsigner[SGX_HASH_SIZE];
    tm_sigstruct_mrsigner(ss, mrsigner);
    tm_error verify_err = { 0 };
    bool valid = tm_sigstruct_verify(ss, &verify_err) == 0;
    if (json) {
        int ret = print_json(out, ss, mrsigner, valid ? NULL : &verify_err, err);
        if (ret < 0)
            return ret;
    } else {
        print_text(out, ss, mrsigner, valid ? NULL : &verify_err);
    }
    if (fflush(out) != 0 || ferror(out))
        return tm_error_sys(err, "cannot write the SIGSTRUCT");
    return 0;
}
