#!/usr/bin/env bash
# FRR drives nprouter: zebra (-M dplane_fpm_nl) and bgpd run in the router's namespace, peer
# over nprouter's own ports (its host ports, the TAPs), and the routes zebra selects reach the
# data plane through the FPM bridge (`nprouter-control fpm`).
#
#   H (h0) ---- lan [ nprouter + FRR + bridge in R ] up1 ---- (p1) P1  bird2, AS 65001
#   203.0.113.2/24   203.0.113.1    198.51.100.1/26   198.51.100.2/26
#                                   up2 ---- (p2) P2  bird2, AS 65002
#                                   198.51.100.65/26  198.51.100.66/26
#
# P1 announces 198.18.1.0/24 and 2001:db8:1001::/48, both peers announce 198.18.2.0/24
# (ECMP). The YANG configuration adds a static route (198.18.100.0/24 via H) at the same time.
# Checks: sessions up over the TAPs; routes in nprouter's FIB with origin zebra; traffic from H
# reaches the BGP prefixes through nprouter; ECMP is a group of two; the static route and the
# BGP routes live side by side through a resync of each; a withdrawal removes the route; FRR,
# the bridge and the data plane restarted in turn: routes come back.
# Skipped (77) where FRR or bird2 is not installed or namespaces are refused.
set -uo pipefail
BUILD=$1
SRC=$2
. "$SRC/tests/e2e/lib.sh"
. "$SRC/tests/e2e/netns_lib.sh"
. "$SRC/tests/e2e/frr_lib.sh"
frr_require
netns_init
d=$(mktemp -d /tmp/npr-frr.XXXXXX)
chmod 755 "$d"

ns_add R
ns_add H
ns_add P1
ns_add P2
ns_link H h0 rh
ns_link P1 p1 rp1
ns_link P2 p2 rp2
nsx H ip addr add 203.0.113.2/24 dev h0
nsx H ip route add default via 203.0.113.1
nsx H ip -6 addr add 2001:db8:a::2/64 dev h0 nodad
nsx H ip -6 route add default via 2001:db8:a::1
nsx P1 ip addr add 198.51.100.2/26 dev p1
nsx P1 ip -6 addr add 2001:db8:b::2/64 dev p1 nodad
nsx P2 ip addr add 198.51.100.66/26 dev p2
# what the peers announce answers pings there: the first address of each prefix on lo
nsx P1 ip addr add 198.18.1.1/32 dev lo
nsx P1 ip addr add 198.18.2.1/32 dev lo
nsx P1 ip -6 addr add 2001:db8:1001::1/128 dev lo
nsx P2 ip addr add 198.18.2.1/32 dev lo
# the peers route back to H through nprouter
nsx P1 ip route add 203.0.113.0/24 via 198.51.100.1
nsx P1 ip -6 route add 2001:db8:a::/64 via 2001:db8:b::1
nsx P2 ip route add 203.0.113.0/24 via 198.51.100.65

cat >"$d/r.json" <<'EOF'
{
  "ietf-interfaces:interfaces": { "interface": [
    { "name": "lan", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet0",
      "nprouter:mac-address": "02:00:00:00:0a:01",
      "ietf-ip:ipv4": { "address": [{ "ip": "203.0.113.1", "prefix-length": 24 }] },
      "ietf-ip:ipv6": { "address": [{ "ip": "2001:db8:a::1", "prefix-length": 64 }] } },
    { "name": "up1", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet1",
      "nprouter:mac-address": "02:00:00:00:0b:01",
      "ietf-ip:ipv4": { "address": [{ "ip": "198.51.100.1", "prefix-length": 26 }] },
      "ietf-ip:ipv6": { "address": [{ "ip": "2001:db8:b::1", "prefix-length": 64 }] } },
    { "name": "up2", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet2",
      "nprouter:mac-address": "02:00:00:00:0c:01",
      "ietf-ip:ipv4": { "address": [{ "ip": "198.51.100.65", "prefix-length": 26 }] } }
  ] },
  "ietf-routing:routing": { "control-plane-protocols": { "control-plane-protocol": [
    { "type": "ietf-routing:static", "name": "static", "static-routes": {
      "ietf-ipv4-unicast-routing:ipv4": { "route": [
        { "destination-prefix": "198.18.100.0/24",
          "next-hop": { "next-hop-address": "203.0.113.2" } } ] } } } ] } }
}
EOF

