/* One sim enclave, many processes, each with its own view: attach reserves
 * ELRANGE and maps nothing; map() makes views whose cap bounds each page's
 * EPCM permissions; a page outside the views is not mapped (enclave code
 * touching it gets an AEX #PF, EACCEPT there faults, EENTER of a TCS there is
 * refused); EACCEPT in a writable view EAUGs on demand (expand); trimmed pages
 * are EACCEPTed and EREMOVEd, and their memory goes back; a TCS left busy by
 * a killed process is reclaimed. The enclave is a small hand-written program,
 * measured, signed and EINITed here. Attached processes are forked children
 * that drop what fork gave them and attach from the two fds alone. */
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/sim.h"
#include "enclave/key.h"
#include "enclave/measure.h"
#include "enclave/sigstruct.h"
#include "harness.h"
#include "probe.h"

#define PAGE SGX_PAGE_SIZE
#define ENCLAVE_SIZE 0x40000ULL
#define CODE_OFF 0x0ULL
#define DATA_OFF 0x1000ULL          /* RW: SECINFOs for EACCEPT, scratch */
#define THREADS 3
#define THREAD_OFF(t) (0x4000ULL + (uint64_t)(t) * 0x4000ULL)   /* TCS, SSA x2, TLS */
#define THREAD_LEN 0x4000ULL
#define SLOT_A 0x20000ULL           /* on demand: "this container's slot" */
#define SLOT_B 0x30000ULL           /* on demand: "another container's slot" */
#define SLOT_LEN 0x10000ULL
#define RW (PROT_READ | PROT_WRITE)
#define RWX (PROT_READ | PROT_WRITE | PROT_EXEC)

enum op { OP_READ, OP_WRITE, OP_EACCEPT, OP_SPIN };

/* The enclave program, one page at offset 0, entry at 0. RDI = op, RSI = an
 * address, RDX = a value (WRITE) or a SECINFO address (EACCEPT). Leaves with
 * EEXIT: RDI a marker, RDX what READ read, RSI what EACCEPT returned. */
__asm__(
    "    .section .rodata.tsv, \"a\"\n"
    "    .balign 4096\n"
    "tsv_code:\n"
    "    test %rax, %rax\n    jnz 9f\n"           /* CSSA > 0: an exception entry */
    "    cmp $0, %rdi\n    je 1f\n"
    "    cmp $1, %rdi\n    je 2f\n"
    "    cmp $2, %rdi\n    je 3f\n"
    "    cmp $3, %rdi\n    je 4f\n"
    "    mov $-1, %rdi\n    jmp 8f\n"
    "1:  mov (%rsi), %rdx\n    mov $0x5ead, %rdi\n    jmp 8f\n"
    "2:  mov %rdx, (%rsi)\n    mov $0x317e, %rdi\n    jmp 8f\n"
    "3:  mov %rdx, %rbx\n    mov %rsi, %rcx\n    mov $5, %eax\n"
    "    .byte 0x0f, 0x01, 0xd7\n"                  /* EACCEPT */
    "    mov %rax, %rsi\n    mov $0xacc, %rdi\n    jmp 8f\n"
    "4:  movq $1, (%rsi)\n"                         /* inside: tell the host, then spin */
    "5:  pause\n    jmp 5b\n"
    "8:  mov $4, %eax\n"
    "    .byte 0x0f, 0x01, 0xd7\n"                  /* EEXIT */
    "    ud2\n"
    "9:  mov $0xe0, %rdi\n    jmp 8b\n"
    "    .balign 4096\n"
    "    .globl tsv_code\n"
    "    .text\n");
extern const uint8_t tsv_code[];

static char state_dir[] = "/tmp/teemate-sim-views-test.XXXXXX";
static EVP_PKEY *signing_key;

/* ---- building the enclave ---- */

struct builder {
    struct tm_sim_enclave *e;
    struct tm_measure m;
};

static int add_page(struct builder *b, uint64_t off, const void *src, uint64_t flags, tm_error *err)
{
    int ret = tm_backend_sim.add_pages((struct tm_backend_enclave *)b->e, off, src, PAGE, flags, true, err);
    if (ret == 0)
        ret = tm_measure_eadd(&b->m, off, flags, err);
    if (ret == 0) {
        static const uint8_t zero[PAGE];
        ret = tm_measure_eextend_page(&b->m, off, src ? src : zero, err);
    }
    return ret;
}

static int build_enclave(struct tm_sim_enclave **out, tm_error *err)
{
    struct sgx_secs secs = { .size = ENCLAVE_SIZE, .ssa_frame_size = 1, .miscselect = SGX_MISC_EXINFO,
                             .attributes = { .flags = SGX_ATTR_MODE64BIT, .xfrm = SGX_XFRM_LEGACY } };
    struct builder b = { 0 };
    uint64_t base;
    int ret = tm_backend_sim.create(&secs, (struct tm_backend_enclave **)&b.e, &base, err);
    if (ret < 0)
        return ret;
    ret = tm_measure_init(&b.m, NULL, NULL, err);
    if (ret == 0)
        ret = tm_measure_ecreate(&b.m, 1, ENCLAVE_SIZE, err);
    const uint64_t rw = SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W;
    if (ret == 0)
        ret = add_page(&b, CODE_OFF, tsv_code, SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_X, err);
    if (ret == 0)
        ret = add_page(&b, DATA_OFF, NULL, rw, err);
    for (int t = 0; ret == 0 && t < THREADS; t++) {
        uint64_t off = THREAD_OFF(t);
        struct sgx_tcs tcs = { .ossa = off + PAGE, .nssa = 2, .oentry = CODE_OFF, .ofsbase = off + 3 * PAGE,
                               .ogsbase = off + 3 * PAGE, .fslimit = 0xfff, .gslimit = 0xfff };
        ret = add_page(&b, off, &tcs, SGX_SECINFO_TCS, err);
        for (uint64_t p = 1; ret == 0 && p < 4; p++)
            ret = add_page(&b, off + p * PAGE, NULL, rw, err);
    }
    uint8_t mr[32];
    struct sgx_sigstruct ss;
    struct tm_sign_options o;
    tm_sign_options_default(&o);
    o.miscselect = SGX_MISC_EXINFO;
    if (ret == 0)
        ret = tm_measure_final(&b.m, mr, err);
    if (ret == 0)
        ret = tm_sigstruct_sign(&ss, mr, &o, signing_key, err);
    if (ret == 0)
        ret = tm_backend_sim.init((struct tm_backend_enclave *)b.e, &ss, err);
    tm_measure_free(&b.m);
    if (ret < 0) {
        tm_sim_destroy(b.e);
        return ret;
    }
    *out = b.e;
    return 0;
}

