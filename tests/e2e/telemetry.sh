#!/usr/bin/env bash
# DPDK telemetry: a data plane with 2 workers forwards pcap_forward.py's traffic on net_pcap
# ports; its /nprouter/ commands, read with dpdk-telemetry.py, must say what nprouter-control
# --json show stats / show info say, and answer a bad parameter with a clean error
# (tests/e2e/telemetry_check.py).
set -euo pipefail
BUILD=$1
SRC=$2
WORKERS=2
. "$SRC/tests/e2e/lib.sh"
d=$(mktemp -d /tmp/npr-e2e.XXXXXX)
# the runtime directory keeps the file prefix's (empty) directory after exit
trap 'rc=$?; set +e; cleanup_dp; rm -rf "$d"; rmdir "/var/run/dpdk/$NPR_NAME" 2>/dev/null; exit $rc' EXIT

$PY "$SRC/tests/e2e/pcap_forward.py" gen "$d" "$WORKERS"
expected_rx=$($PY -c "import json; print(json.load(open('$d/expect.json'))['rx'])")
vd=()
for p in 0 1 2; do
    a="net_pcap$p"
    for q in $(seq 0 $((WORKERS - 1))); do a+=",rx_pcap=$d/in${p}_$q.pcap,tx_pcap=$d/out${p}_$q.pcap"; done
    vd+=(--vdev "$a")
done
start_dp "$d/dataplane.log" --lcores "0@0,1@1,2@0" "${vd[@]}" -- --neigh-retry-ms 60000
ctl batch "$d/config.batch"

# the workers have read every packet, the slow path's answers are out, and a snapshot newer
# than that is published (every 200 ms)
wait_rx "$expected_rx" >/dev/null || true
sleep 0.5
ctl --json show stats >"$d/stats.json"
ctl --json show info >"$d/info.json"
sleep 0.5
echo "--- dpdk-telemetry.py -f $NPR_NAME"
printf '/nprouter/info\n/nprouter/workers\n' | /usr/bin/python3 /usr/bin/dpdk-telemetry.py -f "$NPR_NAME"
$PY "$SRC/tests/e2e/telemetry_check.py" "$NPR_NAME" "$d/stats.json" "$d/info.json"
stop_dp
