#!/usr/bin/env bash
# Two equal-cost next hops, and a route change under a running ping:
#
#   A (a0) ---- lan [ nprouter, namespace R ] wan1 ---- (b0) B1   203.0.113.10 on lo
#   192.0.2.2/24     192.0.2.1                          198.51.100.2/25
#                                              wan2 ---- (b0) B2   203.0.113.10 on lo
#                                                        198.51.100.130/25
#
# B1 and B2 both own 203.0.113.10 (and 2001:db8:ff::10), so each packet's path shows in the
# namespace that received it (/proc/net/snmp counters). With 203.0.113.0/24 over both: many
# flows use both paths, one flow stays on one. Then 203.0.113.0/24 via B1 only, and a ping
# running while the configuration moves it to B2: traffic moves, nothing lost beyond the
# switch itself. With NPR_WORKERS=N (meson: e2e_netns_ecmp_workers2), N workers share the
# flows and read the FIB while it changes.
set -uo pipefail
BUILD=$1
SRC=$2
. "$SRC/tests/e2e/lib.sh"
. "$SRC/tests/e2e/netns_lib.sh"
netns_init
d=$(mktemp -d /tmp/npr-ns.XXXXXX)

ns_add R
ns_add A
ns_add B1
ns_add B2
ns_link A a0 ra
ns_link B1 b0 rb1
ns_link B2 b0 rb2
host A a0 192.0.2.2/24 192.0.2.1 2001:db8:a::2/64 2001:db8:a::1
host B1 b0 198.51.100.2/25 198.51.100.1 2001:db8:b1::2/64 2001:db8:b1::1
host B2 b0 198.51.100.130/25 198.51.100.129 2001:db8:b2::2/64 2001:db8:b2::1
for b in B1 B2; do
    nsx "$b" ip addr add 203.0.113.10/32 dev lo
    nsx "$b" ip -6 addr add 2001:db8:ff::10/128 dev lo
done

# config ROUTE4-NEXT-HOP ROUTE6-NEXT-HOP (YANG next-hop objects)
config() {
    cat <<EOF
{
  "ietf-interfaces:interfaces": { "interface": [
    { "name": "lan", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet0",
      "ietf-ip:ipv4": { "address": [{ "ip": "192.0.2.1", "prefix-length": 24 }] },
      "ietf-ip:ipv6": { "address": [{ "ip": "2001:db8:a::1", "prefix-length": 64 }] } },
    { "name": "wan1", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet1",
      "ietf-ip:ipv4": { "address": [{ "ip": "198.51.100.1", "prefix-length": 25 }] },
      "ietf-ip:ipv6": { "address": [{ "ip": "2001:db8:b1::1", "prefix-length": 64 }] } },
    { "name": "wan2", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet2",
      "ietf-ip:ipv4": { "address": [{ "ip": "198.51.100.129", "prefix-length": 25 }] },
      "ietf-ip:ipv6": { "address": [{ "ip": "2001:db8:b2::1", "prefix-length": 64 }] } }
  ] },
  "ietf-routing:routing": { "control-plane-protocols": { "control-plane-protocol": [
    { "type": "ietf-routing:static", "name": "static", "static-routes": {
      "ietf-ipv4-unicast-routing:ipv4": { "route": [
        { "destination-prefix": "203.0.113.0/24", "next-hop": $1 } ] },
      "ietf-ipv6-unicast-routing:ipv6": { "route": [
        { "destination-prefix": "2001:db8:ff::/48", "next-hop": $2 } ] } } }
  ] } }
}
EOF
}
config '{ "next-hop-list": { "next-hop": [
            { "index": "1", "next-hop-address": "198.51.100.2" },
            { "index": "2", "next-hop-address": "198.51.100.130" } ] } }' \
    '{ "next-hop-list": { "next-hop": [
            { "index": "1", "next-hop-address": "2001:db8:b1::2" },
            { "index": "2", "next-hop-address": "2001:db8:b2::2" } ] } }' >"$d/ecmp.json"
config '{ "next-hop-address": "198.51.100.2" }' '{ "next-hop-address": "2001:db8:b1::2" }' \
    >"$d/via-b1.json"
config '{ "next-hop-address": "198.51.100.130" }' '{ "next-hop-address": "2001:db8:b2::2" }' \
    >"$d/via-b2.json"

start_router "$d/dp.log" ra rb1 rb2
apply "$d/ecmp.json"

# both gateways resolved first (by pinging them): no flow waits in a resolution queue
expect "B1 reachable" " 0% packet loss" nsx A ping -c 2 -i 0.2 -W 2 198.51.100.2
expect "B2 reachable" " 0% packet loss" nsx A ping -c 2 -i 0.2 -W 2 198.51.100.130
expect "B1 reachable (v6)" " 0% packet loss" nsx A ping -6 -c 2 -i 0.2 -W 2 2001:db8:b1::2
expect "B2 reachable (v6)" " 0% packet loss" nsx A ping -6 -c 2 -i 0.2 -W 2 2001:db8:b2::2

