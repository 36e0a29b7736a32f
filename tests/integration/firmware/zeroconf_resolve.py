#!/usr/bin/python3
"""Browses and resolves a DNS-SD service with python-zeroconf, an mDNS implementation that
shares no code with Avahi or Lanyard, and prints what it found as one JSON line.

    zeroconf_resolve.py --bind 198.18.1.2 --instance NAME [--type _lanyard._tcp.local.]
                        [--expect-address A ...] [--timeout 20]

It sends and listens only on the interface that has the --bind address (IPv4 transport; the
answers carry the IPv6 addresses as well). It browses the type until NAME is listed, then
resolves it until every --expect-address is among its addresses (an answer may come in
parts), and prints {"name", "server", "port", "addresses", "txt"}; TXT values are decoded as
UTF-8 with backslash escapes, a key without '=' maps to null. Exit 0 when found, 1 on timeout
(with what it saw on stderr).

Debian's python3-zeroconf is installed for /usr/bin/python3: run it with that interpreter.
"""

import argparse
import json
import sys
import threading
import time

from zeroconf import IPVersion, ServiceBrowser, ServiceStateChange, Zeroconf


def text(b):
    return b.decode("utf-8", "backslashreplace")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", required=True, help="IPv4 address of the interface to use")
    parser.add_argument("--instance", required=True, help="instance name to wait for")
    parser.add_argument("--type", default="_lanyard._tcp.local.")
    parser.add_argument("--expect-address", action="append", default=[])
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args()

    full_name = f"{args.instance}.{args.type}"
    seen = set()
    seen_lock = threading.Lock()

    def on_change(zeroconf, service_type, name, state_change):
        if state_change in (ServiceStateChange.Added, ServiceStateChange.Updated):
            with seen_lock:
                seen.add(name)

    zc = Zeroconf(interfaces=[args.bind], ip_version=IPVersion.V4Only)
    last = None
    try:
        ServiceBrowser(zc, args.type, handlers=[on_change])
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            with seen_lock:
                listed = full_name in seen
            if listed:
                # Resolving in this thread: the browser's handlers run on zeroconf's own loop,
                # which a blocking request from there would stall.
                info = zc.get_service_info(args.type, full_name, timeout=2000)
                if info is not None:
                    addresses = info.parsed_addresses(IPVersion.All)
                    last = {
                        "name": info.name,
                        "server": info.server,
                        "port": info.port,
                        "addresses": sorted(addresses),
                        "txt": {
                            text(k): (None if v is None else text(v))
                            for k, v in (info.properties or {}).items()
                        },
                    }
                    if all(a in addresses for a in args.expect_address):
                        print(json.dumps(last, sort_keys=True), flush=True)
                        return 0
            time.sleep(0.2)
        with seen_lock:
            names = sorted(seen)
        print(f"zeroconf_resolve: {full_name} not resolved with addresses "
              f"{args.expect_address} within {args.timeout} s; browsed: {names}; "
              f"last resolution: {json.dumps(last)}", file=sys.stderr)
        return 1
    finally:
        zc.close()


if __name__ == "__main__":
    sys.exit(main())
