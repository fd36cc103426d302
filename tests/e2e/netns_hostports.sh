#!/usr/bin/env bash
# Host ports: the Linux stack of the router's namespace sees nprouter's interfaces as TAPs.
#   A (a0) ---- lan [ nprouter in namespace R; TAPs lan, wan in R ] wan ---- (b0) B
#   192.0.2.2/24      192.0.2.1   198.51.100.1      198.51.100.2/24
#   2001:db8:a::2/64  2001:db8:a::1  2001:db8:b::1  2001:db8:b::2/64
# (a) a TAP per interface with its name, MAC, MTU, addresses and admin state, following
# changes; (b) TCP from a host to a listener of R's stack bound to the router's address, both
# families; (c) echo requests still answered by the data plane, not by R's stack; (d) R's
# stack resolves the hosts (ARP / ND copied to it); its own ARP replies are not sent twice;
# (e) deleting an interface removes its TAP; (f) forwarding unchanged; (g) --no-host-ports:
# no TAP; and interfaces named like the veths their ports use: no host port, forwarding works.
set -uo pipefail
BUILD=$1
SRC=$2
. "$SRC/tests/e2e/lib.sh"
. "$SRC/tests/e2e/netns_lib.sh"
netns_init
d=$(mktemp -d /tmp/npr-ns.XXXXXX)

two_hosts
LAN_MAC=02:00:00:00:0a:01
WAN_MAC=02:00:00:00:0b:01

# config LAN-NAME WAN-NAME LAN-MTU LAN-ENABLED [no-wan]
config() {
    local wan=""
    [ "${5:-}" = no-wan ] || wan=",
    { \"name\": \"$2\", \"type\": \"iana-if-type:ethernetCsmacd\", \"nprouter:port\": \"net_af_packet1\",
      \"nprouter:mac-address\": \"$WAN_MAC\", \"nprouter:mtu\": 1400,
      \"ietf-ip:ipv4\": { \"address\": [{ \"ip\": \"198.51.100.1\", \"prefix-length\": 24 }] },
      \"ietf-ip:ipv6\": { \"address\": [{ \"ip\": \"2001:db8:b::1\", \"prefix-length\": 64 }] } }"
    cat <<EOF
{
  "ietf-interfaces:interfaces": { "interface": [
    { "name": "$1", "type": "iana-if-type:ethernetCsmacd", "nprouter:port": "net_af_packet0",
      "enabled": $4, "nprouter:mac-address": "$LAN_MAC", "nprouter:mtu": $3,
      "ietf-ip:ipv4": { "address": [{ "ip": "192.0.2.1", "prefix-length": 24 },
                                    { "ip": "203.0.113.1", "prefix-length": 28 }] },
      "ietf-ip:ipv6": { "address": [{ "ip": "2001:db8:a::1", "prefix-length": 64 }] } }$wan
  ] }
}
EOF
}
config lan wan 1500 true >"$d/r.json"
config lan wan 1480 true >"$d/r-mtu.json"
config lan wan 1500 false >"$d/r-down.json"
config lan wan 1500 true no-wan >"$d/r-nowan.json"
config ra rb 1500 true >"$d/r-clash.json"

# eventually DESCRIPTION PATTERN CMD...: CMD's output matches PATTERN within 5 s
eventually() {
    local what=$1 pattern=$2 out; shift 2
    for _ in $(seq 50); do
        out=$("$@" 2>&1)
        if grep -qE -- "$pattern" <<<"$out"; then ok "$what"; return 0; fi
        sleep 0.1
    done
    bad "$what: no '$pattern' in:"; echo "$out"
}
# eventually_not DESCRIPTION PATTERN CMD...: CMD's output stops matching PATTERN within 5 s
eventually_not() {
    local what=$1 pattern=$2 out; shift 2
    for _ in $(seq 50); do
        out=$("$@" 2>&1)
        if ! grep -qE -- "$pattern" <<<"$out"; then ok "$what"; return 0; fi
        sleep 0.1
    done
    bad "$what: still '$pattern' in:"; echo "$out"
}
# phase_end LOG: the counters, then stop the data plane
phase_end() {
    ctl show stats || true
    stop_dp || bad "the data plane did not stop cleanly"
    grep -E "^slowpath|^drop|^exception|host port" "$1" || true
}
slow() { ctl --json show stats | $PY -c "import json,sys; print(json.load(sys.stdin)['slowpath']['$1'])"; }

start_router "$d/dp.log" ra rb
apply "$d/r.json"
expect "one line says host ports are on" "host ports on" cat "$d/dp.log"

# ---- (a) the TAPs: name, MAC, MTU, addresses, state
eventually "TAP lan: a tap, up, MTU 1500, the interface's MAC" \
    "lan: <[^>]*,UP,LOWER_UP> mtu 1500 .*link/ether $LAN_MAC.*tun type tap" nsx R ip -d -o link show lan
eventually "TAP wan: MTU 1400, its MAC" "wan: <[^>]*,UP,LOWER_UP> mtu 1400 .*link/ether $WAN_MAC" \
    nsx R ip -o link show wan
eventually "lan has 192.0.2.1/24" "inet 192.0.2.1/24 brd 192.0.2.255" nsx R ip -4 -o addr show dev lan
expect "lan has its second address 203.0.113.1/28" "inet 203.0.113.1/28" nsx R ip -4 -o addr show dev lan
eventually "lan has 2001:db8:a::1/64" "inet6 2001:db8:a::1/64" nsx R ip -6 -o addr show dev lan
expect "wan has 198.51.100.1/24 and 2001:db8:b::1/64" "inet6 2001:db8:b::1/64" \
    nsx R ip -o addr show dev wan
expect "R's stack has the connected route" "192.0.2.0/24 dev lan proto kernel" nsx R ip -4 route

# ---- (f) forwarding, both families
expect "ping A -> B" " 0% packet loss" nsx A ping -c 3 -i 0.2 -W 2 198.51.100.2
expect "ping6 A -> B" " 0% packet loss" nsx A ping -6 -c 3 -i 0.2 -W 2 2001:db8:b::2

# ---- (c) echo requests: the data plane answers, R's stack never sees them
echo_tx=$(slow ECHO_TX)
kern_echo=$(snmp R Icmp InEchos)
expect "ping the router" " 0% packet loss" nsx A ping -c 3 -i 0.2 -W 2 192.0.2.1
expect "ping6 the router" " 0% packet loss" nsx A ping -6 -c 3 -i 0.2 -W 2 2001:db8:a::1
if [ "$(slow ECHO_TX)" -ge $((echo_tx + 6)) ]; then ok "ECHO_TX grew by 6"; else bad "ECHO_TX $echo_tx -> $(slow ECHO_TX)"; fi
if [ "$(snmp R Icmp InEchos)" = "$kern_echo" ]; then ok "R's stack got no echo request"; else bad "R's stack got echo requests"; fi

# ---- (b) TCP through the host port, both directions, both families
cat >"$d/srv.py" <<'EOF'
import socket, sys, threading
def serve(fam, addr):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 8179))
    s.listen(4)
    while True:
        c, peer = s.accept()
        data = c.recv(100)
        c.sendall(b"R got " + data + b" from " + peer[0].encode())
        c.close()
