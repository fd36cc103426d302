#!/usr/bin/python3
"""End-to-end forwarding test: pcap in -> nprouter-dataplane -> pcap out.

  pcap_forward.py gen DIR [N]  write DIR/inP_Q.pcap (port P, queue Q < N, default 1),
                               DIR/config.batch and DIR/expect.json (what must come out of
                               which port and queue, and every counter)
  pcap_forward.py check DIR    compare DIR/outP_Q.pcap, DIR/dataplane.log and DIR/stats.json
                               with DIR/expect.json

With N queues (N workers: worker W owns queue W of every port), a port's input packets go to
its queues in turn: packet i to queue i mod N, and the 3 packets of each ECMP flow so to 2 or 3
different workers. A worker sends what it forwards on its own queue, so every forwarded packet
is expected on one queue of one port; the router's own packets leave port P by queue P mod N
(the slow path hands a port's frames to one worker, so that they keep their order). Counters:
per worker (rx = its queue of every port), per port and queue, and the totals per reason.

The expectation is computed independently of nprouter: scapy builds each packet, and the
expected output is the same packet with new MACs and TTL/hop limit - 1 whose checksum scapy
recomputes from scratch (nprouter updates it incrementally, RFC 1624).

What the router itself sends (the slow path: gratuitous ARP and unsolicited neighbour
advertisements when the interfaces come up, ARP replies and requests, ICMP errors for no
route, unreachable routes, TTL expiry and UDP to the router) is built by scapy too and
compared as a set per port, apart from the forwarded packets (their order among the
forwarded ones is not fixed). The data plane runs with --neigh-retry-ms 60000, so that the
one unresolved next hop gets exactly one ARP request during the test.
"""
import json
import os
import re
import sys

from scapy.all import (ARP, ICMP, IP, UDP, TCP, Ether, IPv6, Raw, rdpcap, wrpcap)  # noqa: E402
from scapy.layers.inet6 import (ICMPv6DestUnreach, ICMPv6ND_NA, ICMPv6NDOptDstLLAddr,  # noqa: E402
                                ICMPv6TimeExceeded)

# Router interfaces: port -> (name, MAC, IPv4, IPv6)
R = {
    0: ("p0", "02:00:00:00:00:01", "192.0.2.1", "2001:db8::1"),
    1: ("p1", "02:00:00:00:01:01", "198.51.100.1", "2001:db8:1::1"),
    2: ("p2", "02:00:00:00:02:01", "203.0.113.1", "2001:db8:2::1"),
}
# Hosts / next hops: name -> (port, MAC, IPv4 or IPv6 gateway)
H0 = "02:00:00:00:00:02"   # host on port 0
NH = {
    1: (1, "02:00:00:00:01:02", "198.51.100.2"),
    2: (2, "02:00:00:00:02:02", "203.0.113.2"),
    4: (1, "02:00:00:00:01:03", "2001:db8:1::2"),
    5: (0, "02:00:00:00:00:02", "192.0.2.2"),
}

CONFIG = """\
# e2e: three interfaces, next hops with static MACs, an ECMP group, special routes
interface set p0 port 0 mac 02:00:00:00:00:01 up
interface set p1 port 1 mac 02:00:00:00:01:01 up
interface set p2 port 2 mac 02:00:00:00:02:01 up
address add 192.0.2.1/24 dev p0
address add 2001:db8::1/64 dev p0
address add 198.51.100.1/24 dev p1
address add 2001:db8:1::1/64 dev p1
address add 203.0.113.1/24 dev p2
nexthop set 1 via 198.51.100.2 dev p1 lladdr 02:00:00:00:01:02
nexthop set 2 via 203.0.113.2 dev p2 lladdr 02:00:00:00:02:02
nexthop set 3 blackhole
nexthop set 4 via 2001:db8:1::2 dev p1 lladdr 02:00:00:00:01:03
nexthop set 5 via 192.0.2.2 dev p0 lladdr 02:00:00:00:00:02
nexthop set 6 via 198.51.100.3 dev p1
nexthop set 7 unreachable
neighbor set 192.0.2.2 dev p0 lladdr 02:00:00:00:00:02
neighbor set 2001:db8::2 dev p0 lladdr 02:00:00:00:00:02
group set 1 1:1 2:1
route add 10.1.0.0/16 nexthop 1
route add 10.1.128.0/17 nexthop 2
route add 10.2.0.0/16 group 1
route add 10.3.0.0/16 nexthop 3
route add 10.4.0.0/24 nexthop 6
route add 10.5.0.0/16 nexthop 7
route add 172.16.0.0/12 nexthop 5
route add 2001:db8:100::/48 nexthop 4
route add 2001:db8:100:8000::/49 nexthop 4
"""


