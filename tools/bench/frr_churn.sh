#!/usr/bin/env bash
# Route churn through FRR while traffic flows: no packet may go to a wrong next hop.
#
#   H ---- lan [ nprouter + FRR + bridge in R ] up1 ---- P1  announces N prefixes (preferred)
#                                               up2 ---- P2  the same N, AS path longer
#                                               up3 ---- P3  other prefixes only (the trap)
#
# H sends UDP to addresses spread over the N prefixes (all in 10.0.0.0/8) while P1's session
# flaps: every flap moves all N routes to P2 and back. P1, P2 and P3 take any 10.0.0.0/8
# address as their own (a local route), so a datagram that reaches one is counted there (UDP
# NoPorts). P3 is a next hop of nprouter's, for its own prefixes, but never of the churned
# ones: any datagram at P3 went to a wrong next hop. Prints sent, received at P1 / P2 / P3,
# lost, and nprouter's drop counters; exit 1 if P3 got any.
#
#   tools/bench/frr_churn.sh BUILD SRC [--prefixes N] [--flaps K] [--pps R]
set -uo pipefail
BUILD=$1
SRC=$2
shift 2
N=100000
FLAPS=5
PPS=5000
while [ $# -gt 0 ]; do
    case "$1" in
    --prefixes) N=$2; shift ;;
    --flaps) FLAPS=$2; shift ;;
    --pps) PPS=$2; shift ;;
    *) echo "usage: frr_churn.sh BUILD SRC [--prefixes N] [--flaps K] [--pps R]"; exit 2 ;;
    esac
    shift
done
. "$SRC/tests/e2e/lib.sh"
. "$SRC/tests/e2e/netns_lib.sh"
. "$SRC/tests/e2e/frr_lib.sh"
frr_require
netns_init
d=$(mktemp -d /tmp/npr-churn.XXXXXX)
chmod 755 "$d"

# N /26 prefixes from 10.0.0.0 up (at most 262,144 fit in 10.0.0.0/8)
$PY - "$N" "$d/prefixes" <<'EOF'
import sys
n = int(sys.argv[1])
with open(sys.argv[2], "w") as f:
    for i in range(n):
        v = 0x0a000000 + i * 64
        f.write("%d.%d.%d.%d/26\n" % (v >> 24, v >> 16 & 255, v >> 8 & 255, v & 255))
EOF

ns_add R
ns_add H
ns_add P1
ns_add P2
ns_add P3
ns_link H h0 rh
ns_link P1 p1 rp1
ns_link P2 p2 rp2
ns_link P3 p3 rp3
nsx H ip addr add 203.0.113.2/24 dev h0
nsx H ip route add default via 203.0.113.1
i=1
for p in P1 P2 P3; do
    nsx $p ip addr add "198.51.100.$((i * 64 - 62))/26" dev "p$i"
    nsx $p ip route add 203.0.113.0/24 via "198.51.100.$((i * 64 - 63))"
    nsx $p ip route add local 10.0.0.0/8 dev lo
    i=$((i + 1))
done

cat >"$d/r.json" <<'EOF'
{
  "ietf-interfaces:interfaces": { "interface": [
    { "name": "lan", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet0",
      "nprouter:mac-address": "02:00:00:00:0a:01",
      "ietf-ip:ipv4": { "address": [{ "ip": "203.0.113.1", "prefix-length": 24 }] } },
    { "name": "up1", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet1",
      "nprouter:mac-address": "02:00:00:00:0b:01",
      "ietf-ip:ipv4": { "address": [{ "ip": "198.51.100.1", "prefix-length": 26 }] } },
    { "name": "up2", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet2",
      "nprouter:mac-address": "02:00:00:00:0c:01",
      "ietf-ip:ipv4": { "address": [{ "ip": "198.51.100.65", "prefix-length": 26 }] } },
    { "name": "up3", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet3",
      "nprouter:mac-address": "02:00:00:00:0d:01",
      "ietf-ip:ipv4": { "address": [{ "ip": "198.51.100.129", "prefix-length": 26 }] } }
  ] }
}
EOF
FPM_PORT=$((20000 + $$ % 20000))
cat >"$d/zebra.conf" <<EOF
hostname r
fpm address 127.0.0.1 port $FPM_PORT
EOF
cat >"$d/bgpd.conf" <<'EOF'
hostname r
router bgp 65000
 bgp router-id 198.51.100.1
 no bgp ebgp-requires-policy
 timers bgp 3 9
 neighbor 198.51.100.2 remote-as 65001
 neighbor 198.51.100.66 remote-as 65002
 neighbor 198.51.100.130 remote-as 65003
EOF
bird_conf() { # NAME ME AS PREPEND FILE
    {
        echo "router id $2;"
        echo "protocol device {}"
        echo "protocol static st4 { ipv4;"
        sed 's/.*/  route & blackhole;/' "$5"
        echo "}"
        echo "filter to_r { if proto != \"st4\" then reject;"
        [ "$4" -gt 0 ] && for _ in $(seq "$4"); do echo "  bgp_path.prepend($3);"; done
        echo "  accept; }"
        echo "protocol bgp up4 { local $2 as $3; neighbor ${2%.*}.$(( ${2##*.} - 1 )) as 65000;"
        echo "  hold time 9; ipv4 { import none; export filter to_r; next hop self; }; }"
    } >"$d/$1.conf"
}
bird_conf P1 198.51.100.2 65001 0 "$d/prefixes"
bird_conf P2 198.51.100.66 65002 2 "$d/prefixes"
printf '172.31.%d.0/24\n' $(seq 0 99) >"$d/p3prefixes" # P3's own: it is a next hop too
bird_conf P3 198.51.100.130 65003 0 "$d/p3prefixes"

