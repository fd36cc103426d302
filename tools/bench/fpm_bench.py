#!/usr/bin/python3
"""FPM bridge throughput: routes/s from a recorded zebra stream into a running data plane.

  tools/bench/fpm_bench.py [--build DIR] [--table FILE] [--routes N] [--mode LIST]
                           [--poll-ms MS]

Generates an FPM stream as FRR 8.4's zebra writes it (tests/e2e/fpm_feed.py's encoder) for the
IPv4 table (default ../shared/data/ipv4-full-table.txt.gz, read as tools/gen-config.py reads it;
synthetic /24s if it is not there), each route over one of two gateways on two interfaces
(chosen by a hash of the prefix, as `route load --nexthops 1,2` does):

  nhg     next-hop groups on (FRR's default): two RTM_NEWNEXTHOP objects first, then every
          route with RTA_NH_ID only
  inline  `no fpm use-next-hop-groups`: every route with RTA_GATEWAY + RTA_OIF

In a network namespace of its own: nprouter-dataplane on two net_null ports (host ports on, so
that zebra's ifindexes are the TAPs'), two interfaces, and `nprouter-control fpm --hold 0`. The
stream (built before the clock starts) is written to the bridge's port in one go while
`show info` is polled; the rate is routes / (last route visible in route4_by_origin.zebra -
first byte sent). --mode: the modes in the order they run (default nhg,inline); between two
the connection is closed and, with --hold 0, the bridge withdraws everything. The first run
meets a cold data plane (its FIB and tables grow as the routes come) and an empty mirror: it
is slower than the next ones. Needs root (network namespace, TAPs).
"""
import argparse
import ctypes
import gzip
import ipaddress
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import socket
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))
import fpm_feed  # noqa: E402

DATA = os.path.join(os.path.dirname(SRC), "shared", "data")
PORT = 2620
GW = ["192.0.2.2", "198.51.100.2"]


def log(msg):
    print("fpm_bench: " + msg, file=sys.stderr, flush=True)


def read_prefixes(path, limit):
    if not os.path.exists(path):
        n = limit or 1000000
        log("%s not found: %d synthetic /24s instead" % (path, n))
        base = int(ipaddress.IPv4Address("1.0.0.0"))
        return ["%s/24" % ipaddress.IPv4Address(base + (i << 8)) for i in range(n)]
    out = []
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        for line in f:
            parts = line.split()
            if not parts or parts[0].startswith("#") or ":" in parts[0]:
                continue
            out.append(parts[0])
            if limit and len(out) == limit:
                break
    return out


def fnv(dst, plen):
    """route load's hash (control/load.c load_hash) of the prefix's 4 bytes and length: which
    of the two next hops"""
    h = 2166136261
    for b in dst:
        h = ((h ^ b) * 16777619) & 0xffffffff
    return ((h ^ plen) * 16777619) & 0xffffffff


# One IPv4 route frame as fpm_feed.route_msg builds it, packed in one go (the generic encoder
# takes ~15 s for a full table): FPM header, nlmsghdr, rtmsg, RTA_TABLE, RTA_DST,
# RTA_PRIORITY, then RTA_NH_ID (nhg) or RTA_GATEWAY + RTA_OIF (inline). Checked against
# route_msg for the first route of every stream.
NHG4 = struct.Struct("<4sIHHII8BI HHI HH4s HHI HHI")
INLINE4 = struct.Struct("<4sIHHII8BI HHI HH4s HHI HH4s HHI")
FLAGS_NEW = fpm_feed.NLM_F_REQUEST | fpm_feed.NLM_F_CREATE | fpm_feed.NLM_F_REPLACE


