#!/usr/bin/env bash
# yanglint (libyang's own tool) validates our module and every example configuration in conf/
# against the IETF modules from the yang_dir search path. Usage: yanglint.sh SRC [YANG_DIRS]
set -euo pipefail
SRC=$1
DIRS=${2:-/usr/share/yuma/nmda-modules/ietf:/usr/share/yuma/modules/ietf}
command -v yanglint >/dev/null || { echo "yanglint not installed"; exit 77; }
paths=(-p "$SRC/conf")
IFS=: read -ra dirs <<<"$DIRS"
for p in "${dirs[@]}"; do paths+=(-p "$p"); done
find_mod() { # the newest revision of a module in the search path
    local m
    for p in "${dirs[@]}"; do
        m=$(ls "$p/$1@"*.yang 2>/dev/null | sort | tail -1)
        [ -n "$m" ] && { echo "$m"; return; }
    done
    echo "module $1 not found in $DIRS" >&2; exit 1
}
mods=("$SRC/conf/nprouter.yang")
for m in iana-if-type ietf-interfaces ietf-ip ietf-routing ietf-ipv4-unicast-routing ietf-ipv6-unicast-routing; do
    mods+=("$(find_mod $m)")
done
passed=0 failed=0
if yanglint "${paths[@]}" "$SRC/conf/nprouter.yang"; then
    echo "ok: conf/nprouter.yang"; passed=$((passed + 1))
else
    echo "FAIL: conf/nprouter.yang"; failed=$((failed + 1))
fi
for f in "$SRC"/conf/*.json "$SRC"/conf/*.xml; do
    if yanglint "${paths[@]}" -t config "${mods[@]}" "$f"; then
        echo "ok: ${f#$SRC/}"; passed=$((passed + 1))
    else
        echo "FAIL: ${f#$SRC/}"; failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
