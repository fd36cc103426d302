#!/usr/bin/env bash
# A full BGP table into nprouter through FRR, side by side with the same FRR installing it into
# the Linux kernel (zebra's own data plane), in the same run:
#
#   bird2 (P, AS 65001, the table as static routes) --BGP over nprouter's port up1-->
#   bgpd + zebra in R --netlink--> R's kernel FIB
#                     --FPM--> nprouter-control fpm --ring--> nprouter's FIB
#
# Prints, from the moment the BGP session is up, when each FIB holds every prefix (and the
# rates), then checks that nprouter's FIB has them: the count by origin, and a sample of
# `route get` against the table. Numbers go to docs/performance.md; the test suite runs it with
# --check (a small table, no timings judged).
#
#   tools/bench/frr_full.sh BUILD SRC [--v4 FILE.gz] [--v6 FILE.gz] [--limit N] [--check]
#
# Default tables: ../shared/data/ipv4-full-table.txt.gz and ipv6-full-table.txt.gz (one prefix
# a line); without them, synthetic ones (200,000 IPv4 and 50,000 IPv6 prefixes).
set -uo pipefail
BUILD=$1
SRC=$2
shift 2
V4="$SRC/../shared/data/ipv4-full-table.txt.gz"
V6="$SRC/../shared/data/ipv6-full-table.txt.gz"
LIMIT=0
CHECK=0
while [ $# -gt 0 ]; do
    case "$1" in
    --v4) V4=$2; shift ;;
    --v6) V6=$2; shift ;;
    --limit) LIMIT=$2; shift ;;
    --check) CHECK=1 ;;
    *) echo "usage: frr_full.sh BUILD SRC [--v4 F] [--v6 F] [--limit N] [--check]"; exit 2 ;;
    esac
    shift
done
. "$SRC/tests/e2e/lib.sh"
. "$SRC/tests/e2e/netns_lib.sh"
. "$SRC/tests/e2e/frr_lib.sh"
frr_require
netns_init
d=$(mktemp -d /tmp/npr-frrfull.XXXXXX)
chmod 755 "$d"

# ---- the tables: prefixes, one a line
if [ -r "$V4" ] && [ -r "$V6" ]; then
    zcat "$V4" >"$d/t4"
    zcat "$V6" >"$d/t6"
    src="$(basename "$V4"), $(basename "$V6")"
else
    $PY - "$d/t4" "$d/t6" <<'EOF'
import random, sys
random.seed(7)
s4, s6 = set(), set()
while len(s4) < 200000:
    a = random.randrange(1, 224)
    if a in (10, 127, 100, 169, 172, 192, 198, 203):
        continue
    pl = random.choice((16, 19, 20, 22, 23, 24, 24, 24))
    v = (a << 24 | random.getrandbits(24)) & (0xffffffff << (32 - pl))
    s4.add("%d.%d.%d.%d/%d" % (v >> 24, v >> 16 & 255, v >> 8 & 255, v & 255, pl))
while len(s6) < 50000:
    pl = random.choice((32, 36, 40, 44, 48, 48, 48))
    v = (0x2400 << 112 | random.getrandbits(104) << 8) & ((1 << 128) - (1 << (128 - pl)))
    h = "%032x" % v
    s6.add(":".join(h[i:i + 4] for i in range(0, 32, 4)) + "/%d" % pl)
open(sys.argv[1], "w").write("\n".join(sorted(s4)) + "\n")
open(sys.argv[2], "w").write("\n".join(sorted(s6)) + "\n")
EOF
    src="synthetic (no ../shared/data)"
fi
if [ "$LIMIT" -gt 0 ]; then
    head -n "$LIMIT" "$d/t4" >"$d/t4.x" && mv "$d/t4.x" "$d/t4"
    head -n "$((LIMIT / 4))" "$d/t6" >"$d/t6.x" && mv "$d/t6.x" "$d/t6"