def fwd4(pkt, nh):
    """Expected output of an IPv4 packet sent through next hop nh."""
    port, mac, _ = NH[nh]
    out = pkt.copy()
    out[Ether].src = R[port][1]
    out[Ether].dst = mac
    out[IP].ttl -= 1
    del out[IP].chksum
    raw = bytes(Ether(bytes(out)))
    # the router trims Ethernet padding: the frame ends where the IP datagram ends
    return raw[: 14 + out[IP].len] if out[IP].len is not None else raw


def fwd6(pkt, nh):
    port, mac, _ = NH[nh]
    out = pkt.copy()
    out[Ether].src = R[port][1]
    out[Ether].dst = mac
    out[IPv6].hlim -= 1
    return bytes(out)


BCAST = "ff:ff:ff:ff:ff:ff"


def slow_up():
    """What the router announces when its interfaces come up: per port."""
    out = {0: [], 1: [], 2: []}
    v6 = {0: "2001:db8::1", 1: "2001:db8:1::1"}
    for port, (_, mac, a4, _) in R.items():
        out[port].append(Ether(dst=BCAST, src=mac) / ARP(op=1, hwsrc=mac, psrc=a4,
                                                           hwdst="00:00:00:00:00:00", pdst=a4))
        if port in v6:
            out[port].append(Ether(dst="33:33:00:00:00:01", src=mac) /
                             IPv6(src=v6[port], dst="ff02::1", hlim=255) /
                             ICMPv6ND_NA(R=1, S=0, O=1, tgt=v6[port]) /
                             ICMPv6NDOptDstLLAddr(lladdr=mac))
    return out


def icmp4_err(pkt, typ, code, src="192.0.2.1"):
    """ICMP error the router sends on port 0 about pkt (as received, Ethernet padding cut)."""
    ip = bytes(pkt[IP])[: pkt[IP].len]
    return (Ether(dst=H0, src=R[0][1]) / IP(src=src, dst=pkt[IP].src, ttl=64, id=0) /
            ICMP(type=typ, code=code) / Raw(ip[:548]))


def icmp6_err(pkt, layer):
    ip = bytes(pkt[IPv6])
    return (Ether(dst=H0, src=R[0][1]) / IPv6(src=R[0][3], dst=pkt[IPv6].src, hlim=64) /
            layer / Raw(ip[:1232]))


def norm(raw):
    """A router-originated frame with the IPv4 identification zeroed (it is a counter) and
    the header checksum recomputed, so that it compares with its expectation."""
    p = Ether(raw)
    if IP in p:
        p[IP].id = 0
        del p[IP].chksum
    return bytes(p).hex()


def slow_frame(raw):
    """True for what the router itself sent: ARP, or ICMP / ICMPv6 from its addresses."""
    p = Ether(raw)
    ours = {a for _, _, a4, a6 in R.values() for a in (a4, a6)}
    if ARP in p:
        return True
    if IP in p and p[IP].proto == 1 and p[IP].src in ours:
        return True
    if IPv6 in p and p[IPv6].nh == 58 and p[IPv6].src in ours:
        return True
    return False


