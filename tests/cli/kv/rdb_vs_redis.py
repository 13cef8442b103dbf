#!/usr/bin/env python3
"""RDB against Redis (tests/cli/test_kv_rdb_vs_redis.sh).

  rdb_vs_redis.py commands OUT   writes the fill (RESP commands): every type in
                                 small and big encodings, LZF-compressible
                                 values, integers at the int8/16/32 edges,
                                 binary keys, TTLs, several databases
  rdb_vs_redis.py send PORT FILE sends FILE to a redis-server, fails on an error
  rdb_vs_redis.py dump PORT      prints the canonical dump of a redis-server,
                                 the format of tests/unit/kv/kv_rdb_dump.h
"""
import random
import socket
import sys


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, (int, float)):
            a = repr(a).encode() if isinstance(a, float) else b"%d" % a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def fill():
    rnd = random.Random(13)
    c = []
    add = lambda *a: c.append(resp(*a))
    # strings: ints at the encodings' edges, non-canonical numbers, binary
    ints = [0, 1, -1, 127, 128, -128, -129, 32767, 32768, -32768, -32769,
            2147483647, 2147483648, -2147483648, -2147483649,
            9223372036854775807, -9223372036854775808, 12345678901234]
    for i, v in enumerate(ints):
        add("SET", "int:%d" % i, str(v))
    for i, v in enumerate(["007", "+5", "-0", " 1", "1 ", "3.14", "1e3", "0x10", ""]):
        add("SET", "noncanon:%d" % i, v)
    add("SET", b"bin\x00key\xff\r\n", b"\x00\x01\x02\xff\xfe value")
    add("SET", "", "the empty key")
    add("SET", "lzf:a", "a" * 5000)
    add("SET", "lzf:pattern", "abcdefgh" * 700)
    add("SET", "random:long", bytes(rnd.randrange(256) for _ in range(3000)))
    add("SET", "big:value", ("0123456789abcdef" * 4096) + "tail")   # 64 KiB + 4
    # lists: listpack-sized and many-node, compressible nodes, ints
    add("RPUSH", "list:small", "a", "1", "-7", "", "x" * 30, "70000", "-2147483649")
    big = ["e%d" % i if i % 3 else str(i * 1000 - 5000) for i in range(3000)]
    for i in range(0, len(big), 500):
        add("RPUSH", "list:big", *big[i:i + 500])
    add("RPUSH", "list:fat", "y" * 10000, "z", "w" * 20000)
    add("LPUSH", "list:lzf", *(["same-element-again"] * 200))
    # sets: intset small and big (past set-max-intset-entries 512), strings
    add("SADD", "set:intset", "1", "2", "3", "-5", "100000", "-2147483649", "9223372036854775807")
    add("SADD", "set:intbig", *[str(i * 3 - 700) for i in range(600)])
    add("SADD", "set:str", "a", "b", b"\x00c", "")
    add("SADD", "set:big", *["m%d" % i for i in range(400)])
    # hashes: listpack (small), hashtable (many fields, or a long value)
    add("HSET", "hash:small", "f1", "v1", "f2", "12", "n", "-3", "e", "")
    add("HSET", "hash:longval", "f", "v" * 100, "g", "1")
    args = []
    for i in range(300):
        args += ["field%d" % i, "value%d" % (i * 7) if i % 2 else str(i)]
    add("HSET", "hash:big", *args)
    add("HSET", "hash:lzf", "payload", "q" * 400, "other", "r" * 400)
    # zsets: listpack and skiplist, inf, fractions, negatives, ties
    add("ZADD", "zset:small", "1", "a", "-2.5", "b", "inf", "c", "-inf", "d", "0", "e",
        "3", "tie1", "3", "tie0", "1e100", "huge", "0.1", "tenth")
    args = []
    for i in range(500):
        args += [repr(rnd.uniform(-1e6, 1e6)) if i % 4 else str(i), "member%d" % i]
    add("ZADD", "zset:big", *args)
    add("ZADD", "zset:longmember", "1", "m" * 100, "2", "n")
    # TTLs (far enough not to expire during the test)
    for k in ["int:1", "list:small", "set:big", "hash:small", "zset:small", "lzf:a"]:
        add("PEXPIRE", k, str(86400000 + rnd.randrange(1000)))
    # other databases
    for db in (1, 5, 15):
        add("SELECT", str(db))
        add("SET", "k%d" % db, "v%d" % db)
        add("RPUSH", "l%d" % db, "x", "y")
        add("SADD", "s%d" % db, "1", "2")
        add("EXPIRE", "k%d" % db, "100000")
    add("SELECT", "0")
    return b"".join(c)


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", int(port)))
        self.f = self.s.makefile("rb")

    def reply(self):
        line = self.f.readline()
        if not line:
            raise EOFError("connection closed")
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest
        if t == b"-":
            raise RuntimeError(rest.decode(errors="replace"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            return data[:-2]
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)

    def call(self, *args):
        self.s.sendall(resp(*args))
        return self.reply()


def esc(b):
    ok = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
    return "".join(chr(x) if x in ok else "\\x%02x" % x for x in b)


def dump(port):
    c = Conn(port)
    dbs = int(c.call("CONFIG", "GET", "databases")[1])
    lines = []
    for db in range(dbs):
        c.call("SELECT", str(db))
        for key in c.call("KEYS", "*"):
            t = c.call("TYPE", key).decode()
            ttl = 1 if c.call("PTTL", key) >= 0 else 0
            if t == "string":
                v = esc(c.call("GET", key))
            elif t == "list":
                v = ",".join(esc(x) for x in c.call("LRANGE", key, "0", "-1"))
            elif t == "set":
                v = ",".join(sorted(esc(x) for x in c.call("SMEMBERS", key)))
            elif t == "hash":
                h = c.call("HGETALL", key)
                v = ",".join(sorted("%s=%s" % (esc(h[i]), esc(h[i + 1])) for i in range(0, len(h), 2)))
            elif t == "zset":
                z = c.call("ZRANGE", key, "0", "-1", "WITHSCORES")
                items = sorted((float(z[i + 1]), esc(z[i])) for i in range(0, len(z), 2))
                v = ",".join("%s=%.17g" % (m, s) for s, m in items)
            else:
                raise RuntimeError("type %s" % t)
            lines.append("%d %s %s %d %s" % (db, esc(key), t, ttl, v))
    for line in sorted(lines):
        print(line)


def send(port, path):
    data = open(path, "rb").read()
    c = Conn(port)
    c.s.sendall(data)
    n, pos = 0, 0
    while pos < len(data):   # count the commands: *N, then N bulks
        end = data.index(b"\r\n", pos)
        argc, pos = int(data[pos + 1:end]), end + 2
        for _ in range(argc):
            end = data.index(b"\r\n", pos)
            pos = end + 2 + int(data[pos + 1:end]) + 2
        n += 1
    for _ in range(n):
        c.reply()


def main():
    if sys.argv[1] == "commands":
        open(sys.argv[2], "wb").write(fill())
    elif sys.argv[1] == "send":
        send(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "dump":
        dump(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
