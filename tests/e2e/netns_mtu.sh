#!/usr/bin/env bash
# What a port carries, with real hosts (af_packet ports on veth pairs):
#   A (a0) ---- lan [ nprouter in namespace R ] wan ---- (b0) B
#   lan: af_packet, default ring frames (2048): carries 1500 (DPDK 22.11's af_packet says
#        frames of 1518 at most)
#   wan: af_packet with framesz=1536 (blocksz 12288: 8 frames a block; the PMD needs framesz
#        to divide blocksz): carries 1536 - 80 = 1456 bytes of IP
# - the data plane says each port's limit (start-up line, show ports) and sets the bound
#   Linux netdev's MTU to it;
# - an interface without an MTU gets 1500, or the port's limit if less; an interface MTU above
#   the limit is refused with the port, its limit and why, by the CLI and by apply (YANG), and
#   nothing changes;
# - a packet from A bigger than what wan carries: "fragmentation needed" / "packet too big"
#   with MTU 1456, the hosts learn it, and without DF the router fragments;
# - IPv4 fragments over af_packet: the kernel reassembles them before the port (DPDK 22.11 sets
#   PACKET_FANOUT_FLAG_DEFRAG on every af_packet socket): a datagram that fits the ring frame
#   arrives whole (and is forwarded, fragmented again for wan), a bigger one arrives cut short
#   (BAD_LENGTH); the frames the router never saw are counted (RX-UNSEEN), every one.
set -uo pipefail
BUILD=$1
SRC=$2
. "$SRC/tests/e2e/lib.sh"
. "$SRC/tests/e2e/netns_lib.sh"
netns_init
d=$(mktemp -d /tmp/npr-ns.XXXXXX)

two_hosts
# the wan link's MTU is what its router port carries
nsx B ip link set b0 mtu 1456

config() { # config [WAN-MTU]
    local mtu=""
    [ -n "${1:-}" ] && mtu="\"nprouter:mtu\": $1,"
    cat <<EOF
{
  "ietf-interfaces:interfaces": { "interface": [
    { "name": "lan", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet0",
      "ietf-ip:ipv4": { "address": [{ "ip": "192.0.2.1", "prefix-length": 24 }] },
      "ietf-ip:ipv6": { "address": [{ "ip": "2001:db8:a::1", "prefix-length": 64 }] } },
    { "name": "wan", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet1",
      $mtu
      "ietf-ip:ipv4": { "address": [{ "ip": "198.51.100.1", "prefix-length": 24 }] },
      "ietf-ip:ipv6": { "address": [{ "ip": "2001:db8:b::1", "prefix-length": 64 }] } }
  ] }
}
EOF
}
config >"$d/r.json"
config 1500 >"$d/r-1500.json"

# af_packet ring settings the PMD would take and then misbehave with: refused at start
dp_try() {
    nsx R "$NPR_DP" --no-pci --no-huge -m 256 --no-shconf --file-prefix "$NPR_NAME-x" \
        --log-level='*:error' -l 0,1 --vdev "net_af_packet0,iface=$1" -- --shm "$NPR_NAME-x" \
        --no-host-ports "${@:2}"
}
expect "framesz that does not divide blocksz: refused" \
    "af_packet framesz 1536 does not divide blocksz 4096" dp_try ra,framesz=1536
expect "ring frames bigger than a buffer: refused, with the option that fits" \
    "af_packet framesz 4096 needs buffers of 4064 bytes: start with --mbuf-size 4064" \
    dp_try ra,framesz=4096
rm -f "/dev/shm/$NPR_NAME-x"

start_router "$d/dp.log" ra rb,framesz=1536,blocksz=12288
apply "$d/r.json"

# ---- the limits, as the data plane says them
expect "start-up line: lan carries 1500 (the device's frames)" \
    "port 0 net_af_packet0 .*MTU up to 1500 \(max_rx_pktlen 1518 - 18\)" cat "$d/dp.log"
expect "start-up line: wan carries 1456 (its ring frames)" \
    "port 1 net_af_packet1 .*MTU up to 1456 \(af_packet framesz 1536 - 80\)" cat "$d/dp.log"
expect "show ports: the limits and why" \
    "^1 +net_af_packet1 .* 1456 +wan +af_packet framesz 1536 - 80" ctl show ports
expect "show ports --json: max_mtu" '"name":"net_af_packet1".*"max_mtu":1456' ctl --json show ports
expect "the bound netdev's MTU is the port's" "rb(@[^:]*)?: .* mtu 1456 " nsx R ip -o link show rb
expect "an interface without an MTU gets what its port carries" "^[0-9]+ +wan .* 1456 +up" \
    ctl show interfaces
expect "... or 1500" "^[0-9]+ +lan .* 1500 +up" ctl show interfaces

# ---- an MTU above the limit: refused, nothing changes
snapshot() { for w in interfaces addresses routes ports; do ctl --json show $w; done; }
snapshot >"$d/before"
expect "CLI: MTU above the port's limit refused, naming the port, its limit and why" \
    "interface wan: MTU 1500 above what port 1 \(net_af_packet1\) carries: 1456 \(af_packet framesz 1536 - 80\)" \
    ctl interface set wan mtu 1500
if ctl interface set wan mtu 1457 >/dev/null 2>&1; then bad "MTU 1457 accepted"; else ok "MTU 1457: exit status non-zero"; fi
expect "apply: MTU above the port's limit refused, with the file's path" \
    "interface\[name='wan'\]: MTU 1500 above what port net_af_packet1 carries: 1456 \(af_packet framesz 1536 - 80\)" \
    ctl apply "$d/r-1500.json"
