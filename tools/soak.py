#!/usr/bin/env python3
"""The long-running parts of the nprouter soak (tools/soak.sh builds the namespaces, starts
the data plane and runs `soak.py drive` in the router's namespace).

  soak.py send  --dests F --status F --pps N
      in host A: UDP to every destination in turn, paced; each datagram carries
      (magic, destination id, sequence number per destination, send time)
  soak.py recv  --dests F --status F --iface IF --name B|C|A --timeline F
      in a host: every UDP datagram of ours that the interface receives (AF_PACKET), counted
      per destination, and checked: stable classes only at their sink; churned prefixes
      only where their route pointed at some moment between the send and the arrival (the
      route's history is the timeline file the driver appends to); the IP destination and
      TTL / hop limit as the router must leave them
  soak.py drive ...
      the soak itself: configuration by the `run` daemon, CLI routes, churn batches, killed
      CLI batches, daemon restarts (kill -9), memory samples, progress lines and the report;
      exits 1 if anything was misforwarded, a killed batch left part of itself, the daemon
      did not converge, packets to always-routed prefixes were lost (beyond --max-loss), or
      memory grew beyond the stated tolerance

Times are CLOCK_MONOTONIC nanoseconds: one clock for every namespace of the host.
"""
import argparse
import bisect
import collections
import ipaddress
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import time

PORT = 9999
STABLE = ("cliB", "cliC", "cfgB", "cfgC", "flip")  # always routed: nothing to lose
MAGIC = b"SOAK"
HDR = struct.Struct("!4sHHQQ")  # magic, dest id, reserved, seq, send time (ns)
# the sink each class's packets must reach ("": none); the others': where the timeline says
STATIC_SINKS = {"cliB": "B", "cliC": "C", "cfgB": "B", "cfgC": "C", "none": ""}
TIMELINE_CLASSES = ("churn", "flip")
INF = 1 << 62


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.replace(tmp, path)


def read_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def now_ns():
    return time.monotonic_ns()


class Stop:
    """SIGTERM / SIGINT set a flag instead of killing: the final counts get written."""

    def __init__(self):
        self.set = False
        signal.signal(signal.SIGTERM, self._on)
        signal.signal(signal.SIGINT, self._on)

    def _on(self, *_):
        self.set = True


# ---------------------------------------------------------------- sender (host A)


def cmd_send(a):
    dests = read_json(a.dests)
    stop = Stop()
    socks = {4: socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
             6: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)}
    for s in socks.values():
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    targets = [(d["id"], (d["addr"], PORT), socks[d["fam"]]) for d in dests]
    sent = [0] * len(dests)
    errors = collections.Counter()
    tick = 0.005
    per_tick = a.pps * tick
    credit = 0.0
    i = 0
    t_next = time.monotonic()
    last_status = last_mark = 0.0
    marks = []  # (time ns, sequence number the next round sends): seq -> time

    def status(final):
        write_json(a.status, {"sent": sent, "errors": dict(errors), "marks": marks,
                              "final": final})

    while not stop.set:
        now = time.monotonic()
        if now < t_next:
            time.sleep(t_next - now)
            continue
        t_next += tick
        if t_next < now - 0.5:  # descheduled for long: no catch-up burst
            t_next = now
        if now - last_mark >= 0.5:
            marks.append((now_ns(), sent[targets[i][0]]))
            last_mark = now
        credit += per_tick
        k = int(credit)
        credit -= k
        for _ in range(k):
            did, addr, s = targets[i]
            i = (i + 1) % len(targets)
            try:
                s.sendto(HDR.pack(MAGIC, did, 0, sent[did], now_ns()), addr)
                sent[did] += 1
            except OSError as e:
                errors[e.strerror or str(e)] += 1
        if now - last_status >= 2:
            status(False)
            last_status = now
    status(True)


# ---------------------------------------------------------------- receiver (B, C, and A)


class Timeline:
    """Per destination, the route's history: events (t0, t1, target), meaning "a change that
    started at t0 and was done at t1 made the target `target`" ('B', 'C', '-' no route).
    Target k held, possibly, from t0[k] to t1[k+1]. Lines: "E id t0 t1 target" and
    "T t" (the history is complete up to t; -1: complete)."""

    def __init__(self, path, n):
        self.path = path
        self.off = 0
        self.buf = ""
        self.t0 = [[] for _ in range(n)]
        self.end = [[] for _ in range(n)]  # t1 of the next event, INF while none
        self.target = [[] for _ in range(n)]
        self.complete = 0

    def update(self):
        try:
            with open(self.path) as f:
                f.seek(self.off)
                data = f.read()
                self.off = f.tell()
        except OSError:
            return
        self.buf += data
        lines = self.buf.split("\n")
        self.buf = lines.pop()
        for ln in lines:
            w = ln.split()
            if not w:
                continue
            if w[0] == "T":
                t = int(w[1])
                self.complete = INF if t < 0 else max(self.complete, t)
            elif w[0] == "E":
                did, t0, t1, tgt = int(w[1]), int(w[2]), int(w[3]), w[4]
                if self.end[did]:
                    self.end[did][-1] = t1
                self.t0[did].append(t0)
                self.end[did].append(INF)
                self.target[did].append(tgt)

    def possible(self, did, sink, ts, tr):
        """Did the route of did point to sink at some time in [ts, tr]?"""
        t0, end, tgt = self.t0[did], self.end[did], self.target[did]
        k = bisect.bisect_right(t0, tr) - 1
        while k >= 0 and end[k] >= ts:
            if tgt[k] == sink:
                return True
            k -= 1
        return False


