# Helpers for the end-to-end tests with real Linux hosts in network namespaces. Source it after
# lib.sh (BUILD and SRC set). Each test builds its own namespaces (names unique to the test's
# process), runs the data plane in the router namespace on net_af_packet ports bound to veth
# ends, configures the hosts with `ip` and nprouter from a YANG configuration file
# (nprouter-control apply), and checks with the hosts' own tools (ping, traceroute, nc).
#
#   netns_init            skip (exit 77, with the reason) if the kernel refuses namespaces;
#                         fail if a tool is missing (tools/setup.sh installs them); sets the
#                         EXIT trap that removes every namespace and stops the data plane
#   ns_add NAME           a namespace $NS_<NAME> (loopback up, no IPv6 DAD)
#   ns_link HOST HIF RIF  a veth pair: HIF in the host's namespace, RIF in the router's
#   start_router LOG RIF... [-- DP-ARGS...]  the data plane in the router namespace, one port
#                         per RIF (host ports on, as by default: TAPs in the router namespace);
#                         RIF may carry af_packet devargs: ra,framesz=1536,blocksz=12288
#   nsx NAME CMD...       run CMD in namespace NAME
#
# Addresses: documentation ranges only (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
# 2001:db8::/32); nothing leaves the namespaces.

NS_PFX="npr$$"
NS_ALL=()
fails=0

ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

netns_cleanup() {
    local ns pid
    cleanup_dp
    for ns in "${NS_ALL[@]}"; do
        # what this test started in its namespaces (nc, ping, iperf3...)
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
    [ -n "${d:-}" ] && rm -rf "$d"
}

netns_init() {
    local probe="${NS_PFX}probe" t
    if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: network namespaces need root (running as uid $(id -u))"; exit 77
    fi
    if ! err=$(ip netns add "$probe" 2>&1); then
        echo "SKIP: the kernel refuses network namespaces: $err"; exit 77
    fi
    if ! err=$(ip netns exec "$probe" ip link set lo up 2>&1); then
        ip netns del "$probe" 2>/dev/null
        echo "SKIP: cannot enter a network namespace: $err"; exit 77
    fi
    if ! err=$(ip link add "${NS_PFX}v0" netns "$probe" type veth peer name "${NS_PFX}v1" \
        netns "$probe" 2>&1); then
        ip netns del "$probe" 2>/dev/null
        echo "SKIP: the kernel refuses veth pairs: $err"; exit 77
    fi
    ip netns del "$probe"
    for t in ping traceroute nc python3 ethtool; do
        command -v "$t" >/dev/null || { echo "FAIL: $t is missing (tools/setup.sh installs it)"; exit 1; }
    done
    trap netns_cleanup EXIT
    trap 'exit 1' INT TERM
}