fi
# no prefix may cover the test's own addresses (a more specific one would still win, but a
# /8 over the peer link would make zebra resolve its next hop oddly)
grep -vE '^(198\.51\.100\.|203\.0\.113\.|0\.0\.0\.0/0)' "$d/t4" >"$d/t4.x" && mv "$d/t4.x" "$d/t4"
grep -vE '^(2001:db8:|::/0)' "$d/t6" >"$d/t6.x" && mv "$d/t6.x" "$d/t6"
N4=$(wc -l <"$d/t4")
N6=$(wc -l <"$d/t6")
echo "frr_full: $N4 IPv4 + $N6 IPv6 prefixes from $src"

ns_add R
ns_add P
ns_link P p1 rp1
nsx P ip addr add 198.51.100.2/26 dev p1
nsx P ip -6 addr add 2001:db8:b::2/64 dev p1 nodad

cat >"$d/r.json" <<'EOF'
{
  "ietf-interfaces:interfaces": { "interface": [
    { "name": "up1", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet0",
      "nprouter:mac-address": "02:00:00:00:0b:01",
      "ietf-ip:ipv4": { "address": [{ "ip": "198.51.100.1", "prefix-length": 26 }] },
      "ietf-ip:ipv6": { "address": [{ "ip": "2001:db8:b::1", "prefix-length": 64 }] } }
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
 neighbor 198.51.100.2 remote-as 65001
 neighbor 2001:db8:b::2 remote-as 65001
 address-family ipv6 unicast
  neighbor 2001:db8:b::2 activate
 exit-address-family
EOF
{
    echo "router id 198.51.100.2;"
    echo "protocol device {}"
    echo "protocol static st4 { ipv4;"
    sed 's/.*/  route & blackhole;/' "$d/t4"
    echo "}"
    echo "protocol static st6 { ipv6;"
    sed 's/.*/  route & blackhole;/' "$d/t6"
    echo "}"
    cat <<'EOF'
protocol bgp up4 {
  local 198.51.100.2 as 65001; neighbor 198.51.100.1 as 65000;
  ipv4 { import none; export where proto = "st4"; next hop self; };
}
protocol bgp up6 {
  local 2001:db8:b::2 as 65001; neighbor 2001:db8:b::1 as 65000;
  ipv6 { import none; export where proto = "st6"; next hop self; };
}
EOF
} >"$d/P.conf"

cleanup_all() {
    [ -n "${BRIDGE_PID:-}" ] && kill "$BRIDGE_PID" 2>/dev/null
    for f in bgpd zebra; do [ -f "$d/$f.pid" ] && kill "$(cat "$d/$f.pid")" 2>/dev/null; done
    [ -f "$d/P.pid" ] && kill "$(cat "$d/P.pid")" 2>/dev/null
    sleep 0.5
    pkill -KILL -f -- "-f $d/" 2>/dev/null
    netns_cleanup
}
trap cleanup_all EXIT

start_router "$d/dp.log" rp1 -- --routes4 $((N4 + 1000)) --routes6 $((N6 + 1000))
apply "$d/r.json"
ip netns exec "$NS_R" "$NPR_CTL" --shm "$NPR_NAME" fpm --listen "127.0.0.1:$FPM_PORT" >"$d/bridge.log" 2>&1 &
BRIDGE_PID=$!
frr_start -s 90000000 # a netlink buffer for a full table
nsx P /usr/sbin/bird -c "$d/P.conf" -s "$d/P.ctl" -P "$d/P.pid" || bad "bird"

now() { date +%s.%N; }
# the counts: nprouter's zebra-origin routes; the kernel's, as zebra counts what it installed
npr_count() {
    ctl --json show info 2>/dev/null | $PY -c '
import json, sys
v = json.load(sys.stdin)
print(v["route4_by_origin"]["zebra"], v["route6_by_origin"]["zebra"])' 2>/dev/null || echo "0 0"
}
kernel_count() {
    local a b
    a=$(nsx R /usr/bin/vtysh --vty_socket "$d" -c "show ip route summary json" 2>/dev/null |
        $PY -c 'import json,sys; print(json.load(sys.stdin).get("routesTotalFib", 0))' 2>/dev/null)
    b=$(nsx R /usr/bin/vtysh --vty_socket "$d" -c "show ipv6 route summary json" 2>/dev/null |
        $PY -c 'import json,sys; print(json.load(sys.stdin).get("routesTotalFib", 0))' 2>/dev/null)
    echo "${a:-0} ${b:-0}"
}

# t0: both sessions up (bgpd sees them established)
t_start=$(now)
t0=""
for _ in $(seq 600); do
    n=$(bgp_up | cut -d' ' -f1)
    if [ "${n:-0}" -ge 2 ]; then t0=$(now); break; fi
    sleep 0.1
done
[ -n "$t0" ] || { bad "BGP sessions did not come up in 60 s"; finish; exit 1; }
echo "frr_full: sessions up $($PY -c "print('%.1f' % ($t0 - $t_start))") s after start"

# until both FIBs hold everything (the kernel's count includes zebra's connected routes: at
# least N); at most 10 minutes
want4=$N4
want6=$N6
t_npr=""
t_ker=""
for _ in $(seq 2400); do
    if [ -z "$t_npr" ]; then
        read -r a b < <(npr_count)
        [ "$a" -ge "$want4" ] && [ "$b" -ge "$want6" ] && t_npr=$(now)
    fi
    if [ -z "$t_ker" ]; then
        read -r a b < <(kernel_count)
        [ "$a" -ge "$want4" ] && [ "$b" -ge "$want6" ] && t_ker=$(now)
    fi
    [ -n "$t_npr" ] && [ -n "$t_ker" ] && break
    sleep 0.25
done
report() { # NAME T
    if [ -z "$2" ]; then echo "frr_full: $1: not complete after 10 minutes"; return; fi
    $PY -c "t = $2 - $t0; print('frr_full: %-22s all %d routes %.1f s after the sessions came up (%.0f routes/s)' % ('$1:', $N4 + $N6, t, ($N4 + $N6) / t))"
}
report "nprouter FIB" "$t_npr"
report "Linux kernel FIB" "$t_ker"
if [ -n "$t_npr" ] && [ -n "$t_ker" ]; then
    $PY -c "print('frr_full: nprouter / kernel time %.2f' % (($t_npr - $t0) / ($t_ker - $t0)))"
fi

# ---- nprouter's FIB has the table: counts, and a sample of lookups
read -r a b < <(npr_count)
[ "$a" -eq "$N4" ] && ok "nprouter holds $a IPv4 routes of origin zebra (the table: $N4)" ||
    bad "nprouter holds $a IPv4 routes of origin zebra, the table has $N4"
[ "$b" -eq "$N6" ] && ok "nprouter holds $b IPv6 routes of origin zebra (the table: $N6)" ||
    bad "nprouter holds $b IPv6 routes of origin zebra, the table has $N6"
# a sample: the first address of 300 prefixes of each family resolves to the peer, unless a
# more specific prefix of the table covers it (then it is that one's, which is the peer too)
{ shuf -n 300 --random-source=<(yes) "$d/t4"; shuf -n 100 --random-source=<(yes) "$d/t6"; } |
    sed 's|/.*||' >"$d/sample"
miss=0
while read -r a; do
    out=$(ctl route get "$a" 2>&1)
    grep -qE "via (198\.51\.100\.2|2001:db8:b::2|fe80::[0-9a-f:]+) dev up1 .*\[zebra bgp 20\]|via (198\.51\.100\.2|2001:db8:b::2|fe80::[0-9a-f:]+) dev up1" <<<"$out" ||
        { miss=$((miss + 1)); [ $miss -le 3 ] && echo "  $a: $out"; }
done <"$d/sample"
[ $miss -eq 0 ] && ok "route get: 400 sampled prefixes go to the peer" ||
    bad "route get: $miss of 400 sampled prefixes do not go to the peer"
grep -E "replay|sweep|error" "$d/bridge.log" | tail -5
finish
