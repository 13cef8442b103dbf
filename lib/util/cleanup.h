/* Scoped cleanup: a variable marked _cleanup_xxx_ is released when it goes out
 * of scope, so every early return frees what it holds. TM_STEAL hands ownership
 * out of a scope. */
#ifndef TM_CLEANUP_H
#define TM_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(tm_freep)
#define _cleanup_close_ _cleanup_(tm_closep)
#define _cleanup_fclose_ _cleanup_(tm_fclosep)

static inline void tm_freep(void *p)
{
    free(*(void **)p);
}

static inline void tm_closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}

static inline void tm_fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}

#define TM_STEAL(p) ({ __typeof__(p) tm_stolen_ = (p); (p) = NULL; tm_stolen_; })
#define TM_STEAL_FD(fd) ({ int tm_stolen_fd_ = (fd); (fd) = -1; tm_stolen_fd_; })

#endif
