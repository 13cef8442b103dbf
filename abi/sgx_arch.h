/* SGX architectural structures, exactly as the Intel SDM (vol. 3D, ch. 34-38)
 * defines them. Shared by trusted and untrusted code: no libc dependencies. */
#ifndef TM_SGX_ARCH_H
#define TM_SGX_ARCH_H

#include <stddef.h>
#include <stdint.h>

#define SGX_PAGE_SIZE 4096ULL
#define SGX_PAGE_SHIFT 12
#define SGX_MODULUS_SIZE 384   /* RSA-3072 */
#define SGX_HASH_SIZE 32       /* SHA-256 */
#define SGX_EEXTEND_CHUNK 256  /* bytes measured by one EEXTEND */

/* ENCLS leaves (ring 0). */
enum sgx_encls_leaf {
    SGX_ECREATE = 0x0, SGX_EADD = 0x1, SGX_EINIT = 0x2, SGX_EREMOVE = 0x3,
    SGX_EDBGRD = 0x4, SGX_EDBGWR = 0x5, SGX_EEXTEND = 0x6, SGX_ELDB = 0x7,
    SGX_ELDU = 0x8, SGX_EBLOCK = 0x9, SGX_EPA = 0xA, SGX_EWB = 0xB,
    SGX_ETRACK = 0xC, SGX_EAUG = 0xD, SGX_EMODPR = 0xE, SGX_EMODT = 0xF,
};

/* ENCLU leaves (ring 3). */
enum sgx_enclu_leaf {
    SGX_EREPORT = 0x0, SGX_EGETKEY = 0x1, SGX_EENTER = 0x2, SGX_ERESUME = 0x3,
    SGX_EEXIT = 0x4, SGX_EACCEPT = 0x5, SGX_EMODPE = 0x6, SGX_EACCEPTCOPY = 0x7,
};

/* The ENCLU instruction: 0f 01 d7. */
#define SGX_ENCLU_BYTES { 0x0f, 0x01, 0xd7 }

/* SECINFO.FLAGS */
#define SGX_SECINFO_R        0x001ULL
#define SGX_SECINFO_W        0x002ULL
#define SGX_SECINFO_X        0x004ULL
#define SGX_SECINFO_PENDING  0x008ULL
#define SGX_SECINFO_MODIFIED 0x010ULL
#define SGX_SECINFO_PR       0x020ULL
#define SGX_SECINFO_PERM_MASK (SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_X)
#define SGX_SECINFO_PT_SHIFT 8
#define SGX_SECINFO_PT_MASK  (0xFFULL << SGX_SECINFO_PT_SHIFT)

enum sgx_page_type {
    SGX_PT_SECS = 0, SGX_PT_TCS = 1, SGX_PT_REG = 2, SGX_PT_VA = 3, SGX_PT_TRIM = 4,
};
#define SGX_SECINFO_SECS ((uint64_t)SGX_PT_SECS << SGX_SECINFO_PT_SHIFT)
#define SGX_SECINFO_TCS  ((uint64_t)SGX_PT_TCS << SGX_SECINFO_PT_SHIFT)
#define SGX_SECINFO_REG  ((uint64_t)SGX_PT_REG << SGX_SECINFO_PT_SHIFT)
#define SGX_SECINFO_TRIM ((uint64_t)SGX_PT_TRIM << SGX_SECINFO_PT_SHIFT)

/* SECS.ATTRIBUTES.FLAGS */
#define SGX_ATTR_INIT          0x01ULL
#define SGX_ATTR_DEBUG         0x02ULL
#define SGX_ATTR_MODE64BIT     0x04ULL
#define SGX_ATTR_PROVISIONKEY  0x10ULL
#define SGX_ATTR_EINITTOKENKEY 0x20ULL
#define SGX_ATTR_CET           0x40ULL
#define SGX_ATTR_KSS           0x80ULL
#define SGX_ATTR_AEXNOTIFY     0x400ULL

/* XFRM: x87 and SSE state, the legacy minimum every enclave has. */
#define SGX_XFRM_LEGACY 0x3ULL

/* MISCSELECT */
#define SGX_MISC_EXINFO 0x1U

/* TCS.FLAGS */
#define SGX_TCS_DBGOPTIN 0x1ULL