def cmd_recv(a):
    dests = read_json(a.dests)
    n = len(dests)
    stop = Stop()
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    sock.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
    try:
        sock.setsockopt(263, 23, 1)  # SOL_PACKET, PACKET_IGNORE_OUTGOING
    except OSError:
        pass
    sock.bind((a.iface, 0))
    sock.settimeout(0.2)
    dst = [socket.inet_pton(socket.AF_INET if d["fam"] == 4 else socket.AF_INET6, d["addr"])
           for d in dests]
    cls = [d["cls"] for d in dests]
    static_ok = [None if c in TIMELINE_CLASSES else STATIC_SINKS[c] == a.name for c in cls]
    count, dups, misfwd = [0] * n, [0] * n, [0] * n
    seen = [bytearray(4096) for _ in range(n)]
    other = collections.Counter()  # bad_dst, bad_ttl, foreign
    pending = collections.deque()  # (did, ts, tr) of timeline classes, waiting for history
    tl = Timeline(a.timeline, n)
    sock_drops = 0
    stop_at = None
    last_check = last_status = 0.0

    def status(final):
        nonlocal sock_drops
        try:
            st = sock.getsockopt(263, 6, 8)  # PACKET_STATISTICS (reading resets them)
            sock_drops += struct.unpack("II", st)[1]
        except OSError:
            pass
        write_json(a.status, {"name": a.name, "count": count, "dups": dups, "misfwd": misfwd,
                              "pending": len(pending), "other": dict(other),
                              "sock_drops": sock_drops, "final": final})

    status(False)  # ready: the driver starts the sender once every receiver is

    def check_pending():
        tl.update()
        while pending and pending[0][2] <= tl.complete:
            did, ts, tr = pending.popleft()
            if not tl.possible(did, a.name, ts, tr):
                misfwd[did] += 1

    while True:
        try:
            data, addr = sock.recvfrom(4096)
        except socket.timeout:
            data = None
        if data is not None and addr[2] != 4:  # PACKET_OUTGOING: what A sends itself
            tr = now_ns()
            et = data[12:14]
            if et == b"\x08\x00" and len(data) >= 34 and data[23] == 17:
                off = 14 + (data[14] & 0xF) * 4
                ipdst, ttl = data[30:34], data[22]
            elif et == b"\x86\xdd" and len(data) >= 54 and data[20] == 17:
                off = 54
                ipdst, ttl = data[38:54], data[21]
            else:
                off = None
            if (off is not None and len(data) >= off + 8 + HDR.size and
                    int.from_bytes(data[off + 2:off + 4], "big") == PORT):
                magic, did, _, seq, ts = HDR.unpack_from(data, off + 8)
                if magic != MAGIC or did >= n:
                    other["foreign"] += 1
                else:
                    count[did] += 1
                    bits = seen[did]
                    if seq >> 3 >= len(bits):
                        bits.extend(bytearray(max(len(bits), (seq >> 3) + 1 - len(bits))))
                    if bits[seq >> 3] & (1 << (seq & 7)):
                        dups[did] += 1
                    bits[seq >> 3] |= 1 << (seq & 7)
                    if ipdst != dst[did]:
                        other["bad_dst"] += 1
                    if ttl != 63:
                        other["bad_ttl"] += 1
                    ok = static_ok[did]
                    if ok is None:
                        pending.append((did, ts, tr))
                    elif not ok:
                        misfwd[did] += 1
        now = time.monotonic()
        if data is None or now - last_check >= 0.2:
            check_pending()
            last_check = now
        if now - last_status >= 2:
            status(False)
            last_status = now
        if stop.set:
            if stop_at is None:
                stop_at = now
            # drain what is queued, then wait for the history to be complete (10 s at most)
            if data is None and (tl.complete >= INF or now - stop_at > 10):
                break
    tl.update()
    tl.complete = INF
    check_pending()
    with open(a.status + ".bits", "wb") as f:
        for b in seen:
            f.write(struct.pack("<I", len(b)) + b)
    status(True)


# ---------------------------------------------------------------- driver (router namespace)


def plan_dests():
    """The destinations and their classes: one address (prefix + 1) per prefix."""
    d = []

    def add(prefix, cls, origin):
        net = ipaddress.ip_network(prefix)
        d.append({"id": len(d), "prefix": prefix, "addr": str(net.network_address + 1),
                  "fam": net.version, "cls": cls, "origin": origin})

    for i in range(2):
        add(f"203.0.113.{16 * i}/28", "cliB", "cli")
        add(f"2001:db8:1:{i + 1}::/64", "cliB", "cli")
        add(f"203.0.113.{32 + 16 * i}/28", "cliC", "cli")
        add(f"2001:db8:1:{i + 3}::/64", "cliC", "cli")
    for i in range(8):
        add(f"203.0.113.{64 + 16 * i}/28", "churn", "cli")
        add(f"2001:db8:3:{i}::/64", "churn", "cli")
    add("203.0.113.192/28", "cfgB", "config")
    add("2001:db8:2:1::/64", "cfgB", "config")
    add("203.0.113.208/28", "cfgC", "config")
    add("2001:db8:2:2::/64", "cfgC", "config")
    add("203.0.113.224/28", "flip", "config")
    add("2001:db8:2:3::/64", "flip", "config")
    add("203.0.113.240/28", "none", "")  # no route, ever
    add("2001:db8:4::/64", "none", "")
    return d


GW = {("B", 4): "198.51.100.2", ("C", 4): "198.51.100.130",
      ("B", 6): "2001:db8:b::2", ("C", 6): "2001:db8:c::2"}
NH = {("B", 4): 1, ("C", 4): 2, ("B", 6): 3, ("C", 6): 4}  # the CLI's next hops


