#!/usr/bin/env python3
"""Inputs for tests/cli/test_kv_persist.sh (RESP command files; send and dump
them with rdb_vs_redis.py).

  persist.py bulk OUT KEYS BYTES  db 9: KEYS strings of BYTES random bytes
                                  (incompressible: the snapshot has work to do)
  persist.py writes OUT SEED      writes of every kind on the fill's keys and
                                  the bulk (rdb_vs_redis.py commands): overwrites,
                                  deletes, list/hash/set/zset changes, TTLs set
                                  at absolute times and removed, renames, a key
                                  moved between dbs; ends in db 0
  persist.py bgsave OUT           the one command BGSAVE
  persist.py flushall OUT         FLUSHALL
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rdb_vs_redis import resp  # noqa: E402


def bulk(keys, size):
    rnd = random.Random(7)
    out = [resp("SELECT", "9")]
    for i in range(keys):
        out.append(resp("SET", "bulk:%d" % i, rnd.randbytes(size)))
    out.append(resp("SELECT", "0"))
    return b"".join(out)


def writes(seed):
    rnd = random.Random(seed)
    c = []
    add = lambda *a: c.append(resp(*a))
    tag = "w%d" % seed
    far = 4102444800000 + seed   # 2100-01-01, ms: a TTL that outlives the test
    add("SELECT", "0")
    add("SET", "int:1", tag)
    add("DEL", "int:2")
    add("APPEND", "lzf:a", tag)
    add("INCRBY", "int:0", str(seed))
    add("LPUSH", "list:small", tag)
    add("RPOP", "list:big")
    add("LSET", "list:big", "5", tag)
    add("HSET", "hash:small", "f1", tag, "new-" + tag, "1")
    add("HDEL", "hash:small", "n")
    add("SADD", "set:intset", str(seed))
    add("SREM", "set:str", "a")
    add("ZADD", "zset:small", str(seed), tag)
    add("ZINCRBY", "zset:small", "2.5", tag)
    add("PEXPIREAT", "int:3", str(far))
    add("PERSIST", "hash:small")
    add("SET", "fresh:" + tag, tag)
    add("RENAME", "int:%d" % (4 + seed), "renamed:" + tag)
    add("SELECT", "9")
    for _ in range(50):
        i = rnd.randrange(1000)
        add("SET", "bulk:%d" % i, tag * 10)
    add("DEL", "bulk:%d" % rnd.randrange(1000, 2000))
    add("SELECT", "0")
    return b"".join(c)


def main():
    what, out = sys.argv[1], sys.argv[2]
    if what == "bulk":
        data = bulk(int(sys.argv[3]), int(sys.argv[4]))
    elif what == "writes":
        data = writes(int(sys.argv[3]))
    elif what == "bgsave":
        data = resp("BGSAVE")
    elif what == "flushall":
        data = resp("FLUSHALL")
    else:
        sys.exit(__doc__)
    open(out, "wb").write(data)


if __name__ == "__main__":
    main()
