#!/usr/bin/env python3
"""N connections opened and dropped against a RESP server, 1000 at a time:
a third send PING and must get +PONG, a third send half a command, the
rest nothing; half close normally, half with a reset (SO_LINGER 0).
Prints the number of PONGs.  usage: crowd.py PORT N"""
import socket
import struct
import sys

port, n = int(sys.argv[1]), int(sys.argv[2])
pongs = 0
done = 0
while done < n:
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
print(pongs)
