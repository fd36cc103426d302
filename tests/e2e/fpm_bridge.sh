#!/usr/bin/env bash
# The FPM bridge (nprouter-control fpm) end to end, without FRR: tests/e2e/fpm_feed.py writes
# the frames zebra's dplane_fpm_nl would, to a bridge in front of a real data plane.
#
# In a network namespace R: the data plane on two net_null ports with host ports on, so that
# the interfaces lan and wan have TAPs of their names, whose ifindexes the stream uses (zebra
# names interfaces so); dum0, a veth nprouter has no interface for. The bridge runs in
# R too (--hold 2 --settle 300), its log in $d/bridge.log.
#
#   1 one zebra connection, kept open: next hops inline (gateway + interface, multipath,
#     blackhole, IPv6 link-local), a connected route (dropped), a next hop on dum0 and an IPv4
#     route over an IPv6 gateway (not installed, logged), an MPLS route (skipped); zebra's
#     update (DEL + NEW in one frame), a delete; next-hop groups: a group before its members,
#     a route waiting for its group, an object changed in place; a malformed frame (dropped
#     whole, the connection goes on)
#   2 zebra reconnects and replays a part: the rest is swept
#   3 zebra goes: the routes stay --hold seconds, then are withdrawn
#   4 a broken stream (bad FPM header): the bridge closes the connection
#   5 the bridge is restarted (SIGTERM: exit 0, routes left in place), listening on [::1]:
#     what zebra does not replay to the new one is swept by the data plane
#   6 the data plane restarts: the bridge resends its mirror (and the interfaces' next hops
#     once the configuration is back)
set -uo pipefail
BUILD=$1
SRC=$2
. "$SRC/tests/e2e/lib.sh"
. "$SRC/tests/e2e/netns_lib.sh"
netns_init
d=$(mktemp -d /tmp/npr-fpm.XXXXXX)
BR_PID=
FEED_PID=
cleanup() {
    exec 3>&-
    [ -n "$FEED_PID" ] && kill -KILL "$FEED_PID" 2>/dev/null
    [ -n "$BR_PID" ] && kill -KILL "$BR_PID" 2>/dev/null
    netns_cleanup
}
trap cleanup EXIT

ns_add R
nsx R ip link add dum0 type veth peer name dum1
nsx R ip link set dum0 up

start_dp_ns() {
    ip netns exec "$NS_R" "$NPR_DP" --no-pci --no-huge -m 512 --no-shconf \
        --file-prefix "$NPR_NAME" --log-level='*:warning' -l 0,1 --vdev net_null0 \
        --vdev net_null1 -- --shm "$NPR_NAME" >>"$d/dp.log" 2>&1 3>&- &
    NPR_DP_PID=$!
    for _ in $(seq 200); do
        kill -0 "$NPR_DP_PID" 2>/dev/null || { echo "FAIL: data plane exited:"; cat "$d/dp.log"; exit 1; }
        ctl hello >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "FAIL: data plane did not answer:"; cat "$d/dp.log"; exit 1
}
configure() {
    ctl batch - <<EOF || { echo "FAIL: configuration"; exit 1; }
interface set lan port net_null0 mac 02:00:00:00:0a:01 up
address add 192.0.2.1/24 dev lan
address add 2001:db8:a::1/64 dev lan
interface set wan port net_null1 mac 02:00:00:00:0b:01 up
address add 198.51.100.1/24 dev wan
EOF
    for t in lan wan; do
        for _ in $(seq 50); do nsx R ip link show "$t" >/dev/null 2>&1 && break; sleep 0.1; done
    done
}
start_bridge() { # LISTEN ARGS... (the log keeps what every bridge said)
    local listen=$1; shift
    ip netns exec "$NS_R" "$NPR_CTL" --shm "$NPR_NAME" fpm --listen "$listen" --settle 300 "$@" \
        >>"$d/bridge.log" 2>&1 3>&- &
    BR_PID=$!
    for _ in $(seq 50); do grep -qF "listening on $listen" "$d/bridge.log" && return 0; sleep 0.1; done
    echo "FAIL: the bridge does not listen:"; cat "$d/bridge.log"; exit 1
}
# zebra: a feeder reading commands from the FIFO $d/z (fd 3) until it is closed (so nothing
# else started in the background may hold fd 3)
zebra_open() { # ADDR:PORT
    rm -f "$d/z"
    mkfifo "$d/z"
    ip netns exec "$NS_R" "$PY" "$SRC/tests/e2e/fpm_feed.py" --connect "$1" <"$d/z" \
        >>"$d/feed.log" 2>&1 &
    FEED_PID=$!
    exec 3>"$d/z"
}
zebra() { printf '%s\n' "$@" >&3; }
zebra_close() {
    exec 3>&-
    wait "$FEED_PID" || bad "the feeder failed: $(tail -3 "$d/feed.log")"
    FEED_PID=
}
zcount() { # "IPV4 IPV6": zebra's routes in the data plane
    ctl --json show info | $PY -c 'import json,sys; d=json.load(sys.stdin)
print(d["route4_by_origin"]["zebra"], d["route6_by_origin"]["zebra"])'
}
# eventually DESCRIPTION PATTERN CMD...: CMD's output matches PATTERN within 5 s
eventually() {
    local what=$1 pattern=$2 out; shift 2
    for _ in $(seq 50); do
        out=$("$@" 2>&1)
        if grep -qE -- "$pattern" <<<"$out"; then ok "$what"; return 0; fi
        sleep 0.1
    done
    bad "$what: no '$pattern' in:"; echo "$out"
}
# logged N PATTERN: the log has PATTERN at least N times within 5 s
logged() {
    for _ in $(seq 50); do
        [ "$(grep -cE -- "$2" "$d/bridge.log")" -ge "$1" ] && { ok "log: '$2' x$1"; return 0; }
        sleep 0.1
    done
    bad "log: '$2' not $1 times"
}
settled() { logged "$1" "replay complete"; } # N: zebra's N-th replay settled
log_has() { expect "log: $1" "$2" cat "$d/bridge.log"; }

