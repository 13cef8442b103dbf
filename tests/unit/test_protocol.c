/* teemated's wire protocol as pure functions: every malformed request shape
 * is refused with a message and nothing else; replies are checked before a
 * client relies on them. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "daemon/protocol.h"
#include "daemon/ready.h"
#include "harness.h"

static uint8_t buf[TM_PROTO_MAX_MESSAGE + 16];

static size_t encode(enum tm_proto_type type, const void *payload, size_t len)
{
    return tm_proto_encode_request(type, payload, len, buf, sizeof buf);
}

/* Parse buf[0..len) with nfds; return the result (the message is kept in err). */
static int parse(size_t len, int nfds, struct tm_request *req, tm_error *err)
{
    memset(err, 0, sizeof *err);
    return tm_proto_parse_request(buf, len, nfds, req, err);
}

static struct tm_proto_attach good_attach(void)
{
    struct tm_proto_attach a = { .threads = 2 };
    strcpy(a.name, "hello");
    return a;
}

static struct tm_proto_create good_create(void)
{
    struct tm_proto_create c = { .flags = TM_CREATE_HAS_SIG };
    strcpy(c.name, "svc-1.v2_x");
    strcpy(c.backend, "sim");
    strcpy(c.image_name, "hello.elf");
    return c;
}

static void test_valid_requests(void)
{
    struct tm_request req;
    tm_error err;
    struct tm_proto_create c = good_create();
    CHECK_EQ_INT(parse(encode(TM_REQ_CREATE, &c, sizeof c), 2, &req, &err), 0);
    CHECK_EQ_INT(req.type, TM_REQ_CREATE);
    CHECK_EQ_INT(req.nfds, 2);
    CHECK(!strcmp(req.u.create.name, "svc-1.v2_x"));
    c.flags = 0;
    CHECK_EQ_INT(parse(encode(TM_REQ_CREATE, &c, sizeof c), 1, &req, &err), 0);
    CHECK_EQ_INT(parse(encode(TM_REQ_LIST, NULL, 0), 0, &req, &err), 0);
    CHECK_EQ_INT(parse(encode(TM_REQ_STATUS, NULL, 0), 0, &req, &err), 0);
    struct tm_proto_name_req in = { "hello" };
    CHECK_EQ_INT(parse(encode(TM_REQ_INSPECT, &in, sizeof in), 0, &req, &err), 0);
    struct tm_proto_remove rm = { "hello", TM_REMOVE_FORCE, 0 };
    CHECK_EQ_INT(parse(encode(TM_REQ_REMOVE, &rm, sizeof rm), 0, &req, &err), 0);
    CHECK_EQ_INT(req.u.remove.flags, TM_REMOVE_FORCE);
    struct tm_proto_attach a = good_attach();
    CHECK_EQ_INT(parse(encode(TM_REQ_ATTACH, &a, sizeof a), 0, &req, &err), 0);
    CHECK_EQ_INT(req.u.attach.threads, 2);
    struct tm_proto_fork f = { .name = "hello", .threads = 1, .parent_id = 7 };
    CHECK_EQ_INT(parse(encode(TM_REQ_FORK, &f, sizeof f), 0, &req, &err), 0);
    struct tm_proto_detach d = { .attach_id = 9 };
    CHECK_EQ_INT(parse(encode(TM_REQ_DETACH, &d, sizeof d), 0, &req, &err), 0);
}

