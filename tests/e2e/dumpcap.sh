#!/usr/bin/env bash
# Packet capture: dpdk-dumpcap, a DPDK secondary process, captures N forwarded frames with a
# filter from port 1 of a running data plane into pcapng; tests/e2e/capture.py checks each
# one against the frame expected. Also: the start-up line says capture is off, and why, with
# --no-shconf and with --no-huge.
# Needs hugepages: takes what it lacks (nr_hugepages) and gives it back; exits 77 (skipped)
# where it cannot have them. Leaves no process, hugepage file or runtime directory behind.
set -euo pipefail
BUILD=$1
SRC=$2
N=100
PAGES=200 # 2 MiB pages: the data plane's -m 256 and dumpcap's packet pool
. "$SRC/tests/e2e/lib.sh"

command -v dpdk-dumpcap >/dev/null || { echo "SKIP: no dpdk-dumpcap (package dpdk)"; exit 77; }
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
hugedir=$(awk '$3 == "hugetlbfs" { print $2; exit }' /proc/mounts)
[ -n "$hugedir" ] && [ -d "$hp" ] || { echo "SKIP: no hugetlbfs mounted (2 MiB pages)"; exit 77; }

d=$(mktemp -d /tmp/npr-e2e.XXXXXX)
nr_before=
dc_pid=
cleanup() {
    set +e
    if [ -n "$dc_pid" ]; then kill -KILL "$dc_pid" 2>/dev/null || true; wait "$dc_pid" 2>/dev/null || true; fi
    cleanup_dp
    rm -f "$hugedir/${NPR_NAME}"*map_*
    rm -rf "/var/run/dpdk/$NPR_NAME" "/var/run/dpdk/$NPR_NAME-nh" "/var/run/dpdk/$NPR_NAME-ns"
    [ -z "$nr_before" ] || echo "$nr_before" >"$hp/nr_hugepages" || true
    rm -rf "$d"
}
trap 'rc=$?; cleanup; exit $rc' EXIT

free=$(cat "$hp/free_hugepages")
if [ "$free" -lt "$PAGES" ]; then
    nr_before=$(cat "$hp/nr_hugepages")
    echo $((nr_before + PAGES - free)) >"$hp/nr_hugepages" 2>/dev/null || true
    free=$(cat "$hp/free_hugepages")
    [ "$free" -ge "$PAGES" ] || { echo "SKIP: $free free 2 MiB hugepages, $PAGES needed, and no more to be had"; exit 77; }
    echo "hugepages: $nr_before -> $(cat "$hp/nr_hugepages") (given back at the end)"
fi

$PY "$SRC/tests/e2e/capture.py" gen "$d"
vd=(--vdev "net_pcap0,rx_pcap=$d/in0.pcap,tx_pcap=$d/out0.pcap"
    --vdev "net_pcap1,rx_pcap=$d/empty.pcap,tx_pcap=$d/out1.pcap")

# capture is off where no secondary process can attach, and the data plane says why
for mem in "--no-huge -m 256 --no-shconf" "--no-huge -m 256"; do
    NPR_EAL_MEM=$mem start_dp "$d/off.log" -l 0,1 "${vd[@]}" --
    line=$(grep "packet capture" "$d/off.log" || true)
    stop_dp
    case "$mem" in
    *--no-shconf) want="packet capture off: --no-shconf: " ;;
    *) want="packet capture off: --no-huge: " ;;
    esac
    [[ "$line" == *"$want"* ]] || { echo "FAIL: with $mem: '$line', not '$want...'"; cat "$d/off.log"; exit 1; }
    echo "$mem: $line"
    rm -rf "/var/run/dpdk/$NPR_NAME"
done

# with hugepages and shared configuration it is available
NPR_EAL_MEM="-m 256" start_dp "$d/dataplane.log" -l 0,1 "${vd[@]}" --
grep "packet capture" "$d/dataplane.log"
grep -q "packet capture available" "$d/dataplane.log" || { echo "FAIL: capture not available"; exit 1; }

# dumpcap attaches and enables the capture before any packet flows: ports receive nothing
# until the configuration (one batch) brings their interfaces up. It says "Packets captured"
# on stderr once the capture is on ("Capturing on" goes to its buffered stdout).
timeout 60 dpdk-dumpcap --file-prefix "$NPR_NAME" -i net_pcap1 -f 'udp dst port 5001' -c "$N" \
    -w "$d/cap.pcapng" >"$d/dumpcap.out" 2>"$d/dumpcap.err" &
dc_pid=$!
for _ in $(seq 200); do
    grep -q "Packets captured" "$d/dumpcap.err" && break
    kill -0 "$dc_pid" 2>/dev/null || { echo "FAIL: dpdk-dumpcap exited:"; cat "$d/dumpcap.err"; exit 1; }
    sleep 0.1
done
grep -q "Packets captured" "$d/dumpcap.err" || { echo "FAIL: dpdk-dumpcap did not start:"; cat "$d/dumpcap.err"; exit 1; }
ctl batch "$d/config.batch"
rc=0
wait "$dc_pid" || rc=$?
dc_pid=
cat "$d/dumpcap.out"; tr '\r' '\n' <"$d/dumpcap.err" | grep -v "^$"
[ "$rc" -eq 0 ] || { echo "FAIL: dpdk-dumpcap exited with $rc"; exit 1; }
ctl show stats | grep -E "^(0|1) |total" || true
stop_dp
$PY "$SRC/tests/e2e/capture.py" check "$d" "$N" "$d/cap.pcapng"

rm -f "$hugedir/${NPR_NAME}"*map_*
left=$(find "$hugedir" -maxdepth 1 -name "${NPR_NAME}*" | wc -l)
[ "$left" -eq 0 ] || { echo "FAIL: $left hugepage files left"; exit 1; }
