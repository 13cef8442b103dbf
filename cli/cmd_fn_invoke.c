/* teemate fn invoke NAME: a new instance of the function runs main(params)
 * once and prints the result JSON on stdout (exit 0), or the error result
 * (exit 1). teemate mode: this process attaches to fn-NAME (its own slot and
 * JS heap there, the bytecode loaded without compiling); native mode: the
 * same runtime here, compiling the stored code; strawman mode: a fresh
 * enclave built here for this one instance, the stored code compiled inside. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "cmd_fn.h"
#include "shared/attach.h"
#include "util/cleanup.h"
#include "util/clock.h"

static const char usage[] =
    "Usage: teemate fn invoke NAME [-p KEY VALUE]... [--params JSON] [--stats]\n"
    "                         [--socket PATH]\n\n"
    "Run the function in a new instance and print its result (JSON). A result\n"
    "with \"error\" (an exception, a result that is not an object, a run past the\n"
    "time limit or the memory limit) exits 1.\n\n"
    "Options:\n"
    "  -p KEY VALUE    a parameter: VALUE as JSON if it parses, else a string\n"
    "  --params JSON   parameters as one JSON object (-p adds to it)\n"
    "  --stats         print where the time went on stderr\n"
    "  --socket PATH   teemated's socket (teemate mode)\n";

/* The params object: --params, then each -p. */
static char *fn_params_build(const char *base, char **kv, size_t nkv, tm_error *err)
{
    json_error_t je;
    json_t *p = base ? json_loads(base, JSON_DECODE_ANY, &je) : json_object();
    if (!p || !json_is_object(p)) {
        json_decref(p);
        tm_error_set(err, EINVAL, "--params takes a JSON object");
        return NULL;
    }
    for (size_t i = 0; i + 1 < nkv; i += 2) {
        json_t *v = json_loads(kv[i + 1], JSON_DECODE_ANY, &je);
        json_object_set_new(p, kv[i], v ? v : json_string(kv[i + 1]));
    }
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    if (!text)
        tm_error_set(err, ENOMEM, "out of memory");
    return text;
}

/* The stored scripts as FN_ECALL_LOAD's input. */
static int fn_invoke_wire(const struct fn_record *rec, void **wire, size_t *len, tm_error *err)
{
    char dir[4200], paths[FN_MAX_SCRIPTS][4400];
    char *argv[FN_MAX_SCRIPTS];
    int r = fn_record_dir(rec->name, false, dir, sizeof dir, err);
    if (r < 0)
        return r;
    for (uint32_t i = 0; i < rec->nscripts; i++) {
        fn_record_script_path(dir, rec, i, paths[i], sizeof paths[i]);
        argv[i] = paths[i];
    }
    return fn_sources_read(argv, rec->nscripts, wire, len, err);
}

static int fn_invoke_native(const struct fn_record *rec, const struct fn_services *services,
                            const struct fn_run_request *req, const char *params,
                            struct fn_result *res, double *load_ms, tm_error *err)
{
    _cleanup_free_ void *wire = NULL;
    size_t len;
    double t0 = tm_now_ms();
    fn_native_init(services);
    int r;
    if ((r = fn_invoke_wire(rec, &wire, &len, err)) < 0 ||
        (r = fn_native_load(wire, len, NULL, err)) < 0)
        return r;
    *load_ms = tm_now_ms() - t0;
    return fn_native_run(req, params, res, err);
}

static int fn_invoke_strawman(const struct fn_record *rec, const struct fn_services *services,
                              const struct fn_run_request *req, const char *params,
                              struct fn_result *res, bool stats, tm_error *err)
{
    char image[4096];
    _cleanup_free_ void *wire = NULL;
    size_t len;
    struct fn_strawman_stats st = { 0 };
    double t0 = tm_now_ms();
    int r = tm_cli_fn_image(image, sizeof image, err);
    if (r == 0)
        r = fn_invoke_wire(rec, &wire, &len, err);
    bool edmm = rec->mode == FN_MODE_STRAWMAN_EDMM;
    if (r == 0)
        r = (edmm ? fn_strawman_edmm_invoke : fn_strawman_invoke)(image, rec->memory, services, wire,
                                                                  len, req, params, res, &st, err);
    if (r < 0 || !stats)
        return r;
    char size[32], expand[80] = "";
    if (edmm)   /* the heap came on demand: what that took */
        snprintf(expand, sizeof expand, "expand %llu pages in %.3f ms, ",
                 (unsigned long long)st.expand_pages, st.expand_ms);
    fprintf(stderr,
            "%s: enclave build %.3f ms (create %.3f, add+measure %.3f of %llu pages, "
            "init %.3f; %s ELRANGE), %scode load (entry + compile) %.3f ms, heap create %.3f ms, "
            "run %.3f ms, total %.3f ms, %llu EPC pages (not counted: sign %.3f ms, destroy %.3f ms)\n",
            fn_mode_name(rec->mode), st.create_ms + st.add_ms + st.init_ms, st.create_ms, st.add_ms,
            (unsigned long long)st.pages_added, st.init_ms, tm_cli_size(st.enclave_size, size),
            expand, st.load_ms, st.heap_ms, st.run_ms, tm_now_ms() - t0 - st.sign_ms - st.destroy_ms,
            (unsigned long long)st.epc_pages, st.sign_ms, st.destroy_ms);
    return 0;
}

