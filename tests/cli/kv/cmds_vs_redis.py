#!/usr/bin/env python3
"""Strings, keys (expiry, SCAN), connection, transactions, AUTH, server
commands and error replies against a RESP server: one line per reply, the
reply's exact bytes (escaped). Replies Redis leaves open are reduced first:
order-free arrays (KEYS, a whole SCAN) sorted; non-deterministic replies
(TIME, CLIENT ID/LIST, INFO, HELLO, RANDOMKEY, COMMAND COUNT/DOCS) checked
by shape, the line then says what was checked. Several connections (WATCH
against another client, AUTH on fresh ones). Ends with SHUTDOWN.

usage: cmds_vs_redis.py HOST PORT
"""
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from listhash_vs_redis import Conn  # noqa: E402  (the RESP client the other test uses)

HOST, PORT = sys.argv[1], sys.argv[2]
out = sys.stdout.buffer
conns = {}


def conn(i):
    if i not in conns:
        conns[i] = Conn([HOST, PORT])
    return conns[i]


def emit(what, line):
    out.write(("%s -> %s\n" % (what[:200], line)).encode())


def show(args):
    return " ".join(repr(a)[:40] for a in args)


def run(args, check=None, c=0):
    """Send args on connection c; print the reply (or check(parsed)'s verdict)."""
    k = conn(c)
    k.send(args)
    raw, parsed = k.reply()
    line = check(parsed) if check else repr(raw)
    emit("[%d] %s" % (c, show(args)), line)
    return parsed


def close(c):
    k = conns.pop(c)
    try:
        k.w.close()
    except OSError:
        pass


def closed_after(args, c):
    """args get one reply, then the server closes connection c."""
    k = conn(c)
    k.send(args)
    raw, _ = k.reply()
    rest = k.r.read(1)
    emit("[%d] %s" % (c, show(args)), repr(raw) + (" then closed" if rest == b"" else " then OPEN"))
    conns.pop(c)


class Rel(int):
    """A time argument (now + offset): printed as its offset, so two runs compare."""
    def __new__(cls, offset, ms=False):
        v = int(time.time() * 1000) + offset * 1000 if ms else int(time.time()) + offset
        r = int.__new__(cls, v)
        r.label = "now%+d%s" % (offset, "s in ms" if ms else "s")
        return r

    def __repr__(self):
        return self.label

    def __str__(self):
        return int.__repr__(self)


class Label(str):
    """An argument that differs between runs, printed as what it stands for."""
    def __new__(cls, value, label):
        r = str.__new__(cls, value)
        r.label = label
        return r

    def __repr__(self):
        return self.label


def num(p):
    """An integer reply's value (Conn gives b':N')."""
    return int(p[1:] if p[:1] == b":" else p)


# --- shape checks: a verdict string, the same on every conforming server
def is_int(p):
    return "integer" if isinstance(p, bytes) and re.fullmatch(rb":?-?\d+", p) else "BAD %r" % (p,)


def near(want, slack):
    def check(p):
        return "%s within %s: %s" % (want.label, slack, abs(num(p) - int(want)) <= slack)
    return check


def sorted_array(p):
    return "sorted %r" % sorted(p) if isinstance(p, list) else repr(p)


def time_shape(p):
    ok = (isinstance(p, list) and len(p) == 2 and all(re.fullmatch(rb"\d+", x) for x in p)
          and abs(int(p[0]) - time.time()) < 5 and int(p[1]) < 1000000)
    return "two bulk integers, now" if ok else "BAD %r" % (p,)


def client_list_shape(want_name):
    def check(p):
        if not isinstance(p, bytes):
            return "BAD %r" % (p,)
        lines = p.decode().splitlines()
        fields = [dict(f.split("=", 1) for f in l.split(" ") if "=" in f) for l in lines]
        keys_ok = all({"id", "addr", "laddr", "fd", "name", "age", "idle", "db", "cmd"} <= set(f)
                      for f in fields)
        mine = [f for f in fields if f.get("name") == want_name]
        return "%d lines, fields ok %s, mine %s cmd=%s" % (
            len(lines), keys_ok, len(mine), mine[0].get("cmd") if mine else None)
    return check


