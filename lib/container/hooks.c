/* Running OCI hooks (hooks.h), and keeping them for the later CLI processes
 * that run poststart and poststop. */
#include "container/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container/spec_internal.h"
#include "container/state.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/file.h"

extern char **environ;

#define OUTPUT_KEPT 400   /* bytes of a failed hook's output quoted in the error */

const char *tm_hook_kind_name(enum tm_hook_kind k)
{
    static const char *const names[TM_HOOK_KINDS] = {
        "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
    };
    return (unsigned)k < TM_HOOK_KINDS ? names[k] : "?";
}

__attribute__((noreturn)) static void exec_hook(const struct tm_hook *h, const int fd[3])
{
    for (int i = 0; i < 3; i++)
        if (dup2(fd[i], i) < 0)
            _exit(127);
    close_range(3, ~0U, 0);
    signal(SIGPIPE, SIG_DFL);
    char *argv0[] = { h->path, NULL };
    /* No env: the runtime's own, as runc (Go's exec with a nil Env). */
    execve(h->path, h->nargs ? h->args : argv0, h->env ? h->env : environ);
    dprintf(2, "exec %s: %s", h->path, strerror(errno));
    _exit(127);
}

/* The start of what the hook wrote to stdout or stderr. */
struct kept {
    char text[OUTPUT_KEPT + 1];
    size_t len;
};

struct run {
    const char *input;         /* what is left of the state to write */
    size_t input_left;
    struct kept out[2];        /* stdout, stderr */
};

/* Read what fd has into k; false at EOF or on an error (then done with it). */
static bool keep(int fd, struct kept *k)
{
    char buf[512];
    ssize_t got = read(fd, buf, sizeof buf);
    if (got <= 0)
        return got < 0 && (errno == EAGAIN || errno == EINTR);
    size_t take = (size_t)got < OUTPUT_KEPT - k->len ? (size_t)got : OUTPUT_KEPT - k->len;
    memcpy(k->text + k->len, buf, take);
    k->len += take;
    return true;
}

/* Feed stdin, keep the start of stdout and stderr, until the hook exits or
 * the deadline (ms, 0: none) passes. 0: exited; -ETIMEDOUT; -errno. fd:
 * stdin's write end, stdout's and stderr's read ends (-1 once done with:
 * poll skips them). */
static int watch(struct run *r, int pidfd, int fd[3], double deadline)
{
    for (;;) {
        struct pollfd p[4] = { { .fd = pidfd, .events = POLLIN }, { .fd = fd[1], .events = POLLIN },
                               { .fd = fd[2], .events = POLLIN }, { .fd = fd[0], .events = POLLOUT } };
        int timeout = -1;
        if (deadline > 0) {
            double left = deadline - tm_now_ms();
            if (left <= 0)
                return -ETIMEDOUT;
            timeout = (int)left + 1;
        }
        int n = poll(p, 4, timeout);
        if (n < 0 && errno != EINTR)
            return -errno;
        if (n <= 0)
            continue;
        bool more = false;   /* drain the output before looking at the exit */
        for (int i = 1; i <= 2; i++)
            if (p[i].revents) {
                if (keep(fd[i], &r->out[i - 1]))
                    more = true;
                else {
                    close(fd[i]);   /* EOF: the hook closed it (it may run on) */
                    fd[i] = -1;
                }
            }
        if (more)
            continue;
        if (fd[0] >= 0 && p[3].revents) {
            ssize_t put = write(fd[0], r->input, r->input_left);
            if (put > 0) {
                r->input += put;
                r->input_left -= (size_t)put;
            }
            if ((put < 0 && errno != EAGAIN) || r->input_left == 0) {
                close(fd[0]);   /* EOF on the hook's stdin; EPIPE: it does not read it */
                fd[0] = -1;
            }
        }
        if (p[0].revents)
            return 0;
    }
}

