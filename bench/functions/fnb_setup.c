/* The bench's own world: a temporary state directory and socket (set in the
 * environment for every `teemate` it runs), its own teemated, and a local
 * HTTP server (Python's, as tests/cli/test_fn_nine.sh) for uploader. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "fnbench.h"
#include "util/cleanup.h"

#define MUSTACHE "/usr/share/javascript/mustache/mustache.js"

const char *const fnb_mode_names[FNB_MODES] = { "native", "teemate", "strawman", "strawman-edmm" };

/* Sizes are the functions' defaults (apps/functions/js/README.md) but for
 * sleep's 0.1 s; uploader's URL is put in by fnb_params. */
const struct fnb_function fnb_functions[9] = {
    { "dynamic-html", "{}", false },   { "sleep", "{\"sleep\":0.1}", true },
    { "uploader", "URL", false },      { "binary-trees", "{}", false },
    { "crypto-md5", "{}", false },     { "crypto-aes", "{}", false },
    { "regexp-dna", "{}", false },     { "partial-sums", "{}", false },
    { "validate-input", "{}", false },
};

static pid_t fnb_spawn(char *const argv[], const char *log, int ready_fd)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int null = open("/dev/null", O_RDWR);
    int out = log ? open(log, O_WRONLY | O_CREAT | O_APPEND, 0644) : null;
    dup2(null, 0);
    dup2(out < 0 ? null : out, 1);
    dup2(out < 0 ? null : out, 2);
    if (ready_fd >= 0)
        dup2(ready_fd, 3);
    execvp(argv[0], argv);
    _exit(127);
}

int fnb_system(char *const argv[], const char *log)
{
    pid_t pid = fnb_spawn(argv, log, -1);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int fnb_free_port(void)
{
    _cleanup_close_ int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) < 0)
        return -1;
    return ntohs(a.sin_port);
}

static bool fnb_port_open(int port)
{
    _cleanup_close_ int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    return s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0;
}

/* A 64 KiB text for uploader to fetch. */
static int fnb_www(const char *dir, tm_error *err)
{
    char path[400];
    snprintf(path, sizeof path, "%s/www", dir);
    if (mkdir(path, 0755) < 0)
        return tm_error_sys(err, "cannot create %s", path);
    snprintf(path, sizeof path, "%s/www/data.txt", dir);
    _cleanup_fclose_ FILE *f = fopen(path, "we");
    if (!f)
        return tm_error_sys(err, "cannot create %s", path);
    for (int i = 0; i < 1024; i++)
        fprintf(f, "line %04d of the uploader's object, 64 bytes a line......\n", i);
    return 0;
}

static int fnb_http_start(struct fnb_ctx *c, tm_error *err)
{
    int port = fnb_free_port();
    char ports[16], www[300], log[300];
    if (port < 0)
        return tm_error_sys(err, "no free port on 127.0.0.1");
    snprintf(ports, sizeof ports, "%d", port);
    snprintf(www, sizeof www, "%s/www", c->tmp);
    snprintf(log, sizeof log, "%s/http.log", c->tmp);
    char *argv[] = { "python3", "-m", "http.server", ports, "--bind", "127.0.0.1", "--directory", www, NULL };
    if ((c->http_pid = fnb_spawn(argv, log, -1)) < 0)
        return tm_error_sys(err, "cannot start python3 -m http.server");
    for (int i = 0; i < 100 && !fnb_port_open(port); i++)
        nanosleep(&(struct timespec){ 0, 50000000 }, NULL);   /* its start-up, not a cost */
    if (!fnb_port_open(port))
        return tm_error_set(err, EIO, "python3 -m http.server did not listen on %d (%s)", port, log);
    snprintf(c->url, sizeof c->url, "http://127.0.0.1:%d/data.txt", port);
    return 0;
}

static int fnb_daemon_start(struct fnb_ctx *c, tm_error *err)
{
    int p[2];
    char log[300], line[512];
    snprintf(log, sizeof log, "%s/daemon.log", c->tmp);
    if (pipe2(p, O_CLOEXEC) < 0)
        return tm_error_sys(err, "pipe");
    char *argv[] = { c->teemate, "daemon", "--foreground", "--ready-fd", "3", NULL };
    c->daemon_pid = fnb_spawn(argv, log, p[1]);
    close(p[1]);
    ssize_t n = c->daemon_pid < 0 ? -1 : read(p[0], line, sizeof line - 1);
    close(p[0]);
    if (n <= 0)
        return tm_error_set(err, EIO, "teemated did not start (%s)", log);
    return 0;
}

int fnb_setup(struct fnb_ctx *c, const char *teemate, tm_error *err)
{
    memset(c, 0, sizeof *c);
    if (!realpath(teemate, c->teemate))
        return tm_error_sys(err, "cannot find %s", teemate);
    if (!realpath("apps/functions/js", c->js_dir))
        return tm_error_sys(err, "apps/functions/js (run from the repository root)");
    if (access(MUSTACHE, R_OK) < 0)
        return tm_error_sys(err, "%s (libjs-mustache)", MUSTACHE);
    snprintf(c->tmp, sizeof c->tmp, "/tmp/teemate-bench-functions.XXXXXX");
    if (!mkdtemp(c->tmp))
        return tm_error_sys(err, "mkdtemp");
    char state[300];
    snprintf(state, sizeof state, "%s/state", c->tmp);
    snprintf(c->socket, sizeof c->socket, "%s/teemated.sock", c->tmp);
    setenv("TEEMATE_STATE_DIR", state, 1);
    setenv("TEEMATE_SOCKET", c->socket, 1);
    int r = fnb_www(c->tmp, err);
    if (r == 0)
        r = fnb_daemon_start(c, err);
    if (r == 0)
        r = fnb_http_start(c, err);
    return r;
}

static void fnb_stop(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGTERM);
        waitpid(*pid, NULL, 0);
    }
    *pid = 0;
}

void fnb_teardown(struct fnb_ctx *c)
{
    fnb_stop(&c->http_pid);
    fnb_stop(&c->daemon_pid);
    if (c->tmp[0]) {
        char *argv[] = { "rm", "-rf", c->tmp, NULL };
        fnb_system(argv, NULL);
    }
}

void fnb_fn_name(const struct fnb_function *f, enum fnb_mode m, char buf[96])
{
    snprintf(buf, 96, "%s-%s", f->name, fnb_mode_names[m]);
}

int fnb_create(struct fnb_ctx *c, const struct fnb_function *f, enum fnb_mode m)
{
    char name[96], js[4200], log[300];
    fnb_fn_name(f, m, name);
    snprintf(js, sizeof js, "%s/%s.js", c->js_dir, f->name);
    snprintf(log, sizeof log, "%s/create.log", c->tmp);
    char *argv[] = { c->teemate, "fn", "create", name, js, "--mode", (char *)fnb_mode_names[m],
                     "--lib", MUSTACHE, NULL };
    if (strcmp(f->name, "dynamic-html"))
        argv[7] = NULL;
    return fnb_system(argv, log);
}

char *fnb_params(const struct fnb_ctx *c, const struct fnb_function *f, const char *override)
{
    char *s = NULL;
    if (override)
        return strdup(override);
    if (strcmp(f->params, "URL"))
        return strdup(f->params);
    return asprintf(&s, "{\"url\":\"%s\"}", c->url) < 0 ? NULL : s;
}