def info_shape(sections):
    def check(p):
        if not isinstance(p, bytes):
            return "BAD %r" % (p,)
        text = p.decode()
        fields = dict(l.split(":", 1) for l in text.splitlines() if ":" in l and not l.startswith("#"))
        want = {"replication": [], "modules": [], "errorstats": [], "cluster": ["cluster_enabled"],
                "server": ["redis_version", "tcp_port", "uptime_in_seconds", "process_id"],
                "clients": ["connected_clients", "blocked_clients"],
                "memory": ["used_memory", "used_memory_human", "maxmemory", "maxmemory_policy"],
                "persistence": ["loading", "rdb_changes_since_last_save", "aof_enabled"],
                "stats": ["total_connections_received", "total_commands_processed",
                          "expired_keys", "keyspace_hits", "keyspace_misses"],
                "keyspace": []}
        heads = [h for h in re.findall(r"^# (\w+)", text, re.M) if h.lower() in want]
        missing = [f for s in sections for f in want[s] if f not in fields]
        ks = sorted(l for l in text.splitlines() if re.match(r"db\d+:keys=\d+,expires=\d+,avg_ttl=\d+", l))
        return "sections %s, missing %s, keyspace %s, policy %s" % (
            heads, missing, [k.split(",avg_ttl")[0] for k in ks], fields.get("maxmemory_policy"))
    return check


def hello_shape(p):
    if not isinstance(p, list) or len(p) % 2:
        return "BAD %r" % (p,)
    d = dict(zip(p[::2], p[1::2]))
    return "keys %r proto %r mode %r role %r id %s modules %r" % (
        p[::2], d.get(b"proto"), d.get(b"mode"), d.get(b"role"), is_int(d.get(b"id")), d.get(b"modules"))


def member_of(items):
    def check(p):
        return "one of the set" if p in items else "BAD %r" % (p,)
    return check


def docs_shape(p):
    if not isinstance(p, list) or len(p) % 2:
        return "BAD %r" % (p,)
    d = dict(zip(p[::2], p[1::2]))
    names = sorted(d)
    ok = all(isinstance(v, list) and b"summary" in v[::2] for v in d.values())
    return "docs for %r, each with a summary %s" % (names, ok)


def wait_dbsize(want, c, limit=6.0):
    """DBSIZE (which touches no key) until it is want: the active cycle's work."""
    t0 = time.time()
    while True:
        conn(c).send(["dbsize"])
        _, n = conn(c).reply()
        if num(n) == want or time.time() - t0 > limit:
            emit("[%d] dbsize until the active cycle is done" % c, "dbsize %d" % num(n))
            return
        time.sleep(0.1)


