/* Processes a benchmark starts (its own daemon, gateway, servers): spawn
 * with stdio to a log, run to completion, stop; a free loopback port. */
#ifndef TM_BENCH_PROC_H
#define TM_BENCH_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* Start argv in a process group of its own (a Ctrl-C reaches the bench only,
 * which stops its children in order) that gets SIGTERM if the bench dies.
 * stdin /dev/null; stdout to out_fd if >= 0, else to log (appended; NULL:
 * /dev/null); stderr to log; fd3 (if >= 0) becomes its fd 3. -1 on failure. */
pid_t tm_bench_spawn(char *const argv[], const char *log, int out_fd, int fd3);

/* teemated in the foreground (on socket, or its default when NULL), its
 * stderr to log; returns once it says it is ready (--ready-fd), or -1 (it
 * failed: its reason is in log). */
pid_t tm_bench_daemon_start(const char *teemate, const char *socket, const char *log);

/* Run argv to its end: its exit status (128 + signal if killed), -1 if it
 * could not run. out (may be NULL): its stdout, up to len - 1 bytes, ended. */
int tm_bench_run(char *const argv[], const char *log, char *out, size_t len);

/* SIGTERM, up to grace_s seconds for it to exit, then SIGKILL; reaps it and
 * sets *pid to 0. Its exit status as tm_bench_run's, -1 if none was running. */
int tm_bench_stop(pid_t *pid, double grace_s);

/* A port on 127.0.0.1 that was free a moment ago, or -1. */
int tm_bench_free_port(void);

/* Sleep ms milliseconds (polling for a server to come up). */
void tm_bench_pause_ms(long ms);
/* The first three fields of /proc/loadavg, as `uptime` shows them ("unknown"). */
void tm_bench_loadavg(char *out, size_t len);

#endif
