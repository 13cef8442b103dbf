/* teemate fn invoke NAME: a new instance of the function, in a container of
 * its own (fn_invoke.c), runs main(params) once and prints the result JSON
 * on stdout (exit 0), or the error result (exit 1). teemate mode: the
 * container's init attaches to fn-NAME (its own slot and JS heap there, the
 * bytecode loaded without compiling; fn-NAME rebuilt first from the sealed
 * code if a daemon restart took it); native mode: the same runtime in init,
 * compiling the stored code; strawman mode: a fresh enclave built in init for
 * this one instance, the stored code compiled inside (strawman-edmm: its heap
 * added on demand). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cli_oci.h"
#include "cmd_fn.h"
#include "fn_invoke.h"
#include "util/cleanup.h"

static const char usage[] =
    "Usage: teemate fn invoke NAME [-p KEY VALUE]... [--params JSON] [--stats[=json]]\n"
    "                         [--socket PATH]\n\n"
    "Run the function in a new instance, in a container of its own (pid, mount,\n"
    "UTS, IPC and cgroup namespaces, the host's network; memory limit = the\n"
    "function's + 256 MiB, at most 64 pids; id fn-NAME-PID under --root), and\n"
    "print its result (JSON). A result with \"error\" (an exception, a result\n"
    "that is not an object, a run past the time limit or the memory limit, a\n"
    "container that died without a result) exits 1.\n\n"
    "Options:\n"
    "  -p KEY VALUE    a parameter: VALUE as JSON if it parses, else a string\n"
    "  --params JSON   parameters as one JSON object (-p adds to it)\n"
    "  --stats         print where the time went on stderr, one line\n"
    "  --stats=json    the same as one JSON object on stderr (times in ms):\n"
    "                  function, mode, ok, container_ms, enclave_build_ms, alias_ms,\n"
    "                  expand_ms, heap_ms, code_load_ms, run_ms, total_ms, epc_pages,\n"
    "                  memory_peak_bytes, expand_pages, container{cgroup_ms,clone_ms,setup_ms};\n"
    "                  expand_ms is spent inside heap_ms and run_ms (pages come as they\n"
    "                  are touched); the other phases add up to at most total_ms\n"
    "  --socket PATH   teemated's socket (teemate mode)\n";

enum { FN_STATS_NONE, FN_STATS_HUMAN, FN_STATS_JSON };

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

/* The human line on stderr: where the time went, mode by mode. */
static void fn_stats_print(const struct fn_record *rec, const struct fn_invoke_stats *s)
{
    fprintf(stderr, "%s: container create %.3f ms (cgroup %.3f, clone %.3f, setup %.3f), ",
            fn_mode_name(rec->mode), s->container_ms, s->container.cgroup_ms, s->container.clone_ms,
            s->container_ms - s->container.cgroup_ms - s->container.clone_ms);
    bool strawman = rec->mode == FN_MODE_STRAWMAN || rec->mode == FN_MODE_STRAWMAN_EDMM;
    if (strawman) {
        const struct fn_strawman_stats *st = &s->strawman;
        char size[32], expand[96] = "";
        if (rec->mode == FN_MODE_STRAWMAN_EDMM)   /* the heap came on demand: what that took */
            snprintf(expand, sizeof expand, "expand %llu pages in %.3f ms (inside heap and run), ",
                     (unsigned long long)s->expand_pages, s->expand_ms);
        fprintf(stderr,
                "enclave build %.3f ms (create %.3f, add+measure %.3f of %llu pages, init %.3f; %s "
                "ELRANGE), %scode load (entry + compile + load) %.3f ms, heap create %.3f ms, ",
                s->enclave_build_ms, st->create_ms, st->add_ms, (unsigned long long)st->pages_added,
                st->init_ms, tm_cli_size(st->enclave_size, size), expand, s->code_load_ms, s->heap_ms);
    } else if (rec->mode == FN_MODE_TEEMATE) {
        fprintf(stderr,
                "alias %.3f ms (connect %.3f, lease %.3f, map %.3f), first entry %.3f ms, expand "
                "%.3f ms (%llu pages, inside heap and run), heap create %.3f ms, code load %.3f ms, ",
                s->alias_ms, s->alias.connect_ms, s->alias.request_ms, s->alias.map_ms,
                s->alias.first_entry_ms, s->expand_ms, (unsigned long long)s->expand_pages,
                s->heap_ms, s->code_load_ms);
    } else {
        fprintf(stderr, "code load (compile + load) %.3f ms, heap create %.3f ms, ", s->code_load_ms,
                s->heap_ms);
    }
    fprintf(stderr, "run %.3f ms, total %.3f ms", s->run_ms, s->total_ms);
    if (strawman)
        fprintf(stderr, ", %llu EPC pages (not counted: sign %.3f ms, destroy %.3f ms)",
                (unsigned long long)s->epc_pages, s->strawman.sign_ms, s->strawman.destroy_ms);
    fprintf(stderr, "\n");
}

