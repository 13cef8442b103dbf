/* teemated's wire protocol: one request and one reply per SOCK_SEQPACKET
 * message, native-endian fixed-size structs (client and daemon run on one
 * machine). Every message starts with struct tm_proto_header; the payload is
 * exactly the struct its type names (LIST's reply: a count, then that many
 * entries). Strings are NUL-terminated and NUL-padded: every byte after the
 * first NUL must be zero, so one request has one encoding.
 *
 * Open files travel beside the bytes as SCM_RIGHTS: CREATE carries the image
 * (and the SIGSTRUCT when TM_CREATE_HAS_SIG), ATTACH and FORK replies carry the
 * backend's enclave fds. A request with any other number of fds is refused.
 *
 * Parsing is pure (bytes -> struct or error, no I/O): the daemon, the fuzzer
 * (fuzz/fuzz_protocol.c) and the tests call the same functions. */
#ifndef TM_DAEMON_PROTOCOL_H
#define TM_DAEMON_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/client.h"
#include "shared/attach.h"
#include "tm_image.h"
#include "tm_lease.h"
#include "util/error.h"

#define TM_PROTO_MAGIC 0x504d4454U     /* "TDMP" */
#define TM_PROTO_VERSION 2             /* 2: build progress, notices, STATUS limits */
/* Upper bound of any message, request or reply (LIST at its largest fits). */
#define TM_PROTO_MAX_MESSAGE (64U * 1024)
#define TM_PROTO_MAX_FDS 2             /* CREATE: image + SIGSTRUCT; replies: TM_BACKEND_MAX_FDS */
#define TM_PROTO_MAX_ENCLAVES 128      /* enclaves one daemon holds (LIST fits one message) */
#define TM_PROTO_MESSAGE_MAX 256       /* error or note text in a reply */
#define TM_PROTO_BACKEND_MAX 8
#define TM_PROTO_IMAGE_NAME_MAX 256

enum tm_proto_type {
    TM_REQ_CREATE = 1,
    TM_REQ_LIST = 2,
    TM_REQ_INSPECT = 3,
    TM_REQ_REMOVE = 4,
    TM_REQ_ATTACH = 5,
    TM_REQ_FORK = 6,
    TM_REQ_DETACH = 7,
    TM_REQ_STATUS = 8,
    TM_REQ_LAST = TM_REQ_STATUS,
};
#define TM_PROTO_REPLY 0x8000U         /* reply type = request type | TM_PROTO_REPLY */
/* A notice: a refusal tied to no request type, framed as a reply (head, no
 * payload, status < 0), that may stand in for the reply to any request: the
 * daemon's last word before it closes a connection it will not serve (full,
 * idle, another user), or the answer to a message too short to have a type. */
#define TM_PROTO_NOTICE TM_PROTO_REPLY

struct tm_proto_header {
    uint32_t magic;
    uint16_t version;
    uint16_t type;
    uint32_t length;                   /* the whole message, header included */
    uint32_t reserved;                 /* 0 */
};

/* ---- Requests ---- */
#define TM_CREATE_HAS_SIG 0x1U
#define TM_REMOVE_FORCE 0x1U

struct tm_proto_create {
    char name[TM_ENCLAVE_NAME_MAX + 1];
    char backend[TM_PROTO_BACKEND_MAX];        /* "sim", "sgx", "auto" */
    char image_name[TM_PROTO_IMAGE_NAME_MAX];  /* for display: printable, may be empty */
    uint32_t flags;                            /* TM_CREATE_HAS_SIG */
    uint32_t reserved;
};

struct tm_proto_name_req {                     /* INSPECT */
    char name[TM_ENCLAVE_NAME_MAX + 1];
};

struct tm_proto_remove {
    char name[TM_ENCLAVE_NAME_MAX + 1];
    uint32_t flags;                            /* TM_REMOVE_FORCE */
    uint32_t reserved;
};

/* slot_limit_pages (ATTACH, FORK): the container's enclave memory cap, the
 * pages its slot may ever hold from the slot's start (0: none; more than the
 * slot: the slot). Passed to the enclave's LEASE_BIND (abi/tm_lease.h) and
 * applied to the slot's view too, so the process cannot EAUG past it. */