static void destroyp(struct tm_sim_enclave **e)
{
    tm_sim_destroy(*e);
}
#define _cleanup_encl_ __attribute__((cleanup(destroyp)))

static struct tm_backend_enclave *be(struct tm_sim_enclave *e)
{
    return (struct tm_backend_enclave *)e;
}

static struct tm_sim_enclave *new_enclave(void)
{
    struct tm_sim_enclave *e = NULL;
    tm_error err = { 0 };
    if (build_enclave(&e, &err) < 0)
        fprintf(stderr, "  build: %s\n", err.msg);
    return e;
}

/* ---- processes ---- */

/* In a forked child: forget ELRANGE and the CPU's view as fork gave them and
 * attach from the fds alone, as a process the daemon hands them to. */
static struct tm_sim_enclave *child_attach(struct tm_sim_enclave *parent)
{
    uint64_t base = parent->base, size = parent->size;
    munmap((void *)(uintptr_t)base, size);
    munmap(parent->cpu_view, size);
    int fds[TM_BACKEND_MAX_FDS];
    int n = tm_backend_sim.export_fds(be(parent), fds);
    struct tm_backend_enclave *out = NULL;
    tm_error err = { 0 };
    if (tm_backend_sim.attach(fds, n, base, size, &out, &err) < 0) {
        fprintf(stderr, "  child attach: %s\n", err.msg);
        _exit(100);
    }
    return tm_sim_enclave_of(out);
}

static void child_map(struct tm_sim_enclave *e, uint64_t off, uint64_t len, int prot)
{
    tm_error err = { 0 };
    if (tm_backend_sim.map(be(e), off, len, prot, &err) < 0) {
        fprintf(stderr, "  child map: %s\n", err.msg);
        _exit(101);
    }
}

/* A container's view: the shared image, thread t's pages, its slot. */
static void child_map_container(struct tm_sim_enclave *e, int t, int slot_prot)
{
    child_map(e, CODE_OFF, PAGE, RWX);
    child_map(e, DATA_OFF, PAGE, RW);
    child_map(e, THREAD_OFF(t), THREAD_LEN, RW);
    if (slot_prot >= 0)
        child_map(e, SLOT_A, SLOT_LEN, slot_prot);
}

/* Run fn in a forked child; it exits with its failure count (checks print there). */
static void in_child(struct tm_sim_enclave *parent, void (*fn)(struct tm_sim_enclave *parent))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        tm_test_current_failed = 0;
        if (setjmp(tm_test_abort) == 0)
            fn(parent);
        fflush(NULL);
        _exit(tm_test_current_failed ? 1 : 0);
    }
    int status;
    REQUIRE(pid > 0 && waitpid(pid, &status, 0) == pid);
    if (!WIFEXITED(status))
        fprintf(stderr, "  child killed by signal %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
}


/* What /proc/self/maps says is at addr: 'n' nothing, 'a' anonymous, 'e' the
 * EPC memfd, 'o' something else; perms gets the "rwxp" column. */
static char maps_kind(uint64_t addr, char perms[5])
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512], kind = 'n';
    perms[0] = '\0';
    while (f && fgets(line, sizeof(line), f)) {
        unsigned long lo, hi, inode;
        char p[5], path[256] = "";
        if (sscanf(line, "%lx-%lx %4s %*s %*s %lu %255[^\n]", &lo, &hi, p, &inode, path) < 4)
            continue;
        if (addr < lo || addr >= hi)
            continue;
        memcpy(perms, p, 5);
        kind = strstr(path, "teemate-epc") ? 'e' : inode == 0 ? 'a' : 'o';
        break;
    }
    if (f)
        fclose(f);
    return kind;
}

static struct sgx_secinfo secinfo(uint64_t flags)
{
    struct sgx_secinfo si;
    memset(&si, 0, sizeof(si));
    si.flags = flags;
    return si;
}

static const uint64_t ACCEPT_RW = SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_PENDING;

/* ---- views ---- */

