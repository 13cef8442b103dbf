/* The gateway's key: OpenWhisk's guest key format (a UUID, ':', 64 letters
 * and digits), made at first start from the kernel's randomness, kept 0600
 * in <state dir>/gateway/auth.key; HTTP basic auth checks it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "gw.h"
#include "util/cleanup.h"
#include "util/file.h"

static void gw_random(void *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = getrandom((char *)buf + got, n - got, 0);
        if (r > 0)
            got += (size_t)r;
    }
}

void gw_random_hex(char *buf, size_t n)
{
    unsigned char b[64];
    gw_random(b, (n + 1) / 2);
    for (size_t i = 0; i < n; i++)
        buf[i] = "0123456789abcdef"[(b[i / 2] >> (i % 2 ? 0 : 4)) & 15];
    buf[n] = '\0';
}

double gw_now_epoch_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1000 + (double)(ts.tv_nsec / 1000000);
}

static void gw_key_make(char *key)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char u[16], s[64];
    gw_random(u, sizeof u);
    u[6] = (u[6] & 0x0f) | 0x40;   /* a version 4 UUID */
    u[8] = (u[8] & 0x3f) | 0x80;
    char *p = key;
    for (int i = 0; i < 16; i++) {
        p += sprintf(p, "%02x", u[i]);
        if (i == 3 || i == 5 || i == 7 || i == 9)
            *p++ = '-';
    }
    *p++ = ':';
    for (size_t i = 0; i < sizeof s; i++) {
        do
            gw_random(&s[i], 1);
        while (s[i] >= 248);   /* 248 = 4 * 62: no bias */
        *p++ = alnum[s[i] % 62];
    }
    *p = '\0';
}

/* A new key, written whole to a file of its own and linked in: a process
 * that reads auth.key sees all of it or none. 0, -EEXIST when another process
 * made it first (read that one), or -errno. */
static int gw_key_create(const char *path, char *key, tm_error *err)
{
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    gw_key_make(key);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return tm_error_sys(err, "%s", tmp);
    size_t kl = strlen(key);
    bool ok = write(fd, key, kl) == (ssize_t)kl && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    close(fd);
    int r = ok ? (link(tmp, path) == 0 ? 0 : -errno) : tm_error_sys(err, "%s", tmp);
    unlink(tmp);
    if (r < 0 && r != -EEXIST && ok)
        return tm_error_set(err, -r, "%s: %s", path, strerror(-r));
    return r;
}

int gw_key_load_or_create(const char *dir, char *key, size_t len, tm_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/auth.key", dir);
    _cleanup_free_ uint8_t *data = NULL;
    size_t n;
    int r = tm_file_read(path, len - 1, &data, &n, err);
    if (r == -ENOENT) {
        /* the gateway and `--show-key` may both be first (the demo starts them together) */
        if ((r = gw_key_create(path, key, err)) != -EEXIST)
            return r;
        memset(err, 0, sizeof *err);
        r = tm_file_read(path, len - 1, &data, &n, err);
    }
    if (r < 0)
        return r;
    while (n && (data[n - 1] == '\n' || data[n - 1] == '\r'))
        n--;
    memcpy(key, data, n);
    key[n] = '\0';
    if (!strchr(key, ':') || n < 3)
        return tm_error_set(err, EINVAL, "%s: not a uuid:secret key", path);
    return 0;
}

bool gw_auth_check(const char *key, const char *header)
{
    if (!header || strncasecmp(header, "Basic ", 6))
        return false;
    unsigned char want[GW_KEY_MAX * 2];
    int wl = EVP_EncodeBlock(want, (const unsigned char *)key, (int)strlen(key));
    const char *got = header + 6;
    while (*got == ' ')
        got++;
    size_t gl = strlen(got);
    while (gl && got[gl - 1] == ' ')
        gl--;
    return gl == (size_t)wl && CRYPTO_memcmp(got, want, gl) == 0;
}
