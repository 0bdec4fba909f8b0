#!/usr/bin/env python3
"""The DNS server's floor for `make bench`'s enrichment row: the answerable lookups of the
benchmark (a PTR query for each of the 90% addresses dnsmasq synthesizes, and an A query
for each name it gives back), sent from one UDP socket with as many in flight as rua keeps,
by a client that does nothing else. Prints the seconds it took: what the server alone
needs, whatever the client.

    dns_floor.py PORT N_ADDRESSES N_DEAD [IN_FLIGHT]"""

import select
import socket
import struct
import sys
import time


def query(qid, name, qtype):
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p)
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + b"\0" + struct.pack(">HH", qtype, 1)


def addresses(n, dead):
    # The same addresses as bench.sh's: 10% in 45.0.0.0/16 first, the rest in 198.18.0.0/15.
    for i in range(dead, n):
        yield f"198.{18 + i // 64000}.{i % 64000 // 250}.{i % 250 + 1}"


def main():
    port, n, dead = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    window = int(sys.argv[4]) if len(sys.argv) > 4 else 512
    names = []
    for ip in addresses(n, dead):
        a, b, c, d = ip.split(".")
        names.append((f"{d}.{c}.{b}.{a}.in-addr.arpa", 12))
        names.append((f"host-{a}-{b}-{c}-{d}.bench.test", 1))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    sent = answered = 0
    in_flight = 0
    started = time.monotonic()
    while answered < len(names):
        while in_flight < window and sent < len(names):
            name, qtype = names[sent]
            try:
                sock.send(query(sent & 0xFFFF, name, qtype))
            except BlockingIOError:
                break
            sent += 1
            in_flight += 1
        readable, _, _ = select.select([sock], [], [], 2.0)
        if not readable:
            break  # the server stopped answering: report what it did
        while True:
            try:
                sock.recv(4096)
            except BlockingIOError:
                break
            answered += 1
            in_flight -= 1
    elapsed = time.monotonic() - started
    print(f"{elapsed:.2f} {answered} {len(names)}")


if __name__ == "__main__":
    main()
