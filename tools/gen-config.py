#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Turn the BGP tables in ../shared/data into a valid nprouter YANG configuration of any size.

The configuration uses the IETF models (ietf-interfaces, ietf-ip, ietf-routing static routes)
and the nprouter augment, as `nprouter-control apply` takes it:

  - PORTS Ethernet interfaces port0..portK-1, bound to DPDK devices PORT_PREFIX0.. (net_pcap0,
    ...), each with an IPv4 /24 from 100.64.0.0/10 and an IPv6 /64 from fd00::/8, and GATEWAYS
    static neighbours per port (the gateways, so that every next hop is resolved);
  - ROUTES static routes, the first ones of the IPv4 BGP view and of the IPv6 BGP view (in the
    proportion --ipv6-share), each sent to a gateway chosen by its origin AS
    (AS mod the number of gateways); a share of them (--ecmp-share, chosen by AS too) get a
    weighted next-hop list of two gateways on different ports instead.
  - Prefixes that overlap the router's own subnets are skipped, so every route is valid.

--perturb N changes the gateway of N routes spread over the table (deterministically): applying
the perturbed file after the plain one must change exactly those N routes.

Python standard library only.
"""
import argparse
import gzip
import ipaddress
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("NPR_DATA_DIR", os.path.join(HERE, "..", "..", "shared", "data"))


def synthetic_table(version, limit):
    """limit distinct (prefix, AS) pairs when no BGP table is there: IPv4 /24s from 1.0.0.0,
    IPv6 /48s from 2400::, all global unicast, the AS cycling like a real view's."""
    if version == 4:
        base, step, plen = int(ipaddress.IPv4Address("1.0.0.0")), 1 << 8, 24
        make = ipaddress.IPv4Address
    else:
        base, step, plen = int(ipaddress.IPv6Address("2400::")), 1 << 80, 48
        make = ipaddress.IPv6Address
    return [("%s/%d" % (make(base + i * step), plen), 64512 + i % 1000) for i in range(limit)]


def read_table(path, limit, version):
    """Up to limit (prefix, origin AS) pairs from a 'prefix/len AS' file (gzip or plain); a
    synthetic table when the file is not there (a clone without ../shared)."""
    out = []
    if limit <= 0:
        return out
    if not os.path.exists(path):
        print("gen-config: %s not found: %d synthetic prefixes instead" % (path, limit),
              file=sys.stderr)
        return synthetic_table(version, limit)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        for line in f:
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            asn = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else len(out)
            out.append((parts[0], asn))
            if len(out) == limit:
                break
    if len(out) < limit:
        sys.exit(f"gen-config: {path} has only {len(out)} prefixes, {limit} asked")
    return out