/* --stats=json: g-contract.md's object, one line on stderr. */
static int fn_stats_print_json(const struct fn_record *rec, const struct fn_invocation *inv,
                               const struct tm_cli_fn_build_stats *rb)
{
    const struct fn_invoke_stats *s = &inv->stats;
    double setup_ms = s->container_ms - s->container.cgroup_ms - s->container.clone_ms;
    json_t *j = json_pack(
        "{s:s, s:s, s:b, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:{s:f, s:f, s:f}}",
        "function", rec->name, "mode", fn_mode_name(rec->mode), "ok", inv->result.ok,
        "container_ms", s->container_ms, "enclave_build_ms", s->enclave_build_ms, "alias_ms",
        s->alias_ms, "expand_ms", s->expand_ms, "heap_ms", s->heap_ms, "code_load_ms",
        s->code_load_ms, "run_ms", s->run_ms, "total_ms", s->total_ms, "epc_pages",
        (json_int_t)s->epc_pages, "memory_peak_bytes", (json_int_t)s->memory_peak_bytes,
        "expand_pages", (json_int_t)s->expand_pages, "container", "cgroup_ms", s->container.cgroup_ms,
        "clone_ms", s->container.clone_ms, "setup_ms", setup_ms);
    if (j && inv->died[0])
        json_object_set_new(j, "died", json_string(inv->died));
    if (j && rb->built) {   /* fn-NAME was rebuilt from its sealed code first (not in total_ms) */
        json_object_set_new(j, "rebuilt", json_true());
        json_object_set_new(j, "rebuild_ms", json_real(rb->build_ms + rb->load_ms));
    }
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return -ENOMEM;
    fprintf(stderr, "%s\n", text);
    free(text);
    return 0;
}

int tm_cmd_fn_invoke(int argc, char **argv)
{
    static const struct option opts[] = {
        { "params", required_argument, NULL, 'P' }, { "stats", optional_argument, NULL, 'S' },
        { "socket", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    const char *base = NULL, *socket = NULL;
    char *kv[128];
    size_t nkv = 0;
    int stats = FN_STATS_NONE, c;
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
        case 'S':
            if (optarg && strcmp(optarg, "json"))
                return tm_cli_usage("fn invoke", "--stats takes no value or =json");
            stats = optarg ? FN_STATS_JSON : FN_STATS_HUMAN;
            break;
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
    char image[4096] = "";
    if ((rec.mode == FN_MODE_STRAWMAN || rec.mode == FN_MODE_STRAWMAN_EDMM) &&
        tm_cli_fn_image(image, sizeof image, &err) < 0)
        return tm_cli_fail(&err);
    char id[TM_CONTAINER_ID_MAX + 1];
    snprintf(id, sizeof id, "fn-%s-%d", rec.name, (int)getpid());
    struct fn_invoke_request req = {
        .rec = &rec, .services = &services, .params = params, .state_root = tm_cli_oci_root(),
        .daemon_socket = socket, .image = image, .id = id,
    };
    struct fn_invocation inv;
    struct tm_cli_fn_build_stats rb = { 0 };
    int r = fn_invoke(&req, &inv, &err);
    if (r < 0 && rec.mode == FN_MODE_TEEMATE && tm_cli_fn_enclave_gone(&rec, socket)) {
        /* fn-NAME is gone (a daemon restart): rebuilt from the sealed code, then the instance */
        if ((r = tm_cli_fn_restore(&rec, socket, &rb, &err)) == 0)
            r = fn_invoke(&req, &inv, &err);
    }
    if (r < 0)
        return tm_cli_fail(&err);
    if (rb.built && stats == FN_STATS_HUMAN)
        fprintf(stderr, "teemate: rebuilt fn-%s from its sealed code: enclave build %.3f ms, "
                "attach + unseal + compile %.3f ms\n", rec.name, rb.build_ms, rb.load_ms);
    if (inv.died[0])
        fprintf(stderr, "teemate: %s\n", inv.died);
    if (stats == FN_STATS_HUMAN)
        fn_stats_print(&rec, &inv.stats);
    else if (stats == FN_STATS_JSON && fn_stats_print_json(&rec, &inv, &rb) < 0)
        fprintf(stderr, "teemate: out of memory for the stats\n");
    struct fn_result res = inv.result;
    printf("%s\n", res.json);
    bool ok = res.ok;
    fn_result_free(&res);
    return ok ? 0 : TM_EXIT_ERROR;
}