start_dp_ns
configure
start_bridge 127.0.0.1:2620 --hold 2

echo "--- 1: one connection"
zebra_open 127.0.0.1:2620
zebra "route 10.1.0.0/16 via 192.0.2.2 dev lan" \
    "route 10.2.0.0/16 proto ospf multipath 192.0.2.2@lan:1 198.51.100.2@wan:3" \
    "route 10.3.0.0/16 proto static blackhole" \
    "route 192.0.2.0/24 proto kernel dev lan" \
    "route 10.4.0.0/16 via 192.0.2.9 dev dum0" \
    "route 2001:db8:9::/48 via fe80::2 dev lan" \
    "route 10.5.0.0/16 via fe80::2 dev lan" \
    "mpls"
settled 1
expect "gateway route" "10.1.2.3 via 192.0.2.2 dev lan" ctl route get 10.1.2.3
expect "its origin, protocol and distance" "^10.1.0.0/16 via 192.0.2.2 dev lan .*\[zebra bgp 20\]" ctl show routes
expect "multipath: a group" "^10.2.0.0/16 group [0-9]+ \[zebra ospf 110\]" ctl show routes
expect "multipath weights" "[0-9]+:1 [0-9]+:3 \[zebra\]" ctl show groups
expect "blackhole" "^10.3.0.0/16 blackhole .*\[zebra static 1\]" ctl show routes
expect "connected route dropped: the data plane's own" "^192.0.2.0/24 dev lan \(connected\)$" ctl show routes
expect_not "no route over dum0" "^10.4.0.0/16" ctl show routes
expect "IPv6 over a link-local gateway" "^2001:db8:9::/48 via fe80::2 dev lan .*\[zebra" ctl show routes
expect_not "no IPv4 over IPv6 gateway" "^10.5.0.0/16" ctl show routes
expect "counts by origin" "^3 1$" zcount
log_has "dum0 logged" "ifindex [0-9]+ \(dum0\): nprouter has no interface"
log_has "RFC 5549 logged" "10.5.0.0/16: IPv4 over an IPv6 next hop"
log_has "MPLS skipped" "RTM_NEWROUTE: skipped \(family 28\) \(counted"
log_has "replay counts" "replay complete: 7 route and 0 next-hop messages .* 4 installed, 0 pending, 2 not installable, 1 connected dropped"

zebra "update 10.1.0.0/16 via 198.51.100.2 dev wan" "del 10.3.0.0/16"
eventually "update: the new gateway" "10.1.2.3 via 198.51.100.2 dev wan" ctl route get 10.1.2.3
eventually "delete" "^2 1$" zcount

zebra "nh 100 group 1:1 2:1" "route 10.6.0.0/16 nhid 100" "route 10.7.0.0/16 nhid 200"
sleep 0.5
expect_not "a route waits for its group's members" "^10.6.0.0/16" ctl show routes
kill -USR1 "$BR_PID"
eventually "pending counted" "pending 2," cat "$d/bridge.log"
zebra "nh 1 via 192.0.2.3 dev lan" "nh 2 via 198.51.100.3 dev wan"
eventually "then goes in over the group" "^10.6.0.0/16 group [0-9]+ \[zebra bgp 20\]" ctl show routes
grp_before=$(ctl show routes | awk '$1 == "10.6.0.0/16" { print $3 }')
zebra "nh 2 via 198.51.100.4 dev wan"
eventually "a next hop changed in place" "198.51.100.4 +wan" ctl show nexthops
expect "the route keeps its group" "^10.6.0.0/16 group $grp_before " ctl show routes
expect_not "the old gateway is gone" "198.51.100.3 " ctl show nexthops

