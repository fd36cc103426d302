#!/usr/bin/env bash
# Run every nprouter test: installs what is missing, builds a release tree and an
# ASan/UBSan tree, runs `meson test` in both, and ends with one line "N passed, M failed".
#
#   tools/test.sh [--no-asan] [meson test args...]
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
asan=1
if [ "${1:-}" = "--no-asan" ]; then asan=0; shift; fi

bash "$here/tools/setup.sh" --no-hugepages --no-build || { echo "0 passed, 1 failed"; exit 1; }

passed=0; failed=0; skipped=0
run() { # run NAME BUILDDIR MESON-SETUP-ARGS... -- MESON-TEST-ARGS...
    local name=$1 dir=$2; shift 2
    local setup=() testargs=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do setup+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    testargs=("$@")
    echo "=== $name: build ($dir)"
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$here" "${setup[@]}" >"$dir.setup.log" 2>&1 ||
            { cat "$dir.setup.log"; failed=$((failed + 1)); return; }
    fi
    if ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
        tail -50 "$dir.build.log"; failed=$((failed + 1)); return
    fi
    echo "=== $name: meson test"
    local log; log=$(mktemp)
    meson test -C "$dir" --print-errorlogs --num-processes 1 "${testargs[@]}" 2>&1 | tee "$log"
    local ok fail to skip xpass
    ok=$(awk '/^Ok:/ {print $2}' "$log"); fail=$(awk '/^Fail:/ {print $2}' "$log")
    to=$(awk '/^Timeout:/ {print $2}' "$log"); skip=$(awk '/^Skipped:/ {print $2}' "$log")
    xpass=$(awk '/^Unexpected Pass:/ {print $3}' "$log")
    if [ -z "$ok" ]; then failed=$((failed + 1)); rm -f "$log"; return; fi
    passed=$((passed + ok)); failed=$((failed + ${fail:-0} + ${to:-0} + ${xpass:-0}))
    skipped=$((skipped + ${skip:-0}))
    rm -f "$log"
}

run release "$here/build-test" -- "$@"
if [ $asan -eq 1 ]; then
    # DPDK's libraries are not instrumented; ASan checks our code (unit suite: no EAL ports;
    # fuzz suite: the fuzz harnesses' regression inputs and seeds, replayed)
    run asan "$here/build-asan" -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debugoptimized -- --suite unit --suite fuzz "$@"
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ $failed -eq 0 ]