static void close_all(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

/* Errors in runc's words (runc 1.2's, which name the kind). */
static int run_one(const struct tm_hook *h, enum tm_hook_kind k, size_t index, const char *state_json,
                   tm_error *err)
{
    const char *name = tm_hook_kind_name(k);
    int pipes[6] = { -1, -1, -1, -1, -1, -1 };   /* stdin, stdout, stderr: read end, write end */
    for (int i = 0; i < 3; i++)
        if (pipe2(pipes + 2 * i, O_CLOEXEC) < 0) {
            close_all(pipes, 6);
            return tm_error_sys(err, "error running %s hook #%zu: pipe", name, index);
        }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        exec_hook(h, (const int[3]){ pipes[0], pipes[3], pipes[5] });
    int child_ends[3] = { pipes[0], pipes[3], pipes[5] };
    close_all(child_ends, 3);
    int fd[3] = { pipes[1], pipes[2], pipes[4] };   /* ours */
    if (pid < 0) {
        close_all(fd, 3);
        return tm_error_sys(err, "error running %s hook #%zu: fork", name, index);
    }
    for (int i = 0; i < 3; i++)
        fcntl(fd[i], F_SETFL, O_NONBLOCK);
    /* A hook that does not read its stdin must not kill us with SIGPIPE. */
    struct sigaction ign = { .sa_handler = SIG_IGN }, old;
    sigaction(SIGPIPE, &ign, &old);
    struct run r = { .input = state_json, .input_left = strlen(state_json) };
    _cleanup_close_ int pidfd = pidfd_open(pid, 0);
    int ret = pidfd < 0 ? -errno : watch(&r, pidfd, fd, h->timeout ? tm_now_ms() + h->timeout * 1000.0 : 0);
    sigaction(SIGPIPE, &old, NULL);
    close_all(fd, 3);
    if (ret < 0)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (ret == -ETIMEDOUT)
        return tm_error_set(err, ETIMEDOUT, "error running %s hook #%zu: hook ran past specified timeout of %d.0s",
                            name, index, h->timeout);
    if (ret < 0)
        return tm_error_set(err, -ret, "error running %s hook #%zu: %s", name, index, strerror(-ret));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    for (int i = 0; i < 2; i++) {   /* one line: the trailing newline off */
        struct kept *o = &r.out[i];
        while (o->len && o->text[o->len - 1] == '\n')
            o->len--;
        o->text[o->len] = '\0';
    }
    char what[64];
    if (WIFEXITED(status))
        snprintf(what, sizeof what, "exit status %d", WEXITSTATUS(status));
    else
        snprintf(what, sizeof what, "signal: %s", strsignal(WTERMSIG(status)));
    return tm_error_set(err, EIO, "error running %s hook #%zu: error running hook: %s, stdout: %s, stderr: %s", name,
                        index, what, r.out[0].text, r.out[1].text);
}

int tm_hooks_run(const struct tm_hooks *h, enum tm_hook_kind k, const char *state_json, tm_error *err)
{
    for (size_t i = 0; i < h->n[k]; i++) {
        int ret = run_one(&h->list[k][i], k, i, state_json, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

void tm_hooks_run_warn(const struct tm_hooks *h, enum tm_hook_kind k, const char *state_json)
{
    for (size_t i = 0; i < h->n[k]; i++) {
        tm_error err = { 0 };
        if (run_one(&h->list[k][i], k, i, state_json, &err) < 0)
            fprintf(stderr, "teemate: warning: %s\n", err.msg);
    }
}

static json_t *strings_json(char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *hooks_json(const struct tm_hooks *h)
{
    json_t *doc = json_object();
    for (int k = 0; doc && k < TM_HOOK_KINDS; k++) {
        json_t *list = json_array();
        for (size_t i = 0; list && i < h->n[k]; i++) {
            const struct tm_hook *e = &h->list[k][i];
            json_t *o = json_pack("{s:s}", "path", e->path);
            if (o && e->args)
                json_object_set_new(o, "args", strings_json(e->args, e->nargs));
            if (o && e->env)
                json_object_set_new(o, "env", strings_json(e->env, e->nenv));
            if (o && e->timeout)
                json_object_set_new(o, "timeout", json_integer(e->timeout));
            json_array_append_new(list, o);
        }
        json_object_set_new(doc, tm_hook_kind_name(k), list);
    }
    return doc;
}

int tm_hooks_save(const char *root, const char *id, const struct tm_hooks *h, tm_error *err)
{
    char path[PATH_MAX];
    int ret = tm_state_path(root, id, "hooks.json", path, sizeof path, err);
    if (ret < 0)
        return ret;
    _cleanup_json_ json_t *doc = hooks_json(h);
    _cleanup_free_ char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (!text)
        return tm_error_set(err, ENOMEM, "cannot save the hooks of container \"%s\"", id);
    return tm_file_write(path, text, strlen(text), 0600, err);
}

int tm_hooks_load(const char *root, const char *id, struct tm_hooks *h, tm_error *err)
{
    memset(h, 0, sizeof *h);
    char path[PATH_MAX];
    int ret = tm_state_path(root, id, "hooks.json", path, sizeof path, err);
    if (ret < 0)
        return ret;
    _cleanup_free_ uint8_t *data = NULL;
    size_t len;
    if ((ret = tm_file_read(path, TM_SPEC_MAX_FILE, &data, &len, err)) == -ENOENT)
        return 0;
    if (ret < 0)
        return ret;
    json_error_t jerr;
    _cleanup_json_ json_t *doc = json_loadb((const char *)data, len, 0, &jerr);
    if (!doc || !json_is_object(doc))
        return tm_error_set(err, EINVAL, "%s: not a JSON object", path);
    if ((ret = tm_spec_parse_hooks(doc, h, err)) < 0) {
        tm_hooks_free(h);
        return tm_error_prefix(err, "%s", path);
    }
    return 0;
}

void tm_hooks_free(struct tm_hooks *h)
{
    for (int k = 0; k < TM_HOOK_KINDS; k++) {
        for (size_t i = 0; i < h->n[k]; i++) {
            free(h->list[k][i].path);
            tm_spec_free_strings(h->list[k][i].args, h->list[k][i].nargs);
            tm_spec_free_strings(h->list[k][i].env, h->list[k][i].nenv);
        }
        free(h->list[k]);
    }
    memset(h, 0, sizeof *h);
}
