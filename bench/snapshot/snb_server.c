/* The servers bench/snapshot compares, each on a free port of 127.0.0.1 with
 * a dump dir of its own: Debian's redis-server (no automatic saves, no AOF:
 * only our BGSAVEs), `teemate kv serve --fork attach` and `--fork strawman`
 * in enclaves made by a teemated of our own, and `--no-enclave`. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_proc.h"
#include "snb.h"

const char *const snb_target_names[SNB_TARGETS] = { "redis-server", "teemate --fork attach",
                                                    "teemate --fork strawman", "teemate --no-enclave",
                                                    "teemate --fork ahead" };
const char *const snb_target_short[SNB_TARGETS] = { "redis", "attach", "strawman", "no-enclave", "ahead" };

#define SNB_NO_BGSAVE "no BGSAVE yet: "

/* A Ctrl-C or kill: the dumps under /dev/shm are memory (GBs at the
 * largest sizes), so they go before the bench does; the servers get
 * SIGTERM as it ends (tm_bench_spawn's PDEATHSIG). Only async-signal-safe
 * calls in the handler: fork, execv, waitpid, signal, raise. */
static char *snb_rm_argv[] = { "/bin/rm", "-rf", "--", NULL, NULL, NULL };

static void snb_on_signal(int sig)
{
    pid_t pid = fork();
    if (pid == 0) {
        execv(snb_rm_argv[0], snb_rm_argv);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void snb_clean_on_signals(struct snb_env *env)
{
    snb_rm_argv[3] = env->work, snb_rm_argv[4] = env->dumps;
    struct sigaction sa = { .sa_handler = snb_on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

int snb_env_start(struct snb_env *env, const struct snb_options *o)
{
    tm_bench_loadavg(env->load_start, sizeof env->load_start);
    env->value_bytes = o->value_bytes;
    snprintf(env->work, sizeof env->work, "/tmp/bench-snapshot-XXXXXX");
    if (!mkdtemp(env->work))
        return perror("snapshot: mkdtemp"), -1;
    /* dumps in memory by default: the total BGSAVE time is the snapshot's,
     * not this VM's disk's */
    const char *base = o->dump_dir ? o->dump_dir : access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(env->dumps, sizeof env->dumps, "%.40s/bench-snapshot-XXXXXX", base);
    if (!mkdtemp(env->dumps)) {
        fprintf(stderr, "snapshot: mkdtemp in %s: %s\n", base, strerror(errno));
        return -1;
    }
    snb_clean_on_signals(env);
    snprintf(env->pipe_file, sizeof env->pipe_file, "%s/load.resp", env->work);
    env->teemate = o->teemate;
    char *probe[] = { (char *)o->teemate, "kv", "serve", "--help", NULL };
    static char help[16384];
    env->have_kv = tm_bench_run(probe, NULL, help, sizeof help) == 0;
    env->have_fork = env->have_kv && strstr(help, "--fork");
    env->have_ahead = env->have_fork && strstr(help, "ahead");
    env->have_save = env->have_kv && strstr(help, "--save");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", o->teemate);
    char *slash = strrchr(dir, '/');
    snprintf(env->image, sizeof env->image, "%.*s/apps/kv/kv.elf", slash ? (int)(slash - dir) : 1,
             slash ? dir : ".");
    env->have_enclave = env->have_kv && geteuid() == 0 && access(env->image, R_OK) == 0;
    snprintf(env->sock, sizeof env->sock, "%s/teemated.sock", env->work);
    char state[200], log[200];
    snprintf(state, sizeof state, "%s/state", env->work);
    setenv("TEEMATE_STATE_DIR", state, 1);
    env->daemon = 0;
    if (!env->have_enclave)
        return 0;
    snprintf(log, sizeof log, "%s/daemon.log", env->work);
    env->daemon = tm_bench_daemon_start(o->teemate, env->sock, log);
    if (env->daemon <= 0) {
        env->daemon = 0;
        fprintf(stderr, "snapshot: teemated did not start (its log: %s); no enclave runs\n", log);
        env->have_enclave = false;
    }
    return 0;
}

void snb_env_stop(struct snb_env *env)
{
    tm_bench_loadavg(env->load_end, sizeof env->load_end);
    if (env->daemon > 0)
        tm_bench_stop(&env->daemon, 10);
    char *argv[] = { "rm", "-rf", env->work, env->dumps, NULL };
    if (tm_bench_run(argv, NULL, NULL, 0) != 0)
        fprintf(stderr, "snapshot: could not remove %s and %s\n", env->work, env->dumps);
}

const char *snb_env_daemon_gone(struct snb_env *env)
{
    int status;
    if (env->daemon > 0 && waitpid(env->daemon, &status, WNOHANG) == env->daemon) {
        env->daemon = 0;
        if (WIFSIGNALED(status))
            snprintf(env->daemon_gone, sizeof env->daemon_gone, "the bench's teemated ended by signal %d "
                     "(not the bench's doing: something else on the machine stopped it)", WTERMSIG(status));
        else
            snprintf(env->daemon_gone, sizeof env->daemon_gone, "the bench's teemated exited with %d "
                     "(a SIGTERM from outside the bench ends it so)", WEXITSTATUS(status));
        fprintf(stderr, "snapshot: %s; the enclave servers' BGSAVEs fail from here on\n", env->daemon_gone);
    }
    return env->daemon_gone[0] ? env->daemon_gone : NULL;
}

/* Until a connection answers PING (30 s at most). */
static bool snb_wait_ready(struct snb_server *s)
{
    for (int i = 0; i < 600; i++) {
        char out[64];
        if (snb_connect(&s->conn, s->port) == 0) {
            if (snb_call(&s->conn, out, sizeof out, "PING", NULL) == '+' && !strcmp(out, "PONG"))
                return true;
            snb_close(&s->conn);
        }
        if (kill(s->pid, 0) != 0)
            return false;
        tm_bench_pause_ms(50);   /* polling for the server to listen */
    }
    return false;
}

/* What the server says to an empty BGSAVE: done, missing, or failed. */
static bool snb_probe_bgsave(struct snb_server *s)
{
    struct snb_save save;
    snb_bgsave(&s->conn, s->dir, &save);
    if (save.ok)
        return true;
    bool missing = strstr(save.why, "unknown command") || strstr(save.why, "ERR unknown");
    snprintf(s->why, sizeof s->why, "%s%.200s", missing ? SNB_NO_BGSAVE : "BGSAVE on the empty store: ",
             save.why);
    return false;
}

bool snb_server_start(struct snb_env *env, int t, struct snb_server *s)
{
    memset(s, 0, sizeof *s);
    s->target = t, s->conn.fd = -1;
    if (t != SNB_REDIS && !env->have_kv)
        return snprintf(s->why, sizeof s->why, "%.200s kv serve does not run", env->teemate), false;
    /* attach is what kv serve's BGSAVE does; --fork chooses once it exists */
    if (t == SNB_STRAWMAN && !env->have_fork)
        return snprintf(s->why, sizeof s->why, SNB_NO_BGSAVE "`teemate kv serve --help` has no --fork "
                        "(strawman)"), false;
    if (t == SNB_AHEAD && !env->have_ahead)
        return snprintf(s->why, sizeof s->why, SNB_NO_BGSAVE "`teemate kv serve --help` has no --fork "
                        "ahead"), false;
    if ((t == SNB_ATTACH || t == SNB_STRAWMAN || t == SNB_AHEAD) && !env->have_enclave)
        return snprintf(s->why, sizeof s->why, "needs root, %.200s and teemated", env->image), false;
    int port = tm_bench_free_port();
    if (port <= 0)
        return snprintf(s->why, sizeof s->why, "no free port"), false;
    s->port = (unsigned)port;
    /* a dir per server: kv serve loads the dump it finds at start */
    snprintf(s->dir, sizeof s->dir, "%s/%s-%d", env->dumps, snb_target_short[t], port);
    if (mkdir(s->dir, 0700) < 0)
        return snprintf(s->why, sizeof s->why, "mkdir %.128s: %.100s", s->dir, strerror(errno)), false;
    char p[16], name[32];
    snprintf(p, sizeof p, "%u", s->port);
    snprintf(name, sizeof name, "snap-%s", snb_target_short[t]);
    snprintf(s->log, sizeof s->log, "%s/%s-%u.log", env->work, snb_target_short[t], s->port);
    char *argv[24];
    int n = 0;
    if (t == SNB_REDIS) {
        char *r[] = { "redis-server", "--port", p, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                      "--dir", s->dir, "--dbfilename", "dump.rdb" };
        memcpy(argv, r, sizeof r), n = sizeof r / sizeof r[0];
    } else {
        char *k[] = { (char *)env->teemate, "kv", "serve", "--port", p, "--dir", s->dir };
        memcpy(argv, k, sizeof k), n = sizeof k / sizeof k[0];
        if (env->have_save)   /* no save points: only the bench's BGSAVEs */
            argv[n++] = "--save", argv[n++] = "";
        if (t == SNB_NOENCLAVE)
            argv[n++] = "--no-enclave";
        else
            argv[n++] = "--name", argv[n++] = name, argv[n++] = "--socket", argv[n++] = env->sock;
        if (t != SNB_NOENCLAVE && env->have_fork)
            argv[n++] = "--fork",
            argv[n++] = t == SNB_ATTACH ? "attach" : t == SNB_AHEAD ? "ahead" : "strawman";
    }
    argv[n] = NULL;
    s->pid = tm_bench_spawn(argv, s->log, -1, -1);
    if (s->pid <= 0 || !snb_wait_ready(s)) {
        snprintf(s->why, sizeof s->why, "did not start (its log: %.200s)", s->log);
        snb_server_stop(s);
        return false;
    }
    char info[8192];
    if (snb_call(&s->conn, info, sizeof info, "INFO", "memory", NULL) != '$' ||
        (s->used_empty = snb_info_ll(info, "used_memory")) < 0) {
        snprintf(s->why, sizeof s->why, "no used_memory in INFO memory");
        snb_server_stop(s);
        return false;
    }
    s->used = s->used_empty;
    if (!snb_probe_bgsave(s)) {
        snb_server_stop(s);
        return false;
    }
    s->up = true;
    return true;
}

void snb_server_stop(struct snb_server *s)
{
    snb_close(&s->conn);
    if (s->pid > 0)
        tm_bench_stop(&s->pid, 30);
    s->up = false;
    if (s->dir[0]) {   /* its dump: up to a GB of memory under /dev/shm */
        char *argv[] = { "rm", "-rf", s->dir, NULL };
        tm_bench_run(argv, NULL, NULL, 0);
        s->dir[0] = '\0';
    }
}

bool snb_server_unsupported(const struct snb_server *s)
{
    return !strncmp(s->why, SNB_NO_BGSAVE, strlen(SNB_NO_BGSAVE));
}