def gen(d, nq):
    inp = {0: [], 1: [], 2: []}
    # forwarded packets per "port/queue", in the order that queue must send them
    expect = {"queues": nq, "out": {"%d/%d" % (p, q): [] for p in R for q in range(nq)},
              "drop": {}, "exc": {}, "ecmp": [],
              "slow": {p: [norm(bytes(x)) for x in v] for p, v in slow_up().items()}}

    def queue(port):
        """The queue (worker) of the next packet received on port."""
        return len(inp[port]) % nq

    def slow(port, frame):
        expect["slow"][port].append(norm(bytes(frame)))

    def e0(payload=b"x" * 18):
        return Ether(src=H0, dst=R[0][1])

    def add(port, pkt, kind, what=None, nh=None, icmp=None):
        q = queue(port)
        inp[port].append(pkt)
        if icmp is not None:  # what the router answers
            slow(0, icmp(Ether(bytes(pkt))))
        if kind == "fwd4":
            expect["out"]["%d/%d" % (NH[nh][0], q)].append(fwd4(pkt, nh).hex())
        elif kind == "fwd6":
            expect["out"]["%d/%d" % (NH[nh][0], q)].append(fwd6(pkt, nh).hex())
        elif kind == "drop":
            expect["drop"][what] = expect["drop"].get(what, 0) + 1
        elif kind == "exc":
            expect["exc"][what] = expect["exc"].get(what, 0) + 1

    udp = UDP(sport=1234, dport=5678) / Raw(b"nprouter-e2e-payload")
    # forwarded
    add(0, e0() / IP(src="192.0.2.2", dst="10.1.2.3", ttl=64) / udp, "fwd4", nh=1)
    add(0, e0() / IP(src="192.0.2.2", dst="10.1.200.1", ttl=64) / udp, "fwd4", nh=2)  # /17 wins
    add(0, e0() / IP(src="192.0.2.2", dst="10.1.127.255", ttl=2) / udp, "fwd4", nh=1)
    add(0, e0() / IP(src="192.0.2.2", dst="10.1.5.5", ttl=33, options=b"\x01\x01\x01\x00") / udp,
        "fwd4", nh=1)  # IPv4 options are forwarded
    add(0, e0() / IP(src="192.0.2.2", dst="10.1.6.6", flags="MF", frag=0, id=7) / udp,
        "fwd4", nh=1)  # first fragment
    add(0, e0() / IP(src="192.0.2.2", dst="10.1.6.6", flags=0, frag=100, id=7, proto=17)
        / Raw(b"tail-of-fragment"), "fwd4", nh=1)
    add(0, e0() / IP(src="192.0.2.2", dst="10.1.9.9", ttl=255) / TCP(sport=40000, dport=80,
                                                                     flags="S"), "fwd4", nh=1)
    small = e0() / IP(src="192.0.2.2", dst="10.1.7.7") / UDP(sport=1, dport=2)  # 42 bytes
    small = Ether(bytes(small) + b"\x00" * 18)  # padded to 60 on the wire
    add(0, small, "fwd4", nh=1)
    for ttl in (64, 128, 200, 17):  # checksum edge values come from varied TTL/id
        for ident in (0, 0xFFFF, 0x1234):
            add(0, e0() / IP(src="192.0.2.9", dst="10.1.3.4", ttl=ttl, id=ident) / udp,
                "fwd4", nh=1)
    add(1, Ether(src=NH[1][1], dst=R[1][1]) / IP(src="198.51.100.2", dst="172.16.1.1") / udp,
        "fwd4", nh=5)  # other direction
    v6 = UDP(sport=5, dport=6) / Raw(b"v6-payload")
    add(0, e0() / IPv6(src="2001:db8::2", dst="2001:db8:100::5", hlim=64) / v6, "fwd6", nh=4)
    add(0, e0() / IPv6(src="2001:db8::2", dst="2001:db8:100:8000::9", hlim=2) / v6, "fwd6", nh=4)
    # ECMP: 64 flows, each sent 3 times: every flow must stay on one member, both used
    for f in range(64):
        for _ in range(3):
            p = e0() / IP(src="192.0.2.2", dst="10.2.%d.%d" % (f // 8, f % 8 + 1)) / UDP(
                sport=10000 + f, dport=53) / Raw(b"flow")
            expect["ecmp"].append({1: fwd4(p, 1).hex(), 2: fwd4(p, 2).hex(), "flow": f,
                                   "queue": queue(0)})
            inp[0].append(p)
    # drops (a blackhole is silent); no route and unreachable routes get an ICMP error
    add(0, e0() / IP(src="192.0.2.2", dst="10.3.0.1") / udp, "drop", "BLACKHOLE")
    add(0, e0() / IP(src="192.0.2.2", dst="10.5.0.1") / udp, "exc", "UNREACHABLE",
        icmp=lambda p: icmp4_err(p, 3, 1))
    add(0, e0() / IP(src="192.0.2.2", dst="10.9.9.9") / udp, "exc", "NO_ROUTE",
        icmp=lambda p: icmp4_err(p, 3, 0))
    add(0, e0() / IPv6(src="2001:db8::2", dst="2001:db8:999::1") / v6, "exc", "NO_ROUTE",
        icmp=lambda p: icmp6_err(p, ICMPv6DestUnreach(code=0)))
    bad = bytearray(bytes(e0() / IP(src="192.0.2.2", dst="10.1.2.3") / udp))
    bad[14 + 10] ^= 0x55  # header checksum
    add(0, Ether(bytes(bad)), "drop", "BAD_CHECKSUM")
    add(0, Ether(bytes(e0() / IP(src="192.0.2.2", dst="10.1.2.3") / udp)[:14 + 10]), "drop",
        "TRUNCATED")
    longer = bytearray(bytes(e0() / IP(src="192.0.2.2", dst="10.1.2.3") / udp))
    longer[16:18] = (len(longer) - 14 + 40).to_bytes(2, "big")  # total length beyond the frame
    longer = Ether(bytes(longer))
    del longer[IP].chksum
    add(0, Ether(bytes(longer)), "drop", "BAD_LENGTH")
    ihl4 = e0() / IP(src="192.0.2.2", dst="10.1.2.3", ihl=4) / udp
    add(0, Ether(bytes(ihl4)), "drop", "BAD_IHL")
    ver5 = e0() / IP(src="192.0.2.2", dst="10.1.2.3", version=5) / udp
    add(0, Ether(bytes(ver5)), "drop", "BAD_VERSION")
    add(0, Ether(src=H0, dst="02:00:00:00:99:99") / IP(src="192.0.2.2", dst="10.1.2.3") / udp,
        "drop", "NOT_FOR_US")
    add(0, e0() / IP(src="127.0.0.1", dst="10.1.2.3") / udp, "drop", "BAD_SRC")
    add(0, e0() / IP(src="192.0.2.2", dst="127.0.0.1") / udp, "drop", "BAD_DST")
    add(0, Ether(src=H0, dst=R[0][1], type=0x88B5) / Raw(b"\x00" * 46), "drop", "BAD_ETHERTYPE")
    # exceptions, and what the slow path answers
    add(0, e0() / IP(src="192.0.2.2", dst="10.1.2.3", ttl=1) / udp, "exc", "TTL_EXPIRED",
        icmp=lambda p: icmp4_err(p, 11, 0))
    add(0, e0() / IP(src="192.0.2.2", dst="10.1.2.3", ttl=0) / udp, "exc", "TTL_EXPIRED",
        icmp=lambda p: icmp4_err(p, 11, 0))
    add(0, e0() / IPv6(src="2001:db8::2", dst="2001:db8:100::5", hlim=1) / v6, "exc",
        "TTL_EXPIRED", icmp=lambda p: icmp6_err(p, ICMPv6TimeExceeded(code=0)))
    add(0, e0() / IP(src="192.0.2.2", dst="192.0.2.1") / udp, "exc", "LOCAL",
        icmp=lambda p: icmp4_err(p, 3, 3))  # UDP to the router: port unreachable
    add(0, e0() / IP(src="192.0.2.2", dst="198.51.100.1", ttl=1) / udp, "exc", "LOCAL",
        icmp=lambda p: icmp4_err(p, 3, 3))  # from the ingress interface's address
    add(0, e0() / IPv6(src="2001:db8::2", dst="2001:db8::1") / v6, "exc", "LOCAL",
        icmp=lambda p: icmp6_err(p, ICMPv6DestUnreach(code=4)))
    add(0, e0() / IP(src="192.0.2.2", dst="10.4.0.5") / udp, "exc", "UNRESOLVED")
    slow(1, Ether(dst=BCAST, src=R[1][1]) / ARP(op=1, hwsrc=R[1][1], psrc=R[1][2],
                                                hwdst="00:00:00:00:00:00", pdst="198.51.100.3"))
    add(0, Ether(src=H0, dst="ff:ff:ff:ff:ff:ff") / ARP(pdst="192.0.2.1", psrc="192.0.2.2",
                                                     hwsrc=H0), "exc", "ARP")
    slow(0, Ether(dst=H0, src=R[0][1]) / ARP(op=2, hwsrc=R[0][1], psrc="192.0.2.1",
                                             hwdst=H0, pdst="192.0.2.2"))

    os.makedirs(d, exist_ok=True)
    expect["rx_queue"] = {}  # "port/queue": packets that queue receives
    for p in (0, 1, 2):
        for q in range(nq):
            pkts = inp[p][q::nq]
            wrpcap(os.path.join(d, "in%d_%d.pcap" % (p, q)), pkts)
            expect["rx_queue"]["%d/%d" % (p, q)] = len(pkts)
    with open(os.path.join(d, "config.batch"), "w") as f:
        f.write(CONFIG)
    expect["rx"] = sum(len(v) for v in inp.values())
    with open(os.path.join(d, "expect.json"), "w") as f:
        json.dump(expect, f, indent=1)
    print("wrote %d packets" % expect["rx"])


def counters(log):
    """Counters the data plane printed at exit; rx per worker."""
    drop, exc, rx = {}, {}, {}
    for line in log.splitlines():
        m = re.match(r"drop (\S+)\s+(\d+)", line)
        if m:
            drop[m.group(1)] = int(m.group(2))
        m = re.match(r"exception (\S+)\s+(\d+)", line)
        if m:
            exc[m.group(1)] = int(m.group(2))
        m = re.match(r"worker (\d+) lcore \d+ rx (\d+)", line)
        if m:
            rx[int(m.group(1))] = int(m.group(2))
    return drop, exc, rx


def read_out(d, p, q):
    path = os.path.join(d, "out%d_%d.pcap" % (p, q))
    return [bytes(x).hex() for x in rdpcap(path)] if os.path.getsize(path) > 24 else []


def diff_slow(errors, where, got, want):
    if got != want:
        errors.append("%s: router-originated packets differ:" % where)
        for x in want:
            if x not in got:
                errors.append("  missing   %s" % Ether(bytes.fromhex(x)).summary())
        for x in got:
            if x not in want:
                errors.append("  unexpected %s  %s" % (Ether(bytes.fromhex(x)).summary(), x))


def check(d):
    with open(os.path.join(d, "expect.json")) as f:
        expect = json.load(f)
    nq = expect["queues"]
    errors = []
    out = {(p, q): read_out(d, p, q) for p in (0, 1, 2) for q in range(nq)}
    # the router's own packets: compared as a set per port and queue (port P's leave by
    # queue P mod N), then set aside
    for (p, q), frames in out.items():
        got = sorted(norm(bytes.fromhex(x)) for x in frames if slow_frame(bytes.fromhex(x)))
        want = sorted(expect["slow"][str(p)]) if q == p % nq else []
        diff_slow(errors, "port %d queue %d" % (p, q), got, want)
    n_slow = sum(len(v) for v in expect["slow"].values())
    remaining = {k: [x for x in v if not slow_frame(bytes.fromhex(x))] for k, v in out.items()}
    n_out = sum(len(v) for v in remaining.values())
    # ECMP packets are interleaved with the rest on ports 1 and 2 of the worker that received
    # them: take them out first. A flow's packets reach 2 or 3 workers: one member for all.
    flow_port = {}
    for e in expect["ecmp"]:
        hit = None
        for port in (1, 2):
            if e[str(port)] in remaining[(port, e["queue"])]:
                remaining[(port, e["queue"])].remove(e[str(port)])
                hit = port
                break
        if hit is None:
            errors.append("ECMP flow %d: packet not found on queue %d of port 1 or 2"
                          % (e["flow"], e["queue"]))
            continue
        if flow_port.setdefault(e["flow"], hit) != hit:
            errors.append("ECMP flow %d: moved between ports (queue %d)" % (e["flow"], e["queue"]))
    used = set(flow_port.values())
    if used != {1, 2}:
        errors.append("ECMP: flows used ports %s, expected both 1 and 2" % sorted(used))
    for (p, q), got in sorted(remaining.items()):
        want = expect["out"]["%d/%d" % (p, q)]
        if want != got:
            errors.append("port %d queue %d: expected %d packets, got %d"
                          % (p, q, len(want), len(got)))
            for i, (a, b) in enumerate(zip(want, got)):
                if a != b:
                    errors.append("  first difference at packet %d:\n    want %s\n    got  %s" %
                                  (i, a, b))
                    break
    with open(os.path.join(d, "dataplane.log")) as f:
        drop, exc, rx = counters(f.read())
    want_rx = {w: sum(expect["rx_queue"]["%d/%d" % (p, w)] for p in (0, 1, 2))
               for w in range(nq)}
    if rx != want_rx:
        errors.append("rx per worker %s, expected %s" % (rx, want_rx))
    if drop != expect["drop"]:
        errors.append("drop counters %s, expected %s" % (drop, expect["drop"]))
    if exc != expect["exc"]:
        errors.append("exception counters %s, expected %s" % (exc, expect["exc"]))
    # what show stats said before the stop: per port and queue, as the driver counts them
    with open(os.path.join(d, "stats.json")) as f:
        st = json.load(f)
    for port in st["ports"]:
        for qs in port["queues"]:
            key = "%d/%d" % (port["port_id"], qs["queue"])
            if qs["ipackets"] != expect["rx_queue"][key]:
                errors.append("show stats: port %s queue %d received %d, expected %d"
                              % (port["port_id"], qs["queue"], qs["ipackets"],
                                 expect["rx_queue"][key]))
        if len(port["queues"]) != nq:
            errors.append("show stats: port %s has %d queues, expected %d"
                          % (port["port_id"], len(port["queues"]), nq))
    if [w["rx_pkts"] for w in st["workers"]] != [want_rx[w] for w in range(nq)]:
        errors.append("show stats: workers received %s, expected %s"
                      % ([w["rx_pkts"] for w in st["workers"]], want_rx))
    print("%d queue(s): checked %d output packets (%d from the router itself), %d drop reasons, "
          "%d exception reasons, ECMP %d flows on %s, rx per worker %s"
          % (nq, n_out + n_slow, n_slow, len(drop), len(exc), len(flow_port), sorted(used),
             [rx.get(w) for w in range(nq)]))
    for e in errors:
        print("FAIL:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in ("gen", "check"):
        print(__doc__)
        sys.exit(2)
    if sys.argv[1] == "gen":
        gen(sys.argv[2], int(sys.argv[3]) if len(sys.argv) == 4 else 1)
    else:
        sys.exit(check(sys.argv[2]))