/* Every prefix and one byte more of every request type: refused as EPROTO. */
static void test_truncated_and_long(void)
{
    struct tm_proto_create c = good_create();
    struct tm_proto_attach a = good_attach();
    struct tm_proto_fork f = { .name = "hello", .threads = 1, .parent_id = 7 };
    struct tm_proto_detach d = { .attach_id = 9 };
    struct tm_proto_name_req in = { "hello" };
    struct tm_proto_remove rm = { "hello", 0, 0 };
    const struct { enum tm_proto_type t; const void *p; size_t len; int nfds; } reqs[] = {
        { TM_REQ_CREATE, &c, sizeof c, 2 }, { TM_REQ_ATTACH, &a, sizeof a, 0 },
        { TM_REQ_FORK, &f, sizeof f, 0 },   { TM_REQ_DETACH, &d, sizeof d, 0 },
        { TM_REQ_INSPECT, &in, sizeof in, 0 }, { TM_REQ_REMOVE, &rm, sizeof rm, 0 },
        { TM_REQ_LIST, NULL, 0, 0 },        { TM_REQ_STATUS, NULL, 0, 0 },
    };
    for (size_t r = 0; r < sizeof reqs / sizeof reqs[0]; r++) {
        size_t n = encode(reqs[r].t, reqs[r].p, reqs[r].len);
        struct tm_request req;
        tm_error err;
        for (size_t len = 0; len < n; len++)
            if (parse(len, reqs[r].nfds, &req, &err) != -EPROTO) {
                fprintf(stderr, "  %s truncated to %zu bytes was not refused\n",
                        tm_proto_type_name(reqs[r].t), len);
                CHECK(0);
            }
        CHECK_EQ_INT(parse(n, reqs[r].nfds, &req, &err), 0);
        /* A longer message whose header admits it: the payload size is wrong. */
        struct tm_proto_header h;
        memcpy(&h, buf, sizeof h);
        h.length = (uint32_t)n + 1;
        memcpy(buf, &h, sizeof h);
        buf[n] = 0;
        CHECK_EQ_INT(parse(n + 1, reqs[r].nfds, &req, &err), -EPROTO);
        CHECK_STR_CONTAINS(err.msg, "payload bytes");
    }
}

static void test_bad_headers(void)
{
    struct tm_request req;
    tm_error err;
    struct tm_proto_attach a = good_attach();
    size_t n = encode(TM_REQ_ATTACH, &a, sizeof a);
    struct tm_proto_header h, good;
    memcpy(&good, buf, sizeof good);

    h = good; h.magic ^= 1; memcpy(buf, &h, sizeof h);
    CHECK_EQ_INT(parse(n, 0, &req, &err), -EPROTO);
    CHECK_STR_CONTAINS(err.msg, "magic");
    h = good; h.version = TM_PROTO_VERSION - 1; memcpy(buf, &h, sizeof h);   /* an older peer */
    CHECK_EQ_INT(parse(n, 0, &req, &err), -EPROTO);
    CHECK_STR_CONTAINS(err.msg, "version");
    h = good; h.length = (uint32_t)n - 1; memcpy(buf, &h, sizeof h);
    CHECK_EQ_INT(parse(n, 0, &req, &err), -EPROTO);
    h = good; h.length = 0xffffffff; memcpy(buf, &h, sizeof h);
    CHECK_EQ_INT(parse(n, 0, &req, &err), -EPROTO);
    h = good; h.reserved = 1; memcpy(buf, &h, sizeof h);
    CHECK_EQ_INT(parse(n, 0, &req, &err), -EPROTO);
    const uint16_t types[] = { 0, TM_REQ_LAST + 1, 0xffff, TM_REQ_ATTACH | TM_PROTO_REPLY };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        h = good; h.type = types[i]; memcpy(buf, &h, sizeof h);
        CHECK_EQ_INT(parse(n, 0, &req, &err), -EPROTO);
        CHECK_STR_CONTAINS(err.msg, "unknown request type");
    }
    /* Every single bit flipped in the header is refused (or, in the type,
     * names another request whose size does not match). */
    for (size_t bit = 0; bit < 8 * sizeof good; bit++) {
        memcpy(buf, &good, sizeof good);
        buf[bit / 8] ^= (uint8_t)(1U << (bit % 8));
        CHECK_EQ_INT(parse(n, 0, &req, &err), -EPROTO);
    }
}