static void attach_views_child(struct tm_sim_enclave *parent)
{
    struct tm_sim_enclave *e = child_attach(parent);
    uint64_t base = e->base;
    char perms[5];
    /* Reserved, nothing mapped: not even the code is reachable. */
    CHECK_EQ_INT(maps_kind(base, perms), 'a');
    CHECK_STR_CONTAINS(perms, "---");
    CHECK_EQ_INT(probe_access(base + CODE_OFF, 0), SIGSEGV);
    CHECK_EQ_INT(probe_access(base + DATA_OFF, 0), SIGSEGV);
    CHECK(!tm_sim_sync_page(e, DATA_OFF, PROT_READ));   /* outside the views: nothing to sync */
    CHECK_EQ_INT(probe_access(base + DATA_OFF, 0), SIGSEGV);
    CHECK_EQ_INT(tm_backend_sim.epc_pages(be(e)), tm_sim_epc_pages(parent));

    /* A second attach at the same ELRANGE, or at another one, is refused. */
    int fds[2] = { e->epc_fd, e->state_fd };
    struct tm_backend_enclave *again = NULL;
    tm_error err = { 0 };
    CHECK_EQ_INT(tm_backend_sim.attach(fds, 2, base, e->size, &again, &err), -EEXIST);
    CHECK_STR_CONTAINS(err.msg, "is not free in this process");
    CHECK_EQ_INT(tm_backend_sim.attach(fds, 2, base + e->size, e->size, &again, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "not 0x");
    CHECK_EQ_INT(tm_backend_sim.attach(fds, 1, base, e->size, &again, &err), -EINVAL);
    CHECK(again == NULL);

    child_map_container(e, 0, RW);
    /* Each page with its EPCM permissions within the cap. */
    CHECK_EQ_INT(maps_kind(base + CODE_OFF, perms), 'e');
    CHECK_EQ_INT(probe_access(base + CODE_OFF, 0), 0);
    CHECK_EQ_INT(probe_access(base + CODE_OFF, 1), SIGSEGV);     /* RX page, RWX cap */
    CHECK(memcmp((void *)(uintptr_t)(base + CODE_OFF), tsv_code, 64) == 0);
    CHECK_EQ_INT(probe_access(base + DATA_OFF, 1), 0);
    CHECK_EQ_INT(probe_access(base + THREAD_OFF(0), 0), SIGSEGV);   /* a TCS, as on hardware */
    CHECK_EQ_INT(probe_access(base + THREAD_OFF(0) + PAGE, 1), 0);
    CHECK_EQ_INT(probe_access(base + SLOT_A, 0), SIGSEGV);         /* in the view, never added */
    /* Another thread's pages and another slot are not mapped at all. */
    CHECK_EQ_INT(maps_kind(base + THREAD_OFF(1) + PAGE, perms), 'a');
    CHECK_EQ_INT(probe_access(base + THREAD_OFF(1) + PAGE, 0), SIGSEGV);
    CHECK_EQ_INT(maps_kind(base + SLOT_B, perms), 'a');
    /* tm_sim_protect over everything touches the views only. */
    CHECK_EQ_INT(tm_sim_protect(e, 0, e->size, &err), 0);
    CHECK_EQ_INT(maps_kind(base + THREAD_OFF(1) + PAGE, perms), 'a');
    CHECK_STR_CONTAINS(perms, "---");
    CHECK_EQ_INT(probe_access(base + THREAD_OFF(1) + PAGE, 0), SIGSEGV);

    /* A read-only cap keeps a RW page read-only, whatever the EPCM allows. */
    child_map(e, DATA_OFF, PAGE, PROT_READ);
    CHECK_EQ_INT(probe_access(base + DATA_OFF, 0), 0);
    CHECK_EQ_INT(probe_access(base + DATA_OFF, 1), SIGSEGV);
    CHECK(!tm_sim_sync_page(e, DATA_OFF, PROT_WRITE));
    CHECK(tm_sim_sync_page(e, DATA_OFF, PROT_READ));
    CHECK_EQ_INT(tm_sim_protect(e, DATA_OFF, PAGE, &err), 0);
    CHECK_EQ_INT(probe_access(base + DATA_OFF, 1), SIGSEGV);
    struct tm_sim_view v;
    CHECK(tm_sim_view_at(e, DATA_OFF, &v) && v.offset == DATA_OFF && v.len == PAGE && v.cap == PROT_READ);

    /* A view replaced in its middle is split around the new one. */
    child_map(e, THREAD_OFF(0) + PAGE, PAGE, PROT_READ);
    CHECK(tm_sim_view_at(e, THREAD_OFF(0), &v) && v.offset == THREAD_OFF(0) && v.len == PAGE && v.cap == RW);
    CHECK(tm_sim_view_at(e, THREAD_OFF(0) + 2 * PAGE, &v) && v.offset == THREAD_OFF(0) + 2 * PAGE &&
          v.len == 2 * PAGE && v.cap == RW);
    CHECK_EQ_INT(probe_access(base + THREAD_OFF(0) + PAGE, 1), SIGSEGV);
    CHECK_EQ_INT(probe_access(base + THREAD_OFF(0) + 2 * PAGE, 1), 0);

    /* unmap puts the reservation back. */
    CHECK_EQ_INT(tm_backend_sim.unmap(be(e), DATA_OFF, PAGE, &err), 0);
    CHECK_EQ_INT(maps_kind(base + DATA_OFF, perms), 'a');
    CHECK_EQ_INT(probe_access(base + DATA_OFF, 0), SIGSEGV);
    CHECK(!tm_sim_view_at(e, DATA_OFF, &v));
    CHECK(!tm_sim_sync_page(e, DATA_OFF, PROT_READ));
    CHECK_EQ_INT(probe_access(base + DATA_OFF, 0), SIGSEGV);

    /* Bad ranges and protections. */
    CHECK_EQ_INT(tm_backend_sim.map(be(e), 100, PAGE, PROT_READ, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "not a page-aligned range");
    CHECK_EQ_INT(tm_backend_sim.map(be(e), e->size - PAGE, 2 * PAGE, PROT_READ, &err), -EINVAL);
    CHECK_EQ_INT(tm_backend_sim.map(be(e), 0, 0, PROT_READ, &err), -EINVAL);
    CHECK_EQ_INT(tm_backend_sim.map(be(e), 0, PAGE, 0x10, &err), -EINVAL);
    CHECK_EQ_INT(tm_backend_sim.unmap(be(e), e->size, PAGE, &err), -EINVAL);
    tm_backend_sim.destroy(be(e));
}

static void test_attach_maps_views_only(void)
{
    _cleanup_encl_ struct tm_sim_enclave *e = new_enclave();
    REQUIRE(e != NULL);
    int fds[TM_BACKEND_MAX_FDS] = { -1, -1 };
    CHECK_EQ_INT(tm_backend_sim.export_fds(be(e), fds), 2);
    CHECK(fds[0] == e->epc_fd && fds[1] == e->state_fd);
    /* The creator keeps its one build view of everything. */
    struct tm_sim_view v;
    CHECK(tm_sim_view_at(e, SLOT_B, &v) && v.offset == 0 && v.len == ENCLAVE_SIZE && v.cap == RWX &&
          !v.on_demand);
    in_child(e, attach_views_child);
}

/* Entries of /proc/self/maps inside [lo, hi). */
static int maps_entries_in(uint64_t lo, uint64_t hi)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int n = 0;
    while (f && fgets(line, sizeof(line), f)) {
        unsigned long a, b;
        if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a < hi && b > lo)
            n++;
    }
    if (f)
        fclose(f);
    return n;
}

