/* The bench's own world: a state directory on tmpfs (so that disk writes of
 * activation records do not weigh on the figures), teemated on its own
 * socket, `teemate gateway` on a free loopback port with its key, and the
 * actions created through the REST API. Stopped in order at the end: the
 * gateway first (it removes its containers), then the daemon. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/magic.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "bench.h"
#include "bench_proc.h"
#include "pfb.h"
#include "util/cleanup.h"
#include "util/file.h"

const char *const pfb_mode_names[PFB_MODES] = { "native", "strawman", "teemate" };
const char *const pfb_setting_names[PFB_SETTINGS] = { "cold", "warm" };
const struct pfb_function pfb_functions[PFB_FUNCTIONS] = {
    { "empty", NULL, "function main(){return {};}" },
    { "crypto-md5", "crypto-md5.js", NULL },
};
volatile sig_atomic_t pfb_interrupted;

static bool pfb_is_tmpfs(const char *dir)
{
    struct statfs s;
    return statfs(dir, &s) == 0 && s.f_type == TMPFS_MAGIC && access(dir, W_OK) == 0;
}

static int pfb_daemon_start(struct pfb_ctx *c, tm_error *err)
{
    char log[300];
    snprintf(log, sizeof log, "%s/daemon.log", c->tmp);
    c->daemon_pid = tm_bench_daemon_start(c->teemate, NULL, log);
    if (c->daemon_pid < 0)
        return tm_error_set(err, EIO, "teemated did not start (%s)", log);
    return 0;
}

/* The gateway on port 0 (the kernel's choice, no race): its first line says which. */
static int pfb_gateway_start(struct pfb_ctx *c, tm_error *err)
{
    int p[2];
    char log[300], line[512] = "", workers[16], queue[16], wait[16];
    snprintf(log, sizeof log, "%s/gateway.log", c->tmp);
    snprintf(workers, sizeof workers, "%u", c->workers);
    snprintf(queue, sizeof queue, "%u", 4 * PFB_MAX_CLIENTS);   /* never a 429 from the bench's own load */
    /* a run still going by then is answered 202: counted as an error before the client gives up */
    snprintf(wait, sizeof wait, "%u", c->timeout_s > 5 ? c->timeout_s - 5 : 1);
    if (pipe2(p, O_CLOEXEC) < 0)
        return tm_error_sys(err, "pipe");
    char *argv[] = { c->teemate, "--root", c->oci, "gateway", "--listen", "127.0.0.1:0", "--socket",
                     c->socket, "--workers", workers, "--queue", queue, "--blocking-wait", wait, NULL };
    c->gw_pid = tm_bench_spawn(argv, log, p[1], -1);
    close(p[1]);
    size_t have = 0;
    while (c->gw_pid > 0 && have < sizeof line - 1 && !strchr(line, '\n')) {
        ssize_t n = read(p[0], line + have, sizeof line - 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        line[have += (size_t)n] = '\0';
    }
    close(p[0]);   /* the gateway prints nothing more to stdout */
    const char *at = strstr(line, "127.0.0.1:");
    if (!at || sscanf(at, "127.0.0.1:%d", &c->port) != 1)
        return tm_error_set(err, EIO, "teemate gateway did not start (%s)", log);
    return 0;
}

static int pfb_key(struct pfb_ctx *c, tm_error *err)
{
    char key[256], log[300];
    snprintf(log, sizeof log, "%s/gateway.log", c->tmp);
    char *argv[] = { c->teemate, "gateway", "--show-key", NULL };
    if (tm_bench_run(argv, log, key, sizeof key) != 0)
        return tm_error_set(err, EIO, "teemate gateway --show-key failed (%s)", log);
    key[strcspn(key, "\n")] = '\0';
    strcpy(c->auth, "Basic ");
    EVP_EncodeBlock((unsigned char *)c->auth + 6, (const unsigned char *)key, (int)strlen(key));
    return 0;
}

int pfb_setup(struct pfb_ctx *c, const char *teemate, tm_error *err)
{
    if (!realpath(teemate, c->teemate))
        return tm_error_sys(err, "cannot find %s", teemate);
    if (!realpath("apps/functions/js", c->js_dir))
        return tm_error_sys(err, "apps/functions/js (run from the repository root)");
    const char *base = pfb_is_tmpfs("/dev/shm") ? "/dev/shm" : "/tmp";
    c->tmp_tmpfs = pfb_is_tmpfs(base);
    snprintf(c->tmp, sizeof c->tmp, "%s/teemate-bench-platform.XXXXXX", base);
    if (!mkdtemp(c->tmp))
        return c->tmp[0] = '\0', tm_error_sys(err, "mkdtemp in %s", base);
    snprintf(c->state, sizeof c->state, "%s/state", c->tmp);
    snprintf(c->socket, sizeof c->socket, "%s/teemated.sock", c->tmp);
    snprintf(c->oci, sizeof c->oci, "%s/oci", c->tmp);
    setenv("TEEMATE_STATE_DIR", c->state, 1);
    setenv("TEEMATE_SOCKET", c->socket, 1);
    fprintf(stderr, "platform: state, socket and containers in %s (%s)\n", c->tmp,
            c->tmp_tmpfs ? "tmpfs" : "not tmpfs");
    int r = pfb_daemon_start(c, err);
    if (r == 0)
        r = pfb_gateway_start(c, err);
    if (r == 0)
        r = pfb_key(c, err);
    return r;
}

void pfb_teardown(struct pfb_ctx *c)
{
    int st = c->gw_pid > 0 ? tm_bench_stop(&c->gw_pid, 60) : 0;
    if (st != 0) {
        char log[300];
        snprintf(log, sizeof log, "%s/gateway.log", c->tmp);
        fprintf(stderr, "platform: the gateway's exit status was %d; the end of its log:\n", st);
        char *argv[] = { "tail", "-15", log, NULL };
        tm_bench_run(argv, "/dev/stderr", NULL, 0);
    }
    tm_bench_stop(&c->daemon_pid, 30);
    if (c->tmp[0]) {
        char *argv[] = { "rm", "-rf", c->tmp, NULL };
        tm_bench_run(argv, NULL, NULL, 0);
    }
}

void pfb_action_name(unsigned fi, enum pfb_mode m, enum pfb_setting s, char buf[96])
{
    snprintf(buf, 96, "%s-%s-%s", pfb_functions[fi].name, pfb_mode_names[m], pfb_setting_names[s]);
}

int pfb_action_create(struct pfb_ctx *c, unsigned fi, enum pfb_mode m, enum pfb_setting s, tm_error *err)
{
    const struct pfb_function *f = &pfb_functions[fi];
    _cleanup_free_ uint8_t *raw = NULL;
    _cleanup_free_ char *code = NULL, *body = NULL, *answer = NULL;
    char name[96], path[4200];
    size_t len, alen;
    if (f->js) {
        snprintf(path, sizeof path, "%s/%s", c->js_dir, f->js);
        if (tm_file_read(path, 1 << 20, &raw, &len, err) < 0)
            return -1;
        if (!(code = strndup((char *)raw, len)))
            return tm_error_set(err, ENOMEM, "%s", path);
    }
    pfb_action_name(fi, m, s, name);
    /* limits.timeout bounds a run that hangs (30 s: a hung cold helper frees its worker) */
    json_t *j = json_pack("{s:{s:s, s:s}, s:{s:i}, s:[{s:s, s:s}, {s:s, s:b}]}", "exec", "kind",
                          "nodejs:default", "code", code ? code : f->code, "limits", "timeout", 30000,
                          "annotations", "key", "teemate-mode", "value", pfb_mode_names[m], "key",
                          "teemate-reuse", "value", s == PFB_WARM);
    body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body)
        return tm_error_set(err, ENOMEM, "cannot format the action");
    snprintf(path, sizeof path, "/api/v1/namespaces/_/actions/%s?overwrite=true", name);
    struct pfb_conn cn;
    pfb_conn_init(&cn, c->port);
    int status = 0;
    int r = pfb_http(&cn, "PUT", path, c->auth, body, strlen(body), 300, &status, &answer, &alen);
    pfb_conn_close(&cn);
    free(cn.buf);
    if (r < 0)
        return tm_error_set(err, -r, "PUT %s: %s", name, strerror(-r));
    if (status != 200)
        return tm_error_set(err, EIO, "PUT %s: %d %.300s", name, status, answer);
    return 0;
}

unsigned long long pfb_strawman_epc(struct pfb_ctx *c, unsigned fi)
{
    char name[96], path[300];
    _cleanup_free_ char *answer = NULL;
    size_t alen;
    int status = 0;
    pfb_action_name(fi, PFB_STRAWMAN, PFB_COLD, name);
    /* blocking without result=true: the whole record, with its annotations */
    snprintf(path, sizeof path, "/api/v1/namespaces/_/actions/%s?blocking=true", name);
    struct pfb_conn cn;
    pfb_conn_init(&cn, c->port);
    int r = pfb_http(&cn, "POST", path, c->auth, "{}", 2, c->timeout_s, &status, &answer, &alen);
    pfb_conn_close(&cn);
    free(cn.buf);
    if (r < 0 || status != 200)
        return 0;
    json_t *rec = json_loads(answer, 0, NULL), *a;
    unsigned long long pages = 0;
    size_t i;
    json_array_foreach(json_object_get(rec, "annotations"), i, a)
        if (!strcmp(json_string_value(json_object_get(a, "key")) ?: "", "teemate-coldStart"))
            pages = (unsigned long long)json_integer_value(json_object_get(json_object_get(a, "value"),
                                                                            "epc_pages"));
    json_decref(rec);
    return pages;
}
