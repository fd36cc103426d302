#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed inputs of the fuzz harnesses: tests/fuzz/seeds/<harness>/<name>.

Each seed is a valid input that reaches a real path (a configured router forwarding, a batch
of records, a configuration file, a CLI batch, an FPM stream); libFuzzer starts from them
(tools/fuzz.sh) and the gcc build replays them (meson test --suite fuzz). Their formats are
the ones the harnesses' header comments describe. Run from anywhere; rewrites every seed:

    python3 tests/fuzz/gen_seeds.py
"""
import ipaddress
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ABI = 2

# enum npr_msg_type (include/npr/proto.h)
HELLO, IFACE_SET, IFACE_DEL, ADDR_ADD, ADDR_DEL, NEIGH_SET, NEIGH_DEL, NH_SET, NH_DEL = range(1, 10)
GROUP_SET, GROUP_DEL, R4_ADD, R4_REPLACE, R4_DEL, R6_ADD, R6_REPLACE, R6_DEL = range(10, 18)
BATCH_BEGIN, BATCH_COMMIT, BATCH_ABORT, SYNC_BEGIN, SYNC_END, STATS_REQ, DUMP_REQ = range(18, 25)
LOOKUP, STATS_CLEAR = 25, 26
ORIGIN_CONFIG, ORIGIN_CLI, ORIGIN_ZEBRA = 1, 2, 3
NH_FORWARD, NH_BLACKHOLE, NH_UNREACHABLE, NH_PROHIBIT = 1, 2, 3, 4
TARGET_GROUP = 0x40000000
AF4, AF6 = 4, 6


def write(harness, name, data):
    d = os.path.join(HERE, "seeds", harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pad8(b):
    return b + bytes(-len(b) % 8)


def msg(mtype, body=b""):
    body = pad8(body) if (16 + len(body)) % 8 else body
    return struct.pack("<HHIII", mtype, ABI, 16 + len(body), 0, 0) + body


def a16(s):
    a = ipaddress.ip_address(s)
    return (a.packed + bytes(12)) if a.version == 4 else a.packed


def fam(s):
    return AF6 if ":" in s else AF4


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def name16(s):
    return s.encode().ljust(16, b"\0")


def hello(origin, name="fuzz"):
    return msg(HELLO, struct.pack("<B3xI", origin, 1234) + name16(name))


def iface(ifid, port, mtu, up, name, m="00:00:00:00:00:00"):
    return msg(IFACE_SET, struct.pack("<HHHH", ifid, port, mtu, 1 if up else 0) + mac(m) +
               bytes(2) + name16(name))


def iface_del(ifid):
    return msg(IFACE_DEL, struct.pack("<H6x", ifid))


def addr(t, ifid, a, plen):
    return msg(t, struct.pack("<HBB4x", ifid, fam(a), plen) + a16(a))


def neigh(t, ifid, a, m="00:00:00:00:00:00"):
    return msg(t, struct.pack("<HBx", ifid, fam(a)) + mac(m) + bytes(6) + a16(a))


def nh(i, kind, ifid=0, gw=None, m=None):
    return msg(NH_SET, struct.pack("<IBBH", i, kind, fam(gw) if gw else 0, ifid) +
               (mac(m) if m else bytes(6)) + struct.pack("<H", 1 if m else 0) +
               (a16(gw) if gw else bytes(16)))


def nh_del(t, i):
    return msg(t, struct.pack("<I4x", i))


def group(gid, members):
    return msg(GROUP_SET, struct.pack("<IHH", gid, len(members), 0) +
               b"".join(struct.pack("<IHH", n, w, 0) for n, w in members))


def routes(t, entries):
    """entries: (prefix/len, target[, distance])"""
    six = t >= R6_ADD
    body = struct.pack("<II", len(entries), 0)
    for e in entries:
        net = ipaddress.ip_network(e[0])
        dist = e[2] if len(e) > 2 else 0
        if six:
            body += net.network_address.packed + struct.pack("<BBBBI", net.prefixlen, 0, 0,
                                                             dist, e[1])
        else:
            body += net.network_address.packed + struct.pack("<BBBBI", net.prefixlen, 0, 0,
                                                             dist, e[1])
    return msg(t, body)


def simple(t):
    return msg(t)


def dump(kind, flags=0):
    return msg(DUMP_REQ, struct.pack("<II", kind, flags))


def lookup(a):
    return msg(LOOKUP, struct.pack("<B7x", fam(a)) + a16(a))


# The router the frame harness programs (tests/fuzz/fuzz_fwd.c says the same in C).
def topology():
    return [
        hello(ORIGIN_CONFIG, "apply"),
        iface(0, 0, 1500, True, "lan"),
        iface(1, 1, 1400, True, "wan"),
        iface(2, 2, 9000, True, "wan2"),
        addr(ADDR_ADD, 0, "192.0.2.1", 24),
        addr(ADDR_ADD, 0, "2001:db8::1", 64),
        addr(ADDR_ADD, 1, "198.51.100.1", 24),
        addr(ADDR_ADD, 1, "2001:db8:1::1", 64),
        addr(ADDR_ADD, 2, "203.0.113.1", 24),
        neigh(NEIGH_SET, 1, "198.51.100.2", "02:bb:00:00:00:02"),
        neigh(NEIGH_SET, 2, "2001:db8:2::2", "02:cc:00:00:00:02"),
        nh(1, NH_FORWARD, 1, "198.51.100.2"),
        nh(2, NH_FORWARD, 1, "2001:db8:1::2"),
        nh(3, NH_FORWARD, 2, "203.0.113.2", "02:cc:00:00:00:03"),
        nh(4, NH_UNREACHABLE),
        nh(5, NH_PROHIBIT),
        nh(6, NH_BLACKHOLE),
        group(1, [(1, 1), (3, 2)]),
        routes(R4_ADD, [("10.0.0.0/8", 1), ("10.5.0.0/16", 4), ("10.6.0.0/16", 5),
                        ("10.7.0.0/16", 6), ("172.16.0.0/12", TARGET_GROUP | 1)]),
        routes(R6_ADD, [("2001:db8:100::/48", 2), ("::/0", 2)]),
    ]


# ---- fuzz_cfg: steps (control byte: session | op << 3), records of 8-byte units ----

def cfg_rec(sid, rec, op=0):
    assert len(rec) % 8 == 0
    return bytes([sid | op << 3]) + struct.pack("<H", len(rec) // 8) + rec


def cfg_seeds():
    topo = b"".join(cfg_rec(0, r) for r in topology())
    dumps = b"".join(cfg_rec(0, dump(k, 1)) for k in range(1, 12))
    write("fuzz_cfg", "topology", topo + dumps + cfg_rec(0, lookup("10.1.2.3")) +
          cfg_rec(0, lookup("2001:db8:100::5")) + cfg_rec(0, simple(STATS_REQ)))
    # a batch of another origin, a session that tries to write meanwhile, a failed batch
    batch = topo + cfg_rec(1, hello(ORIGIN_CLI, "cli")) + cfg_rec(1, simple(BATCH_BEGIN))
    batch += cfg_rec(1, nh(1, NH_FORWARD, 0, "192.0.2.9", "02:aa:00:00:00:09"))
    batch += cfg_rec(1, routes(R4_ADD, [("10.0.0.0/8", 1, 1), ("192.168.0.0/16", 1)]))
    batch += cfg_rec(2, routes(R4_DEL, [("10.0.0.0/8", 0)]))
    batch += cfg_rec(1, simple(BATCH_COMMIT))
    batch += cfg_rec(1, simple(BATCH_BEGIN)) + cfg_rec(1, nh_del(NH_DEL, 1))
    batch += cfg_rec(1, routes(R6_ADD, [("2001:db8:200::/48", 9)])) + cfg_rec(1, simple(BATCH_ABORT))
    batch += cfg_rec(1, simple(BATCH_BEGIN)) + cfg_rec(1, iface(3, 5, 1500, False, "x"))
    batch += bytes([1 | 24 << 3])  # the session dies: its batch is aborted
    batch += cfg_rec(1, routes(R4_DEL, [("192.168.0.0/16", 0)]))
    batch += cfg_rec(1, simple(BATCH_ABORT))
    write("fuzz_cfg", "batch", batch)
    # origins on one prefix, a resync that sweeps what was not re-sent
    sync = topo + cfg_rec(2, hello(ORIGIN_ZEBRA, "fpm"))
    sync += cfg_rec(2, nh(1, NH_FORWARD, 2, "203.0.113.7"))
    sync += cfg_rec(2, routes(R4_ADD, [("10.0.0.0/8", 1, 20), ("198.51.100.0/24", 1)]))
    sync += cfg_rec(2, routes(R4_REPLACE, [("10.0.0.0/8", 1, 200)]))
    sync += cfg_rec(0, simple(SYNC_BEGIN)) + cfg_rec(0, iface(0, 0, 1500, True, "lan"))
    sync += cfg_rec(0, iface(1, 1, 1400, True, "wan")) + cfg_rec(0, simple(SYNC_END))
    sync += cfg_rec(2, routes(R4_DEL, [("198.51.100.0/24", 0)]))
    sync += cfg_rec(0, dump(7, 1)) + cfg_rec(2, group(1, [(1, 3)]))
    sync += cfg_rec(2, routes(R4_ADD, [("10.0.0.0/8", TARGET_GROUP | 1)]))
    sync += cfg_rec(2, nh_del(GROUP_DEL, 1)) + cfg_rec(2, nh_del(NH_DEL, 1))
    write("fuzz_cfg", "sync", sync)
    # the slow path learns and forgets neighbours; deletions
    learn = topo + bytes([27 << 3, 0, 0]) + a16("192.0.2.7") + mac("02:aa:00:00:00:07")
    learn += bytes([27 << 3, 1, 1]) + a16("2001:db8:1::2") + mac("02:bb:00:00:00:09")
    learn += cfg_rec(0, dump(11, 1)) + bytes([26 << 3])
    learn += bytes([29 << 3, 0, 0]) + a16("192.0.2.7")
    learn += cfg_rec(0, neigh(NEIGH_DEL, 1, "198.51.100.2"))
    learn += cfg_rec(0, addr(ADDR_DEL, 0, "192.0.2.1", 24))
    learn += cfg_rec(0, iface(1, 1, 1400, False, "wan"))
    learn += cfg_rec(0, routes(R4_DEL, [("10.0.0.0/8", 0), ("10.5.0.0/16", 0)]))
    learn += cfg_rec(0, iface_del(2)) + cfg_rec(0, simple(STATS_CLEAR))
    write("fuzz_cfg", "neigh", learn)


# ---- fuzz_fpm: two bytes of split point, then FRR zebra's dplane_fpm_nl stream ----

RTM_NEWROUTE, RTM_DELROUTE, RTM_NEWNEXTHOP, RTM_DELNEXTHOP = 24, 25, 104, 105
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_MULTIPATH, RTA_TABLE, RTA_NH_ID = 1, 4, 5, 6, 9, 15, 30
NHA_ID, NHA_GROUP, NHA_BLACKHOLE, NHA_OIF, NHA_GATEWAY = 1, 2, 4, 5, 6
AF_INET, AF_INET6 = 2, 10


def nlattr(t, payload):
    return pad4(struct.pack("<HH", 4 + len(payload), t) + payload)


def pad4(b):
    return b + bytes(-len(b) % 4)


def nlmsg(t, body):
    flags = 0x401 | (0x100 if t in (RTM_NEWROUTE, RTM_NEWNEXTHOP) else 0)
    body = pad4(body)
    return struct.pack("<IHHII", 16 + len(body), t, flags, 0, 0) + body


def fpm_frame(*msgs):
    body = b"".join(msgs)
    return struct.pack(">BBH", 1, 1, 4 + len(body)) + body


def rtmsg(t, dst, plen, rtype=1, attrs=b""):
    a = ipaddress.ip_address(dst)
    af = AF_INET if a.version == 4 else AF_INET6
    proto = 9 if t == RTM_DELROUTE else 186
    body = struct.pack("<BBBBBBBBI", af, plen, 0, 0, 254, proto, 0, rtype, 0)
    body += nlattr(RTA_DST, a.packed) + nlattr(RTA_PRIORITY, struct.pack("<I", 20))
    return nlmsg(t, body + attrs)


def rta_gw(s):
    return nlattr(RTA_GATEWAY, ipaddress.ip_address(s).packed)


def rta32(t, v):
    return nlattr(t, struct.pack("<I", v))


def nhmsg(t, af, nhid, attrs=b""):
    return nlmsg(t, struct.pack("<BBBBI", af, 0, 0 if t == RTM_DELNEXTHOP else 11, 0, 0) +
                 rta32(NHA_ID, nhid) + attrs)


def fpm_seeds():
    def seed(name, stream, split=None):
        k = len(stream) // 2 if split is None else split
        write("fuzz_fpm", name, struct.pack("<H", k) + stream)

    seed("routes", fpm_frame(rtmsg(RTM_NEWROUTE, "10.1.0.0", 16, attrs=rta_gw("192.0.2.1") +
                                   rta32(RTA_OIF, 3))) +
         fpm_frame(rtmsg(RTM_NEWROUTE, "2001:db8:1::", 48, attrs=rta_gw("fe80::1") +
                         rta32(RTA_OIF, 2))) +
         fpm_frame(rtmsg(RTM_DELROUTE, "10.1.0.0", 16),
                   rtmsg(RTM_NEWROUTE, "10.1.0.0", 16, attrs=rta32(RTA_OIF, 4))) +
         fpm_frame(rtmsg(RTM_NEWROUTE, "10.2.0.0", 16, rtype=6)))
    hop = lambda ifx, hops, g: pad4(struct.pack("<HBBi", 8 + len(rta_gw(g)), 0, hops, ifx) +
                                    rta_gw(g))
    mp = nlattr(RTA_MULTIPATH, hop(2, 0, "192.0.2.1") + hop(3, 4, "192.0.2.2"))
    seed("multipath", fpm_frame(rtmsg(RTM_NEWROUTE, "198.51.100.0", 24, attrs=mp)), 7)
    grp = struct.pack("<IBBH", 1, 0, 0, 0) + struct.pack("<IBBH", 2, 3, 0, 0)
    seed("nexthops", fpm_frame(nhmsg(RTM_NEWNEXTHOP, AF_INET, 1, rta32(NHA_OIF, 2) +
                                     nlattr(NHA_GATEWAY, ipaddress.ip_address("192.0.2.1").packed))) +
         fpm_frame(nhmsg(RTM_NEWNEXTHOP, AF_INET6, 2, rta32(NHA_OIF, 3) +
                         nlattr(NHA_GATEWAY, ipaddress.ip_address("fe80::2").packed))) +
         fpm_frame(nhmsg(RTM_NEWNEXTHOP, 0, 3, nlattr(NHA_GROUP, grp))) +
         fpm_frame(nhmsg(RTM_NEWNEXTHOP, 0, 4, nlattr(NHA_BLACKHOLE, b""))) +
         fpm_frame(rtmsg(RTM_NEWROUTE, "10.9.0.0", 16, attrs=rta32(RTA_NH_ID, 3))) +
         fpm_frame(nhmsg(RTM_DELNEXTHOP, 0, 4)), 3)


# ---- fuzz_fwd: an options byte, then steps (frames on ports, time, host frames, changes) ----

PORT_MAC = ["02:00:00:00:00:10", "02:00:00:00:00:11", "02:00:00:00:00:12"]
HOST = "02:aa:00:00:00:02"   # a host on lan
GW1 = "02:bb:00:00:00:02"    # 198.51.100.2 on wan (configured neighbour)
BCAST = "ff:ff:ff:ff:ff:ff"


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def eth(dst, src, etype, payload):
    return mac(dst) + mac(src) + struct.pack("!H", etype) + payload


def ip4(src, dst, proto, payload, ttl=64, df=False, ident=0x4242):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000 if df else 0,
                    ttl, proto, 0, ipaddress.ip_address(src).packed,
                    ipaddress.ip_address(dst).packed)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def udp(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def tcp_syn(sport, dport):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, 0x02, 65535, 0, 0)


def icmp4(t, code, rest, data):
    m = struct.pack("!BBH", t, code, 0) + rest + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def ip6(src, dst, nh, payload, hlim=64):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, hlim,
                       ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed) + payload


def icmp6(src, dst, t, code, body):
    pseudo = (ipaddress.ip_address(src).packed + ipaddress.ip_address(dst).packed +
              struct.pack("!IxxxB", 4 + len(body), 58))
    m = struct.pack("!BBH", t, code, 0) + body
    return m[:2] + struct.pack("!H", csum(pseudo + m)) + m[4:]


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + mac(sha) + \
        ipaddress.ip_address(spa).packed + mac(tha) + ipaddress.ip_address(tpa).packed


def ll6(m):
    b = bytearray(mac(m))
    b[0] ^= 2
    return str(ipaddress.ip_address(b"\xfe\x80" + bytes(6) + bytes(b[:3]) + b"\xff\xfe" + bytes(b[3:])))


def solicited(a):
    b = ipaddress.ip_address(a).packed
    return str(ipaddress.ip_address(bytes.fromhex("ff0200000000000000000001ff") + b[13:])), \
        "33:33:ff:%02x:%02x:%02x" % (b[13], b[14], b[15])


def ns(src_mac, src, target):
    dst, dmac = solicited(target)
    body = bytes(4) + ipaddress.ip_address(target).packed + bytes([1, 1]) + mac(src_mac)
    return eth(dmac, src_mac, 0x86dd, ip6(src, dst, 58, icmp6(src, dst, 135, 0, body), 255))


def na(src_mac, dst_mac, src, dst, target, flags=0x60):
    body = bytes([flags, 0, 0, 0]) + ipaddress.ip_address(target).packed + bytes([2, 1]) + mac(src_mac)
    return eth(dst_mac, src_mac, 0x86dd, ip6(src, dst, 58, icmp6(src, dst, 136, 0, body), 255))


def fr(port, frame, seg=False, split=0):
    # 0x40: the harness makes the checksums right (they are already; mutations keep the bit)
    b = bytes([0x40 | port << 3 | (0x20 if seg else 0)]) + struct.pack("<H", len(frame))
    if seg and len(frame) > 128:
        b += struct.pack("<H", split)
    return b + frame


def tick(ms):
    return bytes([4]) + struct.pack("<H", ms)


def host(ifid, frame):
    return bytes([5, ifid]) + struct.pack("<H", len(frame)) + frame


BURST = bytes([3])


def fwd_seeds():
    L = PORT_MAC[0]
    pay = bytes(range(64))
    # forwarding: resolved next hop, ECMP group (flows), IPv6 over an unresolved next hop
    fwd = fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "10.1.2.3", 17, udp(1000, 53, pay))))
    for i in range(6):
        fwd += fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "172.16.0.%d" % i, 17,
                                             udp(2000 + i, 4789, pay))))
    fwd += fr(0, eth(L, HOST, 0x86dd, ip6("2001:db8::2", "2001:db8:100::9", 17,
                                          udp(1, 2, pay))), True, 20)
    fwd += BURST + fr(1, eth(PORT_MAC[1], GW1, 0x86dd,
                             ip6("2001:db8:1::2", "2001:db8::2", 17, udp(3, 4, pay))))
    # the neighbour answers the router's solicitation: the queued packet goes
    fwd += BURST + fr(1, na("02:bb:00:00:00:05", PORT_MAC[1], "2001:db8:1::2",
                            "2001:db8:1::1", "2001:db8:1::2"))
    fwd += tick(1500) + tick(5000)
    write("fuzz_fwd", "forward", bytes([0]) + fwd)
    # ICMP: echo to the router, TTL expiry, unreachable and prohibit routes, no route (v6 has
    # a default), too big with DF, fragmented without DF, v6 too big, echo v6
    big = bytes(1400)
    icmp = fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "192.0.2.1", 1,
                                         icmp4(8, 0, struct.pack("!HH", 1, 1), pay))))
    icmp += fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "10.1.2.3", 17, udp(1, 33434, pay), ttl=1)))
    icmp += fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "10.5.0.1", 17, udp(1, 2, pay))))
    icmp += fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "10.6.0.1", 6, tcp_syn(1, 80))))
    icmp += fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "8.8.8.8", 17, udp(1, 2, pay))))
    icmp += fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "10.9.9.9", 17, udp(1, 2, big), df=True)))
    icmp += fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "10.9.9.9", 17, udp(1, 2, big))), True, 300)
    icmp += fr(0, eth(L, HOST, 0x86dd, ip6("2001:db8::2", "2001:db8:100::1", 17, udp(1, 2, big))))
    icmp += fr(0, eth(L, HOST, 0x86dd, ip6("2001:db8::2", "2001:db8::1", 58,
                                           icmp6("2001:db8::2", "2001:db8::1", 128, 0,
                                                 struct.pack("!HH", 7, 1) + pay))))
    icmp += fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "192.0.2.1", 17, udp(5, 9, pay))))
    icmp += fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "192.0.2.255", 17, udp(5, 9, pay))))
    write("fuzz_fwd", "icmp", bytes([0]) + icmp + tick(1000))
    # ARP and ND: requests for the router, resolution of a host (with a queue), replies,
    # solicitation for the link-local address, gratuitous and bad ARP, aging
    nd = fr(0, eth(BCAST, HOST, 0x806, arp(1, HOST, "192.0.2.2", "00:00:00:00:00:00", "192.0.2.1")))
    nd += fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "198.51.100.77", 17, udp(1, 2, pay))))
    nd += fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "198.51.100.77", 17, udp(1, 3, pay))))
    nd += BURST + fr(1, eth(PORT_MAC[1], "02:bb:00:00:00:77", 0x806,
                            arp(2, "02:bb:00:00:00:77", "198.51.100.77", PORT_MAC[1],
                                "198.51.100.1")))
    nd += fr(0, ns(HOST, "2001:db8::2", "2001:db8::1"))
    nd += fr(0, ns(HOST, ll6(HOST), ll6(L)))
    nd += fr(0, na(HOST, "33:33:00:00:00:01", ll6(HOST), "ff02::1", "2001:db8::2"))
    nd += fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "192.0.2.99", 17, udp(1, 2, pay))))
    nd += tick(1100) + tick(1100) + tick(1100) + tick(1100) + tick(40000) + tick(40000)
    nd += fr(2, eth(BCAST, "02:cc:00:00:00:01", 0x806,
                    arp(1, "02:cc:00:00:00:01", "203.0.113.5", "00:00:00:00:00:00", "203.0.113.5")))
    write("fuzz_fwd", "neighbours", bytes([0]) + nd)
    # host ports: TCP to the router, OSPF hello, a copy of ARP; what the kernel sends
    hp = fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "192.0.2.1", 6, tcp_syn(40000, 179))))
    hp += fr(0, eth("01:00:5e:00:00:05", HOST, 0x800, ip4("192.0.2.2", "224.0.0.5", 89, pay, ttl=1)))
    hp += fr(0, eth("33:33:00:00:00:02", HOST, 0x86dd, ip6(ll6(HOST), "ff02::2", 58,
                                                          icmp6(ll6(HOST), "ff02::2", 133, 0, bytes(4)))))
    hp += fr(0, eth(BCAST, HOST, 0x806, arp(1, HOST, "192.0.2.2", "00:00:00:00:00:00", "192.0.2.1")))
    hp += BURST + host(0, eth(HOST, L, 0x800, ip4("192.0.2.1", "192.0.2.2", 6, tcp_syn(179, 40000))))
    hp += host(0, eth(HOST, L, 0x806, arp(2, L, "192.0.2.1", HOST, "192.0.2.2")))
    hp += host(1, eth(BCAST, PORT_MAC[1], 0x806, arp(1, PORT_MAC[1], "198.51.100.1",
                                                     "00:00:00:00:00:00", "198.51.100.9")))
    hp += host(0, eth(HOST, L, 0x800, ip4("192.0.2.1", "192.0.2.2", 17, udp(1, 2, bytes(1600)))))
    write("fuzz_fwd", "host", bytes([1]) + hp)
    # the configuration changes under queued packets and learnt neighbours
    ch = fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "198.51.100.50", 17, udp(1, 2, pay))))
    ch += BURST + bytes([6, 0]) + tick(10) + bytes([6, 1])
    ch += fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "10.1.1.1", 17, udp(1, 2, pay))))
    ch += BURST + bytes([6, 2]) + fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "10.1.1.1", 17,
                                                                  udp(1, 2, pay))))
    ch += BURST + bytes([6, 4]) + fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "10.1.1.1", 17,
                                                                  udp(1, 2, big))))
    ch += BURST + bytes([6, 7, 6, 8, 6, 9, 6, 10, 6, 11, 7])
    ch += fr(0, eth(L, HOST, 0x800, ip4("192.0.2.2", "172.16.1.1", 17, udp(1, 2, pay)))) + bytes([7])
    ch += tick(3000)
    write("fuzz_fwd", "changes", bytes([3]) + ch)


# ---- fuzz_yang: configuration files ----

def yang_seeds():
    conf = os.path.join(HERE, "..", "..", "conf")
    for n in sorted(os.listdir(conf)):
        if n.endswith(".json") or n.endswith(".xml"):
            with open(os.path.join(conf, n), "rb") as f:
                write("fuzz_yang", n, f.read())
    # as NETCONF sends it, and an edge of each kind
    write("fuzz_yang", "netconf.xml", b"""<?xml version="1.0"?>
