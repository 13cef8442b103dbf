/* Log and sleep: the two services without state. */
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>

#include "fn_abi.h"
#include "fn_services.h"

long fn_service_log(const struct fn_services *s, const char *line, size_t len)
{
    if (len > FN_MAX_LOG)
        return -E2BIG;
    struct iovec iov[2] = { { (void *)line, len }, { "\n", 1 } };
    return writev(s->log_fd, iov, 2) < 0 ? -errno : 0;
}

long fn_service_sleep_ms(uint64_t ms)
{
    if (ms > FN_MAX_SLEEP_MS)
        return -EINVAL;
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) < 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}
