#!/usr/bin/env bash
# Host-local topologies: a DPDK traffic generator feeds nprouter over net_memif and receives its
# output. Two processes on the same host: the rates are real but swing with the scheduler
# (on a 2-vCPU VM between ~5 and ~34 Mpps); take ratios from tools/bench/bench.py instead.
#
#   tools/bench/topo.sh [--build DIR] [--gen pcap|flowgen|pktgen|all] [--seconds N]
#                       [--table FILE] [--packets N] [--pktgen PATH] [--quick]
#
#   pcap     dpdk-testpmd, io forwarding, --port-topology=chained over three ports:
#              net_pcap0 (replays a pcap drawn from --table, infinite_rx)
#                -> memif0 ====> nprouter "in" --route--> nprouter "out" ====> memif1
#                -> back to net_pcap0 (TX dropped): testpmd counts what nprouter returned.
#   flowgen  dpdk-testpmd --forward-mode=flowgen on one memif port (10.254.0.0 ->
#            10.253.0.0 + flow, dst MAC 00:01:02:03:04:01, fixed in testpmd), nprouter routes
#            10.253.0.0/16 back out of the same interface (hairpin); flowgen counts and drops
#            what comes back. (txonly never receives, so nprouter would only see a full ring.)
#   pktgen   pktgen-dpdk 22.07.1 (git 60b5508; not packaged in Debian, build it as
#            docs/performance.md says) runs tools/bench/pktgen-memif.pkt: range mode, UDP to
#            8.0.0.1..8.127.255.1 (routed by the full table and by --quick's) into memif0,
#            nprouter's output received on memif1; the script stops pktgen, which must exit.
#            The binary: --pktgen PATH, else $PKTGEN, else `pktgen` on PATH.
#   all      (default) every generator available (pktgen skipped, with a note, when not found).
#
# nprouter is the memif server (it creates the sockets), the generator the client. Rates are
# read from nprouter's own counters (nprouter-control show stats --json) and from the
# generator's ports (DPDK telemetry), over the same --seconds window.
#
# Exits non-zero, with nprouter's log, when nprouter dies at any point of a run (while the
# generator starts, during the measurement, when the generator leaves, or on SIGTERM).
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
build="$here/build-bench"
gen=all
seconds=5
packets=100000
table="$here/../shared/data/ipv4-full-table.txt.gz"
quick=0
pktgen=${PKTGEN:-}
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build=$(cd "$2" && pwd); shift ;;
    --gen) gen=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --table) table=$2; shift ;;
    --packets) packets=$2; shift ;;
    --pktgen) pktgen=$2; shift ;;
    --quick) quick=1 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "topo.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
PY=/usr/bin/python3
DP="$build/dataplane/nprouter-dataplane"
CTL="$build/control/nprouter-control"
if [ ! -x "$DP" ] || [ ! -x "$CTL" ]; then
    ninja -C "$build" dataplane/nprouter-dataplane control/nprouter-control >/dev/null
