#!/usr/bin/env bash
# nprouter demo: set the machine up, start the data plane on two DPDK virtual ports, program it
# with nprouter-control (interfaces, a next hop, the full IPv4 Internet table when
# ../shared/data has it), replay generated traffic whose destinations are drawn from that
# table, and show the counters while it forwards.
#
#   tools/demo.sh [--seconds N] [--no-setup]
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
seconds=5
setup=1
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds=$2; shift ;;
    --no-setup) setup=0 ;;
    *) echo "demo.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if [ $setup -eq 1 ]; then bash "$here/tools/setup.sh"; else ninja -C "$here/build" >/dev/null; fi

build="$here/build"
dp="$build/dataplane/nprouter-dataplane"
ctl() { "$build/control/nprouter-control" --shm npr-demo "$@"; }
work=$(mktemp -d /tmp/npr-demo.XXXXXX)
dp_pid=
cleanup() {
    [ -n "$dp_pid" ] && kill -TERM "$dp_pid" 2>/dev/null && wait "$dp_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

table="$here/../shared/data/ipv4-full-table.txt.gz"
if [ -f "$table" ]; then
    traffic=(--table "$table" --count 100000 --distinct)
else
    echo "demo: $table not found: using a small table"
    table="$work/small.txt"
    printf '10.%d.0.0/16\n' $(seq 0 15) >"$table"
    traffic=(--table "$table" --count 100000)
fi
/usr/bin/python3 "$here/tools/gen-traffic.py" --out "$work/in.pcap" "${traffic[@]}" \
    --dst-mac 02:00:00:00:00:01
: >"$work/empty.pcap"
/usr/bin/python3 -c "import struct,sys; open(sys.argv[1],'wb').write(struct.pack('<IHHiIII',0xa1b2c3d4,2,4,0,0,65535,1))" "$work/empty.pcap"

mem=(--no-huge -m 1024)
free=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 2>/dev/null || echo 0)
[ "$free" -ge 512 ] && mem=()
# --no-host-ports: the demo's interfaces get no Linux TAPs (they would carry its addresses
# into this machine's own network stack)
echo "demo: starting the data plane: port 0 replays $work/in.pcap forever, port 1 transmits (dropped)"
"$dp" --no-pci "${mem[@]}" --file-prefix npr-demo -l 0,1 --log-level='*:warning' \
    --vdev "net_pcap0,rx_pcap=$work/in.pcap,infinite_rx=1" \
    --vdev "net_pcap1,rx_pcap=$work/empty.pcap" \
    -- --shm npr-demo --mbufs 160000 --no-host-ports &
dp_pid=$!
up=0
for _ in $(seq 100); do
    if ctl hello >/dev/null 2>&1; then up=1; break; fi
    kill -0 "$dp_pid" 2>/dev/null || break
    sleep 0.1
done
[ $up -eq 1 ] || { echo "demo: the data plane did not start (see its messages above)" >&2; exit 1; }

ctl batch - <<'CFG'
interface set in port 0 mac 02:00:00:00:00:01 down
interface set out port 1 mac 02:00:00:00:01:01 up
address add 192.0.2.1/24 dev in
address add 198.51.100.1/24 dev out
nexthop set 1 via 198.51.100.2 dev out lladdr 02:00:00:00:01:02
nexthop set 2 via 198.51.100.3 dev out lladdr 02:00:00:00:01:03
CFG
echo "demo: loading $table"
ctl route load "$table" --nexthops 1,2
echo "demo: bringing interface 'in' up: port 0 starts receiving"
ctl interface set in port 0 up
ctl show interfaces
rate() { # forwarded packets per second over one second, from the workers' counters
    local a b
    a=$(ctl --json show stats | /usr/bin/python3 -c 'import json,sys; print(sum(w["tx_pkts"] for w in json.load(sys.stdin)["workers"]))')
    sleep 1
    b=$(ctl --json show stats | /usr/bin/python3 -c 'import json,sys; print(sum(w["tx_pkts"] for w in json.load(sys.stdin)["workers"]))')
    echo "demo: forwarding $(( (b - a) / 1000 )) kpps (one worker; net_pcap replay, a ceiling set by the vdev)"
}
for _ in $(seq "$seconds"); do rate; done
ctl show stats
ctl show info