/* One view over all of ELRANGE: one mapping per run of equal protections
 * (the EPCM's within the cap, PROT_NONE where no page is), however many pages
 * the view spans. */
static void one_mapping_per_run_child(struct tm_sim_enclave *parent)
{
    struct tm_sim_enclave *e = child_attach(parent);
    child_map(e, 0, ENCLAVE_SIZE, RW);
    int runs = 0, last = -1;
    for (uint64_t off = 0; off < ENCLAVE_SIZE; off += PAGE) {
        struct tm_sim_epcm m = tm_sim_epcm_load(&e->epcm[off / PAGE]);
        int prot = m.valid && m.type == SGX_PT_REG && !m.pending && !m.modified
                       ? (m.perm & SGX_SECINFO_R ? PROT_READ : 0) | (m.perm & SGX_SECINFO_W ? PROT_WRITE : 0)
                       : PROT_NONE;
        runs += prot != last;
        last = prot;
    }
    CHECK(runs > 1);
    CHECK_EQ_INT(maps_entries_in(e->base, e->base + ENCLAVE_SIZE), runs);
    /* Mapping it again replaces, never adds. */
    child_map(e, 0, ENCLAVE_SIZE, RW);
    CHECK_EQ_INT(maps_entries_in(e->base, e->base + ENCLAVE_SIZE), runs);
    char perms[5];
    CHECK(maps_kind(e->base + DATA_OFF, perms) == 'e' && !strcmp(perms, "rw-s"));
    CHECK(maps_kind(e->base + SLOT_B, perms) == 'e' && !strcmp(perms, "---s"));
    tm_sim_destroy(e);
}

static void test_one_mapping_per_run(void)
{
    _cleanup_encl_ struct tm_sim_enclave *e = new_enclave();
    REQUIRE(e != NULL);
    in_child(e, one_mapping_per_run_child);
}

/* ---- expand ---- */

static void expand_child(struct tm_sim_enclave *parent)
{
    struct tm_sim_enclave *e = child_attach(parent);
    child_map_container(e, 0, RW);
    struct tm_expand_stats st = { 1, 1 };
    tm_backend_sim.expand_stats(be(e), &st);
    CHECK(st.pages == 0 && st.ms == 0);
    uint64_t pages = tm_sim_epc_pages(e);

    /* EACCEPT in the writable slot view: EAUG on the fault, then the accept. */
    struct sgx_secinfo si = secinfo(ACCEPT_RW);
    CHECK_EQ_INT(tm_sim_eaccept(e, e->base + SLOT_A, &si), 0);
    struct tm_sim_epcm m = tm_sim_epcm_load(&e->epcm[SLOT_A / PAGE]);
    CHECK(m.valid && !m.pending && m.type == SGX_PT_REG && m.perm == (SGX_SECINFO_R | SGX_SECINFO_W));
    CHECK_EQ_INT(tm_sim_epc_pages(e), pages + 1);
    CHECK_EQ_INT(tm_backend_sim.epc_pages_in(be(e), SLOT_A, SLOT_LEN), 1);
    CHECK_EQ_INT(probe_access(e->base + SLOT_A, 1), 0);
    ((volatile uint8_t *)(uintptr_t)(e->base + SLOT_A))[7] = 0x77;
    tm_backend_sim.expand_stats(be(e), &st);
    CHECK_EQ_INT(st.pages, 1);
    CHECK(st.ms > 0);
    /* Wrong flags: the page is added (the kernel's part happened), the accept fails. */
    si = secinfo(ACCEPT_RW | SGX_SECINFO_X);
    CHECK_EQ_INT(tm_sim_eaccept(e, e->base + SLOT_A + PAGE, &si), SGX_PAGE_ATTRIBUTES_MISMATCH);
    m = tm_sim_epcm_load(&e->epcm[SLOT_A / PAGE + 1]);
    CHECK(m.valid && m.pending);
    si = secinfo(ACCEPT_RW);
    CHECK_EQ_INT(tm_sim_eaccept(e, e->base + SLOT_A + PAGE, &si), 0);
    tm_backend_sim.expand_stats(be(e), &st);
    CHECK_EQ_INT(st.pages, 2);

    /* Outside the views (another container's slot): #PF, nothing added. */
    CHECK_EQ_INT(tm_sim_eaccept(e, e->base + SLOT_B, &si), TM_SIM_FAULT_PF);
    CHECK(!tm_sim_epcm_load(&e->epcm[SLOT_B / PAGE]).valid);
    /* A read-only view does not grow. */
    child_map(e, SLOT_B, SLOT_LEN, PROT_READ);
    CHECK_EQ_INT(tm_sim_eaccept(e, e->base + SLOT_B, &si), TM_SIM_FAULT_PF);
    CHECK(!tm_sim_epcm_load(&e->epcm[SLOT_B / PAGE]).valid);
    CHECK_EQ_INT(tm_sim_epc_pages(e), pages + 2);
    tm_backend_sim.expand_stats(be(e), &st);
    CHECK_EQ_INT(st.pages, 2);

    /* Enclave code expands its slot itself: EACCEPT through the CPU, then a write. */
    struct sgx_secinfo *si_page = (struct sgx_secinfo *)(uintptr_t)(e->base + DATA_OFF);
    *si_page = secinfo(ACCEPT_RW);
    struct tm_enter_result res;
    tm_error err = { 0 };
    uint64_t target = e->base + SLOT_A + 2 * PAGE;
    int ret = tm_backend_sim.enter(be(e), THREAD_OFF(0), OP_EACCEPT, target, e->base + DATA_OFF, &res, &err);
    if (ret < 0)
        fprintf(stderr, "  enter: %s\n", err.msg);
    CHECK_EQ_INT(ret, 0);
    CHECK(res.outcome == TM_ENTER_EEXIT && res.rdi == 0xacc);
    CHECK_EQ_INT(res.rsi, 0);
    CHECK_EQ_INT(tm_backend_sim.enter(be(e), THREAD_OFF(0), OP_WRITE, target + 8, 0x1234, &res, &err), 0);
    CHECK(res.outcome == TM_ENTER_EEXIT && res.rdi == 0x317e);
    CHECK_EQ_INT(*(volatile uint64_t *)(uintptr_t)(target + 8), 0x1234);
    tm_backend_sim.expand_stats(be(e), &st);
    CHECK_EQ_INT(st.pages, 3);
    /* ...and EACCEPT from inside on the other slot faults. */
    CHECK_EQ_INT(tm_backend_sim.enter(be(e), THREAD_OFF(0), OP_EACCEPT, e->base + SLOT_B + PAGE,
                                      e->base + DATA_OFF, &res, &err), 0);
    CHECK(res.outcome == TM_ENTER_AEX);
    CHECK_EQ_INT(SGX_EXITINFO_VECTOR(res.exit_info), 14);
    tm_backend_sim.destroy(be(e));
}