def config_json(dests, flip):
    def routes(fam):
        r = []
        for d in dests:
            if d["origin"] != "config" or d["fam"] != fam:
                continue
            sink = {"cfgB": "B", "cfgC": "C", "flip": flip}[d["cls"]]
            r.append({"destination-prefix": d["prefix"],
                      "next-hop": {"next-hop-address": GW[(sink, fam)]}})
        return r

    def iface(name, port, a4, p4len, a6):
        return {"name": name, "type": "iana-if-type:ethernetCsmacd", "nprouter:port": port,
                "ietf-ip:ipv4": {"address": [{"ip": a4, "prefix-length": p4len}]},
                "ietf-ip:ipv6": {"address": [{"ip": a6, "prefix-length": 64}]}}

    return {
        "ietf-interfaces:interfaces": {"interface": [
            iface("lan", "net_af_packet0", "192.0.2.1", 24, "2001:db8:a::1"),
            iface("wanb", "net_af_packet1", "198.51.100.1", 25, "2001:db8:b::1"),
            iface("wanc", "net_af_packet2", "198.51.100.129", 25, "2001:db8:c::1")]},
        "ietf-routing:routing": {"control-plane-protocols": {"control-plane-protocol": [
            {"type": "ietf-routing:static", "name": "static", "static-routes": {
                "ietf-ipv4-unicast-routing:ipv4": {"route": routes(4)},
                "ietf-ipv6-unicast-routing:ipv6": {"route": routes(6)}}}]}}}


def slope(pts):
    """Least-squares slope of (x, y) points (0 with fewer than 3)."""
    if len(pts) < 3:
        return 0.0
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    den = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / den if den else 0.0


def pct(xs, q):
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


