#!/usr/bin/env bash
# Control-plane protection (punt policing): floods of one kind of exception at nprouter while
# the things that need the slow path keep working.
#   A (a0) ---- lan [ nprouter in namespace R ] wan ---- (b0) B
#   192.0.2.2/24                                     198.51.100.2/24, 10.200.0.0/16 connected
# Each flood runs for 6 s from A (tests/e2e/flood.py) at RATE packets/s: 4 times the largest
# class rate it hits and 300 times the ICMP error budget, yet what the veth path carries here
# without losing the test's own pings on the same link (unpaced, the kernel drops them before
# nprouter sees them: RATE=0 shows it):
#   noroute  destinations without a route: dropped in the fast path past the ICMP budget
#            (NO_ROUTE drops, ICMP_ERR policed), never filling the exception ring;
#   subnet   random hosts of wan's connected /16: policed (RESOLVE) and bounded per interface
#            (NEIGH_LIMIT), so a new host on lan is still resolved;
#   echo     pings to the router: policed (ECHO); pings through it and ARP go on;
#   arp      ARP requests: policed (ARP) per port, so ARP on wan and ND go on.
# During each: a host never seen before is resolved (ARP and ND) and pinged through the
# router, and the router answers pings. Afterwards the counters say what was dropped and why,
# and EXC_FULL stays 0. No timing is asserted: only that things work and what was counted.
set -uo pipefail
BUILD=$1
SRC=$2
. "$SRC/tests/e2e/lib.sh"
. "$SRC/tests/e2e/netns_lib.sh"
netns_init
d=$(mktemp -d /tmp/npr-flood.XXXXXX)
RATE=${RATE:-30000}

two_hosts
cat >"$d/r.json" <<'JSON'
{
  "ietf-interfaces:interfaces": { "interface": [
    { "name": "lan", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet0",
      "ietf-ip:ipv4": { "address": [{ "ip": "192.0.2.1", "prefix-length": 24 }] },
      "ietf-ip:ipv6": { "address": [{ "ip": "2001:db8:a::1", "prefix-length": 64 }] } },
    { "name": "wan", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet1",
      "ietf-ip:ipv4": { "address": [{ "ip": "198.51.100.1", "prefix-length": 24 },
                                    { "ip": "10.200.0.1", "prefix-length": 16 }] },
      "ietf-ip:ipv6": { "address": [{ "ip": "2001:db8:b::1", "prefix-length": 64 }] } }
  ] }
}
JSON
start_router "$d/dp.log" ra rb -- --no-host-ports
apply "$d/r.json"
RMAC=$(ctl show interfaces | awk '$2 == "lan" { print $5 }')
[[ "$RMAC" =~ ^[0-9a-f:]{17}$ ]] || { echo "FAIL: no MAC for lan in:"; ctl show interfaces; exit 1; }

# counter SECTION NAME: a counter of `show stats --json` (drops, policed, slowpath...)
counter() {
    ctl --json show stats | "$PY" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]][sys.argv[2]])' "$1" "$2"
}
# new_host NS DEV V4 V6: one more address on a host for this round (the router never saw it)
new_host() { nsx "$1" ip addr add "$3/24" dev "$2"; nsx "$1" ip -6 addr add "$4/64" dev "$2" nodad; }

round() { # KIND N [lan]: flood KIND from A for 6 s; meanwhile a new address on B (or, with
    # lan, on A: the subnet flood goes out on wan) is resolved and pinged through the router
    local kind=$1 n=$2 from=A to=B dev=b0 v4=198.51.100.$((10 + $2)) v6=2001:db8:b::$((10 + $2))
    if [ "${3:-}" = lan ]; then
        from=B to=A dev=a0 v4=192.0.2.$((10 + $2)) v6=2001:db8:a::$((10 + $2))
    fi
    new_host "$to" "$dev" "$v4" "$v6"
    nsx A "$PY" "$SRC/tests/e2e/flood.py" a0 "$RMAC" "$kind" 6 "$RATE" >"$d/flood-$kind.log" 2>&1 &
    local fpid=$!
    sleep 1
    expect "$kind flood: a new host on $to resolved and pinged through (IPv4)" \
        " [1-9][0-9]* received" nsx "$from" ping -c 5 -i 0.3 -W 2 "$v4"
    expect "$kind flood: ... and over IPv6 (ND)" " [1-9][0-9]* received" \
        nsx "$from" ping -6 -c 5 -i 0.3 -W 2 "$v6"
    expect "$kind flood: the router answers pings from the far side" " [1-9][0-9]* received" \
        nsx B ping -c 5 -i 0.3 -W 2 198.51.100.1
    wait "$fpid"
    expect "$kind flood: the flood ran" "^sent [1-9]" cat "$d/flood-$kind.log"
    echo "after $kind: EXC_FULL $(counter drops EXC_FULL)"
}

round noroute 1
[ "$(counter drops NO_ROUTE)" -gt 0 ] && ok "noroute: NO_ROUTE drops counted ($(counter drops NO_ROUTE))" ||
    bad "noroute: no NO_ROUTE drops"
[ "$(counter policed ICMP_ERR)" -gt 0 ] && ok "noroute: ICMP_ERR policed ($(counter policed ICMP_ERR))" ||
    bad "noroute: nothing policed"
round subnet 2 lan
resolve=$(counter policed RESOLVE) limit=$(counter slowpath NEIGH_LIMIT)
[ "$resolve" -gt 0 ] && [ "$limit" -gt 0 ] && ok "subnet: policed RESOLVE $resolve, NEIGH_LIMIT $limit" ||
    bad "subnet: policed RESOLVE $resolve, NEIGH_LIMIT $limit"
round echo 3
[ "$(counter policed ECHO)" -gt 0 ] && ok "echo: ECHO policed ($(counter policed ECHO))" || bad "echo: nothing policed"
round arp 4
[ "$(counter policed ARP)" -gt 0 ] && ok "arp: ARP policed ($(counter policed ARP))" || bad "arp: nothing policed"
# Policed, the floods cannot fill the exception ring as long as the control thread runs; on a
# machine this busy (worker, control thread, flood and pings on 2 CPUs) it may be descheduled
# long enough to lose a little. Without policing most of each flood is lost there.
sent=$(cat "$d"/flood-*.log | awk '$1 == "sent" { s += $2 } END { print s + 0 }')
full=$(counter drops EXC_FULL)
[ $((full * 100)) -lt "$sent" ] && ok "EXC_FULL $full of $sent flood packets (under 1%)" ||
    bad "EXC_FULL: $full of $sent flood packets lost at the exception ring"
expect "the policing line at start" "punt policing, packets/s per port / burst per worker: arp 5000/128" \
    cat "$d/dp.log"
finish
