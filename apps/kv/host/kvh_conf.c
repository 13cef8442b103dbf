/* redis.conf for the options the store has, with Redis's defaults, units,
 * quoting and error texts. Command-line flags go through the same
 * kvh_conf_set after the file, so they override it. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "kvh.h"
#include "util/cleanup.h"
#include "util/file.h"

void kvh_settings_default(struct kvh_settings *s)
{
    memset(s, 0, sizeof *s);
    s->port = KVH_DEFAULT_PORT;
    s->nbind = 1;
    snprintf(s->bind[0], sizeof s->bind[0], "127.0.0.1");
    snprintf(s->dir, sizeof s->dir, ".");
    s->databases = KVH_DEFAULT_DATABASES;
    s->hz = KVH_DEFAULT_HZ;
    s->maxclients = KVH_MAX_CLIENTS;
    s->loglevel = KVH_LOG_NOTICE;
    snprintf(s->save, sizeof s->save, "3600 1 300 100 60 10000");   /* Redis 7's default */
    snprintf(s->dbfilename, sizeof s->dbfilename, "dump.rdb");
    s->stop_writes_on_bgsave_error = true;
}

/* `save <seconds> <changes> [...]` or `save ""`: the first one replaces the
 * default points, later ones add (Redis 7). */
static int kvh_conf_save(struct kvh_settings *s, int argc, char **argv, tm_error *err)
{
    if (!s->save_set)
        s->save[0] = '\0';
    s->save_set = true;
    if (argc == 2 && argv[1][0] == '\0') {
        s->save[0] = '\0';
        return 0;
    }
    /* the numbers, one per argument or several in one (--save "3600 1") */
    int count = 0;
    for (int i = 1; i < argc; i++) {
        for (const char *p = argv[i]; *p;) {
            if (*p == ' ') {
                p++;
                continue;
            }
            char *end;
            errno = 0;
            long long v = strtoll(p, &end, 10);
            if (errno || end == p || (*end && *end != ' ') || v < (count % 2 ? 0 : 1))
                return tm_error_set(err, EINVAL, "Invalid save parameters");
            size_t n = strlen(s->save);
            if (n + (size_t)(end - p) + 2 > sizeof s->save)
                return tm_error_set(err, E2BIG, "too many save points");
            snprintf(s->save + n, sizeof s->save - n, "%s%.*s", n ? " " : "", (int)(end - p), p);
            count++;
            p = end;
        }
    }
    if (count % 2)
        return tm_error_set(err, EINVAL, "Invalid save parameters");
    return 0;
}

bool kvh_parse_memory(const char *text, uint64_t *out)
{
    const char *p = text;
    if (!isdigit((unsigned char)*p))
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(p, &end, 10);
    if (errno)
        return false;
    static const struct { const char *unit; uint64_t mul; } units[] = {
        { "", 1 },          { "b", 1 },
        { "k", 1000 },      { "kb", 1024 },
        { "m", 1000000 },   { "mb", 1024 * 1024 },
        { "g", 1000000000 }, { "gb", 1024ULL * 1024 * 1024 },
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(end, units[i].unit))
            continue;
        if (v > UINT64_MAX / units[i].mul)
            return false;
        *out = v * units[i].mul;
        return true;
    }
    return false;
}

/* Redis's numeric config check: an integer, then the range. */
static int kvh_conf_int(const char *text, long long min, long long max, long long *out, tm_error *err)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || errno || isspace((unsigned char)*text))
        return tm_error_set(err, EINVAL, "argument couldn't be parsed into an integer");
    if (v < min || v > max)
        return tm_error_set(err, EINVAL, "argument must be between %lld and %lld inclusive", min, max);
    *out = v;
    return 0;
}

static int kvh_conf_bool(const char *text, bool *out, tm_error *err)
{
    if (!strcasecmp(text, "yes"))
        *out = true;
    else if (!strcasecmp(text, "no"))
        *out = false;
    else
        return tm_error_set(err, EINVAL, "argument must be 'yes' or 'no'");
    return 0;
}

static void kvh_conf_ignore(struct kvh_settings *s, const char *what)
{
    if (strstr(s->ignored, what))
        return;
    size_t n = strlen(s->ignored);
    snprintf(s->ignored + n, sizeof s->ignored - n, "%s%s", n ? ", " : "", what);
}

static int kvh_conf_copy(char *dst, size_t cap, const char *src, const char *name, tm_error *err)
{
    if (strlen(src) >= cap)
        return tm_error_set(err, ENAMETOOLONG, "%s is longer than %zu bytes", name, cap - 1);
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}