threading.Thread(target=serve, args=(socket.AF_INET6, "2001:db8:a::1"), daemon=True).start()
print("listening", flush=True)
serve(socket.AF_INET, "192.0.2.1")
EOF
nsx R $PY "$d/srv.py" >"$d/srv.log" 2>&1 &
eventually "a listener in R's stack on 192.0.2.1:8179" "listening" cat "$d/srv.log"
client() { # client ADDR
    nsx A $PY -c "
import socket, sys
c = socket.create_connection((sys.argv[1], 8179), timeout=5)
c.sendall(b'hello')
print(c.recv(100).decode())" "$1"
}
expect "TCP from A to 192.0.2.1 reaches R's stack and comes back" "R got hello from 192.0.2.2" \
    client 192.0.2.1
expect "TCP over IPv6 to 2001:db8:a::1" "R got hello from 2001:db8:a::2" client 2001:db8:a::1
expect "TCP to a port nobody listens on: refused by R's stack" "refused" nsx A $PY -c "
import socket
try:
    socket.create_connection(('192.0.2.1', 8180), timeout=3)
except Exception as e:
    print(e)"
expect "UDP to the router: R's stack says port unreachable" "refused" nsx A $PY -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect(('192.0.2.1', 9))
s.send(b'x')
try:
    s.recv(10)
except Exception as e:
    print(e)"
expect "R's stack pings host A through lan" " 0% packet loss" nsx R ping -c 2 -i 0.2 -W 2 192.0.2.2
expect "R's stack pings host B over IPv6 through wan" " 0% packet loss" \
    nsx R ping -6 -c 2 -i 0.2 -W 2 2001:db8:b::2

# ---- (d) R's stack knows the hosts' MACs (from the ARP / ND the data plane copies to it)
a_mac=$(nsx A cat /sys/class/net/a0/address)
expect "R's stack resolved A" "192.0.2.2 lladdr $a_mac (REACHABLE|STALE|DELAY|PROBE)" \
    nsx R ip neigh show dev lan
