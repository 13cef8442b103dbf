/* teemate events: a container's stats every --interval and its OOM kills,
 * as JSON lines in runc's shape; --stats for one sample. */
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
#include "util/duration.h"

static const char usage[] =
    "Usage: teemate events [--interval DURATION] [--stats] ID\n\n"
    "Print the events of the container ID as JSON lines, as runc does: every\n"
    "DURATION (default 5s; Go's syntax: 500ms, 1s, 1m30s) its resource usage,\n"
    "read from its cgroup,\n"
    "  {\"type\":\"stats\",\"id\":ID,\"data\":{\"cpu\":{\"usage\":{\"total\"}},\n"
    "   \"memory\":{\"usage\":{\"usage\",\"limit\",\"max\",\"failcnt\"},\"oom_kill\"},\n"
    "   \"pids\":{\"current\",\"limit\"},\n"
    "   \"enclave\":{\"name\",\"slot\",\"epc_pages\",\"epc_limit_pages\"}}}\n"
    "(bytes, nanoseconds, 4 KiB pages), and\n"
    "  {\"type\":\"oom\",\"id\":ID}\n"
    "each time the kernel's OOM killer kills in the container's cgroup, at once\n"
    "(cgroup v2: memory.events watched with inotify; v1: the memory.oom_control\n"
    "eventfd). The stream ends, with status 0, when the container is deleted\n"
    "(on cgroup v2 also when its last process exits). A memory limit that is not\n"
    "set is null, a pids limit is left out; the enclave section is there for a\n"
    "container of a shared enclave while its process is attached (teemated's\n"
    "count of its slot); a section whose controller this host lacks is left out.\n"
    "A stopped container: \"container with id ID is not running\".\n\n"
    "Options:\n"
    "  --interval DURATION   time between two stats lines (default 5s)\n"
    "  --stats               print one stats line and exit\n";

static json_t *memory_json(const struct tm_cgroup_stats *s)
{
    /* UINT64_MAX ("no limit") as null: JSON integers here are signed 64-bit */
    json_t *limit = s->memory_limit == UINT64_MAX ? json_null() : json_integer((json_int_t)s->memory_limit);
    return json_pack("{s:{s:o, s:I, s:I, s:I}, s:I}", "usage", "limit", limit, "usage",
                     (json_int_t)s->memory_current, "max", (json_int_t)s->memory_peak, "failcnt",
                     (json_int_t)s->memory_failcnt, "oom_kill", (json_int_t)s->memory_oom_kills);
}

static json_t *stats_json(const char *id, const struct tm_cgroup_stats *s)
{
    json_t *data = json_object();
    if (s->have & (TM_CGROUP_CPU | TM_CGROUP_CPUACCT))
        json_object_set_new(data, "cpu", json_pack("{s:{s:I}, s:{}}", "usage", "total",
                                                   (json_int_t)s->cpu_usage_ns, "throttling"));
    if (s->have & TM_CGROUP_MEMORY)
        json_object_set_new(data, "memory", memory_json(s));
    if (s->have & TM_CGROUP_PIDS) {
        json_t *pids = json_pack("{s:I}", "current", (json_int_t)s->pids_current);
        if (pids && s->pids_limit != UINT64_MAX)   /* runc leaves an unset limit out */
            json_object_set_new(pids, "limit", json_integer((json_int_t)s->pids_limit));
        json_object_set_new(data, "pids", pids);
    }
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

/* One line on stdout, flushed at once: a reader follows the stream live. */
static int print_event(void *ctx, const struct tm_cgroup_stats *s, tm_error *err)
{
    const char *id = ctx;
    json_t *j;
    if (s) {
        j = stats_json(id, s);
        struct tm_container_state st;
        tm_error ignored = { 0 };
        if (j && tm_state_load(tm_cli_oci_root(), id, &st, &ignored) == 0) {
            json_t *enclave = st.enclave[0] ? enclave_json(&st) : NULL;
            if (enclave)
                json_object_set_new(json_object_get(j, "data"), "enclave", enclave);
            tm_state_clear(&st);
        }
    } else {
        j = json_pack("{s:s, s:s}", "type", "oom", "id", id);
    }
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return tm_error_set(err, ENOMEM, "events: cannot encode an event");
    int ok = puts(text) >= 0 && fflush(stdout) == 0;
    free(text);
    return ok ? 0 : tm_error_sys(err, "events: cannot write to stdout");
}

int tm_cmd_events(int argc, char **argv)
{
    static const struct option opts[] = {
        { "interval", required_argument, NULL, 'i' },
        { "stats", no_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    bool stats = false;
    int64_t interval_ns = 5000000000;
    int c;
    while ((c = tm_cli_getopt("events", argc, argv, "h", opts)) != -1) {
        switch (c) {
        case 'i':
            if (tm_duration_parse(optarg, &interval_ns) < 0)
                return tm_cli_usage("events", "invalid value \"%s\" for flag -interval: parse error", optarg);
            break;
        case 's': stats = true; break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    const char *id = tm_cli_oci_one_id("events", argc, argv);
    if (!id)
        return TM_EXIT_USAGE;
    tm_error err = { 0 };
    if (interval_ns <= 0) {
        tm_error_set(&err, EINVAL, "duration interval must be greater than 0");
        return tm_cli_fail(&err);
    }
    if (!stats)
        return tm_container_events(tm_cli_oci_root(), id, interval_ns, print_event, (void *)id, &err) < 0
                   ? tm_cli_fail(&err) : 0;
    struct tm_cgroup_stats s = { 0 };
    if (tm_container_check_live(tm_cli_oci_root(), id, &err) < 0 ||
        tm_container_stats(tm_cli_oci_root(), id, &s, &err) < 0 || print_event((void *)id, &s, &err) < 0)
        return tm_cli_fail(&err);
    return 0;
}
