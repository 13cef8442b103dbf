/* config.json's linux.seccomp, into the values libseccomp takes (seccomp.c
 * loads them). */
#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "container/spec_internal.h"
#include "util/cleanup.h"

static const struct {
    const char *name;
    uint32_t action;
    bool takes_errno;   /* errnoRet is its 16-bit data (EPERM when absent, as runc) */
} actions[] = {
    { "SCMP_ACT_KILL", SCMP_ACT_KILL, false },
    { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
    { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false },
    { "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false },
    { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true },
    { "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true },
    { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false },
    { "SCMP_ACT_LOG", SCMP_ACT_LOG, false },
};

static const struct {
    const char *name;
    enum scmp_compare op;
} ops[] = {
    { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
    { "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
    { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
    { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static const struct {
    const char *name;
    unsigned int flag;
} filter_flags[] = {
    { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
    { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
    { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
};

/* Index of name in table, or the table's length. */
#define LOOKUP(table, key)                                                            \
    ({                                                                                \
        size_t i_ = 0;                                                                \
        while (i_ < sizeof table / sizeof table[0] && strcmp((key), table[i_].name))   \
            i_++;                                                                     \
        i_;                                                                           \
    })
#define COUNT(table) (sizeof table / sizeof table[0])

const char *tm_seccomp_action_name(size_t i)
{
    return i < COUNT(actions) ? actions[i].name : NULL;
}

const char *tm_seccomp_operator_name(size_t i)
{
    return i < COUNT(ops) ? ops[i].name : NULL;
}

/* o.key (an action name) and o.errno_key into *out. */
static int parse_action(json_t *o, const tm_jpath *at, const char *key, const char *errno_key,
                        uint32_t *out, tm_error *err)
{
    _cleanup_free_ char *name = NULL;
    int r = tm_json_get_string(o, at, key, &name, err);
    if (r == 0)
        return tm_json_missing(at, key, err);
    if (r < 0)
        return r;
    tm_jpath p = tm_jpath_key(at, key);
    /* Notify hands syscalls to an agent over a socket (listenerPath): we run none. */
    if (!strcmp(name, "SCMP_ACT_NOTIFY"))
        return tm_json_fail(err, &p, "SCMP_ACT_NOTIFY is not supported");
    size_t i = LOOKUP(actions, name);
    if (i == COUNT(actions))
        return tm_json_fail(err, &p, "unknown action \"%.100s\"", name);
    *out = actions[i].action;
    if (actions[i].takes_errno) {
        int64_t e = EPERM;
        if ((r = tm_json_get_int(o, at, errno_key, 0, 0xffff, &e, err)) < 0)
            return r;
        *out |= (uint32_t)e;
    }
    return 0;
}

static int parse_arg(json_t *o, const tm_jpath *at, struct tm_seccomp_arg *a, tm_error *err)
{
    int64_t index, value, value_two = 0;
    _cleanup_free_ char *op = NULL;
    int r = tm_json_object_value(o, at, err);
    if (r >= 0)
        r = tm_json_required_int(o, at, "index", 0, 5, &index, err);
    if (r >= 0)
        r = tm_json_required_int(o, at, "value", 0, INT64_MAX, &value, err);
    if (r >= 0)
        r = tm_json_get_int(o, at, "valueTwo", 0, INT64_MAX, &value_two, err);
    if (r >= 0 && (r = tm_json_get_string(o, at, "op", &op, err)) == 0)
        return tm_json_missing(at, "op", err);
    if (r < 0)
        return r;
    size_t i = LOOKUP(ops, op);
    if (i == COUNT(ops)) {
        tm_jpath p = tm_jpath_key(at, "op");
        return tm_json_fail(err, &p, "unknown operator \"%.100s\"", op);
    }
    *a = (struct tm_seccomp_arg){ (unsigned)index, (uint64_t)value, (uint64_t)value_two, ops[i].op };
    return 0;
}

static int parse_rule(json_t *o, const tm_jpath *at, struct tm_seccomp_rule *rule, tm_error *err)
{
    int r = tm_json_object_value(o, at, err);
    /* runc takes a rule without names as one that matches nothing. */
    if (r >= 0)
        r = tm_json_get_strings(o, at, "names", TM_SPEC_MAX_ENTRIES, &rule->names, &rule->nnames,
                                err);
    if (r >= 0)
        r = parse_action(o, at, "action", "errnoRet", &rule->action, err);
    json_t *args;
    if (r >= 0 && (r = tm_json_get_array(o, at, "args", TM_SPEC_MAX_ENTRIES, &args, err)) > 0) {
        tm_jpath ap = tm_jpath_key(at, "args");
        size_t n = json_array_size(args);
        r = TM_SPEC_ALLOC(rule->args, n, &ap, err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
            tm_jpath ip = tm_jpath_index(&ap, i);
            rule->nargs = i + 1;
            r = parse_arg(json_array_get(args, i), &ip, &rule->args[i], err);
        }
    }
    return r < 0 ? r : 0;
}

static int parse_flags(json_t *o, const tm_jpath *at, unsigned int *flags, tm_error *err)
{
    json_t *list;
    int r = tm_json_get_array(o, at, "flags", TM_SPEC_MAX_ENTRIES, &list, err);
    tm_jpath lp = tm_jpath_key(at, "flags");
    for (size_t i = 0; r > 0 && i < json_array_size(list); i++) {
        tm_jpath ip = tm_jpath_index(&lp, i);
        const char *name = json_string_value(json_array_get(list, i));
        if (!name)
            return tm_json_fail(err, &ip, "expected a string");
        size_t k = LOOKUP(filter_flags, name);
        if (k == COUNT(filter_flags))
            return tm_json_fail(err, &ip, "unknown seccomp flag \"%.100s\"", name);
        *flags |= filter_flags[k].flag;
    }
    return r < 0 ? r : 0;
}

int tm_spec_parse_seccomp(json_t *o, struct tm_seccomp_spec *s, tm_error *err)
{
    tm_jpath at = { "linux.seccomp" };
    int r = parse_action(o, &at, "defaultAction", "defaultErrnoRet", &s->default_action, err);
    if (r >= 0)
        r = tm_json_get_strings(o, &at, "architectures", TM_SPEC_MAX_ENTRIES, &s->architectures,
                                &s->narchitectures, err);
    tm_jpath ap = tm_jpath_key(&at, "architectures");
    for (size_t i = 0; r >= 0 && i < s->narchitectures; i++)
        if (!tm_seccomp_arch_from_name(s->architectures[i])) {
            tm_jpath ip = tm_jpath_index(&ap, i);
            return tm_json_fail(err, &ip, "unknown architecture \"%.100s\"", s->architectures[i]);
        }
    if (r >= 0)
        r = parse_flags(o, &at, &s->flags, err);
    json_t *list;
    if (r >= 0 && (r = tm_json_get_array(o, &at, "syscalls", TM_SPEC_MAX_ENTRIES, &list, err)) > 0) {
        tm_jpath sp = tm_jpath_key(&at, "syscalls");
        size_t n = json_array_size(list);
        r = TM_SPEC_ALLOC(s->rules, n, &sp, err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
            tm_jpath ip = tm_jpath_index(&sp, i);
            s->nrules = i + 1;
            r = parse_rule(json_array_get(list, i), &ip, &s->rules[i], err);
        }
    }
    return r < 0 ? r : 0;
}