cleanup_all() {
    [ -n "${SENDER:-}" ] && kill "$SENDER" 2>/dev/null
    [ -n "${BRIDGE_PID:-}" ] && kill "$BRIDGE_PID" 2>/dev/null
    for f in bgpd zebra P1 P2 P3; do [ -f "$d/$f.pid" ] && kill "$(cat "$d/$f.pid")" 2>/dev/null; done
    sleep 0.5
    pkill -KILL -f -- "-f $d/" 2>/dev/null
    netns_cleanup
}
trap cleanup_all EXIT

start_router "$d/dp.log" rh rp1 rp2 rp3 -- --routes4 $((N + 10000))
apply "$d/r.json"
ip netns exec "$NS_R" "$NPR_CTL" --shm "$NPR_NAME" fpm --listen "127.0.0.1:$FPM_PORT" \
    >"$d/bridge.log" 2>&1 &
BRIDGE_PID=$!
frr_start -s 90000000 # a netlink buffer for a full table
for p in P1 P2 P3; do nsx $p /usr/sbin/bird -c "$d/$p.conf" -s "$d/$p.ctl" -P "$d/$p.pid" || bad "bird $p"; done

zebra_routes() { # nprouter's routes of origin zebra
    ctl --json show info 2>/dev/null |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["route4_by_origin"]["zebra"])' 2>/dev/null || echo 0
}
on_p1() { ctl route get 10.0.0.1 2>/dev/null | grep -c "via 198.51.100.2 dev up1"; }
on_p2() { ctl route get 10.0.0.1 2>/dev/null | grep -c "via 198.51.100.66 dev up2"; }
all_in() { [ "$(zebra_routes)" -ge $((N + 100)) ] && echo 1 || echo 0; }
wait_for() { # WHAT SECONDS CMD...: until CMD prints something non-zero
    local what=$1 secs=$2; shift 2
    for _ in $(seq $((secs * 4))); do
        [ "$("$@")" != 0 ] && return 0
        sleep 0.25
    done
    echo "frr_churn: $what: not within $secs s"; return 1
}
wait_for "all routes" 300 all_in || { bad "the routes did not arrive"; finish; exit 1; }
wait_for "P1 selected" 60 on_p1 || { bad "routes did not settle on P1"; finish; exit 1; }
echo "frr_churn: $(zebra_routes) routes of zebra's in nprouter, $N of them via P1 (P2 the backup)"

count() { snmp "$1" Udp NoPorts; }
c1=$(count P1); c2=$(count P2); c3=$(count P3)
# the sender: UDP to port 9 of addresses spread over the N prefixes, PPS a second
ip netns exec "$NS_H" $PY - "$N" "$PPS" "$d/sent" <<'EOF' &
import random, socket, sys, time
n, pps, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sent, t0, stop = 0, time.monotonic(), False
import signal
def done(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, done)
while not stop:
    i = random.randrange(n)
    v = 0x0a000000 + i * 64 + 1 + random.randrange(62)
    try:
        s.sendto(b"x", ("%d.%d.%d.%d" % (v >> 24, v >> 16 & 255, v >> 8 & 255, v & 255), 9))
        sent += 1
    except OSError:
        pass
    ahead = sent / pps - (time.monotonic() - t0)
    if ahead > 0:
        time.sleep(ahead)
open(out, "w").write("%d\n" % sent)
EOF
SENDER=$!
sleep 2
t0=$(date +%s.%N)
for k in $(seq "$FLAPS"); do
    nsx P1 /usr/sbin/birdc -s "$d/P1.ctl" disable up4 >/dev/null 2>&1
    wait_for "flap $k: to P2" 120 on_p2 || bad "flap $k: routes did not move to P2"
    nsx P1 /usr/sbin/birdc -s "$d/P1.ctl" enable up4 >/dev/null 2>&1
    wait_for "flap $k: back to P1" 120 on_p1 || bad "flap $k: routes did not come back to P1"
done
t1=$(date +%s.%N)
sleep 2
kill -TERM "$SENDER"; wait "$SENDER" 2>/dev/null; SENDER=""
sleep 1
sent=$(cat "$d/sent")
c1=$(( $(count P1) - c1 )); c2=$(( $(count P2) - c2 )); c3=$(( $(count P3) - c3 ))
lost=$((sent - c1 - c2 - c3))
echo "frr_churn: $FLAPS flaps of $N prefixes in $($PY -c "print('%.1f' % ($t1 - $t0))") s, while H sent $sent datagrams"
echo "frr_churn: received at P1 $c1, at P2 $c2, at P3 (wrong next hop) $c3; lost $lost"
ctl show stats | grep -E "NO_ROUTE|NH_INVALID|UNRESOLVED|BLACKHOLE|EXC_FULL|TX_FULL" || true
[ "$c3" -eq 0 ] && ok "no datagram went to a wrong next hop" || bad "$c3 datagrams went to a wrong next hop (P3)"
grep -E "error|refused" "$d/bridge.log" | head -5
finish