def overlaps_ours(prefix, ours):
    net = ipaddress.ip_network(prefix)
    return any(net.version == o.version and net.overlaps(o) for o in ours)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--routes", type=int, required=True, help="number of static routes")
    ap.add_argument("--ipv6-share", type=float, default=0.2, help="share of IPv6 routes (0.2)")
    ap.add_argument("--ecmp-share", type=float, default=0.1,
                    help="share of routes with a two-way weighted next-hop list (0.1)")
    ap.add_argument("--ports", type=int, default=2, help="interfaces (2)")
    ap.add_argument("--port-prefix", default="net_pcap", help="DPDK device name prefix")
    ap.add_argument("--gateways", type=int, default=4, help="gateways per port (4)")
    ap.add_argument("--perturb", type=int, default=0, help="change the gateway of N routes")
    ap.add_argument("--table4", default=os.path.join(DATA, "ipv4-bgp-table.txt.gz"))
    ap.add_argument("--table6", default=os.path.join(DATA, "ipv6-bgp-table.txt.gz"))
    ap.add_argument("-o", "--output", default="-", help="output file ('-': stdout)")
    a = ap.parse_args()
    if a.ports < 1 or a.ports > 250 or a.gateways < 1 or a.gateways > 200:
        sys.exit("gen-config: --ports 1..250, --gateways 1..200")

    n6 = int(round(a.routes * a.ipv6_share))
    n4 = a.routes - n6
    ours = []
    for p in range(a.ports):
        ours.append(ipaddress.ip_network(f"100.{64 + p // 256}.{p % 256}.0/24"))
        ours.append(ipaddress.ip_network(f"fd00:0:0:{p:x}::/64"))
    # read a few more than needed: the ones overlapping our subnets are skipped
    t4 = [r for r in read_table(a.table4, n4 + 64, 4) if not overlaps_ours(r[0], ours)][:n4]
    t6 = [r for r in read_table(a.table6, n6 + 64, 6) if not overlaps_ours(r[0], ours)][:n6]
    if len(t4) < n4 or len(t6) < n6:
        sys.exit("gen-config: not enough prefixes left")

    def gw4(p, g):
        return f"100.{64 + p // 256}.{p % 256}.{2 + g}"

    def gw6(p, g):
        return f"fd00:0:0:{p:x}::{2 + g:x}"

    ngw = a.ports * a.gateways
    perturbed = set()
    if a.perturb > 0:
        step = max(1, a.routes // a.perturb)
        perturbed = set(range(step // 2, a.routes, step)[: a.perturb])

    out = sys.stdout if a.output == "-" else open(a.output, "w")
    w = out.write
    w('{\n "ietf-interfaces:interfaces": {\n  "interface": [\n')
    for p in range(a.ports):
        neigh4 = ",\n".join(
            f'      {{"ip": "{gw4(p, g)}", "link-layer-address": "02:00:00:{p // 256:02x}:'
            f'{p % 256:02x}:{g + 2:02x}"}}' for g in range(a.gateways))
        neigh6 = ",\n".join(
            f'      {{"ip": "{gw6(p, g)}", "link-layer-address": "02:00:00:{p // 256:02x}:'
            f'{p % 256:02x}:{g + 2:02x}"}}' for g in range(a.gateways))
        w(f'   {{\n    "name": "port{p}",\n    "type": "iana-if-type:ethernetCsmacd",\n'
          f'    "nprouter:port": "{a.port_prefix}{p}",\n'
          f'    "ietf-ip:ipv4": {{\n     "address": [{{"ip": "{gw4(p, -1)}", '
          f'"prefix-length": 24}}],\n     "neighbor": [\n{neigh4}\n     ]\n    }},\n'
          f'    "ietf-ip:ipv6": {{\n     "address": [{{"ip": "{gw6(p, -1)}", '
          f'"prefix-length": 64}}],\n     "neighbor": [\n{neigh6}\n     ]\n    }}\n'
          f'   }}{"," if p + 1 < a.ports else ""}\n')
    w('  ]\n },\n')
    w(' "ietf-routing:routing": {\n  "control-plane-protocols": {\n'
      '   "control-plane-protocol": [\n    {\n     "type": "ietf-routing:static",\n'
      '     "name": "bgp-table",\n     "static-routes": {\n')

    def routes(table, fam, base):
        gw = gw4 if fam == 4 else gw6
        lines = []
        for i, (prefix, asn) in enumerate(table):
            k, wt = asn % ngw, 1 + asn % 3
            if base + i in perturbed:
                # another gateway; for a next-hop list also another weight, since moving to
                # the next gateway may only swap the list's two ports
                k, wt = (k + 1) % ngw, 1 + (asn + 1) % 3
            p, g = k % a.ports, k // a.ports
            if a.ports > 1 and (asn // ngw) % 1000 < a.ecmp_share * 1000:
                p2 = (p + 1) % a.ports
                lines.append(
                    f'       {{"destination-prefix": "{prefix}", "next-hop": {{"next-hop-list": '
                    f'{{"next-hop": [{{"index": "1", "next-hop-address": "{gw(p, g)}", '
                    f'"nprouter:weight": {wt}}}, {{"index": "2", "next-hop-address": '
                    f'"{gw(p2, g)}"}}]}}}}}}')
            else:
                lines.append(f'       {{"destination-prefix": "{prefix}", '
                             f'"next-hop": {{"next-hop-address": "{gw(p, g)}"}}}}')
        return ",\n".join(lines)

    parts = []
    if t4:
        parts.append('      "ietf-ipv4-unicast-routing:ipv4": {\n       "route": [\n' +
                     routes(t4, 4, 0) + '\n       ]\n      }')
    if t6:
        parts.append('      "ietf-ipv6-unicast-routing:ipv6": {\n       "route": [\n' +
                     routes(t6, 6, len(t4)) + '\n       ]\n      }')
    w(",\n".join(parts) + "\n")
    w('     }\n    }\n   ]\n  }\n }\n}\n')
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