# ns_add NAME: creates namespace ${NS_PFX}NAME, exported as NS_NAME
ns_add() {
    local ns="${NS_PFX}$1"
    ip netns add "$ns" || { echo "FAIL: ip netns add $ns"; exit 1; }
    NS_ALL+=("$ns")
    eval "NS_$1=$ns"
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

nsx() { local n=$1; shift; eval "ip netns exec \"\$NS_$n\" \"\$@\""; }

# ns_link HOST HIF RIF: veth HIF (in HOST) <-> RIF (in R). Offloads off on both ends: the
# data plane (af_packet) must see every frame whole, with its checksums computed. R's own
# stack sees RIF's frames too, and has the router's addresses (on the host ports): no ARP and
# no IPv6 on RIF, or it would answer for them with RIF's MAC.
ns_link() {
    local h=$1 hif=$2 rif=$3 hns rns
    eval "hns=\$NS_$h"; rns=$NS_R
    ip link add "$rif" netns "$rns" type veth peer name "$hif" netns "$hns" ||
        { echo "FAIL: veth $hif/$rif"; exit 1; }
    ip netns exec "$rns" sysctl -qw "net.ipv6.conf.$rif.disable_ipv6=1"
    ip netns exec "$rns" ip link set "$rif" arp off
    ip netns exec "$rns" ethtool -K "$rif" tx off tso off gso off gro off >/dev/null 2>&1
    ip netns exec "$hns" ethtool -K "$hif" tx off tso off gso off gro off >/dev/null 2>&1
    ip netns exec "$rns" ip link set "$rif" up
    ip netns exec "$hns" ip link set "$hif" up
}

# host NAME IF ADDR4/LEN GW4 ADDR6/LEN GW6
host() {
    local n=$1 dev=$2
    nsx "$n" ip addr add "$3" dev "$dev"
    nsx "$n" ip route add default via "$4"
    nsx "$n" ip -6 addr add "$5" dev "$dev" nodad
    nsx "$n" ip -6 route add default via "$6"
}

# two_hosts: router R between host A (a0, lan side) and host B (b0, wan side):
#   A 192.0.2.2/24 2001:db8:a::2/64 --- ra [R] rb --- B 198.51.100.2/24 2001:db8:b::2/64
two_hosts() {
    ns_add R
    ns_add A
    ns_add B
    ns_link A a0 ra
    ns_link B b0 rb
    host A a0 192.0.2.2/24 192.0.2.1 2001:db8:a::2/64 2001:db8:a::1
    host B b0 198.51.100.2/24 198.51.100.1 2001:db8:b::2/64 2001:db8:b::1
}

# start_router LOG RIF... [-- DP-ARGS...]: the data plane in the router namespace, port i on
# RIF i. Rings of 4096 frames (the PMD's default, 512, overflows under a few hundred Mbit/s of
# TCP on a busy machine: frames lost in the kernel, RX-UNSEEN in show stats).
start_router() {
    local log=$1; shift
    local vdevs=() i=0 ring nw=${NPR_WORKERS:-1} lcores="0@0" w
    # NPR_WORKERS=N: N workers (lcores 1..N on the CPUs in turn), each port with N queue
    # pairs; the kernel's fanout hash spreads flows over them (af_packet has no RSS)
    for w in $(seq 1 "$nw"); do lcores+=",$w@$((w % $(nproc)))"; done
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
        ring=",framecnt=4096"
        [[ $1 == *framecnt=* ]] && ring=
        [ "$nw" -gt 1 ] && ring+=",qpairs=$nw"
        vdevs+=(--vdev "net_af_packet$i,iface=$1$ring"); i=$((i + 1)); shift
    done
    [ $# -gt 0 ] && shift
    ip netns exec "$NS_R" "$NPR_DP" --no-pci --no-huge -m 512 --no-shconf \
        --file-prefix "$NPR_NAME" --log-level='*:warning' --lcores "$lcores" "${vdevs[@]}" -- \
        --neigh-retry-ms 300 --shm "$NPR_NAME" "$@" >"$log" 2>&1 &
    NPR_DP_PID=$!
    for _ in $(seq 200); do
        if ! kill -0 "$NPR_DP_PID" 2>/dev/null; then
            echo "FAIL: data plane exited during start-up:"; cat "$log"; exit 1
        fi
        ctl hello >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "FAIL: data plane did not answer within 20 s:"; cat "$log"; exit 1
}

# apply FILE: nprouter's configuration from a YANG (JSON) file
apply() {
    local out
    if ! out=$(ctl apply "$1" 2>&1); then
        echo "FAIL: apply $1:"; echo "$out"; exit 1
    fi
}

# expect DESCRIPTION PATTERN CMD...: CMD's output (exit status ignored) matches PATTERN
expect() {
    local what=$1 pattern=$2 out; shift 2
    out=$("$@" 2>&1)
    if grep -qE -- "$pattern" <<<"$out"; then ok "$what"; else bad "$what: no '$pattern' in:"; echo "$out"; fi
}

# expect_not DESCRIPTION PATTERN CMD...: the output does not match
expect_not() {
    local what=$1 pattern=$2 out; shift 2
    out=$("$@" 2>&1)
    if grep -qE -- "$pattern" <<<"$out"; then bad "$what: '$pattern' in:"; echo "$out"; else ok "$what"; fi
}

# snmp NAME PROTO FIELD: a counter of /proc/net/snmp in that namespace (Udp NoPorts...);
# PROTO Udp6, Icmp6...: /proc/net/snmp6 (one "Udp6NoPorts N" a line)
snmp() {
    case "$2" in
    *6) nsx "$1" awk -v k="$2$3" '$1 == k { print $2 }' /proc/net/snmp6; return ;;
    esac
    nsx "$1" awk -v p="$2:" -v f="$3" '$1 == p && !h { for (i = 2; i <= NF; i++) c[i] = $i; h = 1; next }
        $1 == p && h { for (i = 2; i <= NF; i++) if (c[i] == f) print $i }' /proc/net/snmp
}

finish() {
    ctl show stats || true
    ctl show neighbors || true
    stop_dp || bad "the data plane did not stop cleanly"
    grep -E "^slowpath|^drop|^exception" "$d/dp.log" || true
    echo "$fails failure(s)"
    [ "$fails" -eq 0 ]
}
