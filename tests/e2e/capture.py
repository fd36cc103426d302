#!/usr/bin/python3
"""Packets for the capture test (dumpcap.sh), and the check of what dpdk-dumpcap wrote.

  capture.py gen DIR      DIR/in0.pcap (port 0: UDP to ports 5001 and 5002 in turn, through
                          the router to port 1), DIR/empty.pcap, DIR/config.batch
  capture.py check DIR N FILE
                          FILE (pcapng) holds N packets or a few more (dpdk-dumpcap -c N
                          stops after the burst that reaches N: fewer than N + 32), each a
                          forwarded frame of UDP port 5001, the first of them in order: MACs
                          of port 1 and the next hop, TTL one less, checksum right
"""
import sys

from scapy.all import IP, UDP, Ether, rdpcap, wrpcap

R0 = "02:00:00:00:00:01"   # the router on port 0
R1 = "02:00:00:00:01:01"   # the router on port 1
NH = "02:00:00:00:01:02"   # the next hop on port 1
PAIRS = 200                # packets to each UDP port

CONFIG = f"""\
interface set p0 port 0 mac {R0} up
interface set p1 port 1 mac {R1} up
address add 192.0.2.1/24 dev p0
address add 198.51.100.1/24 dev p1
nexthop set 1 via 198.51.100.2 dev p1 lladdr {NH}
route add 10.1.0.0/16 nexthop 1
"""


def inputs():
    out = []
    for i in range(PAIRS):
        for port in (5001, 5002):
            out.append(Ether(src="02:00:00:00:00:02", dst=R0) /
                       IP(src="192.0.2.2", dst=f"10.1.{i // 250}.{i % 250 + 1}", ttl=64) /
                       UDP(sport=1000 + i, dport=port) / (b"n%05d" % i))
    return out


def forwarded(p):
    """The frame the router sends out of port 1 for input p."""
    f = p.copy()
    f[Ether].src = R1
    f[Ether].dst = NH
    f[IP].ttl -= 1
    del f[IP].chksum
    return bytes(Ether(bytes(f)))


def gen(d):
    wrpcap(f"{d}/in0.pcap", inputs())
    wrpcap(f"{d}/empty.pcap", [])
    with open(f"{d}/config.batch", "w") as f:
        f.write(CONFIG)


def check(d, n, path):
    got = rdpcap(path)
    want = [forwarded(p) for p in inputs() if p[UDP].dport == 5001]
    if not n <= len(got) < n + 32:
        sys.exit(f"FAIL: {path} holds {len(got)} packets, not {n} (or up to 31 more)")
    for i, (g, w) in enumerate(zip(got, want)):
        if bytes(g) != w:
            sys.exit(f"FAIL: captured packet {i} is not the forwarded frame expected:\n"
                     f"  got  {Ether(bytes(g)).summary()} {bytes(g).hex()}\n"
                     f"  want {Ether(w).summary()} {w.hex()}")
    print(f"{path}: {len(got)} packets (-c {n}), each the forwarded frame of UDP port 5001 "
          "expected, in order")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "gen":
        gen(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "check":
        check(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(__doc__)
