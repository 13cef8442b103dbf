/* Slots and TCS leases inside the enclave (abi/tm_lease.h), with one process
 * mapping the whole enclave (sim backend) and examples/hello as the image:
 * binding, the token check on every entry, joins and forks, the per-slot
 * allocator (expand), unbinding, trimming, and dropping an ecall a dead
 * process left behind. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/sim.h"
#include "enclave/devkey.h"
#include "enclave/ecall.h"
#include "enclave/enclave.h"
#include "harness.h"
#include "tm_lease.h"

#define HELLO_SET 16
#define HELLO_GET 17
#define HELLO_SHARED 18
#define HELLO_ALLOC 19
#define HELLO_SHARED_ALLOC 20
#define HELLO_SLOT 21

struct running {
    struct tm_image *image;
    struct tm_enclave *enclave;
};

static void stop(struct running *r)
{
    tm_enclave_destroy(r->enclave);
    tm_image_free(r->image);
    memset(r, 0, sizeof(*r));
}

static const struct tm_enclave_regions *regions(const struct running *r)
{
    return &r->enclave->layout->regions;
}

static uint64_t slot_offset(const struct running *r, uint32_t slot)
{
    return regions(r)->slots_offset + (uint64_t)slot * regions(r)->slot_size;
}

/* The sim adds a slot page on the fault of its EACCEPT (expand) only inside
 * an attached process's on-demand views, not in the creator's: add every
 * page of slots 0..count-1 beforehand, as that EAUG would. Slot 7 is left
 * out: test_expand_fault_keeps_the_thread. */
static int pre_add_slot_pages(struct running *r, uint32_t slot, tm_error *err)
{
    struct tm_sim_enclave *se = tm_sim_enclave_of(r->enclave->be);
    for (uint64_t off = 0; off < regions(r)->slot_size; off += 4096) {
        int ret = tm_sim_eaug(se, slot_offset(r, slot) + off, err);
        if (ret < 0 && ret != -EEXIST)
            return ret;
    }
    return 0;
}