def route_frame(dst, plen, mode, k, ifidx, gw_packed):
    if mode == "nhg":
        n = NHG4.size
        return NHG4.pack(struct.pack(">BBH", 1, 1, n), n - 4, fpm_feed.RTM_NEWROUTE, FLAGS_NEW, 0,
                         0, fpm_feed.AF_INET, plen, 0, 0, 254, 186, 0, 1, 0,
                         8, fpm_feed.RTA_TABLE, 254, 8, fpm_feed.RTA_DST, dst,
                         8, fpm_feed.RTA_PRIORITY, 20, 8, fpm_feed.RTA_NH_ID, k + 1)
    n = INLINE4.size
    return INLINE4.pack(struct.pack(">BBH", 1, 1, n), n - 4, fpm_feed.RTM_NEWROUTE, FLAGS_NEW, 0,
                        0, fpm_feed.AF_INET, plen, 0, 0, 254, 186, 0, 1, 0,
                        8, fpm_feed.RTA_TABLE, 254, 8, fpm_feed.RTA_DST, dst,
                        8, fpm_feed.RTA_PRIORITY, 20, 8, fpm_feed.RTA_GATEWAY, gw_packed[k],
                        8, fpm_feed.RTA_OIF, ifidx[k])


def build_stream(prefixes, mode, ifidx):
    t = time.monotonic()
    gw_packed = [ipaddress.IPv4Address(g).packed for g in GW]
    parts = []
    if mode == "nhg":
        for i in range(2):
            parts.append(fpm_feed.frame(fpm_feed.nexthop_msg(i + 1, gw=GW[i], oif=ifidx[i])))
    for i, p in enumerate(prefixes):
        a, _, plen = p.partition("/")
        dst, plen = socket.inet_aton(a), int(plen)
        k = fnv(dst, plen) % 2
        f = route_frame(dst, plen, mode, k, ifidx, gw_packed)
        if i == 0:
            want = fpm_feed.frame(fpm_feed.route_msg(p, nh_id=k + 1) if mode == "nhg" else
                                  fpm_feed.route_msg(p, gw=GW[k], oif=ifidx[k]))
            assert f == want, "fast encoder differs from fpm_feed.route_msg"
        parts.append(f)
    out = b"".join(parts)
    log("%s stream: %d routes, %.1f MB, built in %.1f s" % (
        mode, len(prefixes), len(out) / 1e6, time.monotonic() - t))
    return out


def enter_netns(name):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
        raise OSError(ctypes.get_errno(), "setns")
    os.close(fd)


