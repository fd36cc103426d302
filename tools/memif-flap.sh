#!/usr/bin/env bash
# A memif peer that comes and goes: nprouter is the memif server on one port and routes
# 10.253.0.0/16 back out of it (hairpin); dpdk-testpmd --forward-mode=flowgen is the client.
# Each cycle starts the generator, waits until nprouter forwards its traffic again, lets it run
# a random while, then makes it leave (SIGKILL: the kernel closes its socket; or "quit": stdin
# closed, testpmd closes the port, which sends memif's DISCONNECT message), and checks that
# the data plane is still alive.
#
#   tools/memif-flap.sh [--build DIR] [--cycles N] [--how kill|quit|mixed] [--up-ms MS]
#                       [--workers N] [--keep-going] [--seed N] [--tmp DIR] [-v]
#
#   --cycles N      connect/disconnect cycles (default 50)
#   --workers N     nprouter workers (default 1; lcores on the CPUs in turn), the memif port
#                   and the generator with N queues (the peer chooses the queue: no RSS);
#                   at the end every worker must have received
#   --how           how the generator leaves (default mixed: a random one each cycle)
#   --up-ms MS      traffic runs 0..MS ms after forwarding resumed (default 300)
#   --keep-going    count data-plane deaths and restart it, instead of stopping at the first
#                   (to measure how often an unfixed build crashes)
#   -v              one line per cycle: how long the generator took to get traffic through
#   --tmp DIR       where the sockets and logs go (default a fresh /tmp/npr-flap.XXXXXX,
#                   removed at the end)
#
# Before each return the data plane must have seen the last departure (its port's link down,
# and counted in link_downs); at the end it must stop cleanly on SIGTERM. Ends with one line
# "memif-flap: N cycles, C data-plane crashes, F failures to forward after reconnect, U
# departures not seen" and exits non-zero when C, F or U is not 0 or a check failed. It runs
# two busy-polling processes: nprouter's worker on CPU 1, testpmd's forwarding lcore on CPU 0.
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/build"
cycles=50
how=mixed
up_ms=300
keep_going=0
workers=1
verbose=0
seed=$$
tmp=
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build=$(cd "$2" && pwd); shift ;;
    --cycles) cycles=$2; shift ;;
    --how) how=$2; shift ;;
    --up-ms) up_ms=$2; shift ;;
    --keep-going) keep_going=1 ;;
    --workers) workers=$2; shift ;;
    --seed) seed=$2; shift ;;
    --tmp) tmp=$2; shift ;;
    -v) verbose=1 ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "memif-flap: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$how" in kill|quit|mixed) ;; *) echo "memif-flap: --how kill|quit|mixed" >&2; exit 2 ;; esac
RANDOM=$seed
DP="$build/dataplane/nprouter-dataplane"
CTL="$build/control/nprouter-control"
[ -x "$DP" ] && [ -x "$CTL" ] || { echo "memif-flap: build $build first (ninja -C $build)" >&2; exit 2; }
command -v dpdk-testpmd >/dev/null || { echo "memif-flap: dpdk-testpmd not found (package dpdk)" >&2; exit 2; }

# worker lcores 1..N on CPUs 1, 0, 1, ... (the main lcore on CPU 0)
dp_lcores="0@0"
for w in $(seq 1 "$workers"); do dp_lcores+=",$w@$((w % $(nproc)))"; done

