/* The error object every library call fills: a negative errno-style return
 * plus a message a person can act on. */
#ifndef TM_ERROR_H
#define TM_ERROR_H

#include <stddef.h>

typedef struct tm_error {
    int code;          /* positive errno value; 0 = no error */
    char msg[1024];
} tm_error;

/* Fill err and return -code, so callers can `return tm_error_set(...)`. */
int tm_error_set(tm_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, with ": strerror(errno)" appended and code = errno. */
int tm_error_sys(tm_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Put "context: " in front of the message already there; returns -code. */
int tm_error_prefix(tm_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append OpenSSL's queued error to the message (clears the queue); returns -code. */
int tm_error_openssl(tm_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
