#!/usr/bin/env python3
"""Hostile and malformed RESP, each case on a fresh connection: the bytes
sent, then everything the server answers until it closes the connection
(or "<open>" after a short wait; the cases run side by side, so the waits
overlap). One line per case, to be diffed against
redis-server's. Cases needing a password run after CONFIG SET requirepass
(reset at the end).

usage: proto_vs_redis.py HOST PORT
"""
import socket
import sys
from concurrent.futures import ThreadPoolExecutor

HOST, PORT = sys.argv[1], int(sys.argv[2])


def talk(data, wait=0.5):
    s = socket.create_connection((HOST, PORT), timeout=wait)
    got = b""
    try:
        s.sendall(data)
        while True:
            b = s.recv(65536)
            if not b:
                return got + b"<closed>"
            got += b
    except socket.timeout:
        return got + b"<open>"
    except ConnectionResetError:
        return got + b"<reset>"
    finally:
        s.close()


CASES = [
    ("huge bulk length", b"*1\r\n$99999999999\r\n"),
    ("bulk length past proto-max-bulk-len", b"*1\r\n$536870913\r\n"),
    ("bulk length at proto-max-bulk-len, data pending", b"*2\r\n$4\r\nPING\r\n$536870912\r\n"),
    ("negative bulk length", b"*1\r\n$-7\r\n"),
    ("bulk length -1", b"*1\r\n$-1\r\n"),
    ("bulk length not a number", b"*1\r\n$abc\r\n"),
    ("bulk length empty", b"*1\r\n$\r\n"),
    ("huge multibulk length", b"*3000000000\r\n"),
    ("multibulk past INT_MAX", b"*2147483648\r\n"),
    ("multibulk not a number", b"*x1\r\n"),
    ("negative multibulk: ignored", b"*-5\r\nPING\r\n"),
    ("zero multibulk: ignored", b"*0\r\n*1\r\n$4\r\nPING\r\n"),
    ("expected $", b"*1\r\n+PING\r\n"),
    ("expected $ after a good arg", b"*2\r\n$4\r\nECHO\r\n:5\r\n"),
    ("binary garbage", b"\x01\xff\xfe garbage\r\n*1\r\n$-7\r\n"),
    ("unbalanced quotes inline", b"SET \"a b\r\n"),
    ("unbalanced single quote inline", b"SET 'a\r\n"),
    ("quoted inline ok", b"ECHO \"a\\x41\\n\"\r\n"),
    ("inline empty lines", b"\r\n\r\n\nPING\r\n"),
    ("inline with LF only", b"PING\nECHO hi\n"),
    ("too big inline request", b"a" * (64 * 1024 + 10)),
    ("too big mbulk count string", b"*" + b"1" * (64 * 1024 + 10)),
    ("too big bulk count string", b"*1\r\n$" + b"1" * (64 * 1024 + 10)),
    ("bulk data without CRLF", b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n"),
    ("pipeline then error", b"*1\r\n$4\r\nPING\r\nPING\r\n*1\r\n$-2\r\n*1\r\n$4\r\nPING\r\n"),
    ("half a command", b"*3\r\n$3\r\nSET\r\n$1\r\nk"),
    ("QUIT mid-pipeline", b"PING\r\nQUIT\r\nPING\r\n"),
]

AUTH_CASES = [
    ("unauthenticated multibulk length", b"*11\r\n"),
    ("unauthenticated multibulk 10: fine", b"*10\r\n$4\r\nPING\r\n"),
    ("unauthenticated bulk length", b"*1\r\n$16385\r\n"),
    ("unauthenticated bulk 16384: NOAUTH", b"*2\r\n$3\r\nGET\r\n$16384\r\n" + b"k" * 16384 + b"\r\n"),
    ("unauthenticated inline", b"GET k\r\n"),
]


def main():
    out = sys.stdout.buffer
    with ThreadPoolExecutor(len(CASES)) as pool:
        got = list(pool.map(talk, [data for _, data in CASES]))
    for (name, _), g in zip(CASES, got):
        out.write(("%s -> %r\n" % (name, g)).encode())
    admin = socket.create_connection((HOST, PORT), timeout=5)
    admin.sendall(b"*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$11\r\nrequirepass\r\n$2\r\npw\r\n")
    out.write(("config set requirepass -> %r\n" % admin.recv(100)).encode())
    with ThreadPoolExecutor(len(AUTH_CASES)) as pool:
        got = list(pool.map(talk, [data for _, data in AUTH_CASES]))
    for (name, _), g in zip(AUTH_CASES, got):
        out.write(("%s -> %r\n" % (name, g)).encode())
    admin.sendall(b"*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$11\r\nrequirepass\r\n$0\r\n\r\n")
    out.write(("config set requirepass '' -> %r\n" % admin.recv(100)).encode())
    admin.sendall(b"PING\r\n")
    out.write(("still serving -> %r\n" % admin.recv(100)).encode())
    out.flush()


if __name__ == "__main__":
    main()