static void test_eaccept_expands_writable_views(void)
{
    _cleanup_encl_ struct tm_sim_enclave *e = new_enclave();
    REQUIRE(e != NULL);
    in_child(e, expand_child);
    /* The child's pages are in the one EPCM. */
    CHECK_EQ_INT(tm_sim_epc_pages_in(e, SLOT_A, SLOT_LEN), 3);
    CHECK_EQ_INT(tm_sim_epc_pages_in(e, SLOT_B, SLOT_LEN), 0);
    CHECK_EQ_INT(tm_sim_epc_pages_in(e, 0, ENCLAVE_SIZE), tm_sim_epc_pages(e));
    CHECK_EQ_INT(tm_sim_epc_pages_in(e, ENCLAVE_SIZE, PAGE), 0);
    CHECK_EQ_INT(tm_sim_epc_pages_in(e, SLOT_A, UINT64_MAX), 3);

    /* The creator's build view does not expand (as on sgx, where the creator
     * maps only what it added); a range it maps does. */
    struct sgx_secinfo si = secinfo(ACCEPT_RW);
    CHECK_EQ_INT(tm_sim_eaccept(e, e->base + SLOT_B, &si), TM_SIM_FAULT_PF);
    tm_error err = { 0 };
    REQUIRE(tm_backend_sim.map(be(e), SLOT_B, SLOT_LEN, RW, &err) == 0);
    CHECK_EQ_INT(tm_sim_eaccept(e, e->base + SLOT_B, &si), 0);
    CHECK_EQ_INT(probe_access(e->base + SLOT_B, 1), 0);
    /* The child's slot, in the creator's build view: its accepted pages are readable here. */
    CHECK(tm_sim_sync_page(e, SLOT_A, PROT_READ | PROT_WRITE));
    CHECK_EQ_INT(((volatile uint8_t *)(uintptr_t)(e->base + SLOT_A))[7], 0x77);
}

/* ---- faults outside the views ---- */

static void fault_child(struct tm_sim_enclave *parent)
{
    struct tm_sim_enclave *e = child_attach(parent);
    child_map_container(e, 0, -1);
    struct tm_enter_result res;
    tm_error err = { 0 };
    /* Sanity: a mapped page reads. */
    *(volatile uint64_t *)(uintptr_t)(e->base + DATA_OFF + 64) = 0xfeed;
    CHECK_EQ_INT(tm_backend_sim.enter(be(e), THREAD_OFF(0), OP_READ, e->base + DATA_OFF + 64, 0, &res, &err), 0);
    CHECK(res.outcome == TM_ENTER_EEXIT && res.rdi == 0x5ead && res.rdx == 0xfeed);

    /* Another container's accepted page: not mapped here, so an AEX #PF. */
    uint64_t other = e->base + SLOT_B + 16;
    CHECK_EQ_INT(tm_backend_sim.enter(be(e), THREAD_OFF(0), OP_READ, other, 0, &res, &err), 0);
    CHECK(res.outcome == TM_ENTER_AEX);
    CHECK_EQ_INT(SGX_EXITINFO_VECTOR(res.exit_info), 14);
    CHECK_EQ_INT(res.fault_addr, other);
    CHECK_EQ_INT(tm_sim_tcs(e, THREAD_OFF(0))->cssa, 1);
    char perms[5];
    CHECK_EQ_INT(maps_kind(other, perms), 'a');   /* the fault path mapped nothing */

    /* Once mapped (read-only), ERESUME retries the load and it reads. */
    child_map(e, SLOT_B, SLOT_LEN, PROT_READ);
    CHECK_EQ_INT(tm_backend_sim.resume(be(e), THREAD_OFF(0), &res, &err), 0);
    CHECK(res.outcome == TM_ENTER_EEXIT && res.rdi == 0x5ead && res.rdx == 0xabcdef);
    CHECK_EQ_INT(tm_sim_tcs(e, THREAD_OFF(0))->cssa, 0);
    /* A write through the read-only view is an AEX #PF. */
    CHECK_EQ_INT(tm_backend_sim.enter(be(e), THREAD_OFF(0), OP_WRITE, other, 1, &res, &err), 0);
    CHECK(res.outcome == TM_ENTER_AEX);
    CHECK_EQ_INT(SGX_EXITINFO_VECTOR(res.exit_info), 14);
    CHECK_EQ_INT(res.fault_addr, other);
    tm_backend_sim.destroy(be(e));
}

