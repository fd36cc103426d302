#!/usr/bin/env bash
# pcap in -> nprouter-dataplane (net_pcap ports) -> pcap out, programmed by nprouter-control,
# with WORKERS workers (default 1): each port then has one rx_pcap and one tx_pcap per worker
# (a device with queues and no RSS), and the lcores share the machine's CPUs (--lcores).
# The expected output of every queue and every counter come from tests/e2e/pcap_forward.py
# (scapy).
set -euo pipefail
BUILD=$1
SRC=$2
WORKERS=${3:-1}
. "$SRC/tests/e2e/lib.sh"
d=$(mktemp -d /tmp/npr-e2e.XXXXXX)
trap 'cleanup_dp; rm -rf "$d"' EXIT

$PY "$SRC/tests/e2e/pcap_forward.py" gen "$d" "$WORKERS"
expected_rx=$($PY -c "import json; print(json.load(open('$d/expect.json'))['rx'])")

# lcore 0 (main) on CPU 0, worker lcores 1..WORKERS on CPUs 1, 0, 1, ...
ncpu=$(nproc)
lcores="0@0"
for w in $(seq 1 "$WORKERS"); do lcores+=",$w@$((w % ncpu))"; done

vdevs() { # queues per port
    local v=()
    for p in 0 1 2; do
        local a="net_pcap$p"
        for q in $(seq 0 $(($1 - 1))); do a+=",rx_pcap=$d/in${p}_$q.pcap,tx_pcap=$d/out${p}_$q.pcap"; done
        v+=(--vdev "$a")
    done
    echo "${v[@]}"
}

if [ "$WORKERS" -gt 1 ]; then
    # a port with fewer queues than workers: a clear refusal naming the port and the way out
    read -ra one <<<"$(vdevs 1)"
    if "$NPR_DP" --no-pci --no-huge -m 512 --no-shconf --file-prefix "$NPR_NAME-q" \
        --log-level='*:warning' --lcores "$lcores" "${one[@]}" -- --shm "$NPR_NAME-q" \
        --no-host-ports >"$d/refused.log" 2>&1; then
        echo "FAIL: $WORKERS workers started on ports with one queue"; exit 1
    fi
    grep -q "has 1 rx / 1 tx queues, $WORKERS workers need one of each.*rx_pcap" "$d/refused.log" ||
        { echo "FAIL: no clear refusal:"; cat "$d/refused.log"; exit 1; }
    echo "refused, as expected: $(grep -o 'port 0 .*' "$d/refused.log" | head -1)"
    rm -f "$d"/out*.pcap
fi

read -ra vd <<<"$(vdevs "$WORKERS")"
# Ports receive nothing until an interface is up on them, so no packet is read before the
# whole configuration (one batch) is in place.
# one ARP request for the unresolved next hop during the test (see pcap_forward.py)
start_dp "$d/dataplane.log" --lcores "$lcores" "${vd[@]}" -- --neigh-retry-ms 60000
ctl batch "$d/config.batch"

# wait until the workers have read every input packet (the check says if they did not)
wait_rx "$expected_rx" >/dev/null || true
# the slow path's answers may still be in flight: wait until the counts settle
sleep 0.3
ctl show stats
ctl --json show stats >"$d/stats.json"
ctl show routes >/dev/null
stop_dp
cat "$d/dataplane.log"
$PY "$SRC/tests/e2e/pcap_forward.py" check "$d"
