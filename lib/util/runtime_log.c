#include "util/runtime_log.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/clock.h"

/* logrus's text format: time="..." level=error msg="..." */
static char *text_line(const char *time, const char *msg)
{
    size_t len = strlen(msg);
    _cleanup_free_ char *quoted = malloc(2 * len + 1);
    if (!quoted)
        return NULL;
    char *q = quoted;
    for (const char *p = msg; *p; p++) {
        if (*p == '"' || *p == '\\')
            *q++ = '\\';
        *q++ = *p == '\n' ? ' ' : *p;
    }
    *q = '\0';
    char *line = NULL;
    if (asprintf(&line, "time=\"%s\" level=error msg=\"%s\"\n", time, quoted) < 0)
        line = NULL;
    return line;
}

static char *json_line(const char *time, const char *msg)
{
    json_t *j = json_pack("{s:s, s:s, s:s}", "level", "error", "msg", msg, "time", time);
    if (!j)
        return NULL;
    _cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    char *line = NULL;
    if (text && asprintf(&line, "%s\n", text) < 0)
        line = NULL;
    return line;
}

int tm_runtime_log_open(const char *path)
{
    return path ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : -1;
}

void tm_runtime_log_error(int fd, bool json, const char *msg)
{
    if (fd < 0)
        return;
    char time[64];
    tm_rfc3339_now(time, sizeof(time));
    _cleanup_free_ char *line = json ? json_line(time, msg) : text_line(time, msg);
    /* A log that cannot be written is not worth failing for. */
    if (line && write(fd, line, strlen(line)) < 0)
        return;
}
