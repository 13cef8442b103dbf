/* One `teemate fn invoke NAME --params P --stats=json`: its wall time from
 * fork to reap, and the figures of its stats line (g-contract.md). A CLI
 * from before --stats=json has only `--stats` and a human line: then that
 * line is parsed for what it has, and the rest stays missing ("-"). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "fnbench.h"
#include "util/cleanup.h"
#include "util/file.h"

const char *const fnb_field_keys[FNB_FIELDS] = {
    "container_ms", "enclave_build_ms", "alias_ms", "expand_ms", "heap_ms", "code_load_ms",
    "run_ms", "total_ms", "wall_ms", "epc_pages", "memory_peak_bytes",
};

int fnb_invoke_start(struct fnb_ctx *c, const char *name, const char *params, struct fnb_proc *p)
{
    unsigned seq = c->seq++;
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->out, sizeof p->out, "%s/inv-%u.out", c->tmp, seq);
    snprintf(p->errf, sizeof p->errf, "%s/inv-%u.err", c->tmp, seq);
    const char *argv[] = { c->teemate, "fn", "invoke", p->name, "--params", params,
                           c->stats_text ? "--stats" : "--stats=json", NULL };
    p->t0 = tm_bench_now_s();
    p->pid = fork();
    if (p->pid < 0)
        return -1;
    if (p->pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        int out = open(p->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(p->errf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (null < 0 || out < 0 || err < 0)
            _exit(127);
        dup2(null, 0);
        dup2(out, 1);
        dup2(err, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return 0;
}

/* The number after needle in line, if there is one. */
static void fnb_text_field(const char *line, const char *needle, struct fnb_sample *s, enum fnb_field f)
{
    const char *p = strstr(line, needle);
    if (!p)
        return;
    char *end;
    double v = strtod(p + strlen(needle), &end);
    if (end != p + strlen(needle)) {
        s->v[f] = v;
        s->have[f] = true;
    }
}

/* The human line of `--stats` (cli/cmd_fn_invoke.c before --stats=json). */
static void fnb_parse_text(const char *line, struct fnb_sample *s)
{
    fnb_text_field(line, "enclave build ", s, FNB_BUILD);
    fnb_text_field(line, "alias ", s, FNB_ALIAS);
    fnb_text_field(line, "heap create ", s, FNB_HEAP);
    fnb_text_field(line, "heap create + code load ", s, FNB_HEAP);   /* teemate: both in one */
    fnb_text_field(line, "code load (entry + compile) ", s, FNB_LOAD);
    fnb_text_field(line, "native: compile ", s, FNB_LOAD);
    fnb_text_field(line, ", run ", s, FNB_RUN);
    fnb_text_field(line, "total ", s, FNB_TOTAL);
    fnb_text_field(line, " pages in ", s, FNB_EXPAND);   /* strawman-edmm: "expand N pages in X ms" */
    const char *epc = strstr(line, " EPC pages");
    if (epc) {   /* "..., N EPC pages" */
        while (epc > line && epc[-1] >= '0' && epc[-1] <= '9')
            epc--;
        fnb_text_field(epc - 1, " ", s, FNB_EPC);
    } else if (!strncmp(line, "strawman: ", 10)) {   /* "add+measure X of N pages": all committed */
        fnb_text_field(line, " of ", s, FNB_EPC);
    }
}

void fnb_parse_stats(const char *text, struct fnb_sample *s)
{
    _cleanup_free_ char *copy = strdup(text);
    for (char *save = NULL, *line = copy ? strtok_r(copy, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "native: ", 8) || !strncmp(line, "teemate: ", 9) ||
            !strncmp(line, "strawman: ", 10) || !strncmp(line, "strawman-edmm: ", 15)) {
            fnb_parse_text(line, s);
            continue;
        }
        if (line[0] != '{')
            continue;
        json_t *o = json_loads(line, 0, NULL);
        if (json_is_object(o) && json_object_get(o, "total_ms")) {
            for (int f = 0; f < FNB_FIELDS; f++) {
                json_t *v = json_object_get(o, fnb_field_keys[f]);
                if (json_is_number(v)) {
                    s->v[f] = json_number_value(v);
                    s->have[f] = true;
                }
            }
            if (json_is_false(json_object_get(o, "ok")))
                s->ok = false;
        }
        json_decref(o);
    }
}

/* A small file as a string (malloc'ed), or NULL. */
static char *fnb_read_text(const char *path)
{
    uint8_t *data = NULL;
    size_t len;
    tm_error err = { 0 };
    if (tm_file_read(path, 1 << 20, &data, &len, &err) < 0)
        return NULL;
    char *text = realloc(data, len + 1);
    if (!text) {
        free(data);
        return NULL;
    }
    text[len] = '\0';
    return text;
}

int fnb_invoke_wait(struct fnb_ctx *c, struct fnb_proc *p, struct fnb_sample *s)
{
    (void)c;
    int status;
    memset(s, 0, sizeof *s);
    if (waitpid(p->pid, &status, 0) != p->pid)
        return -1;
    s->exit_s = tm_bench_now_s();
    s->v[FNB_WALL] = (s->exit_s - p->t0) * 1e3;
    s->have[FNB_WALL] = true;
    s->ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    _cleanup_free_ char *text = fnb_read_text(p->errf);
    if (text)
        fnb_parse_stats(text, s);
    if (!s->ok) {
        fprintf(stderr, "functions: fn invoke %s failed (exit %d): %s", p->name,
                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), text ? text : "\n");
        return -1;
    }
    unlink(p->out);
    unlink(p->errf);
    return 0;
}

int fnb_invoke(struct fnb_ctx *c, const char *name, const char *params, struct fnb_sample *s)
{
    struct fnb_proc p;
    if (fnb_invoke_start(c, name, params, &p) < 0)
        return -1;
    return fnb_invoke_wait(c, &p, s);
}