# udp_flows FAMILY DST N FIXED-PORT: N datagrams to DST port 9 (closed: counted as NoPorts
# where they land), each from a new socket (a new source port), or all from FIXED-PORT
udp_flows() {
    nsx A python3 - "$@" <<'EOF'
import socket, sys, time
fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
dst, n, fixed = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = None
for i in range(n):
    if s is None or not fixed:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", fixed))
    s.sendto(b"flow %d" % i, (dst, 9))
    time.sleep(0.002)
    if not fixed:
        s.close()
EOF
}

# spread FAMILY DST SNMP-PROTO: 64 flows spread over both; then one flow, 40 packets, on one
spread() {
    local fam=$1 dst=$2 proto=$3 a1 a2 b1 b2 n1 n2
    a1=$(snmp B1 "$proto" NoPorts); a2=$(snmp B2 "$proto" NoPorts)
    udp_flows "$fam" "$dst" 64 0
    sleep 0.5
    b1=$(snmp B1 "$proto" NoPorts); b2=$(snmp B2 "$proto" NoPorts)
    n1=$((b1 - a1)); n2=$((b2 - a2))
    if [ $((n1 + n2)) -eq 64 ] && [ "$n1" -ge 8 ] && [ "$n2" -ge 8 ]; then
        ok "IPv$fam: 64 flows spread over both next hops ($n1 / $n2)"
    else
        bad "IPv$fam: 64 flows: $n1 via B1, $n2 via B2"
    fi
    udp_flows "$fam" "$dst" 40 40000
    sleep 0.5
    a1=$(snmp B1 "$proto" NoPorts); a2=$(snmp B2 "$proto" NoPorts)
    n1=$((a1 - b1)); n2=$((a2 - b2))
    if { [ "$n1" -eq 40 ] && [ "$n2" -eq 0 ]; } || { [ "$n1" -eq 0 ] && [ "$n2" -eq 40 ]; }; then
        ok "IPv$fam: one flow stays on one next hop ($n1 / $n2)"
    else
        bad "IPv$fam: one flow of 40 packets: $n1 via B1, $n2 via B2"
    fi
}
spread 4 203.0.113.10 Udp
spread 6 2001:db8:ff::10 Udp6

# ---- route change under a running ping: 150 echoes, 20 ms apart; at ~1 s, B1 -> B2
apply "$d/via-b1.json"
e1=$(snmp B1 Icmp InEchos); e2=$(snmp B2 Icmp InEchos)
nsx A ping -c 150 -i 0.02 -W 1 203.0.113.10 >"$d/ping.out" 2>&1 &
pingpid=$!
sleep 1
apply "$d/via-b2.json"
wait "$pingpid"
f1=$(snmp B1 Icmp InEchos); f2=$(snmp B2 Icmp InEchos)
rcv=$(grep -oE "[0-9]+ received" "$d/ping.out" | grep -oE "^[0-9]+")
echo "route change: B1 answered $((f1 - e1)), B2 $((f2 - e2)), A got ${rcv:-0} of 150 replies"
if [ "${rcv:-0}" -ge 148 ]; then
    ok "route change: at most 2 of 150 echoes lost"
else
    bad "route change: only ${rcv:-0} of 150 echoes answered"; cat "$d/ping.out"
fi
if [ $((f1 - e1)) -ge 20 ] && [ $((f2 - e2)) -ge 50 ]; then
    ok "route change: traffic moved from B1 to B2"
else
    bad "route change: B1 answered $((f1 - e1)), B2 $((f2 - e2))"
fi
expect "the route goes to B2 now" "203.0.113.0/24 via 198.51.100.130" ctl show routes

if [ "${NPR_WORKERS:-1}" -gt 1 ]; then
    # the flows above reached every worker (the kernel's fanout hash chose their queues), and
    # every packet is counted once: per queue, per port, per worker
    # (a neighbour refresh may arrive between the ports' and the workers' counters: 3 tries)
    good=0
    for _ in 1 2 3; do
    out=$(ctl --json show stats | python3 -c '
import json, sys
s = json.load(sys.stdin)
rx = [w["rx_pkts"] for w in s["workers"]]
bad = [p["port_id"] for p in s["ports"]
       if sum(q["ipackets"] for q in p["queues"]) != p["ipackets"]]
wq = [sum(p["queues"][w]["ipackets"] for p in s["ports"]) for w in range(len(rx))]
print("workers rx %s, queues by worker %s, ports whose queues do not add up %s" % (rx, wq, bad))
sys.exit(0 if min(rx) > 0 and not bad and wq == rx else 1)') && { good=1; break; }
    sleep 0.5
    done
    if [ "$good" -eq 1 ]; then ok "$out"; else bad "$out"; fi
fi

finish