<!-- saved by a NETCONF client -->
<nc:config xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0">
  <interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"
              xmlns:ianaift="urn:ietf:params:xml:ns:yang:iana-if-type"
              xmlns:npr="urn:nprouter:yang:nprouter">
    <interface>
      <name>lan</name>
      <type>ianaift:ethernetCsmacd</type>
      <npr:port>net_pcap0</npr:port>
      <ipv4 xmlns="urn:ietf:params:xml:ns:yang:ietf-ip">
        <address><ip>192.0.2.1</ip><prefix-length>24</prefix-length></address>
      </ipv4>
    </interface>
  </interfaces>
</nc:config>
""")
    write("fuzz_yang", "empty.json", b"{}\n")


# ---- fuzz_cli: batch files (the local copy has lan, wan, wan2, next hops 1 and 2) ----

def cli_seeds():
    write("fuzz_cli", "edit", b"""# every edit command a batch may hold
interface set lan0 port net_ring0 mac 02:00:00:00:00:aa mtu 1400 up
interface set wan mtu 9000
iface set x1 port 2 down
interface set lan port net_ring1
address add 192.0.2.1/24 dev lan
addr add 2001:db8::1/64 dev lan
address del 192.0.2.1/24 dev lan
neighbor set 192.0.2.7 dev lan lladdr 02:aa:00:00:00:07
neigh set fe80::7 dev wan lladdr 02:aa:00:00:00:08
neighbour del 192.0.2.7 dev lan
nexthop set 3 via 192.0.2.2 dev lan
nh set 4 via fe80::1 dev wan lladdr 02:bb:00:00:00:01
nexthop set 5 dev wan2 lladdr 02:bb:00:00:00:02
nexthop set 6 blackhole
nexthop set 7 unreachable
nexthop set 8 prohibit
group set 1 3:2 4 5:256
group set 2 1 2
route add 10.0.0.0/8 nexthop 3
route add 10.1.0.0/16 group 1
route add 10.2.0.0/16 via 192.0.2.9 dev lan
route add 10.3.0.0/16 via 192.0.2.9 dev lan
route add 2001:db8:100::/48 via fe80::2 dev wan lladdr 02:bb:00:00:00:09
route add 0.0.0.0/0 blackhole
route add ::/0 unreachable
route replace 10.0.0.0/8 prohibit
route del 10.3.0.0/16
route delete 2001:db8:100::/48
group del 2
nexthop del 8
interface del x1

