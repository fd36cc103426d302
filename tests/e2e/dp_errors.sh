#!/usr/bin/env bash
# Start-up and bad-input errors of the real binaries: each must fail with one clear line and a
# non-zero exit, and must not disturb a data plane that is already running.
set -uo pipefail
BUILD=$1
SRC=$2
. "$SRC/tests/e2e/lib.sh"
d=$(mktemp -d /tmp/npr-err.XXXXXX)
trap 'cleanup_dp; rm -rf "$d"' EXIT
fails=0

# expect_fail DESCRIPTION PATTERN COMMAND...: non-zero exit, output matching PATTERN
expect_fail() {
    local what=$1 pattern=$2; shift 2
    local out rc
    out=$("$@" 2>&1); rc=$?
    if [ $rc -eq 0 ]; then
        echo "FAIL: $what: exit 0"; echo "$out"; fails=$((fails + 1)); return
    fi
    if ! grep -qE -- "$pattern" <<<"$out"; then
        echo "FAIL: $what: no message matching '$pattern' in:"; echo "$out"; fails=$((fails + 1)); return
    fi
    echo "ok: $what: $(grep -E -- "$pattern" <<<"$out" | head -1)"
}

eal=(--no-pci --no-huge -m 256 --no-shconf --log-level='*:error')
expect_fail "no ports" "no ports" \
    "$NPR_DP" "${eal[@]}" --file-prefix "$NPR_NAME-a" -l 0,1 -- --shm "$NPR_NAME-a"
expect_fail "no worker lcore" "no worker lcores" \
    "$NPR_DP" "${eal[@]}" --file-prefix "$NPR_NAME-b" -l 0 --vdev net_null0 -- --shm "$NPR_NAME-b"
expect_fail "unknown option" "unrecognized option|unexpected argument" \
    "$NPR_DP" "${eal[@]}" --file-prefix "$NPR_NAME-c" -l 0,1 --vdev net_null0 -- --bogus
expect_fail "bad number" "--routes4: 'lots' is not a number" \
    "$NPR_DP" "${eal[@]}" --file-prefix "$NPR_NAME-c" -l 0,1 --vdev net_null0 -- --routes4 lots
expect_fail "buffers too small" "--mbuf-size: '512' is not a number in 1024\.\.65407" \
    "$NPR_DP" "${eal[@]}" --file-prefix "$NPR_NAME-c" -l 0,1 --vdev net_null0 -- --mbuf-size 512
expect_fail "bad shm name" "invalid shared-memory name" \
    "$NPR_DP" "${eal[@]}" --file-prefix "$NPR_NAME-c" -l 0,1 --vdev net_null0 -- --shm a/b
free=$(cat /sys/kernel/mm/hugepages/hugepages-*/free_hugepages 2>/dev/null | awk '{s+=$1} END {print s+0}')
if [ "$free" -eq 0 ]; then
    expect_fail "no hugepages" "no free hugepages" \
        "$NPR_DP" --no-pci --file-prefix "$NPR_NAME-d" -l 0,1 --vdev net_null0 -- --shm "$NPR_NAME-d"
else
    echo "skip: no-hugepages case ($free free hugepages on this machine)"
fi
expect_fail "control without a data plane" "no data plane" "$NPR_CTL" --shm "$NPR_NAME-none" hello

# a name squatted by another user (a fake header claiming a live pid): the control refuses to
# talk to it, and a data plane takes the name back
sq="$NPR_NAME-sq"
$PY -c "
import struct, sys
hdr = struct.pack('<QII', 0x5245545541525031, 3, 4096) + bytes(4096 - 16)
open('/dev/shm/$sq', 'wb').write(hdr[:120] + struct.pack('<i', 1) + hdr[124:])"
chown 65534 "/dev/shm/$sq"
chmod 0644 "/dev/shm/$sq"
expect_fail "control refuses a segment of another user" "belongs to uid 65534" \
    "$NPR_CTL" --shm "$sq" --timeout 200 hello
