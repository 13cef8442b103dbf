/* Loading a container's seccomp filter with libseccomp, as runc does: the
 * default action, the extra architectures, one rule per syscall name. */
#include <ctype.h>
#include <errno.h>
#include <seccomp.h>
#include <string.h>

#include "container/spec_internal.h"

#define ARCH_PREFIX "SCMP_ARCH_"

uint32_t tm_seccomp_arch_from_name(const char *name)
{
    /* libseccomp's own names are ours without the prefix, in lower case:
     * SCMP_ARCH_X86_64 -> "x86_64", SCMP_ARCH_AARCH64 -> "aarch64". */
    char lower[32];
    size_t plen = strlen(ARCH_PREFIX), len = strlen(name);
    if (len <= plen || len - plen >= sizeof lower || strncmp(name, ARCH_PREFIX, plen))
        return 0;
    for (size_t i = plen; i <= len; i++)
        lower[i - plen] = (char)tolower((unsigned char)name[i]);
    return seccomp_arch_resolve_name(lower);
}

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
    if (*ctx)
        seccomp_release(*ctx);
}

static bool args_share_an_index(const struct tm_seccomp_rule *rule)
{
    unsigned seen = 0;
    for (size_t i = 0; i < rule->nargs; i++) {
        if (seen & (1u << rule->args[i].index))
            return true;
        seen |= 1u << rule->args[i].index;
    }
    return false;
}

static struct scmp_arg_cmp arg_cmp(const struct tm_seccomp_arg *a)
{
    return (struct scmp_arg_cmp){ .arg = a->index, .op = (enum scmp_compare)a->op,
                                  .datum_a = a->value, .datum_b = a->value_two };
}

static int add_rule(scmp_filter_ctx ctx, int nr, const struct tm_seccomp_rule *rule)
{
    if (rule->nargs == 0)
        return seccomp_rule_add_array(ctx, rule->action, nr, 0, NULL);
    /* Two comparisons of one argument cannot be ANDed by libseccomp; runc
     * then adds each as its own rule (so they OR), and so do we. */
    if (args_share_an_index(rule)) {
        for (size_t i = 0; i < rule->nargs; i++) {
            struct scmp_arg_cmp cmp = arg_cmp(&rule->args[i]);
            int r = seccomp_rule_add_array(ctx, rule->action, nr, 1, &cmp);
            if (r < 0)
                return r;
        }
        return 0;
    }
    struct scmp_arg_cmp cmps[6];   /* indexes 0..5, each once */
    for (size_t i = 0; i < rule->nargs; i++)
        cmps[i] = arg_cmp(&rule->args[i]);
    return seccomp_rule_add_array(ctx, rule->action, nr, (unsigned)rule->nargs, cmps);
}

static int add_rules(scmp_filter_ctx ctx, const struct tm_seccomp_spec *s, tm_error *err)
{
    for (size_t i = 0; i < s->nrules; i++) {
        const struct tm_seccomp_rule *rule = &s->rules[i];
        /* libseccomp refuses a rule that does what the default does; it adds nothing. */
        if (rule->action == s->default_action)
            continue;
        for (size_t k = 0; k < rule->nargs; k++)
            if (rule->args[k].index > 5)
                return tm_error_set(err, EINVAL, "seccomp: argument index %u is above 5",
                                    rule->args[k].index);
        for (size_t n = 0; n < rule->nnames; n++) {
            int nr = seccomp_syscall_resolve_name(rule->names[n]);
            /* A name libseccomp does not know (a newer or another arch's
             * syscall) is skipped, as runc does: one profile serves many kernels. */
            if (nr == __NR_SCMP_ERROR)
                continue;
            int r = add_rule(ctx, nr, rule);
            if (r < 0)
                return tm_error_set(err, -r, "seccomp: cannot add the rule for %.100s: %s",
                                    rule->names[n], strerror(-r));
        }
    }
    return 0;
}

int tm_seccomp_apply(const struct tm_seccomp_spec *s, tm_error *err)
{
    __attribute__((cleanup(seccomp_releasep))) scmp_filter_ctx ctx = seccomp_init(s->default_action);
    if (!ctx)
        return tm_error_set(err, EINVAL, "seccomp: cannot make a filter with default action 0x%x",
                            s->default_action);
    for (size_t i = 0; i < s->narchitectures; i++) {
        uint32_t arch = tm_seccomp_arch_from_name(s->architectures[i]);
        if (!arch)
            return tm_error_set(err, EINVAL, "seccomp: unknown architecture %.100s",
                                s->architectures[i]);
        int r = seccomp_arch_add(ctx, arch);
        if (r < 0 && r != -EEXIST)   /* the native one is always there */
            return tm_error_set(err, -r, "seccomp: cannot add architecture %s: %s",
                                s->architectures[i], strerror(-r));
    }
    /* The caller sets no_new_privs itself when the spec asks; libseccomp must not. */
    int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (r < 0)
        return tm_error_set(err, -r, "seccomp: cannot clear the no_new_privs attribute: %s",
                            strerror(-r));
    if ((r = add_rules(ctx, s, err)) < 0)
        return r;
    if ((r = seccomp_load(ctx)) < 0)
        return tm_error_set(err, -r, "seccomp: cannot load the filter: %s", strerror(-r));
    return 0;
}
