/* Memory with k concurrent instances: k `teemate fn invoke sleep-MODE` at
 * once, each sleeping long enough that all are alive together. teemate: the
 * shared enclave's EPC pages (every instance's slot included) and the
 * daemon's RSS, sampled from the daemon while all k hold a slot. strawman:
 * the sum of each instance's epc_pages (its whole enclave), and all alive at
 * once only if every run window overlaps. Host memory: the sum of the
 * containers' cgroup memory peaks. A row the machine has not the memory
 * for is not run, and says so. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "daemon/client.h"
#include "fnbench.h"
#include "util/cleanup.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

/* A "Key:   N kB" line of a /proc file, in bytes; 0 if absent. */
static unsigned long long fnb_proc_kb(const char *path, const char *key)
{
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    char line[256];
    unsigned long long kb;
    size_t klen = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, klen) && sscanf(line + klen, " %llu", &kb) == 1)
            return kb * 1024;
    return 0;
}

/* Has any child exited (not reaped)? */
static bool fnb_any_exited(void)
{
    siginfo_t si = { 0 };
    return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0;
}

/* teemate: sample the shared enclave while all k hold a slot, until one
 * ends: the most pages and RSS seen then (the last to attach may not have
 * its heap yet at the first sample). */
static void fnb_memory_sample(struct fnb_ctx *c, unsigned k, struct fnb_memory *out)
{
    tm_error err = { 0 };
    static struct tm_enclave_info info;
    char daemon_status[64];
    snprintf(daemon_status, sizeof daemon_status, "/proc/%d/status", (int)c->daemon_pid);
    double deadline = tm_bench_now_s() + out->sleep_s + 120;
    while (!fnb_any_exited() && tm_bench_now_s() < deadline) {
        _cleanup_close_ int conn = tm_daemon_connect(c->socket, false, NULL, &err);
        bool all = conn >= 0 && tm_daemon_inspect(conn, "fn-sleep-teemate", &info, &err) == 0 &&
                   info.slots_in_use >= k;
        if (!all && out->all_alive)
            return;
        if (all) {
            unsigned long long rss = fnb_proc_kb(daemon_status, "VmRSS:");
            out->all_alive = out->have_epc = true;
            out->epc_pages = info.epc_total > out->epc_pages ? info.epc_total : out->epc_pages;
            out->daemon_rss = rss > out->daemon_rss ? rss : out->daemon_rss;
        }
        nanosleep(&(struct timespec){ 0, 20000000 }, NULL);   /* the sampling period */
    }
}

void fnb_memory_run(struct fnb_ctx *c, enum fnb_mode m, unsigned k, double start_s,
                    unsigned long long epc_each, struct fnb_memory *out)
{
    memset(out, 0, sizeof *out);
    double need = (double)k * ((double)epc_each * 4096 + 32 * MIB) + 4 * GIB;   /* a margin for the rest of the machine */
    double avail = (double)fnb_proc_kb("/proc/meminfo", "MemAvailable:");
    if (avail < need) {
        snprintf(out->why, sizeof out->why, "not run: needs %.1f GB, %.1f GB available", need / GIB,
                 avail / GIB);
        return;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    out->sleep_s = 1 + 1.5 * k * start_s / (double)(cpus > 0 ? cpus : 1);
    if (out->sleep_s > 600)
        out->sleep_s = 600;
    char params[64], name[96];
    snprintf(params, sizeof params, "{\"sleep\":%.2f}", out->sleep_s);
    snprintf(name, sizeof name, "sleep-%s", fnb_mode_names[m]);
    static struct fnb_proc procs[FNB_MAX_INSTANCES];
    static struct fnb_sample samples[FNB_MAX_INSTANCES];
    unsigned started = 0;
    for (; started < k; started++)
        if (fnb_invoke_start(c, name, params, &procs[started]) < 0)
            break;
    if (m == FNB_TEEMATE && started == k)
        fnb_memory_sample(c, k, out);
    double last_start = 0, first_end = 1e300;
    bool have_host = false;
    unsigned nepc = 0;
    for (unsigned i = 0; i < started; i++) {
        struct fnb_sample *s = &samples[i];
        if (fnb_invoke_wait(c, &procs[i], s) < 0)
            continue;
        out->ok++;
        if (m != FNB_TEEMATE && s->have[FNB_EPC]) {
            out->epc_pages += (unsigned long long)s->v[FNB_EPC];
            nepc++;
        }
        if (s->have[FNB_MEMPEAK]) {
            out->host_bytes += (unsigned long long)s->v[FNB_MEMPEAK];
            have_host = true;
        }
        double run_s = s->have[FNB_RUN] ? s->v[FNB_RUN] / 1e3 : 0;
        last_start = s->exit_s - run_s > last_start ? s->exit_s - run_s : last_start;
        first_end = s->exit_s < first_end ? s->exit_s : first_end;
    }
    if (m == FNB_NATIVE)
        out->have_epc = true;   /* no enclave: 0 */
    else if (m != FNB_TEEMATE)
        out->have_epc = nepc == k;   /* never a sum with parts missing */
    if (m != FNB_TEEMATE)
        out->all_alive = out->ok == k && last_start < first_end;
    out->measured = out->ok == k;
    if (!out->measured)
        snprintf(out->why, sizeof out->why, "failed: %u of %u instances gave a result", out->ok, k);
    else if (!have_host)
        out->host_bytes = 0;
}
