#!/usr/bin/python3
"""Write an FPM stream, as FRR 8.4's zebra (dplane_fpm_nl) does, to an FPM bridge's TCP port.

  fpm_feed.py --connect ADDR:PORT [--script FILE|-] [--linger S] [--expect-close]

One command a line ('#' comments). Interfaces are netdev names of this network namespace
(if_nametoindex) or numbers.

  nh ID via GW dev IF [onlink]      a next-hop object (NHA_GATEWAY + NHA_OIF)
  nh ID dev IF                      an interface next-hop object
  nh ID blackhole
  nh ID group ID[:W] ID[:W] ...     a group (weights 1..256)
  delnh ID
  route PFX [proto P] [TYPE] NEXTHOPS
        P: a number or bgp, ospf, isis, rip, static, kernel, zebra (default bgp)
        TYPE: blackhole, unreachable, prohibit (no next hops then)
        NEXTHOPS: nhid ID | via GW dev IF [onlink] | dev IF | multipath GW@IF[:W] ...
  update PFX ...                    RTM_DELROUTE + RTM_NEWROUTE in one frame (as route)
  del PFX                           RTM_DELROUTE as zebra sends it (no type, no next hop)
  bad-attr PFX                      a frame: a valid RTM_DELROUTE of PFX, then an
                                    RTM_NEWROUTE whose attribute overruns it (malformed)
  bad-header                        a frame header of version 2: the stream is broken
  mpls                              an MPLS route (AF_MPLS), skipped by the bridge
  sleep S

Each line is sent as soon as it is read, so that a test can keep the connection open and
write commands through a FIFO as it goes; the connection closes at the end of the script
(--linger: S seconds after it). --expect-close: exit 0 only if the bridge closes the
connection (after a broken stream).

The encoder functions (route_msg, nexthop_msg, frame) are used by tools/bench/fpm_bench.py.
"""
import argparse
import ipaddress
import os
import socket
import struct
import sys
import time

RTM_NEWROUTE, RTM_DELROUTE, RTM_NEWNEXTHOP, RTM_DELNEXTHOP = 24, 25, 104, 105
NLM_F_REQUEST, NLM_F_CREATE, NLM_F_REPLACE = 0x1, 0x400, 0x100
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY = 1, 4, 5, 6
RTA_MULTIPATH, RTA_TABLE, RTA_VIA, RTA_NH_ID = 9, 15, 18, 30
NHA_ID, NHA_GROUP, NHA_GROUP_TYPE, NHA_BLACKHOLE, NHA_OIF, NHA_GATEWAY = 1, 2, 3, 4, 5, 6
RTN = {"unicast": 1, "blackhole": 6, "unreachable": 7, "prohibit": 8}
PROTO = {"bgp": 186, "ospf": 188, "isis": 187, "rip": 189, "static": 196, "kernel": 2,
         "zebra": 11}
RTNH_F_ONLINK = 4
AF_INET, AF_INET6, AF_MPLS = 2, 10, 28


def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, t) + payload + b"\0" * ((4 - n % 4) % 4)


def nlmsg(t, flags, body):
    return struct.pack("=IHHII", 16 + len(body), t, flags, 0, 0) + body


def addr_bytes(a):
    return ipaddress.ip_address(a).packed