def strings():
    run(["flushall"])
    S = [["set", "k", "v"], ["get", "k"], ["get", "nokey"], ["set", "k", "v2", "xx"], ["get", "k"],
         ["set", "k", "v3", "nx"], ["set", "new", "1", "xx"], ["exists", "new"],
         ["set", "k", "v4", "get"], ["set", "nok", "x", "get"], ["set", "k", "v5", "nx", "get"],
         ["set", "k", "v6", "xx", "get"], ["set", "k", "v", "nx", "xx"], ["set", "k", "v", "ex", 10, "px", 100],
         ["set", "k", "v", "ex", 0], ["set", "k", "v", "ex", -5], ["set", "k", "v", "px", 0],
         ["set", "k", "v", "ex", "abc"], ["set", "k", "v", "ex"], ["set", "k", "v", "bogus"],
         ["set", "k", "v", "ex", "9223372036854775807"], ["set", "k", "v", "px", "9223372036854775807"],
         ["set", "k", "v", "ex", 100], ["ttl", "k"], ["set", "k", "w", "keepttl"], ["ttl", "k"],
         ["set", "k", "w"], ["ttl", "k"], ["set", "k", "w", "ex", 100, "keepttl"],
         ["set", "k", "w", "keepttl", "px", 5], ["set", "k", "x", "exat", Rel(1000)], ["set", "k", "x", "pxat", 1], ["exists", "k"], ["set", "k", "x", "EX", 50, "GET"],
         ["ttl", "k"], ["set", "k", "v", "get", "get"], ["set"], ["set", "k"], ["get"], ["get", "a", "b"],
         ["rpush", "li", "a"], ["set", "li", "v", "get"], ["get", "li"], ["type", "li"],
         ["set", "li", "str"], ["type", "li"],
         ["setnx", "sn", "1"], ["setnx", "sn", "2"], ["get", "sn"], ["setnx", "sn"],
         ["setex", "se", 100, "v"], ["ttl", "se"], ["setex", "se", 0, "v"], ["setex", "se", -1, "v"],
         ["setex", "se", "x", "v"], ["setex", "se", 10], ["psetex", "pse", 100000, "v"],
         ["psetex", "pse", 0, "v"], ["psetex", "pse", "1.5", "v"], ["get", "pse"],
         ["mset", "a", 1, "b", 2, "c", 3], ["mget", "a", "b", "nokey", "c", "li"], ["mset", "a", 1, "b"],
         ["mset"], ["mget"], ["rpush", "lst", "x"], ["mget", "a", "lst"],
         ["msetnx", "a", 9, "z", 9], ["get", "z"], ["msetnx", "y", 1, "z", 2], ["mget", "y", "z"],
         ["msetnx", "q", 1, "q", 2], ["get", "q"], ["msetnx", "q"],
         ["incr", "cnt"], ["incr", "cnt"], ["decr", "cnt"], ["incrby", "cnt", 10], ["decrby", "cnt", 3],
         ["incrby", "cnt", "-20"], ["get", "cnt"], ["incrby", "cnt", "x"], ["incrby", "cnt", "1.5"],
         ["incr", "k"], ["incr", "lst"], ["set", "big", "9223372036854775807"], ["incr", "big"],
         ["incrby", "big", 0], ["set", "small", "-9223372036854775808"], ["decr", "small"],
         ["decrby", "small", "-9223372036854775808"], ["decrby", "cnt", "-9223372036854775808"],
         ["incrby", "cnt", "9223372036854775808"], ["set", "sp", " 1"], ["incr", "sp"],
         ["set", "lz", "01"], ["incr", "lz"], ["set", "neg0", "-0"], ["incr", "neg0"],
         ["set", "fl", "1.5"], ["incr", "fl"], ["incr"], ["incrby", "cnt"], ["decrby", "cnt", 1, 2],
         ["set", "f", "10.50"], ["incrbyfloat", "f", "0.1"], ["incrbyfloat", "f", "-5"],
         ["incrbyfloat", "f", "5.0e3"], ["incrbyfloat", "f", "abc"], ["incrbyfloat", "f", "inf"],
         ["incrbyfloat", "f", "nan"], ["incrbyfloat", "k", "1"], ["incrbyfloat", "nof", "3"],
         ["incrbyfloat", "nof", "1e300"], ["incrbyfloat", "nof", "1e308"], ["incrbyfloat", "nof", "1e308"],
         ["incrbyfloat", "lst", "1"], ["set", "f2", "3"], ["incrbyfloat", "f2", "0.1"],
         ["incrbyfloat", "f2", " 1"], ["incrbyfloat", "f2", "1 "], ["incrbyfloat", "f2", ""],
         ["set", "cnt", "5"], ["incrbyfloat", "cnt", "-5"], ["get", "cnt"], ["type", "cnt"],
         ["append", "ap", "hello"], ["append", "ap", " world"], ["get", "ap"], ["append", "lst", "x"],
         ["set", "num", 42], ["append", "num", "7"], ["get", "num"], ["strlen", "ap"], ["strlen", "nokey"],
         ["strlen", "lst"], ["strlen", "num"], ["append", "ap"]]
    for a, b in [(0, 4), (-5, -1), (6, 100), (-100, 2), (5, 3), (100, 200), (0, -1), (-1, -5),
                 ("x", 1), (0, "9223372036854775807"), ("-9223372036854775808", 2)]:
        S.append(["getrange", "ap", a, b])
    S += [["getrange", "nokey", 0, 10], ["getrange", "lst", 0, 1], ["getrange", "num", 0, 1],
          ["getrange", "ap", 0], ["setrange", "sr", 5, "abc"], ["get", "sr"], ["setrange", "sr", 0, "XY"],
          ["get", "sr"], ["setrange", "sr", 10, ""], ["strlen", "sr"], ["setrange", "none", 3, ""],
          ["exists", "none"], ["setrange", "sr", -1, "x"], ["setrange", "sr", "x", "y"],
          ["setrange", "sr", 536870912, "x"], ["setrange", "sr", 536870911, ""],
          ["setrange", "lst", 0, "x"], ["setrange", "num", 1, "5"], ["get", "num"],
          ["getdel", "num"], ["getdel", "num"], ["getdel", "lst"], ["getdel"],
          ["getset", "gs", "1"], ["getset", "gs", "2"], ["get", "gs"], ["getset", "lst", "x"],
          ["set", "gs", "v", "ex", 100], ["getset", "gs", "w"], ["ttl", "gs"], ["getset", "gs"],
          ["set", "bin", b"a\x00b\r\n\xff"], ["get", "bin"], ["strlen", "bin"], ["append", "bin", b"\x00"],
          ["getrange", "bin", 1, 3], ["set", "empty", ""], ["get", "empty"], ["strlen", "empty"],
          ["set", "large", "x" * 70000], ["strlen", "large"], ["append", "large", "y"],
          ["getrange", "large", 69998, -1], ["object", "encoding", "cnt"], ["object", "encoding", "ap"],
          ["object", "encoding", "large"], ["set", "i", "12345"], ["object", "encoding", "i"],
          ["append", "i", "6"], ["object", "encoding", "i"], ["object", "encoding", "nokey"]]
    for a in S:
        run(a)


