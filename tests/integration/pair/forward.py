#!/usr/bin/env python3
"""Lab helper: forwards TCP LISTEN_ADDR:LISTEN_PORT to 127.0.0.1:TARGET_PORT (tls_echo_server
listens on loopback only). Prints "listening" once bound."""
import socket
import sys
import threading


def pump(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    addr, port, target = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(8)
    print("listening", flush=True)
    while True:
        c, _ = srv.accept()
        t = socket.create_connection(("127.0.0.1", target))
        threading.Thread(target=pump, args=(c, t), daemon=True).start()
        threading.Thread(target=pump, args=(t, c), daemon=True).start()


main()
