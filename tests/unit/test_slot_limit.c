/* The per-container enclave memory cap (attach --enclave-memory), end to end
 * through teemated (tests/unit/daemon_fixture.h) on the slotdata image
 * (examples/slotdata: FILL mallocs and fills its data in the slot): a capped
 * container's malloc fails cleanly past the cap and it stays usable, INSPECT
 * reports its pages within the cap and the cap itself, a cap is rounded up
 * and clamped to the slot, a forked child is capped as its parent, and an
 * uncapped container fills what the capped one could not. */
#include <sys/mman.h>

#include "../../examples/slotdata/slotdata.h"
#include "daemon_fixture.h"
#include "shared/attach.h"

#define KiB 1024ULL
#define MiB (1024 * KiB)

static int64_t fill(struct tm_attachment *a, uint32_t thread, uint64_t bytes)
{
    struct tm_slotdata_fill f = { .bytes = bytes, .seed = 7 };
    uint64_t sum = 0;
    struct tm_ecall_call c = { .ecall = TM_SLOTDATA_FILL, .in = &f, .in_len = sizeof f, .out = &sum,
                               .out_cap = sizeof sum };
    tm_error err = { 0 };
    int ret = tm_attach_ecall(a, thread, &c, &err);
    if (ret < 0)
        fprintf(stderr, "  FILL of %llu bytes: %s\n", (unsigned long long)bytes, err.msg);
    return ret < 0 ? ret : c.retval;
}

/* The bytes of data the slot holds now (CHECKSUM). */
static int64_t data_bytes(struct tm_attachment *a)
{
    struct tm_slotdata_sum s = { 0 };
    struct tm_ecall_call c = { .ecall = TM_SLOTDATA_CHECKSUM, .out = &s, .out_cap = sizeof s };
    tm_error err = { 0 };
    int ret = tm_attach_ecall(a, 0, &c, &err);
    return ret < 0 ? ret : c.retval < 0 ? c.retval : (int64_t)s.bytes;
}

static struct tm_attachment *attach(uint64_t slot_limit, uint32_t threads)
{
    struct tm_attach_options o = { .socket_path = sock, .no_autostart = true, .threads = threads,
                                   .slot_limit = slot_limit };
    struct tm_attachment *a = NULL;
    tm_error err = { 0 };
    if (tm_attach("data", &o, &a, &err) < 0)
        fprintf(stderr, "  attach: %s\n", err.msg);
    return a;
}

/* This process's entry in an INSPECT of "data" (the first with this pid and slot). */
static struct tm_attached_info mine(int c, const struct tm_attachment *a)
{
    static struct tm_enclave_info info;
    inspect(c, "data", &info);
    for (uint32_t i = 0; i < info.nattached; i++)
        if (info.attached[i].attach_id == a->attach_id)
            return info.attached[i];
    return (struct tm_attached_info){ .pid = -1 };
}

/* The length of this process's view of its own slot. */
static uint64_t slot_view(const struct tm_attachment *a)
{
    for (size_t i = 0; i < a->nviews; i++)
        if (a->views[i].offset == a->slot_offset)
            return a->views[i].len;
    return 0;
}

static int start_data(void)
{
    daemon_up();
    int c = conn();
    tm_error err = { 0 };
    REQUIRE(c >= 0);
    REQUIRE(create(c, "data", "slotdata", &err) == 0);
    return c;
}

/* 1 MiB cap: 256 KiB fits, 4 MiB is refused by malloc inside (the image
 * reports -ENOMEM) and the container carries on. INSPECT counts every EPC
 * page of the slot, and the cap bounds them exactly, with no allowance: the
 * slot's allocator is all that accepts pages there (stacks, TCS and SSA
 * pages are per-thread ranges outside the slots), it never grows past the
 * cap (its chunk is clamped to the room left), and the process maps no
 * more of the slot than the cap, so nothing can EAUG a page beyond it. */
static void test_capped_fill(void)
{
    int c = start_data();
    struct tm_enclave_info before, after;
    inspect(c, "data", &before);
    struct tm_attachment *a = attach(1 * MiB, 2);
    REQUIRE(a != NULL);
    CHECK_EQ_INT(a->slot_limit, 1 * MiB);
    CHECK_EQ_INT(slot_view(a), 1 * MiB);   /* the host's view stops at the cap too */
    CHECK_EQ_INT(fill(a, 0, 256 * KiB), 0);
    CHECK_EQ_INT(data_bytes(a), 256 * KiB);
    CHECK_EQ_INT(fill(a, 0, 4 * MiB), -ENOMEM);
    CHECK_EQ_INT(data_bytes(a), 0);                    /* dropped, not half-written */
    CHECK_EQ_INT(fill(a, 1, 4 * MiB), -ENOMEM);        /* the second thread: the same cap */
    CHECK_EQ_INT(fill(a, 1, 128 * KiB), 0);            /* still usable */
    CHECK_EQ_INT(fill(a, 0, 768 * KiB), 0);            /* most of the cap */
    CHECK_EQ_INT(data_bytes(a), 768 * KiB);
    struct tm_attached_info m = mine(c, a);
    CHECK_EQ_INT(m.pid, getpid());
    CHECK_EQ_INT(m.epc_limit_pages, 256);
    CHECK(m.epc_pages >= 768 * KiB / 4096 && m.epc_pages <= 256);
    tm_detach(a);
    inspect(c, "data", &after);
    CHECK_EQ_INT(after.nattached, 0);
    CHECK_EQ_INT(after.epc_total, before.epc_total);
    close(c);
    CHECK(daemon_down());
}

