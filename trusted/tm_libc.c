/* What musl's pure functions need from their environment when there are no
 * system calls: errno, the locale, stack-protector failure.
 *
 * Debian's musl is built with -fstack-protector-strong: its functions read
 * the canary at %fs:0x28, which here is tm_thread_data.stack_bottom: a
 * constant, so the checks pass, but a known one that stops no attacker.
 * TODO: a random guard at offset 0x28 needs tm_thread_data reordered. */
#include <errno.h>

#include "tm_runtime.h"

/* musl's "C" locale is a locale whose categories are all NULL. */
struct tm_libc_locale {
    const void *category[6];
};
static const struct tm_libc_locale tm_libc_c_locale;

void tm_libc_thread_init(struct tm_thread_data *td)
{
    /* musl reads __pthread_self()->locale (offset 168 of struct pthread on
     * x86-64) in strerror, MB_CUR_MAX, mbrtowc/wcrtomb, strcoll, strftime... */
    td->libc_locale = (uintptr_t)&tm_libc_c_locale;
}

/* errno lives in the thread data page: one per TCS, i.e. per thread. */
int *__errno_location(void)
{
    _Static_assert(offsetof(struct tm_thread_data, errno_value) % sizeof(int) == 0, "aligned");
    return (int *)((char *)tm_thread_current() + offsetof(struct tm_thread_data, errno_value));
}

/* musl's own code calls errno through this hidden alias. */
__attribute__((const)) int *___errno_location(void) __attribute__((alias("__errno_location")));

/* A smashed stack inside the enclave: stop this thread (#UD, an AEX to the
 * host) rather than continue with corrupted state. */
__attribute__((noreturn)) void __stack_chk_fail(void)
{
    __builtin_trap();
}
