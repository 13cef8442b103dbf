#!/usr/bin/env python3
"""Runs a fixed script of list and hash commands against a RESP server and
prints one line per reply (the reply's exact bytes, escaped). Replies whose
order Redis itself leaves open (HGETALL, HKEYS, HVALS, a whole HSCAN) are
sorted first, so two stores compare byte for byte on everything else.

usage: listhash_vs_redis.py HOST PORT   (or: -- CMD... speaking RESP on stdio)
"""
import socket
import subprocess
import sys

def enc(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out

class Conn:
    def __init__(self, argv):
        if argv[0] == "--":
            self.p = subprocess.Popen(argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            self.w, self.r = self.p.stdin, self.p.stdout
        else:
            s = socket.create_connection((argv[0], int(argv[1])), timeout=20)
            self.w = self.r = s.makefile("rwb")
        self.buf = b""

    def send(self, args):
        self.w.write(enc(args))
        self.w.flush()

    def line(self):
        l = self.r.readline()
        if not l.endswith(b"\r\n"):
            raise SystemExit("connection closed")
        return l[:-2]

    def reply(self):
        """(raw bytes, parsed) of one reply"""
        l = self.line()
        t = l[:1]
        if t in (b"+", b"-", b":"):
            return l + b"\r\n", l
        n = int(l[1:])
        if t == b"$":
            if n < 0:
                return l + b"\r\n", None
            data = self.r.read(n + 2)
            return l + b"\r\n" + data, data[:-2]
        if t == b"*":
            if n < 0:
                return l + b"\r\n", None
            raw, items = l + b"\r\n", []
            for _ in range(n):
                r, p = self.reply()
                raw += r
                items.append(p)
            return raw, items
        raise SystemExit("bad reply %r" % l)

def script():
    """The commands: every list and hash command, edge cases and errors."""
    S = []
    big = b"x" * 9000          # longer than a list node
    binv = b"a\x00b\r\n\xff"
    S += [["del", "l", "l2", "h", "h2", "s", "e"], ["set", "s", "str"]]
    # lists: pushes, both ends, X forms
    S += [["rpush", "l", "a", "b", "c"], ["lpush", "l", "z", "y"], ["llen", "l"],
          ["lrange", "l", 0, -1], ["lpushx", "nol", "a"], ["rpushx", "nol", "a"],
          ["lpushx", "l", "p"], ["rpushx", "l", "q", "r"], ["exists", "nol"],
          ["rpush", "l", binv, "", big, "1", "-2", "3.5"], ["lrange", "l", 0, -1]]
    for a, b in [(0, 0), (-1, -1), (-3, 2), (2, -3), (5, 100), (-100, 2), (3, 1), (100, 200),
                 (-100, -50), ("9223372036854775807", "-9223372036854775808"),
                 ("-9223372036854775808", "9223372036854775807")]:
        S.append(["lrange", "l", a, b])
    S += [["lrange", "l", "x", 1], ["lrange", "l", 0, "1.5"], ["lrange", "nol", 0, -1],
          ["lrange", "s", 0, -1], ["lrange", "s", "x", 1]]
    for i in [0, 1, -1, -2, 12, 13, -13, -14, 100, "9223372036854775807", "-9223372036854775808"]:
        S.append(["lindex", "l", i])
    S += [["lindex", "l", "abc"], ["lindex", "nol", "abc"], ["lindex", "s", 0],
          ["lindex", "s", "abc"], ["lindex", "l"]]
    S += [["lset", "l", 0, "A"], ["lset", "l", -1, "Z"], ["lset", "l", 100, "x"],
          ["lset", "l", -100, "x"], ["lset", "l", "x", "x"], ["lset", "nol", 0, "x"],
          ["lset", "s", 0, "x"], ["lset", "l", 5, big], ["lset", "l", 6, "small"],
          ["lrange", "l", 0, -1]]
    S += [["linsert", "l", "before", "A", "B0"], ["linsert", "l", "AFTER", "Z", "Z1"],
          ["linsert", "l", "after", "nothere", "x"], ["linsert", "l", "middle", "A", "x"],
          ["linsert", "nol", "before", "a", "x"], ["linsert", "s", "before", "a", "x"],
          ["linsert", "nol", "bad", "a", "x"], ["linsert", "l", "after", binv, big],
          ["lrange", "l", 0, -1], ["llen", "l"]]
    S += [["lpos", "l", "A"], ["lpos", "l", "nothere"], ["lpos", "nol", "a"],
          ["lpos", "nol", "a", "count", 0], ["lpos", "s", "a"]]
    S += [["rpush", "l2"] + ["a", "b", "a", "c", "a", "b", "a"]]
    for opts in [[], ["rank", 1], ["rank", 2], ["rank", -1], ["rank", -3], ["rank", 5],
                 ["count", 0], ["count", 2], ["count", 10], ["rank", 2, "count", 2],
                 ["rank", -1, "count", 0], ["maxlen", 3], ["maxlen", 3, "count", 0],
                 ["rank", -2, "maxlen", 4, "count", 0], ["rank", 0], ["rank", "x"],
                 ["rank", "-9223372036854775808"], ["count", -1], ["count", "x"],
                 ["maxlen", -1], ["maxlen", "y"], ["rank"], ["foo", 1], ["COUNT", 1, "RANK", 3]]:
        S.append(["lpos", "l2", "a"] + opts)
    S += [["lrem", "l2", 2, "a"], ["lrange", "l2", 0, -1], ["lrem", "l2", -1, "a"],
          ["lrange", "l2", 0, -1], ["lrem", "l2", 0, "b"], ["lrange", "l2", 0, -1],
          ["lrem", "l2", 1, "none"], ["lrem", "l2", "x", "a"], ["lrem", "nol", 1, "a"],
          ["lrem", "s", 1, "a"], ["lrem", "l2", "-9223372036854775808", "a"],
          ["lrange", "l2", 0, -1], ["exists", "l2"]]
    S += [["rpush", "l2", 1, 2, 3], ["lrem", "l2", 0, 1], ["lrem", "l2", 0, 2], ["lrem", "l2", 0, 3],
          ["exists", "l2"]]
    # pops with and without count
    S += [["lpop", "l"], ["rpop", "l"], ["lpop", "l", 2], ["rpop", "l", 3], ["lpop", "l", 0],
          ["rpop", "l", "-1"], ["lpop", "l", "x"], ["lpop", "l", 1, 2], ["lpop", "nol"],
          ["lpop", "nol", 2], ["rpop", "nol", 0], ["lpop", "s"], ["rpop", "s", 1],
          ["lpop", "nol", "x"], ["lrange", "l", 0, -1], ["rpop", "l", 1000], ["exists", "l"]]
    # trim
    S += [["rpush", "l"] + [str(i) for i in range(20)]]
    for a, b in [(1, -2), (0, 100), (-5, -1), (2, 1)]:
        S += [["ltrim", "l", a, b], ["lrange", "l", 0, -1]]
    S += [["exists", "l"], ["ltrim", "nol", 0, 1], ["ltrim", "s", 0, 1], ["ltrim", "l", "a", 1]]
    # moves
    S += [["rpush", "l", "a", "b", "c"], ["rpoplpush", "l", "l"], ["lrange", "l", 0, -1],
          ["lmove", "l", "l2", "left", "right"], ["lmove", "l", "l2", "RIGHT", "LEFT"],
          ["lrange", "l2", 0, -1], ["lmove", "l", "l2", "up", "left"], ["lmove", "nol", "l2", "left", "left"],
          ["lmove", "l", "s", "left", "left"], ["lmove", "s", "l", "left", "left"],
          ["rpoplpush", "l", "l3"], ["rpoplpush", "l", "l3"], ["exists", "l"], ["lrange", "l3", 0, -1],
          ["rpush", "one", "x"], ["rpoplpush", "one", "one"], ["lrange", "one", 0, -1]]
    # many elements: spanning nodes, then indexes and removals across them
    S += [["rpush", "big"] + ["e%d" % i for i in range(600)] + [big, big]]
    S += [["lpush", "big"] + ["h%d" % i for i in range(300)]]
    for i in [0, 299, 300, 899, 900, 901, 902, -1, -2, -450, 450]:
        S.append(["lindex", "big", i])
    S += [["lrange", "big", 295, 305], ["lrange", "big", -5, -1], ["llen", "big"],
          ["lrem", "big", 0, big], ["llen", "big"], ["linsert", "big", "before", "e300", big],
          ["lindex", "big", 600], ["lset", "big", 700, "set700"], ["lrange", "big", 698, 702],
          ["lpop", "big", 250], ["rpop", "big", 10], ["ltrim", "big", 100, 199],
          ["lrange", "big", 0, 3], ["lrange", "big", -3, -1], ["llen", "big"]]
    # wrong arity / wrong type
    S += [["lpush", "l"], ["rpush"], ["llen"], ["lrange", "l", 0], ["lset", "l", 0],
          ["linsert", "l", "before", "a"], ["lrem", "l", 0], ["ltrim", "l", 0], ["lpos", "l"],
          ["rpoplpush", "l"], ["lmove", "l", "l2", "left"],
          ["lpush", "s", "a"], ["rpushx", "s", "a"], ["llen", "s"], ["type", "s"]]
    # hashes
    S += [["hset", "h", "f1", "v1"], ["hset", "h", "f1", "v1b", "f2", "v2", "f3", "3"],
          ["hset", "h", "f4"], ["hmset", "h", "f5", "5", "f6"], ["hmset", "h", "f5", "5", "f6", "6"],
          ["hget", "h", "f1"], ["hget", "h", "nof"], ["hget", "noh", "f"], ["hget", "s", "f"],
          ["hmget", "h", "f1", "nof", "f3"], ["hmget", "noh", "a", "b"], ["hmget", "s", "a"],
          ["hlen", "h"], ["hlen", "noh"], ["hlen", "s"], ["hexists", "h", "f2"],
          ["hexists", "h", "zz"], ["hexists", "noh", "f"], ["hexists", "s", "f"],
          ["hstrlen", "h", "f1"], ["hstrlen", "h", "zz"], ["hstrlen", "noh", "f"],
          ["hsetnx", "h", "f1", "x"], ["hsetnx", "h", "new", "x"], ["hsetnx", "noh2", "a", "b"],
          ["hsetnx", "s", "a", "b"], ["hget", "h", "new"], ["hget", "noh2", "a"],
          ["hset", "h", binv, binv], ["hget", "h", binv], ["hset", "h", "", ""], ["hget", "h", ""],
          ["hset", "h", "bigv", big], ["hstrlen", "h", "bigv"],
          ["hgetall", "h"], ["hkeys", "h"], ["hvals", "h"], ["hgetall", "noh"], ["hkeys", "noh"],
          ["hvals", "noh"], ["hgetall", "s"], ["hkeys", "s"], ["hvals", "s"]]
    S += [["hincrby", "h", "f3", 10], ["hincrby", "h", "f3", -20], ["hincrby", "h", "newi", 5],
          ["hincrby", "h", "f1", 1], ["hincrby", "h", "f3", "x"], ["hincrby", "h", "f3", "1.5"],
          ["hincrby", "noh3", "a", 7], ["hget", "noh3", "a"], ["hincrby", "s", "a", 1],
          ["hset", "h", "max", "9223372036854775807", "min", "-9223372036854775808",
           "lead0", "007", "sp", " 1"],
          ["hincrby", "h", "max", 1], ["hincrby", "h", "max", 0], ["hincrby", "h", "min", -1],
          ["hincrby", "h", "min", "9223372036854775807"], ["hincrby", "h", "lead0", 1],
          ["hincrby", "h", "sp", 1], ["hincrby", "h", "f3", "9223372036854775808"]]
    for incr in ["1.5", "-0.25", "10", "1e3", "0x10", "3.0e-5", ".5", "5.", "-1.5e2",
                 "inf", "-inf", "nan", "abc", "", " 1", "1 ", "1e5000", "1e-5000"]:
        S.append(["hincrbyfloat", "h", "fl", incr])
    S += [["hget", "h", "fl"], ["hincrbyfloat", "h", "f1", "1"], ["hincrbyfloat", "h", "f3", "0.1"],
          ["hincrbyfloat", "h", "lead0", "1"], ["hincrbyfloat", "noh4", "a", "2.5"],
          ["hincrbyfloat", "s", "a", "1"], ["hset", "h", "fmax", "1.7e308"],
          ["hincrbyfloat", "h", "fmax", "1.7e308"], ["hincrbyfloat", "h", "fmax", "-1.7e308"],
          ["hset", "h", "fz", "-0.0"], ["hincrbyfloat", "h", "fz", "0"],
          ["hincrbyfloat", "h", "fneg", "-0.1"], ["hincrbyfloat", "h", "fneg", "0.1"],
          ["hincrbyfloat", "h", "fl2", "0.1"], ["hincrbyfloat", "h", "fl2", "0.2"],
          ["hincrbyfloat", "h", "fl3", "1e20"], ["hincrbyfloat", "h", "fl3", "123456789.123456789"]]
    S += [["hdel", "h", "f1", "nof", "f2"], ["hdel", "h", "f1"], ["hdel", "noh", "a"],
          ["hdel", "s", "a"], ["hlen", "h"], ["hset", "h2", "a", 1, "b", 2],
          ["hdel", "h2", "a", "b", "c"], ["exists", "h2"], ["hset", "h2", "a", 1],
          ["hdel", "h2", "a"], ["exists", "h2"]]
    S += [["hset", "hb"] + sum([["k%d" % i, "v%d" % i] for i in range(300)], []),
          ["hlen", "hb"], ["hget", "hb", "k299"], ["hgetall", "hb"],
          ["hscan", "hb", 0, "COUNT", 1000], ["hscan", "h", 0], ["hscan", "hb", 0, "MATCH", "k1*"],
          ["hscan", "noh", 0], ["hscan", "noh", "x"], ["hscan", "s", 0], ["hscan", "s", "x"],
          ["hscan", "hb", "x"], ["hscan", "hb", "-1x"], ["hscan", "hb", 0, "count", 0],
          ["hscan", "hb", 0, "count", "x"], ["hscan", "hb", 0, "match"], ["hscan", "noh", 0, "bad"]]
    S += [["hset", "h"], ["hset", "h", "a"], ["hget", "h"], ["hmget", "h"], ["hdel", "h"],
          ["hlen"], ["hexists", "h"], ["hgetall"], ["hincrby", "h", "a"],
          ["hincrbyfloat", "h", "a"], ["hsetnx", "h", "a"], ["hscan", "h"], ["hstrlen", "h"],
          ["lpush", "h", "a"], ["hset", "l3", "a", "b"], ["type", "h"], ["type", "l3"]]
    return S

def norm(args, parsed):
    """The sorted form of an order-free reply, or None."""
    cmd = str(args[0]).lower()
    if cmd in ("hkeys", "hvals") and isinstance(parsed, list):
        return repr(sorted(parsed))
    if cmd == "hgetall" and isinstance(parsed, list):
        return repr(sorted(zip(parsed[::2], parsed[1::2])))
    return None

def main():
    c = Conn(sys.argv[1:])
    out = sys.stdout.buffer
    for args in script():
        cmd = str(args[0]).lower()
        c.send(args)
        raw, parsed = c.reply()
        # a whole HSCAN: follow the cursor, then sort the pairs
        if cmd == "hscan" and isinstance(parsed, list) and len(parsed) == 2:
            pairs = list(zip(parsed[1][::2], parsed[1][1::2]))
            guard = 0
            while parsed[0] != b"0" and guard < 100000:
                c.send([args[0], args[1], parsed[0]] + args[3:])
                raw, parsed = c.reply()
                pairs += list(zip(parsed[1][::2], parsed[1][1::2]))
                guard += 1
            line = "hscan-all " + repr(sorted(set(pairs)))
        else:
            line = norm(args, parsed) or repr(raw)
        out.write(("%s -> %s\n" % (" ".join(repr(a)[:40] for a in args)[:200], line)).encode())
    out.flush()

if __name__ == "__main__":
    main()
