#!/usr/bin/env bash
# A memif peer that leaves and comes back under traffic, NPR_FLAP_CYCLES times (default 50):
# the data plane must survive every departure (DPDK 22.11's memif driver unmaps the rings in
# its interrupt thread; dataplane/portgate.h keeps the workers out meanwhile), forward again
# after every return, count every departure, and stop cleanly. tools/memif-flap.sh does the
# work; run it with --cycles 1000 for the long version.
set -euo pipefail
BUILD=$1
SRC=$2
if ! command -v dpdk-testpmd >/dev/null; then
    echo "dpdk-testpmd not installed (package dpdk): skipped"
    exit 77
fi
exec bash "$SRC/tools/memif-flap.sh" --build "$BUILD" --cycles "${NPR_FLAP_CYCLES:-50}" \
    --up-ms 150 --seed 12 --workers "${NPR_WORKERS:-1}"
