/* teemate kv export / teemate kv import: argument parsing only (the work
 * is apps/kv/host/kvh_dump.c). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_kv.h"
#include "kvh_dump.h"

static const char export_usage[] =
    "Usage: teemate kv export --dir DIR [--dbfilename dump.rdb] -o OUT\n\n"
    "Unseals the store's sealed dump DIR/dump.rdb (as `teemate kv serve --dir DIR`\n"
    "writes it) inside an enclave and writes the plain RDB file that Redis 7.0\n"
    "reads (redis-server, redis-check-rdb). The dump is authenticated as it is\n"
    "read: a tampered or truncated file, or one sealed by another signer, is\n"
    "refused and OUT is not written. OUT appears whole or not at all (a\n"
    "temporary file next to it, synced, then renamed); OUT '-' is standard\n"
    "output, written after a first pass authenticated the whole file.\n"
    "The plain file holds every key and value in the clear (mode 0600).\n\n"
    "Options:\n"
    "  --dir DIR              the store's directory\n"
    "  --dbfilename NAME      the dump's name in DIR (default dump.rdb)\n"
    "  -o, --output OUT       the plain RDB file to write, or '-'\n";

static const char import_usage[] =
    "Usage: teemate kv import FILE --dir DIR [--dbfilename dump.rdb] [--force]\n\n"
    "Seals the plain RDB file FILE (Redis 7.0's SAVE, versions 5 to 10) inside an\n"
    "enclave into DIR/dump.rdb, which `teemate kv serve --dir DIR` loads at start.\n"
    "FILE's magic, version and CRC64 trailer are checked as it streams (the\n"
    "server checks the rest when it loads it). The sealed file's key is the\n"
    "store's (SGX sealing, MRSIGNER policy): only an enclave of the same signer\n"
    "on this machine reads it. The dump appears whole or not at all.\n\n"
    "Options:\n"
    "  --dir DIR              the store's directory\n"
    "  --dbfilename NAME      the dump's name in DIR (default dump.rdb)\n"
    "  --force                replace an existing dump\n";

/* DIR/NAME; NAME is a file name, as Redis's dbfilename. */
static int kv_dump_path(const char *verb, const char *dir, const char *name, char *buf, size_t len)
{
    if (!dir)
        return tm_cli_usage(verb, "--dir is required");
    if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
        return tm_cli_usage(verb, "--dbfilename '%s': a file name, not a path", name);
    if (snprintf(buf, len, "%s/%s", dir, name) >= (int)len)
        return tm_cli_usage(verb, "--dir: path too long");
    return 0;
}

static const struct option dump_opts[] = {
    { "dir", required_argument, NULL, 'd' },  { "dbfilename", required_argument, NULL, 'f' },
    { "output", required_argument, NULL, 'o' }, { "force", no_argument, NULL, 'F' },
    { "help", no_argument, NULL, 'h' },       { 0 },
};

int tm_cmd_kv_export(int argc, char **argv)
{
    const char *dir = NULL, *name = "dump.rdb", *out = NULL;
    int c;
    while ((c = tm_cli_getopt("kv export", argc, argv, "ho:", dump_opts)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'f': name = optarg; break;
        case 'o': out = optarg; break;
        case 'h': return fputs(export_usage, stdout), 0;
        case 'F': return tm_cli_usage("kv export", "--force is import's (export replaces OUT)");
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind != argc)
        return tm_cli_usage("kv export", "takes no arguments");
    char path[PATH_MAX], image[PATH_MAX];
    int r = kv_dump_path("kv export", dir, name, path, sizeof path);
    if (r)
        return r;
    if (!out || !*out)
        return tm_cli_usage("kv export", "-o OUT is required ('-': standard output)");
    tm_error err = { 0 };
    if (tm_cli_kv_image(image, sizeof image, &err) < 0 || kvh_export(image, path, out, &err) < 0)
        return tm_cli_fail(&err);
    return 0;
}

int tm_cmd_kv_import(int argc, char **argv)
{
    const char *dir = NULL, *name = "dump.rdb";
    bool force = false;
    int c;
    while ((c = tm_cli_getopt("kv import", argc, argv, "h", dump_opts)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'f': name = optarg; break;
        case 'F': force = true; break;
        case 'h': return fputs(import_usage, stdout), 0;
        case 'o': return tm_cli_usage("kv import", "--output is export's (import writes DIR/NAME)");
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc)
        return tm_cli_usage("kv import", "expects one FILE (a plain RDB file)");
    char path[PATH_MAX], image[PATH_MAX];
    int r = kv_dump_path("kv import", dir, name, path, sizeof path);
    if (r)
        return r;
    tm_error err = { 0 };
    if (tm_cli_kv_image(image, sizeof image, &err) < 0 ||
        kvh_import(image, argv[optind], path, force, &err) < 0)
        return tm_cli_fail(&err);
    return 0;
}