def keys():
    run(["flushall"])
    S = [["mset", "a", 1, "b", 2, "c", 3], ["rpush", "l", "x"], ["sadd", "s", "x"], ["hset", "h", "f", "v"],
         ["zadd", "z", 1, "x"], ["type", "a"], ["type", "l"], ["type", "s"], ["type", "h"], ["type", "z"],
         ["type", "nokey"], ["exists", "a", "b", "a", "nokey"], ["exists", "nokey"], ["del", "a", "b", "nokey"],
         ["del", "a"], ["unlink", "c", "l", "nokey"], ["exists", "c", "l"], ["dbsize"], ["del"], ["exists"],
         ["type"], ["set", "e", "v"], ["ttl", "e"], ["pttl", "e"], ["ttl", "nokey"], ["pttl", "nokey"],
         ["expire", "e", 100], ["ttl", "e"], ["expire", "nokey", 100], ["expire", "e", "abc"],
         ["expire", "e", "1.5"], ["expire", "e", 50, "nx"], ["expire", "e", 50, "xx"], ["ttl", "e"],
         ["expire", "e", 200, "gt"], ["ttl", "e"], ["expire", "e", 100, "gt"], ["expire", "e", 10, "lt"],
         ["ttl", "e"], ["expire", "e", 100, "lt"], ["expire", "e", 100, "nx", "xx"],
         ["expire", "e", 100, "gt", "lt"], ["expire", "e", 100, "bogus"], ["persist", "e"], ["ttl", "e"],
         ["persist", "e"], ["persist", "nokey"], ["expire", "e", 100, "xx"], ["expire", "e", 10, "gt"],
         ["expire", "e", 10, "lt"], ["ttl", "e"], ["pexpire", "e", 100000], ["ttl", "e"],
         ["pexpire", "e", "x"], ["expireat", "e", Rel(1000)],
         ["pexpireat", "e", Rel(500, ms=True)], ["pexpiretime", "nokey"], ["persist", "e"], ["expiretime", "e"],
         ["set", "g", "v"], ["expire", "g", 0], ["exists", "g"], ["set", "g", "v"], ["expire", "g", -10],
         ["exists", "g"], ["set", "g", "v"], ["expireat", "g", 1], ["exists", "g"], ["set", "g", "v"],
         ["pexpireat", "g", 1], ["exists", "g"], ["set", "g", "v"],
         ["expire", "g", "9223372036854775807"], ["pexpire", "g", "9223372036854775807"],
         ["expireat", "g", "9223372036854775807"], ["expire", "g", "-9223372036854775808"],
         ["ttl", "g"], ["expire", "g"], ["ttl"], ["persist"],
         ["mset", "key:1", 1, "key:2", 2, "key:10", 10, "other", 0, "k[x]", 1, "k?", 2, "k*", 3]]
    for a in S:
        run(a)
    run(["expireat", "e", Rel(1000)])
    run(["ttl", "e"], lambda p: "999..1000: %s" % (999 <= num(p) <= 1000))
    run(["pexpireat", "e", Rel(500, ms=True)])
    run(["pttl", "e"], lambda p: "499000..500000: %s" % (499000 <= num(p) <= 500000))
    run(["expireat", "e", Rel(1000)])
    run(["expiretime", "e"], near(Rel(1000), 1))
    run(["pexpiretime", "e"], near(Rel(1000, ms=True), 1000))
    for pat in ["*", "key:*", "key:?", "key:[12]", "key:[^1]*", "k\\*", "k\\?", "k[[]*", "*:1*", "nomatch*",
                "key:[a-z]", "[kg]*", "*\\"]:
        run(["keys", pat], sorted_array)
    run(["keys"])
    run(["dbsize"])
    # SCAN: the whole keyspace, followed to cursor 0, with options
    run(["mset"] + sum([["sk%d" % i, i] for i in range(500)], []))
    for opts in [[], ["count", 7], ["match", "sk1*"], ["match", "sk1*", "count", 1000], ["type", "string"],
                 ["type", "list"], ["type", "hash", "count", 50], ["match", "*", "type", "zset"]]:
        seen = []
        cur = b"0"
        guard = 0
        while True:
            conn(0).send(["scan", cur] + opts)
            _, p = conn(0).reply()
            cur, got = p
            seen += got
            guard += 1
            if cur == b"0" or guard > 10000:
                break
        emit("[0] scan-all %s" % show(opts), "sorted %r" % sorted(set(seen)))
    for bad in [["scan", "x"], ["scan", "0", "count", 0], ["scan", "0", "count", "x"],
                ["scan", "0", "match"], ["scan", "0", "bogus", 1], ["scan", "18446744073709551616"],
                ["scan", "0", "type"], ["scan"]]:
        run(bad)
    run(["scan", "-1"], lambda p: "cursor %r" % p[0])
    run(["scan", "0", "count", 1000000], lambda p: "cursor %r, %d keys" % (p[0], len(p[1])))
    # RANDOMKEY, RENAME
    run(["randomkey"], member_of([b"sk%d" % i for i in range(500)] +
                                 [b"e", b"g", b"s", b"h", b"z", b"key:1", b"key:2", b"key:10",
                                  b"other", b"k[x]", b"k?", b"k*"]))
    S = [["set", "r1", "v", "ex", 100], ["rename", "r1", "r2"], ["exists", "r1"], ["get", "r2"], ["ttl", "r2"],
         ["rename", "nokey", "x"], ["rename", "r2", "r2"], ["get", "r2"], ["set", "r3", "o"],
         ["rename", "r3", "r2"], ["ttl", "r2"], ["get", "r2"], ["set", "r4", "x"], ["renamenx", "r4", "r2"],
         ["renamenx", "r4", "r5"], ["renamenx", "nokey", "r6"], ["renamenx", "r5", "r5"], ["rename", "r5"],
         ["rpush", "rl", "a", "b"], ["rename", "rl", "r2"], ["type", "r2"], ["lrange", "r2", 0, -1],
         ["dbsize"], ["select", 1], ["dbsize"], ["set", "in1", "v"], ["get", "in1"], ["select", 0],
         ["get", "in1"], ["select", 15], ["select", 16], ["select", -1], ["select", "x"], ["select"],
         ["select", 1], ["flushdb"], ["dbsize"], ["select", 0], ["flushdb", "async"], ["dbsize"],
         ["flushdb", "bogus"], ["set", "x", 1], ["select", 2], ["set", "y", 1], ["flushall", "sync"],
         ["dbsize"], ["select", 0], ["dbsize"], ["flushall", "x"], ["randomkey"]]
    for a in S:
        run(a)


