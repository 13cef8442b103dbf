/* teemate enclave inspect NAME [--json]. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>

#include "cli.h"
#include "daemon/client.h"
#include "util/cleanup.h"
#include "util/hex.h"

static const char usage[] =
    "Usage: teemate enclave inspect NAME [--json] [--socket PATH]\n\n"
    "Show a shared enclave: measurement and signer, backend, ELRANGE, TCSs\n"
    "and slots, EPC pages (shared, per attached process, total), and the\n"
    "processes attached (pid, slot, threads, parent slot of a forked child,\n"
    "EPC pages of its slot and their cap: attach --enclave-memory; in JSON\n"
    "epc_limit_pages, 0 for none). While CREATE still builds it: its state\n"
    "and pages added so far (no measurement yet). A slot or TCS that could not\n"
    "be given back whole after its process ended is quarantined: counted as in\n"
    "use, never handed out again, listed with the reason.\n\n"
    "Options:\n"
    "  --json          one JSON object instead of text\n";

static int print_json(const struct tm_enclave_info *e)
{
    char mre[65], mrs[65];
    json_t *procs = json_array();
    for (uint32_t i = 0; i < e->nattached && i < 64; i++) {
        const struct tm_attached_info *a = &e->attached[i];
        json_array_append_new(procs, json_pack("{s:I, s:i, s:i, s:i, s:i, s:I, s:I}",
            "attach_id", (json_int_t)a->attach_id, "pid", (int)a->pid, "slot", (int)a->slot,
            "parent_slot", (int)a->parent_slot, "threads", (int)a->threads,
            "epc_pages", (json_int_t)a->epc_pages, "epc_limit_pages", (json_int_t)a->epc_limit_pages));
    }
    json_t *quarantined = json_array();
    for (uint32_t i = 0; i < e->nquarantined && i < 16; i++)
        json_array_append_new(quarantined, json_pack("{s:s, s:i, s:s}", "kind",
            e->quarantined[i].tcs ? "tcs" : "slot", "index", (int)e->quarantined[i].index,
            "why", e->quarantined[i].why));
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:{s:i, s:i, s:i}, s:{s:i, s:i},"
                          " s:{s:I, s:I}, s:b, s:f, s:o}",
        "name", e->name, "image", e->image, "backend", e->backend,
        "mrenclave", tm_hex(mre, e->mrenclave, 32), "mrsigner", tm_hex(mrs, e->mrsigner, 32),
        "base", (json_int_t)e->base, "size", (json_int_t)e->size,
        "tcs", "total", (int)e->tcs_total, "leased", (int)e->tcs_leased, "made", (int)e->tcs_made,
        "slots", "total", (int)e->slots_total, "in_use", (int)e->slots_in_use,
        "epc_pages", "shared", (json_int_t)e->epc_shared, "total", (json_int_t)e->epc_total,
        "removing", e->removing, "create_ms", e->create_ms, "attached", procs);
    if (o)
        json_object_set_new(o, "quarantined", quarantined);
    else
        json_decref(quarantined);
    if (!o)
        return -1;
    json_object_set_new(o, "state", json_string(e->building ? "building" : "ready"));
    json_object_set_new(o, "build_pages_done", json_integer((json_int_t)e->build_pages_done));
    json_object_set_new(o, "build_pages_total", json_integer((json_int_t)e->build_pages_total));
    int ret = json_dumpf(o, stdout, JSON_INDENT(2));
    json_decref(o);
    putchar('\n');
    return ret;
}

static void print_text(const struct tm_enclave_info *e)
{
    char mre[65], mrs[65], size[32];
    printf("name:        %s%s\n", e->name, e->removing ? " (removed after the last detach)" : "");
    if (e->building)
        printf("state:       building, %llu of %llu pages added\n",
               (unsigned long long)e->build_pages_done, (unsigned long long)e->build_pages_total);
    else
        printf("state:       ready\n");
    printf("image:       %s\n", e->image);
    printf("backend:     %s\n", e->backend);
    printf("mrenclave:   %s\n", tm_hex(mre, e->mrenclave, 32));
    printf("mrsigner:    %s\n", tm_hex(mrs, e->mrsigner, 32));
    printf("elrange:     0x%llx, %s\n", (unsigned long long)e->base, tm_cli_size(e->size, size));
    if (e->tcs_made < e->tcs_total)
        printf("tcs:         %u leased, %u made of %u (the rest made as leases need them)\n",
               e->tcs_leased, e->tcs_made, e->tcs_total);
    else
        printf("tcs:         %u leased of %u\n", e->tcs_leased, e->tcs_total);
    printf("slots:       %u in use of %u\n", e->slots_in_use, e->slots_total);
    if (e->tcs_quarantined || e->slots_quarantined)
        printf("quarantined: %u slot%s, %u TCS%s (never handed out again)\n", e->slots_quarantined,
               e->slots_quarantined == 1 ? "" : "s", e->tcs_quarantined, e->tcs_quarantined == 1 ? "" : "s");
    for (uint32_t i = 0; i < e->nquarantined && i < 16; i++)
        printf("  %s %u: %s\n", e->quarantined[i].tcs ? "tcs" : "slot", e->quarantined[i].index,
               e->quarantined[i].why);
    printf("epc pages:   %llu (%llu shared, the rest in slots)\n", (unsigned long long)e->epc_total,
           (unsigned long long)e->epc_shared);
    printf("built in:    %.3f ms\n", e->create_ms);
    printf("attached:    %u process%s\n", e->nattached, e->nattached == 1 ? "" : "es");
    if (!e->nattached)
        return;
    printf("  %-8s %-8s %-5s %-7s %-7s %-8s %s\n", "PID", "ATTACH", "SLOT", "PARENT", "THREADS", "EPC",
           "LIMIT");
    for (uint32_t i = 0; i < e->nattached && i < 64; i++) {
        const struct tm_attached_info *a = &e->attached[i];
        char parent[16] = "-", limit[24] = "-";
        if (a->parent_slot >= 0)
            snprintf(parent, sizeof parent, "%d", a->parent_slot);
        if (a->epc_limit_pages)   /* pages, as EPC is */
            snprintf(limit, sizeof limit, "%llu", (unsigned long long)a->epc_limit_pages);
        printf("  %-8d %-8llu %-5u %-7s %-7u %-8llu %s\n", a->pid, (unsigned long long)a->attach_id,
               a->slot, parent, a->threads, (unsigned long long)a->epc_pages, limit);
    }
}

int tm_cmd_enclave_inspect(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "socket", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    const char *socket = NULL;
    bool json = false;
    int c;
    while ((c = tm_cli_getopt("enclave inspect", argc, argv, "h", opts)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 's': socket = optarg; break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind != argc - 1)
        return tm_cli_usage("enclave inspect", "expects one NAME");
    tm_error err = { 0 };
    if (tm_enclave_name_check(argv[optind], &err) < 0)
        return tm_cli_usage("enclave inspect", "%s", err.msg);
    _cleanup_close_ int conn = tm_cli_daemon_connect(socket, &err);
    static struct tm_enclave_info info;
    if (conn < 0 || tm_daemon_inspect(conn, argv[optind], &info, &err) < 0)
        return tm_cli_fail(&err);
    if (!json) {
        print_text(&info);
        return 0;
    }
    if (print_json(&info) < 0)
        return tm_error_set(&err, EIO, "cannot write the JSON"), tm_cli_fail(&err);
    return 0;
}