/* KEYREQUEST.KEYNAME */
enum sgx_key_name {
    SGX_KEY_EINITTOKEN = 0, SGX_KEY_PROVISION = 1, SGX_KEY_PROVISION_SEAL = 2,
    SGX_KEY_REPORT = 3, SGX_KEY_SEAL = 4,
};
/* KEYREQUEST.KEYPOLICY */
#define SGX_KEYPOLICY_MRENCLAVE 0x1U
#define SGX_KEYPOLICY_MRSIGNER  0x2U
#define SGX_KEYPOLICY_NOISVPRODID 0x4U

struct sgx_attributes {
    uint64_t flags;
    uint64_t xfrm;
} __attribute__((packed));

/* SGX Enclave Control Structure (one page). */
struct sgx_secs {
    uint64_t size;
    uint64_t base;
    uint32_t ssa_frame_size;   /* in pages */
    uint32_t miscselect;
    uint8_t reserved1[24];
    struct sgx_attributes attributes;
    uint8_t mrenclave[32];
    uint8_t reserved2[32];
    uint8_t mrsigner[32];
    uint8_t reserved3[32];
    uint8_t config_id[64];
    uint16_t isv_prod_id;
    uint16_t isv_svn;
    uint16_t config_svn;
    uint8_t reserved4[3834];
} __attribute__((packed));

/* Thread Control Structure (one page); offsets are relative to SECS.BASE. */
struct sgx_tcs {
    uint64_t state;
    uint64_t flags;
    uint64_t ossa;
    uint32_t cssa;
    uint32_t nssa;
    uint64_t oentry;
    uint64_t aep;
    uint64_t ofsbase;
    uint64_t ogsbase;
    uint32_t fslimit;
    uint32_t gslimit;
    uint8_t reserved[4024];
} __attribute__((packed));

/* GPRSGX: the last 184 bytes of every SSA frame. */
struct sgx_ssa_gpr {
    uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rflags;
    uint64_t rip;
    uint64_t ursp;
    uint64_t urbp;
    uint32_t exit_info;
    uint32_t reserved;
    uint64_t fsbase;
    uint64_t gsbase;
} __attribute__((packed));

/* EXITINFO fields */
#define SGX_EXITINFO_VECTOR(x) ((x) & 0xFFU)
#define SGX_EXITINFO_TYPE(x)   (((x) >> 8) & 0x7U)
#define SGX_EXITINFO_VALID     0x80000000U
#define SGX_EXIT_TYPE_HARDWARE 3
#define SGX_EXIT_TYPE_SOFTWARE 6

/* MISC region EXINFO: stored just below GPRSGX when MISCSELECT.EXINFO = 1. */
struct sgx_ssa_exinfo {
    uint64_t maddr;
    uint32_t errcd;
    uint32_t reserved;
} __attribute__((packed));

struct sgx_secinfo {
    uint64_t flags;
    uint8_t reserved[56];
} __attribute__((packed));

struct sgx_pageinfo {
    uint64_t linaddr;
    uint64_t srcpge;
    uint64_t secinfo;
    uint64_t secs;
} __attribute__((packed));

/* SIGSTRUCT: the signed part is header (bytes 0..127) and body (900..1027). */
struct sgx_sigstruct_header {
    uint8_t header[16];
    uint32_t vendor;       /* 0x8086 for Intel, 0 otherwise */
    uint32_t date;         /* BCD yyyymmdd */
    uint8_t header2[16];
    uint32_t swdefined;
    uint8_t reserved1[84];
} __attribute__((packed));

struct sgx_sigstruct_body {
    uint32_t miscselect;
    uint32_t miscmask;
    uint8_t reserved2[4];
    uint8_t isv_family_id[16];
    struct sgx_attributes attributes;
    struct sgx_attributes attributes_mask;
    uint8_t enclave_hash[32];  /* MRENCLAVE */
    uint8_t reserved3[16];
    uint8_t isv_ext_prod_id[16];
    uint16_t isv_prod_id;
    uint16_t isv_svn;
} __attribute__((packed));

struct sgx_sigstruct {
    struct sgx_sigstruct_header header;
    uint8_t modulus[SGX_MODULUS_SIZE];     /* little-endian */
    uint32_t exponent;                     /* 3 */
    uint8_t signature[SGX_MODULUS_SIZE];   /* little-endian */
    struct sgx_sigstruct_body body;
    uint8_t reserved4[12];
    uint8_t q1[SGX_MODULUS_SIZE];          /* little-endian */
    uint8_t q2[SGX_MODULUS_SIZE];          /* little-endian */
} __attribute__((packed));

