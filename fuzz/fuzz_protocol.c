/* libFuzzer target: teemated's requests come from any process of the user;
 * parsing them is a pure function that must refuse garbage cleanly. The
 * first byte chooses how many fds "came with" the message; the rest is the
 * message. The same bytes also go through the client's reply checks. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/protocol.h"
#include "daemon/ready.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > TM_PROTO_MAX_MESSAGE + 1)
        return 0;
    int nfds = data[0] % 4;
    const uint8_t *msg = data + 1;
    size_t len = size - 1;
    struct tm_request req;
    tm_error err = { 0 };
    if (tm_proto_parse_request(msg, len, nfds, &req, &err) == 0) {
        /* What parses is what the daemon relies on. */
        if (req.nfds != nfds)
            abort();
        if ((req.type == TM_REQ_ATTACH && (req.u.attach.threads < 1 ||
                                          req.u.attach.threads > TM_ATTACH_MAX_THREADS)) ||
            (req.type == TM_REQ_INSPECT && !tm_enclave_name_valid(req.u.inspect.name)))
            abort();
    }
    for (uint32_t type = TM_REQ_CREATE; type <= TM_REQ_LAST; type++) {
        struct tm_proto_reply_head head;
        const void *payload;
        size_t plen;
        if (tm_proto_parse_reply(msg, len, (enum tm_proto_type)type, &head, &payload, &plen, &err) < 0)
            continue;
        struct tm_proto_header h;
        memcpy(&h, msg, sizeof h);
        if (h.type == TM_PROTO_NOTICE)   /* a notice is always a refusal */
            abort();
        if (type == TM_REQ_ATTACH || type == TM_REQ_FORK) {
            struct tm_proto_attach_reply *r = malloc(sizeof *r);
            if (!r)
                return 0;
            memcpy(r, payload, sizeof *r);
            tm_proto_check_attach_reply(r, nfds, &err);
            free(r);
        } else if (type == TM_REQ_INSPECT) {
            struct tm_proto_inspect in;
            memcpy(&in, payload, sizeof in);
            tm_proto_check_inspect(&in, &err);
        }
    }
    char report[TM_READY_REPORT_MAX];
    size_t n = len < sizeof report - 1 ? len : sizeof report - 1;
    memcpy(report, msg, n);
    report[n] = '\0';
    int pid;
    tm_daemon_ready_parse(report, &pid, &err);
    return 0;
}
