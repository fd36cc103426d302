#!/usr/bin/env bash
# pcap in -> nprouter-dataplane (net_pcap ports) -> pcap out, programmed by nprouter-control.
# The expected output and every counter come from tests/e2e/pcap_forward.py (scapy).
set -euo pipefail
BUILD=$1
SRC=$2
. "$SRC/tests/e2e/lib.sh"
d=$(mktemp -d /tmp/npr-e2e.XXXXXX)
trap 'cleanup_dp; rm -rf "$d"' EXIT

$PY "$SRC/tests/e2e/pcap_forward.py" gen "$d"
expected_rx=$($PY -c "import json; print(json.load(open('$d/expect.json'))['rx'])")

vdevs=()
for p in 0 1 2; do vdevs+=(--vdev "net_pcap$p,rx_pcap=$d/in$p.pcap,tx_pcap=$d/out$p.pcap"); done
# Ports receive nothing until an interface is up on them, so no packet is read before the
# whole configuration (one batch) is in place.
# one ARP request for the unresolved next hop during the test (see pcap_forward.py)
start_dp "$d/dataplane.log" -l 0,1 "${vdevs[@]}" -- --neigh-retry-ms 60000
ctl batch "$d/config.batch"

# wait until the worker has read every input packet
for _ in $(seq 100); do
    rx=$(ctl --json show stats | $PY -c "import json,sys; s=json.load(sys.stdin); print(sum(w['rx_pkts'] for w in s['workers']))")
    [ "$rx" -ge "$expected_rx" ] && break
    sleep 0.1
done
ctl show stats
ctl show routes >/dev/null
stop_dp
cat "$d/dataplane.log"
$PY "$SRC/tests/e2e/pcap_forward.py" check "$d"
