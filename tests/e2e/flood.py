#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Flood one kind of packet at the router from a test namespace, as fast as Python can send.

    flood.py IFACE DST_MAC KIND SECONDS RATE [SRC_IP]

RATE: packets per second (0: as fast as Python sends). A rate the veth path carries without
loss keeps the test about the router: past that, the kernel drops the test's own pings on
the same link before nprouter sees them.

KIND:
  noroute  UDP to random addresses in 198.18.0.0/15, for which the router has no route
  subnet   UDP to random hosts of 10.200.0.0/16 (a connected subnet: each needs ARP)
  echo     ICMP echo requests to 192.0.2.1 (the router)
  arp      ARP requests for random addresses of 192.0.2.0/24, broadcast

Prints "sent N" at the end. Frames are built once per batch of random addresses; the IPv4
checksum is computed here (no scapy: this must keep up).
"""
import os
import random
import socket
import struct
import sys
import time


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(src, dst, proto, payload, ttl=64):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, ttl, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def main():
    iface, dmac, kind, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    rate = float(sys.argv[5])
    src = sys.argv[6] if len(sys.argv) > 6 else "192.0.2.2"
    dst_mac = bytes.fromhex(dmac.replace(":", ""))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    my_mac = s.getsockname()[4]
    udp = struct.pack("!HHHH", 40000, 9, 8 + 18, 0) + b"x" * 18
    rnd = random.Random(1)
    frames = []
    for _ in range(4096):
        if kind == "noroute":
            d = "198.%d.%d.%d" % (18 + rnd.randint(0, 1), rnd.randint(0, 255), rnd.randint(1, 254))
            frames.append(dst_mac + my_mac + b"\x08\x00" + ip4(src, d, 17, udp))
        elif kind == "subnet":
            d = "10.200.%d.%d" % (rnd.randint(0, 255), rnd.randint(1, 254))
            frames.append(dst_mac + my_mac + b"\x08\x00" + ip4(src, d, 17, udp))
        elif kind == "echo":
            icmp = struct.pack("!BBHHH", 8, 0, 0, 0x4242, rnd.randint(0, 65535)) + b"p" * 16
            icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
            frames.append(dst_mac + my_mac + b"\x08\x00" + ip4(src, "192.0.2.1", 1, icmp))
        elif kind == "arp":
            t = "192.0.2.%d" % rnd.randint(100, 250)
            arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, my_mac, socket.inet_aton(src),
                              b"\0" * 6, socket.inet_aton(t))
            frames.append(b"\xff" * 6 + my_mac + b"\x08\x06" + arp)
        else:
            sys.exit("unknown kind " + kind)
    n = 0
    start = time.monotonic()
    end = start + secs
    while time.monotonic() < end:
        k = (n // 64) % 64 * 64
        for f in frames[k:k + 64]:
            try:
                s.send(f)
            except OSError:
                pass  # the veth's queue is full: the flood goes on
        n += 64
        if rate > 0:
            ahead = start + n / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    print("sent %d" % n)


if __name__ == "__main__":
    main()
