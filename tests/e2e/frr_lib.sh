# FRR in the router's namespace, for the tests and benchmarks that drive nprouter with it
# (tests/e2e/frr_bgp.sh, tools/bench/frr_full.sh, frr_churn.sh). Source it after lib.sh and
# netns_lib.sh; $d is the test's directory (configs zebra.conf, bgpd.conf; pid files, logs and
# the vty sockets go there too), $NS_R the router's namespace.
#
#   frr_require          skip (77) unless FRR and bird2 are installed
#   frr_start [ZEBRA-ARGS...]  zebra (with the FPM module) and bgpd
#   vtysh ARGS...        R's vtysh
#   bgp_up               "N established": R's BGP peers that are up

frr_require() {
    local p
    for p in /usr/lib/frr/zebra /usr/lib/frr/bgpd /usr/bin/vtysh /usr/sbin/bird /usr/sbin/birdc; do
        [ -x "$p" ] || { echo "SKIP: $p not installed (apt-get install frr bird2)"; exit 77; }
    done
}

frr_start() {
    chown -R frr:frr "$d" 2>/dev/null
    nsx R /usr/lib/frr/zebra -d -f "$d/zebra.conf" -i "$d/zebra.pid" -z "$d/zserv.api" \
        --vty_socket "$d" -M dplane_fpm_nl --log "file:$d/zebra.log" "$@" || bad "zebra start"
    nsx R /usr/lib/frr/bgpd -d -f "$d/bgpd.conf" -i "$d/bgpd.pid" -z "$d/zserv.api" \
        --vty_socket "$d" -p 179 --log "file:$d/bgpd.log" || bad "bgpd start"
}

vtysh() { nsx R /usr/bin/vtysh --vty_socket "$d" "$@"; }

bgp_up() {
    vtysh -c "show bgp summary json" 2>/dev/null | $PY -c '
import json, sys
try:
    v = json.load(sys.stdin)
except ValueError:
    v = {}
up = {a for af in v.values() if isinstance(af, dict)
      for a, p in af.get("peers", {}).items() if p.get("state") == "Established"}
print(len(up), "established")'
}
