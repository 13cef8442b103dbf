#include "util/state_dir.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *home_dir(void)
{
    const char *home = getenv("HOME");
    if (home && home[0] == '/')
        return home;
    struct passwd *pw = getpwuid(geteuid());
    return pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
}

static int choose(char *buf, size_t len, tm_error *err)
{
    const char *env = getenv("TEEMATE_STATE_DIR");
    int n;
    if (env && *env)
        n = snprintf(buf, len, "%s", env);
    else if (geteuid() == 0)
        n = snprintf(buf, len, "/var/lib/teemate");
    else if ((env = getenv("XDG_STATE_HOME")) && env[0] == '/')   /* relative ones are ignored, per XDG */
        n = snprintf(buf, len, "%s/teemate", env);
    else if ((env = home_dir()))
        n = snprintf(buf, len, "%s/.local/state/teemate", env);
    else
        return tm_error_set(err, ENOENT, "no state directory: set TEEMATE_STATE_DIR (or HOME)");
    if (n < 0 || (size_t)n >= len)
        return tm_error_set(err, ENAMETOOLONG, "state directory path is too long");
    return 0;
}

/* mkdir -p, each missing directory 0700. */
static int make_dirs(char *path, tm_error *err)
{
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        int ret = mkdir(path, 0700);
        int saved = errno;
        struct stat st;
        if (ret < 0 && saved == EEXIST && stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
            ret = tm_error_set(err, ENOTDIR, "state directory: %s is not a directory", path);
            *p = c;
            return ret;
        }
        if (ret < 0 && saved != EEXIST) {
            errno = saved;
            ret = tm_error_sys(err, "cannot create state directory %s", path);
            *p = c;
            return ret;
        }
        *p = c;
        if (c == '\0')
            return 0;
    }
}

int tm_state_dir(char *buf, size_t len, tm_error *err)
{
    int ret = choose(buf, len, err);
    if (ret < 0)
        return ret;
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    return make_dirs(buf, err);
}
