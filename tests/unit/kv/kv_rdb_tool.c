/* A native tool for the RDB tests (tests/cli/test_kv_rdb_vs_redis.sh):
 *   kv_rdb_tool dump FILE    loads an RDB into a native store, prints the
 *                            canonical dump (kv_rdb_dump.h)
 *   kv_rdb_tool write FILE   runs the commands on stdin (RESP or inline) in
 *                            a native store, then saves it as an RDB
 * The store's clock is the real one, so TTLs mean the same to redis-server. */
#include <sys/time.h>

/* the shared test headers define helpers this tool does not use */
#pragma GCC diagnostic ignored "-Wunused-function"

#include "kv_test.h"
#include "kv_rdb_dump.h"
#include "kv_rdb_io.h"

static int64_t wall_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static int start(void)
{
    kvt_now_us = (uint64_t)wall_us();
    int rc = kvt_start();
    if (rc)
        fprintf(stderr, "kv_rdb_tool: kv_start: %d\n", rc);
    /* one batch so that the store's clock is set */
    kvt_connect(1);
    return rc;
}

static int dump(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    if (start())
        return 1;
    char err[256];
    struct kv_source src = { kvr_file_read, f };
    int rc = kv_rdb_load(&src, err, sizeof err);
    fclose(f);
    if (rc) {
        fprintf(stderr, "kv_rdb_tool: %s: %s (%d)\n", path, err, rc);
        return 1;
    }
    char *text = kvr_dump();
    fputs(text, stdout);
    free(text);
    kv_stop();
    return 0;
}

static int write_rdb(const char *path)
{
    if (start())
        return 1;
    char *in = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&in, &len);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
        fwrite(buf, 1, n, mem);
    fclose(mem);
    char *reply = NULL;
    size_t reply_len = 0;
    int rc = kvt_batch(1, KV_IN_DATA, in, len, 0, &reply, &reply_len);
    while (rc >= 0 && (kvt_last_flags & KV_OUT_PENDING))
        rc = kvt_batch(1, 0, NULL, 0, 0, &reply, &reply_len);
    free(in);
    /* an error reply anywhere (a bulk holding "-5" is not one) */
    if (rc < 0 || (reply && (reply[0] == '-' || strstr(reply, "\r\n-ERR") ||
                             strstr(reply, "\r\n-WRONGTYPE")))) {
        fprintf(stderr, "kv_rdb_tool: a command failed: %.200s\n", reply ? reply : "(batch)");
        return 1;
    }
    free(reply);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return 1;
    }
    struct kv_snapshot *snap = kvr_snapshot(wall_us() / 1000);
    struct kv_sink sink = { kvr_file_write, f };
    rc = kv_rdb_save(snap, &sink);
    free(snap);
    if (fclose(f) != 0 && !rc)
        rc = -EIO;
    if (rc) {
        fprintf(stderr, "kv_rdb_tool: saving %s: %d\n", path, rc);
        return 1;
    }
    kv_stop();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "dump") == 0)
        return dump(argv[2]);
    if (argc == 3 && strcmp(argv[1], "write") == 0)
        return write_rdb(argv[2]);
    fprintf(stderr, "usage: kv_rdb_tool dump|write FILE\n");
    return 2;
}