class Bench:
    def __init__(self, a):
        self.a = a
        self.ns = "nprfb%d" % os.getpid()
        self.shm = "nprfb-%d" % os.getpid()
        self.ctl_bin = os.path.join(a.build, "control", "nprouter-control")
        self.dp_bin = os.path.join(a.build, "dataplane", "nprouter-dataplane")
        self.procs = []
        self.br = None

    def ctl(self, *args, stdin=None):
        r = subprocess.run([self.ctl_bin, "--shm", self.shm] + list(args), input=stdin,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise SystemExit("fpm_bench: %s: %s" % (" ".join(args), r.stdout))
        return r.stdout

    def zebra_routes(self):
        d = json.loads(self.ctl("--json", "show", "info"))
        return d["route4_by_origin"]["zebra"]

    def start(self):
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        enter_netns(self.ns)
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        self.dp_log = open("/tmp/%s-dp.log" % self.ns, "w")
        dp = subprocess.Popen([self.dp_bin, "--no-pci", "--no-huge", "-m", "1024", "--no-shconf",
                               "--file-prefix", self.shm, "--log-level=*:warning", "-l", "0,1",
                               "--vdev", "net_null0", "--vdev", "net_null1", "--",
                               "--shm", self.shm],
                              stdout=self.dp_log, stderr=subprocess.STDOUT)
        self.procs.append(dp)
        for _ in range(300):
            if dp.poll() is not None:
                raise SystemExit("fpm_bench: the data plane exited; see " + self.dp_log.name)
            if subprocess.run([self.ctl_bin, "--shm", self.shm, "--timeout", "200", "hello"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
                break
            time.sleep(0.1)
        self.ctl("batch", "-", stdin="\n".join([
            "interface set p0 port net_null0 mac 02:00:00:00:0a:01 up",
            "address add 192.0.2.1/24 dev p0",
            "interface set p1 port net_null1 mac 02:00:00:00:0b:01 up",
            "address add 198.51.100.1/24 dev p1"]) + "\n")
        self.ifidx = []
        for name in ("p0", "p1"):  # the TAPs of the two interfaces
            for _ in range(100):
                try:
                    self.ifidx.append(socket.if_nametoindex(name))
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                raise SystemExit("fpm_bench: no TAP %s (host ports off?)" % name)
        self.br_log = open("/tmp/%s-bridge.log" % self.ns, "w")
        # FPM_BENCH_WRAP="perf record -o FILE --": run the bridge under a profiler
        wrap = os.environ.get("FPM_BENCH_WRAP", "").split()
        br = subprocess.Popen(wrap + [self.ctl_bin, "--shm", self.shm, "fpm", "--listen",
                               "127.0.0.1:%d" % PORT, "--hold", "0", "--settle", "500"],
                              stdout=self.br_log, stderr=subprocess.STDOUT,
                              start_new_session=True)  # a wrapper's child goes with it
        self.procs.append(br)
        self.br = br
        time.sleep(0.5)

    def cpu_s(self, pid):
        """user + system CPU seconds of a process so far"""
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def run(self, mode, prefixes):
        stream = build_stream(prefixes, mode, self.ifidx)
        n = len(prefixes)
        s = socket.create_connection(("127.0.0.1", PORT))
        done = {}

        def send():
            s.sendall(stream)
            done["sent"] = time.monotonic()

        th = threading.Thread(target=send)
        cpu0 = self.cpu_s(self.br.pid)
        t0 = time.monotonic()
        th.start()
        seen, t_last = 0, None
        deadline = t0 + 60
        while time.monotonic() < deadline:
            time.sleep(self.a.poll_ms / 1000)
            seen = self.zebra_routes()
            if seen >= n:
                t_last = time.monotonic()
                break
        th.join()
        cpu = self.cpu_s(self.br.pid) - cpu0
        if t_last is None:
            raise SystemExit("fpm_bench: %s: only %d of %d routes after 60 s (see %s)" % (
                mode, seen, n, self.br_log.name))
        secs = t_last - t0
        log("%s: %d routes visible %.3f s after the first byte (all sent after %.3f s): "
            "%.2f M routes/s; the bridge used %.3f s of CPU (%.2f us a route)" % (
                mode, n, secs, done["sent"] - t0, n / secs / 1e6, cpu, cpu / n * 1e6))
        # the mirror's size, from the bridge's counters (SIGUSR1)
        self.br_log.flush()
        os.kill(self.br.pid, signal.SIGUSR1)
        mb = None
        for _ in range(50):
            time.sleep(0.1)
            with open(self.br_log.name) as f:
                m = re.findall(r"stats: mirror (\d+) IPv4 \+ \d+ IPv6 routes \(([0-9.]+) MB\)",
                               f.read())
            if m and int(m[-1][0]) == n:
                mb = float(m[-1][1])
                break
        if mb is not None:
            log("%s: the mirror takes %.1f MB: %.1f bytes a route" % (mode, mb, mb * 1e6 / n))
        s.close()
        # --hold 0: the bridge withdraws everything as soon as the connection closes
        for _ in range(300):
            if self.zebra_routes() == 0:
                break
            time.sleep(0.1)
        return n / secs

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                if p is self.br:
                    os.killpg(p.pid, signal.SIGTERM)
                else:
                    p.terminate()
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
        subprocess.run(["ip", "netns", "del", self.ns])
        try:
            os.unlink("/dev/shm/" + self.shm)
        except FileNotFoundError:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--table", default=os.path.join(DATA, "ipv4-full-table.txt.gz"))
    ap.add_argument("--routes", type=int, default=0, help="at most N routes (0: all)")
    ap.add_argument("--mode", default="nhg,inline", help="nhg, inline, in this order (nhg,inline)")
    ap.add_argument("--poll-ms", type=int, default=20)
    a = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("fpm_bench: needs root (a network namespace, TAPs)")
    prefixes = read_prefixes(a.table, a.routes)
    b = Bench(a)
    rates = {}
    try:
        b.start()
        for i, mode in enumerate(a.mode.split(",")):
            if mode not in ("nhg", "inline"):
                raise SystemExit("fpm_bench: --mode: nhg or inline, not %r" % mode)
            rates["%s (%s)" % (mode, "cold" if i == 0 else "warm")] = b.run(mode, prefixes)
    finally:
        b.stop()
    for mode, r in rates.items():
        print("%-13s %d routes: %.2f M routes/s" % (mode, len(prefixes), r / 1e6))


if __name__ == "__main__":
    main()