static void test_names(void)
{
    CHECK(tm_enclave_name_valid("a"));
    CHECK(tm_enclave_name_valid("Web_App-1.2"));
    char longest[TM_ENCLAVE_NAME_MAX + 2];
    memset(longest, 'x', sizeof longest);
    longest[TM_ENCLAVE_NAME_MAX] = '\0';
    CHECK(tm_enclave_name_valid(longest));
    longest[TM_ENCLAVE_NAME_MAX] = 'x';
    longest[TM_ENCLAVE_NAME_MAX + 1] = '\0';
    CHECK(!tm_enclave_name_valid(longest));
    const char *bad[] = { "", ".hidden", "-opt", "a/b", "a b", "a\nb", "caf\xc3\xa9", "..", "a:b",
                          "a\\b", "*" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!tm_enclave_name_valid(bad[i]));
    tm_error err = { 0 };
    CHECK_EQ_INT(tm_enclave_name_check("a/b", &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "bad enclave name 'a/b'");
    CHECK_EQ_INT(tm_enclave_name_check(longest, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "longer than 63");
}

/* The name field in a request: bad names, and unterminated or unpadded fields. */
static void test_name_fields(void)
{
    struct tm_request req;
    tm_error err;
    struct tm_proto_attach a = good_attach();
    strcpy(a.name, "../etc");
    CHECK_EQ_INT(parse(encode(TM_REQ_ATTACH, &a, sizeof a), 0, &req, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "bad enclave name");
    a = good_attach();
    memset(a.name, 'n', sizeof a.name);   /* no NUL at all */
    CHECK_EQ_INT(parse(encode(TM_REQ_ATTACH, &a, sizeof a), 0, &req, &err), -EPROTO);
    CHECK_STR_CONTAINS(err.msg, "NUL-terminated");
    a = good_attach();
    a.name[20] = 'z';   /* a byte after the NUL */
    CHECK_EQ_INT(parse(encode(TM_REQ_ATTACH, &a, sizeof a), 0, &req, &err), -EPROTO);
    a = good_attach();
    memset(a.name, 0, sizeof a.name);
    CHECK_EQ_INT(parse(encode(TM_REQ_ATTACH, &a, sizeof a), 0, &req, &err), -EINVAL);

    struct tm_proto_create c = good_create();
    strcpy(c.backend, "kvm");
    CHECK_EQ_INT(parse(encode(TM_REQ_CREATE, &c, sizeof c), 2, &req, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "unknown backend 'kvm'");
    c = good_create();
    memset(c.backend, 's', sizeof c.backend);
    CHECK_EQ_INT(parse(encode(TM_REQ_CREATE, &c, sizeof c), 2, &req, &err), -EPROTO);
    c = good_create();
    memset(c.image_name, 'i', sizeof c.image_name);
    CHECK_EQ_INT(parse(encode(TM_REQ_CREATE, &c, sizeof c), 2, &req, &err), -EPROTO);
    c = good_create();
    strcpy(c.image_name, "evil\033[2J");
    CHECK_EQ_INT(parse(encode(TM_REQ_CREATE, &c, sizeof c), 2, &req, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "control characters");
}

static void test_values_and_fds(void)
{
    struct tm_request req;
    tm_error err;
    struct tm_proto_attach a = good_attach();
    a.threads = 0;
    CHECK_EQ_INT(parse(encode(TM_REQ_ATTACH, &a, sizeof a), 0, &req, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "ask for 1 to 64");
    a.threads = TM_ATTACH_MAX_THREADS + 1;
    CHECK_EQ_INT(parse(encode(TM_REQ_ATTACH, &a, sizeof a), 0, &req, &err), -EINVAL);
    /* Any enclave memory cap parses (0: none; the daemon clamps it to the slot). */
    a = good_attach();
    a.slot_limit_pages = UINT32_MAX;
    CHECK_EQ_INT(parse(encode(TM_REQ_ATTACH, &a, sizeof a), 0, &req, &err), 0);
    CHECK_EQ_INT(req.u.attach.slot_limit_pages, UINT32_MAX);

    struct tm_proto_create c = good_create();
    c.flags = 0x80;
    CHECK_EQ_INT(parse(encode(TM_REQ_CREATE, &c, sizeof c), 2, &req, &err), -EPROTO);
    c = good_create();
    c.reserved = 3;
    CHECK_EQ_INT(parse(encode(TM_REQ_CREATE, &c, sizeof c), 2, &req, &err), -EPROTO);
    struct tm_proto_remove rm = { "hello", 0x2, 0 };
    CHECK_EQ_INT(parse(encode(TM_REQ_REMOVE, &rm, sizeof rm), 0, &req, &err), -EPROTO);

    struct tm_proto_fork f = { .name = "hello", .threads = 1, .parent_id = 0 };
    CHECK_EQ_INT(parse(encode(TM_REQ_FORK, &f, sizeof f), 0, &req, &err), -EINVAL);
    f.parent_id = 3;
    f.threads = 0;
    CHECK_EQ_INT(parse(encode(TM_REQ_FORK, &f, sizeof f), 0, &req, &err), -EINVAL);
    struct tm_proto_detach d = { .attach_id = 0 };
    CHECK_EQ_INT(parse(encode(TM_REQ_DETACH, &d, sizeof d), 0, &req, &err), -EINVAL);

    /* Files: exactly the ones the request names. */
    c = good_create();
    size_t n = encode(TM_REQ_CREATE, &c, sizeof c);
    CHECK_EQ_INT(parse(n, 1, &req, &err), -EPROTO);
    CHECK_STR_CONTAINS(err.msg, "file descriptors");
    CHECK_EQ_INT(parse(n, 3, &req, &err), -EPROTO);
    c.flags = 0;
    n = encode(TM_REQ_CREATE, &c, sizeof c);
    CHECK_EQ_INT(parse(n, 0, &req, &err), -EPROTO);
    CHECK_EQ_INT(parse(n, 2, &req, &err), -EPROTO);
    CHECK_EQ_INT(parse(encode(TM_REQ_LIST, NULL, 0), 1, &req, &err), -EPROTO);
    a = good_attach();
    CHECK_EQ_INT(parse(encode(TM_REQ_ATTACH, &a, sizeof a), 2, &req, &err), -EPROTO);
}

/* Every bit of a valid request flipped, one at a time: parsed or refused. */
static void test_bit_flips(void)
{
    struct tm_proto_fork f = { .name = "hello", .threads = 3, .parent_id = 12 };
    size_t n = encode(TM_REQ_FORK, &f, sizeof f);
    uint8_t good[sizeof buf];
    memcpy(good, buf, n);
    int parsed = 0, refused = 0;
    for (size_t bit = 0; bit < 8 * n; bit++) {
        memcpy(buf, good, n);
        buf[bit / 8] ^= (uint8_t)(1U << (bit % 8));
        struct tm_request req;
        tm_error err;
        int ret = parse(n, 0, &req, &err);
        if (ret == 0) {
            parsed++;
            CHECK(tm_enclave_name_valid(req.u.fork.name));
            CHECK(req.u.fork.threads >= 1 && req.u.fork.threads <= TM_ATTACH_MAX_THREADS);
        } else {
            refused++;
            CHECK(ret == -EPROTO || ret == -EINVAL);
            CHECK(err.msg[0] != '\0');
        }
    }
    CHECK(parsed > 0 && refused > 0);
}

/* ---- Replies ---- */

static size_t reply(enum tm_proto_type t, int status, const char *msg, const void *p, size_t len)
{
    return tm_proto_encode_reply(t, status, msg, p, len, buf, sizeof buf);
}

static void test_replies(void)
{
    struct tm_proto_reply_head head;
    const void *payload;
    size_t plen;
    tm_error err = { 0 };
    struct tm_proto_status st = { .pid = 4 };
    size_t n = reply(TM_REQ_STATUS, 0, NULL, &st, sizeof st);
    CHECK_EQ_INT(tm_proto_parse_reply(buf, n, TM_REQ_STATUS, &head, &payload, &plen, &err), 0);
    CHECK_EQ_INT(plen, sizeof st);
    /* The reply to another request, a truncated one, a wrong payload size. */
    CHECK_EQ_INT(tm_proto_parse_reply(buf, n, TM_REQ_LIST, &head, &payload, &plen, &err), -EPROTO);
    CHECK_EQ_INT(tm_proto_parse_reply(buf, n - 1, TM_REQ_STATUS, &head, &payload, &plen, &err),
                 -EPROTO);
    n = reply(TM_REQ_STATUS, 0, NULL, &st, sizeof st - 8);
    CHECK_EQ_INT(tm_proto_parse_reply(buf, n, TM_REQ_STATUS, &head, &payload, &plen, &err), -EPROTO);
    /* A refusal comes back as its errno and message. */
    n = reply(TM_REQ_ATTACH, -ENOENT, "no enclave named 'x' (teemate enclave ls)", NULL, 0);
    CHECK_EQ_INT(tm_proto_parse_reply(buf, n, TM_REQ_ATTACH, &head, &payload, &plen, &err), -ENOENT);
    CHECK_STR_CONTAINS(err.msg, "no enclave named 'x'");
    /* Positive and absurd statuses are refused. */
    n = reply(TM_REQ_DETACH, 5, NULL, NULL, 0);
    CHECK_EQ_INT(tm_proto_parse_reply(buf, n, TM_REQ_DETACH, &head, &payload, &plen, &err), -EPROTO);
    n = reply(TM_REQ_DETACH, -100000, NULL, NULL, 0);
    CHECK_EQ_INT(tm_proto_parse_reply(buf, n, TM_REQ_DETACH, &head, &payload, &plen, &err), -EPROTO);
    /* An unterminated message field. */
    n = reply(TM_REQ_DETACH, 0, NULL, NULL, 0);
    memset(buf + sizeof(struct tm_proto_header) + 8, 'm', TM_PROTO_MESSAGE_MAX);
    CHECK_EQ_INT(tm_proto_parse_reply(buf, n, TM_REQ_DETACH, &head, &payload, &plen, &err), -EPROTO);
}

/* A notice (full, idle, another user) stands in for the reply to any request. */
static void test_notices(void)
{
    struct tm_proto_reply_head head;
    const void *payload;
    size_t plen;
    tm_error err = { 0 };
    size_t n = tm_proto_encode_notice(-EUSERS, "teemated is full: 64 connections from pid 7", buf,
                                      sizeof buf);
    for (uint32_t t = TM_REQ_CREATE; t <= TM_REQ_LAST; t++) {
        CHECK_EQ_INT(tm_proto_parse_reply(buf, n, (enum tm_proto_type)t, &head, &payload, &plen, &err),
                     -EUSERS);
        CHECK_STR_CONTAINS(err.msg, "teemated is full: 64 connections from pid 7");
    }
    /* A notice is never a success, and never carries a payload. */
    n = tm_proto_encode_reply(0, 0, NULL, NULL, 0, buf, sizeof buf);
    CHECK_EQ_INT(tm_proto_parse_reply(buf, n, TM_REQ_LIST, &head, &payload, &plen, &err), -EPROTO);
    struct tm_proto_list empty = { 0 };
    n = tm_proto_encode_reply(0, -EUSERS, "x", &empty, sizeof empty, buf, sizeof buf);
    CHECK_EQ_INT(n, sizeof(struct tm_proto_header) + sizeof head);   /* an error drops the payload */
    memcpy(buf + n, &empty, sizeof empty);
    struct tm_proto_header h;
    memcpy(&h, buf, sizeof h);
    h.length += sizeof empty;
    memcpy(buf, &h, sizeof h);
    CHECK_EQ_INT(tm_proto_parse_reply(buf, n + sizeof empty, TM_REQ_LIST, &head, &payload, &plen,
                                      &err), -EPROTO);
}

static struct tm_proto_enclave good_enclave(void)
{
    struct tm_proto_enclave e = { .base = 0x7f0000000000ULL, .size = 1ULL << 26, .tcs_total = 4,
                                  .tcs_leased = 1, .slots_total = 8, .slots_in_use = 1,
                                  .epc_shared = 10, .epc_total = 20 };
    strcpy(e.name, "hello");
    strcpy(e.backend, "sim");
    return e;
}

static void test_list_reply(void)
{
    static uint8_t p[sizeof(struct tm_proto_list) + 3 * sizeof(struct tm_proto_enclave)];
    struct tm_proto_list head = { .count = 3 };
    struct tm_proto_enclave e = good_enclave();
    memcpy(p, &head, sizeof head);
    for (int i = 0; i < 3; i++)
        memcpy(p + sizeof head + i * sizeof e, &e, sizeof e);
    tm_error err;
    CHECK_EQ_INT(tm_proto_check_list(p, sizeof p, &err), 0);
    CHECK_EQ_INT(tm_proto_check_list(p, sizeof p - 1, &err), -EPROTO);
    CHECK_EQ_INT(tm_proto_check_list(p, 4, &err), -EPROTO);
    head.count = 1000000;
    memcpy(p, &head, sizeof head);
    CHECK_EQ_INT(tm_proto_check_list(p, sizeof p, &err), -EPROTO);
    e.tcs_leased = 9;
    CHECK_EQ_INT(tm_proto_check_enclave(&e, &err), -EPROTO);
    e = good_enclave();
    strcpy(e.backend, "xyz");
    CHECK_EQ_INT(tm_proto_check_enclave(&e, &err), -EPROTO);
    e = good_enclave();
    e.size = 3 << 20;
    CHECK_EQ_INT(tm_proto_check_enclave(&e, &err), -EPROTO);
    /* A build in progress: its counts must make sense too. */
    e = good_enclave();
    e.building = 1;
    e.build_pages_done = 10;
    e.build_pages_total = 20;
    CHECK_EQ_INT(tm_proto_check_enclave(&e, &err), 0);
    e.build_pages_done = 21;
    CHECK_EQ_INT(tm_proto_check_enclave(&e, &err), -EPROTO);
    CHECK_STR_CONTAINS(err.msg, "build progress");
    e.build_pages_done = 0;
    e.building = 2;
    CHECK_EQ_INT(tm_proto_check_enclave(&e, &err), -EPROTO);
    e.building = 0;
    e.tcs_made = e.tcs_total + 1;   /* more made than there are */
    CHECK_EQ_INT(tm_proto_check_enclave(&e, &err), -EPROTO);
}

static struct tm_proto_attach_reply attach_reply;

static void reset_attach_reply(void)
{
    struct tm_proto_attach_reply *r = &attach_reply;
    memset(r, 0, sizeof *r);
    r->attach_id = 5;
    r->size = 1ULL << 24;
    r->base = 1ULL << 40;
    r->regions = (struct tm_enclave_regions){ .enclave_size = 1ULL << 24, .image_size = 0x10000,
                                              .heap_offset = 0x100000, .heap_size = 0x100000,
                                              .slots_offset = 0x400000, .slot_size = 0x100000,
                                              .slot_count = 2, .tcs_count = 4 };
    strcpy(r->name, "spin");
    strcpy(r->backend, "sim");
    r->slot = 1;
    r->parent_slot = -1;
    r->slot_offset = 0x500000;
    r->slot_size = 0x100000;
    r->nthreads = 1;
    r->tcs_offsets[0] = 0x20000;
    r->nviews = 2;
    r->views[0] = (struct tm_proto_view){ 0, 0x10000, PROT_READ | PROT_EXEC, 0 };
    r->views[1] = (struct tm_proto_view){ 0x500000, 0x100000, PROT_READ | PROT_WRITE, 0 };
    r->nfds = 2;
}

static void test_attach_reply(void)
{
    tm_error err;
    struct tm_proto_attach_reply *r = &attach_reply;
    reset_attach_reply();
    CHECK_EQ_INT(tm_proto_check_attach_reply(r, 2, &err), 0);
    CHECK_EQ_INT(tm_proto_check_attach_reply(r, 1, &err), -EPROTO);   /* fds missing */
    r->base += 4096;   /* not naturally aligned */
    CHECK_EQ_INT(tm_proto_check_attach_reply(r, 2, &err), -EPROTO);
    reset_attach_reply();
    r->views[1].offset = r->size - 4096;   /* runs past ELRANGE */
    CHECK_EQ_INT(tm_proto_check_attach_reply(r, 2, &err), -EPROTO);
    reset_attach_reply();
    r->views[0].len = 100;
    CHECK_EQ_INT(tm_proto_check_attach_reply(r, 2, &err), -EPROTO);
    reset_attach_reply();
    r->views[0].prot = 0x10;
    CHECK_EQ_INT(tm_proto_check_attach_reply(r, 2, &err), -EPROTO);
    reset_attach_reply();
    r->nviews = TM_ATTACH_MAX_VIEWS + 1;
    CHECK_EQ_INT(tm_proto_check_attach_reply(r, 2, &err), -EPROTO);
    reset_attach_reply();
    r->slot = 2;
    CHECK_EQ_INT(tm_proto_check_attach_reply(r, 2, &err), -EPROTO);
    reset_attach_reply();
    r->slot_offset += 4096;
    CHECK_EQ_INT(tm_proto_check_attach_reply(r, 2, &err), -EPROTO);
    reset_attach_reply();
    r->parent_slot = 1;   /* its own slot */
    CHECK_EQ_INT(tm_proto_check_attach_reply(r, 2, &err), -EPROTO);
    reset_attach_reply();
    r->nthreads = 5;   /* more than the enclave has */
    CHECK_EQ_INT(tm_proto_check_attach_reply(r, 2, &err), -EPROTO);
    reset_attach_reply();
    r->tcs_offsets[0] = r->size;
    CHECK_EQ_INT(tm_proto_check_attach_reply(r, 2, &err), -EPROTO);
    reset_attach_reply();
    strcpy(r->backend, "kvm");
    CHECK_EQ_INT(tm_proto_check_attach_reply(r, 2, &err), -EPROTO);
    /* A slot's cap is at most the slot. */
    reset_attach_reply();
    r->slot_limit_pages = 0x100000 / 4096;
    CHECK_EQ_INT(tm_proto_check_attach_reply(r, 2, &err), 0);
    r->slot_limit_pages++;
    CHECK_EQ_INT(tm_proto_check_attach_reply(r, 2, &err), -EPROTO);
    CHECK_STR_CONTAINS(err.msg, "a cap of 257 pages");
}

static void test_ready_reports(void)
{
    tm_error err = { 0 };
    int pid = 0;
    CHECK_EQ_INT(tm_daemon_ready_parse("R1234\n", &pid, &err), 0);
    CHECK_EQ_INT(pid, 1234);
    CHECK_EQ_INT(tm_daemon_ready_parse("A77 teemated already runs on /s (pid 77)\n", &pid, &err),
                 -EALREADY);
    CHECK_EQ_INT(pid, 77);
    CHECK_STR_CONTAINS(err.msg, "already runs");
    CHECK_EQ_INT(tm_daemon_ready_parse("E13 socket directory /x can be written by others\n", &pid, &err),
                 -EACCES);
    CHECK_STR_CONTAINS(err.msg, "written by others");
    CHECK_EQ_INT(tm_daemon_ready_parse("", &pid, &err), -ECHILD);
    CHECK_EQ_INT(tm_daemon_ready_parse("R", &pid, &err), -ECHILD);
    CHECK_EQ_INT(tm_daemon_ready_parse("R-5", &pid, &err), -ECHILD);
    CHECK_EQ_INT(tm_daemon_ready_parse("Z12", &pid, &err), -EPROTO);
}

int main(void)
{
    RUN(test_valid_requests);
    RUN(test_truncated_and_long);
    RUN(test_bad_headers);
    RUN(test_names);
    RUN(test_name_fields);
    RUN(test_values_and_fds);
    RUN(test_bit_flips);
    RUN(test_replies);
    RUN(test_notices);
    RUN(test_list_reply);
    RUN(test_attach_reply);
    RUN(test_ready_reports);
    TEST_EXIT();
}
