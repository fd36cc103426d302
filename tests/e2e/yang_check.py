#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Independent round-trip check for `nprouter-control apply`: read a YANG config (JSON or XML,
IETF models + nprouter augment) with the Python standard library, work out what the data plane
must then hold, and compare with what `nprouter-control --json show ...` reports.

    yang_check.py roundtrip CONFIG SHOWDIR

SHOWDIR holds interfaces.json addresses.json neighbors.json nexthops.json groups.json
routes.json (the --json output of the show commands). Exit 0 if they match, else 1 with the
differences. Gateways are resolved like the data plane's configuration rules: through the
outgoing interface if given, else the longest connected subnet, else a static neighbour.
The data plane installs a connected route (shown as local) for each address's subnet, except
host prefixes and IPv6 link-local ones, unless a static route has that exact prefix.
"""
import ipaddress
import json
import os
import sys
import xml.etree.ElementTree as ET


def local(tag):
    return tag.split("}", 1)[-1].split(":", 1)[-1]


def strip_keys(v):
    """JSON config -> the same tree with 'module:' prefixes dropped from member names."""
    if isinstance(v, dict):
        return {local(k): strip_keys(x) for k, x in v.items()}
    if isinstance(v, list):
        return [strip_keys(x) for x in v]
    return v


LISTS = {"interface", "address", "neighbor", "control-plane-protocol", "route", "next-hop"}


def xml_to_tree(path):
    """XML config (several top-level elements) -> dict like the JSON one, names unprefixed."""
    text = open(path).read()
    if text.startswith("<?xml"):
        text = text.split("?>", 1)[1]
    root = ET.fromstring("<root>" + text + "</root>")

    def conv(e):
        kids = list(e)
        if not kids:
            t = (e.text or "").strip()
            return local(t) if ":" in t and not any(c in t for c in "./") and \
                not t.count(":") > 1 else t
        d = {}
        for k in kids:
            name = local(k.tag)
            if name in LISTS and name != "next-hop" or (name == "next-hop" and
                                                         local(e.tag) == "next-hop-list"):
                d.setdefault(name, []).append(conv(k))
            else:
                d[name] = conv(k)
        return d

    return conv(root)


def load(path):
    if path.endswith(".xml"):
        return xml_to_tree(path)
    return strip_keys(json.load(open(path)))


def expected(cfg):
    ifs = {}
    addrs, neighs, routes = set(), set(), {}
    subnets = []  # (network, ifname)
    neigh_if = {}
    for i in cfg.get("interfaces", {}).get("interface", []):
        name = i["name"]
        mtu = i.get("mtu") or i.get("ipv4", {}).get("mtu") or i.get("ipv6", {}).get("mtu") \
            or 1500
        ifs[name] = {"device": i["port"], "mtu": int(mtu),
                     "up": str(i.get("enabled", True)).lower() == "true",
                     "mac": i.get("mac-address", "").lower() or None}
        for fam in ("ipv4", "ipv6"):
            ip = i.get(fam)
            if ip is None or str(ip.get("enabled", True)).lower() == "false":
                continue
            for a in ip.get("address", []):
                iface = ipaddress.ip_interface(f'{a["ip"]}/{a["prefix-length"]}')
                addrs.add((name, str(iface)))
                net = iface.network
                if net.prefixlen < net.max_prefixlen and not (
                        net.version == 6 and net.is_link_local):
                    subnets.append((net, name))
            for n in ip.get("neighbor", []):
                a = str(ipaddress.ip_address(n["ip"]))
                neighs.add((name, a, n["link-layer-address"].lower()))
                neigh_if[a] = name

    def resolve(gw, dev):
        if dev is not None:
            return ("forward", dev, gw)
        best = None
        for net, name in subnets:
            if ipaddress.ip_address(gw) in net and (best is None or net.prefixlen > best[0]):
                best = (net.prefixlen, name)
        if best is not None:
            return ("forward", best[1], gw)
        if gw in neigh_if:
            return ("forward", neigh_if[gw], gw)
        raise SystemExit(f"yang_check: cannot resolve gateway {gw}")

    protos = cfg.get("routing", {}).get("control-plane-protocols", {})
    for p in protos.get("control-plane-protocol", []):
        for fam in ("ipv4", "ipv6"):
            for r in p.get("static-routes", {}).get(fam, {}).get("route", []):
                pfx = str(ipaddress.ip_network(r["destination-prefix"]))
                nh = r["next-hop"]
                if "special-next-hop" in nh:
                    routes[pfx] = ("nh", (nh["special-next-hop"], None, None))
                elif "next-hop-list" in nh:
                    members = {}
                    for e in nh["next-hop-list"]["next-hop"]:
                        gw = e.get("next-hop-address")
                        gw = str(ipaddress.ip_address(gw)) if gw else None
                        k = resolve(gw, e.get("outgoing-interface")) if gw else \
                            ("forward", e["outgoing-interface"], None)
                        members[k] = members.get(k, 0) + int(e.get("weight", 1))
                    if len(members) == 1:
                        routes[pfx] = ("nh", next(iter(members)))
                    else:
                        routes[pfx] = ("group", frozenset(members.items()))
                else:
                    gw = nh.get("next-hop-address")
                    gw = str(ipaddress.ip_address(gw)) if gw else None
                    routes[pfx] = ("nh", resolve(gw, nh.get("outgoing-interface"))
                                   if gw else ("forward", nh["outgoing-interface"], None))
    connected = {str(net) for net, _ in subnets} - set(routes)
    return ifs, addrs, neighs, routes, connected


def actual(d):
    def j(name):
        return json.load(open(os.path.join(d, name + ".json")))

    ifs = {}
    for i in j("interfaces"):
        ifs[i["name"]] = {"device": i["device"], "mtu": i["mtu"], "up": i["up"],
                          "mac": i["mac"]}
    addrs = {(a["dev"], str(ipaddress.ip_interface(a["address"]))) for a in j("addresses")}
    neighs = {(n["dev"], n["address"], n["lladdr"]) for n in j("neighbors")}
    # next hop and group ids are per origin; only the configuration's routes are compared
    # (the CLI's and zebra's belong to them: the configuration's resync leaves them alone)
    nhs = {}
    for n in j("nexthops"):
        gw = n.get("gateway")
        nhs[n["origin"], n["id"]] = (n["kind"], n.get("dev"),
                                     str(ipaddress.ip_address(gw)) if gw else None)
    groups = {(g["origin"], g["id"]): frozenset((nhs[g["origin"], m["nexthop"]], m["weight"])
                                                for m in g["members"])
              for g in j("groups")}
    routes, connected = {}, set()
    for r in j("routes"):
        if r.get("local"):
            net = ipaddress.ip_network(r["prefix"])
            if net.prefixlen < net.max_prefixlen:
                connected.add(str(net))
            continue
        if r["origin"] != "config":
            continue
        o, pfx = r["origin"], str(ipaddress.ip_network(r["prefix"]))
        routes[pfx] = (("group", groups[o, r["group"]]) if "group" in r
                       else ("nh", nhs[o, r["nexthop"]]))
    return ifs, addrs, neighs, routes, connected


def main():
    if len(sys.argv) != 4 or sys.argv[1] != "roundtrip":
        sys.exit(__doc__)
    want = expected(load(sys.argv[2]))
    got = actual(sys.argv[3])
    bad = 0
    wi, gi = want[0], got[0]
    for name in sorted(set(wi) | set(gi)):
        w, g = wi.get(name), gi.get(name)
        if w is None or g is None:
            print(f"interface {name}: config {w} data plane {g}")
            bad += 1
            continue
        for k in ("device", "mtu", "up"):
            if w[k] != g[k]:
                print(f"interface {name} {k}: config {w[k]} data plane {g[k]}")
                bad += 1
        if w["mac"] is not None and w["mac"] != g["mac"]:
            print(f"interface {name} mac: config {w['mac']} data plane {g['mac']}")
            bad += 1
    for label, w, g in (("address", want[1], got[1]), ("neighbor", want[2], got[2]),
                        ("connected route", want[4], got[4])):
        for x in sorted(w - g):
            print(f"{label} {x}: in the config, not in the data plane")
            bad += 1
        for x in sorted(g - w):
            print(f"{label} {x}: in the data plane, not in the config")
            bad += 1
    wr, gr = want[3], got[3]
    for p in sorted(set(wr) | set(gr)):
        if wr.get(p) != gr.get(p):
            print(f"route {p}: config {wr.get(p)} data plane {gr.get(p)}")
            bad += 1
    if bad:
        print(f"{sys.argv[2]}: {bad} differences")
        sys.exit(1)
    print(f"{sys.argv[2]}: data plane matches ({len(wi)} interfaces, {len(want[1])} addresses, "
          f"{len(want[2])} neighbors, {len(wr)} routes)")


if __name__ == "__main__":
    main()