/* No cap: the same 4 MiB fits; INSPECT says no cap. */
static void test_uncapped_fill(void)
{
    int c = start_data();
    struct tm_attachment *a = attach(0, 1);
    REQUIRE(a != NULL);
    CHECK_EQ_INT(a->slot_limit, 0);
    CHECK_EQ_INT(slot_view(a), a->slot_size);
    CHECK_EQ_INT(fill(a, 0, 4 * MiB), 0);
    CHECK_EQ_INT(data_bytes(a), 4 * MiB);
    struct tm_attached_info m = mine(c, a);
    CHECK_EQ_INT(m.epc_limit_pages, 0);
    CHECK(m.epc_pages > 4 * MiB / 4096);
    tm_detach(a);
    close(c);
    CHECK(daemon_down());
}

/* A cap is rounded up to pages, and one beyond the slot is the slot (one
 * attachment at a time: a process maps an enclave once). */
static void test_cap_rounded_and_clamped(void)
{
    int c = start_data();
    struct tm_attachment *tiny = attach(1, 1);
    REQUIRE(tiny != NULL);
    CHECK_EQ_INT(tiny->slot_limit, 4096);
    CHECK_EQ_INT(mine(c, tiny).epc_limit_pages, 1);
    CHECK_EQ_INT(fill(tiny, 0, 64), 0);                /* the root, the copies and 64 bytes fit a page */
    CHECK_EQ_INT(fill(tiny, 0, 8 * KiB), -ENOMEM);
    CHECK(mine(c, tiny).epc_pages <= 1);
    tm_detach(tiny);
    struct tm_attachment *huge = attach(64ULL << 30, 1);
    REQUIRE(huge != NULL);
    CHECK_EQ_INT(huge->slot_limit, huge->slot_size);
    CHECK_EQ_INT(mine(c, huge).epc_limit_pages, huge->slot_size / 4096);
    CHECK_EQ_INT(fill(huge, 0, 4 * MiB), 0);
    tm_detach(huge);
    close(c);
    CHECK(daemon_down());
}

struct child_report {
    int64_t attach_ret;
    uint64_t slot_limit, parent_view;
    int64_t small, big;
};

/* A forked child (FORK) gets a slot of its own with the parent's cap, and
 * sees the parent's slot read-only up to the parent's cap. */
static void test_fork_child_capped(void)
{
    int c = start_data();
    struct tm_attachment *parent = attach(1 * MiB, 1), *child = NULL;
    REQUIRE(parent != NULL);
    CHECK_EQ_INT(fill(parent, 0, 512 * KiB), 0);
    int p[2], go[2];
    REQUIRE(pipe(p) == 0 && pipe(go) == 0);
    tm_error err = { 0 };
    pid_t pid = tm_attach_fork(parent, &child, &err);
    if (pid == 0) {
        struct child_report r = { .attach_ret = child ? 0 : -1 };
        if (child) {
            r.slot_limit = child->slot_limit;
            uint64_t parent_offset = child->regions.slots_offset +
                                     (uint64_t)child->parent_slot * child->slot_size;
            for (size_t i = 0; i < child->nviews; i++)
                if (child->views[i].offset == parent_offset && child->views[i].prot == PROT_READ)
                    r.parent_view = child->views[i].len;
            r.small = fill(child, 0, 256 * KiB);
            r.big = fill(child, 0, 4 * MiB);
        }
        char g;
        if (write(p[1], &r, sizeof r) != sizeof r || read(go[0], &g, 1) != 1)
            _exit(1);
        tm_detach(child);
        tm_detach(parent);   /* emptied by the fork: only frees */
        _exit(0);
    }
    REQUIRE(pid > 0);
    struct child_report r = { .attach_ret = -1 };
    CHECK(read(p[0], &r, sizeof r) == sizeof r);
    CHECK_EQ_INT(r.attach_ret, 0);
    CHECK_EQ_INT(r.slot_limit, 1 * MiB);
    CHECK_EQ_INT(r.parent_view, 1 * MiB);
    CHECK_EQ_INT(r.small, 0);
    CHECK_EQ_INT(r.big, -ENOMEM);
    static struct tm_enclave_info info;
    inspect(c, "data", &info);
    CHECK_EQ_INT(info.nattached, 2);
    for (uint32_t i = 0; i < info.nattached; i++) {
        CHECK_EQ_INT(info.attached[i].epc_limit_pages, 256);
        CHECK(info.attached[i].epc_pages <= 256);
    }
    REQUIRE(write(go[1], "g", 1) == 1);
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    tm_detach(parent);
    close(p[0]);
    close(p[1]);
    close(go[0]);
    close(go[1]);
    close(c);
    CHECK(daemon_down());
}

int main(void)
{
    fixture_init("slot-limit");
    if (access(image("slotdata"), R_OK) != 0) {
        printf("skip - test_slot_limit: the example images are not built (%s)\n", image("slotdata"));
        return 0;
    }
    RUN(test_capped_fill);
    fixture_between();
    RUN(test_uncapped_fill);
    fixture_between();
    RUN(test_cap_rounded_and_clamped);
    fixture_between();
    RUN(test_fork_child_capped);
    fixture_finish();
    TEST_EXIT();
}
