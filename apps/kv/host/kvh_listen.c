/* The store's listeners: TCP on each bind address (IPv4 or IPv6 literal,
 * "*" for any IPv4, "::*" for any IPv6) and an optional unix socket. All
 * nonblocking, SO_REUSEADDR, backlog 511 (Redis's tcp-backlog). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "kvh.h"
#include "util/cleanup.h"

#define KVH_BACKLOG 511

static int kvh_listen_fd(int family, const struct sockaddr *sa, socklen_t len, const char *what,
                         tm_error *err)
{
    _cleanup_close_ int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return tm_error_sys(err, "socket for %s", what);
    int one = 1;
    if (family != AF_UNIX)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, sa, len) < 0)
        return tm_error_sys(err, "Could not create server TCP listening socket %s: bind", what);
    if (listen(fd, KVH_BACKLOG) < 0)
        return tm_error_sys(err, "listen on %s", what);
    return TM_STEAL_FD(fd);
}

int kvh_listen_tcp(const char *addr, uint32_t port, tm_error *err)
{
    char what[128];
    snprintf(what, sizeof what, "%s:%u", addr, port);
    const char *a = addr[0] == '-' ? addr + 1 : addr;   /* Redis's "-addr": optional */
    if (!strcmp(a, "*") || strchr(a, '.')) {
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        if (strcmp(a, "*") && inet_pton(AF_INET, a, &sin.sin_addr) != 1)
            return tm_error_set(err, EINVAL, "bind address '%s' is not an IPv4 or IPv6 address", addr);
        return kvh_listen_fd(AF_INET, (struct sockaddr *)&sin, sizeof sin, what, err);
    }
    struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
    if (strcmp(a, "::*") && inet_pton(AF_INET6, a, &sin6.sin6_addr) != 1)
        return tm_error_set(err, EINVAL, "bind address '%s' is not an IPv4 or IPv6 address", addr);
    return kvh_listen_fd(AF_INET6, (struct sockaddr *)&sin6, sizeof sin6, what, err);
}

int kvh_listen_unix(const char *path, tm_error *err)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sun.sun_path)
        return tm_error_set(err, ENAMETOOLONG, "unixsocket %s is too long", path);
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    unlink(path);   /* Redis removes a stale socket too */
    return kvh_listen_fd(AF_UNIX, (struct sockaddr *)&sun, sizeof sun, path, err);
}

uint32_t kvh_listen_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}
