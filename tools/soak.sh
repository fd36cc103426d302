#!/usr/bin/env bash
# Soak: the data plane forwards for a long time while everything around it changes, and must
# misforward nothing and keep its memory flat. A tool to run by hand (as root), not a test.
#
#   tools/soak.sh [--minutes N] [--pps N] [--seed N] [--build DIR] [--hugepages] [--logs DIR]
#                 [--lcores SPEC] [-- DRIVER-OPTIONS]   (tools/soak.py drive --help lists them)
#
#   A (a0) 192.0.2.2 ---- lan [ nprouter, namespace R ] wanb ---- (b0) B 198.51.100.2/25
#                                                       wanc ---- (c0) C 198.51.100.130/25
#
# The data plane runs on net_af_packet ports (4096-frame rings; --no-huge -m 1024 unless
# --hugepages), without host ports, with its control thread and one worker free to run on
# CPUs 0 and 1 (EAL --lcores, default '0@(0-1),1@(0-1)': on a shared machine the scheduler
# can move the busy worker away from another busy thread); at normal priority: the helpers
# (traffic, CLI, daemon) run at nice 5 -- do not nice the whole tool, a starved worker
# loses packets when its af_packet rings fill. Its configuration (interfaces, addresses,
# static routes: stable ones to B and to C, and one pair that the soak moves between B and C
# by editing the file) comes from a YANG file kept by the daemon `nprouter-control run`; the
# CLI (origin cli) adds stable routes to B and to C and churned ones. For N minutes (default
# 30; SIGINT or SIGTERM stops it early, with the report of what ran):
#   - A sends UDP (--pps, default 5000/s in all) to one address in each prefix, IPv4 and
#     IPv6, and to a prefix that is never routed; B, C and A itself capture what arrives;
#   - every second a CLI batch moves, deletes and re-adds the churned prefixes and replaces
#     2000 extra routes (FIB memory);
#   - every 20 s a 100,000-route CLI batch is killed (kill -9) at a random moment: it must be
#     applied whole or not at all;
#   - every 30 s the daemon is killed (kill -9) and started again, every other time within
#     0.6 s of an edit of its file: the data plane keeps forwarding, the daemon re-converges;
#   - every 10 s the data plane's RSS, packet buffers in use and FIB size are sampled (with
#     --hugepages the DPDK heap is hugetlb memory, which RSS does not count).
# A progress line every minute, then the report. Exit 0 if nothing was misforwarded, every
# killed batch left all or nothing, the daemon always converged, stable prefixes lost at most
# 0.1% and memory after the warm-up stayed flat (RSS last <= first + 5% + 2 MiB; packet
# buffers in use last <= first + max(512, 2% of the pool)); 1 otherwise; 2 if it could not
# run. Needs root, network namespaces, and a build (default: build/).
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC/build
minutes=30
pps=5000
seed=$RANDOM
huge=0
logs=
lcores='0@(0-1),1@(0-1)'
driver=()
while [ $# -gt 0 ]; do
    case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --pps) pps=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --build) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --hugepages) huge=1; shift ;;
    --logs) logs=$2; shift 2 ;;
    --lcores) lcores=$2; shift 2 ;;
    --) shift; driver=("$@"); break ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak: unknown option '$1' (--help)" >&2; exit 2 ;;
    esac
done
if [ ! -x "$BUILD/dataplane/nprouter-dataplane" ]; then
    echo "soak: no $BUILD/dataplane/nprouter-dataplane (meson setup build && ninja -C build)" >&2
    exit 2
fi

# shellcheck source=tests/e2e/lib.sh
. "$SRC/tests/e2e/lib.sh"
# shellcheck source=tests/e2e/netns_lib.sh
. "$SRC/tests/e2e/netns_lib.sh"
NPR_NAME="soak-$$" # shared memory and EAL file prefix
# shellcheck disable=SC2034 # netns_lib.sh's: namespaces soak-PID-R, -A, -B, -C
NS_PFX="soak-$$-"
export NPR_YANG_PATH="$SRC/conf"
netns_init
if [ -n "$logs" ]; then
    mkdir -p "$logs" && work=$(cd "$logs" && pwd) || exit 2
else
    work=$(mktemp -d /tmp/soak.XXXXXX)
fi
result=2
# shellcheck disable=SC2317 # the EXIT trap
soak_cleanup() {
    netns_cleanup
    rm -rf "/var/run/dpdk/$NPR_NAME"
    # the logs stay when something failed, or when asked for
    if [ -z "$logs" ] && [ "${result:-2}" -eq 0 ]; then
        rm -rf "$work"
    else
        echo "soak: logs in $work"
    fi
}
trap soak_cleanup EXIT

ns_add R
ns_add A
ns_add B
ns_add C
ns_link A a0 ra
ns_link B b0 rb
ns_link C c0 rc
host A a0 192.0.2.2/24 192.0.2.1 2001:db8:a::2/64 2001:db8:a::1
host B b0 198.51.100.2/25 198.51.100.1 2001:db8:b::2/64 2001:db8:b::1
host C c0 198.51.100.130/25 198.51.100.129 2001:db8:c::2/64 2001:db8:c::1

if [ "$huge" -eq 1 ]; then mem=(--in-memory -m 1024); else mem=(--no-huge -m 1024 --no-shconf); fi
ring=framecnt=4096
ip netns exec "$NS_R" "$NPR_DP" --no-pci "${mem[@]}" --file-prefix "$NPR_NAME" \
    --log-level='*:warning' --lcores "$lcores" --vdev "net_af_packet0,iface=ra,$ring" \
    --vdev "net_af_packet1,iface=rb,$ring" --vdev "net_af_packet2,iface=rc,$ring" -- \
    --shm "$NPR_NAME" --no-host-ports >"$work/dp.log" 2>&1 &
NPR_DP_PID=$!
for _ in $(seq 200); do
    if ! kill -0 "$NPR_DP_PID" 2>/dev/null; then
        echo "soak: the data plane exited:"; cat "$work/dp.log"; exit 2
    fi
    ctl hello >/dev/null 2>&1 && break
    sleep 0.1
done
if ! ctl hello >/dev/null 2>&1; then
    echo "soak: the data plane does not answer:"; cat "$work/dp.log"; exit 2
fi

# the driver runs in R's namespace: whatever it leaves running goes with the namespace.
# SIGINT / SIGTERM: it stops early and reports what ran.
ip netns exec "$NS_R" nice -n 5 python3 "$SRC/tools/soak.py" drive --ctl "$NPR_CTL" \
    --shm "$NPR_NAME" --dp-pid "$NPR_DP_PID" --work "$work" \
    --ns-a "$NS_A" --ns-b "$NS_B" --ns-c "$NS_C" \
    --minutes "$minutes" --pps "$pps" --seed "$seed" "${driver[@]}" &
driver_pid=$!
trap 'kill -TERM "$driver_pid" 2>/dev/null' INT TERM
result=
while kill -0 "$driver_pid" 2>/dev/null; do
    wait "$driver_pid"
    result=$?
done
if [ -z "$result" ]; then wait "$driver_pid"; result=$?; fi # it was gone already
if ! stop_dp; then
    echo "soak: the data plane did not stop cleanly"
    [ "$result" -eq 0 ] && result=1
fi
grep -E "^--- nprouter counters" "$work/dp.log" | tail -1
exit "$result"