expect "R's stack resolved A (IPv6)" "2001:db8:a::2 lladdr $a_mac (REACHABLE|STALE|DELAY|PROBE)" \
    nsx R ip -6 neigh show dev lan
# A asks again: the data plane answers; R's stack's own answer is dropped, not sent twice
drops=$(slow HOST_DROP)
nsx A ip neigh flush dev a0
expect "A resolves the router again" " 0% packet loss" nsx A ping -c 1 -W 2 192.0.2.1
eventually "the router's address has the interface's MAC at A" "192.0.2.1 dev a0 lladdr $LAN_MAC" \
    nsx A ip neigh show 192.0.2.1
if [ "$(slow HOST_DROP)" -gt "$drops" ]; then ok "R's stack's ARP reply was dropped (HOST_DROP)"; else bad "no duplicate ARP reply dropped"; fi
if [ "$(slow HOST_TO_KERNEL)" -gt 0 ] && [ "$(slow HOST_FROM_KERNEL)" -gt 0 ]; then
    ok "frames went both ways (HOST_TO_KERNEL, HOST_FROM_KERNEL)"
else
    bad "HOST_TO_KERNEL $(slow HOST_TO_KERNEL), HOST_FROM_KERNEL $(slow HOST_FROM_KERNEL)"
fi

# ---- (a) changes follow: MTU, admin state
apply "$d/r-mtu.json"
eventually "TAP lan follows the MTU (1480)" "lan: .*mtu 1480 " nsx R ip -o link show lan
apply "$d/r-down.json"
eventually "TAP lan goes down with the interface" "lan: .*state DOWN" nsx R ip -o link show lan
apply "$d/r.json"
eventually "TAP lan comes back up" "lan: <[^>]*,UP,LOWER_UP>" nsx R ip -o link show lan
eventually "and has its IPv6 address again" "inet6 2001:db8:a::1/64" nsx R ip -6 -o addr show dev lan
expect "TCP works again after down/up" "R got hello from 192.0.2.2" client 192.0.2.1

# ---- (e) deleting an interface removes its TAP
apply "$d/r-nowan.json"
eventually_not "TAP wan is gone with interface wan" "wan" nsx R ip -o link show
expect "TAP lan stays" "lan: " nsx R ip -o link show lan
# the TAP goes when its descriptor closes, and the line is printed just after: wait for it
eventually "the data plane said so" "host port wan removed" cat "$d/dp.log"
apply "$d/r.json"
eventually "interface wan back: TAP wan again" "wan: <[^>]*,UP,LOWER_UP>" nsx R ip -o link show wan
phase_end "$d/dp.log"

# ---- (f) the TAPs outlive the data plane, without carrier, for the next one to take over
eventually "stopped: TAP lan stays without carrier" "lan: <NO-CARRIER," nsx R ip -o link show lan
expect "stopped: and keeps its address" "inet 192.0.2.1/24" nsx R ip -4 -o addr show dev lan
nsx R ip link del lan
nsx R ip link del wan

# ---- (g) --no-host-ports: no TAP at all
start_router "$d/dp2.log" ra rb -- --no-host-ports
apply "$d/r.json"
expect "one line says host ports are off" "host ports off \(--no-host-ports\)" cat "$d/dp2.log"
expect "forwarding without host ports" " 0% packet loss" nsx A ping -c 2 -i 0.2 -W 2 198.51.100.2
expect_not "no TAP lan or wan" "(lan|wan):" nsx R ip -o link show
phase_end "$d/dp2.log"

# ---- names taken: interfaces named like the veths their ports are bound to
start_router "$d/dp3.log" ra rb
apply "$d/r-clash.json"
eventually "one error line names the interface" "host port ra: a Linux netdev of that name exists" \
    cat "$d/dp3.log"
expect "the veth ra is untouched: no address" "^$" nsx R ip -4 -o addr show dev ra
expect "forwarding works with the names taken" " 0% packet loss" \
    nsx A ping -c 3 -i 0.2 -W 2 198.51.100.2
expect "pinging the router too" " 0% packet loss" nsx A ping -c 2 -i 0.2 -W 2 192.0.2.1
drops=$(slow HOST_DROP)
nsx A $PY -c "
import socket
try:
    socket.create_connection(('192.0.2.1', 8179), timeout=1)
except Exception as e:
    pass" 2>/dev/null
if [ "$(slow HOST_DROP)" -gt "$drops" ]; then ok "TCP to the router without a host port: HOST_DROP"; else bad "no HOST_DROP"; fi
phase_end "$d/dp3.log"
echo "$fails failure(s)"
[ "$fails" -eq 0 ]
