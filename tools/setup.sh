#!/usr/bin/env bash
# Set up a Debian 12 machine for nprouter: packages, hugepages, build.
#
#   tools/setup.sh [--no-hugepages] [--no-build] [--builddir DIR]
#
# Hugepages: 1024 x 2 MiB = 2 GiB. The data plane itself needs ~100 MiB of packet buffers for
# a few ports (its FIB lives in ordinary memory); the rest is headroom for the benchmark
# anchors (l3fwd with a full table in rte_lpm takes several hundred MiB) and testpmd. Tests
# need none: they run DPDK with --no-huge.
#
# Test-only packages: frr and bird2 (FRR tests), prometheus (its promtool too) and curl for the
# exporter's test (tests/e2e/prometheus.sh starts its own prometheus on a free loopback port;
# where systemd runs, Debian's package also starts and enables a system one on :9090, which
# nothing here needs: systemctl disable --now prometheus).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
hugepages=1
build=1
builddir="$here/build"
while [ $# -gt 0 ]; do
    case "$1" in
    --no-hugepages) hugepages=0 ;;
    --no-build) build=0 ;;
    --builddir) builddir=$2; shift ;;
    *) echo "setup.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: run as root (it installs packages and reserves hugepages)" >&2
    exit 1
fi

packages=(
    build-essential meson ninja-build pkg-config
    dpdk dpdk-dev libdpdk-dev dpdk-doc libnuma-dev
    libyang2-dev libyang2-tools libyuma-base
    libcmocka-dev libpcap-dev zlib1g-dev libmnl-dev libmicrohttpd-dev
    python3 python3-scapy tcpdump iproute2 procps
    clang-format
    iputils-ping traceroute netcat-openbsd iperf3 ethtool
    frr bird2
    prometheus curl
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ $hugepages -eq 1 ]; then
    nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
    if [ -w "$nr" ] && [ "$(cat "$nr")" -lt 1024 ]; then
        echo 1024 > "$nr" || true
        echo "setup.sh: hugepages (2 MiB): $(cat "$nr") reserved"
    fi
    if ! grep -q "^nodev /dev/hugepages hugetlbfs\|hugetlbfs /dev/hugepages" /proc/mounts; then
        mkdir -p /dev/hugepages
        mount -t hugetlbfs nodev /dev/hugepages || echo "setup.sh: could not mount hugetlbfs; the data plane still runs with --no-huge" >&2
    fi
fi

if [ $build -eq 1 ]; then
    if [ ! -f "$builddir/build.ninja" ]; then
        meson setup "$builddir" "$here"
    fi
    ninja -C "$builddir"
fi