struct tm_proto_attach {
    char name[TM_ENCLAVE_NAME_MAX + 1];
    uint32_t threads;                          /* 1..TM_ATTACH_MAX_THREADS */
    uint32_t slot_limit_pages;                 /* 0: none */
};

struct tm_proto_fork {
    char name[TM_ENCLAVE_NAME_MAX + 1];
    uint32_t threads;
    uint32_t slot_limit_pages;                 /* the child's own slot; 0: none */
    uint64_t parent_id;                        /* the parent's attach id */
    uint8_t parent_token[TM_LEASE_TOKEN_SIZE]; /* and its token: proof of the parent */
};

struct tm_proto_detach {
    uint64_t attach_id;
    uint8_t token[TM_LEASE_TOKEN_SIZE];
};

/* A parsed, validated request. */
struct tm_request {
    enum tm_proto_type type;
    int nfds;                                  /* fds that must come with it */
    union {
        struct tm_proto_create create;
        struct tm_proto_name_req inspect;
        struct tm_proto_remove remove;
        struct tm_proto_attach attach;
        struct tm_proto_fork fork;
        struct tm_proto_detach detach;
    } u;
};

/* ---- Replies: header, struct tm_proto_reply_head, then on success the payload. ---- */
struct tm_proto_reply_head {
    int32_t status;                            /* 0 or -errno */
    uint32_t reserved;
    char message[TM_PROTO_MESSAGE_MAX];        /* the error; on success an optional note */
};

struct tm_proto_enclave {                      /* CREATE's reply; LIST's entries */
    char name[TM_ENCLAVE_NAME_MAX + 1];
    char backend[TM_PROTO_BACKEND_MAX];
    char image[TM_PROTO_IMAGE_NAME_MAX];
    uint8_t mrenclave[32];
    uint8_t mrsigner[32];
    uint64_t base, size;
    uint32_t tcs_total, tcs_leased;
    uint32_t slots_total, slots_in_use;
    uint64_t epc_shared, epc_total;
    uint32_t removing;                         /* 0 or 1 */
    uint32_t nattached;
    double create_ms;
    uint32_t building;                         /* 1: CREATE still adding pages (no measurement yet) */
    uint32_t tcs_made;                         /* built or made at run time (SGX2) */
    uint64_t build_pages_done, build_pages_total;
    uint32_t tcs_quarantined;                  /* of tcs_leased: never leased again */
    uint32_t slots_quarantined;                /* of slots_in_use: never handed out again */
};

struct tm_proto_list {
    uint32_t count;                            /* <= TM_PROTO_MAX_ENCLAVES */
    uint32_t reserved;
    /* then count x struct tm_proto_enclave */
};

struct tm_proto_attached {
    uint64_t attach_id;
    int32_t pid;
    uint32_t slot;
    int32_t parent_slot;
    uint32_t threads;
    uint64_t epc_pages;                        /* EPC pages in its slot */
    uint64_t epc_limit_pages;                  /* its slot's cap (0: none) */
};

#define TM_PROTO_MAX_QUARANTINED 16
#define TM_PROTO_WHY_MAX 120

struct tm_proto_quarantined {                  /* a slot or TCS that cannot be handed out */
    uint32_t tcs;                              /* 0: a slot, 1: a TCS */
    uint32_t index;
    char why[TM_PROTO_WHY_MAX];
};

struct tm_proto_inspect {
    struct tm_proto_enclave enclave;
    uint32_t nattached;                        /* entries filled below (<= 64) */
    uint32_t reserved;
    struct tm_proto_attached attached[64];
    uint32_t nquarantined;                     /* entries filled below (<= 16) */
    uint32_t reserved2;
    struct tm_proto_quarantined quarantined[TM_PROTO_MAX_QUARANTINED];
};

struct tm_proto_view {
    uint64_t offset, len;
    uint32_t prot;                             /* PROT_READ|PROT_WRITE|PROT_EXEC */
    uint32_t reserved;
};