static void test_enclave_fault_outside_views_is_aex_pf(void)
{
    _cleanup_encl_ struct tm_sim_enclave *e = new_enclave();
    REQUIRE(e != NULL);
    /* The other container's page exists and is accepted (in the creator). */
    tm_error err = { 0 };
    REQUIRE(tm_sim_eaug(e, SLOT_B, &err) == 0);
    struct sgx_secinfo si = secinfo(ACCEPT_RW);
    REQUIRE(tm_sim_eaccept(e, e->base + SLOT_B, &si) == 0);
    *(volatile uint64_t *)(uintptr_t)(e->base + SLOT_B + 16) = 0xabcdef;
    in_child(e, fault_child);
}

/* ---- EENTER needs the TCS mapped ---- */

static void eenter_child(struct tm_sim_enclave *parent)
{
    struct tm_sim_enclave *e = child_attach(parent);
    struct tm_enter_result res;
    tm_error err = { 0 };
    /* Nothing mapped yet: not even thread 0's TCS. */
    CHECK_EQ_INT(tm_backend_sim.enter(be(e), THREAD_OFF(0), OP_READ, e->base + DATA_OFF, 0, &res, &err), -EFAULT);
    child_map_container(e, 0, RW);
    CHECK_EQ_INT(tm_backend_sim.enter(be(e), THREAD_OFF(0), OP_READ, e->base + DATA_OFF, 0, &res, &err), 0);
    CHECK(res.outcome == TM_ENTER_EEXIT && res.rdi == 0x5ead);
    /* Thread 1 is not leased here. */
    CHECK_EQ_INT(tm_backend_sim.enter(be(e), THREAD_OFF(1), OP_READ, e->base + DATA_OFF, 0, &res, &err), -EFAULT);
    char want[128];
    snprintf(want, sizeof(want), "EENTER: the TCS at 0x%llx (offset 0x%llx) is not mapped in this process "
             "(not leased here)", (unsigned long long)(e->base + THREAD_OFF(1)),
             (unsigned long long)THREAD_OFF(1));
    CHECK_STR_CONTAINS(err.msg, want);
    CHECK_EQ_INT(tm_backend_sim.resume(be(e), THREAD_OFF(1), &res, &err), -EFAULT);
    CHECK_STR_CONTAINS(err.msg, "ERESUME: the TCS at");
    /* The refusal took nothing: the TCS is free for whoever holds it. */
    CHECK_EQ_INT(__atomic_load_n(&e->tcs_busy[THREAD_OFF(1) / PAGE], __ATOMIC_RELAXED), 0);
    /* Mapped but busy (the parent holds thread 2): the busy check still speaks. */
    child_map(e, THREAD_OFF(2), THREAD_LEN, RW);
    CHECK_EQ_INT(tm_backend_sim.enter(be(e), THREAD_OFF(2), OP_READ, e->base + DATA_OFF, 0, &res, &err), -EBUSY);
    CHECK_STR_CONTAINS(err.msg, "busy");
    tm_backend_sim.destroy(be(e));
}

static void test_eenter_unmapped_tcs_refused(void)
{
    _cleanup_encl_ struct tm_sim_enclave *e = new_enclave();
    REQUIRE(e != NULL);
    tm_error err = { 0 };
    REQUIRE(tm_sim_tcs_acquire(e, THREAD_OFF(2), &err) == 0);
    in_child(e, eenter_child);
    tm_sim_tcs_release(e, THREAD_OFF(2));
    /* In the creator, unmapping a thread's pages refuses its EENTER too. */
    struct tm_enter_result res;
    REQUIRE(tm_backend_sim.unmap(be(e), THREAD_OFF(1), THREAD_LEN, &err) == 0);
    CHECK_EQ_INT(tm_backend_sim.enter(be(e), THREAD_OFF(1), OP_READ, e->base + DATA_OFF, 0, &res, &err), -EFAULT);
    CHECK_STR_CONTAINS(err.msg, "not mapped in this process");
    CHECK_EQ_INT(tm_backend_sim.enter(be(e), THREAD_OFF(0), OP_READ, e->base + DATA_OFF, 0, &res, &err), 0);
}

/* ---- trim, accept, remove ---- */

static long long epc_blocks(const struct tm_sim_enclave *e)
{
    struct stat st;
    return fstat(e->epc_fd, &st) == 0 ? (long long)st.st_blocks : -1;
}

