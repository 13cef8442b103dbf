/* teemate fn serve: one OpenWhisk action container's runtime (the action
 * protocol: POST /init, then POST /run), in any of the four modes. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_fn.h"
#include "fn_serve.h"
#include "util/size.h"

static const char usage[] =
    "Usage: teemate fn serve [--listen HOST:PORT | --unix PATH]\n"
    "                        [--mode native|teemate|strawman|strawman-edmm]\n"
    "                        [--memory SIZE] [--timeout S] [--instances N] [--socket PATH]\n\n"
    "Serve OpenWhisk's action protocol for one action: POST /init with\n"
    "{\"value\":{\"code\",\"main\",\"binary\",\"env\"}} once, then POST /run with\n"
    "{\"value\":PARAMS,...}, one run at a time. console.log goes to stdout; each\n"
    "init and run ends with XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX on stdout and\n"
    "stderr. The function reads OpenWhisk's __OW_* values from process.env.\n\n"
    "Options:\n"
    "  --listen HOST:PORT  TCP address (default 0.0.0.0:8080; port 0: any, printed)\n"
    "  --unix PATH         listen on a unix socket instead\n"
    "  --mode M            teemate (default): the shared enclave fn-code-<hash of code\n"
    "                      and main>, built and the code compiled by the first server\n"
    "                      with that code, attached to by the others; native: no\n"
    "                      enclave; strawman(-edmm): a private enclave built at /init\n"
    "  --memory SIZE       the instance's JS heap limit (default 256m)\n"
    "  --timeout S         a run's time limit in seconds (default 60); a request's\n"
    "                      deadline may shorten it\n"
    "  --instances N       teemate mode: the shared enclave's slots (1-255, default 64)\n"
    "  --socket PATH       teemated's socket (teemate mode)\n";

int tm_cmd_fn_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        { "listen", required_argument, NULL, 'L' },  { "unix", required_argument, NULL, 'u' },
        { "mode", required_argument, NULL, 'M' },    { "memory", required_argument, NULL, 'm' },
        { "timeout", required_argument, NULL, 't' }, { "instances", required_argument, NULL, 'n' },
        { "socket", required_argument, NULL, 's' },  { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    struct fn_serve s = { .o = { .mode = FN_MODE_TEEMATE, .memory = 256ULL << 20,
                                 .timeout_ms = FN_DEFAULT_TIMEOUT_MS,
                                 .instances = FN_DEFAULT_INSTANCES,
                                 .build = tm_cli_fn_serve_build } };
    const char *listen = "0.0.0.0:8080", *unix_path = NULL;
    uint64_t v;
    int c;
    while ((c = tm_cli_getopt("fn serve", argc, argv, "h", opts)) != -1) {
        switch (c) {
        case 'L': listen = optarg; break;
        case 'u': unix_path = optarg; break;
        case 'M':
            if (fn_mode_parse(optarg, &s.o.mode) < 0)
                return tm_cli_usage("fn serve", "unknown mode '%s' (native, teemate, strawman or strawman-edmm)", optarg);
            break;
        case 'm':
            if (tm_parse_size(optarg, UINT64_MAX, &v) < 0 || v < (1U << 20))
                return tm_cli_usage("fn serve", "--memory takes a size of at least 1m (256m, 1g)");
            s.o.memory = v;
            break;
        case 't':
            if (tm_cli_parse_u64(optarg, 3600, &v) < 0 || v == 0)
                return tm_cli_usage("fn serve", "--timeout takes 1 to 3600 seconds");
            s.o.timeout_ms = v * 1000;
            break;
        case 'n':
            if (tm_cli_parse_u64(optarg, FN_MAX_INSTANCES, &v) < 0 || v == 0)
                return tm_cli_usage("fn serve", "--instances takes 1 to %d", FN_MAX_INSTANCES);
            s.o.instances = (uint32_t)v;
            break;
        case 's': s.o.socket = optarg; break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind != argc)
        return tm_cli_usage("fn serve", "takes no arguments");
    tm_error err = { 0 };
    char image[4096], store[4200];
    struct fn_services services;
    if (tm_cli_fn_services(&services, store, sizeof store, &err) < 0)
        return tm_cli_fail(&err);
    services.log_fd = 1;   /* OpenWhisk reads an activation's logs from stdout */
    s.o.services = &services;
    if (s.o.mode != FN_MODE_NATIVE) {
        if (tm_cli_fn_image(image, sizeof image, &err) < 0)
            return tm_cli_fail(&err);
        s.o.image = image;
    }
    return fn_serve_listen(&s, listen, unix_path, &err) < 0 ? tm_cli_fail(&err) : 0;
}