def route_msg(prefix, delete=False, proto=186, rtype="unicast", table=254, nh_id=None, gw=None,
              oif=None, onlink=False, multipath=None):
    """One RTM_NEWROUTE / RTM_DELROUTE as zebra builds it. multipath: [(gw, oif, weight)]."""
    net = ipaddress.ip_network(prefix)
    fam = AF_INET if net.version == 4 else AF_INET6
    rtype_v = 0 if delete else RTN[rtype]
    flags = RTNH_F_ONLINK if onlink else 0
    scope = 253 if (gw is None and multipath is None and nh_id is None and oif) else 0
    body = struct.pack("=BBBBBBBBI", fam, net.prefixlen, 0, 0, table if table < 256 else 252,
                       0 if delete else proto, scope, rtype_v, flags)
    body += attr(RTA_TABLE, struct.pack("=I", table))
    body += attr(RTA_DST, net.network_address.packed)
    body += attr(RTA_PRIORITY, struct.pack("=I", 20))
    if not delete and rtype == "unicast":
        if nh_id is not None:
            body += attr(RTA_NH_ID, struct.pack("=I", nh_id))
        elif multipath is not None:
            mp = b""
            for g, o, w in multipath:
                a = b""
                if g is not None:
                    ga = ipaddress.ip_address(g)
                    if ga.version == 6 and net.version == 4:
                        a = attr(RTA_VIA, struct.pack("=H", AF_INET6) + ga.packed)
                    else:
                        a = attr(RTA_GATEWAY, ga.packed)
                mp += struct.pack("=HBBi", 8 + len(a), 0, w - 1, o) + a
            body += attr(RTA_MULTIPATH, mp)
        else:
            if gw is not None:
                ga = ipaddress.ip_address(gw)
                if ga.version == 6 and net.version == 4:
                    body += attr(RTA_VIA, struct.pack("=H", AF_INET6) + ga.packed)
                else:
                    body += attr(RTA_GATEWAY, ga.packed)
            if oif is not None:
                body += attr(RTA_OIF, struct.pack("=I", oif))
    t = RTM_DELROUTE if delete else RTM_NEWROUTE
    f = NLM_F_REQUEST if delete else NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE
    return nlmsg(t, f, body)


def nexthop_msg(nh_id, delete=False, gw=None, oif=None, onlink=False, blackhole=False,
                group=None, proto=11):
    """One RTM_NEWNEXTHOP / RTM_DELNEXTHOP. group: [(id, weight)]."""
    fam = 0
    if gw is not None:
        fam = AF_INET if ipaddress.ip_address(gw).version == 4 else AF_INET6
    elif group is None and not blackhole:
        fam = AF_INET
    flags = RTNH_F_ONLINK if onlink else 0
    body = struct.pack("=BBBBI", fam, 0, proto, 0, flags)
    body += attr(NHA_ID, struct.pack("=I", nh_id))
    if not delete:
        if group is not None:
            body += attr(NHA_GROUP, b"".join(struct.pack("=IBBH", i, w - 1, 0, 0)
                                             for i, w in group))
            body += attr(NHA_GROUP_TYPE, struct.pack("=H", 0))
        elif blackhole:
            body += attr(NHA_BLACKHOLE, b"")
        else:
            if gw is not None:
                body += attr(NHA_GATEWAY, addr_bytes(gw))
            if oif is not None:
                body += attr(NHA_OIF, struct.pack("=I", oif))
    t = RTM_DELNEXTHOP if delete else RTM_NEWNEXTHOP
    return nlmsg(t, NLM_F_REQUEST if delete else NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE,
                 body)


def frame(*msgs):
    """One FPM frame: version 1, type 1 (netlink), length big-endian, header included."""
    body = b"".join(m + b"\0" * ((4 - len(m) % 4) % 4) for m in msgs)
    return struct.pack(">BBH", 1, 1, 4 + len(body)) + body


def ifindex(name):
    """a netdev of this network namespace (if_nametoindex), or a number"""
    if name.isdigit():
        return int(name)
    return socket.if_nametoindex(name)


def parse_route(words):
    """words after the prefix → route_msg keyword arguments"""
    kw = {}
    i = 0
    while i < len(words):
        w = words[i]
        if w == "proto":
            p = words[i + 1]
            kw["proto"] = int(p) if p.isdigit() else PROTO[p]
            i += 2
        elif w in ("blackhole", "unreachable", "prohibit"):
            kw["rtype"] = w
            i += 1
        elif w == "nhid":
            kw["nh_id"] = int(words[i + 1])
            i += 2
        elif w == "via":
            kw["gw"] = words[i + 1]
            i += 2
        elif w == "dev":
            kw["oif"] = ifindex(words[i + 1])
            i += 2
        elif w == "onlink":
            kw["onlink"] = True
            i += 1
        elif w == "table":
            kw["table"] = int(words[i + 1])
            i += 2
        elif w == "multipath":
            mp = []
            for spec in words[i + 1:]:
                g, rest = spec.split("@")
                dev, _, wt = rest.partition(":")
                mp.append((g, ifindex(dev), int(wt) if wt else 1))
            kw["multipath"] = mp
            i = len(words)
        else:
            raise SystemExit("fpm_feed: bad route word %r" % w)
    return kw


