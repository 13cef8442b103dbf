/* A container of a shared enclave: its init attaches (before the mount
 * changes, while the daemon's socket is reachable) and, where a plain
 * container would exec, runs the image's main with process.args, or the
 * caller's init_main with the attachment. */
#include "container/init.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "shared/attach.h"
#include "shared/attach_stats.h"
#include "util/clock.h"

static struct tm_attachment *attachment;

int tm_init_enclave_attach(const struct tm_init_args *a, tm_error *err)
{
    struct tm_attach_options ao = {
        .socket_path = a->o->daemon_socket,
        .threads = 1,
        .no_autostart = true,   /* the runtime started it: never from inside a container */
        .slot_limit = a->spec->enclave_memory,
    };
    int ret = tm_attach(a->spec->enclave, &ao, &attachment, err);
    if (ret < 0)
        tm_error_prefix(err, "cannot attach to the shared enclave %s", a->spec->enclave);
    return ret;
}

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

static void ignore_signal(int sig)
{
    (void)sig;
}

static const struct tm_container_options *signal_options;   /* init_on_signal's */

/* PID 1 of a pid namespace gets only the signals it handles, and a handler
 * must not run on a thread that is inside the enclave. So the signals are
 * handled (a no-op), blocked everywhere, and taken by this thread, which
 * ends the container as the default action would, or hands the first one to
 * the caller's init_on_signal (a clean stop of its init_main). */
static void *signal_thread(void *arg)
{
    sigset_t *set = arg;
    int sig = 0;
    sigwait(set, &sig);
    if (signal_options && signal_options->init_on_signal) {
        signal_options->init_on_signal(signal_options->init_ctx, sig);
        sigwait(set, &sig);
    }
    _exit(128 + sig);
}

static void take_signals(const struct tm_container_options *o)
{
    signal_options = o;
    static sigset_t set;
    sigemptyset(&set);
    struct sigaction sa = { .sa_handler = ignore_signal };
    for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) {
        sigaddset(&set, forwarded[i]);
        sigaction(forwarded[i], &sa, NULL);
    }
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, signal_thread, &set) == 0)
        pthread_detach(t);
}

void tm_init_enclave_main(const struct tm_init_args *a)
{
    tm_error err = { 0 };
    take_signals(NULL);
    char *packed = NULL;
    size_t packed_len;
    if (tm_ecall_pack_argv((int)a->spec->nargs, a->spec->args, &packed, &packed_len, &err) < 0) {
        fprintf(stderr, "teemate: %s\n", err.msg);
        _exit(1);
    }
    struct tm_ecall_call call = { .ecall = TM_ECALL_MAIN, .in = packed, .in_len = packed_len };
    double t0 = tm_now_ms();
    int ret = tm_attach_ecall(attachment, 0, &call, &err);
    double run_ms = tm_now_ms() - t0;
    fflush(stdout);
    if (a->o->enclave_stats)
        tm_attach_print_stats(attachment, run_ms, stderr);
    if (ret < 0) {
        fprintf(stderr, "teemate: %s\n", err.msg);
        _exit(1);
    }
    tm_detach(attachment);
    _exit((int)(call.retval & 0xff));
}

void tm_init_call_main(const struct tm_init_args *a)
{
    take_signals(a->o);
    int code = a->o->init_main(a->o->init_ctx, attachment);
    fflush(NULL);
    tm_detach(attachment);
    _exit(code & 0xff);
}