zebra "bad-attr 10.1.0.0/16" "route 10.8.0.0/16 via 192.0.2.2 dev lan"
eventually "after a malformed frame the connection goes on" "^10.8.0.0/16 via 192.0.2.2" ctl show routes
expect "the malformed frame's delete was not applied" "^10.1.0.0/16 via 198.51.100.2" ctl show routes
log_has "malformed frame logged" "malformed route: RTM_NEWROUTE 10.1.0.0/16: attribute type 4: rta_len 200 out of bounds .*frame is dropped"
expect "counts" "^4 1$" zcount

echo "--- 2: reconnect, replaying a part"
zebra_close
zebra_open 127.0.0.1:2620
zebra "nh 1 via 192.0.2.3 dev lan" "nh 2 via 198.51.100.4 dev wan" "nh 100 group 1:1 2:1" \
    "route 10.6.0.0/16 nhid 100" "route 10.1.0.0/16 via 198.51.100.2 dev wan"
settled 2
expect "what was replayed stays" "^10.6.0.0/16 group" ctl show routes
expect "what was replayed stays (2)" "^10.1.0.0/16 via 198.51.100.2" ctl show routes
expect "the rest is swept" "^2 0$" zcount
log_has "sweep counted" "sweep: 7 routes and 0 next-hop objects zebra did not replay removed"

echo "--- 3: zebra goes, hold 2 s"
zebra_close
sleep 1
expect "routes held" "^2 0$" zcount
eventually "then withdrawn" "^0 0$" zcount
log_has "hold logged" "hold time over \(2 s without zebra\)"
expect_not "no next hop left" "zebra" ctl show nexthops

echo "--- 4: a broken stream"
printf 'route 10.9.0.0/16 via 192.0.2.2 dev lan\nbad-header\n' >"$d/broken.txt"
if nsx R "$PY" "$SRC/tests/e2e/fpm_feed.py" --connect 127.0.0.1:2620 --script "$d/broken.txt" \
    --expect-close >>"$d/feed.log" 2>&1; then
    ok "the bridge closed the connection"
else
    bad "the bridge did not close the broken connection"
fi
log_has "broken stream logged" "FPM header: version 2, want 1"
log_has "closed" "zebra disconnected \(broken stream"
kill -0 "$BR_PID" 2>/dev/null && ok "the bridge survives" || bad "the bridge died"

echo "--- 5: the bridge restarts"
zebra_open 127.0.0.1:2620
zebra "route 10.10.0.0/16 via 192.0.2.2 dev lan" "route 10.11.0.0/16 via 198.51.100.2 dev wan"
settled 3
kill -TERM "$BR_PID"
wait "$BR_PID"
rc=$?
BR_PID=
[ $rc -eq 0 ] && ok "SIGTERM: exit 0" || bad "SIGTERM: exit $rc"
zebra_close
expect "routes left in place" "^2 0$" zcount
nh_old=$(ctl show nexthops | awk '$NF == "zebra" { print $1 }' | tr '\n' ' ')
start_bridge "[::1]:2620" --hold 30
eventually "log: leftovers seen" "left by an earlier bridge: zebra's objects there stay until zebra connects" cat "$d/bridge.log"
zebra_open "[::1]:2620"
zebra "route 10.10.0.0/16 via 192.0.2.2 dev lan"
settled 4
expect "replayed route kept" "^10.10.0.0/16 via 192.0.2.2 dev lan" ctl show routes
expect "the data plane swept the rest" "^1 0$" zcount
log_has "sweep by the data plane" "data plane: removed 1 routes 0 groups 2 nhs"
nh_new=$(ctl show nexthops | awk '$NF == "zebra" { print $1 }' | tr '\n' ' ')
for id in $nh_new; do
    case " $nh_old " in *" $id "*) bad "new next hop id $id was taken before ($nh_old)" ;; esac
done
ok "new next hop ids ($nh_new) avoid the earlier bridge's ($nh_old)"

echo "--- 6: the data plane restarts"
stop_dp || bad "the data plane did not stop cleanly"
start_dp_ns
logged 2 "data plane instance .* 0 routes, 0 next hops"
configure
eventually "its routes come back once the interfaces do" "^10.10.0.0/16 via 192.0.2.2 dev lan .*\[zebra" ctl show routes
log_has "resync logged" "resync: "
zebra "route 10.12.0.0/16 via 198.51.100.2 dev wan"
eventually "and it goes on" "^10.12.0.0/16 via 198.51.100.2 dev wan" ctl show routes
zebra_close

kill -TERM "$BR_PID"
wait "$BR_PID"
BR_PID=
echo "--- the bridge's log"
cat "$d/bridge.log"
stop_dp || bad "the data plane did not stop cleanly"
echo "$fails failure(s)"
[ "$fails" -eq 0 ]
