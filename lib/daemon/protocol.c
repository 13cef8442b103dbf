/* Requests: validation of what a client sent (pure) and their encoding. */
#include "daemon/protocol.h"

#include <errno.h>
#include <string.h>

bool tm_enclave_name_valid(const char *name)
{
    size_t n = strnlen(name, TM_ENCLAVE_NAME_MAX + 1);
    if (n == 0 || n > TM_ENCLAVE_NAME_MAX || name[0] == '.' || name[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

int tm_enclave_name_check(const char *name, tm_error *err)
{
    if (tm_enclave_name_valid(name))
        return 0;
    if (strnlen(name, TM_ENCLAVE_NAME_MAX + 1) > TM_ENCLAVE_NAME_MAX)
        return tm_error_set(err, EINVAL, "enclave name is longer than %d characters",
                            TM_ENCLAVE_NAME_MAX);
    return tm_error_set(err, EINVAL,
                        "bad enclave name '%.*s': use letters, digits, '_', '.' and '-', "
                        "not starting with '.' or '-'",
                        TM_ENCLAVE_NAME_MAX, name);
}

bool tm_proto_field_terminated(const char *s, size_t size)
{
    size_t n = strnlen(s, size);
    if (n == size)
        return false;
    for (size_t i = n; i < size; i++)
        if (s[i])
            return false;
    return true;
}

static int check_name(const char *field, size_t size, tm_error *err)
{
    if (!tm_proto_field_terminated(field, size))
        return tm_error_set(err, EPROTO, "malformed request: name field not NUL-terminated and padded");
    return tm_enclave_name_check(field, err);
}

static int check_threads(uint32_t threads, tm_error *err)
{
    if (threads < 1 || threads > TM_ATTACH_MAX_THREADS)
        return tm_error_set(err, EINVAL, "%u threads: ask for 1 to %d", threads,
                            TM_ATTACH_MAX_THREADS);
    return 0;
}

static int check_create(const struct tm_proto_create *c, tm_error *err)
{
    int ret = check_name(c->name, sizeof c->name, err);
    if (ret < 0)
        return ret;
    if (!tm_proto_field_terminated(c->backend, sizeof c->backend) ||
        !tm_proto_field_terminated(c->image_name, sizeof c->image_name))
        return tm_error_set(err, EPROTO, "malformed CREATE: string field not NUL-terminated and padded");
    if (strcmp(c->backend, "sim") && strcmp(c->backend, "sgx") && strcmp(c->backend, "auto"))
        return tm_error_set(err, EINVAL, "unknown backend '%s' (sim, sgx or auto)", c->backend);
    for (const char *p = c->image_name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return tm_error_set(err, EINVAL, "image name has control characters");
    if (c->flags & ~TM_CREATE_HAS_SIG)
        return tm_error_set(err, EPROTO, "malformed CREATE: unknown flags 0x%x", c->flags);
    return 0;
}

size_t tm_proto_request_size(uint32_t type)
{
    switch (type) {
    case TM_REQ_CREATE: return sizeof(struct tm_proto_create);
    case TM_REQ_INSPECT: return sizeof(struct tm_proto_name_req);
    case TM_REQ_REMOVE: return sizeof(struct tm_proto_remove);
    case TM_REQ_ATTACH: return sizeof(struct tm_proto_attach);
    case TM_REQ_FORK: return sizeof(struct tm_proto_fork);
    case TM_REQ_DETACH: return sizeof(struct tm_proto_detach);
    default: return 0;
    }
}

static bool type_known(uint32_t type)
{
    return type >= TM_REQ_CREATE && type <= TM_REQ_LAST;
}

/* The header, shared by requests and replies. */
static int parse_header(const void *msg, size_t len, struct tm_proto_header *h, tm_error *err)
{
    if (len < sizeof *h)
        return tm_error_set(err, EPROTO, "truncated message: %zu bytes, the header alone is %zu",
                            len, sizeof *h);
    memcpy(h, msg, sizeof *h);
    if (h->magic != TM_PROTO_MAGIC)
        return tm_error_set(err, EPROTO, "not a teemated message (magic 0x%08x)", h->magic);
    if (h->version != TM_PROTO_VERSION)
        return tm_error_set(err, EPROTO, "protocol version %u (this side speaks %u): teemate and "
                            "teemated are from different builds; restart teemated", h->version,
                            TM_PROTO_VERSION);
    if (h->length != len)
        return tm_error_set(err, EPROTO, "message says %u bytes, %zu arrived", h->length, len);
    if (h->reserved)
        return tm_error_set(err, EPROTO, "malformed message: reserved header field set");
    return 0;
}

static int check_payload(struct tm_request *req, tm_error *err)
{
    switch (req->type) {
    case TM_REQ_CREATE:
        req->nfds = req->u.create.flags & TM_CREATE_HAS_SIG ? 2 : 1;
        if (req->u.create.reserved)
            return tm_error_set(err, EPROTO, "malformed CREATE: reserved field set");
        return check_create(&req->u.create, err);
    case TM_REQ_INSPECT:
        return check_name(req->u.inspect.name, sizeof req->u.inspect.name, err);
    case TM_REQ_REMOVE:
        if (req->u.remove.flags & ~TM_REMOVE_FORCE || req->u.remove.reserved)
            return tm_error_set(err, EPROTO, "malformed REMOVE: unknown flags");
        return check_name(req->u.remove.name, sizeof req->u.remove.name, err);
    case TM_REQ_ATTACH:
        /* Any slot_limit_pages is fine: 0 is none, a cap beyond the slot is the slot. */
        if (check_name(req->u.attach.name, sizeof req->u.attach.name, err) < 0)
            return -err->code;
        return check_threads(req->u.attach.threads, err);
    case TM_REQ_FORK:
        if (check_name(req->u.fork.name, sizeof req->u.fork.name, err) < 0)
            return -err->code;
        if (req->u.fork.parent_id == 0)
            return tm_error_set(err, EINVAL, "FORK without a parent attach id");
        return check_threads(req->u.fork.threads, err);
    case TM_REQ_DETACH:
        if (req->u.detach.attach_id == 0)
            return tm_error_set(err, EINVAL, "DETACH without an attach id");
        return 0;
    default:
        return 0;
    }
}

int tm_proto_parse_request(const void *msg, size_t len, int nfds, struct tm_request *req,
                           tm_error *err)
{
    struct tm_proto_header h;
    memset(req, 0, sizeof *req);
    int ret = parse_header(msg, len, &h, err);
    if (ret < 0)
        return ret;
    if (!type_known(h.type))
        return tm_error_set(err, EPROTO, "unknown request type %u", h.type);
    size_t want = tm_proto_request_size(h.type);
    if (len - sizeof h != want)
        return tm_error_set(err, EPROTO, "%s request of %zu payload bytes (expected %zu)",
                            tm_proto_type_name(h.type), len - sizeof h, want);
    req->type = (enum tm_proto_type)h.type;
    memcpy(&req->u, (const uint8_t *)msg + sizeof h, want);
    ret = check_payload(req, err);
    if (ret < 0)
        return ret;
    if (nfds != req->nfds)
        return tm_error_set(err, EPROTO, "%s request came with %d file descriptors (expected %d)",
                            tm_proto_type_name(h.type), nfds, req->nfds);
    return 0;
}

static size_t encode(uint32_t type, const void *a, size_t alen, const void *b, size_t blen,
                     uint8_t *buf, size_t cap)
{
    size_t len = sizeof(struct tm_proto_header) + alen + blen;
    if (len > cap || len > TM_PROTO_MAX_MESSAGE)
        return 0;
    struct tm_proto_header h = {
        .magic = TM_PROTO_MAGIC, .version = TM_PROTO_VERSION, .type = (uint16_t)type,
        .length = (uint32_t)len,
    };
    memcpy(buf, &h, sizeof h);
    if (alen)
        memcpy(buf + sizeof h, a, alen);
    if (blen)
        memcpy(buf + sizeof h + alen, b, blen);
    return len;
}

size_t tm_proto_encode_request(enum tm_proto_type type, const void *payload, size_t payload_len,
                               uint8_t *buf, size_t cap)
{
    return encode(type, payload, payload_len, NULL, 0, buf, cap);
}

size_t tm_proto_encode_reply(enum tm_proto_type type, int status, const char *message,
                             const void *payload, size_t payload_len, uint8_t *buf, size_t cap)
{
    struct tm_proto_reply_head head = { .status = status };
    if (message)
        strncpy(head.message, message, sizeof head.message - 1);
    return encode(type | TM_PROTO_REPLY, &head, sizeof head, status < 0 ? NULL : payload,
                  status < 0 ? 0 : payload_len, buf, cap);
}

size_t tm_proto_encode_notice(int status, const char *message, uint8_t *buf, size_t cap)
{
    return tm_proto_encode_reply(0, status < 0 ? status : -EPROTO, message, NULL, 0, buf, cap);
}

int tm_proto_parse_reply(const void *msg, size_t len, enum tm_proto_type type,
                         struct tm_proto_reply_head *head, const void **payload,
                         size_t *payload_len, tm_error *err)
{
    struct tm_proto_header h;
    int ret = parse_header(msg, len, &h, err);
    if (ret < 0)
        return ret;
    bool notice = h.type == TM_PROTO_NOTICE;
    if (h.type != (type | TM_PROTO_REPLY) && !notice)
        return tm_error_set(err, EPROTO, "reply of type 0x%x to a %s request", h.type,
                            tm_proto_type_name(type));
    if (len < sizeof h + sizeof *head)
        return tm_error_set(err, EPROTO, "truncated reply to %s", tm_proto_type_name(type));
    memcpy(head, (const uint8_t *)msg + sizeof h, sizeof *head);
    if (!tm_proto_field_terminated(head->message, sizeof head->message) || head->reserved)
        return tm_error_set(err, EPROTO, "malformed reply to %s", tm_proto_type_name(type));
    *payload = (const uint8_t *)msg + sizeof h + sizeof *head;
    *payload_len = len - sizeof h - sizeof *head;
    if (head->status > 0 || head->status < -4095 || (notice && head->status == 0))
        return tm_error_set(err, EPROTO, "reply to %s with status %d", tm_proto_type_name(type),
                            head->status);
    if (head->status < 0) {
        if (*payload_len)
            return tm_error_set(err, EPROTO, "error reply to %s with a payload",
                                tm_proto_type_name(type));
        return tm_error_set(err, -head->status, "%s",
                            head->message[0] ? head->message : "teemated refused the request");
    }
    size_t want;
    switch (type) {
    case TM_REQ_CREATE: want = sizeof(struct tm_proto_enclave); break;
    case TM_REQ_INSPECT: want = sizeof(struct tm_proto_inspect); break;
    case TM_REQ_ATTACH:
    case TM_REQ_FORK: want = sizeof(struct tm_proto_attach_reply); break;
    case TM_REQ_STATUS: want = sizeof(struct tm_proto_status); break;
    case TM_REQ_REMOVE: want = sizeof(struct tm_proto_remove_reply); break;
    case TM_REQ_LIST: return tm_proto_check_list(*payload, *payload_len, err);
    default: want = 0; break;
    }
    if (*payload_len != want)
        return tm_error_set(err, EPROTO, "reply to %s of %zu payload bytes (expected %zu)",
                            tm_proto_type_name(type), *payload_len, want);
    return 0;
}

const char *tm_proto_type_name(uint32_t type)
{
    static const char *const names[] = {
        [TM_REQ_CREATE] = "CREATE", [TM_REQ_LIST] = "LIST", [TM_REQ_INSPECT] = "INSPECT",
        [TM_REQ_REMOVE] = "REMOVE", [TM_REQ_ATTACH] = "ATTACH", [TM_REQ_FORK] = "FORK",
        [TM_REQ_DETACH] = "DETACH", [TM_REQ_STATUS] = "STATUS",
    };
    type &= ~TM_PROTO_REPLY;
    return type < sizeof names / sizeof names[0] && names[type] ? names[type] : "?";
}
