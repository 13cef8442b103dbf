/* teemate kv serve: the Redis-compatible store (apps/kv). Argument parsing
 * only: the flags are redis.conf directives applied after the --config
 * file, so they override it. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_kv.h"
#include "kvh_serve.h"

static const char usage[] =
    "Usage: teemate kv serve [--port 6379] [--bind ADDR]... [--dir DIR] [--requirepass PASS]\n"
    "                        [--maxmemory SIZE] [--databases 16] [--config FILE] [--name NAME]\n"
    "                        [--save \"SECONDS CHANGES ...\"] [--dbfilename dump.rdb]\n"
    "                        [--fork attach|ahead|strawman] [--no-enclave] [--socket PATH]\n\n"
    "A key-value store that speaks Redis's protocol (RESP2): redis-cli and\n"
    "redis-benchmark work against it. Every key and value lives inside a shared\n"
    "enclave, kv-NAME, that teemated makes for the database; the server runs as a\n"
    "TeeMate container attached to it (root). This process only moves bytes.\n"
    "Stays in the foreground, logs to stderr as redis-server does, and stops\n"
    "cleanly on SIGTERM or SIGINT (or SHUTDOWN), saving first when save points\n"
    "are set, as Redis does. Snapshots (SAVE, BGSAVE, the save points) go to\n"
    "DIR/dbfilename, sealed inside the enclave (plain RDB with --no-enclave); the\n"
    "server loads that file at start. BGSAVE's child attaches to the same enclave\n"
    "and reads the data in place while the server keeps serving.\n\n"
    "Options (each is also a redis.conf directive; flags override the file):\n"
    "  --port N            TCP port (default 6379; 0: none)\n"
    "  --bind ADDR         address to listen on, repeatable (default 127.0.0.1)\n"
    "  --dir DIR           where dumps are written and read (default: the current\n"
    "                      directory)\n"
    "  --save SPEC         save points, Redis's syntax: \"3600 1 300 100 60 10000\"\n"
    "                      (the default), \"\" for none\n"
    "  --dbfilename NAME   the dump's file name in DIR (default dump.rdb)\n"
    "  --requirepass PASS  every command but AUTH, HELLO and QUIT needs AUTH first\n"
    "  --maxmemory SIZE    Redis's units: 100mb, 1gb, 1000k...; noeviction: writes get\n"
    "                      -OOM past it. The enclave's slot is maxmemory * 1.25 + 64 MiB\n"
    "                      (4 GiB when 0, the default: no limit but the slot)\n"
    "  --databases N       SELECT 0..N-1 (default 16)\n"
    "  --config FILE       redis.conf syntax: port, bind, dir, requirepass, maxmemory,\n"
    "                      maxmemory-policy noeviction, databases, hz, timeout,\n"
    "                      maxclients, loglevel, logfile, unixsocket, daemonize no,\n"
    "                      protected-mode, save, dbfilename,\n"
    "                      stop-writes-on-bgsave-error; appendonly no\n"
    "  --name NAME         the enclave is kv-NAME (default: the port)\n"
    "  --fork attach|ahead|strawman\n"
    "                      BGSAVE's child: attach (the default) reads the data in\n"
    "                      place; ahead is attach with the child forked and attached\n"
    "                      before BGSAVE (at start and after each save), so BGSAVE\n"
    "                      only wakes it; strawman, for comparison, builds an enclave of its\n"
    "                      own and gets the data over the attested channel while the\n"
    "                      server waits (the conventional confidential fork)\n"
    "  --no-enclave        the same store in this process, no enclave, no container\n"
    "                      (the baseline; no root needed)\n"
    "  --socket PATH       teemated's socket\n";

/* --kv-image: where kv.elf is (next to this binary, or $TEEMATE_KV_IMAGE). */
int tm_cli_kv_image(char *buf, size_t len, tm_error *err)
{
    const char *env = getenv("TEEMATE_KV_IMAGE");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return 0;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0)
        return tm_error_sys(err, "cannot find the teemate binary");
    exe[n] = '\0';
    snprintf(buf, len, "%s/apps/kv/kv.elf", dirname(exe));
    if (access(buf, R_OK) != 0)
        return tm_error_sys(err, "the store's enclave image %s (set TEEMATE_KV_IMAGE, or use "
                            "--no-enclave)", buf);
    return 0;
}

#define TM_KV_MAX_FLAGS 64