#define SGX_SIGSTRUCT_HEADER \
    { 0x06, 0x00, 0x00, 0x00, 0xE1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00 }
#define SGX_SIGSTRUCT_HEADER2 \
    { 0x01, 0x01, 0x00, 0x00, 0x60, 0x00, 0x00, 0x00, 0x60, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00 }

struct sgx_report_body {
    uint8_t cpu_svn[16];
    uint32_t miscselect;
    uint8_t reserved1[12];
    uint8_t isv_ext_prod_id[16];
    struct sgx_attributes attributes;
    uint8_t mrenclave[32];
    uint8_t reserved2[32];
    uint8_t mrsigner[32];
    uint8_t reserved3[32];
    uint8_t config_id[64];
    uint16_t isv_prod_id;
    uint16_t isv_svn;
    uint16_t config_svn;
    uint8_t reserved4[42];
    uint8_t isv_family_id[16];
    uint8_t report_data[64];
} __attribute__((packed));

struct sgx_report {
    struct sgx_report_body body;
    uint8_t key_id[32];
    uint8_t mac[16];
} __attribute__((packed));

struct sgx_targetinfo {
    uint8_t measurement[32];
    struct sgx_attributes attributes;
    uint8_t reserved1[2];
    uint16_t config_svn;
    uint32_t miscselect;
    uint8_t reserved2[8];
    uint8_t config_id[64];
    uint8_t reserved3[384];
} __attribute__((packed));

struct sgx_keyrequest {
    uint16_t key_name;
    uint16_t key_policy;
    uint16_t isv_svn;
    uint16_t reserved1;
    uint8_t cpu_svn[16];
    struct sgx_attributes attribute_mask;
    uint8_t key_id[32];
    uint32_t misc_mask;
    uint16_t config_svn;
    uint8_t reserved2[434];
} __attribute__((packed));

/* The instructions want SECINFO 64-, PAGEINFO 32- and REPORT, TARGETINFO and
 * KEYREQUEST 512-byte aligned: align the variables, the types stay exact. */

