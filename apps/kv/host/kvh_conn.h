/* One client connection as the host sees it: a socket, the bytes it still
 * has to write, and what the store must hear about it in the next batch.
 * Keys and values pass through here only as the connection's own bytes. */
#ifndef KVH_CONN_H
#define KVH_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvh_conn {
    uint64_t id;                 /* the store's client id: > 0, never reused */
    int fd;                      /* -1 once closed */
    char addr[160];              /* "ADDR LADDR", KV_IN_NEW's bytes */
    bool is_new;                 /* KV_IN_NEW not sent yet */
    bool gone;                   /* closed here: KV_IN_GONE not sent yet */
    bool dead;                   /* gone and told (or closed by the store): free it */
    bool closing;                /* KV_OUT_CLOSE: close once the output is written */
    bool pending_inside;         /* KV_OUT_PENDING: ask for more once the output is written */
    bool ask;                    /* a record without data is due (pending_inside, drained) */
    bool queued;                 /* in the loop's list of clients with news */
    bool recorded;               /* has its record in the batch being built */
    uint32_t events;             /* epoll events registered now */
    uint64_t last_ms;            /* last input (idle timeout) */
    char *out;                   /* unwritten output: out[out_off..out_len) */
    size_t out_off, out_len, out_cap;
    struct kvh_conn *next_queued;
};

/* A fresh connection on fd (nonblocking) with its CLIENT LIST addresses. */
struct kvh_conn *kvh_conn_new(uint64_t id, int fd);
/* Append reply bytes to its output; false when out of memory. */
bool kvh_conn_append(struct kvh_conn *c, const void *p, size_t len);
/* Write what it can. 1: all written; 0: some left (wait for EPOLLOUT);
 * -1: the peer is gone (EPIPE, ECONNRESET...). */
int kvh_conn_flush(struct kvh_conn *c);
bool kvh_conn_has_output(const struct kvh_conn *c);
/* Close the socket (idempotent). */
void kvh_conn_close(struct kvh_conn *c);
void kvh_conn_free(struct kvh_conn *c);

#endif
