#!/usr/bin/env bash
# Real hosts on both sides of nprouter, no static neighbours anywhere:
#   A (a0) ---- lan [ nprouter in namespace R ] wan ---- (b0) B
#   192.0.2.2/24      192.0.2.1   198.51.100.1      198.51.100.2/24
#   2001:db8:a::2/64  2001:db8:a::1  2001:db8:b::1  2001:db8:b::2/64
# ping across in both families (ARP / ND resolve both ways), the TTL the receiver sees, ping -t 1
# and traceroute (time exceeded from the router's ingress address), no route / unreachable /
# prohibit (ICMP errors) and blackhole (silent), and a smaller MTU on wan: "fragmentation
# needed" / "packet too big" with that MTU, and fragments for IPv4 without DF.
set -uo pipefail
BUILD=$1
SRC=$2
. "$SRC/tests/e2e/lib.sh"
. "$SRC/tests/e2e/netns_lib.sh"
netns_init
d=$(mktemp -d /tmp/npr-ns.XXXXXX)

two_hosts

# The configuration: YANG (ietf-interfaces, ietf-ip, ietf-routing), no neighbours.
config() { # config WAN-MTU
    cat <<EOF
{
  "ietf-interfaces:interfaces": { "interface": [
    { "name": "lan", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet0",
      "ietf-ip:ipv4": { "address": [{ "ip": "192.0.2.1", "prefix-length": 24 }] },
      "ietf-ip:ipv6": { "address": [{ "ip": "2001:db8:a::1", "prefix-length": 64 }] } },
    { "name": "wan", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet1",
      "nprouter:mtu": $1,
      "ietf-ip:ipv4": { "address": [{ "ip": "198.51.100.1", "prefix-length": 24 }] },
      "ietf-ip:ipv6": { "address": [{ "ip": "2001:db8:b::1", "prefix-length": 64 }] } }
  ] },
  "ietf-routing:routing": { "control-plane-protocols": { "control-plane-protocol": [
    { "type": "ietf-routing:static", "name": "static", "static-routes": {
      "ietf-ipv4-unicast-routing:ipv4": { "route": [
        { "destination-prefix": "10.66.0.0/16", "next-hop": { "special-next-hop": "blackhole" } },
        { "destination-prefix": "10.67.0.0/16", "next-hop": { "special-next-hop": "unreachable" } },
        { "destination-prefix": "10.68.0.0/16", "next-hop": { "special-next-hop": "prohibit" } }
      ] },
      "ietf-ipv6-unicast-routing:ipv6": { "route": [
        { "destination-prefix": "2001:db8:66::/48", "next-hop": { "special-next-hop": "blackhole" } }
      ] } } }
  ] } }
}
EOF
}
config 1500 >"$d/r.json"
config 1280 >"$d/r-mtu.json"

start_router "$d/dp.log" ra rb
apply "$d/r.json"

# ---- reachability, both families, both directions; TTL / hop limit - 1 at the receiver
expect "ping A -> B" " 0% packet loss" nsx A ping -c 3 -i 0.2 -W 2 198.51.100.2
expect "the reply's TTL is one lower (64 - 1)" "ttl=63" nsx A ping -c 1 -W 2 198.51.100.2
expect "ping B -> A" " 0% packet loss" nsx B ping -c 3 -i 0.2 -W 2 192.0.2.2
expect "ping6 A -> B" " 0% packet loss" nsx A ping -6 -c 3 -i 0.2 -W 2 2001:db8:b::2
expect "the reply's hop limit is one lower" "ttl=63" nsx A ping -6 -c 1 -W 2 2001:db8:b::2
expect "ping6 B -> A" " 0% packet loss" nsx B ping -6 -c 3 -i 0.2 -W 2 2001:db8:a::2
expect "ping the router" "ttl=64" nsx A ping -c 2 -i 0.2 -W 2 192.0.2.1
expect "ping the router's far address" " 0% packet loss" nsx A ping -c 2 -i 0.2 -W 2 198.51.100.1
expect "ping6 the router" " 0% packet loss" nsx A ping -6 -c 2 -i 0.2 -W 2 2001:db8:a::1
expect "the router answered ARP" "192.0.2.1 dev a0 lladdr" nsx A ip neigh show 192.0.2.1
expect "the router answered ND" "2001:db8:a::1 dev a0 lladdr .* router" nsx A ip -6 neigh show 2001:db8:a::1
expect "the router learnt both hosts" "198.51.100.2 +wan .* learnt" ctl show neighbors
expect "the router learnt both hosts (v6)" "2001:db8:a::2 +lan .* learnt" ctl show neighbors
expect "connected routes" "192.0.2.0/24 dev lan \\(connected\\)" ctl show routes

