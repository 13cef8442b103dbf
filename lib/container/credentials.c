/* Who the container's process is: rlimits, groups, gid, uid, capabilities,
 * no_new_privs and umask, in the order the kernel needs (the bounding set
 * while we still hold CAP_SETPCAP, capabilities kept across setuid). */
#include "container/init.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned last_cap(void)
{
    unsigned last = CAP_LAST_CAP;
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    if (f) {
        if (fscanf(f, "%u", &last) != 1 || last > 63)
            last = CAP_LAST_CAP;
        fclose(f);
    }
    return last;
}

int tm_capabilities_bound(const struct tm_container_spec *spec, tm_error *err)
{
    unsigned last = last_cap();
    for (unsigned c = 0; c <= last; c++)
        if (!(spec->cap_bounding & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
            return tm_error_sys(err, "cannot drop capability %u from the bounding set", c);
    return 0;
}

static int set_capabilities(const struct tm_container_spec *spec, tm_error *err)
{
    unsigned last = last_cap();
    cap_t caps = cap_init();
    if (!caps)
        return tm_error_sys(err, "cap_init");
    for (unsigned c = 0; c <= last; c++) {
        cap_value_t v = (cap_value_t)c;
        if (spec->cap_effective & (1ULL << c))
            cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_SET);
        if (spec->cap_permitted & (1ULL << c))
            cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_SET);
        if (spec->cap_inheritable & (1ULL << c))
            cap_set_flag(caps, CAP_INHERITABLE, 1, &v, CAP_SET);
    }
    int r = cap_set_proc(caps);
    cap_free(caps);
    if (r < 0)
        return tm_error_sys(err, "cannot set the process's capabilities");
    /* The kernel raises an ambient capability only if it is permitted and
     * inheritable (EPERM otherwise; EINVAL before 4.3). runc 1.1 then runs the
     * process without it: `runc spec`'s own config lists ambient capabilities
     * that are not inheritable, and runs. */
    for (unsigned c = 0; c <= last; c++)
        if ((spec->cap_ambient & (1ULL << c)) &&
            prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0 &&
            errno != EPERM && errno != EINVAL)
            return tm_error_sys(err, "cannot raise ambient capability %u", c);
    return 0;
}

/* As runc's fixStdioPermissions: stdio the runtime was given (pipes, a
 * pty) belongs to root, so a process of another uid could not reopen it
 * (/dev/stdout, /proc/self/fd/1). Hand it to that uid, except /dev/null;
 * where the kernel refuses (read-only, foreign owner) leave it. Not for
 * uid 0: `sudo teemate run` must not take a user's terminal away. */
static int give_stdio(uid_t uid, tm_error *err)
{
    struct stat null;
    if (uid == 0 || stat("/dev/null", &null) < 0)
        return 0;
    for (int fd = 0; fd < 3; fd++) {
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_uid == uid ||
            (S_ISCHR(st.st_mode) && st.st_rdev == null.st_rdev))
            continue;
        if (fchown(fd, uid, (gid_t)-1) < 0 && errno != EINVAL && errno != EPERM && errno != EROFS)
            return tm_error_sys(err, "cannot give fd %d to uid %u", fd, (unsigned)uid);
    }
    return 0;
}

int tm_credentials_apply(const struct tm_container_spec *spec, tm_error *err)
{
    for (size_t i = 0; i < spec->nrlimits; i++) {
        struct rlimit rl = { .rlim_cur = spec->rlimits[i].soft, .rlim_max = spec->rlimits[i].hard };
        if (setrlimit(spec->rlimits[i].resource, &rl) < 0)
            return tm_error_sys(err, "cannot set rlimit %d to %llu/%llu", spec->rlimits[i].resource,
                                (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
    }
    int ret = tm_capabilities_bound(spec, err);
    if (ret < 0 || (ret = give_stdio(spec->uid, err)) < 0)
        return ret;
    if (setgroups(spec->nadditional_gids, spec->additional_gids) < 0)
        return tm_error_sys(err, "cannot set the supplementary groups");
    if (setresgid(spec->gid, spec->gid, spec->gid) < 0)
        return tm_error_sys(err, "cannot set gid %u", (unsigned)spec->gid);
    /* Keep the permitted set across the uid change; set_capabilities then
     * puts every set to the spec's. */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setresuid(spec->uid, spec->uid, spec->uid) < 0)
        return tm_error_sys(err, "cannot set uid %u", (unsigned)spec->uid);
    if ((ret = set_capabilities(spec, err)) < 0)
        return ret;
    if (spec->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return tm_error_sys(err, "cannot set no_new_privs");
    umask(spec->has_umask ? spec->umask : 022);
    return 0;
}