class Driver:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.w = a.work
        self.t_start = None
        self.log_path = os.path.join(self.w, "soak.log")
        self.logf = open(self.log_path, "a")
        self.dests = plan_dests()
        self.cfg_path = os.path.join(self.w, "config", "nprouter.json")
        self.tl_path = os.path.join(self.w, "timeline")
        for f in ("send.json", "recvA.json", "recvB.json", "recvC.json", "recvA.json.bits",
                  "recvB.json.bits", "recvC.json.bits"):
            if os.path.exists(os.path.join(self.w, f)):
                os.unlink(os.path.join(self.w, f))
        self.tl = open(self.tl_path, "w")
        self.dests_path = os.path.join(self.w, "dests.json")
        self.daemon = None
        self.daemon_log = os.path.join(self.w, "daemon.log")
        self.procs = {}
        self.n = collections.Counter()  # event counters for the report
        self.converge_s = []
        self.churn_s = []
        self.kill_outcomes = collections.Counter()
        self.failures = []
        self.samples = []  # (t, rss_kb, mbufs_in_use, mbufs_total, fib4, fib6, routes4, routes6)
        self.churn_state = {}  # dest id -> 'B' | 'C' | '-'
        self.extras = {}  # prefix -> nexthop id (the cycle's extra routes)
        self.flip = "B"
        self.flip_since = None  # monotonic ns of a config edit not yet converged
        self.converge = None  # a daemon restart being watched
        self.events = []  # (elapsed s, what): for the report's losses

    # ---- helpers
    def log(self, msg):
        self.events.append((self.elapsed(), msg))
        line = f"[{self.elapsed():7.1f}s] {msg}"
        self.logf.write(line + "\n")
        self.logf.flush()
        if self.a.verbose:
            print(line, flush=True)

    def say(self, msg):
        print(msg, flush=True)
        self.logf.write(msg + "\n")
        self.logf.flush()

    def elapsed(self):
        return 0.0 if self.t_start is None else time.monotonic() - self.t_start

    def ctl(self, *args, json_out=False, timeout=60):
        """nprouter-control ARGS: its output (parsed with json_out), None if it failed."""
        cmd = [self.a.ctl, "--shm", self.a.shm, "--timeout", "20000"]
        if json_out:
            cmd.append("--json")
        cmd += list(args)
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.log(f"ctl {' '.join(args)}: timed out after {timeout} s")
            return None
        if p.returncode != 0:
            self.log(f"ctl {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()[:300]}")
            return None
        if json_out:
            try:
                return json.loads(p.stdout)
            except ValueError:
                return None
        return p.stdout

    def timeline(self, line):
        self.tl.write(line + "\n")
        self.tl.flush()

    def heartbeat(self):
        """The routes' history is complete up to now, or to the config edit in flight."""
        t = now_ns()
        if self.flip_since is not None:
            t = min(t, self.flip_since)
        self.timeline(f"T {t}")

    def write_config(self):
        os.makedirs(os.path.dirname(self.cfg_path), exist_ok=True)
        write_json(self.cfg_path, config_json(self.dests, self.flip))

    def start_daemon(self):
        log = open(self.daemon_log, "a")
        self.daemon = subprocess.Popen(
            [self.a.ctl, "--shm", self.a.shm, "run", "--poll", "200", self.cfg_path],
            stdout=log, stderr=log)
        log.close()

    def daemon_log_since(self, off):
        try:
            with open(self.daemon_log) as f:
                f.seek(off)
                return f.read()
        except OSError:
            return ""

    def start(self, name, ns, args):
        out = open(os.path.join(self.w, f"{name}.out"), "w")
        self.procs[name] = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__)] + args,
            stdout=out, stderr=out)
        out.close()

    def route_target(self, addr):
        """'B', 'C', '-' (no route) or '?' for where the data plane sends addr."""
        r = self.ctl("route", "get", addr, json_out=True, timeout=30)
        if r is None:
            return "?"
        if not r.get("found"):
            return "-"
        desc = r.get("description", "")
        for (sink, fam), gw in GW.items():
            if f"via {gw} " in desc + " ":
                return sink
        return "?"

    def info(self):
        return self.ctl("show", "info", json_out=True, timeout=30)

    def stats(self):
        return self.ctl("show", "stats", json_out=True, timeout=30)

    def cli_counts(self):
        i = self.info()
        if i is None:
            return None
        return i["route4_by_origin"]["cli"], i["route6_by_origin"]["cli"]

    def batch(self, lines, name, timeout=120):
        path = os.path.join(self.w, name)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return self.ctl("batch", path, timeout=timeout) is not None

    # ---- set-up
    def setup(self):
        a = self.a
        write_json(self.dests_path, self.dests)
        self.write_config()
        self.t_start = time.monotonic()
        self.start_daemon()
        if not self.wait_daemon(0, 30):
            raise RuntimeError("the daemon did not apply the configuration:\n" +
                               self.daemon_log_since(0))
        lines = []
        for (sink, fam), nh in NH.items():
            lines.append(f"nexthop set {nh} via {GW[(sink, fam)]} dev wan{sink.lower()}")
        for d in self.dests:
            if d["cls"] in ("cliB", "cliC"):
                sink = d["cls"][-1]
                lines.append(f"route add {d['prefix']} nexthop {NH[(sink, d['fam'])]}")
            elif d["cls"] == "churn":
                sink = self.rng.choice("BC")
                self.churn_state[d["id"]] = sink
                lines.append(f"route add {d['prefix']} nexthop {NH[(sink, d['fam'])]}")
        if not self.batch(lines, "setup.batch"):
            raise RuntimeError("the CLI's set-up batch failed (see soak.log)")
        t = now_ns()
        for d in self.dests:
            if d["cls"] == "churn":
                self.timeline(f"E {d['id']} 0 {t} {self.churn_state[d['id']]}")
            elif d["cls"] == "flip":
                self.timeline(f"E {d['id']} 0 {t} {self.flip}")
        self.heartbeat()
        # the kill batch: calibrate its duration once, unkilled
        self.kill_lines, self.kill_del, self.kill_n = self.kill_batch_lines()
        t0 = time.monotonic()
        if not self.batch(self.kill_lines, "kill.batch"):
            raise RuntimeError("the calibration batch failed (see soak.log)")
        self.kill_est = time.monotonic() - t0
        # when to kill: between lo and hi seconds after the start, moved towards the moments
        # when the batch is open in the data plane (after the client parsed the file, before
        # the commit) by what earlier kills found
        self.kill_win = [0.0, 1.2 * self.kill_est]
        if not self.batch(self.kill_del, "kill-del.batch"):
            raise RuntimeError("removing the calibration batch failed (see soak.log)")
        self.log(f"a batch of {len(self.kill_lines)} routes takes {self.kill_est:.2f} s")
        # every next hop resolved before the traffic: nothing waits in a resolution queue
        for gw in GW.values():
            p = subprocess.run(["ip", "netns", "exec", a.ns_a, "ping", "-c", "3", "-i", "0.2",
                                "-W", "2", gw], capture_output=True, text=True)
            if " 0 received" in p.stdout or p.returncode == 2:
                raise RuntimeError(f"A cannot ping {gw} through the router:\n{p.stdout}")
        for name, ns, iface in (("B", a.ns_b, "b0"), ("C", a.ns_c, "c0"), ("A", a.ns_a, "a0")):
            self.start(f"recv{name}", ns, ["recv", "--dests", self.dests_path, "--iface", iface,
                                           "--name", name, "--timeline", self.tl_path,
                                           "--status", os.path.join(self.w, f"recv{name}.json")])
        t_wait = time.monotonic() + 30
        while not all(os.path.exists(os.path.join(self.w, f"recv{s}.json")) for s in "BCA"):
            if time.monotonic() > t_wait:
                raise RuntimeError("the receivers did not start (see recv?.out)")
            time.sleep(0.1)
        self.start("send", a.ns_a, ["send", "--dests", self.dests_path, "--pps", str(a.pps),
                                    "--status", os.path.join(self.w, "send.json")])

    def kill_batch_lines(self):
        adds, dels = [], []
        net4 = ipaddress.ip_network("198.19.0.0/16")
        net6 = ipaddress.ip_network("2001:db8:f000::/36")
        k6 = self.a.kill_routes // 4
        for i in range(self.a.kill_routes - k6):
            p = f"{net4.network_address + i}/32"
            adds.append(f"route add {p} nexthop 2")
            dels.append(f"route del {p}")
        for i in range(k6):
            p = f"{net6.network_address + (i << 64)}/64"
            adds.append(f"route add {p} nexthop 4")
            dels.append(f"route del {p}")
        return adds, dels, (self.a.kill_routes - k6, k6)

    def wait_daemon(self, off, timeout):
        t_end = time.monotonic() + timeout
        while time.monotonic() < t_end:
            txt = self.daemon_log_since(off)
            if ": applied" in txt or ": no change" in txt or "resynced" in txt:
                return True
            time.sleep(0.1)
        return False

    # ---- one churn cycle: churned prefixes move, go and come back; extra routes replaced
    def churn(self):
        lines, changes = [], {}
        for d in self.dests:
            if d["cls"] != "churn" or self.rng.random() < 0.5:
                continue
            cur = self.churn_state[d["id"]]
            if cur == "-":
                new = self.rng.choice("BC")
            else:
                new = "-" if self.rng.random() < 0.3 else ("C" if cur == "B" else "B")
            if new == "-":
                lines.append(f"route del {d['prefix']}")
            else:
                lines.append(f"route add {d['prefix']} nexthop {NH[(new, d['fam'])]}")
            changes[d["id"]] = new
        old = list(self.extras)
        lines += [f"route del {p}" for p in old]
        new_extras = {}
        while len(new_extras) < self.a.extras:
            if self.rng.random() < 0.75:
                plen = self.rng.choice((24, 28, 32))
                net = ipaddress.ip_network(
                    (0xC6120000 | self.rng.getrandbits(16), plen), strict=False)
                fam = 4
            else:
                plen = self.rng.choice((48, 56, 64, 128))
                addr = (0x20010DB8E << 92) | self.rng.getrandbits(92)
                net = ipaddress.ip_network((addr, plen), strict=False)
                fam = 6
            p = str(net)
            if p in self.extras or p in new_extras:
                continue
            new_extras[p] = NH[(self.rng.choice("BC"), fam)]
        lines += [f"route add {p} nexthop {nh}" for p, nh in new_extras.items()]
        self.heartbeat()
        t0 = now_ns()
        ok = self.batch(lines, "churn.batch")
        t1 = now_ns()
        self.churn_s.append((t1 - t0) / 1e9)
        self.n["cycles"] += 1
        if ok:
            for did, new in changes.items():
                old_t = self.churn_state[did]
                self.n["moved" if old_t != "-" and new != "-" else
                       "added" if new != "-" else "removed"] += 1
                self.churn_state[did] = new
                self.timeline(f"E {did} {t0} {t1} {new}")
            self.n["added"] += len(new_extras)
            self.n["removed"] += len(old)
            self.extras = new_extras
        else:
            self.n["cycles_failed"] += 1
            self.resync_cli(t0, changes)

    def resync_cli(self, t0, changes):
        """A churn batch failed: what is there now? All of it or none of it."""
        routes = self.ctl("show", "routes", json_out=True, timeout=60)
        t1 = now_ns()
        if routes is None:
            self.failures.append("a churn batch failed and the routes could not be read")
            return
        sink_of = {nh: sink for (sink, _), nh in NH.items()}
        have = {r["prefix"]: r.get("nexthop", 0) for r in routes if r.get("origin") == "cli"}
        for d in self.dests:
            if d["cls"] == "churn":
                tgt = sink_of.get(have.get(d["prefix"]), "-")
                if tgt != self.churn_state[d["id"]]:
                    self.churn_state[d["id"]] = tgt
                    self.timeline(f"E {d['id']} {t0} {t1} {tgt}")
        self.extras = {p: nh for p, nh in have.items()
                       if p.startswith("198.18.") or p.startswith("2001:db8:e")}
        self.log(f"after a failed churn batch: {len(self.extras)} extra routes there")

    # ---- a CLI batch killed (kill -9) at a random moment
    def kill_batch(self):
        before = self.cli_counts()
        st = self.stats()
        if before is None or st is None:
            self.failures.append("could not read the counters before a batch kill")
            return
        aborted0 = st["batches_aborted"]
        path = os.path.join(self.w, "kill.batch")
        p = subprocess.Popen([self.a.ctl, "--shm", self.a.shm, "--timeout", "20000", "batch",
                              path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.monotonic()
        lo, hi = self.kill_win
        delay = self.rng.uniform(lo, hi)
        while time.monotonic() - t0 < delay and p.poll() is None:
            time.sleep(0.002)
        finished = p.poll() is not None
        if not finished:
            p.kill()
        p.wait()
        after = self.cli_counts()  # waits for the data plane to drop the dead session's batch
        st = self.stats()
        if after is None or st is None:
            self.failures.append("could not read the counters after a batch kill")
            return
        aborted = st["batches_aborted"] - aborted0
        d4, d6 = after[0] - before[0], after[1] - before[1]
        k4, k6 = self.kill_n
        if (d4, d6) == (0, 0):
            outcome = "aborted mid-batch by the data plane" if aborted else \
                "killed before its batch began"
        elif (d4, d6) == (k4, k6):
            outcome = "committed before the kill"
            self.n["added"] += k4 + k6
            if self.batch(self.kill_del, "kill-del.batch"):
                self.n["removed"] += k4 + k6
            else:
                self.failures.append("could not remove a committed kill batch")
        else:
            outcome = "PARTIAL"
            self.failures.append(f"a killed batch left {d4} of {k4} IPv4 and {d6} of {k6} "
                                 f"IPv6 routes")
        if outcome.startswith("killed before"):
            lo = delay
        elif outcome.startswith("committed"):
            hi = delay
        if hi - lo < 0.02:  # keep looking around the window
            lo, hi = max(0.0, lo - 0.02), hi + 0.02
        self.kill_win = [min(lo, hi), max(lo, hi)]
        if finished and outcome != "committed before the kill":
            outcome += " (the client had exited)"
        self.kill_outcomes[outcome] += 1
        self.n["kills"] += 1
        self.log(f"batch kill after {delay:.3f} s: {outcome}")

    # ---- the daemon: kill -9 and start again, sometimes right after a config edit
    def restart_daemon(self):
        edited = False
        if self.n["restarts"] % 2 == 0 and self.flip_since is None:
            self.flip_since = now_ns()
            self.heartbeat()
            self.flip = "C" if self.flip == "B" else "B"
            self.write_config()
            edited = True
            self.n["edits"] += 1
        time.sleep(self.rng.uniform(0, 0.6))
        self.daemon.kill()
        self.daemon.wait()
        off = os.path.getsize(self.daemon_log)
        self.start_daemon()
        self.n["restarts"] += 1
        self.converge = {"t": time.monotonic(), "off": off, "edited": edited}
        self.log(f"daemon killed and restarted{' after a config edit' if edited else ''}")

    def check_converged(self):
        c = self.converge
        txt = self.daemon_log_since(c["off"])
        done = ": applied" in txt or ": no change" in txt or "resynced" in txt
        if done:
            for d in self.dests:
                if d["origin"] == "config":
                    want = {"cfgB": "B", "cfgC": "C", "flip": self.flip}[d["cls"]]
                    if self.route_target(d["addr"]) != want:
                        done = False
                        break
        el = time.monotonic() - c["t"]
        if done or el > self.a.converge_timeout:
            if not done:
                self.failures.append(f"the daemon did not converge within "
                                     f"{self.a.converge_timeout} s of a restart")
                self.n["not_converged"] += 1
            else:
                self.converge_s.append(el)
            if self.flip_since is not None:
                t1 = now_ns()
                for d in self.dests:
                    if d["cls"] == "flip":
                        self.timeline(f"E {d['id']} {self.flip_since} {t1} {self.flip}")
                self.flip_since = None
            self.converge = None

    # ---- memory
    def sample(self):
        rss = 0
        try:
            with open(f"/proc/{self.a.dp_pid}/status") as f:
                for ln in f:
                    if ln.startswith("VmRSS:"):
                        rss = int(ln.split()[1])
        except OSError:
            self.failures.append("the data plane is gone")
        st, inf = self.stats(), self.info()
        if st is None or inf is None:
            return
        self.last_stats = st
        self.samples.append((self.elapsed(), rss, st.get("mbufs_in_use", -1),
                             st.get("mbufs_total", -1), inf["fib4_bytes"], inf["fib6_bytes"],
                             inf["route4_count"], inf["route6_count"]))
        self.log(f"sample: RSS {rss} kB, mbufs in use {st.get('mbufs_in_use')}, FIB "
                 f"{inf['fib4_bytes']} + {inf['fib6_bytes']} bytes, routes "
                 f"{inf['route4_count']} + {inf['route6_count']}")

    # ---- traffic totals from the status files
    def traffic(self):
        snd = read_json(os.path.join(self.w, "send.json"), {"sent": [0] * len(self.dests),
                                                             "errors": {}})
        rcv = {s: read_json(os.path.join(self.w, f"recv{s}.json")) for s in "BCA"}
        by = collections.OrderedDict()
        for c in ("cliB", "cliC", "cfgB", "cfgC", "churn", "flip", "none"):
            by[c] = collections.Counter()
        for d in self.dests:
            t = by[d["cls"]]
            t["sent"] += snd["sent"][d["id"]]
            for s, r in rcv.items():
                if r is None:
                    continue
                t["recv"] += r["count"][d["id"]] - r["dups"][d["id"]]
                t["dups"] += r["dups"][d["id"]]
                t["misfwd"] += r["misfwd"][d["id"]]
                t[f"at{s}"] += r["count"][d["id"]]
        other = collections.Counter()
        for r in rcv.values():
            if r is not None:
                other.update(r["other"])
                other["sock_drops"] += r["sock_drops"]
                other["pending"] += r["pending"]
        return by, other, snd.get("errors", {}), rcv

    def losses(self, snd):
        """Where the packets to prefixes that always had a route went missing: the holes in
        the sequence numbers that no sink saw, as bursts in time."""
        n = len(self.dests)
        seen = [bytearray() for _ in range(n)]
        for s in "BCA":
            try:
                with open(os.path.join(self.w, f"recv{s}.json.bits"), "rb") as f:
                    data = f.read()
            except OSError:
                return None
            off = 0
            for did in range(n):
                ln = struct.unpack_from("<I", data, off)[0]
                b = data[off + 4:off + 4 + ln]
                off += 4 + ln
                u = seen[did]
                if len(u) < len(b):
                    u.extend(bytearray(len(b) - len(u)))
                for i, x in enumerate(b):
                    if x:
                        u[i] |= x
        marks = snd.get("marks") or [(0, 0)]
        mseq = [m[1] for m in marks]
        t0 = int(self.t_start * 1e9)

        def when(seq):
            k = max(0, bisect.bisect_right(mseq, seq) - 1)
            return (marks[k][0] - t0) / 1e9

        missing = []  # (time s, dest id)
        for d in self.dests:
            if d["cls"] not in ("cliB", "cliC", "cfgB", "cfgC", "flip"):
                continue
            u = seen[d["id"]]
            for seq in range(snd["sent"][d["id"]]):
                if seq >> 3 >= len(u) or not u[seq >> 3] & (1 << (seq & 7)):
                    missing.append((when(seq), d["id"]))
        missing.sort()
        bursts = []  # [start, end, packets, dests]
        for t, did in missing:
            if bursts and t - bursts[-1][1] <= 1.0:
                b = bursts[-1]
                b[1], b[2] = t, b[2] + 1
                b[3].add(did)
            else:
                bursts.append([t, t, 1, {did}])
        return bursts

    def nearest_event(self, t):
        best = None
        for te, what in self.events:
            if te <= t + 1 and (best is None or abs(te - t) < abs(best[0] - t)):
                best = (te, what)
        return f"{best[0]:.1f} s {best[1]}" if best else "none"

    def link_counters(self):
        def rd(ns, dev, what):
            cmd = ["cat", f"/sys/class/net/{dev}/statistics/{what}"]
            if ns is not None:
                cmd = ["ip", "netns", "exec", ns] + cmd
            p = subprocess.run(cmd, capture_output=True, text=True)
            return int(p.stdout) if p.returncode == 0 and p.stdout.strip() else -1
        return {"a0_tx": rd(self.a.ns_a, "a0", "tx_packets"),
                "ra_rx": rd(None, "ra", "rx_packets"),
                "ra_drop": rd(None, "ra", "rx_dropped")}

    def progress(self):
        by, other, _, _ = self.traffic()
        sent = sum(t["sent"] for t in by.values())
        recv = sum(t["recv"] for t in by.values())
        mis = sum(t["misfwd"] for t in by.values()) + other["bad_dst"] + other["foreign"]
        s = self.samples[-1] if self.samples else (0, 0, 0, 0, 0, 0, 0, 0)
        self.say(f"soak {self.elapsed() / 60:5.1f} min: sent {sent} received {recv}, "
                 f"misforwarded {mis}; "
                 f"cycles {self.n['cycles']}, routes +{self.n['added']} -{self.n['removed']}; "
                 f"daemon restarts {self.n['restarts']}, batches killed {self.n['kills']}; "
                 f"RSS {s[1] / 1024:.1f} MiB, mbufs in use {s[2]}, "
                 f"FIB {(s[4] + s[5]) / 1048576:.2f} MiB")

    # ---- the run
    def run(self):
        a = self.a
        stop = Stop()  # SIGTERM / SIGINT: stop early, and report what ran
        self.setup()
        dur = a.minutes * 60
        warm = a.warmup if a.warmup is not None else min(60.0, dur / 3)
        self.t_start = time.monotonic()  # the set-up does not count
        t_end = self.t_start + dur
        t = 0.0
        nxt = {"churn": t, "kill": t + a.kill_every / 2, "daemon": t + a.daemon_every / 2,
               "sample": t, "progress": t + a.progress}
        self.say(f"soak: {a.minutes:g} min, {a.pps} packets/s to {len(self.dests)} "
                 f"destinations; churn every {a.churn_ms} ms (+{a.extras} -{a.extras} extra "
                 f"routes), a {a.kill_routes}-route CLI batch killed every {a.kill_every} s, "
                 f"the daemon killed every {a.daemon_every} s; memory every {a.sample} s, "
                 f"judged from {warm:.0f} s on; logs in {self.w}")
        while time.monotonic() < t_end:
            if stop.set:
                self.say(f"soak: stopped after {self.elapsed() / 60:.1f} min (signal)")
                break
            t = self.elapsed()
            if self.procs["send"].poll() is not None or self.daemon.poll() is not None and \
                    self.converge is None:
                what = "sender" if self.procs["send"].poll() is not None else "daemon"
                self.failures.append(f"the {what} exited by itself")
                break
            try:
                os.kill(a.dp_pid, 0)
            except OSError:
                self.failures.append("the data plane died")
                break
            if t >= nxt["churn"]:
                nxt["churn"] = t + a.churn_ms / 1000
                self.churn()
            if self.converge is not None:
                self.check_converged()
            if t >= nxt["kill"]:
                nxt["kill"] = t + a.kill_every
                self.kill_batch()
            if t >= nxt["daemon"] and self.converge is None:
                nxt["daemon"] = t + a.daemon_every
                self.restart_daemon()
            if t >= nxt["sample"]:
                nxt["sample"] = t + a.sample
                self.sample()
            if t >= nxt["progress"]:
                nxt["progress"] = t + a.progress
                self.progress()
            self.heartbeat()
            time.sleep(0.05)
        self.sample()
        # wind down: the last config edit converges, the traffic stops, the history closes
        t_wait = time.monotonic() + a.converge_timeout
        while self.converge is not None and time.monotonic() < t_wait:
            self.check_converged()
            time.sleep(0.1)
        if self.converge is not None:
            self.check_converged()
        self.stop("send")
        time.sleep(1)
        self.timeline("T -1")
        for s in "BCA":
            self.stop(f"recv{s}")
        self.daemon.terminate()
        try:
            self.daemon.wait(10)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.failures.append("the daemon did not exit on SIGTERM")
        return self.report(warm)

    def stop(self, name):
        p = self.procs.get(name)
        if p is None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            self.failures.append(f"{name} did not stop on SIGTERM")

    def cleanup(self):
        for p in list(self.procs.values()) + [self.daemon]:
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()

    # ---- the report
    def report(self, warm):
        a = self.a
        by, other, send_err, rcv = self.traffic()
        say = self.say
        say("")
        say(f"==== soak report: {self.elapsed() / 60:.1f} min, {a.pps} packets/s, seed {a.seed}")
        for s, r in rcv.items():
            if r is None or not r.get("final"):
                self.failures.append(f"receiver {s} wrote no final counts")
        say(f"{'class':<28}{'sent':>11}{'received':>11}{'lost':>9}{'misfwd':>8}"
            f"{'at B':>11}{'at C':>11}{'at A':>6}")
        names = {"cliB": "stable -> B (cli)", "cliC": "stable -> C (cli)",
                 "cfgB": "stable -> B (config)", "cfgC": "stable -> C (config)",
                 "churn": "churned B/C/deleted (cli)", "flip": "flipped B/C (config)",
                 "none": "never routed"}
        mis = 0
        stable_sent = stable_lost = 0
        for c, t in by.items():
            lost = t["sent"] - t["recv"]
            if c in STABLE:
                stable_sent += t["sent"]
                stable_lost += lost
            lost_s = "-" if c in ("churn", "none") else str(lost)
            mis += t["misfwd"]
            say(f"  {names[c]:<26}{t['sent']:>11}{t['recv']:>11}{lost_s:>9}{t['misfwd']:>8}"
                f"{t['atB']:>11}{t['atC']:>11}{t['atA']:>6}")
        mis += other["bad_dst"] + other["foreign"]
        say("  (churned: lost is expected while deleted; misforwarded there = arrived where "
            "its route had not pointed at any moment between send and arrival)")
        say(f"  wrong IP destination {other['bad_dst']}, wrong TTL/hop limit {other['bad_ttl']}, "
            f"unknown payload {other['foreign']}, duplicates "
            f"{sum(t['dups'] for t in by.values())}, receiver socket drops "
            f"{other['sock_drops']}, sender errors {sum(send_err.values())} {send_err or ''}")
        snd = read_json(os.path.join(self.w, "send.json"), {"sent": [], "marks": []})
        bursts = self.losses(snd) if stable_lost else []
        if bursts:
            say(f"  stable losses in {len(bursts)} burst(s) (time since the start, packets, "
                f"destinations hit, nearest soak event):")
            for b in sorted(bursts, key=lambda b: -b[2])[:8]:
                say(f"    {b[0]:7.1f}-{b[1]:.1f} s  {b[2]:6d} packets  {len(b[3]):2d} of "
                    f"{sum(1 for d in self.dests if d['cls'] in STABLE)} destinations  "
                    f"(near {self.nearest_event(b[0])})")
        lc = self.link_counters()
        st = self.stats() or getattr(self, "last_stats", None)
        if st is not None:
            say(f"  frames: A sent {lc['a0_tx']} on a0; R's ra (the veth under port 0) got "
                f"{lc['ra_rx']} (dropped {lc['ra_drop']}); the data plane's port 0 received "
                f"{st['ports'][0]['ipackets']} (the rest: af_packet ring full or still there)")
        say(f"churn: {self.n['cycles']} cycles ({self.n['cycles_failed']} failed), "
            f"batch time p50 {pct(self.churn_s, 0.5):.3f} s, max {max(self.churn_s or [0]):.3f} s;"
            f" routes added {self.n['added']}, removed {self.n['removed']}, "
            f"churned prefixes moved {self.n['moved']}")
        say(f"CLI batches killed (kill -9, {sum(self.kill_n)} routes each): {self.n['kills']}: " +
            ", ".join(f"{v} {k}" for k, v in sorted(self.kill_outcomes.items())))
        say(f"daemon: {self.n['restarts']} kill -9 + restart ({self.n['edits']} within 0.6 s of "
            f"a config edit); converged in p50 {pct(self.converge_s, 0.5):.2f} s, max "
            f"{max(self.converge_s or [0]):.2f} s; not converged {self.n['not_converged']}")
        post = [s for s in self.samples if s[0] >= warm] or self.samples[-1:]
        ok_mem = True
        if post:
            f, l = post[0], post[-1]
            rss_max = max(s[1] for s in post)
            lim = f[1] * 1.05 + 2048
            say(f"memory (data plane pid {a.dp_pid}, {len(self.samples)} samples every "
                f"{a.sample} s; first = at {f[0]:.0f} s, after warm-up):")
            say(f"  RSS            first {f[1] / 1024:8.1f} MiB  last {l[1] / 1024:8.1f} MiB  "
                f"max {rss_max / 1024:8.1f} MiB  (limit first + 5% + 2 MiB = {lim / 1024:.1f} MiB)")
            trend = slope([(s[0], s[1]) for s in post]) * 3600 / 1024
            say(f"  RSS trend      {trend:+.1f} MiB/hour "
                f"(least squares over the {len(post)} samples after warm-up)")
            if l[1] > lim:
                ok_mem = False
                self.failures.append(f"RSS grew from {f[1]} kB to {l[1]} kB (limit {lim:.0f} kB)")
            if f[2] >= 0:
                mlim = f[2] + max(512, f[3] // 50)
                say(f"  mbufs in use   first {f[2]:8d}      last {l[2]:8d}      max "
                    f"{max(s[2] for s in post):8d}      (pool {f[3]}; limit first + "
                    f"max(512, 2% of pool) = {mlim})")
                if l[2] > mlim:
                    ok_mem = False
                    self.failures.append(f"mbufs in use grew from {f[2]} to {l[2]}")
            say(f"  FIB IPv4+IPv6  first {(f[4] + f[5]) / 1048576:8.2f} MiB  last "
                f"{(l[4] + l[5]) / 1048576:8.2f} MiB  max "
                f"{max(s[4] + s[5] for s in post) / 1048576:8.2f} MiB  (routes first "
                f"{f[6] + f[7]}, last {l[6] + l[7]}; they vary with the churn)")
        if st is not None:
            drops = {k: v for k, v in st["drops"].items() if v}
            missed = sum(p["imissed"] for p in st["ports"])
            nombuf = sum(p["rx_nombuf"] for p in st["ports"])
            say(f"data plane: batches aborted {st['batches_aborted']}, replies dropped "
                f"{st['replies_dropped']}, rx missed {missed}, rx no mbuf {nombuf}, drops "
                f"{drops or 0}")
        if mis:
            self.failures.append(f"{mis} packets misforwarded")
        if stable_sent and stable_lost > max(10, stable_sent * a.max_loss / 100):
            self.failures.append(f"{stable_lost} of {stable_sent} packets to stable prefixes "
                                 f"lost (more than {a.max_loss}%)")
        if self.failures:
            say("RESULT: FAIL: " + "; ".join(self.failures))
            return 1
        say(f"RESULT: PASS (0 misforwarded, memory flat{'' if ok_mem else '?'})")
        return 0


def cmd_drive(a):
    d = Driver(a)
    try:
        return d.run()
    except RuntimeError as e:
        print(f"soak: {e}", file=sys.stderr)
        return 2
    finally:
        d.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--dests", required=True)
    s.add_argument("--status", required=True)
    s.add_argument("--pps", type=int, default=5000)
    r = sub.add_parser("recv")
    r.add_argument("--dests", required=True)
    r.add_argument("--status", required=True)
    r.add_argument("--iface", required=True)
    r.add_argument("--name", required=True)
    r.add_argument("--timeline", required=True)
    d = sub.add_parser("drive")
    d.add_argument("--ctl", required=True)
    d.add_argument("--shm", required=True)
    d.add_argument("--dp-pid", type=int, required=True)
    d.add_argument("--work", required=True)
    d.add_argument("--ns-a", required=True)
    d.add_argument("--ns-b", required=True)
    d.add_argument("--ns-c", required=True)
    d.add_argument("--minutes", type=float, default=30, help="duration (default 30)")
    d.add_argument("--pps", type=int, default=5000, help="packets/s from A, all destinations")
    d.add_argument("--seed", type=int, default=1, help="random choices (the report names it)")
    d.add_argument("--churn-ms", type=int, default=1000, help="a churn batch every MS")
    d.add_argument("--extras", type=int, default=2000,
                   help="extra routes replaced by each churn batch")
    d.add_argument("--kill-routes", type=int, default=100000,
                   help="routes in the batch that is killed")
    d.add_argument("--kill-every", type=float, default=20, help="kill a CLI batch every S")
    d.add_argument("--daemon-every", type=float, default=30, help="kill the daemon every S")
    d.add_argument("--converge-timeout", type=float, default=30,
                   help="the daemon must converge within S of a restart")
    d.add_argument("--sample", type=float, default=10, help="memory sample every S")
    d.add_argument("--progress", type=float, default=60, help="progress line every S")
    d.add_argument("--warmup", type=float, default=None,
                   help="memory judged from S on (default min(60, duration / 3))")
    d.add_argument("--max-loss", type=float, default=0.1,
                   help="percent of packets to stable prefixes that may be lost")
    d.add_argument("--verbose", action="store_true", help="print every event")
    a = ap.parse_args()
    return {"send": cmd_send, "recv": cmd_recv, "drive": cmd_drive}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
