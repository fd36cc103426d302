#!/usr/bin/env bash
# Run the libFuzzer harnesses of tests/fuzz (docs/architecture.md lists them), one at a time.
#
#   tools/fuzz.sh [HARNESS|all] [SECONDS]        (default: all, 60 s each)
#
# Configures build-fuzz with clang-14 (-Dfuzz=true: ASan, UBSan, libFuzzer) if it is not
# configured yet, builds the harnesses, and runs each for SECONDS on its corpus
# build-fuzz/corpus/HARNESS, which it reads together with tests/fuzz/seeds/HARNESS and
# tests/fuzz/regress/HARNESS (new inputs go to the corpus only), with the dictionary
# tests/fuzz/HARNESS.dict if there is one. Crashes go to
# build-fuzz/crashes/HARNESS/, the whole log to build-fuzz/fuzz-HARNESS.log. Prints for each
# harness: executions, exec/s, coverage (cov: edges, ft: features, from libFuzzer's final
# stats) and crashes. Exit 1 if a harness crashed or could not run.
#
# A crash: rerun it alone (everything printed, and the harness state fresh):
#   NPR_FUZZ_FRESH=1 build-fuzz/tests/fuzz/HARNESS build-fuzz/crashes/HARNESS/crash-...
# Once fixed, keep it: tests/fuzz/regress/HARNESS/NAME-OF-THE-BUG (replayed by meson test).
# Extra libFuzzer flags: FUZZ_FLAGS="-max_len=4096" tools/fuzz.sh fuzz_cfg 120
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bdir="$here/build-fuzz"
which=${1:-all}
secs=${2:-60}
case "$secs" in '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a number" >&2; exit 2 ;; esac

mapfile -t all < <(cd "$here/tests/fuzz" && ls fuzz_*.c | sed 's/\.c$//')
if [ "$which" = all ]; then
    harnesses=("${all[@]}")
else
    [ -f "$here/tests/fuzz/$which.c" ] || { echo "fuzz.sh: no harness $which (${all[*]})" >&2; exit 2; }
    harnesses=("$which")
fi

if [ ! -f "$bdir/build.ninja" ]; then
    command -v clang-14 >/dev/null ||
        { echo "fuzz.sh: clang-14 is missing (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 2; }
    CC=clang-14 meson setup "$bdir" "$here" -Dfuzz=true -Dtests=false \
        -Dbuildtype=debugoptimized >"$bdir.setup.log" 2>&1 ||
        { cat "$bdir.setup.log"; exit 1; }
fi
targets=()
for h in "${harnesses[@]}"; do targets+=("tests/fuzz/$h"); done
ninja -C "$bdir" "${targets[@]}" >"$bdir.build.log" 2>&1 || { tail -40 "$bdir.build.log"; exit 1; }

# crash-, leak-, timeout-, oom-: libFuzzer's artifacts in $crashes (slow-unit- files are not
# failures: on a shared machine they are mostly other people's load)
count() {
    find "$crashes" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
        -o -name 'oom-*' \) | wc -l
}

rc=0
summary=()
for h in "${harnesses[@]}"; do
    corpus="$bdir/corpus/$h" crashes="$bdir/crashes/$h" log="$bdir/fuzz-$h.log"
    mkdir -p "$corpus" "$crashes"
    dirs=("$corpus")
    for d in "$here/tests/fuzz/seeds/$h" "$here/tests/fuzz/regress/$h"; do
        [ -d "$d" ] && dirs+=("$d")
    done
    dict=()
    [ -f "$here/tests/fuzz/$h.dict" ] && dict=(-dict="$here/tests/fuzz/$h.dict")
    before=$(count)
    echo "=== $h: ${secs} s"
    # -close_fd_mask=3: the code under test prints on stdout/stderr; libFuzzer's own lines
    # and the sanitizers' reports still come through
    # shellcheck disable=SC2086
    "$bdir/tests/fuzz/$h" -max_total_time="$secs" -print_final_stats=1 -close_fd_mask=3 \
        -timeout=30 -artifact_prefix="$crashes/" "${dict[@]}" ${FUZZ_FLAGS:-} "${dirs[@]}" \
        >"$log" 2>&1
    status=$?
    after=$(count)
    execs=$(awk '/^stat::number_of_executed_units:/ {print $2}' "$log")
    rate=$(awk '/^stat::average_exec_per_sec:/ {print $2}' "$log")
    cov=$(grep -E '^#[0-9]+' "$log" | grep -o 'cov: [0-9]*' | tail -1 | awk '{print $2}')
    ft=$(grep -E '^#[0-9]+' "$log" | grep -o 'ft: [0-9]*' | tail -1 | awk '{print $2}')
    new=$((after - before))
    line=$(printf '%-10s executions %9s  exec/s %6s  cov %6s  ft %6s  crashes %s' "$h" \
        "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$new")
    echo "$line"
    if [ $status -ne 0 ] || [ $new -ne 0 ]; then
        rc=1
        grep -E '^(==[0-9]+== ?ERROR|SUMMARY|.*runtime error)' "$log" | head -5
        echo "    log: $log; crashes: $crashes"
    fi
    summary+=("$line")
done
echo "=== summary"
printf '%s\n' "${summary[@]}"
exit $rc
