/* Hashes (t_hash.c): a kv_dict of field -> struct kv_str * (v.ptr). */
#ifndef KV_T_HASH_H
#define KV_T_HASH_H

#include "kv.h"

/* An empty hash value whose entries free their value strings (the RDB
 * loader builds hashes with it). */
struct kv_dict *kv_hash_dict_new(void);

#endif