"$NPR_DP" "${eal[@]}" --file-prefix "$NPR_NAME-sq" -l 0,1 --vdev net_null0 -- --shm "$sq" \
    >"$d/sq.log" 2>&1 &
sq_pid=$!
for _ in $(seq 100); do "$NPR_CTL" --shm "$sq" --timeout 200 hello >/dev/null 2>&1 && break; sleep 0.1; done
if "$NPR_CTL" --shm "$sq" hello >/dev/null 2>&1 && grep -q "belonged to uid 65534" "$d/sq.log"; then
    echo "ok: a data plane takes a squatted name back: $(grep -m1 'belonged' "$d/sq.log")"
else
    echo "FAIL: a data plane takes a squatted name back:"; cat "$d/sq.log"; fails=$((fails + 1))
fi
kill "$sq_pid" 2>/dev/null; wait "$sq_pid" 2>/dev/null
rm -f "/dev/shm/$sq"

# a running data plane, then everything that must not disturb it
start_dp "$d/dp.log" -l 0,1 --vdev net_null0 --vdev net_null1 -- || exit 1
ctl interface set a port 0 up >/dev/null
ctl nexthop set 1 via 192.0.2.2 dev a lladdr 02:00:00:00:00:02 >/dev/null
ctl route add 10.0.0.0/8 nexthop 1 >/dev/null
before=$(ctl show routes; ctl show nexthops; ctl show interfaces)

expect_fail "second data plane on the same name" "in use by the data plane with pid $NPR_DP_PID" \
    "$NPR_DP" "${eal[@]}" --file-prefix "$NPR_NAME-e" -l 0,1 --vdev net_null0 -- --shm "$NPR_NAME"
expect_fail "unknown port name" "port|no such" ctl interface set b port net_bogus9 up
expect_fail "unknown interface" "interface|no such" ctl nexthop set 2 via 192.0.2.3 dev nope
expect_fail "route to unknown next hop" "does not exist|ENOENT|no such" ctl route add 11.0.0.0/8 nexthop 77
expect_fail "host bits" "host bits" ctl route add 10.0.0.1/8 nexthop 1
expect_fail "prefix length" "prefix|length|invalid" ctl route add 10.0.0.0/33 nexthop 1
expect_fail "delete a used next hop" "in use|EBUSY|busy" ctl nexthop del 1
expect_fail "MTU above what the port carries" \
    "interface a: MTU 9000 above what port 0 \(net_null0\) carries: 2030 \(mbuf data room 2048 - 18\)" \
    ctl interface set a mtu 9000
expect_fail "delete an absent route" "not|ENOENT" ctl route del 12.0.0.0/8
printf 'route add 13.0.0.0/8 nexthop 1\nroute add 14.0.0.0/8 nexthop 99\n' >"$d/bad.batch"
expect_fail "batch with one bad line" "99|exist" ctl batch "$d/bad.batch"
expect_fail "route load with a bad line" ":2:" ctl route load <(printf '15.0.0.0/8 1\n15.0.0.1/8 1\n')

# another process scribbles over the segment's layout (header words, a ring's size and mask):
# the data plane puts it back, clients get in again, and the repair is counted
$PY - "/dev/shm/$NPR_NAME" <<'EOF'
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 8192)
m[0:8] = os.urandom(8)        # magic
m[40:72] = os.urandom(32)     # n_slots, slot_off, slot_size, ring_size
m[4096 + 128:4096 + 144] = os.urandom(16)  # slot 0's request ring: size, mask
m.close()
os.close(fd)
EOF
ok_after=0
for _ in $(seq 30); do ctl --timeout 500 hello >/dev/null 2>&1 && { ok_after=1; break; }; sleep 0.1; done
if [ $ok_after -eq 1 ] && ctl --json show stats | grep -qE '"layout_repairs":[1-9]'; then
    echo "ok: a scribbled segment layout is repaired: $(ctl show stats | grep -m1 'layout repairs')"
else
    echo "FAIL: a scribbled segment layout is repaired:"; ctl show stats 2>&1 | head -3; fails=$((fails + 1))
fi