own_tmp=0
if [ -z "$tmp" ]; then tmp=$(mktemp -d /tmp/npr-flap.XXXXXX); own_tmp=1; fi
mkdir -p "$tmp"
name="npr-flap-$$"
sock="$tmp/memif.sock"
dp_pid=
gen_pid=
gen_sub=
cleanup() {
    [ -n "$gen_pid" ] && kill -KILL "$gen_pid" 2>/dev/null
    exec 9>&-
    if [ -n "$dp_pid" ]; then kill -TERM "$dp_pid" 2>/dev/null; wait "$dp_pid" 2>/dev/null; fi
    rm -f "/dev/shm/$name"
    [ $own_tmp -eq 1 ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ctl() { "$CTL" --shm "$name" --timeout 500 "$@"; }
FLOWGEN_MAC=00:01:02:03:04:01 # testpmd's flowgen sends to this fixed address
GEN_MAC=02:00:00:00:0a:00

# "RX TX UP DOWNS": the workers' rx and tx totals, the port's link (1 up) and how many times
# it went down; UP and DOWNS are -1 from a data plane that does not report them (before the
# port gate). No python: this runs every 20 ms.
dp_state() {
    ctl --json show stats 2>/dev/null | grep -o '"\([rt]x_pkts\|link_up\|link_downs\)":[0-9]*' |
        awk -F: '/rx_pkts/ { r += $2 } /tx_pkts/ { t += $2 }
                 /link_up/ && u == "" { u = $2 } /link_downs/ && d == "" { d = $2 }
                 END { if (NR) print r, t, (u == "" ? -1 : u), (d == "" ? -1 : d) }'
}

starts=0
since_start=0 # departures since the data plane (re)started
start_dp() {
    rm -f "$sock"
    starts=$((starts + 1))
    since_start=0
    "$DP" --no-pci --no-huge -m 512 --no-shconf --file-prefix "$name-dp" --lcores "$dp_lcores" \
        --log-level='*:warning' \
        --vdev "net_memif0,role=server,id=0,socket=$sock,socket-abstract=no" \
        -- --shm "$name" --no-host-ports >"$tmp/dp.$starts.log" 2>&1 &
    dp_pid=$!
    for _ in $(seq 200); do
        ctl hello >/dev/null 2>&1 && break
        kill -0 "$dp_pid" 2>/dev/null || { echo "memif-flap: data plane did not start:"; cat "$tmp/dp.$starts.log"; exit 1; }
        sleep 0.1
    done
    ctl batch - <<EOF || exit 1
interface set in port 0 mac $FLOWGEN_MAC up
nexthop set 1 dev in lladdr $GEN_MAC
route add 10.253.0.0/16 nexthop 1
EOF
}

start_gen() {
    rm -f "$tmp/gen.in" "$tmp/gen.pid"
    mkfifo "$tmp/gen.in"
    # testpmd's forwarding lcore 0 on CPU 0 (main lcore 1): nprouter's worker keeps CPU 1.
    # A subshell waits for it, so that its SIGKILL is no "Killed" notice of this shell.
    (
        dpdk-testpmd --no-pci --no-huge -m 256 --no-shconf --file-prefix "$name-gen" -l 0,1 \
            --main-lcore 1 --log-level='*:error' \
            --vdev "net_memif0,role=client,id=0,socket=$sock,socket-abstract=no,mac=$GEN_MAC" \
            -- --forward-mode=flowgen --port-topology=loop --auto-start --nb-cores=1 \
            --rxq="$workers" --txq="$workers" \
            --total-num-mbufs=8192 <"$tmp/gen.in" >"$tmp/gen.log" 2>&1 &
        echo $! >"$tmp/gen.pid"
        wait $!
    ) 2>/dev/null &
    gen_sub=$!
    exec 9>"$tmp/gen.in" # testpmd runs while its stdin is open
    for _ in $(seq 100); do [ -s "$tmp/gen.pid" ] && break; sleep 0.01; done
    gen_pid=$(cat "$tmp/gen.pid")
}

# stop_gen kill|quit
stop_gen() {
    if [ "$1" = kill ]; then
        kill -KILL "$gen_pid" 2>/dev/null
    else
        exec 9>&-
    fi
    for _ in $(seq 100); do kill -0 "$gen_pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$gen_pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$gen_pid" 2>/dev/null || break; sleep 0.01; done
    wait "$gen_sub" 2>/dev/null
    exec 9>&-
    gen_pid=
}

dp_died() { # prints how the data plane ended
    local rc=0
    wait "$dp_pid" 2>/dev/null || rc=$?
    dp_pid=
    if [ $rc -gt 128 ]; then echo "killed by signal $((rc - 128)) ($(kill -l $((rc - 128)) 2>/dev/null))"
    else echo "exit status $rc"; fi
}

crashes=0
stalls=0
unseen=0
t0=$(date +%s)
start_dp
for c in $(seq "$cycles"); do
    # the last departure has gone through: link down, counted (else the new peer would be
    # refused as "already connected", and what the old one left in the ring could pass for
    # traffic of the new one)
    seen=0 rx0=0 tx0=0 up=-1 downs=-1
    for _ in $(seq 500); do
        kill -0 "$dp_pid" 2>/dev/null || break
        st=$(dp_state) && [ -n "$st" ] || continue
        read -r rx0 tx0 up downs <<<"$st"
        if [ "$up" -le 0 ] && { [ "$downs" -lt 0 ] || [ "$downs" -ge "$since_start" ]; }; then
            seen=1; break
        fi
        sleep 0.02
    done
    if [ $seen -eq 0 ] && kill -0 "$dp_pid" 2>/dev/null; then
        unseen=$((unseen + 1))
        echo "memif-flap: cycle $c: the data plane has not seen the peer leave within 10 s (link up $up, went down $downs times of $since_start)"
        [ $keep_going -eq 1 ] || break
    fi
    tc0=$(date +%s%N)
    start_gen
    # forwarding resumed: the link is up again, nprouter received and sent since
    ok=0
    for _ in $(seq 500); do
        kill -0 "$dp_pid" 2>/dev/null || break
        st=$(dp_state) && [ -n "$st" ] || continue
        read -r rx tx up downs <<<"$st"
        if [ "$up" -ne 0 ] && [ "${rx:-0}" -gt "$rx0" ] && [ "${tx:-0}" -gt "$tx0" ]; then
            ok=1; break
        fi
        sleep 0.02
    done
    tc1=$(date +%s%N)
    if [ $ok -eq 1 ]; then
        ms=$((RANDOM % (up_ms + 1)))
        sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    fi
    leave=$how
    [ "$how" = mixed ] && { [ $((RANDOM % 2)) -eq 0 ] && leave=kill || leave=quit; }
    tc2=$(date +%s%N)
    stop_gen "$leave"
    since_start=$((since_start + 1))
    tc3=$(date +%s%N)
    [ $verbose -eq 1 ] && echo "cycle $c: traffic through after $(((tc1 - tc0) / 1000000)) ms, ran $(((tc2 - tc1) / 1000000)) ms, generator gone ($leave) after $(((tc3 - tc2) / 1000000)) ms"
    sleep 0.05
    if ! kill -0 "$dp_pid" 2>/dev/null; then
        crashes=$((crashes + 1))
        echo "memif-flap: cycle $c ($leave): the data plane died: $(dp_died)"
        tail -5 "$tmp/dp.$starts.log" | sed 's/^/    /'
        [ $keep_going -eq 1 ] || break
        start_dp
        continue
    fi
    if [ $ok -eq 0 ]; then
        stalls=$((stalls + 1))
        echo "memif-flap: cycle $c: no forwarding within 10 s of the peer's return"
        tail -5 "$tmp/gen.log" | sed 's/^/    /'
        [ $keep_going -eq 1 ] || break
    fi
    [ $((c % 50)) -eq 0 ] && echo "memif-flap: $c cycles, $crashes crashes, $((($(date +%s) - t0))) s"
done
other=0
if [ -n "$dp_pid" ] && kill -0 "$dp_pid" 2>/dev/null; then
    ctl show stats | sed -n '/^drops/,/^exceptions/p' | sed '$d'
    # every departure since the data plane started went through the port gate
    for _ in $(seq 500); do # the last departure may still be on its way
        st=$(dp_state) && [ -n "$st" ] || continue
        read -r _ _ _ downs <<<"$st"
        [ "$downs" -lt 0 ] || [ "$downs" -eq "$since_start" ] && break
        sleep 0.02
    done
    if [ "${downs:-0}" -ge 0 ] && [ "${downs:-0}" -ne "$since_start" ]; then
        echo "memif-flap: the data plane saw the link go down ${downs:-0} times, the peer left $since_start times"
        other=$((other + 1))
    fi
    if [ "$workers" -gt 1 ]; then
        # the peer spread its traffic over the queues: every worker received some
        rx=$(ctl --json show stats | python3 -c '
import json, sys
print(" ".join(str(w["rx_pkts"]) for w in json.load(sys.stdin)["workers"]))')
        echo "memif-flap: packets received per worker: $rx"
        for r in $rx; do
            [ "$r" -gt 0 ] || { echo "memif-flap: a worker received nothing"; other=$((other + 1)); break; }
        done
    fi
    st=0
    kill -TERM "$dp_pid"
    wait "$dp_pid" 2>/dev/null || st=$?
    dp_pid=
    if [ $st -ne 0 ]; then
        echo "memif-flap: the data plane did not stop cleanly on SIGTERM (status $st)"
        tail -5 "$tmp/dp.$starts.log" | sed 's/^/    /'
        other=$((other + 1))
    fi
    # how long the interrupt thread waited for the workers when a peer left (port gate)
    grep -ho 'queues [0-9.]* us after' "$tmp"/dp.*.log | awk '{print $2}' | sort -n | awk '
        { v[NR] = $1 } END { if (NR) printf "memif-flap: workers out of the queues after a departure: min %.0f us, median %.0f us, max %.0f us (%d departures)\n", v[1], v[int((NR + 1) / 2)], v[NR], NR }'
fi
echo "memif-flap: $c cycles, $crashes data-plane crashes, $stalls failures to forward after reconnect, $unseen departures not seen ($((($(date +%s) - t0))) s)"
[ $crashes -eq 0 ] && [ $stalls -eq 0 ] && [ $unseen -eq 0 ] && [ $other -eq 0 ]
