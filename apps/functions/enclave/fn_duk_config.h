/* Duktape's configuration: Debian's duk_config.h (genconfig defaults for this
 * platform), then our options on top. Only fn_duktape.c includes this; the
 * public API (duktape.h) does not depend on these options. */
#ifndef FN_DUK_CONFIG_H
#define FN_DUK_CONFIG_H

#define DUK_COMPILING_DUKTAPE
#include "duk_config.h"   /* /usr/share/duktape (duktape-dev), unchanged */

#include "fn_engine.h"
#include "fn_platform.h"

/* The run's deadline: Duktape asks this every few thousand bytecodes; once
 * it answers true, it throws a RangeError that keeps propagating. */
#define DUK_USE_INTERRUPT_COUNTER
#undef DUK_USE_EXEC_TIMEOUT_CHECK
#define DUK_USE_EXEC_TIMEOUT_CHECK(udata) fn_engine_timed_out((udata))

/* Math.random from the platform (RDRAND inside an enclave). */
#undef DUK_USE_GET_RANDOM_DOUBLE
#define DUK_USE_GET_RANDOM_DOUBLE(udata) fn_engine_random_double((udata))

/* Time from the runtime's platform; local time is UTC (the host's zone files
 * are not reachable from an enclave, and all modes must agree). Dates parse
 * and format as ISO 8601 only (no strptime/strftime). */
#undef DUK_USE_DATE_GET_NOW
#define DUK_USE_DATE_GET_NOW(ctx) fn_engine_now_ms()
#undef DUK_USE_DATE_GET_LOCAL_TZOFFSET
#define DUK_USE_DATE_GET_LOCAL_TZOFFSET(d) 0
#undef DUK_USE_DATE_PARSE_STRING
#undef DUK_USE_DATE_FORMAT_STRING
#undef DUK_USE_GET_MONOTONIC_TIME
#define DUK_USE_GET_MONOTONIC_TIME(ctx) fn_engine_monotonic_ms()

/* Deep recursion (compiler, regexps, JSON) stops with a RangeError before
 * the thread's stack runs out (a fault inside the enclave). */
#undef DUK_USE_NATIVE_STACK_CHECK
#define DUK_USE_NATIVE_STACK_CHECK() fn_platform_stack_low()
/* The JS compiler does not ask that check: its own limit (Duktape's 2500
 * nested expressions, about 220 bytes of stack each) must fit the image's
 * 512 KiB thread stack less the margin. */
#undef DUK_USE_COMPILER_RECLIMIT
#define DUK_USE_COMPILER_RECLIMIT 1000

/* A fatal error without a heap-level handler (none should reach here: every
 * heap gets fn_engine's) ends the instance, never the enclave. */
#undef DUK_USE_FATAL_HANDLER
#define DUK_USE_FATAL_HANDLER(udata, msg) fn_engine_fatal((udata), (msg))

#endif