def parse_nh(words):
    nid = int(words[0])
    kw = {}
    i = 1
    while i < len(words):
        w = words[i]
        if w == "via":
            kw["gw"] = words[i + 1]
            i += 2
        elif w == "dev":
            kw["oif"] = ifindex(words[i + 1])
            i += 2
        elif w == "onlink":
            kw["onlink"] = True
            i += 1
        elif w == "blackhole":
            kw["blackhole"] = True
            i += 1
        elif w == "group":
            g = []
            for spec in words[i + 1:]:
                a, _, wt = spec.partition(":")
                g.append((int(a), int(wt) if wt else 1))
            kw["group"] = g
            i = len(words)
        else:
            raise SystemExit("fpm_feed: bad nh word %r" % w)
    return nid, kw


def bad_attr_frame(prefix):
    """A valid RTM_DELROUTE, then an RTM_NEWROUTE whose RTA_OIF claims more bytes than the
    message has: the decoder reports it and the bridge must drop the whole frame."""
    good = route_msg(prefix, delete=True)
    net = ipaddress.ip_network(prefix)
    fam = AF_INET if net.version == 4 else AF_INET6
    body = struct.pack("=BBBBBBBBI", fam, net.prefixlen, 0, 0, 254, 186, 0, 1, 0)
    body += attr(RTA_DST, net.network_address.packed)
    body += struct.pack("=HH", 200, RTA_OIF) + struct.pack("=I", 1)
    return frame(good, nlmsg(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_CREATE, body))


def mpls_frame():
    body = struct.pack("=BBBBBBBBI", AF_MPLS, 20, 0, 0, 254, 11, 0, 1, 0)
    body += attr(RTA_DST, struct.pack(">I", 100 << 12 | 1 << 8))
    return frame(nlmsg(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_CREATE, body))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--connect", required=True, help="ADDR:PORT or [ADDR6]:PORT")
    ap.add_argument("--script", default="-")
    ap.add_argument("--linger", type=float, default=0.0)
    ap.add_argument("--expect-close", action="store_true")
    a = ap.parse_args()

    host, _, port = a.connect.rpartition(":")
    host = host.strip("[]")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    for _ in range(100):
        try:
            s.connect((host, int(port)))
            break
        except (ConnectionRefusedError, FileNotFoundError):
            time.sleep(0.1)
    else:
        raise SystemExit("fpm_feed: cannot connect to %s" % a.connect)

    src = sys.stdin if a.script == "-" else open(a.script)
    out = bytearray()

    def send():
        if out:
            s.sendall(bytes(out))
            out.clear()

    for raw in src:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        w = line.split()
        cmd = w[0]
        if cmd == "nh":
            nid, kw = parse_nh(w[1:])
            out += frame(nexthop_msg(nid, **kw))
        elif cmd == "delnh":
            out += frame(nexthop_msg(int(w[1]), delete=True))
        elif cmd == "route":
            out += frame(route_msg(w[1], **parse_route(w[2:])))
        elif cmd == "update":
            out += frame(route_msg(w[1], delete=True), route_msg(w[1], **parse_route(w[2:])))
        elif cmd == "del":
            out += frame(route_msg(w[1], delete=True))
        elif cmd == "bad-attr":
            out += bad_attr_frame(w[1])
        elif cmd == "bad-header":
            out += struct.pack(">BBH", 2, 1, 8) + b"\0" * 4
        elif cmd == "mpls":
            out += mpls_frame()
        elif cmd == "sleep":
            send()
            time.sleep(float(w[1]))
        else:
            raise SystemExit("fpm_feed: unknown command %r" % cmd)
        send()
    if a.expect_close:
        s.settimeout(5)
        try:
            closed = s.recv(1) == b""
        except ConnectionResetError:
            closed = True
        except socket.timeout:
            closed = False
        s.close()
        if not closed:
            raise SystemExit("fpm_feed: the bridge did not close the connection")
        return
    if a.linger > 0:
        time.sleep(a.linger)
    s.close()


if __name__ == "__main__":
    sys.exit(main())