snapshot >"$d/after"
if cmp -s "$d/before" "$d/after"; then ok "nothing changed"; else bad "the refused MTU changed something:"; diff "$d/before" "$d/after"; fi
expect "the bound netdev's MTU did not change" "rb(@[^:]*)?: .* mtu 1456 " nsx R ip -o link show rb
set_and_show() { ctl interface set wan mtu "$1" && ctl show interfaces; }
expect "an MTU below the limit is fine" "^[0-9]+ +wan .* 1400 +up" set_and_show 1400
expect "... and at it" "^[0-9]+ +wan .* 1456 +up" set_and_show 1456
apply "$d/r.json"

# ---- bigger than what wan carries: ICMP with the MTU the hosts must use
expect "ping A -> B" " 0% packet loss" nsx A ping -c 2 -i 0.2 -W 2 198.51.100.2
expect "1500 bytes with DF: fragmentation needed, mtu 1456" "mtu ?= ?1456" \
    nsx A ping -c 1 -W 2 -M do -s 1472 198.51.100.2
expect "the host learnt the path MTU" "mtu 1456" nsx A ip route get 198.51.100.2
expect "1456 bytes with DF pass" " 0% packet loss" nsx A ping -c 2 -i 0.2 -W 2 -M do -s 1428 198.51.100.2
expect "IPv6, 1500 bytes: packet too big, mtu 1456" "mtu ?= ?1456|[Pp]acket too big" \
    nsx A ping -6 -c 1 -W 2 -s 1452 2001:db8:b::2
expect "IPv6 path MTU learnt" "mtu 1456" nsx A ip -6 route get 2001:db8:b::2
expect "IPv6: the host fragments for the path MTU, answered" " [1-9][0-9]* received" \
    nsx A ping -6 -c 3 -i 0.2 -W 2 -s 1452 2001:db8:b::2

# ---- IPv4 fragments over af_packet: reassembled by the kernel before the port
# udp FROM TO-NS TO-ADDR SIZE...: FROM sends 10 datagrams of each size, DF clear (the host
# fragments them for its link); what TO received, "received SIZExCOUNT ..."
udp() {
    local from=$1 to=$2 addr=$3; shift 3
    nsx "$to" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$addr', 7000)); s.settimeout(2)
n = {}
try:
    while True:
        b = s.recv(65535); n[len(b)] = n.get(len(b), 0) + 1
except OSError:
    pass
print('received', ' '.join('%dx%d' % (k, v) for k, v in sorted(n.items())))" >"$d/udp.out" &
    local rpid=$!
    sleep 0.5
    nsx "$from" python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER: IP_PMTUDISC_DONT
for size in map(int, sys.argv[1:]):
    for i in range(10):
        s.sendto(b'x' * size, ('$addr', 7000)); time.sleep(0.01)" "$@"
    wait "$rpid"
    cat "$d/udp.out"
}
st_get() { ctl --json show stats | $PY -c "import json,sys; v=json.load(sys.stdin); print(eval('v' + sys.argv[1]))" "$1"; }
# A -> B over lan (2048-byte ring frames: 1968 bytes of IP at most). 1400: one frame; 1800: 2
# fragments, reassembled (1828 bytes of IP), forwarded and fragmented again for wan (1456);
# 3000 (3 fragments) and 8000 (6): reassembled, cut to the ring frame, dropped as BAD_LENGTH.
# Of the 10 * (1 + 2 + 3 + 6) = 120 frames lan received, the router saw 40: 80 unseen.
nsx A ip route flush cache
sleep 1 # nothing left in the rings: what the counters compare starts here
ctl --timeout 20000 stats clear >/dev/null || bad "stats clear"
expect "A -> B: the datagrams that fit lan's ring frames arrive" "^received 1400x10 1800x10$" \
    udp A B 198.51.100.2 1400 1800 3000 8000
n=$(st_get "['ports'][0].get('rx_unseen')")
[ "$n" = 80 ] && ok "RX-UNSEEN on lan: 80 frames the router never saw" || bad "RX-UNSEEN on lan: $n, want 80"
n=$(st_get "['drops']['BAD_LENGTH']")
[ "$n" = 20 ] && ok "BAD_LENGTH 20: the 3000 and 8000 byte datagrams, cut short" || bad "BAD_LENGTH $n, want 20"
n=$(st_get "['slowpath']['FRAG_TX']")
[ "$n" = 20 ] && ok "the router fragmented the 1800 byte datagrams for wan: 20 fragments" || bad "FRAG_TX $n, want 20"
expect "show stats: RX-UNSEEN" "^0 +net_af_packet0 .* 80$" ctl show stats
# B -> A over wan (1536-byte ring frames: 1456 bytes of IP): B fragments a 1472 byte datagram
# (1500 bytes of IP) for its 1456 link, wan's kernel reassembles it and cuts it to 1456:
# lost, though every fragment fit. The limit of fragmented traffic over af_packet is the ring
# frame, whatever the link's MTU.
sleep 1
ctl --timeout 20000 stats clear >/dev/null || bad "stats clear"
expect "B -> A: a datagram over wan's ring frame is lost even in fragments" "^received 1400x10$" \
    udp B A 192.0.2.2 1400 1472
n=$(st_get "['ports'][1].get('rx_unseen')")
[ "$n" = 10 ] && ok "RX-UNSEEN on wan: 10" || bad "RX-UNSEEN on wan: $n, want 10"
n=$(st_get "['drops']['BAD_LENGTH']")
[ "$n" = 10 ] && ok "BAD_LENGTH 10" || bad "BAD_LENGTH $n, want 10"

ctl show stats || true
stop_dp || bad "the data plane did not stop cleanly"
expect "exit printout: unseen on wan" "port 1 net_af_packet1 .* unseen 10 \(of what Linux rb received\)" cat "$d/dp.log"
echo "$fails failure(s)"
[ "$fails" -eq 0 ]