/* Sizes and offsets from the SDM; a wrong field breaks measurement or EINIT. */
_Static_assert(sizeof(struct sgx_secs) == 4096, "SECS is one page");
_Static_assert(offsetof(struct sgx_secs, ssa_frame_size) == 16, "SECS.SSAFRAMESIZE");
_Static_assert(offsetof(struct sgx_secs, attributes) == 48, "SECS.ATTRIBUTES");
_Static_assert(offsetof(struct sgx_secs, mrenclave) == 64, "SECS.MRENCLAVE");
_Static_assert(offsetof(struct sgx_secs, mrsigner) == 128, "SECS.MRSIGNER");
_Static_assert(offsetof(struct sgx_secs, config_id) == 192, "SECS.CONFIGID");
_Static_assert(offsetof(struct sgx_secs, isv_prod_id) == 256, "SECS.ISVPRODID");
_Static_assert(sizeof(struct sgx_tcs) == 4096, "TCS is one page");
_Static_assert(offsetof(struct sgx_tcs, ossa) == 16, "TCS.OSSA");
_Static_assert(offsetof(struct sgx_tcs, cssa) == 24, "TCS.CSSA");
_Static_assert(offsetof(struct sgx_tcs, nssa) == 28, "TCS.NSSA");
_Static_assert(offsetof(struct sgx_tcs, oentry) == 32, "TCS.OENTRY");
_Static_assert(offsetof(struct sgx_tcs, ofsbase) == 48, "TCS.OFSBASGX");
_Static_assert(offsetof(struct sgx_tcs, ogsbase) == 56, "TCS.OGSBASGX");
_Static_assert(offsetof(struct sgx_tcs, fslimit) == 64, "TCS.FSLIMIT");
_Static_assert(sizeof(struct sgx_ssa_gpr) == 184, "GPRSGX is 184 bytes");
_Static_assert(offsetof(struct sgx_ssa_gpr, rflags) == 128, "GPRSGX.RFLAGS");
_Static_assert(offsetof(struct sgx_ssa_gpr, rip) == 136, "GPRSGX.RIP");
_Static_assert(offsetof(struct sgx_ssa_gpr, exit_info) == 160, "GPRSGX.EXITINFO");
_Static_assert(offsetof(struct sgx_ssa_gpr, fsbase) == 168, "GPRSGX.FSBASE");
_Static_assert(sizeof(struct sgx_ssa_exinfo) == 16, "EXINFO is 16 bytes");
_Static_assert(sizeof(struct sgx_secinfo) == 64, "SECINFO is 64 bytes");
_Static_assert(sizeof(struct sgx_pageinfo) == 32, "PAGEINFO is 32 bytes");
_Static_assert(sizeof(struct sgx_sigstruct_header) == 128, "SIGSTRUCT header");
_Static_assert(sizeof(struct sgx_sigstruct_body) == 128, "SIGSTRUCT body");
_Static_assert(sizeof(struct sgx_sigstruct) == 1808, "SIGSTRUCT is 1808 bytes");
_Static_assert(offsetof(struct sgx_sigstruct, modulus) == 128, "SIGSTRUCT.MODULUS");
_Static_assert(offsetof(struct sgx_sigstruct, exponent) == 512, "SIGSTRUCT.EXPONENT");
_Static_assert(offsetof(struct sgx_sigstruct, signature) == 516, "SIGSTRUCT.SIGNATURE");
_Static_assert(offsetof(struct sgx_sigstruct, body) == 900, "SIGSTRUCT.MISCSELECT");
_Static_assert(offsetof(struct sgx_sigstruct, body.isv_family_id) == 912, "SIGSTRUCT.ISVFAMILYID");
_Static_assert(offsetof(struct sgx_sigstruct, body.attributes) == 928, "SIGSTRUCT.ATTRIBUTES");
_Static_assert(offsetof(struct sgx_sigstruct, body.attributes_mask) == 944, "SIGSTRUCT.ATTRIBUTEMASK");
_Static_assert(offsetof(struct sgx_sigstruct, body.enclave_hash) == 960, "SIGSTRUCT.ENCLAVEHASH");
_Static_assert(offsetof(struct sgx_sigstruct, body.isv_ext_prod_id) == 1008, "SIGSTRUCT.ISVEXTPRODID");
_Static_assert(offsetof(struct sgx_sigstruct, body.isv_prod_id) == 1024, "SIGSTRUCT.ISVPRODID");
_Static_assert(offsetof(struct sgx_sigstruct, body.isv_svn) == 1026, "SIGSTRUCT.ISVSVN");
_Static_assert(offsetof(struct sgx_sigstruct, q1) == 1040, "SIGSTRUCT.Q1");
_Static_assert(offsetof(struct sgx_sigstruct, q2) == 1424, "SIGSTRUCT.Q2");
_Static_assert(sizeof(struct sgx_report_body) == 384, "REPORT body");
_Static_assert(offsetof(struct sgx_report_body, mrenclave) == 64, "REPORT.MRENCLAVE");
_Static_assert(offsetof(struct sgx_report_body, mrsigner) == 128, "REPORT.MRSIGNER");
_Static_assert(offsetof(struct sgx_report_body, isv_prod_id) == 256, "REPORT.ISVPRODID");
_Static_assert(offsetof(struct sgx_report_body, isv_family_id) == 304, "REPORT.ISVFAMILYID");
_Static_assert(offsetof(struct sgx_report_body, report_data) == 320, "REPORT.REPORTDATA");
_Static_assert(sizeof(struct sgx_report) == 432, "REPORT is 432 bytes");
_Static_assert(offsetof(struct sgx_report, key_id) == 384, "REPORT.KEYID");
_Static_assert(offsetof(struct sgx_report, mac) == 416, "REPORT.MAC");
_Static_assert(sizeof(struct sgx_targetinfo) == 512, "TARGETINFO is 512 bytes");
_Static_assert(offsetof(struct sgx_targetinfo, miscselect) == 52, "TARGETINFO.MISCSELECT");
_Static_assert(offsetof(struct sgx_targetinfo, config_id) == 64, "TARGETINFO.CONFIGID");
_Static_assert(sizeof(struct sgx_keyrequest) == 512, "KEYREQUEST is 512 bytes");
_Static_assert(offsetof(struct sgx_keyrequest, cpu_svn) == 8, "KEYREQUEST.CPUSVN");
_Static_assert(offsetof(struct sgx_keyrequest, attribute_mask) == 24, "KEYREQUEST.ATTRIBUTEMASK");
_Static_assert(offsetof(struct sgx_keyrequest, key_id) == 40, "KEYREQUEST.KEYID");
_Static_assert(offsetof(struct sgx_keyrequest, misc_mask) == 72, "KEYREQUEST.MISCMASK");
_Static_assert(offsetof(struct sgx_keyrequest, config_svn) == 76, "KEYREQUEST.CONFIGSVN");

#endif