def expiry():
    run(["flushall"])
    # lazy, the active cycle off: expired keys stay counted by DBSIZE until
    # touched, then each access deletes one
    run(["debug", "set-active-expire", "0"])
    for a in [["psetex", "lz1", 100, "v"], ["set", "lz2", "v", "px", 100], ["rpush", "lz3", "a"],
              ["pexpire", "lz3", 100], ["pttl", "lz1"]]:
        run(a, (lambda p: "ms in (0,100]: %s" % (0 < num(p) <= 100)) if a[0] == "pttl" else None)
    time.sleep(0.25)
    for a in [["dbsize"], ["get", "lz1"], ["dbsize"], ["exists", "lz2"], ["dbsize"], ["lrange", "lz3", 0, -1],
              ["dbsize"], ["ttl", "lz1"], ["pttl", "lz2"], ["type", "lz3"], ["set", "lz1", "x", "xx"],
              ["append", "lz2", "new"], ["ttl", "lz2"], ["dbsize"]]:
        run(a)
    run(["debug", "set-active-expire", "1"])
    run(["set", "pt", "v", "px", 5000])
    run(["pttl", "pt"], lambda p: "ms in (4000,5000]: %s" % (4000 < num(p) <= 5000))
    run(["pexpire", "pt", 1234567])
    run(["pttl", "pt"], lambda p: "ms in (1230000,1234567]: %s" % (1230000 < num(p) <= 1234567))
    run(["ttl", "pt"])
    # active: keys nobody touches leave DBSIZE
    run(["select", 3])
    run(["flushdb"])
    for i in range(300):
        conn(0).send(["set", "vol:%d" % i, "v", "px", 150 + i % 50])
    for i in range(300):
        conn(0).reply()
    run(["mset", "keep1", 1, "keep2", 2])
    run(["dbsize"])
    run(["info", "keyspace"], info_shape(["keyspace"]))
    time.sleep(0.3)
    wait_dbsize(2, 0)
    run(["info", "keyspace"], info_shape(["keyspace"]))
    run(["select", 0])