""")
    write("fuzz_cli", "bad", b"""route add 10.0.0.1/8 nexthop 3
route add 10.0.0.0/8 nexthop 99
interface set lan port net_ring9
group set 3 1:0 2:999
route get 10.0.0.1
show routes
address add 192.0.2.300/24 dev lan
nexthop set 9 via 192.0.2.2 dev nosuch
route add 10.9.0.0/16 via 192.0.2.2\r
\t  route   add  10.8.0.0/16   nexthop   1   # trailing comment
""")


# ---- fuzz_load: an options byte, then a route file, plain or gzip ----

def load_seeds():
    import gzip
    text = b"""# prefix [next hop id, or with --nexthops any number]
10.0.0.0/8 1
192.0.2.0/24\t2
2001:db8::/32 7
0.0.0.0/0 3 # default

::/0 4
"""
    write("fuzz_load", "ids", bytes([0]) + text)
    write("fuzz_load", "list", bytes([1]) + b"1.0.0.0/24 13335\n2001:db8:1::/48\n8.8.8.0/24\n")
    write("fuzz_load", "gzip", bytes([0]) + gzip.compress(text, mtime=0))
    write("fuzz_load", "bad", bytes([0]) + b"10.0.0.1/8 1\n10.0.0.0/8\n10.0.0.0/33 1\n"
          b"10.0.0.0/8 1 2\n10.0.0.0/8 0\n" + b"1" * 600 + b"\n10.1.0.0/16 99999999999\n")


def main():
    load_seeds()
    cfg_seeds()
    fpm_seeds()
    fwd_seeds()
    yang_seeds()
    cli_seeds()
    return 0


if __name__ == "__main__":
    sys.exit(main())
