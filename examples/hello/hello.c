/* The smallest TeeMate enclave application: formats a greeting with musl's
 * snprintf and prints it with tm_print (the write ocall). Entered with
 * TM_ECALL_MAIN and argv {"hello", "you"}, the host writes "hello, you\n" to
 * its standard output; main returns 1 if the write failed.
 *
 * It also shows the two kinds of memory of a shared enclave:
 *   - shared: a run counter in .bss, which every process attached to the
 *     enclave sees (image pages are mapped in all of them);
 *   - per container: a struct hello_slot allocated in the container's slot
 *     (malloc there lands in the slot) and anchored with tm_slot_set_root.
 * Every main run counts in both; `hello --state` prints
 * "shared runs N, slot runs M, slot S\n" instead of the greeting (without a
 * slot, as under `teemate enclave run`: slot runs 0, slot -1).
 *
 * Ecalls (8-byte values are little-endian uint64; return 0 or -errno):
 *   16 set    in: value; stores it in this container's slot state
 *   17 get    out: the value stored in this container's slot state
 *   18 shared out: the shared run counter
 *   19 alloc  in: size; malloc it (kept) and out: its address (in the slot
 *             when the thread serves one)
 *   20 salloc in: size; tm_shared_malloc it (kept) and out: its address
 *   21 slot   out: the slot (int64, -1 none), then tm_slot_committed()
 * A forked child's tm_on_fork copies the parent's value into its own slot
 * state and returns 1 (0 when the parent has no state). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <teemate_enclave.h>

/* 4 threads x (64 KiB stack + TCS + 2 SSA + thread data + guard) + 1 MiB heap
 * + 8 slots of 1 MiB: about 10 MiB of the 64 MiB ELRANGE. */
TM_ENCLAVE_LAYOUT(
    .enclave_size = TM_MiB(64),
    .tcs_count = 4,
    .nssa = 2,
    .ssa_frame_pages = 1,
    .stack_size = TM_KiB(64),
    .heap_size = TM_MiB(1),
    .slot_count = 8,
    .slot_size = TM_MiB(1),
);

/* Shared by every container of the enclave. */
static uint64_t hello_shared_runs;

/* Private to one container: lives in its slot. */
struct hello_slot {
    uint64_t runs;
    uint64_t value;
};

/* This container's state, made at its first use; NULL without a slot.
 * (Two threads of one container racing here may each make one: the
 * second anchor wins, and a demo can live with that.) */
static struct hello_slot *hello_slot_state(void)
{
    struct hello_slot *st = tm_slot_root();
    if (st == NULL && tm_slot_current() >= 0) {
        st = calloc(1, sizeof *st);
        tm_slot_set_root(st);
    }
    return st;
}

int main(int argc, char **argv)
{
    uint64_t shared = __atomic_add_fetch(&hello_shared_runs, 1, __ATOMIC_SEQ_CST);
    struct hello_slot *st = hello_slot_state();
    uint64_t mine = st ? __atomic_add_fetch(&st->runs, 1, __ATOMIC_SEQ_CST) : 0;
    char line[256];
    if (argc > 1 && strcmp(argv[1], "--state") == 0)
        snprintf(line, sizeof line, "shared runs %llu, slot runs %llu, slot %d\n",
                 (unsigned long long)shared, (unsigned long long)mine, tm_slot_current());
    else
        snprintf(line, sizeof line, "hello, %s\n", argc > 1 ? argv[1] : "world");
    return tm_print(line) == 0 ? 0 : 1;
}

static int hello_put_u64(void *out, size_t out_cap, size_t *out_len, uint64_t v)
{
    if (out_cap < sizeof v)
        return -EINVAL;
    memcpy(out, &v, sizeof v);
    *out_len = sizeof v;
    return 0;
}

static int hello_get_u64(const void *in, size_t in_len, uint64_t *v)
{
    if (in_len != sizeof *v)
        return -EINVAL;
    memcpy(v, in, sizeof *v);
    return 0;
}

TM_ECALL(hello_set, 16)
{
    uint64_t v;
    struct hello_slot *st = hello_slot_state();
    if (hello_get_u64(in, in_len, &v) < 0)
        return -EINVAL;
    if (st == NULL)
        return -ENOMEM;
    st->value = v;
    return 0;
}

TM_ECALL(hello_get, 17)
{
    struct hello_slot *st = hello_slot_state();
    return hello_put_u64(out, out_cap, out_len, st ? st->value : 0);
}

TM_ECALL(hello_shared, 18)
{
    uint64_t runs = __atomic_load_n(&hello_shared_runs, __ATOMIC_SEQ_CST);
    return hello_put_u64(out, out_cap, out_len, runs);
}

TM_ECALL(hello_alloc, 19)
{
    uint64_t size;
    if (hello_get_u64(in, in_len, &size) < 0)
        return -EINVAL;
    void *p = malloc(size);
    return p ? hello_put_u64(out, out_cap, out_len, (uintptr_t)p) : -ENOMEM;
}

TM_ECALL(hello_shared_alloc, 20)
{
    uint64_t size;
    if (hello_get_u64(in, in_len, &size) < 0)
        return -EINVAL;
    void *p = tm_shared_malloc(size);
    return p ? hello_put_u64(out, out_cap, out_len, (uintptr_t)p) : -ENOMEM;
}

TM_ECALL(hello_slot, 21)
{
    int64_t slot = tm_slot_current();
    uint64_t committed = tm_slot_committed();
    if (out_cap < 16)
        return -EINVAL;
    memcpy(out, &slot, 8);
    memcpy((char *)out + 8, &committed, 8);
    *out_len = 16;
    return 0;
}

int tm_on_fork(const void *parent_root)
{
    const struct hello_slot *parent = parent_root;
    struct hello_slot *st = hello_slot_state();
    if (st == NULL)
        return -ENOMEM;
    st->value = parent ? parent->value : 0;
    return parent != NULL;
}
