#!/usr/bin/env python3
"""Lab helper: a TCP line echo server on PORT (IPv4 and IPv6). Replies "PEER-ADDRESS LINE" so
that a test can see which source address (and thus which path) a connection came from."""
import socket
import sys
import threading

port = int(sys.argv[1])


def serve(sock):
    while True:
        conn, peer = sock.accept()
        with conn:
            data = conn.makefile("rb").readline().decode(errors="replace").strip()
            conn.sendall(f"{peer[0]} {data}\n".encode())


socks = []
for family, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port))
    s.listen()
    socks.append(s)
print("listening", port, flush=True)
threads = [threading.Thread(target=serve, args=(s,), daemon=True) for s in socks]
for t in threads:
    t.start()
for t in threads:
    t.join()