static int tm_cmd_kv_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        { "port", required_argument, NULL, 'p' },       { "bind", required_argument, NULL, 'b' },
        { "dir", required_argument, NULL, 'd' },        { "requirepass", required_argument, NULL, 'a' },
        { "maxmemory", required_argument, NULL, 'm' },  { "databases", required_argument, NULL, 'D' },
        { "config", required_argument, NULL, 'c' },     { "name", required_argument, NULL, 'n' },
        { "no-enclave", no_argument, NULL, 'N' },       { "socket", required_argument, NULL, 's' },
        { "save", required_argument, NULL, 'S' },       { "dbfilename", required_argument, NULL, 'F' },
        { "fork", required_argument, NULL, 'f' },       { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    static struct kvh_serve_options o;   /* large (settings): not on the stack */
    memset(&o, 0, sizeof o);
    char *flags[TM_KV_MAX_FLAGS][2];
    size_t nflags = 0;
    const char *config = NULL;
    int c;
    while ((c = tm_cli_getopt("kv serve", argc, argv, "h", opts)) != -1) {
        const char *directive = NULL;
        switch (c) {
        case 'p': directive = "port"; break;
        case 'b': directive = "bind"; break;
        case 'd': directive = "dir"; break;
        case 'a': directive = "requirepass"; break;
        case 'm': directive = "maxmemory"; break;
        case 'D': directive = "databases"; break;
        case 'S': directive = "save"; break;
        case 'F': directive = "dbfilename"; break;
        case 'c': config = optarg; break;
        case 'n': o.name = optarg; break;
        case 'N': o.no_enclave = true; break;
        case 's': o.socket = optarg; break;
        case 'f':
            if (strcmp(optarg, "attach") && strcmp(optarg, "ahead") && strcmp(optarg, "strawman"))
                return tm_cli_usage("kv serve", "--fork %s: attach, ahead or strawman", optarg);
            o.fork_strawman = !strcmp(optarg, "strawman");
            o.fork_ahead = !strcmp(optarg, "ahead");
            break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
        if (directive) {
            if (nflags == TM_KV_MAX_FLAGS)
                return tm_cli_usage("kv serve", "too many options");
            flags[nflags][0] = (char *)directive;
            flags[nflags++][1] = optarg;
        }
    }
    if (optind != argc)
        return tm_cli_usage("kv serve", "takes no arguments");
    if (o.fork_strawman && o.no_enclave)
        return tm_cli_usage("kv serve", "--fork strawman forks an enclave: not with --no-enclave");
    if (o.fork_ahead && o.no_enclave)   /* a fork(2) ahead of time would hold an old copy */
        return tm_cli_usage("kv serve", "--fork ahead shares the enclave: not with --no-enclave");
    tm_error err = { 0 };
    kvh_settings_default(&o.settings);
    if (config && kvh_conf_load(&o.settings, config, &err) < 0)
        return tm_cli_fail(&err);
    bool bind_seen = false;
    for (size_t i = 0; i < nflags; i++)
        if (kvh_conf_set(&o.settings, 2, flags[i], &bind_seen, &err) < 0)
            return tm_cli_usage("kv serve", "--%s %s: %s", flags[i][0], flags[i][1], err.msg);
    char name[16], image[4096];
    if (!o.name) {
        snprintf(name, sizeof name, "%u", o.settings.port);
        o.name = name;
    }
    if (!o.no_enclave && tm_cli_kv_image(image, sizeof image, &err) < 0)
        return tm_cli_fail(&err);
    o.image = image;
    o.config = config;
    /* the server runs in a container whose working directory is not ours */
    char dir[PATH_MAX];
    if (!realpath(o.settings.dir, dir))
        return tm_cli_usage("kv serve", "can't chdir to '%s': %s", o.settings.dir, strerror(errno));
    if (strlen(dir) >= sizeof o.settings.dir)
        return tm_cli_usage("kv serve", "--dir %s: the path is too long", dir);
    memcpy(o.settings.dir, dir, strlen(dir) + 1);
    o.pid = getpid();
    kvh_log_set_pid(o.pid);
    return kvh_serve(&o, &err) < 0 ? tm_cli_fail(&err) : 0;
}

int tm_cmd_kv(int argc, char **argv)
{
    if (argc < 2)
        return tm_cli_usage("kv", "expects a COMMAND (serve, export, import)");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("Usage: teemate kv COMMAND [OPTIONS]\n\nThe confidential key-value store (Redis's "
               "protocol).\n\nCommands:\n  serve     run the server in a shared enclave\n"
               "  export    unseal a sealed dump (dump.rdb) into a plain RDB file\n"
               "  import    seal a plain RDB file into a sealed dump\n");
        return 0;
    }
    if (!strcmp(argv[1], "serve"))
        return tm_cmd_kv_serve(argc - 1, argv + 1);
    if (!strcmp(argv[1], "export"))
        return tm_cmd_kv_export(argc - 1, argv + 1);
    if (!strcmp(argv[1], "import"))
        return tm_cmd_kv_import(argc - 1, argv + 1);
    return tm_cli_usage("kv", "unknown command '%s' (serve, export, import)", argv[1]);
}