# ---- FRR in R: zebra with the FPM module, bgpd; files in $d
frr_conf() { # USE-NHG: yes or no
    cat >"$d/zebra.conf" <<EOF
hostname r
fpm address 127.0.0.1 port $FPM_PORT
EOF
    [ "$1" = no ] && echo "no fpm use-next-hop-groups" >>"$d/zebra.conf"
    cat >"$d/bgpd.conf" <<'EOF'
hostname r
router bgp 65000
 bgp router-id 198.51.100.1
 no bgp ebgp-requires-policy
 bgp bestpath as-path multipath-relax
 timers bgp 3 9
 neighbor 198.51.100.2 remote-as 65001
 neighbor 198.51.100.66 remote-as 65002
 neighbor 2001:db8:b::2 remote-as 65001
 ! retry a lost session within seconds, not the default two minutes
 neighbor 198.51.100.2 timers connect 3
 neighbor 198.51.100.66 timers connect 3
 neighbor 2001:db8:b::2 timers connect 3
 address-family ipv4 unicast
  maximum-paths 8
 exit-address-family
 address-family ipv6 unicast
  neighbor 2001:db8:b::2 activate
 exit-address-family
EOF
}
FPM_PORT=$((20000 + $$ % 20000))
frr_stop() { # [SIGNAL]: TERM (default) is a clean stop, KILL a crash
    local f order="bgpd zebra"
    # a crash takes zebra first: a zebra that outlives bgpd even briefly withdraws bgpd's
    # routes over FPM, which is a clean stop, not the crash the hold is for
    [ "${1:-TERM}" = KILL ] && order="zebra bgpd"
    for f in $order; do
        [ -f "$d/$f.pid" ] && kill "-${1:-TERM}" "$(cat "$d/$f.pid")" 2>/dev/null
    done
    for _ in $(seq 50); do
        pgrep -f "zebra -d -f $d/" >/dev/null || pgrep -f "bgpd -d -f $d/" >/dev/null || return 0
        sleep 0.1
    done
    pkill -KILL -f -- "-f $d/" 2>/dev/null
}