def connection():
    run(["flushall"])
    S = [["ping"], ["ping", "hello"], ["ping", "a", "b"], ["echo", "x"], ["echo", b"a\x00b"], ["echo"],
         ["echo", "a", "b"], ["client", "getname"], ["client", "setname", "me"], ["client", "getname"],
         ["client", "setname", "a b"], ["client", "setname", "a\nb"], ["client", "setname", ""],
         ["client", "getname"], ["client", "setname"], ["client", "bogus"], ["client"],
         ["client", "kill", "id", "999999"], ["client", "kill", "1.2.3.4:5"], ["client", "kill", "id", "x"],
         ["client", "kill", "bogus", "1"], ["hello", "2", "setname", "bad name"], ["hello", "x"],
         ["hello", "4"], ["hello", "1"], ["hello", "2", "auth", "default"], ["hello", "2", "bogus"]]
    for a in S:
        run(a)
    run(["client", "setname", "me"])
    run(["client", "id"], is_int)
    run(["hello", "2"], hello_shape)
    run(["hello"], hello_shape)
    run(["client", "getname"])
    run(["hello", "2", "setname", "helloname"], hello_shape)
    run(["client", "getname"])
    run(["client", "setname", "me"])
    run(["client", "list"], client_list_shape("me"))
    run(["client", "setname", "other"], c=1)
    run(["client", "list"], client_list_shape("other"), c=1)
    run(["client", "list", "type", "normal"], client_list_shape("me"))
    # CLIENT KILL ID of connection 1: it is gone
    conn(1).send(["client", "id"])
    _, cid = conn(1).reply()
    cid = Label(str(num(cid)), "<id of conn 1>")
    run(["client", "kill", "id", cid], lambda p: repr(p))
    k = conns.pop(1)
    k.send(["ping"])
    try:
        data = k.r.read(1)
    except OSError:
        data = b""
    emit("[1] ping after CLIENT KILL", "closed" if data == b"" else "OPEN %r" % data)
    run(["client", "kill", "id", cid])
    # CLIENT KILL addr (old form) of connection 2
    conn(2).send(["client", "setname", "victim"])
    conn(2).reply()
    conn(2).send(["client", "info"])
    _, info = conn(2).reply()
    emit("[2] client info", "name=victim in it: %s" % (b" name=victim " in info))
    addr = Label(re.search(rb" addr=(\S+) ", info).group(1).decode(), "<addr of conn 2>")
    run(["client", "kill", addr])
    run(["client", "kill", addr])
    conns.pop(2)
    # the filter form: ADDR, ID, SKIPME
    conn(2).send(["client", "info"])
    _, info = conn(2).reply()
    addr = Label(re.search(rb" addr=(\S+) ", info).group(1).decode(), "<addr of conn 2>")
    run(["client", "kill", "addr", addr, "skipme", "no"])
    conns.pop(2)
    run(["client", "kill", "addr", addr])
    conn(0).send(["client", "id"])
    _, me = conn(0).reply()
    me = Label(str(num(me)), "<id of conn 0>")
    run(["client", "kill", "id", me, "skipme", "yes"])
    run(["client", "kill", "id", me, "skipme", "maybe"])
    run(["client", "kill", "addr"])
    for a in [["client", "kill", "user", "default", "skipme", "yes"], ["client", "kill", "user", "nosuch"],
              ["client", "kill", "user", "Default"], ["client", "kill", "type", "pubsub"],
              ["client", "kill", "type", "bogus"], ["client", "kill", "laddr", "1.2.3.4:1"]]:
        run(a)
    # SELECT is per connection
    run(["select", 4])
    run(["set", "perconn", "4"])
    run(["get", "perconn"], c=3)
    run(["select", 4], c=3)
    run(["get", "perconn"], c=3)
    run(["select", 0])
    closed_after(["quit"], 3)
    closed_after(["quit", "extra"], 4)


