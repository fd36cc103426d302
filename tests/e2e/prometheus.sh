#!/usr/bin/env bash
# The Prometheus exporter (nprouter-control metrics) against the real thing: a data plane on
# net_pcap ports forwards pcap_forward.py's packets; the exporter's page must pass
# `promtool check metrics`, agree with `show stats --json` and `show info --json`, answer
# 404 / 405 / 400 as it should, say nprouter_up 0 while the data plane is away and 1 again
# once a new one is there; and Debian's prometheus, started here on loopback with a 1 s scrape
# interval, must scrape it and answer a query with the right value.
# Skipped (77) only when prometheus / promtool are not installed (tools/setup.sh installs them).
set -euo pipefail
BUILD=$1
SRC=$2
. "$SRC/tests/e2e/lib.sh"

for p in prometheus promtool curl; do
    command -v "$p" >/dev/null || { echo "SKIP: $p is not installed (tools/setup.sh installs it)"; exit 77; }
done

d=$(mktemp -d /tmp/npr-e2e-prom.XXXXXX)
EXP_PID=
PROM_PID=
cleanup() {
    set +e
    for p in $PROM_PID $EXP_PID; do
        kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    cleanup_dp
    rm -rf "$d"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# a free TCP port on 127.0.0.1 (bound and released; nothing else here takes it meanwhile)
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- a data plane forwarding a few packets (one worker, three net_pcap ports) ----
$PY "$SRC/tests/e2e/pcap_forward.py" gen "$d" 1
expected_rx=$($PY -c "import json; print(json.load(open('$d/expect.json'))['rx'])")
vd=()
for p in 0 1 2; do vd+=(--vdev "net_pcap$p,rx_pcap=$d/in${p}_0.pcap,tx_pcap=$d/out${p}_0.pcap"); done
start_dp "$d/dataplane.log" -l 0,1 "${vd[@]}" -- --neigh-retry-ms 60000
ctl batch "$d/config.batch"
rx=$(wait_rx "$expected_rx") || fail "the workers read $rx of $expected_rx packets"
sleep 0.3 # the slow path's answers settle

# ---- the exporter ----
# bad options: a clear error, exit 2; an address it cannot listen on: exit 1
set +e
ctl metrics --bogus >"$d/bad.out" 2>&1; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "bad option '--bogus'" "$d/bad.out" || fail "bad option: exit $rc: $(cat "$d/bad.out")"
for bad in 127.0.0.1 127.0.0.1:99999 127.0.0.1:0 "[::1:80" nohost:80; do
    set +e
    ctl metrics --listen "$bad" >"$d/bad.out" 2>&1; rc=$?
    set -e
    [ $rc -eq 1 ] && grep -qF "bad --listen '$bad'" "$d/bad.out" ||
        fail "--listen $bad: exit $rc: $(cat "$d/bad.out")"
done

mport=$(free_port)
"$NPR_CTL" --shm "$NPR_NAME" metrics --listen "127.0.0.1:$mport" 2>"$d/exporter.log" &
EXP_PID=$!
url="http://127.0.0.1:$mport/metrics"
for _ in $(seq 50); do curl -sf -o /dev/null "$url" && break; sleep 0.1; done
curl -sf -D "$d/headers" "$url" >"$d/page.txt" || fail "no answer at $url: $(cat "$d/exporter.log")"
ctl --json show stats >"$d/stats.json"
ctl --json show info >"$d/info.json"
grep -qi '^content-type: text/plain; version=0.0.4' "$d/headers" || fail "content type: $(cat "$d/headers")"
promtool check metrics <"$d/page.txt" || fail "promtool check metrics"
echo "promtool check metrics: clean ($(grep -vc '^#' "$d/page.txt") samples)"

# every value against the CLI's (the page was read first: counters may only have grown since,
# and nothing moves once the pcap files are read)
$PY - "$d/page.txt" "$d/stats.json" "$d/info.json" <<'EOF'
import json, sys
page = {}
for line in open(sys.argv[1]):
    if line.startswith('#') or not line.strip():
        continue
    key, val = line.rsplit(' ', 1)
    page[key] = float(val)
st = json.load(open(sys.argv[2]))
info = json.load(open(sys.argv[3]))
bad = []
def want(key, v):
    if key not in page:
        bad.append(f'{key} missing')
    elif page[key] != v:
        bad.append(f'{key} = {page[key]}, show says {v}')
want('nprouter_up', 1)
for p in st['ports']:
    l = f'port="{p["port_id"]}"'
    for name, field in [('rx_packets', 'ipackets'), ('tx_packets', 'opackets'),
                        ('rx_bytes', 'ibytes'), ('tx_bytes', 'obytes'),
                        ('rx_missed', 'imissed'), ('rx_errors', 'ierrors'),
                        ('tx_errors', 'oerrors'), ('rx_nombuf', 'rx_nombuf'),
                        ('link_downs', 'link_downs')]:
        want(f'nprouter_port_{name}_total{{{l}}}', p[field])
    want(f'nprouter_port_link_up{{{l}}}', p['link_up'])
    for q in p['queues']:
        want(f'nprouter_port_queue_rx_packets_total{{{l},queue="{q["queue"]}"}}', q['ipackets'])
for i, w in enumerate(st['workers']):
    l = f'worker="{i}"'
    want(f'nprouter_worker_rx_packets_total{{{l}}}', w['rx_pkts'])
    want(f'nprouter_worker_tx_packets_total{{{l}}}', w['tx_pkts'])
    want(f'nprouter_worker_forwarded_packets_total{{{l},family="ipv4"}}', w['fwd4_pkts'])
    want(f'nprouter_worker_forwarded_packets_total{{{l},family="ipv6"}}', w['fwd6_pkts'])
    for r, v in w['drops'].items():
        want(f'nprouter_worker_drops_total{{{l},reason="{r.lower()}"}}', v)
    for r, v in w['exceptions'].items():
        want(f'nprouter_worker_exceptions_total{{{l},reason="{r.lower()}"}}', v)
    for c, v in w['policed'].items():
        want(f'nprouter_worker_policed_total{{{l},class="{c.lower()}"}}', v)
for k, v in st['slowpath'].items():
    k = 'solicitations_tx' if k == 'NS_TX' else k.lower()  # "ns" reads as nanoseconds
    want(f'nprouter_slowpath_{k}_total', v)
# each ctl call since the page is a few more requests applied
k = 'nprouter_messages_applied_total'
if not 0 < page.get(k, 0) <= st['msgs_ok']:
    bad.append(f'{k} = {page.get(k)}, show says {st["msgs_ok"]} (later)')
for name, field in [('ring_resets', 'ring_resets'),
                    ('batches_aborted', 'batches_aborted'), ('replies_dropped', 'replies_dropped')]:
    want(f'nprouter_{name}_total', st[field])
want('nprouter_mbufs_capacity', st['mbufs_total'])
for fam, key in [('ipv4', 'route4_by_origin'), ('ipv6', 'route6_by_origin')]:
    for o, v in info[key].items():
        want(f'nprouter_routes{{family="{fam}",origin="{o}"}}', v)
want('nprouter_routes_capacity{family="ipv4"}', info['route4_max'])
want('nprouter_fib_memory_bytes{family="ipv4"}', info['fib4_bytes'])
for o, t in info['transactions'].items():
    want(f'nprouter_config_generation{{origin="{o}"}}', t['generation'])
    want(f'nprouter_config_failures_total{{origin="{o}"}}', t['failed'])
want('nprouter_config_generation{origin="cli"}', 1)  # the batch above
want('nprouter_config_last_success{origin="cli"}', 1)
rx = sum(w['rx_pkts'] for w in st['workers'])
if rx == 0:
    bad.append('nothing received')
if bad:
    print('\n'.join(bad))
    sys.exit(1)
print(f'page agrees with show stats / show info: {rx} packets received, '
      f'{len(page)} samples')
EOF

# what is not GET /metrics
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "http://127.0.0.1:$mport/")" = 404 ] || fail "/ is not 404"
[ "$(code "http://127.0.0.1:$mport/metricsx")" = 404 ] || fail "/metricsx is not 404"
[ "$(code -X POST "$url")" = 405 ] || fail "POST is not 405"
[ "$(code -X DELETE "$url")" = 405 ] || fail "DELETE is not 405"
curl -s -D - -o /dev/null -X PUT "$url" | grep -qi '^allow: GET, HEAD' || fail "no Allow header"
[ "$(code -X GET --data-binary x "$url")" = 400 ] || fail "GET with a body is not 400"
[ "$(code -I "$url")" = 200 ] || fail "HEAD is not 200"
# a request line and headers beyond the 16 KiB bound: refused by libmicrohttpd, the
# exporter carries on
big=$(head -c 40000 /dev/zero | tr '\0' a)
c=$(code -H "X-Big: $big" "$url")
case $c in 4*) ;; *) fail "a 40 kB header got $c" ;; esac
[ "$(code "$url")" = 200 ] || fail "the exporter stopped answering"
echo "HTTP: 404, 405 (Allow: GET, HEAD), 400 for a body, $c for 40 kB of headers, HEAD 200"

