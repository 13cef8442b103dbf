/* The JS function runtime (apps/functions): the same function natively and in
 * a sim enclave shared through teemated (attach library) gives the same
 * result; a syntax error is refused with Duktape's message and line; an
 * exception, a non-object, a run past its time limit and one past its memory
 * are error results and the instance goes on; two instances of one enclave
 * share the one compiled code but not their globals; hostile service
 * arguments are refused inside and on the host; an instance's pages come
 * back when it detaches. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../daemon_fixture.h"
#include "fn_worker.h"
#include "fn_runtime.h"

#define ENCLAVE "fn-test"

static struct fn_services services;
static char store_dir[256], log_path[256];
static int http_port;

/* ---- a 127.0.0.1 HTTP server of our own: every GET gets the same body ---- */
static const char http_body[] = "hello over http\n";

static pid_t http_pid = -1;

static void http_serve(int ls)
{
    for (;;) {
        int c = accept(ls, NULL, NULL);
        if (c < 0)
            _exit(0);
        char req[4096];
        ssize_t n = recv(c, req, sizeof req - 1, 0);
        req[n > 0 ? n : 0] = '\0';
        char reply[512];
        if (strncmp(req, "GET /missing", 12) == 0)
            snprintf(reply, sizeof reply, "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        else
            snprintf(reply, sizeof reply, "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
                     strlen(http_body), http_body);
        send(c, reply, strlen(reply), MSG_NOSIGNAL);
        close(c);
    }
}

static void http_start(void)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof sa;
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 16) < 0 ||
        getsockname(ls, (struct sockaddr *)&sa, &sl) < 0) {
        perror("http server");
        exit(1);
    }
    http_port = ntohs(sa.sin_port);
    fflush(NULL);
    http_pid = fork();   /* a process, not a thread: the workers fork */
    if (http_pid == 0)
        http_serve(ls);
    close(ls);
}

/* ---- helpers ---- */

static const char *fn_image(void)
{
    static char buf[256];
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build-san";
    snprintf(buf, sizeof buf, "%s/apps/functions/fn.elf", build);
    return buf;
}