int kvh_conf_set(struct kvh_settings *s, int argc, char **argv, bool *bind_seen, tm_error *err)
{
    const char *name = argv[0];
    const char *v = argc > 1 ? argv[1] : "";
    long long n;
    bool b = false;
    int r;
    if (!strcasecmp(name, "bind") && argc >= 2) {
        if (!*bind_seen)
            s->nbind = 0;
        *bind_seen = true;
        if (s->nbind + (uint32_t)(argc - 1) > KVH_MAX_BINDS)
            return tm_error_set(err, E2BIG, "Too many bind addresses specified.");
        for (int i = 1; i < argc; i++)
            if ((r = kvh_conf_copy(s->bind[s->nbind++], sizeof s->bind[0], argv[i], "a bind address",
                                   err)) < 0)
                return r;
        return 0;
    }
    if (!strcasecmp(name, "save") && argc >= 2)
        return kvh_conf_save(s, argc, argv, err);
    if (argc != 2)
        return tm_error_set(err, EINVAL, "Bad directive or wrong number of arguments");
    if (!strcasecmp(name, "port")) {
        if ((r = kvh_conf_int(v, 0, 65535, &n, err)) < 0)
            return r;
        s->port = (uint32_t)n;
    } else if (!strcasecmp(name, "dir")) {
        struct stat st;
        if (stat(v, &st) < 0)
            return tm_error_set(err, errno, "can't chdir to '%s': %s", v, strerror(errno));
        if (!S_ISDIR(st.st_mode))
            return tm_error_set(err, ENOTDIR, "can't chdir to '%s': Not a directory", v);
        return kvh_conf_copy(s->dir, sizeof s->dir, v, "dir", err);
    } else if (!strcasecmp(name, "dbfilename")) {
        if (strchr(v, '/') || !*v || !strcmp(v, ".") || !strcmp(v, ".."))
            return tm_error_set(err, EINVAL, "dbfilename can't be a path, just a filename");
        return kvh_conf_copy(s->dbfilename, sizeof s->dbfilename, v, "dbfilename", err);
    } else if (!strcasecmp(name, "stop-writes-on-bgsave-error")) {
        if ((r = kvh_conf_bool(v, &b, err)) < 0)
            return r;
        s->stop_writes_on_bgsave_error = b;
    } else if (!strcasecmp(name, "requirepass")) {
        size_t len = strlen(v);
        if (len > KV_MAX_PASS)
            return tm_error_set(err, E2BIG, "requirepass is longer than %d bytes", KV_MAX_PASS);
        memcpy(s->pass, v, len);
        s->pass_len = (uint32_t)len;
        s->has_pass = len > 0;   /* Redis: an empty password is none */
    } else if (!strcasecmp(name, "maxmemory")) {
        if (!kvh_parse_memory(v, &s->maxmemory))
            return tm_error_set(err, EINVAL, "argument must be a memory value");
    } else if (!strcasecmp(name, "maxmemory-policy")) {
        if (strcasecmp(v, "noeviction"))
            return tm_error_set(err, ENOTSUP, "only noeviction is supported (the store does not evict)");
    } else if (!strcasecmp(name, "databases")) {
        if ((r = kvh_conf_int(v, 1, KV_MAX_DATABASES, &n, err)) < 0)
            return r;
        s->databases = (uint32_t)n;
    } else if (!strcasecmp(name, "hz")) {
        if ((r = kvh_conf_int(v, 0, INT_MAX, &n, err)) < 0)
            return r;
        s->hz = n < 1 ? 1 : n > 500 ? 500 : (uint32_t)n;   /* Redis clamps it */
    } else if (!strcasecmp(name, "timeout")) {
        if ((r = kvh_conf_int(v, 0, INT_MAX, &n, err)) < 0)
            return r;
        s->timeout = (uint32_t)n;
    } else if (!strcasecmp(name, "maxclients")) {
        if ((r = kvh_conf_int(v, 1, 65000, &n, err)) < 0)
            return r;
        s->maxclients = (uint32_t)n;
    } else if (!strcasecmp(name, "loglevel")) {
        static const char *levels[] = { "debug", "verbose", "notice", "warning" };
        size_t i = 0;
        while (i < 4 && strcasecmp(v, levels[i]))
            i++;
        if (i == 4)
            return tm_error_set(err, EINVAL, "argument(s) must be one of the following: debug, "
                                "verbose, notice, warning");
        s->loglevel = (enum kvh_loglevel)i;
    } else if (!strcasecmp(name, "logfile")) {
        return kvh_conf_copy(s->logfile, sizeof s->logfile, v, "logfile", err);
    } else if (!strcasecmp(name, "unixsocket")) {
        return kvh_conf_copy(s->unixsocket, sizeof s->unixsocket, v, "unixsocket", err);
    } else if (!strcasecmp(name, "daemonize")) {
        if ((r = kvh_conf_bool(v, &b, err)) < 0)
            return r;
        if (b)
            return tm_error_set(err, ENOTSUP, "daemonize yes is not supported: the server stays in "
                                "the foreground (run it under a supervisor)");
    } else if (!strcasecmp(name, "appendonly")) {
        if ((r = kvh_conf_bool(v, &b, err)) < 0)
            return r;
        if (b)
            kvh_conf_ignore(s, "appendonly yes (no AOF: RDB snapshots only)");
    } else if (!strcasecmp(name, "protected-mode")) {
        if ((r = kvh_conf_bool(v, &b, err)) < 0)
            return r;
    } else {
        return tm_error_set(err, EINVAL, "Bad directive or wrong number of arguments");
    }
    return 0;
}

