/* Self-relocation. The image is linked at 0 and loaded at the enclave base;
 * the only dynamic relocations the loader accepts are R_X86_64_RELATIVE, into
 * writable segments. They live in a read-only measured segment and are
 * applied exactly once per enclave: every process attached to the enclave
 * shares its memory, at the same addresses, so one pass serves them all.
 *
 * This code runs before relocation, so it may only use what needs none:
 * RIP-relative addresses of hidden symbols (the compiler's default for
 * -fPIE with -fvisibility=hidden) and the stack. */
#include "tm_runtime.h"

extern const Elf64_Rela __tm_rela_start[] TM_HIDDEN;
extern const Elf64_Rela __tm_rela_end[] TM_HIDDEN;

enum tm_reloc_state {
    TM_RELOC_NOT_DONE = 0,   /* .bss: the state of a fresh enclave */
    TM_RELOC_IN_PROGRESS = 1,
    TM_RELOC_DONE = 2,
};

static uint32_t tm_reloc_state;

void tm_reloc_apply(uintptr_t enclave_base, const Elf64_Rela *begin, const Elf64_Rela *end)
{
    for (const Elf64_Rela *r = begin; r < end; r++) {
        switch (ELF64_R_TYPE(r->r_info)) {
        case R_X86_64_NONE:
            break;
        case R_X86_64_RELATIVE:
            *(uint64_t *)(enclave_base + r->r_offset) = enclave_base + (uint64_t)r->r_addend;
            break;
        default:
            /* The loader refuses such images; if one got here, stop. */
            __builtin_trap();
        }
    }
}

void tm_reloc_apply_once(uintptr_t enclave_base)
{
    if (__atomic_load_n(&tm_reloc_state, __ATOMIC_ACQUIRE) == TM_RELOC_DONE)
        return;
    uint32_t expected = TM_RELOC_NOT_DONE;
    if (__atomic_compare_exchange_n(&tm_reloc_state, &expected, TM_RELOC_IN_PROGRESS, false,
                                    __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
        tm_reloc_apply(enclave_base, __tm_rela_start, __tm_rela_end);
        __atomic_store_n(&tm_reloc_state, TM_RELOC_DONE, __ATOMIC_RELEASE);
        return;
    }
    /* Another thread is relocating: nothing may run before it is done. */
    while (__atomic_load_n(&tm_reloc_state, __ATOMIC_ACQUIRE) != TM_RELOC_DONE)
        __builtin_ia32_pause();
}
