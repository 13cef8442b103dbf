/* The v2 device cgroup: a BPF_PROG_TYPE_CGROUP_DEVICE program assembled by
 * hand, as runc's devicefilter does. The kernel runs it on every open and
 * mknod of a device node with (access << 16 | type, major, minor); it
 * returns 1 to allow. Rules are tested from the last to the first, so the
 * last matching rule decides; nothing matching is a deny. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "container/cgroup_internal.h"
#include "util/cleanup.h"

#define RWM (TM_CGROUP_DEV_READ | TM_CGROUP_DEV_WRITE | TM_CGROUP_DEV_MKNOD)
#define MAX_RULE_INSNS 9

_Static_assert((int)TM_CGROUP_DEV_MKNOD == (int)BPF_DEVCG_ACC_MKNOD &&
                   (int)TM_CGROUP_DEV_READ == (int)BPF_DEVCG_ACC_READ &&
                   (int)TM_CGROUP_DEV_WRITE == (int)BPF_DEVCG_ACC_WRITE,
               "access bits are the kernel's");

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
    return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

/* One rule's block; its jumps go to the end of the block (the next rule).
 * *always: it has none, so nothing after it can run. */
static size_t rule_block(const struct tm_cgroup_device_rule *r, struct bpf_insn *b, bool *always)
{
    size_t n = 0;
    size_t jumps[4], nj = 0;
    if (r->type != 'a') {
        jumps[nj++] = n;
        b[n++] = insn(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_2, 0, 0,
                      r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
    }
    if ((r->access & RWM) != RWM) {
        /* allow: all the access asked is in the rule; deny: some of it is */
        b[n++] = insn(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
        b[n++] = insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, (int32_t)r->access);
        jumps[nj++] = n;
        b[n++] = r->allow ? insn(BPF_JMP32 | BPF_JNE | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0)
                          : insn(BPF_JMP32 | BPF_JEQ | BPF_K, BPF_REG_1, 0, 0, 0);
    }
    if (r->major >= 0) {
        jumps[nj++] = n;
        b[n++] = insn(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, (int32_t)(uint32_t)r->major);
    }
    if (r->minor >= 0) {
        jumps[nj++] = n;
        b[n++] = insn(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, (int32_t)(uint32_t)r->minor);
    }
    b[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r->allow ? 1 : 0);
    b[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    for (size_t j = 0; j < nj; j++)
        b[jumps[j]].off = (int16_t)(n - jumps[j] - 1);
    *always = nj == 0;
    return n;
}

static int assemble(const struct tm_cgroup_device_rule *rules, size_t nrules, struct bpf_insn **out,
                    size_t *len, tm_error *err)
{
    struct bpf_insn *p = calloc(8 + nrules * MAX_RULE_INSNS, sizeof *p);
    if (!p)
        return tm_error_set(err, ENOMEM, "device program: out of memory");
    size_t n = 0;
    const int ctx = BPF_REG_1;
    p[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, ctx, 0, 0);   /* access << 16 | type */
    p[n++] = insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
    p[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, ctx, 0, 0);
    p[n++] = insn(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
    p[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, ctx, 4, 0);   /* major */
    p[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, ctx, 8, 0);   /* minor */
    /* the verifier refuses unreachable code: stop at a rule that matches all */
    bool always = false;
    for (size_t i = nrules; i-- > 0 && !always;)
        n += rule_block(&rules[i], p + n, &always);
    if (!always) {
        p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
        p[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    }
    *out = p;
    *len = n;
    return 0;
}

static int bpf(int cmd, union bpf_attr *attr)
{
    return (int)syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

int tm_cgroup_bpf_devices_attach(int dirfd, const struct tm_cgroup_device_rule *rules, size_t n,
                                 tm_error *err)
{
    _cleanup_free_ struct bpf_insn *prog = NULL;
    size_t len = 0;
    int ret = assemble(rules, n, &prog, &len, err);
    if (ret < 0)
        return ret;
    static char log[4096];
    log[0] = '\0';
    /* No helper is called, so the license is not checked; runc says "Apache". */
    union bpf_attr load = { .prog_type = BPF_PROG_TYPE_CGROUP_DEVICE, .insns = (uintptr_t)prog,
                            .insn_cnt = (uint32_t)len, .license = (uintptr_t)"Apache",
                            .log_buf = (uintptr_t)log, .log_size = sizeof log, .log_level = 1 };
    _cleanup_close_ int fd = bpf(BPF_PROG_LOAD, &load);
    if (fd < 0 && errno == ENOSPC)   /* the log was too small: load again without it */
        fd = bpf(BPF_PROG_LOAD, &(union bpf_attr){ .prog_type = BPF_PROG_TYPE_CGROUP_DEVICE,
                                                     .insns = (uintptr_t)prog, .insn_cnt = (uint32_t)len,
                                                     .license = (uintptr_t)"Apache" });
    if (fd < 0) {
        log[strcspn(log, "\n")] = '\0';
        return tm_error_sys(err, "cannot load the device program (%zu instructions)%s%s", len,
                            *log ? ": " : "", log);
    }
    /* ALLOW_MULTI: a parent's program (systemd's, the engine's) still runs too */
    union bpf_attr attach = { .target_fd = (uint32_t)dirfd, .attach_bpf_fd = (uint32_t)fd,
                              .attach_type = BPF_CGROUP_DEVICE, .attach_flags = BPF_F_ALLOW_MULTI };
    if (bpf(BPF_PROG_ATTACH, &attach) < 0)
        return tm_error_sys(err, "cannot attach the device program");
    return 0;
}