static int pre_add_slots(struct running *r, uint32_t count, tm_error *err)
{
    for (uint32_t s = 0; s < count && s < regions(r)->slot_count; s++) {
        int ret = pre_add_slot_pages(r, s, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

static int start(struct running *r, tm_error *err)
{
    char path[512], key[4200];
    struct sgx_sigstruct ss;
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build-san";
    snprintf(path, sizeof(path), "%s/examples/hello.elf", build);
    memset(r, 0, sizeof(*r));
    int ret = tm_image_load(path, &r->image, err);
    if (ret == 0)
        ret = tm_devkey_sign(r->image, &ss, key, sizeof(key), err);
    if (ret == 0)
        ret = tm_enclave_build(r->image, &ss, &tm_backend_sim, &r->enclave, err);
    if (ret == 0)
        ret = pre_add_slots(r, 7, err);
    if (ret < 0) {
        fprintf(stderr, "  start: %s\n", err->msg);
        stop(r);
    }
    return ret;
}

/* One ecall on TCS tcs under token (NULL: none); c->status tells the status. */
static int run(struct running *r, uint32_t tcs, const uint8_t *token, struct tm_ecall_call *c)
{
    tm_error err = { 0 };
    if (token)
        memcpy(c->lease_token, token, TM_LEASE_TOKEN_SIZE);
    struct tm_enclave *e = r->enclave;
    return tm_ecall(e->ops, e->be, e->base, e->size, tm_enclave_tcs_offset(e, tcs), c, &err);
}

static int bind(struct running *r, uint32_t tcs, uint32_t slot, uint32_t mode, uint32_t parent,
                const uint8_t *token, struct tm_lease_bind_out *out, int32_t *status)
{
    struct tm_lease_bind_in in = { .slot = slot, .mode = mode, .parent_slot = parent };
    if (token)
        memcpy(in.token, token, sizeof(in.token));
    struct tm_lease_bind_out ignored;
    struct tm_ecall_call c = { .ecall = TM_ECALL_LEASE_BIND, .in = &in, .in_len = sizeof(in),
                               .out = out ? out : &ignored, .out_cap = sizeof(*out) };
    int ret = run(r, tcs, NULL, &c);
    if (status)
        *status = c.status;
    return ret;
}

static int unbind(struct running *r, uint32_t tcs, const uint8_t *token, struct tm_lease_unbind_out *out,
                  int32_t *status)
{
    struct tm_lease_unbind_out ignored;
    struct tm_ecall_call c = { .ecall = TM_ECALL_LEASE_UNBIND, .out = out ? out : &ignored,
                               .out_cap = sizeof(*out) };
    int ret = run(r, tcs, token, &c);
    if (status)
        *status = c.status;
    return ret;
}

static int trim(struct running *r, uint32_t tcs, uint32_t slot, uint64_t *pages, int32_t *status)
{
    struct tm_slot_trim_in in = { .slot = slot };
    struct tm_slot_trim_out out = { 0 };
    struct tm_ecall_call c = { .ecall = TM_ECALL_SLOT_TRIM, .in = &in, .in_len = sizeof(in),
                               .out = &out, .out_cap = sizeof(out) };
    int ret = run(r, tcs, NULL, &c);
    if (pages)
        *pages = out.pages;
    if (status)
        *status = c.status;
    return ret;
}

struct capture {
    char buf[256];
    size_t len;
};

static long capture_write(void *ctx, int fd, const void *buf, size_t len)
{
    struct capture *cap = ctx;
    (void)fd;
    size_t n = len < sizeof(cap->buf) - 1 - cap->len ? len : sizeof(cap->buf) - 1 - cap->len;
    memcpy(cap->buf + cap->len, buf, n);
    cap->len += n;
    cap->buf[cap->len] = '\0';
    return (long)len;
}

/* main(argv) on tcs; its output in cap. */
static int run_main(struct running *r, uint32_t tcs, const uint8_t *token, const char *arg,
                    struct capture *cap, int32_t *status)
{
    char argv[64];
    int n = snprintf(argv, sizeof(argv), "hello.elf%c%s", '\0', arg);
    memset(cap, 0, sizeof(*cap));
    struct tm_ecall_call c = { .ecall = TM_ECALL_MAIN, .in = argv, .in_len = (size_t)n + 1,
                               .write = capture_write, .write_ctx = cap };
    int ret = run(r, tcs, token, &c);
    if (status)
        *status = c.status;
    return ret == 0 ? (int)c.retval : ret;
}

/* An hello ecall with an optional 8-byte input; *value its 8-byte output. */
static int run_u64(struct running *r, uint32_t tcs, const uint8_t *token, uint32_t ecall,
                   const uint64_t *in, uint64_t *value)
{
    uint64_t out[2] = { 0 };
    struct tm_ecall_call c = { .ecall = ecall, .in = in, .in_len = in ? 8 : 0, .out = out,
                               .out_cap = sizeof(out) };
    int ret = run(r, tcs, token, &c);
    if (value)
        *value = out[0];
    return ret == 0 ? (int)c.retval : ret;
}

static bool in_slot(const struct running *r, uint32_t slot, uint64_t address)
{
    uint64_t start = r->enclave->base + slot_offset(r, slot);
    return address >= start && address < start + regions(r)->slot_size;
}

static void test_private_enclave_works_as_before(void)
{
    struct running r;
    tm_error err;
    REQUIRE(start(&r, &err) == 0);
    struct capture cap;
    int32_t status;
    CHECK_EQ_INT(run_main(&r, 0, NULL, "world", &cap, NULL), 0);
    CHECK(strcmp(cap.buf, "hello, world\n") == 0);
    CHECK_EQ_INT(run_main(&r, 1, NULL, "--state", &cap, NULL), 0);
    CHECK(strcmp(cap.buf, "shared runs 2, slot runs 0, slot -1\n") == 0);
    /* No lease anywhere: unbind and the fork hook have nothing to act on. */
    CHECK_EQ_INT(unbind(&r, 0, NULL, NULL, &status), -EACCES);
    CHECK_EQ_INT(status, TM_STATUS_NOT_LEASED);
    struct tm_ecall_call fork_child = { .ecall = TM_ECALL_FORK_CHILD };
    CHECK_EQ_INT(run(&r, 0, NULL, &fork_child), -EACCES);
    CHECK_EQ_INT(trim(&r, 0, 0, NULL, &status), -EBUSY);      /* slot 0 is FREE */
    CHECK_EQ_INT(status, TM_STATUS_SLOT_STATE);
    uint64_t address = 0;
    CHECK_EQ_INT(run_u64(&r, 0, NULL, HELLO_ALLOC, &(uint64_t){ 100 }, &address), 0);
    uint64_t heap = r.enclave->base + regions(&r)->heap_offset;
    CHECK(address >= heap && address < heap + regions(&r)->heap_size);   /* no slot: the heap */
    stop(&r);
}

static void test_bind_checks_every_entry(void)
{
    struct running r;
    tm_error err;
    REQUIRE(start(&r, &err) == 0);
    struct tm_lease_bind_out b0, b1;
    int32_t status;
    REQUIRE(bind(&r, 0, 0, TM_LEASE_NEW, 0, NULL, &b0, &status) == 0);
    CHECK_EQ_INT(b0.generation, 1);
    static const uint8_t zero[TM_LEASE_TOKEN_SIZE];
    CHECK(memcmp(b0.token, zero, sizeof(zero)) != 0);

    struct capture cap;
    CHECK_EQ_INT(run_main(&r, 0, b0.token, "world", &cap, NULL), 0);
    CHECK(strcmp(cap.buf, "hello, world\n") == 0);
    uint8_t wrong[TM_LEASE_TOKEN_SIZE];
    memcpy(wrong, b0.token, sizeof(wrong));
    wrong[15] ^= 1;
    CHECK_EQ_INT(run_main(&r, 0, wrong, "world", &cap, &status), -EACCES);
    CHECK_EQ_INT(status, TM_STATUS_NOT_LEASED);
    CHECK_EQ_INT(run_main(&r, 0, zero, "world", &cap, &status), -EACCES);
    CHECK_EQ_INT(cap.len, 0);
    struct tm_ecall_call ping = { .ecall = TM_ECALL_PING };
    CHECK_EQ_INT(run(&r, 0, wrong, &ping), -EACCES);              /* every ecall, PING too */

    /* Shared now: a TCS that serves no slot runs only the lease calls and PING. */
    CHECK_EQ_INT(run_main(&r, 1, NULL, "world", &cap, &status), -EACCES);
    CHECK_EQ_INT(status, TM_STATUS_NOT_LEASED);
    CHECK_EQ_INT(run_u64(&r, 1, NULL, HELLO_SHARED, NULL, NULL), -EACCES);
    struct tm_ecall_call ping1 = { .ecall = TM_ECALL_PING };
    CHECK_EQ_INT(run(&r, 1, NULL, &ping1), 0);

    /* Wrong states and bad arguments change nothing. */
    /* TCS 0 serves slot 0: without its token nothing runs there, with it
     * the bind finds the TCS in the wrong state. */
    CHECK_EQ_INT(bind(&r, 0, 1, TM_LEASE_NEW, 0, NULL, NULL, &status), -EACCES);
    CHECK_EQ_INT(status, TM_STATUS_NOT_LEASED);
    struct tm_lease_bind_in again = { .slot = 1, .mode = TM_LEASE_NEW };
    struct tm_lease_bind_out again_out;
    struct tm_ecall_call rebind = { .ecall = TM_ECALL_LEASE_BIND, .in = &again, .in_len = sizeof(again),
                                    .out = &again_out, .out_cap = sizeof(again_out) };
    CHECK_EQ_INT(run(&r, 0, b0.token, &rebind), -EBUSY);
    CHECK_EQ_INT(rebind.status, TM_STATUS_SLOT_STATE);
    CHECK_EQ_INT(bind(&r, 1, 0, TM_LEASE_NEW, 0, NULL, NULL, &status), -EBUSY);   /* slot 0 is BOUND */
    CHECK_EQ_INT(bind(&r, 1, 1, TM_LEASE_JOIN, 0, b0.token, NULL, &status), -EBUSY); /* slot 1 is FREE */
    CHECK_EQ_INT(bind(&r, 1, 8, TM_LEASE_NEW, 0, NULL, NULL, &status), -EINVAL);  /* 8 slots */
    CHECK_EQ_INT(bind(&r, 1, 1, 3, 0, NULL, NULL, &status), -EINVAL);             /* no such mode */
    CHECK_EQ_INT(bind(&r, 1, 1, TM_LEASE_FORK, 1, b0.token, NULL, &status), -EINVAL); /* own parent */
    /* A JOIN serves the slot as it is: a cap there is refused. */
    struct tm_lease_bind_in bad = { .slot = 0, .mode = TM_LEASE_JOIN, .limit_pages = 1 };
    memcpy(bad.token, b0.token, sizeof(bad.token));
    struct tm_lease_bind_out out;
    struct tm_ecall_call c = { .ecall = TM_ECALL_LEASE_BIND, .in = &bad, .in_len = sizeof(bad),
                               .out = &out, .out_cap = sizeof(out) };
    CHECK_EQ_INT(run(&r, 1, NULL, &c), -EINVAL);
    CHECK_EQ_INT(c.status, TM_STATUS_BAD_ARGUMENTS);
    bad.limit_pages = 0;
    c.in_len = sizeof(bad) - 1;
    CHECK_EQ_INT(run(&r, 1, NULL, &c), -EINVAL);
    c.in_len = sizeof(bad);
    c.out_cap = sizeof(out) - 1;
    CHECK_EQ_INT(run(&r, 1, NULL, &c), -EINVAL);
    CHECK_EQ_INT(run_main(&r, 1, NULL, "world", &cap, NULL), -EACCES);   /* still unbound */

    /* JOIN: a second thread of the same container. */
    CHECK_EQ_INT(bind(&r, 1, 0, TM_LEASE_JOIN, 0, wrong, NULL, &status), -EACCES);
    CHECK_EQ_INT(status, TM_STATUS_NOT_LEASED);
    REQUIRE(bind(&r, 1, 0, TM_LEASE_JOIN, 0, b0.token, &b1, NULL) == 0);
    CHECK(memcmp(b1.token, b0.token, sizeof(b0.token)) == 0);
    CHECK_EQ_INT(b1.generation, 1);
    CHECK_EQ_INT(run_main(&r, 1, b0.token, "--state", &cap, NULL), 0);
    CHECK(strcmp(cap.buf, "shared runs 2, slot runs 2, slot 0\n") == 0);

    /* Unbinding: the token, then the last thread releases the slot. */
    struct tm_lease_unbind_out u;
    CHECK_EQ_INT(unbind(&r, 1, wrong, &u, &status), -EACCES);
    REQUIRE(unbind(&r, 1, b0.token, &u, NULL) == 0);
    CHECK_EQ_INT(u.slot, 0);
    CHECK_EQ_INT(u.released, 0);
    CHECK_EQ_INT(run_main(&r, 1, b0.token, "world", &cap, NULL), -EACCES);   /* gone from TCS 1 */
    CHECK_EQ_INT(run_main(&r, 0, b0.token, "world", &cap, NULL), 0);         /* not from TCS 0 */
    REQUIRE(unbind(&r, 0, b0.token, &u, NULL) == 0);
    CHECK_EQ_INT(u.slot, 0);
    CHECK_EQ_INT(u.released, 1);
    CHECK(u.committed > 0 && u.committed % 4096 == 0 && u.committed <= regions(&r)->slot_size);
    CHECK_EQ_INT(run_main(&r, 0, b0.token, "world", &cap, NULL), -EACCES);
    CHECK_EQ_INT(bind(&r, 0, 0, TM_LEASE_NEW, 0, NULL, NULL, &status), -EBUSY);   /* RELEASED, not FREE */
    CHECK_EQ_INT(bind(&r, 0, 0, TM_LEASE_JOIN, 0, b0.token, NULL, &status), -EBUSY);
    stop(&r);
}

/* Does the slot's committed memory hold the 8 bytes of value anywhere? */
static bool slot_holds(struct running *r, uint32_t slot, uint64_t committed, uint64_t value)
{
    const uint8_t *p = (const uint8_t *)(uintptr_t)(r->enclave->base + slot_offset(r, slot));
    for (uint64_t i = 0; i + 8 <= committed; i += 8)
        if (memcmp(p + i, &value, 8) == 0)
            return true;
    return false;
}

static void test_slot_allocator_expands_and_is_reset(void)
{
    struct running r;
    tm_error err;
    REQUIRE(start(&r, &err) == 0);
    struct tm_lease_bind_out b;
    REQUIRE(bind(&r, 2, 3, TM_LEASE_NEW, 0, NULL, &b, NULL) == 0);
    uint64_t slot_info[2];
    struct tm_ecall_call info = { .ecall = HELLO_SLOT, .out = slot_info, .out_cap = sizeof(slot_info) };
    REQUIRE(run(&r, 2, b.token, &info) == 0);
    CHECK_EQ_INT((int64_t)slot_info[0], 3);
    uint64_t first = slot_info[1];
    CHECK(first > 0);                                       /* the ecall's own copies live there */

    uint64_t a = 0, big = 0, shared = 0;
    CHECK_EQ_INT(run_u64(&r, 2, b.token, HELLO_ALLOC, &(uint64_t){ 1000 }, &a), 0);
    CHECK(in_slot(&r, 3, a));
    CHECK_EQ_INT(run_u64(&r, 2, b.token, HELLO_ALLOC, &(uint64_t){ 600 * 1024 }, &big), 0);
    CHECK(in_slot(&r, 3, big) && in_slot(&r, 3, big + 600 * 1024 - 1));
    REQUIRE(run(&r, 2, b.token, &info) == 0);
    CHECK(slot_info[1] > first && slot_info[1] >= 600 * 1024);   /* grew: expand */
    CHECK_EQ_INT(run_u64(&r, 2, b.token, HELLO_ALLOC, &(uint64_t){ 2 << 20 }, NULL), -ENOMEM);
    CHECK_EQ_INT(run_u64(&r, 2, b.token, HELLO_SHARED_ALLOC, &(uint64_t){ 64 }, &shared), 0);
    uint64_t heap = r.enclave->base + regions(&r)->heap_offset;
    CHECK(shared >= heap && shared < heap + regions(&r)->heap_size);

    /* A secret in the slot; the slot is released and trimmed without the
     * host's EMODT, so its pages stay: the next owner must not see it. */
    const uint64_t secret = 0x5ec7e75ec7e7f00dULL;
    CHECK_EQ_INT(run_u64(&r, 2, b.token, HELLO_SET, &secret, NULL), 0);
    struct tm_lease_unbind_out u;
    REQUIRE(unbind(&r, 2, b.token, &u, NULL) == 0 && u.released == 1);
    CHECK(u.committed >= slot_info[1]);
    CHECK(slot_holds(&r, 3, u.committed, secret));
    uint64_t pages = 99;
    int32_t status;
    CHECK_EQ_INT(trim(&r, 2, 3, &pages, &status), 0);       /* refused trims are counted out */
    CHECK_EQ_INT(pages, 0);
    CHECK_EQ_INT(trim(&r, 2, 3, &pages, &status), -EBUSY);  /* FREE now */

    struct tm_lease_bind_out b2;
    REQUIRE(bind(&r, 1, 3, TM_LEASE_NEW, 0, NULL, &b2, NULL) == 0);
    CHECK_EQ_INT(b2.generation, 2);
    CHECK(memcmp(b2.token, b.token, sizeof(b.token)) != 0);
    uint64_t value = 1;
    CHECK_EQ_INT(run_u64(&r, 1, b2.token, HELLO_GET, NULL, &value), 0);
    CHECK_EQ_INT(value, 0);                                 /* a fresh root, not the old state */
    CHECK_EQ_INT(run_u64(&r, 1, b2.token, HELLO_ALLOC, &(uint64_t){ 900 * 1024 }, NULL), 0);
    REQUIRE(run(&r, 1, b2.token, &info) == 0);
    CHECK(!slot_holds(&r, 3, slot_info[1], secret));        /* reused pages were zeroed */
    CHECK_EQ_INT(run_u64(&r, 2, b.token, HELLO_GET, NULL, NULL), -EACCES);   /* the old token */
    stop(&r);
}

static int bind_capped(struct running *r, uint32_t tcs, uint32_t slot, uint32_t mode, uint32_t parent,
                       uint32_t limit_pages, const uint8_t *token, struct tm_lease_bind_out *out)
{
    struct tm_lease_bind_in in = { .slot = slot, .mode = mode, .parent_slot = parent,
                                   .limit_pages = limit_pages };
    if (token)
        memcpy(in.token, token, sizeof(in.token));
    struct tm_ecall_call c = { .ecall = TM_ECALL_LEASE_BIND, .in = &in, .in_len = sizeof(in),
                               .out = out, .out_cap = sizeof(*out) };
    return run(r, tcs, NULL, &c);
}

/* A capped slot: the enclave alone holds the cap (every page of the slot is
 * there to accept: start() added them all), malloc fails past it and never
 * a page beyond it is accepted; a cap larger than the slot is the slot; a
 * forked child has a cap of its own. */
static void test_slot_cap(void)
{
    struct running r;
    tm_error err;
    REQUIRE(start(&r, &err) == 0);
    const uint64_t cap = 32 * 4096;
    struct tm_lease_bind_out b, j, big, child;
    REQUIRE(bind_capped(&r, 0, 1, TM_LEASE_NEW, 0, (uint32_t)(cap / 4096), NULL, &b) == 0);
    CHECK_EQ_INT(bind_capped(&r, 1, 1, TM_LEASE_JOIN, 0, 8, b.token, &j), -EINVAL);
    REQUIRE(bind_capped(&r, 1, 1, TM_LEASE_JOIN, 0, 0, b.token, &j) == 0);
    uint64_t a = 0;
    CHECK_EQ_INT(run_u64(&r, 0, b.token, HELLO_ALLOC, &(uint64_t){ 64 * 1024 }, &a), 0);
    CHECK(in_slot(&r, 1, a) && a + 64 * 1024 <= r.enclave->base + slot_offset(&r, 1) + cap);
    CHECK_EQ_INT(run_u64(&r, 0, b.token, HELLO_ALLOC, &(uint64_t){ cap }, NULL), -ENOMEM);
    CHECK_EQ_INT(run_u64(&r, 1, b.token, HELLO_ALLOC, &(uint64_t){ 100 * 1024 }, NULL), -ENOMEM);
    CHECK_EQ_INT(run_u64(&r, 1, b.token, HELLO_ALLOC, &(uint64_t){ 16 * 1024 }, NULL), 0);   /* still fits */
    uint64_t slot_info[2];
    struct tm_ecall_call info = { .ecall = HELLO_SLOT, .out = slot_info, .out_cap = sizeof(slot_info) };
    REQUIRE(run(&r, 1, b.token, &info) == 0);
    CHECK(slot_info[1] > 64 * 1024 && slot_info[1] <= cap);
    struct tm_lease_unbind_out u;
    REQUIRE(unbind(&r, 1, b.token, &u, NULL) == 0);
    REQUIRE(unbind(&r, 0, b.token, &u, NULL) == 0 && u.released == 1);
    CHECK(u.committed > 64 * 1024 && u.committed <= cap);

    /* Beyond the slot: the whole slot (1 MiB), no more. */
    REQUIRE(bind_capped(&r, 2, 2, TM_LEASE_NEW, 0, UINT32_MAX, NULL, &big) == 0);
    CHECK_EQ_INT(run_u64(&r, 2, big.token, HELLO_ALLOC, &(uint64_t){ 600 * 1024 }, NULL), 0);
    CHECK_EQ_INT(run_u64(&r, 2, big.token, HELLO_ALLOC, &(uint64_t){ 1 << 20 }, NULL), -ENOMEM);
    /* A forked child of it, capped at 16 pages of its own slot. */
    REQUIRE(bind_capped(&r, 3, 3, TM_LEASE_FORK, 2, 16, big.token, &child) == 0);
    CHECK_EQ_INT(run_u64(&r, 3, child.token, HELLO_ALLOC, &(uint64_t){ 32 * 1024 }, NULL), 0);
    CHECK_EQ_INT(run_u64(&r, 3, child.token, HELLO_ALLOC, &(uint64_t){ 64 * 1024 }, NULL), -ENOMEM);
    REQUIRE(unbind(&r, 3, child.token, &u, NULL) == 0 && u.released == 1);
    CHECK(u.committed <= 16 * 4096);
    stop(&r);
}

static void test_shared_counter_and_private_slot_state(void)
{
    struct running r;
    tm_error err;
    REQUIRE(start(&r, &err) == 0);
    struct tm_lease_bind_out a, b;
    REQUIRE(bind(&r, 0, 4, TM_LEASE_NEW, 0, NULL, &a, NULL) == 0);
    REQUIRE(bind(&r, 1, 5, TM_LEASE_NEW, 0, NULL, &b, NULL) == 0);
    struct capture cap;
    CHECK_EQ_INT(run_main(&r, 0, a.token, "--state", &cap, NULL), 0);
    CHECK(strcmp(cap.buf, "shared runs 1, slot runs 1, slot 4\n") == 0);
    CHECK_EQ_INT(run_main(&r, 1, b.token, "--state", &cap, NULL), 0);
    CHECK(strcmp(cap.buf, "shared runs 2, slot runs 1, slot 5\n") == 0);
    CHECK_EQ_INT(run_main(&r, 0, a.token, "--state", &cap, NULL), 0);
    CHECK(strcmp(cap.buf, "shared runs 3, slot runs 2, slot 4\n") == 0);
    CHECK_EQ_INT(run_u64(&r, 0, a.token, HELLO_SET, &(uint64_t){ 11 }, NULL), 0);
    CHECK_EQ_INT(run_u64(&r, 1, b.token, HELLO_SET, &(uint64_t){ 22 }, NULL), 0);
    uint64_t va = 0, vb = 0, sa = 0, sb = 0;
    CHECK_EQ_INT(run_u64(&r, 0, a.token, HELLO_GET, NULL, &va), 0);
    CHECK_EQ_INT(run_u64(&r, 1, b.token, HELLO_GET, NULL, &vb), 0);
    CHECK_EQ_INT(va, 11);
    CHECK_EQ_INT(vb, 22);
    CHECK_EQ_INT(run_u64(&r, 0, a.token, HELLO_SHARED, NULL, &sa), 0);
    CHECK_EQ_INT(run_u64(&r, 1, b.token, HELLO_SHARED, NULL, &sb), 0);
    CHECK_EQ_INT(sa, 3);
    CHECK_EQ_INT(sb, 3);
    /* One container's token does not open the other's thread. */
    CHECK_EQ_INT(run_u64(&r, 1, a.token, HELLO_GET, NULL, NULL), -EACCES);
    stop(&r);
}

static void test_fork_child_sees_parent_root(void)
{
    struct running r;
    tm_error err;
    REQUIRE(start(&r, &err) == 0);
    struct tm_lease_bind_out p, c;
    int32_t status;
    REQUIRE(bind(&r, 2, 6, TM_LEASE_NEW, 0, NULL, &p, NULL) == 0);
    CHECK_EQ_INT(run_u64(&r, 2, p.token, HELLO_SET, &(uint64_t){ 77 }, NULL), 0);
    uint8_t wrong[TM_LEASE_TOKEN_SIZE] = { 1 };
    CHECK_EQ_INT(bind(&r, 3, 5, TM_LEASE_FORK, 6, wrong, NULL, &status), -EACCES);
    CHECK_EQ_INT(status, TM_STATUS_NOT_LEASED);
    CHECK_EQ_INT(bind(&r, 3, 5, TM_LEASE_FORK, 4, p.token, NULL, &status), -EBUSY);   /* 4 is FREE */
    REQUIRE(bind(&r, 3, 5, TM_LEASE_FORK, 6, p.token, &c, NULL) == 0);
    CHECK(memcmp(c.token, p.token, sizeof(p.token)) != 0);

    struct tm_ecall_call hook = { .ecall = TM_ECALL_FORK_CHILD };
    CHECK_EQ_INT(run(&r, 3, p.token, &hook), -EACCES);      /* the child's own token */
    struct tm_ecall_call hook2 = { .ecall = TM_ECALL_FORK_CHILD };
    CHECK_EQ_INT(run(&r, 3, c.token, &hook2), 0);
    CHECK_EQ_INT(hook2.retval, 1);                          /* it found the parent's state */
    uint64_t value = 0;
    CHECK_EQ_INT(run_u64(&r, 3, c.token, HELLO_GET, NULL, &value), 0);
    CHECK_EQ_INT(value, 77);
    CHECK_EQ_INT(run_u64(&r, 3, c.token, HELLO_SET, &(uint64_t){ 78 }, NULL), 0);
    CHECK_EQ_INT(run_u64(&r, 2, p.token, HELLO_GET, NULL, &value), 0);
    CHECK_EQ_INT(value, 77);                                /* the child wrote its own copy */
    struct tm_ecall_call not_forked = { .ecall = TM_ECALL_FORK_CHILD };
    CHECK_EQ_INT(run(&r, 2, p.token, &not_forked), -EBUSY);
    CHECK_EQ_INT(not_forked.status, TM_STATUS_SLOT_STATE);

    /* The parent's pages stay while the child may read them. */
    struct tm_lease_unbind_out u;
    REQUIRE(unbind(&r, 2, p.token, &u, NULL) == 0 && u.released == 1);
    CHECK_EQ_INT(trim(&r, 2, 6, NULL, &status), -EBUSY);
    CHECK_EQ_INT(status, TM_STATUS_SLOT_STATE);
    struct tm_slot_trim_in in6 = { .slot = 6 };
    struct tm_slot_trim_out out6;
    struct tm_ecall_call bound_trim = { .ecall = TM_ECALL_SLOT_TRIM, .in = &in6, .in_len = sizeof(in6),
                                        .out = &out6, .out_cap = sizeof(out6) };
    CHECK_EQ_INT(run(&r, 3, c.token, &bound_trim), -EBUSY);  /* and a bound TCS never trims */
    CHECK_EQ_INT(bound_trim.status, TM_STATUS_SLOT_STATE);
    REQUIRE(unbind(&r, 3, c.token, &u, NULL) == 0 && u.released == 1);
    CHECK_EQ_INT(u.slot, 5);
    CHECK_EQ_INT(trim(&r, 2, 6, NULL, NULL), 0);
    CHECK_EQ_INT(trim(&r, 3, 5, NULL, NULL), 0);
    stop(&r);
}

static void test_trim_after_emodt(void)
{
    struct running r;
    tm_error err = { 0 };
    REQUIRE(start(&r, &err) == 0);
    const struct tm_backend_ops *ops = r.enclave->ops;
    if (ops->trim == NULL || ops->remove == NULL) {
        stop(&r);
        SKIP("the sim backend has no EMODT/EREMOVE (trim, remove) yet");
    }
    struct tm_lease_bind_out b;
    REQUIRE(bind(&r, 0, 2, TM_LEASE_NEW, 0, NULL, &b, NULL) == 0);
    CHECK_EQ_INT(run_u64(&r, 0, b.token, HELLO_ALLOC, &(uint64_t){ 200 * 1024 }, NULL), 0);
    struct tm_lease_unbind_out u;
    REQUIRE(unbind(&r, 0, b.token, &u, NULL) == 0 && u.released == 1);
    REQUIRE(u.committed >= 200 * 1024);
    CHECK(ops->trim(r.enclave->be, slot_offset(&r, 2), u.committed, &err) == 0);
    uint64_t pages = 0, removed = 0;
    CHECK_EQ_INT(trim(&r, 1, 2, &pages, NULL), 0);
    CHECK_EQ_INT(pages, u.committed / 4096);
    CHECK(ops->remove(r.enclave->be, slot_offset(&r, 2), u.committed, &removed, &err) == 0);
    CHECK_EQ_INT(removed, pages);
    stop(&r);
}

/* Whatever a dead owner left in a slot, the next owner neither faults nor
 * sees it: EREMOVE takes a page whose EAUG was cut short (the sim's EAUG is
 * not one instruction); a page already accepted that the enclave does not
 * know of (past its dirty end), or a page trimmed but not removed, stops the
 * slot's growth there: malloc fails cleanly. The refused accepted page lies
 * within the reach the unbind reports, so the next trim takes it. */
static void test_handover_any_page_state(void)
{
    struct running r;
    tm_error err = { 0 };
    REQUIRE(start(&r, &err) == 0);
    const struct tm_backend_ops *ops = r.enclave->ops;
    struct tm_sim_enclave *se = tm_sim_enclave_of(r.enclave->be);
    uint64_t base = slot_offset(&r, 4), size = regions(&r)->slot_size, removed = 0;
    REQUIRE(ops->remove(r.enclave->be, base, size, &removed, &err) == 0);   /* the pre-added pages */
    CHECK_EQ_INT(ops->epc_pages_in(r.enclave->be, base, size), 0);
    const struct tm_sim_epcm half = { .valid = 1, .type = SGX_PT_REG, .pending = 1 };
    __atomic_store(&se->epcm[base / 4096], &half, __ATOMIC_RELEASE);
    CHECK(ops->remove(r.enclave->be, base, size, &removed, &err) == 0);
    CHECK_EQ_INT(removed, 1);
    CHECK_EQ_INT(ops->epc_pages_in(r.enclave->be, base, size), 0);

    REQUIRE(pre_add_slot_pages(&r, 4, &err) == 0);
    uint64_t stranger = base + 20 * 4096, trimmed = stranger + 4096;
    const struct tm_sim_epcm accepted = { .valid = 1, .type = SGX_PT_REG,
                                          .perm = SGX_SECINFO_R | SGX_SECINFO_W };
    const struct tm_sim_epcm half_trim = { .valid = 1, .type = SGX_PT_TRIM, .modified = 1 };
    __atomic_store(&se->epcm[stranger / 4096], &accepted, __ATOMIC_RELEASE);
    __atomic_store(&se->epcm[trimmed / 4096], &half_trim, __ATOMIC_RELEASE);
    memset(se->cpu_view + stranger, 0x5e, 4096);

    struct tm_lease_bind_out b;
    REQUIRE(bind(&r, 0, 4, TM_LEASE_NEW, 0, NULL, &b, NULL) == 0);
    uint64_t a = 0, slot_info[2] = { 0 };
    CHECK_EQ_INT(run_u64(&r, 0, b.token, HELLO_ALLOC, &(uint64_t){ 40 * 1024 }, &a), 0);
    CHECK(in_slot(&r, 4, a));
    CHECK_EQ_INT(run_u64(&r, 0, b.token, HELLO_ALLOC, &(uint64_t){ 100 * 1024 }, NULL), -ENOMEM);
    struct tm_ecall_call info = { .ecall = HELLO_SLOT, .out = slot_info, .out_cap = sizeof(slot_info) };
    REQUIRE(run(&r, 0, b.token, &info) == 0);
    CHECK_EQ_INT(slot_info[1], 20 * 4096);                  /* grew up to the stranger, not over it */
    struct capture cap;
    CHECK_EQ_INT(run_main(&r, 0, b.token, "world", &cap, NULL), 0);
    struct tm_lease_unbind_out u;
    REQUIRE(unbind(&r, 0, b.token, &u, NULL) == 0 && u.released == 1);
    CHECK_EQ_INT(u.committed, 21 * 4096);                   /* the reach: the stranger too */
    CHECK(ops->trim(r.enclave->be, base, u.committed, &err) == 0);
    uint64_t pages = 0;
    CHECK_EQ_INT(trim(&r, 1, 4, &pages, NULL), 0);
    CHECK_EQ_INT(pages, 21);
    CHECK_EQ_INT(ops->remove(r.enclave->be, base, size, &removed, &err), -EBUSY);   /* the trimmed one */
    CHECK_EQ_INT(ops->epc_pages_in(r.enclave->be, base, trimmed - base), 0);
    CHECK_EQ_INT(ops->epc_pages_in(r.enclave->be, base, trimmed + 4096 - base), 1);   /* EREMOVE stopped there */
    stop(&r);
}

/* Expand faults when no page can be added (EACCEPT of a page never EAUG'd,
 * outside any view that may grow): the ecall ends with the fault, the
 * thread and the slot's allocator stay usable. */
static void test_expand_fault_keeps_the_thread(void)
{
    struct running r;
    tm_error err = { 0 };
    REQUIRE(start(&r, &err) == 0);
    struct tm_lease_bind_out b;
    REQUIRE(bind(&r, 0, 7, TM_LEASE_NEW, 0, NULL, &b, NULL) == 0);
    struct capture cap;
    int ret = run_main(&r, 0, b.token, "world", &cap, NULL);
    if (ret == 0) {
        stop(&r);
        SKIP("the backend added the slot page on the fault of its EACCEPT: nothing faults");
    }
    CHECK_EQ_INT(ret, -EFAULT);
    struct tm_ecall_call ping = { .ecall = TM_ECALL_PING };
    CHECK_EQ_INT(run(&r, 0, b.token, &ping), 0);            /* no exception left pending */
    REQUIRE(pre_add_slot_pages(&r, 7, &err) == 0);
    CHECK_EQ_INT(run_main(&r, 0, b.token, "world", &cap, NULL), 0);   /* the arena is not locked */
    CHECK(strcmp(cap.buf, "hello, world\n") == 0);
    stop(&r);
}

static long die_write(void *ctx, int fd, const void *buf, size_t len)
{
    (void)ctx, (void)fd, (void)buf, (void)len;
    _exit(0);
}

/* A process dies while its ecall waits in an ocall: the TCS is free again
 * but the thread's ecall context is not. Only UNBIND with the token drops it. */
static void test_unbind_drops_ecall_of_dead_process(void)
{
    struct running r;
    tm_error err;
    REQUIRE(start(&r, &err) == 0);
    struct tm_lease_bind_out b;
    REQUIRE(bind(&r, 0, 1, TM_LEASE_NEW, 0, NULL, &b, NULL) == 0);
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {   /* dies in the write ocall of main: the enclave is shared memory */
        static const char argv[] = "hello.elf\0world";
        struct tm_ecall_call c = { .ecall = TM_ECALL_MAIN, .in = argv, .in_len = sizeof(argv),
                                   .write = die_write };
        run(&r, 0, b.token, &c);
        _exit(3);
    }
    int wstatus;
    REQUIRE(waitpid(pid, &wstatus, 0) == pid);
    REQUIRE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);   /* died in the ocall */
    struct capture cap;
    int32_t status;
    CHECK_EQ_INT(run_main(&r, 0, b.token, "world", &cap, &status), -EBUSY);
    CHECK_EQ_INT(status, TM_STATUS_BUSY);
    uint8_t wrong[TM_LEASE_TOKEN_SIZE] = { 0 };
    CHECK_EQ_INT(unbind(&r, 0, wrong, NULL, &status), -EACCES);
    CHECK_EQ_INT(status, TM_STATUS_NOT_LEASED);
    CHECK_EQ_INT(run_main(&r, 0, b.token, "world", &cap, &status), -EBUSY);   /* still there */
    struct tm_lease_unbind_out u;
    REQUIRE(unbind(&r, 0, b.token, &u, NULL) == 0);
    CHECK_EQ_INT(u.released, 1);
    CHECK_EQ_INT(u.slot, 1);
    CHECK_EQ_INT(trim(&r, 0, 1, NULL, NULL), 0);
    struct tm_lease_bind_out b2;
    REQUIRE(bind(&r, 0, 1, TM_LEASE_NEW, 0, NULL, &b2, NULL) == 0);
    CHECK_EQ_INT(run_main(&r, 0, b2.token, "again", &cap, NULL), 0);
    CHECK(strcmp(cap.buf, "hello, again\n") == 0);
    stop(&r);
}

int main(void)
{
    char dir[] = "/tmp/teemate-slots-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    setenv("TEEMATE_STATE_DIR", dir, 1);
    RUN(test_private_enclave_works_as_before);
    RUN(test_bind_checks_every_entry);
    RUN(test_slot_allocator_expands_and_is_reset);
    RUN(test_slot_cap);
    RUN(test_shared_counter_and_private_slot_state);
    RUN(test_fork_child_sees_parent_root);
    RUN(test_trim_after_emodt);
    RUN(test_handover_any_page_state);
    RUN(test_expand_fault_keeps_the_thread);
    RUN(test_unbind_drops_ecall_of_dead_process);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    TEST_EXIT();
}