# ---- TTL expiry: from the router's address on the side the packet came in
expect "ping -t 1" "From 192.0.2.1 .*Time to live exceeded" nsx A ping -c 1 -t 1 -W 2 198.51.100.2
expect "ping6 -t 1" "From 2001:db8:a::1 .*Time exceeded" nsx A ping -6 -c 1 -t 1 -W 2 2001:db8:b::2
expect "ping -t 1 from the other side" "From 198.51.100.1 .*Time to live exceeded" \
    nsx B ping -c 1 -t 1 -W 2 192.0.2.2
out=$(nsx A traceroute -n -q 1 -w 2 -m 4 198.51.100.2 2>&1)
if grep -qE "^ *1 +192\.0\.2\.1 " <<<"$out" && grep -qE "^ *2 +198\.51\.100\.2 " <<<"$out"; then
    ok "traceroute: 192.0.2.1 then 198.51.100.2"
else
    bad "traceroute:"; echo "$out"
fi
out=$(nsx A traceroute -6 -n -q 1 -w 2 -m 4 2001:db8:b::2 2>&1)
if grep -qE "^ *1 +2001:db8:a::1 " <<<"$out" && grep -qE "^ *2 +2001:db8:b::2 " <<<"$out"; then
    ok "traceroute6: 2001:db8:a::1 then 2001:db8:b::2"
else
    bad "traceroute6:"; echo "$out"
fi

# ---- no route, unreachable, prohibit: ICMP errors; blackhole: silence
expect "no route" "From 192.0.2.1 .*Destination Net Unreachable" nsx A ping -c 1 -W 2 203.0.113.5
expect "no route (v6)" "From 2001:db8:a::1 .*Destination unreachable: No route" \
    nsx A ping -6 -c 1 -W 2 2001:db8:99::1
expect "unreachable route" "From 192.0.2.1 .*Destination Host Unreachable" \
    nsx A ping -c 1 -W 2 10.67.0.1
expect "prohibit route" "From 192.0.2.1 .*Packet filtered" nsx A ping -c 1 -W 2 10.68.0.1
expect "blackhole: nothing comes back" "1 packets transmitted, 0 received, 100% packet loss" \
    nsx A ping -c 1 -W 2 10.66.0.1
expect_not "blackhole: no ICMP error" "From " nsx A ping -c 1 -W 1 10.66.0.1
expect_not "blackhole (v6): no ICMP error" "From " nsx A ping -6 -c 1 -W 1 2001:db8:66::1
expect "UDP to the router: port unreachable" "Connection refused|refused" \
    nsx A python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect(('192.0.2.1', 9))
s.send(b'x')
try:
    s.recv(10)
except Exception as e:
    print(e)"

# ---- a smaller MTU on wan (YANG nprouter:mtu): 1280
apply "$d/r-mtu.json"
expect "DF over a smaller MTU: fragmentation needed, mtu 1280" "mtu ?= ?1280" \
    nsx A ping -c 1 -W 2 -M do -s 1400 198.51.100.2
expect "the host learnt the path MTU" "mtu 1280" nsx A ip route get 198.51.100.2
expect "without DF: fragmented by the router, answered" " 0% packet loss" \
    nsx A ping -c 2 -i 0.2 -W 2 -M dont -s 1400 198.51.100.2
expect "the router fragmented" "FRAG_TX" ctl show stats
expect "IPv6 over a smaller MTU: packet too big, mtu 1280" "mtu ?= ?1280|[Pp]acket too big" \
    nsx A ping -6 -c 1 -W 2 -s 1400 2001:db8:b::2
expect "IPv6: the host fragments for the path MTU, answered" " 0% packet loss" \
    nsx A ping -6 -c 2 -i 0.2 -W 2 -s 1400 2001:db8:b::2
expect "IPv6 path MTU learnt" "mtu 1280" nsx A ip -6 route get 2001:db8:b::2

finish
