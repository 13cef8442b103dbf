#!/usr/bin/env python3
"""Two limits against a RESP server.

obuf PORT: a client pipelines 2000 GETs of a 1 MB value in one write and
never reads; the server must close it (its output buffer limit) while
another client is served. Prints what happened.

oom PORT MAXMEMORY RESTORE: CONFIG SET maxmemory, then SETs of 10 KB
values until the server refuses one; prints the refusal, that reads and
DEL still work, that a SET works again after the DEL, and puts maxmemory
back to RESTORE.

maxclients PORT N: N+2 connections kept open, each sends PING: the last two
get Redis's "max number of clients reached" and are closed."""
import socket
import sys
import time


class C:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.f = self.s.makefile("rb")

    def cmd(self, *args):
        args = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        self.s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
        return self.reply()

    def reply(self):
        l = self.f.readline()
        if l[:1] == b"$":
            n = int(l[1:])
            return None if n < 0 else self.f.read(n + 2)[:-2]
        if l[:1] == b"*":
            return [self.reply() for _ in range(int(l[1:]))]
        return l[:-2]


def obuf(port):
    a = C(port)
    a.cmd("SET", "big", b"x" * (1 << 20))
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n" * 2000)
    time.sleep(0.5)
    print("another client meanwhile:", a.cmd("PING"))
    got, end = 0, "open"
    t0 = time.time()
    try:
        while time.time() - t0 < 20:
            b = s.recv(1 << 20)
            if not b:
                end = "closed"
                break
            got += len(b)
    except ConnectionResetError:
        end = "closed"
    except socket.timeout:
        pass
    print("the client that never read:", end, "before all its replies:", got < 2000 * (1 << 20))
    # one command whose reply alone passes the limit: MGET of it 300 times
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(b"*301\r\n$4\r\nMGET\r\n" + b"$3\r\nbig\r\n" * 300)
    got, end = 0, "open"
    try:
        while True:
            b = s.recv(1 << 20)
            if not b:
                end = "closed"
                break
            got += len(b)
    except ConnectionResetError:
        end = "closed"
    except socket.timeout:
        pass
    print("MGET of it 300 times:", end, "before its whole reply:", got < 300 * (1 << 20))
    print("another client after:", a.cmd("STRLEN", "big"))
    print("DEL big:", a.cmd("DEL", "big"))


def oom(port, maxmemory, restore):
    a = C(port)
    print("config set maxmemory:", a.cmd("CONFIG", "SET", "maxmemory", maxmemory))
    val = b"v" * 10240
    err = None
    for i in range(100000):
        r = a.cmd("SET", "oom:%d" % i, val)
        if r != b"+OK":
            err = r
            break
    print("refused after some SETs:", err, i > 0)
    print("GET still answers:", a.cmd("GET", "oom:0") == val)
    print("reads and DEL work:", a.cmd("EXISTS", "oom:0"), a.cmd("DEL", *["oom:%d" % j for j in range(i)]) == b":%d" % i)
    print("SET works again:", a.cmd("SET", "after", "v"), a.cmd("DEL", "after"))
    print("config set maxmemory back:", a.cmd("CONFIG", "SET", "maxmemory", restore))


def maxclients(port, n):
    socks = []
    for i in range(n + 2):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        socks.append(s)
        s.sendall(b"PING\r\n")
        got = b""
        try:
            while not got.endswith(b"\r\n"):
                b = s.recv(100)
                if not b:
                    break
                got += b
            if got.startswith(b"-") and s.recv(100) == b"":
                got += b"<closed>"
        except (ConnectionResetError, socket.timeout):
            got += b"<closed>"
        print("connection %d: %r" % (i + 1, got))
    for s in socks:
        s.close()


def bigvalues(port):
    """Values and strings near what an enclave's slot holds (maxmemory 64mb:
    a 144 MB slot): refused with -OOM or the client closed, never the store
    ended (a 60 MB SET after a 30 MB one, SETRANGE 130 MB out, used to)."""
    for mb in (30, 60, 100):
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        n = mb << 20
        try:
            s.sendall(b"*3\r\n$3\r\nSET\r\n$4\r\nv%03d\r\n$%d\r\n" % (mb, n) + b"x" * n + b"\r\n")
            got = s.recv(100) or b"<closed>"
        except (ConnectionResetError, BrokenPipeError):
            got = b"<closed>"
        print("SET of %d MB:" % mb, got if got == b"+OK\r\n" else "refused" if got in (
            b"<closed>", b"-OOM command not allowed when used memory > 'maxmemory'.\r\n") else got)
        s.close()
    a = C(port)
    print("SETRANGE 130 MB out:", a.cmd("SETRANGE", "sr", 130000000, "x"))
    # twelve clients at once that never read, each past its own limit in
    # one batch: together more than the slot holds
    a.cmd("SET", "big", b"x" * (1 << 20))
    many = []
    for _ in range(12):
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n" * 2000)
        many.append(s)
    time.sleep(0.5)
    print("twelve that never read, then:", a.cmd("PING"))
    for s in many:
        s.close()
    a.cmd("DEL", "big")
    print("still serving:", a.cmd("PING"), a.cmd("STRLEN", "v030"))
    print("DEL:", a.cmd("DEL", "v030", "v060", "v100", "sr"))


if __name__ == "__main__":
    if sys.argv[1] == "bigvalues":
        bigvalues(int(sys.argv[2]))
    elif sys.argv[1] == "maxclients":
        maxclients(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == "obuf":
        obuf(int(sys.argv[2]))
    else:
        oom(int(sys.argv[2]), sys.argv[3], sys.argv[4])