# ---- bird2 in the peers: static routes exported by BGP
bird_conf() { # NAME MY-ADDR AS PREFIXES4... [-- PREFIXES6...]
    local name=$1 me=$2 as=$3 r4="" r6="" v6=0; shift 3
    for p in "$@"; do
        if [ "$p" = "--" ]; then v6=1; continue; fi
        if [ $v6 -eq 0 ]; then r4+="  route $p blackhole;"$'\n'; else r6+="  route $p blackhole;"$'\n'; fi
    done
    cat >"$d/$name.conf" <<EOF
router id $me;
protocol device {}
protocol static st4 { ipv4; $r4 }
protocol static st6 { ipv6; $r6 }
protocol bgp up4 {
  local $me as $as;
  neighbor ${me%.*}.$(( ${me##*.} - 1 )) as 65000;
  hold time 9;
  connect retry time 3;
  ipv4 { import none; export where proto = "st4"; next hop self; };
}
EOF
    if [ -n "$r6" ]; then
        cat >>"$d/$name.conf" <<EOF
protocol bgp up6 {
  local 2001:db8:b::2 as $as;
  neighbor 2001:db8:b::1 as 65000;
  hold time 9;
  connect retry time 3;
  ipv6 { import none; export where proto = "st6"; next hop self; };
}
EOF
    fi
}
bird_start() { nsx "$1" /usr/sbin/bird -c "$d/$1.conf" -s "$d/$1.ctl" -P "$d/$1.pid" || bad "bird $1"; }
birdc() { local n=$1; shift; nsx "$n" /usr/sbin/birdc -s "$d/$n.ctl" "$@"; }

bridge_start() { # HOLD-SECONDS (ip netns exec execs the program: $! is the bridge)
    ip netns exec "$NS_R" "$NPR_CTL" --shm "$NPR_NAME" fpm --listen "127.0.0.1:$FPM_PORT" \
        --hold "${1:-5}" >>"$d/bridge.log" 2>&1 &
    BRIDGE_PID=$!
}
bridge_stop() {
    kill "$BRIDGE_PID" 2>/dev/null
    wait "$BRIDGE_PID" 2>/dev/null
    if pgrep -f "fpm --listen 127.0.0.1:$FPM_PORT" >/dev/null; then
        bad "the bridge did not stop"
        pkill -KILL -f "fpm --listen 127.0.0.1:$FPM_PORT"
    fi
}

# eventually DESCRIPTION SECONDS PATTERN CMD...: CMD's output matches PATTERN within SECONDS
eventually() {
    local what=$1 secs=$2 pattern=$3 out; shift 3
    for _ in $(seq $((secs * 5))); do
        out=$("$@" 2>&1)
        if grep -qE -- "$pattern" <<<"$out"; then ok "$what"; return 0; fi
        sleep 0.2
    done
    bad "$what: no '$pattern' in:"; echo "$out" | head -30
    return 1
}
# wait_quiet SECONDS PATTERN CMD...: as eventually, without a verdict (0: matched)
wait_quiet() {
    local secs=$1 pattern=$2; shift 2
    for _ in $(seq $((secs * 5))); do
        "$@" 2>&1 | grep -qE -- "$pattern" && return 0
        sleep 0.2
    done
    return 1
}
eventually_not() {
    local what=$1 secs=$2 pattern=$3 out; shift 3
    for _ in $(seq $((secs * 5))); do
        out=$("$@" 2>&1)
        if ! grep -qE -- "$pattern" <<<"$out"; then ok "$what"; return 0; fi
        sleep 0.2
    done
    bad "$what: still '$pattern' in:"; echo "$out" | head -30
}

cleanup_all() {
    [ -n "${DAEMON_PID:-}" ] && kill "$DAEMON_PID" 2>/dev/null
    bridge_stop
    frr_stop
    for n in P1 P2; do [ -f "$d/$n.pid" ] && kill "$(cat "$d/$n.pid")" 2>/dev/null; done
    netns_cleanup
}
trap cleanup_all EXIT

start_router "$d/dp.log" rh rp1 rp2
# the YANG daemon applies the configuration and keeps it applied (it resyncs after a data
# plane restart), a third session beside the bridge's and the CLI's
ip netns exec "$NS_R" "$NPR_CTL" --shm "$NPR_NAME" run --poll 200 "$d/r.json" >"$d/daemon.log" 2>&1 &
DAEMON_PID=$!
eventually "the YANG daemon applied the configuration" 20 'r.json: applied' cat "$d/daemon.log"
bird_conf P1 198.51.100.2 65001 198.18.1.0/24 198.18.2.0/24 -- 2001:db8:1001::/48
bird_conf P2 198.51.100.66 65002 198.18.2.0/24
bird_start P1
bird_start P2
frr_conf yes
bridge_start 60
frr_start

routes() { ctl show routes; }
eventually "BGP sessions established over nprouter's ports (2 IPv4, 1 IPv6)" 40 \
    '^3 established' bgp_up
eventually "198.18.1.0/24 learnt by BGP is in nprouter's FIB (origin zebra)" 30 \
    '^198.18.1.0/24 via 198.51.100.2 dev up1 .*\[zebra bgp 20\]' routes
eventually "the IPv6 prefix too" 30 '^2001:db8:1001::/48 .*dev up1 .*\[zebra bgp 20\]' routes
eventually "ECMP: both peers' 198.18.2.0/24 is a group" 30 '^198.18.2.0/24 group [0-9]+ .*\[zebra bgp 20\]' routes
expect "the static route of the configuration is there too" \
    '^198.18.100.0/24 via 203.0.113.2 dev lan .*\[config 1\]' routes
expect "ping H -> 198.18.1.1 through nprouter" " 0% packet loss" nsx H ping -c 3 -i 0.2 -W 2 198.18.1.1
expect "ping6 H -> 2001:db8:1001::1" " 0% packet loss" nsx H ping -6 -c 3 -i 0.2 -W 2 2001:db8:1001::1
expect "ping H -> 198.18.2.1 (ECMP)" " 0% packet loss" nsx H ping -c 3 -i 0.2 -W 2 198.18.2.1
g=$(routes | sed -nE 's/^198.18.2.0\/24 group ([0-9]+) .*/\1/p')
expect "the group has both peers" "^$g +[0-9]+ +[0-9]+:[0-9]+ [0-9]+:[0-9]+ \[zebra\]" ctl show groups

# ECMP really spreads: UDP flows from 64 source ports to a closed port, counted where they
# arrive (each peer's UDP NoPorts counter)
c1=$(snmp P1 Udp NoPorts)
c2=$(snmp P2 Udp NoPorts)
nsx H $PY -c "
import socket
for sp in range(20000, 20064):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('', sp))
    s.sendto(b'x', ('198.18.2.1', 9))
    s.close()"
sleep 0.5
c1=$(( $(snmp P1 Udp NoPorts) - c1 ))
c2=$(( $(snmp P2 Udp NoPorts) - c2 ))
[ "$c1" -ge 8 ] && [ "$c2" -ge 8 ] && [ $((c1 + c2)) -eq 64 ] &&
    ok "64 flows spread over both peers ($c1 / $c2)" ||
    bad "64 flows spread over both peers ($c1 / $c2)"

# neither origin clobbers the other: a configuration resync keeps zebra's routes, and the
# static route stays while zebra's change
ctl apply --resync "$d/r.json" >/dev/null || bad "apply --resync"
expect "a configuration resync leaves zebra's routes" '^198.18.1.0/24 .*\[zebra bgp 20\]' routes
expect "and keeps its own" '^198.18.100.0/24 .*\[config 1\]' routes

# a withdrawal removes the route
birdc P1 disable up4 >/dev/null
eventually_not "P1 gone: 198.18.1.0/24 withdrawn from nprouter" 20 '^198.18.1.0/24' routes
eventually "P1 gone: 198.18.2.0/24 now only via P2" 20 '^198.18.2.0/24 via 198.51.100.66 dev up2' routes
expect "static route untouched" '^198.18.100.0/24 .*\[config 1\]' routes
birdc P1 enable up4 >/dev/null
eventually "P1 back: 198.18.1.0/24 again" 30 '^198.18.1.0/24 via 198.51.100.2' routes

# FRR crashes: nprouter keeps forwarding its routes meanwhile (hold time); FRR restarted, they
# are replayed and nothing is lost
frr_stop KILL
expect "FRR crashed: routes held" '^198.18.1.0/24 .*\[zebra' routes
expect "FRR crashed: still forwarding" " 0% packet loss" nsx H ping -c 2 -i 0.2 -W 2 198.18.1.1
frr_start
eventually "FRR restarted: BGP up again" 60 '^3 established' bgp_up
eventually "FRR restarted: routes there" 30 '^198.18.2.0/24 group' routes

# restart the bridge: routes stay meanwhile and after
bridge_stop
expect "bridge stopped: routes stay" '^198.18.1.0/24 .*\[zebra' routes
bridge_start 60
sleep 5 # zebra reconnects within 3 s and replays; the bridge sweeps after the replay
expect "bridge restarted: routes there" '^198.18.2.0/24 group .*\[zebra' routes
expect "bridge restarted: forwarding" " 0% packet loss" nsx H ping -c 2 -i 0.2 -W 2 198.18.1.1

# restart the data plane: its TAPs stay meanwhile (no carrier) with their ifindexes, the new
# data plane takes them over, BGP re-establishes over them as after a link flap, and the
# bridge (which reconnects by itself) programs the new data plane
ifindexes() { ip netns exec "$NS_R" ip -o link show | awk -F': ' '$2 ~ /^(lan|up1|up2)$/ {print $2 "=" $1}' | sort | tr '\n' ' '; }
before=$(ifindexes)
stop_dp || bad "the data plane did not stop cleanly"
expect "data plane stopped: its host ports stay" "^$before\$" ifindexes
start_router "$d/dp2.log" rh rp1 rp2
eventually "data plane restarted: the YANG daemon resynced it" 30 'resynced' cat "$d/daemon.log"
expect "data plane restarted: the same host ports taken over" "^$before\$" ifindexes
eventually "data plane restarted: BGP up again" 60 '^3 established' bgp_up
eventually "data plane restarted: zebra's routes back" 30 '^198.18.1.0/24 via 198.51.100.2 dev up1 .*\[zebra' routes
eventually "data plane restarted: ECMP back" 30 '^198.18.2.0/24 group' routes
expect "data plane restarted: forwarding" " 0% packet loss" nsx H ping -c 2 -i 0.2 -W 2 198.18.1.1

# FRR gone for longer than the hold time (a bridge holding 3 s): its routes are withdrawn
bridge_stop
bridge_start 3
sleep 5
frr_stop KILL
eventually_not "FRR gone past the hold time: its routes withdrawn" 20 '\[zebra' routes
expect "the static route stays" '^198.18.100.0/24 .*\[config 1\]' routes

bridge_stop
grep -E "." "$d/bridge.log" | tail -20
finish
