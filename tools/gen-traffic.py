#!/usr/bin/python3
"""Write a pcap of test traffic for nprouter benchmarks and demos (Python standard library only).

  gen-traffic.py --out FILE [--table FILE | --prefix P ...] [--count N] [--family 4|6]
                 [--size BYTES | --imix] [--dst-mac MAC] [--src-mac MAC] [--distinct] [--seed S]

Destinations are drawn from the prefixes of a route table (one "prefix [anything]" per line,
.gz read directly: e.g. ../shared/data/ipv4-full-table.txt.gz), a random host address inside a
random prefix, so that every packet has a route. --distinct draws a new destination for every
packet (the cache-hostile mode); otherwise --flows destinations are reused round-robin.
Frames are UDP, 64 bytes by default (60 + FCS on the wire); --imix mixes 64/576/1500 as 7:4:1.
"""
import argparse
import gzip
import ipaddress
import random
import struct
import sys


def read_prefixes(path, family):
    opener = gzip.open if path.endswith(".gz") else open
    out = []
    with opener(path, "rt") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            net = ipaddress.ip_network(line.split()[0], strict=False)
            if net.version == family:
                out.append(net)
    return out


def mac_bytes(s):
    b = bytes(int(x, 16) for x in s.split(":"))
    if len(b) != 6:
        raise ValueError("bad MAC " + s)
    return b


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def random_host(rng, net):
    host_bits = net.max_prefixlen - net.prefixlen
    off = rng.getrandbits(host_bits) if host_bits else 0
    return int(net.network_address) + off


def frame4(dst_mac, src_mac, src, dst, size, sport, dport):
    ip_len = size - 14 - 4 if size >= 64 else 46  # size counts the FCS, as on the wire
    payload = b"\0" * (ip_len - 28)
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, 0, 0x4000, 64, 17, 0,
                      src.to_bytes(4, "big"), dst.to_bytes(4, "big"))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return dst_mac + src_mac + b"\x08\x00" + hdr + udp


def frame6(dst_mac, src_mac, src, dst, size, sport, dport):
    ip_len = max(size - 14 - 4, 48)
    payload = b"\0" * (ip_len - 48)
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack("!IHBB16s16s", 6 << 28, len(udp), 17, 64, src.to_bytes(16, "big"),
                      dst.to_bytes(16, "big"))
    return dst_mac + src_mac + b"\x86\xdd" + hdr + udp


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--table")
    ap.add_argument("--prefix", action="append", default=[])
    ap.add_argument("--family", type=int, choices=(4, 6), default=4)
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--flows", type=int, default=8192, help="distinct destinations (default 8192)")
    ap.add_argument("--distinct", action="store_true", help="a new destination for every packet")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--imix", action="store_true")
    ap.add_argument("--dst-mac", default="02:00:00:00:00:01")
    ap.add_argument("--src-mac", default="02:00:00:00:00:02")
    ap.add_argument("--src", default=None, help="source address (default 192.0.2.2 / 2001:db8::2)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    rng = random.Random(a.seed)
    nets = [ipaddress.ip_network(p, strict=False) for p in a.prefix]
    if a.table:
        nets += read_prefixes(a.table, a.family)
    nets = [n for n in nets if n.version == a.family]
    if not nets:
        sys.exit("gen-traffic: no IPv%d prefixes given (--table or --prefix)" % a.family)
    src = int(ipaddress.ip_address(a.src or ("192.0.2.2" if a.family == 4 else "2001:db8::2")))
    dmac, smac = mac_bytes(a.dst_mac), mac_bytes(a.src_mac)
    build = frame4 if a.family == 4 else frame6
    n_dst = a.count if a.distinct else min(a.flows, a.count)
    dsts = [random_host(rng, rng.choice(nets)) for _ in range(n_dst)]
    sizes = [64] * 7 + [576] * 4 + [1500] if a.imix else [a.size]

    with open(a.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(a.count):
            size = sizes[i % len(sizes)]
            fr = build(dmac, smac, src, dsts[i % n_dst], size, 1024 + (i & 0x3FFF), 9)
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(fr), len(fr)))
            f.write(fr)
    print("gen-traffic: wrote %d IPv%d frames (%s) to %s, %d destinations from %d prefixes"
          % (a.count, a.family, "imix" if a.imix else "%d bytes" % a.size, a.out, n_dst, len(nets)))


if __name__ == "__main__":
    main()