after=$(ctl show routes; ctl show nexthops; ctl show interfaces)
if [ "$before" != "$after" ]; then
    echo "FAIL: the running configuration changed:"; diff <(echo "$before") <(echo "$after"); fails=$((fails + 1))
else
    echo "ok: running configuration unchanged after every rejected input"
fi

# inputs that were taken and then did harm (an outside audit found them): refused now
ctl address add 192.0.2.1/24 dev a >/dev/null
expect_fail "gateway is the router's own address" "gateway 192.0.2.1 is an address of this router \(interface a\)" \
    ctl route add 16.0.0.0/8 via 192.0.2.1 dev a
expect_fail "address del with another prefix length" "192.0.2.1/25 is not on interface 0 \(192.0.2.1/24 is\)" \
    ctl address del 192.0.2.1/25 dev a
expect_fail "address in 0.0.0.0/8" "0.0.0.1 is in 0.0.0.0/8" ctl address add 0.0.0.1/8 dev a
expect_fail "batch that cannot be read" "read error: Is a directory; nothing sent" ctl batch "$d"

# a route's inline next hop goes with the route: replaced, deleted, or never added
nhs() { ctl --json show nexthops | $PY -c 'import json, sys; print(len(json.load(sys.stdin)))'; }
n0=$(nhs)
ctl route add 17.0.0.0/8 via 192.0.2.10 dev a >/dev/null
for gw in 11 12 13; do ctl route replace 17.0.0.0/8 via 192.0.2.$gw dev a >/dev/null; done
n1=$(nhs)
ctl route add 17.0.0.0/8 via 192.0.2.14 dev a >/dev/null # an add over it replaces it
n2=$(nhs)
printf 'route add 18.0.0.0/8 via 192.0.2.15 dev a\n' >"$d/add.batch"
printf 'route del 18.0.0.0/8\nroute del 17.0.0.0/8\n' >"$d/del.batch"
ctl batch "$d/add.batch" >/dev/null
n3=$(nhs)
ctl batch "$d/del.batch" >/dev/null
n4=$(nhs)
ctl nexthop set 9 via 192.0.2.16 dev a >/dev/null # made by hand: stays unused
ctl route add 19.0.0.0/8 via 192.0.2.16 dev a >/dev/null # reuses 9
ctl route del 19.0.0.0/8 >/dev/null
n5=$(nhs)
if [ "$n1" -eq $((n0 + 1)) ] && [ "$n2" -eq "$n1" ] && [ "$n3" -eq $((n0 + 2)) ] &&
    [ "$n4" -eq "$n0" ] && [ "$n5" -eq $((n0 + 1)) ]; then
    echo "ok: inline next hops go with their routes ($n0 $n1 $n2 $n3 $n4 $n5 next hops)"
else
    echo "FAIL: inline next hops: $n0 $n1 $n2 $n3 $n4 $n5 next hops (want n, n+1, n+1, n+2, n, n+1)"
    ctl show nexthops; fails=$((fails + 1))
fi
stop_dp || { echo "FAIL: data plane did not stop cleanly"; fails=$((fails + 1)); }
[ -e "/dev/shm/$NPR_NAME" ] && { echo "FAIL: /dev/shm/$NPR_NAME left behind"; fails=$((fails + 1)); }

# buffers for jumbo frames: the ports carry 9000, and an interface may have it
start_dp "$d/dpj.log" -l 0,1 --vdev net_null0 -- --mbuf-size 9216 || exit 1
if grep -q "port 0 net_null0 .*MTU up to 9000 (nprouter's maximum)" "$d/dpj.log" &&
    ctl interface set j port 0 mtu 9000 up >/dev/null && ctl show interfaces | grep -qE "^0 +j .* 9000 +up"; then
    echo "ok: --mbuf-size 9216: MTU 9000 taken"
else
    echo "FAIL: --mbuf-size 9216:"; cat "$d/dpj.log"; ctl show interfaces; fails=$((fails + 1))
fi
stop_dp || { echo "FAIL: data plane did not stop cleanly"; fails=$((fails + 1)); }
echo "$fails failure(s)"
[ $fails -eq 0 ]