def transactions():
    run(["flushall"])
    S = [["multi"], ["set", "t", 1], ["incr", "t"], ["rpush", "t", "x"], ["get", "t"], ["exec"],
         ["exec"], ["discard"], ["multi"], ["multi"], ["set", "t", 5], ["discard"], ["get", "t"],
         ["multi"], ["set", "t"], ["incr", "t"], ["exec"], ["get", "t"],
         ["multi"], ["bogus", "x"], ["exec"], ["multi"], ["exec"],
         ["multi"], ["watch", "t"], ["get", "t"], ["exec"], ["multi", "x"], ["exec", "x"], ["discard", "x"],
         ["multi"], ["select", 1], ["set", "indb1", "v"], ["select", 0], ["exec"], ["exists", "indb1"],
         ["select", 1], ["exists", "indb1"], ["select", 0],
         ["multi"], ["ping"], ["echo", "e"], ["incrbyfloat", "t", "x"], ["exec"]]
    for a in S:
        run(a)
    # WATCH: another client touches the key, EXEC aborts
    for step in [(0, ["set", "w", 1]), (0, ["watch", "w"]), (0, ["get", "w"]), (1, ["set", "w", 2]),
                 (0, ["multi"]), (0, ["set", "w", 3]), (0, ["exec"]), (0, ["get", "w"]),
                 # untouched: EXEC runs; WATCH ends with the EXEC
                 (0, ["watch", "w"]), (0, ["multi"]), (0, ["incr", "w"]), (0, ["exec"]),
                 (1, ["set", "w", 10]), (0, ["multi"]), (0, ["incr", "w"]), (0, ["exec"]),
                 # UNWATCH forgets
                 (0, ["watch", "w"]), (1, ["set", "w", 20]), (0, ["unwatch"]), (0, ["multi"]),
                 (0, ["incr", "w"]), (0, ["exec"]),
                 # DISCARD forgets too
                 (0, ["watch", "w"]), (1, ["incr", "w"]), (0, ["multi"]), (0, ["discard"]),
                 (0, ["multi"]), (0, ["incr", "w"]), (0, ["exec"]),
                 # a missing key then created; a key deleted; another db's same name does not count
                 (0, ["watch", "nokey"]), (1, ["set", "nokey", 1]), (0, ["multi"]), (0, ["ping"]), (0, ["exec"]),
                 (0, ["watch", "w"]), (1, ["del", "w"]), (0, ["multi"]), (0, ["ping"]), (0, ["exec"]),
                 (0, ["set", "w", 1]), (0, ["watch", "w"]), (1, ["select", 1]), (1, ["set", "w", 5]),
                 (1, ["select", 0]), (0, ["multi"]), (0, ["ping"]), (0, ["exec"]),
                 # touched by its own client inside nothing: still aborts
                 (0, ["watch", "w"]), (0, ["set", "w", 2]), (0, ["multi"]), (0, ["ping"]), (0, ["exec"]),
                 # expire counts as a touch; flushall too
                 (0, ["watch", "w"]), (1, ["expire", "w", 100]), (0, ["multi"]), (0, ["ping"]), (0, ["exec"]),
                 (0, ["watch", "w"]), (1, ["flushall"]), (0, ["multi"]), (0, ["ping"]), (0, ["exec"]),
                 (0, ["watch"]), (0, ["watch", "a", "b", "c"]), (0, ["unwatch"]), (0, ["unwatch", "x"])]:
        run(step[1], c=step[0])
    # a watched key that expires before EXEC aborts it; one already expired
    # when WATCHed counts as missing (Redis 7.0's watchedKey.expired)
    run(["set", "wx", "v", "px", 100])
    run(["watch", "wx"])
    time.sleep(0.25)
    for a in [["multi"], ["ping"], ["exec"]]:
        run(a)
    run(["set", "wy", "v", "px", 50])
    run(["debug", "set-active-expire", "0"])
    time.sleep(0.15)
    for a in [["watch", "wy"], ["multi"], ["ping"], ["exec"], ["exists", "wy"]]:
        run(a)
    run(["debug", "set-active-expire", "1"])
    # maxmemory reached (1 byte: always): denyoom commands and every queued
    # command refused, EXEC aborted; reads, DEL, DISCARD still work
    run(["set", "keep", "v"])
    for a in [["config", "set", "maxmemory", "1"], ["set", "x", "1"], ["incr", "n"], ["get", "keep"],
              ["append", "keep", "x"], ["rpush", "l", "a"], ["exists", "keep"], ["multi"], ["get", "keep"],
              ["set", "x", "1"], ["exec"], ["multi"], ["discard"], ["del", "keep"],
              ["config", "set", "maxmemory", "0"], ["set", "x", "1"]]:
        run(a)