fi
command -v dpdk-testpmd >/dev/null || { echo "topo.sh: dpdk-testpmd not found (package dpdk)" >&2; exit 1; }
# pktgen: an executable file, else a command on PATH; empty when there is none
find_pktgen() {
    local p=${pktgen:-pktgen}
    case "$p" in
    */*) [ -f "$p" ] && [ -x "$p" ] && echo "$p" ;;
    *) command -v "$p" ;;
    esac
}
pktgen_missing() {
    echo "topo.sh: pktgen not found (${pktgen:-pktgen, on PATH}): pktgen-dpdk is not packaged in" \
        "Debian; build 22.07.1 as docs/performance.md says and give --pktgen /path/to/pktgen" \
        "or PKTGEN=/path/to/pktgen" >&2
}

work=$(mktemp -d /tmp/npr-topo.XXXXXX)
name="nprtopo-$$"
# EAL runtime directory (telemetry sockets)
if [ "$(id -u)" -eq 0 ]; then rtdir=/var/run/dpdk; else rtdir="${XDG_RUNTIME_DIR:-/tmp}/dpdk"; fi
dp_pid=
gen_pid=
# under set -e: a process killed here must not replace the status the script exits with
cleanup() {
    if [ -n "$gen_pid" ]; then
        kill -TERM "$gen_pid" 2>/dev/null || true
        wait "$gen_pid" 2>/dev/null || true
    fi
    if [ -n "$dp_pid" ]; then
        kill -TERM "$dp_pid" 2>/dev/null || true
        wait "$dp_pid" 2>/dev/null || true
    fi
    exec 9>&-
    rm -rf "$work" "$rtdir/$name-dp" "$rtdir/$name-gen" "/dev/shm/$name"
}
trap cleanup EXIT

if [ $quick -eq 1 ]; then
    seconds=1
    packets=5000
    # a small table made on the spot: no dependence on ../shared/data
    table="$work/small.txt"
    printf '10.%d.0.0/16\n' $(seq 0 15) >"$table"
    echo 8.0.0.0/9 >>"$table" # pktgen-memif.pkt's destinations
fi
[ -f "$table" ] || { echo "topo.sh: $table not found (--table FILE)" >&2; exit 1; }

IN_MAC=02:00:00:00:00:01
FLOWGEN_MAC=00:01:02:03:04:01 # testpmd's flowgen sends to this fixed address
GEN0_MAC=02:00:00:00:0a:00
GEN1_MAC=02:00:00:00:0a:01
ctl() { "$CTL" --shm "$name" "$@"; }

# Rate of one counter over the window: prints "<pkts/s>" from two JSON samples.
sample_dp() { ctl --json show stats; }
sample_gen() { # port -> ipackets from the generator's telemetry
    $PY - "$rtdir/$name-gen/dpdk_telemetry.v2" "$1" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1]); s.recv(16384)
s.send(("/ethdev/stats,%s" % sys.argv[2]).encode())
print(json.loads(s.recv(1 << 20))["/ethdev/stats"]["ipackets"])
EOF
}

# the generator's log as text (pktgen's is cursor-addressed output for a terminal)
gen_log_text() { sed 's/\x1b\[[0-9;?]*[a-zA-Z]/ /g; s/  */ /g' "$work/gen.log" | grep -v '^ *$'; }

# how a process that `wait` reaped ended: "exit status N" or "signal NAME"
status_text() {
    if [ "$1" -gt 128 ]; then echo "signal $(kill -l $(($1 - 128)) 2>/dev/null || echo $(($1 - 128)))"
    else echo "exit status $1"; fi
}
# dp_dead WHEN: nprouter is gone: say how, show its log, fail the whole run
dp_dead() {
    local st=0
    wait "$dp_pid" 2>/dev/null || st=$?
    dp_pid=
    echo "topo.sh: FAILED: nprouter died $1 ($(status_text $st)); its log:"
    cat "$work/dp.log"
    exit 1
}
dp_alive() { kill -0 "$dp_pid" 2>/dev/null; }
# no_sample WHEN: reading nprouter's counters failed: it died, or it does not answer
no_sample() {
    sleep 0.2
    dp_alive || dp_dead "$1"
    echo "topo.sh: FAILED: nprouter does not answer $1"
    exit 1
}

# start_dp VDEV...: nprouter with the given ports; control on lcore 0, worker on lcore 1.
start_dp() {
    rm -f "$work"/memif*.sock # a server left behind by the previous topology
    "$DP" --no-pci --no-huge -m 1024 --file-prefix "$name-dp" -l 0,1 --log-level='*:warning' \
        "$@" -- --shm "$name" --no-host-ports >"$work/dp.log" 2>&1 &
    dp_pid=$!
    for _ in $(seq 100); do
        ctl --timeout 200 hello >/dev/null 2>&1 && return 0
        kill -0 "$dp_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "topo.sh: nprouter did not start:"; cat "$work/dp.log"; return 1
}
stop_all() {
    if [ -n "$gen_pid" ]; then
        kill -TERM "$gen_pid" 2>/dev/null || true
        wait "$gen_pid" 2>/dev/null || true
    fi
    exec 9>&-
    gen_pid=
    sleep 0.2
    if [ -n "$dp_pid" ]; then
        dp_alive || dp_dead "when the generator left"
        local st=0
        kill -TERM "$dp_pid" 2>/dev/null || true
        wait "$dp_pid" 2>/dev/null || st=$?
        dp_pid=
        if [ $st -ne 0 ]; then
            echo "topo.sh: FAILED: nprouter did not stop cleanly on SIGTERM ($(status_text $st)); its log:"
            cat "$work/dp.log"
            exit 1
        fi
    fi
    dp_pid=
    rm -rf "$rtdir/$name-dp" "$rtdir/$name-gen"
}

memif() { # memif INDEX ROLE [MAC]
    local s="net_memif$1,role=$2,id=0,socket=$work/memif$1.sock,socket-abstract=no"
    [ -n "${3:-}" ] && s="$s,mac=$3"
    echo "$s"
}

# testpmd keeps running while its stdin is open: give it a pipe we close to stop it.
start_testpmd() {
    rm -f "$work/tp.in"
    mkfifo "$work/tp.in"
    # the generator's forwarding lcore is 0 (main lcore 1): nprouter's worker keeps CPU 1
    dpdk-testpmd --no-pci --no-huge -m 1024 --file-prefix "$name-gen" -l 0,1 --main-lcore 1 \
        --log-level='*:warning' "$@" <"$work/tp.in" >"$work/gen.log" 2>&1 &
    gen_pid=$!
    exec 9>"$work/tp.in"
}

# measure LABEL RXPORT: nprouter's and the generator's rates over $seconds
measure() {
    local label=$1 rxport=$2 a b g0 g1 t0 t1
    # wait until nprouter forwards (memif connects after a moment)
    for _ in $(seq 100); do
        dp_alive || dp_dead "before it forwarded anything"
        a=$(sample_dp | $PY -c "import json,sys; print(sum(w['tx_pkts'] for w in json.load(sys.stdin)['workers']))") ||
            no_sample "before it forwarded anything"
        [ "$a" -gt 0 ] && break
        if ! kill -0 "$gen_pid" 2>/dev/null; then
            echo "topo.sh: FAILED: $label: the generator left before nprouter forwarded anything; its log:"
            gen_log_text | tail -30
            exit 1
        fi
        sleep 0.1
    done
    sleep 0.5
    dp_alive || dp_dead "before the measurement"
    a=$(sample_dp) || no_sample "before the measurement"
    g0=$(sample_gen "$rxport"); t0=$(date +%s.%N)
    sleep "$seconds"
    dp_alive || dp_dead "during the measurement"
    b=$(sample_dp) || no_sample "during the measurement"
    g1=$(sample_gen "$rxport"); t1=$(date +%s.%N)
    $PY - "$label" "$t0" "$t1" "$g0" "$g1" "$a" "$b" <<'EOF'
import json, sys
label, t0, t1, g0, g1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
a, b = json.loads(sys.argv[6]), json.loads(sys.argv[7])
dt = t1 - t0
def tot(s, k): return sum(w[k] for w in s["workers"])
rx = (tot(b, "rx_pkts") - tot(a, "rx_pkts")) / dt / 1e6
tx = (tot(b, "tx_pkts") - tot(a, "tx_pkts")) / dt / 1e6
back = (g1 - g0) / dt / 1e6
drops = {k: v for k, v in b["drops"].items() if v}
print("%-8s nprouter rx %6.2f Mpps, forwarded %6.2f Mpps; generator received back %6.2f Mpps"
      "  (drops since start: %s)" % (label, rx, tx, back, drops or "none"))
if tx <= 0 or back <= 0:
    sys.exit("%s: nothing came back through nprouter" % label)
EOF
}

configure_two_ports() {
    ctl batch - <<EOF
interface set out port 1 mac 02:00:00:00:01:01 up
nexthop set 1 dev out lladdr $GEN1_MAC
EOF
    ctl route load "$table" --nexthops 1 >/dev/null
    ctl interface set in port 0 mac "$IN_MAC" up
}

run_pcap() {
    $PY "$here/tools/gen-traffic.py" --out "$work/in.pcap" --table "$table" --count "$packets" \
        --distinct --dst-mac "$IN_MAC" >/dev/null
    start_dp --vdev "$(memif 0 server)" --vdev "$(memif 1 server)"
    configure_two_ports
    start_testpmd --vdev "net_pcap0,rx_pcap=$work/in.pcap,infinite_rx=1" \
        --vdev "$(memif 0 client $GEN0_MAC)" --vdev "$(memif 1 client $GEN1_MAC)" -- \
        --forward-mode=io --port-topology=chained --auto-start --nb-cores=1 \
        --total-num-mbufs=$((packets + 16384))
    measure "pcap" 2 # testpmd port 2 = memif1 = nprouter's output
    stop_all
}

run_flowgen() {
    start_dp --vdev "$(memif 0 server)"
    ctl batch - <<EOF
interface set in port 0 mac $FLOWGEN_MAC up
nexthop set 1 dev in lladdr $GEN0_MAC
route add 10.253.0.0/16 nexthop 1
EOF
    start_testpmd --vdev "$(memif 0 client $GEN0_MAC)" -- --forward-mode=flowgen \
        --port-topology=loop --auto-start --nb-cores=1 --total-num-mbufs=32768
    measure "flowgen" 0
    stop_all
}

# pktgen-dpdk 22.07.1 (docs/performance.md): port 0 = memif0 sends tools/bench/pktgen-memif.pkt's
# range traffic into nprouter's "in"; port 1 = memif1 receives nprouter's output. The script
# ends with stop and quit: pktgen must leave by itself, with status 0.
run_pktgen() {
    local bin run_s st=0
    bin=$(find_pktgen) || { pktgen_missing; exit 1; }
    # long enough for the wait until nprouter forwards, the settling and the window
    run_s=$((seconds + 3))
    sed "s/^delay [0-9][0-9]*\$/delay $((run_s * 1000))/" "$here/tools/bench/pktgen-memif.pkt" \
        >"$work/pktgen.pkt"
    grep -q "^delay $((run_s * 1000))\$" "$work/pktgen.pkt" ||
        { echo "topo.sh: tools/bench/pktgen-memif.pkt has no 'delay N' line" >&2; exit 1; }
    start_dp --vdev "$(memif 0 server)" --vdev "$(memif 1 server)"
    configure_two_ports
    # -m 4096: pktgen makes six pools of 24576 buffers per port (1024 and 2048 are too small)
    "$bin" -l 0,1 --main-lcore 1 --no-pci --no-huge -m 4096 --file-prefix "$name-gen" \
        --log-level='*:warning' \
        --vdev "$(memif 0 client $GEN0_MAC)" --vdev "$(memif 1 client $GEN1_MAC)" -- \
        -m "0.[0-1]" -f "$work/pktgen.pkt" </dev/null >"$work/gen.log" 2>&1 &
    gen_pid=$!
    measure "pktgen" 1
    # the script's delay runs out, then "stop 0" and "quit"
    for _ in $(seq $(((run_s + 10) * 10))); do
        kill -0 "$gen_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$gen_pid" 2>/dev/null; then
        echo "topo.sh: FAILED: pktgen did not leave by itself (its script ends with quit)" \
            "within $((run_s + 10)) s of the measurement; the end of its screen:"
        gen_log_text | tail -20
        exit 1
    fi
    wait "$gen_pid" || st=$?
    gen_pid=
    if [ $st -ne 0 ]; then
        echo "topo.sh: FAILED: pktgen ended with $(status_text $st); the end of its screen:"
        gen_log_text | tail -20
        exit 1
    fi
    stop_all
}

gens=$gen
if [ "$gen" = all ]; then
    gens="pcap flowgen"
    if find_pktgen >/dev/null; then gens="$gens pktgen"; else
        echo "topo.sh: pktgen not found: skipped (--pktgen PATH; docs/performance.md says how to build it)"
    fi
fi
case " $gens " in
*" pktgen "*) find_pktgen >/dev/null || { pktgen_missing; exit 1; } ;;
esac
for g in $gens; do
    case "$g" in
    pcap) run_pcap ;;
    flowgen) run_flowgen ;;
    pktgen) run_pktgen ;;
    *) echo "topo.sh: unknown generator $g" >&2; exit 2 ;;
    esac
done
