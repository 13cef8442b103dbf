#!/usr/bin/env python3
"""N connections opened and dropped against a RESP server, 1000 at a time:
a third send PING and must get +PONG, a third send half a command, the
rest nothing; half close normally, half with a reset (SO_LINGER 0).
Each batch starts once the server has seen the last one go (INFO clients),
so the server's peak of clients, hence its tables, is the same every run.
Prints the number of PONGs.  usage: crowd.py PORT N"""
import socket
import struct
import sys
import time


def connected(ctl):
    ctl.sendall(b"*2\r\n$4\r\nINFO\r\n$7\r\nclients\r\n")
    data = b""
    while b"\r\n" not in data:
        data += ctl.recv(4096)
    size = int(data[1:data.index(b"\r\n")])
    need = data.index(b"\r\n") + 2 + size + 2
    while len(data) < need:
        data += ctl.recv(4096)
    for line in data.split(b"\r\n"):
        if line.startswith(b"connected_clients:"):
            return int(line.split(b":")[1])
    raise SystemExit("no connected_clients in INFO clients")

port, n = int(sys.argv[1]), int(sys.argv[2])
ctl = socket.create_connection(("127.0.0.1", port), timeout=20)
base = connected(ctl)
pongs = 0
done = 0
while done < n:
    deadline = time.monotonic() + 20
    while connected(ctl) > base and time.monotonic() < deadline:
        time.sleep(0.01)
    batch = min(1000, n - done)
    socks = [socket.create_connection(("127.0.0.1", port), timeout=20) for _ in range(batch)]
    for i, s in enumerate(socks):
        if i % 3 == 0:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
        elif i % 3 == 1:
            s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk")
    for i, s in enumerate(socks):
        if i % 3 == 0:
            got = b""
            while len(got) < 7:
                b = s.recv(7 - len(got))
                if not b:
                    break
                got += b
            pongs += got == b"+PONG\r\n"
        if i % 2:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    done += batch
ctl.close()
print(pongs)