int tm_cmd_fn_invoke(int argc, char **argv)
{
    static const struct option opts[] = {
        { "params", required_argument, NULL, 'P' }, { "stats", no_argument, NULL, 'S' },
        { "socket", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    const char *base = NULL, *socket = NULL;
    char *kv[128];
    size_t nkv = 0;
    bool stats = false;
    int c;
    while ((c = tm_cli_getopt("fn invoke", argc, argv, "hp:", opts)) != -1) {
        switch (c) {
        case 'p':
            if (optind >= argc)
                return tm_cli_usage("fn invoke", "-p takes KEY VALUE");
            if (nkv == sizeof kv / sizeof kv[0])
                return tm_cli_usage("fn invoke", "at most %zu -p", sizeof kv / sizeof kv[0] / 2);
            kv[nkv++] = optarg;
            kv[nkv++] = argv[optind++];
            break;
        case 'P': base = optarg; break;
        case 'S': stats = true; break;
        case 's': socket = optarg; break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc)
        return tm_cli_usage("fn invoke", "expects one NAME");
    tm_error err = { 0 };
    struct fn_record rec;
    if (fn_record_load(argv[optind], &rec, &err) < 0)
        return tm_cli_fail(&err);
    _cleanup_free_ char *params = fn_params_build(base, kv, nkv, &err);
    if (!params)
        return tm_cli_usage("fn invoke", "%s", err.msg);
    struct fn_services services;
    char store[4200];
    if (tm_cli_fn_services(&services, store, sizeof store, &err) < 0)
        return tm_cli_fail(&err);
    struct fn_run_request req = { .timeout_ms = rec.timeout_ms, .memory_limit = rec.memory };
    struct fn_result res = { 0 };
    double t0 = tm_now_ms(), load_ms = 0, run_ms = 0;
    int r;
    if (rec.mode == FN_MODE_NATIVE) {
        r = fn_invoke_native(&rec, &services, &req, params, &res, &load_ms, &err);
        run_ms = tm_now_ms() - t0 - load_ms;
        if (r == 0 && stats)
            fprintf(stderr, "native: compile %.3f ms, run %.3f ms, total %.3f ms\n", load_ms,
                    run_ms, tm_now_ms() - t0);
    } else if (rec.mode == FN_MODE_STRAWMAN || rec.mode == FN_MODE_STRAWMAN_EDMM) {
        r = fn_invoke_strawman(&rec, &services, &req, params, &res, stats, &err);
    } else {
        char enclave[64];
        fn_enclave_name(rec.name, enclave);
        struct tm_attach_options o = { .socket_path = socket, .threads = 1 };
        struct tm_attachment *a = NULL;
        struct fn_stats st = { 0 };
        struct tm_cli_fn_build_stats rb = { 0 };
        r = tm_cli_fn_attach(&rec, &o, &a, &rb, &err);   /* rebuilds fn-NAME if it is gone */
        if (r == 0 && stats && rb.built)
            fprintf(stderr, "teemate: rebuilt %s from its sealed code: enclave build %.3f ms, "
                    "attach + unseal + compile %.3f ms\n", enclave, rb.build_ms, rb.load_ms);
        double t1 = tm_now_ms();
        if (r == 0)
            r = fn_enclave_run(a, &services, &req, params, &res, &err);
        run_ms = tm_now_ms() - t1;
        if (r == 0 && stats && fn_enclave_stats(a, &st, &err) == 0)
            fprintf(stderr,
                    "teemate: alias %.3f ms (connect %.3f, request %.3f, map %.3f), "
                    "heap create + code load %.3f ms, run %.3f ms, total %.3f ms\n",
                    a->stats.connect_ms + a->stats.request_ms + a->stats.map_ms, a->stats.connect_ms,
                    a->stats.request_ms, a->stats.map_ms, (double)st.create_ns / 1e6,
                    run_ms - (double)st.create_ns / 1e6, tm_now_ms() - t0);
        tm_detach(a);
    }
    if (r < 0)
        return tm_cli_fail(&err);
    printf("%s\n", res.json);
    bool ok = res.ok;
    fn_result_free(&res);
    return ok ? 0 : TM_EXIT_ERROR;
}
