/* Binding an entering thread to its data page.
 *
 * FS and GS are based at the thread data page (TCS.OFSBASGX/OGSBASGX), but
 * a segment base is not an address the code can use. The loader measured the
 * page's offsets, so the page's address is computed from them — the layout in
 * tm_image.h puts it right after the thread's SSA frames — and then checked
 * against what FS shows and against the TCS the CPU entered (RBX). */
#include "tm_runtime.h"

struct tm_thread_data *tm_thread_bind(uintptr_t enclave_base, uintptr_t tcs_address)
{
    const __seg_fs struct tm_thread_data *fs = 0;
    uintptr_t address = enclave_base + fs->ssa_offset + fs->nssa * fs->ssa_frame_size;
    struct tm_thread_data *td = (struct tm_thread_data *)address;

    /* Another thread's page has another tcs_offset; a broken layout contract
     * must stop here, before anything writes through the wrong page. */
    if (td->tcs_offset != fs->tcs_offset || enclave_base + td->tcs_offset != tcs_address)
        __builtin_trap();

    td->self = address;   /* x86-64 convention: %fs:0 holds the thread pointer */
    if (!td->stack_guard)
        td->stack_guard = tm_random_u64();   /* once per thread page: live frames keep theirs */
    td->enclave_base = enclave_base;
    tm_libc_thread_init(td);
    return td;
}