/* A script file in the test directory; its path. */
static const char *script(const char *name, const char *text)
{
    static char paths[8][256];
    static int k;
    char *p = paths[k++ % 8];
    snprintf(p, 256, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    REQUIRE(f != NULL);
    fputs(text, f);
    fclose(f);
    return p;
}

static int start_enclave(void)
{
    daemon_up();
    int c = conn();
    REQUIRE(c >= 0);
    int fd = open(fn_image(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    tm_error err = { 0 };
    int r = tm_daemon_create(c, ENCLAVE, fd, -1, "sim", "fn.elf", NULL, NULL, 0, &err);
    close(fd);
    if (r < 0)
        fprintf(stderr, "  create: %s\n", err.msg);
    REQUIRE(r == 0);
    return c;
}

static void stop_enclave(int c)
{
    close(c);
    CHECK(daemon_down());
}

static void worker(struct fn_worker *w, bool enclave)
{
    REQUIRE(fn_worker_start(w, enclave, sock, ENCLAVE, &services));
}

#define run(w, params) fn_worker_cmd((w), "R 0 0 %s", (params))

/* Send a command; the reply must equal (exact) or contain want. */
__attribute__((format(printf, 4, 5)))
static void expect_reply(struct fn_worker *w, bool exact, const char *want, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char *r = fn_worker_cmd(w, "%s", cmd);
    if (exact ? strcmp(r, want) != 0 : strstr(r, want) == NULL) {
        fprintf(stderr, "  %.60s -> %.300s\n  wanted %s%s\n", cmd, r, exact ? "" : "it to contain ", want);
        tm_test_current_failed = 1;
    }
    free(r);
}
#define EXPECT_RUN(w, params, want) expect_reply((w), true, (want), "R 0 0 %s", (params))

/* Load and expect "ok". */
static void load(struct fn_worker *w, const char *path)
{
    expect_reply(w, true, "ok", "L %s", path);
}

/* ---- tests ---- */

static const char agree_js[] =
    "var runs = 0;\n"
    "function main(p) {\n"
    "  runs++;\n"
    "  console.log('hello from js', p.name);\n"
    "  teemate.storePut('bucket-1', 'key.txt', 'stored ' + p.name);\n"
    "  var words = 'the quick brown fox'.split(' ').map(function (w) { return w.toUpperCase(); });\n"
    "  return { greeting: 'hi ' + p.name, words: words, sum: [1, 2, 3].reduce(function (a, b) { return a + b; }),\n"
    "           epoch: new Date(0).toISOString(), json: JSON.parse('{\"x\":[1,2]}').x.length,\n"
    "           re: /b(r)own/.exec('quick brown')[1], sha: teemate.sha256('abc'),\n"
    "           back: teemate.storeGet('bucket-1', 'key.txt'), http: teemate.httpGet(p.url),\n"
    "           random: Math.random() >= 0 && Math.random() < 1, now: teemate.now() > 1.6e12,\n"
    "           runs: runs };\n"
    "}\n";

static void test_native_and_enclave_agree(void)
{
    int c = start_enclave();
    const char *js = script("agree.js", agree_js);
    char params[256];
    snprintf(params, sizeof params, "{\"name\":\"ada\",\"url\":\"http://127.0.0.1:%d/file\"}", http_port);
    struct fn_worker n = { 0 }, e = { 0 };
    worker(&n, false);
    worker(&e, true);
    load(&n, js);
    load(&e, js);
    char *rn = run(&n, params), *re = run(&e, params);
    CHECK_STR_CONTAINS(rn, "1 {\"greeting\":\"hi ada\"");
    CHECK_STR_CONTAINS(rn, "\"sha\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"");
    CHECK_STR_CONTAINS(rn, "\"back\":\"stored ada\",\"http\":\"hello over http\\n\",\"random\":true,\"now\":true,\"runs\":1}");
    CHECK(strcmp(rn, re) == 0);
    if (strcmp(rn, re) != 0)
        fprintf(stderr, "  native:  %s\n  enclave: %s\n", rn, re);
    free(rn);
    free(re);
    /* The second run is warm: the same instance (its globals went on). */
    re = run(&e, params);
    CHECK_STR_CONTAINS(re, "\"runs\":2}");
    free(re);
    CHECK(fn_worker_stop(&n));
    CHECK(fn_worker_stop(&e));
    /* console.log reached the host's log, once per run of each. */
    char log[4096] = "";
    int fd = open(log_path, O_RDONLY);
    if (fd >= 0) {
        read_all(fd, log, sizeof log);
        close(fd);
    }
    CHECK_STR_CONTAINS(log, "hello from js ada\nhello from js ada\nhello from js ada\n");
    stop_enclave(c);
}

/* A library loaded before the function (mustache.js from Debian's
 * libjs-mustache, a plain script that sets the global Mustache). */
#define MUSTACHE "/usr/share/javascript/mustache/mustache.js"

static void test_library_preloaded(void)
{
    if (access(MUSTACHE, R_OK) != 0)
        SKIP(MUSTACHE " is not installed (libjs-mustache)");
    int c = start_enclave();
    const char *js = script("render.js", "function main(p) {\n"
                            "  return { html: Mustache.render('Welcome {{username}}!<ul>{{#n}}<li>{{.}}</li>{{/n}}</ul>', p) };\n}\n");
    for (int mode = 0; mode < 2; mode++) {
        struct fn_worker w = { 0 };
        worker(&w, mode == 1);
        expect_reply(&w, true, "ok", "L " MUSTACHE " %s", js);
        EXPECT_RUN(&w, "{\"username\":\"ada\",\"n\":[1,2]}", "1 {\"html\":\"Welcome ada!<ul><li>1</li><li>2</li></ul>\"}");
        CHECK(fn_worker_stop(&w));
    }
    stop_enclave(c);
}

static void test_syntax_error_refused(void)
{
    int c = start_enclave();
    const char *bad = script("bad.js", "function main(p) {\n  var x = 1;\n  return {x: x;\n}\n");
    const char *good = script("good.js", "function main(p) { return {ok: true}; }\n");
    for (int mode = 0; mode < 2; mode++) {
        struct fn_worker w = { 0 };
        worker(&w, mode == 1);
        expect_reply(&w, false, "refused bad.js: SyntaxError: ", "L %s", bad);
        expect_reply(&w, false, "(line 3", "L %s", bad);
        expect_reply(&w, false, "fail no function is loaded", "R 0 0 %s", "{}");   /* nothing was loaded */
        load(&w, good);
        EXPECT_RUN(&w, "{}", "1 {\"ok\":true}");
        CHECK(fn_worker_stop(&w));
    }
    stop_enclave(c);
}

static const char errors_js[] =
    "function main(p) {\n"
    "  if (p.kind === 'throw') throw new Error('boom');\n"
    "  if (p.kind === 'number') return 42;\n"
    "  if (p.kind === 'array') return [1];\n"
    "  if (p.kind === 'loop') for (;;) {}\n"
    "  if (p.kind === 'sleep') teemate.sleep(5);\n"
    "  if (p.kind === 'grow') { var a = []; for (;;) a.push('x' + a.length); }\n"
    "  if (p.kind === 'big') return { s: new Array(300001).join('x') };\n"
    "  return { fine: true };\n"
    "}\n";

static void test_error_results(void)
{
    int c = start_enclave();
    const char *js = script("errors.js", errors_js);
    for (int mode = 0; mode < 2; mode++) {
        struct fn_worker w = { 0 };
        worker(&w, mode == 1);
        load(&w, js);
        EXPECT_RUN(&w, "{\"kind\":\"throw\"}", "0 {\"error\":\"An error has occurred: Error: boom\"}");
        EXPECT_RUN(&w, "{\"kind\":\"number\"}", "0 {\"error\":\"The action did not return a dictionary.\"}");
        EXPECT_RUN(&w, "{\"kind\":\"array\"}", "0 {\"error\":\"The action did not return a dictionary.\"}");
        expect_reply(&w, true, "0 {\"error\":\"The action exceeded its time limits of 300 milliseconds.\"}", "R 300 0 {\"kind\":\"loop\"}");
        expect_reply(&w, true, "0 {\"error\":\"The action exceeded its time limits of 300 milliseconds.\"}", "R 300 0 {\"kind\":\"sleep\"}");   /* a sleep does not outlast it */
        expect_reply(&w, false, "0 {\"error\":\"An error has occurred: SyntaxError", "R 0 0 not json");
        /* A result larger than the run's out buffer comes in a second ecall. */
        char *big = run(&w, "{\"kind\":\"big\"}");
        CHECK_EQ_INT(strlen(big), strlen("1 {\"s\":\"\"}") + 300000);
        CHECK(strncmp(big, "1 {\"s\":\"xxxx", 12) == 0);
        free(big);
        EXPECT_RUN(&w, "{}", "1 {\"fine\":true}");   /* the instance goes on after each */
        CHECK(fn_worker_stop(&w));
    }
    stop_enclave(c);
}

/* A JS heap capped at 4 MiB: the allocation fails inside, the run is an error
 * result, and a fresh instance (another container) is unharmed. */
static void test_memory_cap(void)
{
    int c = start_enclave();
    const char *js = script("errors.js", errors_js);
    for (int mode = 0; mode < 2; mode++) {
        struct fn_worker w = { 0 };
        worker(&w, mode == 1);
        load(&w, js);
        expect_reply(&w, false, "0 {\"error\":\"An error has occurred: Error: alloc failed\"}", "R 20000 4194304 {\"kind\":\"grow\"}");
        expect_reply(&w, true, "1 {\"fine\":true}", "R 20000 4194304 {}");
        CHECK(fn_worker_stop(&w));
    }
    stop_enclave(c);
}

static const char globals_js[] =
    "function main(p) {\n"
    "  if (p.set) secret = p.set;\n"
    "  return { seen: typeof secret === 'undefined' ? null : secret };\n"
    "}\n";

static void test_instances_isolated(void)
{
    int c = start_enclave();
    const char *js = script("globals.js", globals_js);
    struct fn_worker a = { 0 }, b = { 0 };
    worker(&a, true);
    worker(&b, true);
    load(&a, js);
    /* b never compiles: it loads the bytecode a's load left in the enclave. */
    expect_reply(&b, true, "refused the function's code is loaded already", "L %s", js);
    EXPECT_RUN(&a, "{\"set\":\"from a\"}", "1 {\"seen\":\"from a\"}");
    EXPECT_RUN(&b, "{}", "1 {\"seen\":null}");
    EXPECT_RUN(&b, "{\"set\":\"from b\"}", "1 {\"seen\":\"from b\"}");
    EXPECT_RUN(&a, "{}", "1 {\"seen\":\"from a\"}");
    struct tm_enclave_info info;
    inspect(c, ENCLAVE, &info);
    CHECK_EQ_INT(info.nattached, 2);
    CHECK(info.attached[0].slot != info.attached[1].slot);
    CHECK(fn_worker_stop(&a));
    CHECK(fn_worker_stop(&b));
    stop_enclave(c);
}

static const char hostile_js[] =
    "function main(p) {\n"
    "  try { teemate[p.fn].apply(null, p.args); } catch (e) { return { refused: String(e) }; }\n"
    "  return { refused: false };\n"
    "}\n";

static void check_refused(struct fn_worker *w, const char *call, const char *why)
{
    expect_reply(w, false, why, "R 0 0 %s", call);
}

static void test_hostile_arguments(void)
{
    int c = start_enclave();
    const char *js = script("hostile.js", hostile_js);
    char missing[256];
    snprintf(missing, sizeof missing, "{\"fn\":\"httpGet\",\"args\":[\"http://127.0.0.1:%d/missing\"]}",
             http_port);
    for (int mode = 0; mode < 2; mode++) {
        struct fn_worker w = { 0 };
        worker(&w, mode == 1);
        load(&w, js);
        check_refused(&w, "{\"fn\":\"storePut\",\"args\":[\"..\",\"k\",\"x\"]}", "RangeError: bucket must be");
        check_refused(&w, "{\"fn\":\"storePut\",\"args\":[\"b\",\"../../escape\",\"x\"]}", "RangeError: key must be");
        check_refused(&w, "{\"fn\":\"storePut\",\"args\":[\"a/b\",\"k\",\"x\"]}", "RangeError: bucket must be");
        check_refused(&w, "{\"fn\":\"storeGet\",\"args\":[\"b\",\"\"]}", "RangeError: key must be");
        check_refused(&w, "{\"fn\":\"storeGet\",\"args\":[\"b\",7]}", "TypeError: key must be a string");
        check_refused(&w, "{\"fn\":\"storeGet\",\"args\":[\"nobucket\",\"k\"]}", "Error: storeGet failed");
        check_refused(&w, "{\"fn\":\"httpGet\",\"args\":[\"file:///etc/passwd\"]}", "URIError: httpGet takes an http:// URL");
        check_refused(&w, "{\"fn\":\"httpGet\",\"args\":[\"http://a b/\"]}", "URIError");
        check_refused(&w, missing, "Error: httpGet failed");
        check_refused(&w, "{\"fn\":\"sleep\",\"args\":[-1]}", "RangeError: sleep takes");
        CHECK(fn_worker_stop(&w));
    }
    /* The host checks again whatever an enclave sends (it may be hostile). */
    struct { struct fn_store_names n; char b[2], k[1]; } dots = { { 2, 1 }, "..", "k" };
    size_t out_len;
    char out[16];
    CHECK_EQ_INT(fn_host_ocall(&services, FN_OCALL_STORE_PUT, &dots, sizeof dots, NULL, 0, &out_len), -EINVAL);
    struct { struct fn_store_names n; char b[1], k[1]; } lie = { { 1, 1000 }, "b", "k" };
    CHECK_EQ_INT(fn_host_ocall(&services, FN_OCALL_STORE_GET, &lie, sizeof lie, out, sizeof out, &out_len), -EINVAL);
    CHECK_EQ_INT(fn_host_ocall(&services, FN_OCALL_STORE_GET, &lie, 3, out, sizeof out, &out_len), -EINVAL);
    uint64_t forever = UINT64_MAX;
    CHECK_EQ_INT(fn_host_ocall(&services, FN_OCALL_SLEEP, &forever, sizeof forever, NULL, 0, &out_len), -EINVAL);
    CHECK_EQ_INT(fn_host_ocall(&services, FN_OCALL_SLEEP, &forever, 4, NULL, 0, &out_len), -EINVAL);
    CHECK_EQ_INT(fn_host_ocall(&services, FN_OCALL_HTTP_GET, "http://x@127.0.0.1/", 19, out, sizeof out, &out_len), -EINVAL);
    CHECK_EQ_INT(fn_host_ocall(&services, 0x1ff, "", 0, NULL, 0, &out_len), -ENOSYS);
    /* Nothing landed outside the store. */
    char escaped[512];
    snprintf(escaped, sizeof escaped, "%s/escape", dir);
    CHECK(access(escaped, F_OK) != 0);
    stop_enclave(c);
}

/* Duktape's deepest C recursions (the JS compiler, the regexp compiler,
 * JSON) stay within the enclave thread's stack: a result or an error, never
 * a fault of the ecall. */
static char *nested(const char *prefix, const char *open, const char *mid, const char *close,
                    size_t n, const char *suffix)
{
    char *s = malloc(strlen(prefix) + n * (strlen(open) + strlen(close)) + strlen(mid) + strlen(suffix) + 1);
    char *p = s + sprintf(s, "%s", prefix);
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s", open);
    p += sprintf(p, "%s", mid);
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s", close);
    sprintf(p, "%s", suffix);
    return s;
}

static void test_deep_nesting_fits_stack(void)
{
    int c = start_enclave();
    /* Expressions nested past the compiler's limit: refused, a RangeError. */
    char *src = nested("function main(p) { return { v: ", "(", "1", ")", 2450, " }; }\n");
    const char *too_deep = script("too-deep.js", src);
    free(src);
    src = nested("function main(p) { return { r: /", "(?:", "a", ")", 9000, "/.test('a') }; }\n");
    const char *too_deep_re = script("too-deep-re.js", src);
    free(src);
    src = nested("function f(n) { return n ? [f(n - 1)] : 0; }\n"
                 "function main(p) {\n  var r = /", "(?:", "a", ")", 1000,
                 "/.test('a');\n  var j = JSON.parse(JSON.stringify(f(900))).length;\n"
                 "  return { r: r, j: j, v: ((((((((((1)))))))))) };\n}\n");
    const char *deep = script("deep.js", src);
    free(src);
    struct fn_worker w = { 0 };
    worker(&w, true);
    expect_reply(&w, false, "refused too-deep.js: RangeError: ", "L %s", too_deep);
    expect_reply(&w, false, "refused too-deep-re.js: RangeError: C stack depth limit", "L %s", too_deep_re);
    load(&w, deep);
    EXPECT_RUN(&w, "{}", "1 {\"r\":true,\"j\":1,\"v\":1}");
    CHECK(fn_worker_stop(&w));
    stop_enclave(c);
}

static void test_pages_back_on_detach(void)
{
    int c = start_enclave();
    struct tm_enclave_info before, during, after;
    inspect(c, ENCLAVE, &before);
    const char *js = script("grow.js", "var keep = [];\nfunction main(p) {\n"
                                       "  for (var i = 0; i < 20000; i++) keep.push({ i: i, s: 'v' + i });\n"
                                       "  return { n: keep.length };\n}\n");
    struct fn_worker w = { 0 };
    worker(&w, true);
    load(&w, js);
    EXPECT_RUN(&w, "{}", "1 {\"n\":20000}");
    char *r = fn_worker_cmd(&w, "S");
    unsigned long long heap = 0, runs = 0;
    sscanf(r, "%llu %llu", &heap, &runs);
    free(r);
    CHECK(heap > 1000000);   /* 20000 objects live in the instance's JS heap */
    CHECK_EQ_INT(runs, 1);
    inspect(c, ENCLAVE, &during);
    REQUIRE(during.nattached == 1);
    CHECK(during.attached[0].epc_pages * 4096 > heap);   /* that heap is in its slot */
    CHECK(during.epc_total > before.epc_total);
    CHECK(fn_worker_stop(&w));
    inspect(c, ENCLAVE, &after);
    CHECK_EQ_INT(after.nattached, 0);
    CHECK_EQ_INT(after.slots_in_use, before.slots_in_use);
    /* Back to the enclave's pages before the instance, plus the bytecode
     * kept in the global heap (shared pages, not the slot's). */
    CHECK_EQ_INT(after.epc_total - after.epc_shared, before.epc_total - before.epc_shared);
    stop_enclave(c);
}

int main(void)
{
    fixture_init("fn-runtime");
    if (access(fn_image(), R_OK) != 0) {
        printf("skip - test_fn_runtime: %s is not built\n", fn_image());
        return 0;
    }
    snprintf(store_dir, sizeof store_dir, "%s/store", dir);
    snprintf(log_path, sizeof log_path, "%s/fn.log", dir);
    services.store_dir = store_dir;
    services.log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    http_start();
    RUN(test_native_and_enclave_agree);
    fixture_between();
    RUN(test_library_preloaded);
    fixture_between();
    RUN(test_syntax_error_refused);
    fixture_between();
    RUN(test_error_results);
    fixture_between();
    RUN(test_memory_cap);
    fixture_between();
    RUN(test_instances_isolated);
    fixture_between();
    RUN(test_hostile_arguments);
    fixture_between();
    RUN(test_deep_nesting_fits_stack);
    fixture_between();
    RUN(test_pages_back_on_detach);
    close(services.log_fd);
    reap(&http_pid, SIGKILL);
    fixture_finish();
    TEST_EXIT();
}
