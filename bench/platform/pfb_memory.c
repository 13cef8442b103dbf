/* Memory while a configuration runs, sampled by pfb_load's sampler thread.
 * Enclave pages: teemate mode, the action's shared enclave as the daemon
 * counts it (its shared pages and every attached instance's slot);
 * strawman, the instances alive (containers in the bench's OCI root) times
 * the pages of one instance (its whole enclave, from a cold record); native,
 * none. Host memory: the resident set of the gateway and every process
 * under it (the containers and their instances; shared pages counted in
 * each process that maps them, an upper bound), and apart teemated's,
 * which holds every shared enclave of the bench (all actions', not only
 * the one measured). */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/client.h"
#include "fn_record.h"
#include "gw.h"
#include "pfb.h"
#include "util/cleanup.h"

unsigned pfb_containers(const struct pfb_ctx *c)
{
    DIR *d = opendir(c->oci);
    unsigned n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

#define PFB_MAX_PIDS 32768

/* Resident bytes of the process tree under root. */
static unsigned long long pfb_tree_rss(pid_t root)
{
    static pid_t pids[PFB_MAX_PIDS], ppids[PFB_MAX_PIDS];
    static bool in[PFB_MAX_PIDS];
    unsigned n = 0;
    DIR *d = opendir("/proc");
    for (struct dirent *e; d && n < PFB_MAX_PIDS && (e = readdir(d));) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        /* pid (comm) state ppid: comm may hold spaces, so after the last ')' */
        char *rp = f && fgets(buf, sizeof buf, f) ? strrchr(buf, ')') : NULL;
        int ppid;
        if (rp && sscanf(rp + 1, " %*c %d", &ppid) == 1) {
            pids[n] = atoi(e->d_name), ppids[n] = ppid, in[n] = pids[n] == root;
            n++;
        }
    }
    if (d)
        closedir(d);
    /* descendants: mark until nothing changes (a tree a few levels deep) */
    for (bool more = true; more;) {
        more = false;
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = 0; !in[i] && j < n; j++)
                if (in[j] && ppids[i] == pids[j])
                    in[i] = more = true;
    }
    unsigned long long bytes = 0;
    long page = sysconf(_SC_PAGESIZE);
    for (unsigned i = 0; i < n; i++) {
        if (!in[i])
            continue;
        char path[64];
        unsigned long long size, rss;
        snprintf(path, sizeof path, "/proc/%d/statm", (int)pids[i]);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (f && fscanf(f, "%llu %llu", &size, &rss) == 2)
            bytes += rss * (unsigned long long)page;
    }
    return bytes;
}

void pfb_memory_sample(struct pfb_ctx *c, const char *action, enum pfb_mode m,
                       unsigned long long strawman_epc, struct pfb_memory *out)
{
    memset(out, 0, sizeof *out);
    out->containers = pfb_containers(c);
    out->host = pfb_tree_rss(c->gw_pid);
    out->daemon = pfb_tree_rss(c->daemon_pid);
    if (m == PFB_NATIVE) {
        out->have_epc = true;
    } else if (m == PFB_STRAWMAN) {
        out->have_epc = strawman_epc > 0;
        out->epc = strawman_epc * out->containers;
    } else {
        static struct tm_enclave_info info;
        char rec[FN_NAME_MAX + 1], enclave[64];
        tm_error err = { 0 };
        gw_action_record_name(action, rec);
        fn_enclave_name(rec, enclave);
        _cleanup_close_ int conn = tm_daemon_connect(c->socket, false, NULL, &err);
        if (conn >= 0 && tm_daemon_inspect(conn, enclave, &info, &err) == 0)
            out->epc = info.epc_total, out->have_epc = true;
    }
}
