/* teemate gateway: OpenWhisk's REST API for actions and activations
 * (apps/functions/gateway), until SIGTERM or SIGINT. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_oci.h"
#include "cmd_fn.h"
#include "daemon/client.h"
#include "gw.h"
#include "util/cleanup.h"
#include "util/size.h"

static const char usage[] =
    "Usage: teemate gateway [--listen HOST:PORT] [--state-dir DIR] [--show-key]\n"
    "                       [--socket PATH] [--workers N] [--queue N] [--max-body SIZE]\n"
    "                       [--blocking-wait SECONDS] [--memory-budget SIZE]\n"
    "                       [--idle SECONDS] [--no-reuse]\n\n"
    "Serve OpenWhisk's REST API (/api/v1/namespaces/_/actions, .../activations)\n"
    "with HTTP basic auth, for the namespace 'guest'. Actions are JavaScript\n"
    "(exec.kind nodejs:*, run on Duktape: ECMAScript 5.1), in the mode of their\n"
    "annotation teemate-mode (teemate by default, native, strawman,\n"
    "strawman-edmm). As OpenWhisk's invoker, the gateway keeps warm containers\n"
    "per action, one run at a time each: a free one is reused, else a new one\n"
    "is made (a cold start) while the memory budget allows, else the\n"
    "invocation waits. Annotation teemate-reuse false: every invocation cold.\n"
    "The key (uuid:secret) is made at first start, DIR/gateway/auth.key (0600).\n\n"
    "Options:\n"
    "  --listen HOST:PORT  where to listen (default 127.0.0.1:3233; port 0: any,\n"
    "                      the line on stdout says which)\n"
    "  --state-dir DIR     the state directory (sets TEEMATE_STATE_DIR); the\n"
    "                      gateway keeps actions and activations in DIR/gateway\n"
    "  --show-key          print the key (made if there is none) and exit\n"
    "  --socket PATH       teemated's socket (teemate-mode actions)\n"
    "  --workers N         invocations that run at once (default 4)\n"
    "  --queue N           invocations that may wait beyond them (default 64;\n"
    "                      past it: 429)\n"
    "  --max-body SIZE     request body limit (default 48m; past it: 413)\n"
    "  --blocking-wait S   a blocking invoke still running after S seconds is\n"
    "                      answered 202 with its activation id (default 60,\n"
    "                      OpenWhisk's); the run goes on\n"
    "  --memory-budget SIZE  warm containers' memory limits summed, at most\n"
    "                      this (default half the RAM)\n"
    "  --idle SECONDS      a warm container idle this long is removed (default 60)\n"
    "  --no-reuse          every invocation in a new container (cold)\n";

static const char *gw_cli_socket;

static int gw_cli_build(const struct fn_record *rec, const void *wire, size_t len, void **sealed,
                        size_t *sealed_len, tm_error *err)
{
    return tm_cli_fn_enclave_build(rec, gw_cli_socket, wire, len, sealed, sealed_len, NULL, err);
}

static int gw_cli_restore(const struct fn_record *rec, tm_error *err)
{
    return tm_cli_fn_restore(rec, gw_cli_socket, NULL, err);
}

static bool gw_cli_gone(const struct fn_record *rec)
{
    return tm_cli_fn_enclave_gone(rec, gw_cli_socket);
}

static int gw_cli_remove(const struct fn_record *rec, tm_error *err)
{
    char enclave[64];
    fn_enclave_name(rec->name, enclave);
    _cleanup_close_ int conn = tm_cli_daemon_connect(gw_cli_socket, err);
    if (conn < 0)
        return conn;
    return tm_daemon_remove(conn, enclave, true, NULL, err);
}

int tm_cmd_gateway(int argc, char **argv)
{
    static const struct option opts[] = {
        { "listen", required_argument, NULL, 'l' },   { "state-dir", required_argument, NULL, 'd' },
        { "show-key", no_argument, NULL, 'k' },       { "socket", required_argument, NULL, 's' },
        { "workers", required_argument, NULL, 'w' },  { "queue", required_argument, NULL, 'q' },
        { "max-body", required_argument, NULL, 'b' }, { "help", no_argument, NULL, 'h' },
        { "blocking-wait", required_argument, NULL, 'W' },
        { "memory-budget", required_argument, NULL, 'M' }, { "idle", required_argument, NULL, 'I' },
        { "no-reuse", no_argument, NULL, 'R' },
        { 0 },
    };
    struct gw_config cfg = {
        .listen = "127.0.0.1:3233", .workers = 4, .queue_max = 64, .body_max = GW_BODY_MAX_DEFAULT,
        .blocking_wait_ms = 60000, .idle_ms = 60000,
        .memory_budget = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE) / 2,
        .hooks = { gw_cli_build, gw_cli_restore, gw_cli_gone, gw_cli_remove },
    };
    if (argc >= 3 && !strcmp(argv[1], "--helper")) {   /* gw_spawn.c's */
        if (argc > 6 && *argv[6])
            gw_cli_socket = argv[6];
        return gw_helper_main(&cfg, argc - 2, argv + 2);
    }
    bool show_key = false;
    uint64_t v;
    int c;
    while ((c = tm_cli_getopt("gateway", argc, argv, "h", opts)) != -1) {
        switch (c) {
        case 'l': cfg.listen = optarg; break;
        case 'd':
            if (setenv("TEEMATE_STATE_DIR", optarg, 1) < 0)
                return TM_EXIT_ERROR;
            break;
        case 'k': show_key = true; break;
        case 's': gw_cli_socket = optarg; break;
        case 'w':
            if (tm_cli_parse_u64(optarg, 64, &v) < 0 || v == 0)
                return tm_cli_usage("gateway", "--workers takes 1 to 64");
            cfg.workers = (unsigned)v;
            break;
        case 'q':
            if (tm_cli_parse_u64(optarg, 100000, &v) < 0)
                return tm_cli_usage("gateway", "--queue takes 0 to 100000");
            cfg.queue_max = (unsigned)v;
            break;
        case 'b':
            if (tm_parse_size(optarg, 1ULL << 30, &v) < 0 || v == 0)
                return tm_cli_usage("gateway", "--max-body takes a size up to 1g (48m)");
            cfg.body_max = v;
            break;
        case 'W':
            if (tm_cli_parse_u64(optarg, 3600, &v) < 0 || v == 0)
                return tm_cli_usage("gateway", "--blocking-wait takes 1 to 3600 seconds");
            cfg.blocking_wait_ms = (unsigned)v * 1000;
            break;
        case 'M':
            if (tm_parse_size(optarg, 1ULL << 50, &v) < 0 || v == 0)
                return tm_cli_usage("gateway", "--memory-budget takes a size (e.g. 4g)");
            cfg.memory_budget = v;
            break;
        case 'I':
            if (tm_cli_parse_u64(optarg, 86400, &v) < 0 || v == 0)
                return tm_cli_usage("gateway", "--idle takes 1 to 86400 seconds");
            cfg.idle_ms = (unsigned)v * 1000;
            break;
        case 'R': cfg.no_reuse = true; break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind != argc)
        return tm_cli_usage("gateway", "takes no arguments");
    tm_error err = { 0 };
    char state[4096], dir[4200], image[4096] = "";
    if (tm_state_dir(state, sizeof state, &err) < 0)
        return tm_cli_fail(&err);
    cfg.state_dir = state;
    if (show_key) {
        char key[GW_KEY_MAX];
        snprintf(dir, sizeof dir, "%s/gateway", state);
        if ((mkdir(dir, 0700) < 0 && errno != EEXIST && tm_error_sys(&err, "%s", dir) < 0) ||
            gw_key_load_or_create(dir, key, sizeof key, &err) < 0)
            return tm_cli_fail(&err);
        printf("%s\n", key);
        return 0;
    }
    if (tm_cli_fn_image(image, sizeof image, &err) == 0)   /* the strawman modes need it */
        cfg.image = image;
    cfg.oci_root = tm_cli_oci_root();
    cfg.daemon_socket = gw_cli_socket;
    /* Every thread blocks them; this one takes them with sigwait. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct gw *g;
    if (gw_start(&cfg, &g, &err) < 0)
        return tm_cli_fail(&err);
    printf("teemate gateway: listening on http://%.*s:%u (namespace %s)\n",
           (int)(strrchr(cfg.listen, ':') - cfg.listen), cfg.listen, gw_port(g), GW_NAMESPACE);
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "teemate gateway: %s, stopping\n", strsignal(sig));
    gw_stop(g);
    return 0;
}