static void test_trim_accept_remove(void)
{
    _cleanup_encl_ struct tm_sim_enclave *e = new_enclave();
    REQUIRE(e != NULL);
    struct tm_backend_enclave *b = be(e);
    tm_error err = { 0 };
    const uint64_t pages0 = tm_sim_epc_pages(e);
    const long long blocks0 = epc_blocks(e);
    REQUIRE(tm_backend_sim.map(b, SLOT_A, SLOT_LEN, RW, &err) == 0);
    /* Pages 0-1 EAUG'd and never accepted; 2-9 accepted (expand) and written. */
    REQUIRE(tm_sim_eaug(e, SLOT_A, &err) == 0 && tm_sim_eaug(e, SLOT_A + PAGE, &err) == 0);
    struct sgx_secinfo si = secinfo(ACCEPT_RW);
    for (uint64_t p = 2; p < 10; p++) {
        REQUIRE(tm_sim_eaccept(e, e->base + SLOT_A + p * PAGE, &si) == 0);
        memset((void *)(uintptr_t)(e->base + SLOT_A + p * PAGE), 0x5a, PAGE);
    }
    CHECK_EQ_INT(tm_sim_epc_pages(e), pages0 + 10);
    CHECK_EQ_INT(tm_backend_sim.epc_pages_in(b, SLOT_A, SLOT_LEN), 10);
    const long long blocks_full = epc_blocks(e);
    CHECK(blocks_full > blocks0);

    /* In use: the pending pages before it go, the first accepted page stops it. */
    uint64_t removed = 99;
    CHECK_EQ_INT(tm_backend_sim.remove(b, SLOT_A, SLOT_LEN, &removed, &err), -EBUSY);
    CHECK_EQ_INT(removed, 2);
    char want[96];
    snprintf(want, sizeof(want), "EREMOVE: the page at 0x%llx is in use", (unsigned long long)(SLOT_A + 2 * PAGE));
    CHECK_STR_CONTAINS(err.msg, want);
    CHECK_EQ_INT(tm_sim_epc_pages(e), pages0 + 8);
    CHECK(!tm_sim_epcm_load(&e->epcm[SLOT_A / PAGE]).valid);
    CHECK(tm_sim_epcm_load(&e->epcm[SLOT_A / PAGE + 2]).valid);
    CHECK_EQ_INT(probe_access(e->base + SLOT_A + 2 * PAGE, 1), 0);   /* untouched */

    /* EMODT to PT_TRIM: accepted pages only; the rest are skipped. */
    CHECK_EQ_INT(tm_backend_sim.trim(b, THREAD_OFF(0), PAGE, &err), -EINVAL);   /* a TCS */
    CHECK_STR_CONTAINS(err.msg, "is a TCS");
    CHECK_EQ_INT(tm_backend_sim.trim(b, SLOT_A, SLOT_LEN, &err), 0);
    for (uint64_t p = 0; p < SLOT_LEN / PAGE; p++) {
        struct tm_sim_epcm m = tm_sim_epcm_load(&e->epcm[SLOT_A / PAGE + p]);
        if (p >= 2 && p < 10)
            CHECK(m.valid && m.type == SGX_PT_TRIM && m.modified && !m.pending && m.perm == 0);
        else
            CHECK(!m.valid);
    }
    CHECK_EQ_INT(probe_access(e->base + SLOT_A + 2 * PAGE, 0), SIGSEGV);   /* this process's mapping followed */
    CHECK_EQ_INT(tm_backend_sim.trim(b, SLOT_A, SLOT_LEN, &err), 0);   /* again: nothing left to trim */
    CHECK(tm_sim_epcm_load(&e->epcm[SLOT_A / PAGE + 2]).modified);
    /* Not accepted yet: EREMOVE refuses. */
    CHECK_EQ_INT(tm_backend_sim.remove(b, SLOT_A, SLOT_LEN, &removed, &err), -EBUSY);
    CHECK_EQ_INT(removed, 0);
    CHECK_STR_CONTAINS(err.msg, "has not EACCEPTed the trim");

    /* EACCEPT of a trim: exactly PT_TRIM|MODIFIED, permissions 0. */
    uint64_t lin = e->base + SLOT_A + 2 * PAGE;
    const uint64_t trim = SGX_SECINFO_TRIM | SGX_SECINFO_MODIFIED;
    si = secinfo(trim | SGX_SECINFO_R);
    CHECK_EQ_INT(tm_sim_eaccept(e, lin, &si), SGX_PAGE_ATTRIBUTES_MISMATCH);
    si = secinfo(SGX_SECINFO_TRIM);
    CHECK_EQ_INT(tm_sim_eaccept(e, lin, &si), SGX_PAGE_ATTRIBUTES_MISMATCH);
    si = secinfo(SGX_SECINFO_REG | SGX_SECINFO_MODIFIED);
    CHECK_EQ_INT(tm_sim_eaccept(e, lin, &si), SGX_PAGE_ATTRIBUTES_MISMATCH);
    si = secinfo(trim | SGX_SECINFO_PENDING);
    CHECK_EQ_INT(tm_sim_eaccept(e, lin, &si), SGX_PAGE_ATTRIBUTES_MISMATCH);
    si = secinfo(trim | SGX_SECINFO_PR);
    CHECK_EQ_INT(tm_sim_eaccept(e, lin, &si), SGX_PAGE_ATTRIBUTES_MISMATCH);
    si = secinfo(trim);
    si.reserved[0] = 1;
    CHECK_EQ_INT(tm_sim_eaccept(e, lin, &si), TM_SIM_FAULT_GP);
    CHECK(tm_sim_epcm_load(&e->epcm[SLOT_A / PAGE + 2]).modified);
    si = secinfo(trim);
    for (uint64_t p = 2; p < 9; p++)   /* all but the last */
        CHECK_EQ_INT(tm_sim_eaccept(e, e->base + SLOT_A + p * PAGE, &si), 0);
    struct tm_sim_epcm m = tm_sim_epcm_load(&e->epcm[SLOT_A / PAGE + 2]);
    CHECK(m.valid && m.type == SGX_PT_TRIM && !m.modified && !m.pending && m.perm == 0);
    CHECK_EQ_INT(tm_sim_eaccept(e, lin, &si), SGX_PAGE_ATTRIBUTES_MISMATCH);   /* accepted already */
    CHECK_EQ_INT(probe_access(lin, 0), SIGSEGV);                                     /* gone for the enclave */

    /* The accepted trims go; the unaccepted one stops it. */
    CHECK_EQ_INT(tm_backend_sim.remove(b, SLOT_A, SLOT_LEN, &removed, &err), -EBUSY);
    CHECK_EQ_INT(removed, 7);
    snprintf(want, sizeof(want), "the page at 0x%llx was trimmed", (unsigned long long)(SLOT_A + 9 * PAGE));
    CHECK_STR_CONTAINS(err.msg, want);
    CHECK_EQ_INT(tm_sim_eaccept(e, e->base + SLOT_A + 9 * PAGE, &si), 0);
    CHECK_EQ_INT(tm_backend_sim.remove(b, SLOT_A, SLOT_LEN, &removed, &err), 0);
    CHECK_EQ_INT(removed, 1);
    CHECK_EQ_INT(tm_backend_sim.remove(b, SLOT_A, SLOT_LEN, NULL, &err), 0);   /* nothing left: fine */

    /* Everything is back: the count, the range, the memory. */
    CHECK_EQ_INT(tm_sim_epc_pages(e), pages0);
    CHECK_EQ_INT(tm_backend_sim.epc_pages_in(b, SLOT_A, SLOT_LEN), 0);
    CHECK_EQ_INT(tm_backend_sim.epc_pages_in(b, 0, ENCLAVE_SIZE), pages0);
    long long blocks_after = epc_blocks(e);
    CHECK(blocks_after < blocks_full);
    CHECK(blocks_after <= blocks0);

    /* The slot grows again from zero pages. */
    si = secinfo(ACCEPT_RW);
    CHECK_EQ_INT(tm_sim_eaccept(e, e->base + SLOT_A + 3 * PAGE, &si), 0);
    CHECK_EQ_INT(((volatile uint8_t *)(uintptr_t)(e->base + SLOT_A + 3 * PAGE))[100], 0);
    CHECK_EQ_INT(tm_sim_epc_pages(e), pages0 + 1);

    /* Bad ranges. */
    CHECK_EQ_INT(tm_backend_sim.trim(b, SLOT_A + 1, PAGE, &err), -EINVAL);
    CHECK_EQ_INT(tm_backend_sim.remove(b, ENCLAVE_SIZE, PAGE, &removed, &err), -EINVAL);
    CHECK_EQ_INT(removed, 0);
}

