/* teemate events --stats: one sample of a container's cgroup counters. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cli_oci.h"
#include "container/cgroup.h"
#include "container/container.h"
#include "container/state.h"
#include "daemon/client.h"
#include "util/cleanup.h"

static const char usage[] =
    "Usage: teemate events --stats ID\n\n"
    "Print one JSON object with the resource usage of the container ID, read\n"
    "from its cgroup:\n"
    "  {\"type\":\"stats\",\"id\":ID,\"data\":{\"memory\":{usage,limit,max,failcnt,oom_kill},\n"
    "   \"pids\":{current,limit},\"cpu\":{usage_ns},\n"
    "   \"enclave\":{name,slot,epc_pages,epc_limit_pages}}}\n"
    "in bytes, nanoseconds and 4 KiB pages; a limit that is not set is null, the\n"
    "enclave section is there for a container of a shared enclave while its\n"
    "process is attached (teemated's count of its slot), and a section\n"
    "whose controller this host lacks is left out. (runc's event stream without\n"
    "--stats is not implemented.)\n\n"
    "Options:\n"
    "  --stats   print the sample and exit (required)\n";

/* UINT64_MAX ("no limit") as null: JSON integers here are signed 64-bit. */
static json_t *limit(uint64_t v)
{
    return v == UINT64_MAX ? json_null() : json_integer((json_int_t)v);
}

static json_t *stats_json(const char *id, const struct tm_cgroup_stats *s)
{
    json_t *data = json_object();
    if (s->have & TM_CGROUP_MEMORY)
        json_object_set_new(data, "memory",
                            json_pack("{s:I, s:o, s:I, s:I, s:I}", "usage", (json_int_t)s->memory_current,
                                      "limit", limit(s->memory_limit), "max", (json_int_t)s->memory_peak,
                                      "failcnt", (json_int_t)s->memory_failcnt,
                                      "oom_kill", (json_int_t)s->memory_oom_kills));
    if (s->have & TM_CGROUP_PIDS)
        json_object_set_new(data, "pids", json_pack("{s:I, s:o}", "current", (json_int_t)s->pids_current,
                                                    "limit", limit(s->pids_limit)));
    if (s->have & (TM_CGROUP_CPU | TM_CGROUP_CPUACCT))
        json_object_set_new(data, "cpu", json_pack("{s:I}", "usage_ns", (json_int_t)s->cpu_usage_ns));
    return json_pack("{s:s, s:s, s:o}", "type", "stats", "id", id, "data", data);
}

/* The enclave memory of the container's slot, as teemated counts it; NULL
 * when the container is not (or no longer) attached. */
static json_t *enclave_json(const struct tm_container_state *st)
{
    tm_error err = { 0 };
    bool started;
    _cleanup_close_ int conn = tm_daemon_connect(NULL, false, &started, &err);
    struct tm_enclave_info info;
    if (conn < 0 || tm_daemon_inspect(conn, st->enclave, &info, &err) < 0)
        return NULL;
    for (uint32_t i = 0; i < info.nattached && i < 64; i++) {
        const struct tm_attached_info *a = &info.attached[i];
        if (a->pid == st->pid)
            return json_pack("{s:s, s:i, s:I, s:o}", "name", st->enclave, "slot", (int)a->slot, "epc_pages",
                             (json_int_t)a->epc_pages, "epc_limit_pages",
                             a->epc_limit_pages ? json_integer((json_int_t)a->epc_limit_pages) : json_null());
    }
    return NULL;
}

int tm_cmd_events(int argc, char **argv)
{
    static const struct option opts[] = {
        { "stats", no_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    bool stats = false;
    int c;
    while ((c = tm_cli_getopt("events", argc, argv, "h", opts)) != -1) {
        switch (c) {
        case 's': stats = true; break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (!stats)
        return tm_cli_usage("events", "only --stats is supported");
    const char *id = tm_cli_oci_one_id("events", argc, argv);
    if (!id)
        return TM_EXIT_USAGE;
    tm_error err = { 0 };
    struct tm_cgroup_stats s = { 0 };
    if (tm_container_stats(tm_cli_oci_root(), id, &s, &err) < 0)
        return tm_cli_fail(&err);
    struct tm_container_state st;
    if (tm_state_load(tm_cli_oci_root(), id, &st, &err) < 0)
        return tm_cli_fail(&err);
    json_t *enclave = st.enclave[0] ? enclave_json(&st) : NULL;
    tm_state_clear(&st);
    json_t *j = stats_json(id, &s);
    if (j && enclave)
        json_object_set_new(json_object_get(j, "data"), "enclave", enclave);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        tm_error_set(&err, ENOMEM, "events: cannot encode the stats");
        return tm_cli_fail(&err);
    }
    puts(text);
    free(text);
    return 0;
}