# ---- prometheus scrapes it ----
pport=$(free_port)
cat >"$d/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: nprouter
    static_configs:
      - targets: ['127.0.0.1:$mport']
EOF
promtool check config "$d/prometheus.yml" >/dev/null || fail "promtool check config"
prometheus --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/tsdb" \
    --web.listen-address="127.0.0.1:$pport" --log.level=warn >"$d/prometheus.log" 2>&1 &
PROM_PID=$!
want_rx=$($PY -c "import json; print(sum(w['rx_pkts'] for w in json.load(open('$d/stats.json'))['workers']))")
got=
for _ in $(seq 60); do
    kill -0 "$PROM_PID" 2>/dev/null || fail "prometheus exited: $(cat "$d/prometheus.log")"
    got=$(curl -s "http://127.0.0.1:$pport/api/v1/query" \
        --data-urlencode 'query=sum(nprouter_worker_rx_packets_total{job="nprouter"})' |
        $PY -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null || true)
    [ -n "$got" ] && break
    sleep 0.5
done
[ "$got" = "$want_rx" ] || fail "prometheus says sum(nprouter_worker_rx_packets_total) = '$got', want $want_rx"
up=$(curl -s "http://127.0.0.1:$pport/api/v1/query" --data-urlencode 'query=up{job="nprouter"}' |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["data"]["result"][0]["value"][1])')
[ "$up" = 1 ] || fail "prometheus's up{job=nprouter} = $up"
echo "prometheus scraped it: sum(nprouter_worker_rx_packets_total) = $got, up = $up"

# ---- the data plane goes away and comes back ----
stop_dp >/dev/null
curl -sf "$url" >"$d/down.txt" || fail "no answer with the data plane down"
grep -qx 'nprouter_up 0' "$d/down.txt" || fail "data plane down: $(cat "$d/down.txt")"
promtool check metrics <"$d/down.txt" || fail "promtool on the down page"
grep -q "not readable" "$d/exporter.log" || fail "the outage was not logged"
start_dp "$d/dataplane2.log" -l 0,1 "${vd[@]}" -- --neigh-retry-ms 60000
curl -sf "$url" >"$d/back.txt"
grep -qx 'nprouter_up 1' "$d/back.txt" || fail "data plane back, still: $(head -3 "$d/back.txt")"
echo "data plane stopped: nprouter_up 0; restarted: nprouter_up 1"

kill -TERM "$EXP_PID"
wait "$EXP_PID" || fail "the exporter did not exit 0 on SIGTERM"
EXP_PID=
grep -q "exiting after" "$d/exporter.log" || fail "no exit line"
stop_dp || fail "the data plane did not stop cleanly"
cat "$d/exporter.log"
echo "PASS"
