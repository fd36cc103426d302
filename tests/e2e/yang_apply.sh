#!/usr/bin/env bash
# `nprouter-control apply` and `run` against a real data plane (three net_pcap ports):
#   - every example in conf/ applies and `show` matches it (tests/e2e/yang_check.py reads the
#     config on its own), applying it twice sends nothing;
#   - every file of the invalid corpus (tests/yang/invalid) fails with its expected error and
#     leaves the data plane exactly as it was (full dumps compared);
#   - a 100K-route config generated from the BGP table applies, and changing one route of it
#     sends one message with one entry;
#   - after a data plane restart a re-apply (and --resync) restores everything;
#   - the daemon applies at start, reloads on change and on SIGHUP, survives an invalid edit,
#     resyncs after a data plane restart and exits cleanly on SIGTERM.
set -euo pipefail
BUILD=$1
SRC=$2
. "$SRC/tests/e2e/lib.sh"
export NPR_YANG_PATH="$SRC/conf"
d=$(mktemp -d /tmp/npr-yang.XXXXXX)
DAEMON_PID=
cleanup() {
    if [ -n "$DAEMON_PID" ]; then kill -KILL "$DAEMON_PID" 2>/dev/null || true; fi
    cleanup_dp
    rm -rf "$d"
}
trap cleanup EXIT
fails=0
passes=0
ok() { echo "ok: $*"; passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

$PY -c "import struct; open('$d/empty.pcap','wb').write(struct.pack('<IHHiIII',0xa1b2c3d4,2,4,0,0,65535,1))"
vdevs=()
for p in 0 1 2; do vdevs+=(--vdev "net_pcap$p,rx_pcap=$d/empty.pcap,tx_pcap=$d/out$p.pcap"); done
dp_start() { start_dp "$d/dataplane.log" -l 0,1 "${vdevs[@]}" --; }

# Everything the data plane holds, as JSON (ids included: "unchanged" means unchanged).
snapshot() {
    local out=$1
    for w in interfaces addresses neighbors nexthops groups routes; do
        ctl --json show $w
    done >"$out"
}
show_dir() {
    local dir=$1
    mkdir -p "$dir"
    for w in interfaces addresses neighbors nexthops groups routes; do
        ctl --json show $w >"$dir/$w.json"
    done
}
jget() { $PY -c "import json,sys; v=json.load(sys.stdin); print(eval('v' + sys.argv[1]))" "$1"; }

dp_start

# ---- examples: round trip and idempotence ----
for f in "$SRC"/conf/*.json "$SRC"/conf/*.xml; do
    name=$(basename "$f")
    if ! ctl apply "$f" >"$d/apply.out" 2>&1; then
        bad "apply $name"; cat "$d/apply.out"; continue
    fi
    rm -rf "$d/show"; show_dir "$d/show"
    if $PY "$SRC/tests/e2e/yang_check.py" roundtrip "$f" "$d/show"; then
        ok "round trip $name"
    else
        bad "round trip $name"
    fi
    snapshot "$d/before"
    out=$(ctl --json apply "$f")
    snapshot "$d/after"
    if [ "$(echo "$out" | jget "['changes']")" = 0 ] && [ "$(echo "$out" | jget "['messages']")" = 0 ] &&
        cmp -s "$d/before" "$d/after"; then
        ok "idempotent $name"
    else
        bad "idempotent $name: $out"
    fi
done

# ---- invalid corpus: clear error, nothing changed ----
ctl apply "$SRC/conf/router-2port.json" >/dev/null
snapshot "$d/before"
n_invalid=0
while IFS=$'\t' read -r file want _; do
    case "$file" in '#'* | '') continue ;; esac
    n_invalid=$((n_invalid + 1))
    set +e
    (cd "$SRC/tests/yang/invalid" && "$NPR_CTL" --shm "$NPR_NAME" apply "$file") >"$d/out" 2>"$d/err"
    rc=$?
    set -e
    snapshot "$d/after"
    if [ $rc -eq 0 ]; then
        bad "invalid $file was accepted"
    elif ! grep -qF -- "$want" "$d/err"; then
        bad "invalid $file: expected '$want', got:"; cat "$d/err"
    elif ! cmp -s "$d/before" "$d/after"; then
        bad "invalid $file changed the data plane"
    else
        ok "invalid $file (exit $rc): $(head -1 "$d/err" | cut -c1-150)"
    fi
done <"$SRC/tests/yang/invalid/expected.tsv"
[ "$n_invalid" -ge 25 ] || bad "only $n_invalid invalid configs"

# ---- scale: 100K routes from the BGP table, one route changed ----
$PY "$SRC/tools/gen-config.py" --routes 100000 -o "$d/big.json"
$PY "$SRC/tools/gen-config.py" --routes 100000 --perturb 1 -o "$d/big1.json"
out=$(ctl --json --timeout 60000 apply "$d/big.json")
echo "100K apply: $out"
total=$(echo "$out" | jget "['time']['total_s']")
routes=$(ctl --json show info | jget "['route4_count'] + v['route6_count']")
[ "$routes" -ge 100000 ] && ok "100K config applied ($routes routes incl. connected/local, ${total} s)" ||
    bad "100K config: $routes routes"
out=$(ctl --json apply --dry-run "$d/big1.json")
ctl apply --dry-run "$d/big1.json" | grep '^[-+~] ' >"$d/changes"
out=$(ctl --json apply "$d/big1.json")
if [ "$(echo "$out" | jget "['changes']")" = 1 ] && [ "$(echo "$out" | jget "['messages']")" = 1 ] &&
    [ "$(wc -l <"$d/changes")" = 1 ]; then
    ok "one route changed -> one message: $(cat "$d/changes")"
else
    bad "one route changed: $out"
fi
# the data plane forwards that prefix to the new target ("~ route PFX via GW ..." or, for a
# next-hop list, "~ route PFX group N ...")
pfx=$(awk '{print $3}' "$d/changes")
kind=$(awk '{print $4}' "$d/changes")
new=$(awk '{print $5}' "$d/changes")
addr=${pfx%/*}
if ctl route get "$addr" | awk -v k="$kind" -v v="$new" \
    '{ for (i = 1; i < NF; i++) if ($i == k && $(i + 1) == v) f = 1 } END { exit !f }'; then
    ok "route get $addr $kind $new"
else
    bad "route get $addr: $(ctl route get "$addr")"
fi
out=$(ctl --json apply "$d/big1.json")
[ "$(echo "$out" | jget "['messages']")" = 0 ] && ok "100K idempotent" || bad "100K idempotent: $out"

# ---- data plane restart: apply and --resync restore everything ----
ctl apply "$SRC/conf/ecmp.json" >/dev/null
rm -rf "$d/show0"; show_dir "$d/show0"
stop_dp
dp_start
ctl apply "$SRC/conf/ecmp.json" >/dev/null
rm -rf "$d/show1"; show_dir "$d/show1"
$PY "$SRC/tests/e2e/yang_check.py" roundtrip "$SRC/conf/ecmp.json" "$d/show1" && ok "re-apply after restart" ||
    bad "re-apply after restart"
# what an operator adds with the CLI is the CLI's (origin cli): a resync of the
# configuration leaves it alone, and it goes when the CLI removes it
ctl nexthop set 4000 dev up1 lladdr 02:aa:bb:cc:dd:ee >/dev/null
ctl route add 198.18.0.0/15 nexthop 4000 >/dev/null
out=$(ctl --json apply --resync "$SRC/conf/ecmp.json")
rm -rf "$d/show2"; show_dir "$d/show2"
if $PY "$SRC/tests/e2e/yang_check.py" roundtrip "$SRC/conf/ecmp.json" "$d/show2" >/dev/null &&
    ctl show routes | grep -q '^198.18.0.0/15 .*\[cli 1\]'; then
    ok "resync leaves the CLI's route ($(echo "$out" | jget "['changes']") changes)"
else
    bad "resync: $out"
fi
if ctl route del 198.18.0.0/15 >/dev/null && ctl nexthop del 4000 >/dev/null &&
    ! ctl show routes | grep -q 198.18.0.0; then
    ok "the CLI removes its own route"
else
    bad "the CLI removes its own route"
fi

# ---- the daemon ----
cp "$SRC/conf/router-2port.json" "$d/live.json"
"$NPR_CTL" --shm "$NPR_NAME" run --poll 100 "$d/live.json" >"$d/daemon.log" 2>&1 &
DAEMON_PID=$!
wait_log() { # PATTERN COUNT: until the log has COUNT lines matching PATTERN (10 s)
    for _ in $(seq 100); do
        [ "$(grep -c -- "$1" "$d/daemon.log" || true)" -ge "$2" ] && return 0
        sleep 0.1
    done
    echo "daemon log:"; cat "$d/daemon.log"; return 1
}
check_live() { # CONFIG LABEL
    rm -rf "$d/showd"; show_dir "$d/showd"
    if $PY "$SRC/tests/e2e/yang_check.py" roundtrip "$1" "$d/showd" >"$d/check.out"; then ok "$2"; else bad "$2"; cat "$d/check.out"; fi
}
wait_log "live.json: applied" 1 && check_live "$SRC/conf/router-2port.json" "daemon applies at start"
# a second daemon for the same data plane would apply over the first's: refused
set +e
out=$(timeout 10 "$NPR_CTL" --shm "$NPR_NAME" run "$SRC/conf/ecmp.json" 2>&1)
rc=$?
set -e
if [ $rc -eq 1 ] && grep -q "another 'nprouter-control run' (pid $DAEMON_PID) already keeps" <<<"$out"; then
    ok "a second daemon is refused: $out"
else
    bad "a second daemon: exit $rc: $out"
fi
# an edit (written elsewhere and renamed, as editors do)
cp "$SRC/conf/ecmp.json" "$d/live.json.tmp" && mv "$d/live.json.tmp" "$d/live.json"
wait_log "live.json: applied" 2 && check_live "$SRC/conf/ecmp.json" "daemon reloads on change"
# an invalid edit: logged, the last good configuration stays
snapshot "$d/before"
cp "$SRC/tests/yang/invalid/unreachable-gateway.json" "$d/live.json"
wait_log "keeping the last good configuration" 1
snapshot "$d/after"
kill -0 "$DAEMON_PID" && cmp -s "$d/before" "$d/after" && grep -q "100.99.0.1 is unreachable" "$d/daemon.log" &&
    ok "daemon survives an invalid edit" || bad "daemon and an invalid edit"
# valid content again (in place), then SIGHUP with no change
cp "$SRC/conf/blackhole.xml" "$d/live.json"   # XML content: detected by its first byte
wait_log "live.json: applied" 3 && check_live "$SRC/conf/blackhole.xml" "daemon applies the fixed file"
kill -HUP "$DAEMON_PID"
wait_log "live.json: no change" 1 && ok "daemon reloads on SIGHUP"
# data plane restart: the daemon resyncs
stop_dp
dp_start
wait_log "resynced" 1 && check_live "$SRC/conf/blackhole.xml" "daemon resyncs after a data plane restart"
kill -TERM "$DAEMON_PID"
set +e
wait "$DAEMON_PID"
rc=$?
set -e
DAEMON_PID=
[ $rc -eq 0 ] && ok "daemon exits 0 on SIGTERM" || bad "daemon exit code $rc"

stop_dp
echo "--- daemon log"
cat "$d/daemon.log"
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