static int kvh_hex(int c)
{
    return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* Redis's sdssplitargs: words, "double quoted" with escapes, 'single
 * quoted'; a closing quote must end the word. Returns argc or -1 for
 * unbalanced quotes. The words are written into buf (NUL-separated). */
static int kvh_conf_split(const char *line, char *buf, char **argv, int max)
{
    const char *p = line;
    int argc = 0;
    for (;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            return argc;
        if (argc == max)
            return -1;
        argv[argc++] = buf;
        char q = (*p == '"' || *p == '\'') ? *p++ : 0;
        for (;;) {
            if (!q) {
                if (!*p || isspace((unsigned char)*p))
                    break;
                *buf++ = *p++;
            } else if (!*p) {
                return -1;
            } else if (q == '"' && *p == '\\' && p[1] == 'x' && isxdigit((unsigned char)p[2]) &&
                       isxdigit((unsigned char)p[3])) {
                *buf++ = (char)(kvh_hex((unsigned char)p[2]) * 16 + kvh_hex((unsigned char)p[3]));
                p += 4;
            } else if (q == '"' && *p == '\\' && p[1]) {
                char c = p[1];
                *buf++ = c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c == 'b' ? '\b'
                       : c == 'a' ? '\a' : c;
                p += 2;
            } else if (q == '\'' && *p == '\\' && p[1] == '\'') {
                *buf++ = '\'';
                p += 2;
            } else if (*p == q) {
                p++;
                if (*p && !isspace((unsigned char)*p))
                    return -1;   /* closing quote must be followed by a space */
                break;
            } else {
                *buf++ = *p++;
            }
        }
        *buf++ = '\0';
    }
}

#define KVH_CONF_MAX_ARGS 64

int kvh_conf_parse(struct kvh_settings *s, const char *text, size_t len, const char *path,
                   tm_error *err)
{
    bool bind_seen = false;
    unsigned lineno = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t ll = nl ? (size_t)(nl - (text + at)) : len - at;
        lineno++;
        _cleanup_free_ char *line = strndup(text + at, ll), *buf = malloc(ll + 1);
        at += ll + 1;
        if (!line || !buf)
            return tm_error_set(err, ENOMEM, "out of memory");
        if (memchr(text + at - ll - 1, '\0', ll))
            return tm_error_set(err, EINVAL, "%s:%u: a NUL byte in the line", path, lineno);
        size_t n = strlen(line);
        while (n && isspace((unsigned char)line[n - 1]))
            line[--n] = '\0';
        const char *t = line;
        while (isspace((unsigned char)*t))
            t++;
        if (!*t || *t == '#')
            continue;
        char *argv[KVH_CONF_MAX_ARGS];
        int argc = kvh_conf_split(t, buf, argv, KVH_CONF_MAX_ARGS);
        if (argc < 0)
            return tm_error_set(err, EINVAL, "%s:%u: '%.200s': Unbalanced quotes in configuration line",
                                path, lineno, t);
        tm_error e = { 0 };
        int r = kvh_conf_set(s, argc, argv, &bind_seen, &e);
        if (r < 0)
            return tm_error_set(err, e.code, "%s:%u: '%.200s': %s", path, lineno, t, e.msg);
    }
    return 0;
}

int kvh_conf_load(struct kvh_settings *s, const char *path, tm_error *err)
{
    _cleanup_free_ uint8_t *text = NULL;
    size_t len = 0;
    int r = tm_file_read(path, 16U << 20, &text, &len, err);
    if (r < 0)
        return r;
    return kvh_conf_parse(s, (const char *)text, len, path, err);
}

void kvh_settings_to_config(const struct kvh_settings *s, struct kv_config *c)
{
    memset(c, 0, sizeof *c);
    c->maxmemory = s->maxmemory;
    c->databases = s->databases;
    c->port = s->port;
    c->hz = s->hz;
    c->pass_len = s->has_pass ? s->pass_len : 0;
    memcpy(c->pass, s->pass, c->pass_len);
    /* CONFIG GET bind: the addresses separated by spaces, as Redis shows them */
    size_t n = 0;
    for (uint32_t i = 0; i < s->nbind && n < sizeof c->bind; i++)
        n += (size_t)snprintf(c->bind + n, sizeof c->bind - n, "%s%s", i ? " " : "", s->bind[i]);
    snprintf(c->dir, sizeof c->dir, "%s", s->dir);
    snprintf(c->save, sizeof c->save, "%s", s->save);
    snprintf(c->dbfilename, sizeof c->dbfilename, "%s", s->dbfilename);
    c->stop_writes_on_bgsave_error = s->stop_writes_on_bgsave_error;
    c->proto_max_bulk_len = 512ULL << 20;
    c->client_query_buffer_limit = 1ULL << 30;
}
