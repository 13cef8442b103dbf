/* Weak, empty stand-ins for the data types' command tables and type ops, so
 * the core links and runs before t_list.c, t_hash.c, t_set.c and t_zset.c
 * land (their strong definitions win). The lead deletes this file once all
 * four are merged. No object of these types can exist without their
 * commands, so the ops are never called; if one were, trap. */
#include "kv.h"

static void kv_weak_free(struct kv_obj *o)
{
    (void)o;
    __builtin_trap();
}

static void kv_weak_dup(struct kv_obj *dst, const struct kv_obj *src)
{
    (void)dst;
    (void)src;
    __builtin_trap();
}

__attribute__((weak)) const struct kv_command kv_list_commands[] = { { .name = NULL } };
__attribute__((weak)) const struct kv_command kv_hash_commands[] = { { .name = NULL } };
__attribute__((weak)) const struct kv_command kv_set_commands[] = { { .name = NULL } };
__attribute__((weak)) const struct kv_command kv_zset_commands[] = { { .name = NULL } };
__attribute__((weak)) const struct kv_type_ops kv_list_type = { "list", kv_weak_free, kv_weak_dup };
__attribute__((weak)) const struct kv_type_ops kv_hash_type = { "hash", kv_weak_free, kv_weak_dup };
__attribute__((weak)) const struct kv_type_ops kv_set_type = { "set", kv_weak_free, kv_weak_dup };
__attribute__((weak)) const struct kv_type_ops kv_zset_type = { "zset", kv_weak_free, kv_weak_dup };
