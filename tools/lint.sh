#!/usr/bin/env bash
# Style checks: clang-format (the tree's .clang-format) on every tracked C file, and codespell
# when it is installed. Prints what is off; exits non-zero if anything is.
#   tools/lint.sh [--fix]
set -uo pipefail
cd "$(dirname "$0")/.."
fix=0
[ "${1:-}" = "--fix" ] && fix=1
rc=0
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
if ! command -v clang-format >/dev/null; then
    echo "lint: clang-format is not installed (apt-get install clang-format)"; exit 1
fi
for f in "${files[@]}"; do
    if [ $fix -eq 1 ]; then
        clang-format -i "$f"
    elif ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "lint: $f is not clang-formatted (tools/lint.sh --fix)"; rc=1
    fi
done
if command -v codespell >/dev/null; then
    codespell --quiet-level=2 "${files[@]}" README.md docs 2>/dev/null || rc=1
fi
[ $rc -eq 0 ] && echo "lint: ${#files[@]} files clean"
exit $rc