struct tm_proto_attach_reply {                 /* ATTACH and FORK */
    uint64_t attach_id;
    uint64_t base, size;
    struct tm_enclave_regions regions;
    uint8_t mrenclave[32];
    char backend[TM_PROTO_BACKEND_MAX];
    char name[TM_ENCLAVE_NAME_MAX + 1];
    uint32_t slot;
    int32_t parent_slot;
    uint64_t slot_offset, slot_size;
    uint8_t token[TM_LEASE_TOKEN_SIZE];
    uint32_t nthreads, nviews, nfds;
    uint32_t slot_limit_pages;                 /* the cap applied, <= the slot's pages (0: none) */
    uint64_t tcs_offsets[TM_ATTACH_MAX_THREADS];
    struct tm_proto_view views[TM_ATTACH_MAX_VIEWS];
};

struct tm_proto_remove_reply {
    uint32_t pending;                          /* 1: in use, freed after the last detach */
    uint32_t reserved;
};

struct tm_proto_status {
    int32_t pid;
    uint32_t enclaves, open_fds, leases;
    uint64_t epc_pages, requests, bad_requests;
    uint32_t conns, builds;                    /* open connections, CREATEs building */
    uint64_t conns_refused;                    /* refused or closed: full, idle, other user */
    uint64_t log_dropped;                      /* log lines the rate limit dropped */
    uint64_t epc_committed, epc_limit;         /* pages all enclaves may hold / --max-epc */
};

_Static_assert(sizeof(struct tm_proto_header) == 16, "header");
_Static_assert(sizeof(struct tm_proto_list) + TM_PROTO_MAX_ENCLAVES * sizeof(struct tm_proto_enclave) +
                   sizeof(struct tm_proto_header) + sizeof(struct tm_proto_reply_head) <=
               TM_PROTO_MAX_MESSAGE, "LIST fits one message");
_Static_assert(sizeof(struct tm_proto_attach_reply) + 512 <= TM_PROTO_MAX_MESSAGE, "attach reply");

/* A fixed-size string field: NUL-terminated inside, zeros after the NUL. */
bool tm_proto_field_terminated(const char *s, size_t size);

/* Parse a request: the message's bytes and how many fds came with it.
 * -EPROTO for a malformed message, -EINVAL for a well-formed one with bad
 * values; err says which field. Pure: no I/O, no allocation. */
int tm_proto_parse_request(const void *msg, size_t len, int nfds, struct tm_request *req,
                           tm_error *err);

/* Encode a request (the header is filled in): returns its length. */
size_t tm_proto_encode_request(enum tm_proto_type type, const void *payload, size_t payload_len,
                               uint8_t *buf, size_t cap);
/* Payload size of each request type (0 for LIST/STATUS); 0 for an unknown type. */
size_t tm_proto_request_size(uint32_t type);

/* Parse a reply to a request of type `type`: the head goes to *head, the
 * payload's address and length to *payload / *payload_len (inside msg). A
 * reply with status < 0 is returned as that status with err holding its
 * message. Checks the framing and, for a success, the payload's size. */
int tm_proto_parse_reply(const void *msg, size_t len, enum tm_proto_type type,
                         struct tm_proto_reply_head *head, const void **payload,
                         size_t *payload_len, tm_error *err);
/* Payload checks of the replies with content (strings terminated, counts and
 * ranges bounded); 0 or -EPROTO. */
int tm_proto_check_enclave(const struct tm_proto_enclave *e, tm_error *err);
int tm_proto_check_list(const void *payload, size_t len, tm_error *err);
int tm_proto_check_inspect(const struct tm_proto_inspect *in, tm_error *err);
int tm_proto_check_attach_reply(const struct tm_proto_attach_reply *r, int nfds, tm_error *err);

/* Encode a notice (status < 0, message): the daemon sends it, then closes. */
size_t tm_proto_encode_notice(int status, const char *message, uint8_t *buf, size_t cap);

/* Encode a reply: status (0 or -errno), message (NULL: none), payload. Returns its length. */
size_t tm_proto_encode_reply(enum tm_proto_type type, int status, const char *message,
                             const void *payload, size_t payload_len, uint8_t *buf, size_t cap);

/* "CREATE", "LIST"... for logs ("?" for an unknown type). */
const char *tm_proto_type_name(uint32_t type);

#endif
