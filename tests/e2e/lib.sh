# Helpers for end-to-end tests that drive the real binaries. Source it; set BUILD first.
# Every test runs its own data plane under a unique shared-memory name and EAL file prefix.

NPR_DP="$BUILD/dataplane/nprouter-dataplane"
NPR_CTL="$BUILD/control/nprouter-control"
PY=/usr/bin/python3
NPR_NAME="npr-test-$$"
NPR_DP_PID=

# start_dp LOGFILE EAL-ARGS... -- DP-ARGS...: start the data plane in the background, wait until
# it answers on the ring (fails after 20 s, printing its log). Without host ports: it runs in
# the machine's own namespace, whose stack must not get TAPs with the tests' addresses, and
# the tests compare every frame it sends (netns_hostports.sh tests host ports, in namespaces).
# NPR_EAL_MEM: the EAL's memory options (default: no hugepages, no shared configuration).
start_dp() {
    local log=$1; shift
    local mem
    read -ra mem <<<"${NPR_EAL_MEM:---no-huge -m 512 --no-shconf}"
    "$NPR_DP" --no-pci "${mem[@]}" --file-prefix "$NPR_NAME" \
        --log-level='*:warning' "$@" --shm "$NPR_NAME" --no-host-ports >"$log" 2>&1 &
    NPR_DP_PID=$!
    for _ in $(seq 200); do
        if ! kill -0 "$NPR_DP_PID" 2>/dev/null; then
            echo "data plane exited during start-up:"; cat "$log"; return 1
        fi
        ctl hello >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "data plane did not answer within 20 s:"; cat "$log"; return 1
}

ctl() { "$NPR_CTL" --shm "$NPR_NAME" "$@"; }

# wait_rx N: until the workers have received N packets in all (10 s at most); prints how many
# they have, fails if fewer
wait_rx() {
    local rx=0
    for _ in $(seq 100); do
        rx=$(ctl --json show stats | $PY -c "import json,sys; print(sum(w['rx_pkts'] for w in json.load(sys.stdin)['workers']))")
        [ "$rx" -ge "$1" ] && break
        sleep 0.1
    done
    echo "$rx"
    [ "$rx" -ge "$1" ]
}

# stop_dp: SIGTERM and wait; fails if it does not exit cleanly within 20 s.
stop_dp() {
    [ -n "$NPR_DP_PID" ] || return 0
    kill -TERM "$NPR_DP_PID" 2>/dev/null
    for _ in $(seq 200); do
        kill -0 "$NPR_DP_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$NPR_DP_PID" 2>/dev/null; then
        kill -KILL "$NPR_DP_PID"; NPR_DP_PID=; echo "data plane ignored SIGTERM"; return 1
    fi
    wait "$NPR_DP_PID"; local rc=$?
    NPR_DP_PID=
    return $rc
}

cleanup_dp() {
    # (|| true: under set -e the killed process's status would end the EXIT trap here, and
    # leave its segment and EAL runtime directory behind)
    if [ -n "$NPR_DP_PID" ]; then kill -KILL "$NPR_DP_PID" 2>/dev/null; wait "$NPR_DP_PID" 2>/dev/null || true; fi
    rm -f "/dev/shm/$NPR_NAME" "/dev/shm/$NPR_NAME.run-lock" # the latter: control run's
    rm -rf "/var/run/dpdk/$NPR_NAME"
}