/* ---- a TCS left busy by a killed process ---- */

static volatile uint64_t *inside_flag;   /* shared with the child */

static void spinner_child(struct tm_sim_enclave *parent)
{
    struct tm_sim_enclave *e = child_attach(parent);
    child_map_container(e, 1, -1);
    struct tm_enter_result res;
    tm_error err = { 0 };
    tm_backend_sim.enter(be(e), THREAD_OFF(1), OP_SPIN, (uint64_t)(uintptr_t)inside_flag, 0, &res, &err);
    fprintf(stderr, "  spinner came back: %s\n", err.msg);
    tm_test_current_failed = 1;
}

static void test_tcs_reclaim_after_kill(void)
{
    _cleanup_encl_ struct tm_sim_enclave *e = new_enclave();
    REQUIRE(e != NULL);
    inside_flag = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(inside_flag != MAP_FAILED);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (setjmp(tm_test_abort) == 0)
            spinner_child(e);
        _exit(1);
    }
    REQUIRE(pid > 0);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {   /* until the child is inside the enclave (bounded by a deadline, no sleeping) */
        sched_yield();
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (!__atomic_load_n(inside_flag, __ATOMIC_ACQUIRE) && now.tv_sec - t0.tv_sec < 20);
    CHECK(*inside_flag == 1);
    kill(pid, SIGKILL);
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    /* The dead process left its TCS busy... */
    tm_error err = { 0 };
    struct tm_enter_result res;
    CHECK_EQ_INT(tm_backend_sim.enter(be(e), THREAD_OFF(1), OP_READ, e->base + DATA_OFF, 0, &res, &err), -EBUSY);
    /* ...until the lease is reclaimed. */
    tm_backend_sim.tcs_reclaim(be(e), THREAD_OFF(1));
    CHECK_EQ_INT(tm_backend_sim.enter(be(e), THREAD_OFF(1), OP_READ, e->base + DATA_OFF, 0, &res, &err), 0);
    CHECK(res.outcome == TM_ENTER_EEXIT && res.rdi == 0x5ead);
    tm_backend_sim.tcs_reclaim(be(e), THREAD_OFF(1) + 8);   /* not a page: ignored */
    tm_backend_sim.tcs_reclaim(be(e), ENCLAVE_SIZE);
    munmap((void *)inside_flag, PAGE);
}

static void cleanup(void)
{
    EVP_PKEY_free(signing_key);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", state_dir);
}

int main(void)
{
    if (!mkdtemp(state_dir)) {
        perror("mkdtemp");
        return 2;
    }
    setenv("TEEMATE_STATE_DIR", state_dir, 1);
    tm_error err = { 0 };
    if (tm_key_generate(&signing_key, &err) < 0) {
        fprintf(stderr, "key: %s\n", err.msg);
        return 2;
    }
    atexit(cleanup);
    RUN(test_attach_maps_views_only);
    RUN(test_one_mapping_per_run);
    RUN(test_eaccept_expands_writable_views);
    RUN(test_enclave_fault_outside_views_is_aex_pf);
    RUN(test_eenter_unmapped_tcs_refused);
    RUN(test_trim_accept_remove);
    RUN(test_tcs_reclaim_after_kill);
    TEST_EXIT();
}
