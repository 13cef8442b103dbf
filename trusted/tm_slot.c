/* What an application sees of its container slot (teemate_enclave.h), and
 * TM_ECALL_FORK_CHILD, which hands a forked child its parent's anchor. */
#include "teemate_enclave.h"
#include "tm_runtime.h"
#include "tm_slot.h"

int tm_slot_current(void)
{
    return tm_lease_current_index();
}

size_t tm_slot_committed(void)
{
    struct tm_slot *s = tm_lease_current();
    return s ? (size_t)tm_arena_committed(&s->arena) : 0;
}

void *tm_slot_root(void)
{
    struct tm_slot *s = tm_lease_current();
    return s ? __atomic_load_n(&s->root, __ATOMIC_ACQUIRE) : NULL;
}

void tm_slot_set_root(void *root)
{
    struct tm_slot *s = tm_lease_current();
    if (s)
        __atomic_store_n(&s->root, root, __ATOMIC_RELEASE);
}

const void *tm_slot_parent_root(void)
{
    struct tm_slot *s = tm_lease_current();
    /* The parent stays BOUND or RELEASED (not trimmed) while this child is bound. */
    struct tm_slot *parent = s && s->parent ? tm_lease_slot(s->parent - 1) : NULL;
    return parent ? __atomic_load_n(&parent->root, __ATOMIC_ACQUIRE) : NULL;
}

/* Stands in for the image's hook (a weak definition, as for main). */
__attribute__((weak)) int tm_on_fork(const void *parent_root)
{
    (void)parent_root;
    return 0;
}

int tm_ecall_fork_child(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in, (void)in_len, (void)out, (void)out_cap, (void)out_len;
    struct tm_slot *s = tm_lease_current();
    if (s == NULL || s->parent == 0)
        tm_ecall_unwind(TM_STATUS_SLOT_STATE, 0);
    return tm_on_fork(tm_slot_parent_root());
}
