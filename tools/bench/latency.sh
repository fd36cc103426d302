#!/usr/bin/env bash
# Latency through the router at a low packet rate, and what the data plane's CPUs cost there:
# nprouter with --idle poll against --idle adaptive (the default), and the Linux kernel
# forwarding between the same veth ports as an anchor.
#
#   A (a0) ---- ra [ R: nprouter on af_packet ports, or the kernel ] rb ---- (b0) B
#
# A pings B through R at RATE echoes per second (ping -i, as root), COUNT echoes per run; each
# echo crosses R twice (request and reply), so its round trip holds two passes. Modes run in
# turn, ROUNDS times, so that a noisy neighbour touches all of them alike. Per mode: the
# round-trip times' p50 / p99 / p99.9 / max (ping prints microseconds), lost echoes, and the
# CPU time nprouter-dataplane used (utime + stime, % of one CPU over the run). Prints a
# Markdown table; changes nothing outside the namespaces it creates.
#
#   tools/bench/latency.sh [--build DIR] [--rate PPS] [--count N] [--rounds R]
#                          [--modes poll,adaptive,kernel]
set -uo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$SRC/build
RATE=1000
COUNT=5000
ROUNDS=3
MODES=poll,adaptive,kernel
while [ $# -gt 0 ]; do
    case "$1" in
    --build) BUILD=$(cd "$2" && pwd); shift ;;
    --rate) RATE=$2; shift ;;
    --count) COUNT=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --modes) MODES=$2; shift ;;
    *) sed -n '2,16p' "$0"; exit 2 ;;
    esac
    shift
done
[ -x "$BUILD/dataplane/nprouter-dataplane" ] ||
    { echo "latency.sh: $BUILD/dataplane/nprouter-dataplane not built (--build DIR)"; exit 1; }
. "$SRC/tests/e2e/lib.sh"
. "$SRC/tests/e2e/netns_lib.sh"
netns_init
d=$(mktemp -d /tmp/npr-lat.XXXXXX)
two_hosts
interval=$(python3 -c "print('%.6f' % (1.0 / $RATE))")

cat >"$d/r.json" <<'EOF'
{
  "ietf-interfaces:interfaces": { "interface": [
    { "name": "lan", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet0",
      "ietf-ip:ipv4": { "address": [{ "ip": "192.0.2.1", "prefix-length": 24 }] } },
    { "name": "wan", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet1",
      "ietf-ip:ipv4": { "address": [{ "ip": "198.51.100.1", "prefix-length": 24 }] } }
  ] }
}
EOF

# cpu_ticks PID: utime + stime in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# one MODE ROUND: a run; appends the round trips (µs) to $d/MODE.rtt, the CPU % to MODE.cpu
one() {
    local mode=$1 t0 t1 s0 s1 out
    if [ "$mode" = kernel ]; then
        # the router namespace's own stack forwards: addresses on the veth ends
        nsx R ip link set ra arp on
        nsx R ip link set rb arp on
        nsx R ip addr add 192.0.2.1/24 dev ra
        nsx R ip addr add 198.51.100.1/24 dev rb
        nsx R sysctl -qw net.ipv4.ip_forward=1
    else
        start_router "$d/dp-$mode.log" ra rb -- --no-host-ports --idle "$mode"
        apply "$d/r.json"
    fi
    # neighbours resolved and caches warm before the measured run
    nsx A ping -c 20 -i 0.01 -W 1 198.51.100.2 >/dev/null
    sleep 1
    [ "$mode" != kernel ] && s0=$(cpu_ticks "$NPR_DP_PID")
    t0=$(date +%s.%N)
    out=$(nsx A ping -n -i "$interval" -c "$COUNT" -W 1 198.51.100.2 2>&1)
    t1=$(date +%s.%N)
    grep -oE "time=[0-9.]+" <<<"$out" | cut -d= -f2 |
        awk '{ printf "%d\n", $1 * 1000 + 0.5 }' >>"$d/$mode.rtt"
    grep -oE "[0-9]+ received" <<<"$out" | awk '{ print $1 }' >>"$d/$mode.rcv"
    if [ "$mode" = kernel ]; then
        nsx R sysctl -qw net.ipv4.ip_forward=0
        nsx R ip addr flush dev ra
        nsx R ip addr flush dev rb
        nsx R ip link set ra arp off
        nsx R ip link set rb arp off
        echo "-" >>"$d/$mode.cpu"
    else
        s1=$(cpu_ticks "$NPR_DP_PID")
        python3 -c "print('%.1f' % (100.0 * ($s1 - $s0) / $(getconf CLK_TCK) / ($t1 - $t0)))" \
            >>"$d/$mode.cpu"
        stop_dp >/dev/null || echo "latency.sh: the data plane did not stop cleanly"
        rm -f "/dev/shm/$NPR_NAME"
    fi
    echo "round $2 $mode: $(tail -1 "$d/$mode.rcv")/$COUNT answered, CPU $(tail -1 "$d/$mode.cpu") %" >&2
}

IFS=, read -ra modes <<<"$MODES"
for r in $(seq 1 "$ROUNDS"); do
    for m in "${modes[@]}"; do one "$m" "$r"; done
done

python3 - "$d" "$COUNT" "$ROUNDS" "$RATE" "${modes[@]}" <<'EOF'
import sys
d, count, rounds, rate, modes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5:]

def pct(v, p):
    return v[min(len(v) - 1, int(p / 100.0 * len(v)))]

print("\n%s echoes/s, %d echoes x %d rounds per mode; round trip (two passes through R), us"
      % (rate, count, rounds))
print("\n| mode | p50 | p99 | p99.9 | max | lost | data-plane CPU (% of one CPU) |")
print("|---|---:|---:|---:|---:|---:|---|")
res = {}
for m in modes:
    v = sorted(int(x) for x in open("%s/%s.rtt" % (d, m)))
    lost = rounds * count - sum(int(x) for x in open("%s/%s.rcv" % (d, m)))
    cpu = " / ".join(x.strip() for x in open("%s/%s.cpu" % (d, m)))
    res[m] = v
    print("| %s | %d | %d | %d | %d | %d | %s |" % (
        {"kernel": "Linux kernel forwarding"}.get(m, "nprouter --idle " + m),
        pct(v, 50), pct(v, 99), pct(v, 99.9), v[-1], lost, cpu))
if "poll" in res and "adaptive" in res:
    a, p = res["adaptive"], res["poll"]
    print("\nadaptive - poll: p50 %+d us, p99 %+d us" % (pct(a, 50) - pct(p, 50),
                                                       pct(a, 99) - pct(p, 99)))
EOF
rm -rf "$d"
