/* A mount's options as runc 1.1's parseMountOptions reads them: names of
 * mount(2) flags set or clear MS_* bits in order, propagation names choose
 * the propagation, and everything else is filesystem data for the kernel. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "container/spec_internal.h"

#define MOUNT_DATA_MAX 4095   /* mount(2) copies one page of data */

static const struct {
    const char *name;
    bool clear;
    unsigned long flag;
} mount_flags[] = {
    { "acl", false, MS_POSIXACL },        { "async", true, MS_SYNCHRONOUS },
    { "atime", true, MS_NOATIME },        { "bind", false, MS_BIND },
    { "dev", true, MS_NODEV },            { "diratime", true, MS_NODIRATIME },
    { "dirsync", false, MS_DIRSYNC },     { "exec", true, MS_NOEXEC },
    { "iversion", false, MS_I_VERSION },  { "lazytime", false, MS_LAZYTIME },
    { "loud", true, MS_SILENT },          { "mand", false, MS_MANDLOCK },
    { "noacl", true, MS_POSIXACL },       { "noatime", false, MS_NOATIME },
    { "nodev", false, MS_NODEV },         { "nodiratime", false, MS_NODIRATIME },
    { "noexec", false, MS_NOEXEC },       { "noiversion", true, MS_I_VERSION },
    { "nolazytime", true, MS_LAZYTIME },  { "nomand", true, MS_MANDLOCK },
    { "norelatime", true, MS_RELATIME },  { "nostrictatime", true, MS_STRICTATIME },
    { "nosuid", false, MS_NOSUID },       { "rbind", false, MS_BIND | MS_REC },
    { "relatime", false, MS_RELATIME },   { "remount", false, MS_REMOUNT },
    { "ro", false, MS_RDONLY },           { "rw", true, MS_RDONLY },
    { "silent", false, MS_SILENT },       { "strictatime", false, MS_STRICTATIME },
    { "suid", true, MS_NOSUID },          { "sync", false, MS_SYNCHRONOUS },
};

static const struct {
    const char *name;
    unsigned long flags;
} propagations[] = {
    { "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
    { "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
    { "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
    { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

/* Options that ask the runtime, not the kernel, for something: runc's
 * "tmpcopyup" (copy the image's files into a new tmpfs, which podman adds to
 * every tmpfs it asks for) and crun's "copy-symlink"/"notmpcopyup". We do not
 * do these extras; passed on as data the kernel would refuse the mount
 * ("tmpfs: Unknown parameter"), so they are dropped. "defaults" means no
 * option at all; the empty option is nothing. */
static const char *const runtime_only[] = { "tmpcopyup", "notmpcopyup", "copy-symlink",
                                            "defaults", "" };

bool tm_mount_propagation_from_name(const char *name, unsigned long *flags)
{
    for (size_t i = 0; i < sizeof propagations / sizeof propagations[0]; i++)
        if (!strcmp(name, propagations[i].name)) {
            *flags = propagations[i].flags;
            return true;
        }
    return false;
}

/* Apply option o to flags; false when it is no flag. */
static bool apply_flag(const char *o, unsigned long *flags)
{
    for (size_t i = 0; i < sizeof mount_flags / sizeof mount_flags[0]; i++)
        if (!strcmp(o, mount_flags[i].name)) {
            if (mount_flags[i].clear)
                *flags &= ~mount_flags[i].flag;
            else
                *flags |= mount_flags[i].flag;
            return true;
        }
    return false;
}

static bool runtime_only_option(const char *o)
{
    for (size_t i = 0; i < sizeof runtime_only / sizeof runtime_only[0]; i++)
        if (!strcmp(o, runtime_only[i]))
            return true;
    return false;
}

const char *tm_mount_option_name(size_t i)
{
    size_t nflags = sizeof mount_flags / sizeof mount_flags[0];
    size_t nprop = sizeof propagations / sizeof propagations[0];
    if (i < nflags)
        return mount_flags[i].name;
    if (i < nflags + nprop)
        return propagations[i - nflags].name;
    return i == nflags + nprop ? "defaults" : NULL;   /* the one runtime-only option that means something */
}

int tm_mount_options_parse(char **options, size_t n, unsigned long *flags,
                           unsigned long *propagation, char **data, const tm_jpath *at,
                           tm_error *err)
{
    *flags = 0;
    *propagation = 0;
    *data = NULL;
    size_t len = 0;   /* of the data joined with commas */
    bool *is_data = calloc(n ? n : 1, sizeof *is_data);
    if (!is_data)
        return tm_error_set(err, ENOMEM, "%s: out of memory", at->s);
    for (size_t i = 0; i < n; i++) {
        unsigned long p;
        if (apply_flag(options[i], flags) || runtime_only_option(options[i]))
            continue;
        if (tm_mount_propagation_from_name(options[i], &p)) {
            *propagation = p;   /* mount(2) takes one; the last one wins */
            continue;
        }
        is_data[i] = true;
        len += strlen(options[i]) + 1;
    }
    if (len > MOUNT_DATA_MAX + 1) {
        free(is_data);
        return tm_json_fail(err, at, "filesystem options too long (%zu bytes, at most %d)",
                            len - 1, MOUNT_DATA_MAX);
    }
    if (len && !(*data = malloc(len))) {
        free(is_data);
        return tm_error_set(err, ENOMEM, "%s: out of memory", at->s);
    }
    char *end = *data;
    for (size_t i = 0; i < n; i++) {
        if (!is_data[i])
            continue;
        if (end != *data)
            *end++ = ',';
        end = stpcpy(end, options[i]);
    }
    free(is_data);
    return 0;
}