def auth_and_server():
    run(["flushall"])
    S = [["auth", "x"], ["auth", "a", "b"], ["auth"], ["auth", "a", "b", "c"],
         ["config", "get", "maxmemory"], ["config", "get", "databases"], ["config", "get", "timeout"],
         ["config", "get", "requirepass"], ["config", "get", "appendonly"], ["config", "get", "nosuch"],
         ["config", "get"], ["config", "set", "maxmemory", "100mb"], ["config", "get", "maxmemory"],
         ["config", "set", "maxmemory", "1gb"], ["config", "get", "maxmemory"],
         ["config", "set", "maxmemory", "abc"], ["config", "set", "maxmemory", "-1"],
         ["config", "set", "maxmemory", "0"], ["config", "set", "nosuch", "1"], ["config", "set", "maxmemory"],
         ["config", "set", "maxmemory", "10mb", "MAXMEMORY", "20mb"], ["config", "get", "maxmemory"],
         ["config", "set", "maxmemory", "10mb", "nosuch", "1"], ["config", "get", "maxmemory"],
         ["config", "bogus"], ["config"], ["config", "resetstat"],
         ["debug", "sleep", "0"], ["dbsize"], ["dbsize", "x"],
         ["time", "x"], ["info", "a", "b", "c"], ["command", "bogus"]]
    for a in S:
        run(a)
    run(["time"], time_shape)
    run(["command", "count"], is_int)
    run(["command", "docs", "get", "set"], docs_shape)
    run(["command", "docs", "nosuchcmd"])
    run(["set", "ik", "v", "ex", 100])
    run(["set", "ik2", "v"])
    run(["info"], info_shape(["server", "clients", "memory", "persistence", "stats", "keyspace"]))
    for sec in ["server", "clients", "memory", "persistence", "stats", "keyspace"]:
        run(["info", sec], info_shape([sec]))
    run(["info", "nosuchsection"])
    # AUTH with a password (set at run time, so both servers have it)
    run(["config", "set", "requirepass", "s3cret"])
    for step in [(5, ["get", "k"]), (5, ["set", "k", "v"]), (5, ["ping"]), (5, ["select", 1]),
                 (5, ["multi"]), (5, ["client", "setname", "x"]), (5, ["auth", "wrong"]),
                 (5, ["auth", "default", "wrong"]), (5, ["auth", "nouser", "s3cret"]),
                 (5, ["get", "k"]), (5, ["auth", "s3cret"]), (5, ["set", "k", "v"]), (5, ["get", "k"]),
                 (6, ["hello", "2", "auth", "default", "wrong"]), (6, ["get", "k"]),
                 (7, ["auth", "default", "s3cret"]), (7, ["get", "k"])]:
        run(step[1], c=step[0])
    run(["hello", "2", "auth", "default", "s3cret"], hello_shape, c=6)
    run(["get", "k"], c=6)
    closed_after(["quit"], 8)
    run(["config", "set", "requirepass", ""])
    run(["get", "k"], c=9)


def errors():
    run(["flushall"])
    run(["set", "str", "v"])
    run(["rpush", "lst", "a"])
    S = [["bogus"], ["bogus", "a", "b"], ["BoGuS", "x" * 200], ["foo", "a" * 60, "b" * 60, "c" * 60],
         ["foo", b"a\x00b"], [""], ["get", "a", "b"], ["set"], ["lpush", "str", "x"], ["incr", "lst"],
         ["sadd", "str", "x"], ["hget", "lst", "f"], ["zadd", "str", 1, "x"], ["get", "lst"],
         ["incrby", "str", "99999999999999999999"], ["expire", "str", "1e3"], ["incrbyfloat", "str", "1"],
         ["zadd", "z", "notafloat", "x"], ["zincrby", "z", "nan", "x"], ["lrange", "lst", "a", "b"],
         ["setrange", "str", -1, "x"], ["getrange", "str", "a", 1], ["object", "bogus"],
         ["config", "get", "a", "b", "c", "d"], ["client", "kill"], ["ttl", "a", "b"]]
    for a in S:
        run(a)
    # every error reply counted by its code, since the CONFIG RESETSTAT above
    run(["info", "errorstats"])
    run(["info", "stats"], lambda p: [l for l in p.decode().splitlines() if "error_replies" in l])


def shutdown():
    run(["set", "last", "v"])
    run(["shutdown", "bogus"])
    conn(0).send(["shutdown", "nosave"])
    rest = conn(0).r.read()
    emit("[0] 'shutdown' 'nosave'", "closed, %r before" % rest)


def main():
    for part in (strings, keys, expiry, connection, transactions, auth_and_server, errors):
        part()
    if "--shutdown" in sys.argv:
        shutdown()
    out.flush()


if __name__ == "__main__":
    main()
