/* The default config.json, as runc 1.1's `runc spec` writes it (our
 * hostname, a cgroup namespace too, no ambient capabilities). `teemate spec`
 * prints the text and `teemate run` parses the same text, so there is one
 * source of truth. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "container/spec_internal.h"

/* runc's three capabilities. runc 1.1.5 also lists them as ambient, but
 * with no inheritable set the kernel refuses to raise them (runc warns and
 * goes on; a refusal is an error for us), so only these three sets. */
static json_t *default_caps(void)
{
    return json_pack("[sss]", "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE");
}

static json_t *default_process(void)
{
    return json_pack(
        "{s:b, s:{s:i, s:i}, s:[s], s:[ss], s:s,"
        " s:{s:o, s:o, s:o},"
        " s:[{s:s, s:i, s:i}], s:b}",
        "terminal", 1,
        "user", "uid", 0, "gid", 0,
        "args", "sh",
        "env", "PATH=" TM_DEFAULT_PATH, "TERM=xterm",
        "cwd", "/",
        "capabilities", "bounding", default_caps(), "effective", default_caps(),
        "permitted", default_caps(),
        "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024,
        "noNewPrivileges", 1);
}

static json_t *default_mounts(void)
{
    return json_pack(
        "[{s:s, s:s, s:s},"
        " {s:s, s:s, s:s, s:[ssss]},"
        " {s:s, s:s, s:s, s:[ssssss]},"
        " {s:s, s:s, s:s, s:[sssss]},"
        " {s:s, s:s, s:s, s:[sss]},"
        " {s:s, s:s, s:s, s:[ssss]},"
        " {s:s, s:s, s:s, s:[sssss]}]",
        "destination", "/proc", "type", "proc", "source", "proc",
        "destination", "/dev", "type", "tmpfs", "source", "tmpfs",
        "options", "nosuid", "strictatime", "mode=755", "size=65536k",
        "destination", "/dev/pts", "type", "devpts", "source", "devpts",
        "options", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5",
        "destination", "/dev/shm", "type", "tmpfs", "source", "shm",
        "options", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k",
        "destination", "/dev/mqueue", "type", "mqueue", "source", "mqueue",
        "options", "nosuid", "noexec", "nodev",
        "destination", "/sys", "type", "sysfs", "source", "sysfs",
        "options", "nosuid", "noexec", "nodev", "ro",
        "destination", "/sys/fs/cgroup", "type", "cgroup", "source", "cgroup",
        "options", "nosuid", "noexec", "nodev", "relatime", "ro");
}

static json_t *default_linux(void)
{
    return json_pack(
        "{s:{s:[{s:b, s:s}]},"
        " s:[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}, {s:s}],"
        " s:[ssssssssss], s:[sssss]}",
        "resources", "devices", "allow", 0, "access", "rwm",
        "namespaces", "type", "pid", "type", "network", "type", "ipc", "type", "uts",
        "type", "mount", "type", "cgroup",
        "maskedPaths", "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/sys/firmware", "/proc/scsi",
        "readonlyPaths", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");
}

char *tm_spec_default_json(void)
{
    /* "o" hands each part's reference over to the document. */
    _cleanup_json_ json_t *doc = json_pack(
        "{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}",
        "ociVersion", "1.0.2-dev",
        "process", default_process(),
        "root", "path", "rootfs", "readonly", 1,
        "hostname", "teemate",
        "mounts", default_mounts(),
        "linux", default_linux());
    return doc ? json_dumps(doc, JSON_INDENT(4)) : NULL;
}

int tm_spec_default(struct tm_container_spec *spec, tm_error *err)
{
    memset(spec, 0, sizeof *spec);
    char *text = tm_spec_default_json();
    if (!text)
        return tm_error_set(err, ENOMEM, "cannot build the default config: out of memory");
    int r = tm_spec_parse(text, strlen(text), spec, err);
    free(text);
    return r;
}
