#!/usr/bin/python3
"""nprouter benchmark kit: one command, one report.

  tools/bench/bench.py [--build DIR] [--quick] [--repeat N] [--seconds S] [--warmup S]
                       [--scenarios LIST] [--programs LIST] [--skip LIST] [--mem auto|huge|nohuge]
                       [--packets N] [--work DIR] [--out FILE] [--strict]

Sections (all by default; --skip fwd,fib,load,churn,cycles leaves some out):
  fwd     side by side on the same net_pcap ports (port 0 replays a pcap with infinite_rx=1,
          port 1 drops what it is given), the same pcap and one worker core each:
          dpdk-testpmd io forwarding (the ports' I/O ceiling), DPDK's l3fwd --lookup=lpm and
          --lookup=fib (built from dpdk-doc's example with tools/bench/l3fwd.patch) loaded with
          the same routes, and nprouter. Every rate is read the same way: DPDK telemetry
          (/ethdev/stats, summed over the ports) sampled twice, --seconds apart.
  fib     tools/fib-bench: lookups/s over the same random destinations, bytes per prefix,
          load, update and delete+add rates of our FIB, rte_lpm and rte_fib (v4 and v6).
  load    1M routes pushed by nprouter-control into a running data plane.
  churn   forwarding while nprouter-control replaces every route of the table back and forth
          between two next hops, as fast as it can; updates/s and Mpps, then two proofs that
          no packet left by a wrong port: exact per-port counts over the whole run, and a
          per-packet check of a captured run (every next hop has its own MAC).
  cycles  per-stage TSC cycles per packet from a -Dcycle_stats=true build of the data plane.

--quick is the smoke mode (tiny synthetic tables, short windows, one run): it checks that
everything still starts, forwards and agrees, and fails (exit 1) if not. Without --strict the
performance targets are reported, not enforced.
"""
import argparse
import array
import collections
import gzip
import hashlib
import ipaddress
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
PY = "/usr/bin/python3"

IN_MAC = "02:00:00:00:00:01"  # nprouter's input interface; the generated frames' destination
OUT_MAC = "02:00:00:00:01:01"
NH_MAC = ["02:00:00:00:01:02", "02:00:00:00:01:03"]  # next hops 1, 2 (l3fwd: port 1's dest)
# One default mbuf in its mempool, rounded up (memory estimates only). Without hugepages EAL
# needs much more room to place a pool of a million (found by trial with 22.11).
MBUF_BYTES = 2560
MBUF_BYTES_NOHUGE = 4096


class Fail(Exception):
    pass


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def run(argv, **kw):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if r.returncode != 0:
        raise Fail("%s failed (exit %d):\n%s" % (" ".join(argv), r.returncode, r.stdout[-3000:]))
    return r.stdout


def fmt_int(n):
    return "{:,}".format(n)


# ---------------------------------------------------------------------------------------------
# tables and traffic


def read_prefixes(path):
    """Prefix strings (first field of each line), in file order."""
    opener = gzip.open if path.endswith(".gz") else open
    out = []
    with opener(path, "rt") as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if line:
                out.append(line[0])
    return out


def write_lines(path, lines):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        for line in lines:
            f.write(line + "\n")
    os.replace(tmp, path)


def tiny_table(family):
    """Synthetic nested prefixes: small, but every lookup depth is exercised."""
    out = []
    if family == 4:
        out.append("10.0.0.0/8")
        for i in range(16):
            out += ["10.%d.0.0/16" % i, "10.%d.%d.0/24" % (i, i), "10.%d.%d.128/25" % (i, i),
                    "10.%d.%d.%d/32" % (i, i, 200 + i), "172.%d.0.0/15" % (16 + 2 * i)]
        out += ["100.64.0.0/10", "198.18.0.0/15", "203.0.113.0/24"]
    else:
        out.append("2001:db8::/32")
        for i in range(16):
            out += ["2001:db8:%x::/48" % (i + 1), "2001:db8:%x:%x::/64" % (i + 1, i + 1),
                    "2001:db8:%x:%x::%x/128" % (i + 1, i + 1, 0x100 + i),
                    "2a0%x::/16" % i, "2c0f:%x00::/24" % (i + 1)]
    return out


class Tables:
    """Named route tables, as files in the work directory (or the shared data files)."""

    def __init__(self, k):
        self.k = k
        self.cache = {}

    def data(self, name):
        p = os.path.join(self.k.data, name)
        if not os.path.exists(p):
            raise Fail("%s not found (set NPR_DATA_DIR or --data)" % p)
        return p

    def path(self, name):
        w = self.k.work
        if name == "v4-full":
            return self.data("ipv4-full-table.txt.gz")
        if name == "v6-full":
            return self.data("ipv6-full-table.txt.gz")
        p = os.path.join(w, "table-%s.txt" % name)
        if os.path.exists(p):
            return p
        if name == "v4-small":
            full = read_prefixes(self.data("ipv4-full-table.txt.gz"))
            step = len(full) // 64
            write_lines(p, full[step // 2::step][:64])
        elif name == "v4-2k":
            # 2,000 real prefixes spread over the table: about as many node lines as
            # FIB_HOT_LINES (dataplane/fib.h), where the lookups change strategy
            full = read_prefixes(self.data("ipv4-full-table.txt.gz"))
            write_lines(p, random.Random(1).sample(full, 2000))
        elif name == "v4-tiny":
            write_lines(p, tiny_table(4))
        elif name == "v4-halves":
            write_lines(p, ["0.0.0.0/1", "128.0.0.0/1"])
        elif name == "v6-tiny":
            write_lines(p, tiny_table(6))
        elif name == "v4-1m":
            # 1,000,000 real IPv4 prefixes: the two shared tables' union, first 1M by address
            u = set(read_prefixes(self.data("ipv4-bgp-table.txt.gz")))
            u.update(read_prefixes(self.data("ipv4-full-table.txt.gz")))
            nets = sorted(ipaddress.ip_network(x) for x in u)
            if len(nets) < 1000000:
                raise Fail("only %d prefixes in the union of the IPv4 tables" % len(nets))
            write_lines(p, [str(n) for n in nets[:1000000]])
        else:
            raise Fail("unknown table " + name)
        return p

    def prefixes(self, name):
        if name not in self.cache:
            self.cache[name] = read_prefixes(self.path(name))
        return self.cache[name]

    def family(self, name):
        return 6 if ":" in self.prefixes(name)[0] else 4

    def l3fwd_rules(self, name):
        """l3fwd rule files (v4, v6) for a table: every route to port 1; the other family
        gets one route that no generated packet matches (l3fwd needs both files)."""
        base = os.path.join(self.k.work, "l3fwd-%s" % name)
        r4, r6 = base + ".v4.cfg", base + ".v6.cfg"
        if not (os.path.exists(r4) and os.path.exists(r6)):
            rules = ["R%s 1" % p for p in self.prefixes(name)]
            if self.family(name) == 4:
                write_lines(r4, rules)
                write_lines(r6, ["R2001:db8:ffff::/48 1"])
            else:
                write_lines(r4, ["R198.18.255.0/24 1"])
                write_lines(r6, rules)
        return r4, r6


def empty_pcap(k):
    p = os.path.join(k.work, "empty.pcap")
    if not os.path.exists(p):
        with open(p, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    return p


def traffic(k, tables, table, count, distinct=True, imix=False):
    """A pcap from tools/gen-traffic.py, cached by its arguments."""
    fam = tables.family(table)
    args = ["--table", tables.path(table), "--family", str(fam), "--count", str(count),
            "--dst-mac", IN_MAC, "--seed", "1"]
    if distinct:
        args.append("--distinct")
    if imix:
        args.append("--imix")
    key = hashlib.sha1(" ".join(args).encode()).hexdigest()[:10]
    p = os.path.join(k.work, "traffic-%s-%d%s%s-%s.pcap" % (
        table, count, "-distinct" if distinct else "", "-imix" if imix else "", key))
    if not os.path.exists(p):
        log("generating %s" % os.path.basename(p))
        run([PY, os.path.join(SRC, "tools", "gen-traffic.py"), "--out", p + ".tmp"] + args)
        os.replace(p + ".tmp", p)
    return p


def read_pcap(path):
    """Yield the frames of a classic little-endian pcap file."""
    with open(path, "rb") as f:
        hdr = f.read(24)
        # microsecond or nanosecond (net_pcap's tx_pcap) timestamps
        if len(hdr) < 24 or struct.unpack("<I", hdr[:4])[0] not in (0xA1B2C3D4, 0xA1B23C4D):
            raise Fail("%s: not a little-endian pcap" % path)
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            _, _, incl, _ = struct.unpack("<IIII", rec)
            yield f.read(incl)


def frame_dst(frame):
    """Destination address of an Ethernet + IPv4/IPv6 frame, as an int."""
    if frame[12:14] == b"\x08\x00":
        return 4, int.from_bytes(frame[30:34], "big")
    return 6, int.from_bytes(frame[38:54], "big")


class Lpm:
    """Longest-prefix match over a prefix list (index of the matching prefix, or -1)."""

    def __init__(self, prefixes):
        self.by_len = collections.defaultdict(dict)
        for i, p in enumerate(prefixes):
            n = ipaddress.ip_network(p)
            self.bits = n.max_prefixlen
            self.by_len[n.prefixlen][int(n.network_address) >> (self.bits - n.prefixlen)] = i
        self.lens = sorted(self.by_len, reverse=True)

    def lookup(self, addr):
        for n in self.lens:
            i = self.by_len[n].get(addr >> (self.bits - n))
            if i is not None:
                return i
        return -1


# ---------------------------------------------------------------------------------------------
# DPDK processes and telemetry


def runtime_dir(prefix):
    if os.geteuid() == 0:
        base = "/var/run/dpdk"
    else:
        base = os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")
    return os.path.join(base, prefix)


class Telemetry:
    def __init__(self, prefix):
        self.path = os.path.join(runtime_dir(prefix), "dpdk_telemetry.v2")
        self.s = None

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(self.path)
        s.recv(16384)
        self.s = s
        self.ports = self.query("/ethdev/list")

    def query(self, cmd):
        self.s.send(cmd.encode())
        return json.loads(self.s.recv(1 << 20))[cmd.split(",")[0]]

    def sample(self):
        """Counters summed over every port, and the time they were read."""
        t0 = time.monotonic()
        tot = collections.Counter()
        for p in self.ports:
            st = self.query("/ethdev/stats,%d" % p)
            if st is None:  # port not configured yet (l3fwd loads its table first)
                st = collections.Counter()
            for key in ("ipackets", "opackets", "imissed", "ierrors", "oerrors", "rx_nombuf"):
                tot[key] += st[key]
            tot["o%d" % p] = st["opackets"]
        tot["t"] = (t0 + time.monotonic()) / 2
        return tot

    def close(self):
        if self.s is not None:
            self.s.close()
            self.s = None


class Proc:
    """One DPDK program under test, with its EAL file prefix, log and telemetry."""
    seq = 0

    def __init__(self, k, name, argv, env=None, stdin_pipe=False):
        Proc.seq += 1
        self.k, self.name = k, name
        self.prefix = "nprb%d-%d" % (os.getpid(), Proc.seq)
        self.log = os.path.join(k.work, "logs", "%s-%d.log" % (name, Proc.seq))
        os.makedirs(os.path.dirname(self.log), exist_ok=True)
        self.argv = [a.replace("@PREFIX@", self.prefix) for a in argv]
        self.env = dict(os.environ, **(env or {}))
        self.stdin_pipe = stdin_pipe
        self.p = None
        self.tel = Telemetry(self.prefix)

    def start(self):
        with open(self.log, "w") as f:
            f.write("# " + " ".join(self.argv) + "\n")
        self.logf = open(self.log, "a")
        self.t_start = time.monotonic()
        self.p = subprocess.Popen(self.argv, stdout=self.logf, stderr=subprocess.STDOUT,
                                  stdin=subprocess.PIPE if self.stdin_pipe else subprocess.DEVNULL,
                                  env=self.env, start_new_session=True)

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def tail(self, n=25):
        try:
            with open(self.log) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def check_alive(self):
        if not self.alive():
            raise Fail("%s exited (%s); its log %s ends with:\n%s" % (
                self.name, self.p.returncode, self.log, self.tail()))

    def connect(self, timeout=60):
        end = time.monotonic() + timeout
        while True:
            self.check_alive()
            try:
                self.tel.connect()
                return
            except OSError:
                if time.monotonic() > end:
                    raise Fail("%s: no telemetry socket %s after %d s" % (
                        self.name, self.tel.path, timeout))
                time.sleep(0.1)

    def wait_forwarding(self, timeout):
        """Wait until packets leave; returns seconds since start."""
        end = time.monotonic() + timeout
        first = self.tel.sample()
        while True:
            time.sleep(0.1)
            self.check_alive()
            s = self.tel.sample()
            if s["opackets"] > first["opackets"]:
                return time.monotonic() - self.t_start
            if time.monotonic() > end:
                raise Fail("%s forwarded nothing within %d s (rx %d); log %s:\n%s" % (
                    self.name, timeout, s["ipackets"], self.log, self.tail()))

    def stop(self):
        self.tel.close()
        if self.p is not None and self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        if self.p is not None:
            self.logf.close()
        shutil.rmtree(runtime_dir(self.prefix), ignore_errors=True)


def measure(proc, k, seconds=None):
    """Forwarded (sum of TX over ports) and received Mpps over one window."""
    a = proc.tel.sample()
    time.sleep(seconds if seconds is not None else k.seconds)
    b = proc.tel.sample()
    proc.check_alive()
    dt = b["t"] - a["t"]
    d = {key: b[key] - a[key] for key in b if key != "t"}
    return {"tx_mpps": d["opackets"] / dt / 1e6, "rx_mpps": d["ipackets"] / dt / 1e6,
            "window_s": dt, "delta": d}


# ---------------------------------------------------------------------------------------------
# the programs


class Kit:
    def __init__(self, a):
        self.__dict__.update(vars(a))
        self.build = os.path.abspath(self.build)
        self.work = os.path.abspath(self.work or os.path.join(self.build, "bench", "work"))
        os.makedirs(self.work, exist_ok=True)
        self.lc_main, self.lc_worker = self.lcores.split(",")
        self.dp = os.path.join(self.build, "dataplane", "nprouter-dataplane")
        self.ctl_bin = os.path.join(self.build, "control", "nprouter-control")
        self.fib_bench = os.path.join(self.build, "tools", "fib-bench")
        self.l3fwd = os.path.join(self.build, "bench", "l3fwd", "l3fwd", "build", "l3fwd")
        self.dp_cycles = os.path.join(self.build, "bench", "cycles", "dataplane",
                                      "nprouter-dataplane")
        self.testpmd = shutil.which("dpdk-testpmd")
        self.modes_used = set()
        # the control plane's CPUs: not the worker's (EAL lcore ids are CPU ids here)
        self.control_cpus = {int(x) for x in (self.churn_cpus or self.lc_main).split(",")}
        self.mem_mode = None

    def set_mem(self, need_mb):
        """Hugepages or not for what follows: one mode for every program of a part."""
        self.mem_mode = pick_mem(self, need_mb)
        self.modes_used.add(self.mem_mode)
        return self.mem_mode

    def eal(self, mbufs, extra_mb):
        if self.mem_mode is None:
            self.set_mem(((mbufs + 16384) * MBUF_BYTES >> 20) + extra_mb)
        per = MBUF_BYTES if self.mem_mode == "huge" else MBUF_BYTES_NOHUGE
        # without hugepages the tables' memzones need about twice the room too
        mb = (mbufs * per >> 20) + extra_mb * (1 if self.mem_mode == "huge" else 2)
        if self.mem_mode == "huge":
            # hugepages taken as needed; files unlinked at once (no secondary processes)
            return ["--no-pci", "--file-prefix", "@PREFIX@", "--huge-unlink",
                    "--log-level", "*:warning"], mb
        return ["--no-pci", "--file-prefix", "@PREFIX@", "--no-huge", "-m", str(mb),
                "--log-level", "*:warning"], mb


def free_hugepages_mb():
    total = 0
    base = "/sys/kernel/mm/hugepages"
    try:
        for d in os.listdir(base):
            size_kb = int(d.split("-")[1].rstrip("kB"))
            with open(os.path.join(base, d, "free_hugepages")) as f:
                total += int(f.read()) * size_kb // 1024
    except OSError:
        return 0
    with open("/proc/mounts") as f:
        if not any(line.split()[2] == "hugetlbfs" for line in f if len(line.split()) > 2):
            return 0
    return total


def pick_mem(k, need):
    free = free_hugepages_mb()
    if k.mem == "huge":
        if free < need:
            raise Fail("--mem huge: %d MiB of free hugepages, this part needs ~%d MiB"
                       % (free, need))
        return "huge"
    if k.mem == "auto" and free >= need:
        return "huge"
    if k.mem == "auto":
        want = hugepages_2m_total() + (need - free + 1) // 2
        log("hugepages: %d MiB free, ~%d MiB needed: this part runs with --no-huge (4 KiB "
            "pages; lower absolute rates for every program). For hugepages: echo %d > "
            "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages" % (free, need, want))
    return "nohuge"


def hugepages_2m_total():
    try:
        with open("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 0


def mem_label(mode):
    return "hugepages" if mode == "huge" else "no-huge"


def pcap_vdevs(rx_pcap, k, n_out=1, tx_pcaps=None):
    v = ["--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % rx_pcap]
    for i in range(1, n_out + 1):
        dev = "net_pcap%d,rx_pcap=%s" % (i, empty_pcap(k))
        if tx_pcaps:
            dev += ",tx_pcap=%s" % tx_pcaps[i - 1]
        v += ["--vdev", dev]
    return v


def start_testpmd(k, sc, pcap, count):
    mbufs = count + 16384
    eal, _ = k.eal(mbufs, 256)
    argv = [k.testpmd] + eal + ["-l", k.lcores] + pcap_vdevs(pcap, k) + [
        "--", "--forward-mode=io", "--auto-start", "--nb-cores=1",
        "--total-num-mbufs=%d" % mbufs]
    p = Proc(k, "testpmd-io", argv, stdin_pipe=True)  # testpmd quits at EOF on stdin
    p.start()
    return p


def l3fwd_sizes(tables, table):
    """Table sizes for l3fwd.patch's environment variables (the example's defaults hold 1024
    rules), and the memory they take in MiB."""
    n = len(tables.prefixes(table)) + 1024
    if tables.family(table) == 4:
        tbl8 = 1 << 14  # /25-/32 are rare: 451 groups for the full table
        env = {"L3FWD_LPM_MAX_RULES": n, "L3FWD_LPM_TBL8S": tbl8,
               "L3FWD_FIB_MAX_ROUTES": n, "L3FWD_FIB_TBL8S": tbl8}
        mb = 128 + tbl8 // 1024 + (n * 128 >> 20)
    else:
        # rte_fib6's trie needed more than 2^17 groups for the 160k-prefix table
        tbl8 = min(max(2 * n, 1 << 16), 1 << 18)
        env = {"L3FWD_LPM6_MAX_RULES": n, "L3FWD_LPM6_TBL8S": tbl8,
               "L3FWD_FIB6_MAX_ROUTES": n, "L3FWD_FIB6_TBL8S": tbl8}
        mb = 128 + tbl8 // 1024 + (n * 256 >> 20)
    return {key: str(v) for key, v in env.items()}, mb + 256


def start_l3fwd(k, sc, pcap, count, mode, tables):
    r4, r6 = tables.l3fwd_rules(routes_of(sc))
    mbufs = count + 16384
    env, table_mb = l3fwd_sizes(tables, routes_of(sc))
    eal, _ = k.eal(mbufs, table_mb)
    # one lcore: l3fwd opens one TX queue per lcore and net_pcap has one
    argv = [k.l3fwd] + eal + ["-l", k.lc_worker] + pcap_vdevs(pcap, k) + [
        "--", "-p", "0x3", "-P", "--config=(0,0,%s),(1,0,%s)" % (k.lc_worker, k.lc_worker),
        "--parse-ptype", "--lookup=" + mode, "--rule_ipv4=" + r4, "--rule_ipv6=" + r6,
        "--eth-dest=1,%s" % NH_MAC[0], "--eth-dest=0,%s" % NH_MAC[1]]
    env["L3FWD_EXTRA_MBUFS"] = str(count)
    p = Proc(k, "l3fwd-" + mode, argv, env=env)
    p.start()
    return p


def no_host_ports(binary, seen={}):
    """["--no-host-ports"] if that build has host ports (a Linux TAP per interface): none in
    a benchmark, whose ports carry only the traffic it sends."""
    if binary not in seen:
        try:
            r = subprocess.run([binary, "--", "--help"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
            seen[binary] = ["--no-host-ports"] if "--no-host-ports" in r.stdout else []
        except OSError:
            seen[binary] = []
    return seen[binary]


class Npr:
    """nprouter-dataplane plus nprouter-control on its segment."""
    seq = 0

    def __init__(self, k, vdevs, mbufs, binary=None, name="nprouter", extra=()):
        self.k = k
        eal, _ = k.eal(mbufs, 512)
        Npr.seq += 1
        self.shm = "nprb-%d-%d" % (os.getpid(), Npr.seq)
        argv = [binary or k.dp] + eal + ["-l", k.lcores] + vdevs + [
            "--", "--shm", self.shm, "--mbufs", str(mbufs)] + no_host_ports(binary or k.dp) + list(extra)
        # another build's data plane speaks its own ABI: its build's control talks to it
        self.ctl_bin = k.ctl_bin
        if binary:
            sib = os.path.join(os.path.dirname(os.path.dirname(binary)), "control",
                               "nprouter-control")
            if os.access(sib, os.X_OK):
                self.ctl_bin = sib
        self.proc = Proc(k, name, argv)

    def start(self):
        self.proc.start()
        end = time.monotonic() + 60
        while True:
            self.proc.check_alive()
            r = subprocess.run([self.ctl_bin, "--shm", self.shm, "--timeout", "200", "hello"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r.returncode == 0:
                break
            if time.monotonic() > end:
                tail = self.proc.tail()
                self.proc.stop()  # never leave a spinning data plane behind
                raise Fail("nprouter did not answer within 60 s:\n" + tail)
            time.sleep(0.1)
        self.proc.connect()

    def ctl(self, *args, stdin=None, json_out=False, timeout_ms=60000, cpus=None):
        argv = [self.ctl_bin, "--shm", self.shm, "--timeout", str(timeout_ms)]
        if json_out:
            argv.append("--json")
        pre = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
        r = subprocess.run(argv + list(args), input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, preexec_fn=pre)
        if r.returncode != 0:
            raise Fail("nprouter-control %s: exit %d: %s%s" % (
                " ".join(args), r.returncode, r.stderr, r.stdout[-500:]))
        return json.loads(r.stdout) if json_out else r.stdout

    def stop(self):
        self.proc.stop()
        try:
            os.unlink("/dev/shm/" + self.shm)
        except OSError:
            pass


def npr_basic_config(n):
    n.ctl("batch", "-", stdin="\n".join([
        "interface set out port 1 mac %s up" % OUT_MAC,
        "nexthop set 1 dev out lladdr %s" % NH_MAC[0],
        "nexthop set 2 dev out lladdr %s" % NH_MAC[1],
    ]) + "\n")


def start_nprouter(k, sc, pcap, count, tables, binary=None, name="nprouter", extra=()):
    n = Npr(k, pcap_vdevs(pcap, k), count + 16384, binary=binary, name=name, extra=extra)
    n.start()
    try:
        npr_basic_config(n)
        load = n.ctl("route", "load", tables.path(routes_of(sc)), "--nexthops", "1,2",
                     json_out=True)
        # the input port receives only from here on: no packet meets a half-loaded table
        n.ctl("interface", "set", "in", "port", "0", "mac", IN_MAC, "up")
    except Exception:
        n.stop()
        raise
    n.load = load
    return n


# ---------------------------------------------------------------------------------------------
# build


def build(k, need_cycles):
    targets = ["dataplane/nprouter-dataplane", "control/nprouter-control", "tools/fib-bench"]
    if k.no_build:  # under meson test: the build is the caller's
        for b in (k.dp, k.ctl_bin, k.fib_bench):
            if not os.access(b, os.X_OK):
                raise Fail("%s not built" % b)
    else:
        log("building %s in %s" % (" ".join(targets), k.build))
        run(["ninja", "-C", k.build] + targets)
    build_l3fwd(k)
    if need_cycles:
        d = os.path.join(k.build, "bench", "cycles")
        if not os.path.exists(os.path.join(d, "build.ninja")):
            log("configuring the cycle-counter build in %s" % d)
            run(["meson", "setup", d, SRC, "-Dcycle_stats=true", "-Dtests=false",
                 "-Dbuildtype=release"])
        run(["ninja", "-C", d, "dataplane/nprouter-dataplane"])


def build_l3fwd(k):
    """dpdk-doc's l3fwd example, copied next to the build and patched (tools/bench/l3fwd.patch),
    rebuilt when the patch or DPDK changes."""
    examples = "/usr/share/dpdk/examples"
    if not os.path.isdir(os.path.join(examples, "l3fwd")):
        raise Fail("%s/l3fwd not found: install dpdk-doc" % examples)
    patch = os.path.join(HERE, "l3fwd.patch")
    ver = run(["pkg-config", "--modversion", "libdpdk"]).strip()
    with open(patch, "rb") as f:
        stamp = hashlib.sha1(f.read() + ver.encode()).hexdigest()
    top = os.path.join(k.build, "bench", "l3fwd")
    stamp_file = os.path.join(top, "stamp")
    if os.path.exists(k.l3fwd) and os.path.exists(stamp_file) and \
            open(stamp_file).read() == stamp:
        return
    log("building l3fwd (DPDK %s example + l3fwd.patch) in %s" % (ver, top))
    shutil.rmtree(top, ignore_errors=True)
    os.makedirs(top)
    shutil.copytree(os.path.join(examples, "l3fwd"), os.path.join(top, "l3fwd"))
    shutil.copytree(os.path.join(examples, "common"), os.path.join(top, "common"))
    run(["patch", "-p1", "-d", os.path.join(top, "l3fwd"), "-i", patch])
    run(["make", "-C", os.path.join(top, "l3fwd"), "-j2", "shared"])
    with open(stamp_file, "w") as f:
        f.write(stamp)


# ---------------------------------------------------------------------------------------------
# sections

def routes_of(sc):
    """The routes a scenario loads: its own, or those of the table its traffic comes from."""
    return sc.get("routes", sc["table"])


SCENARIOS = {
    # name: table (traffic, and routes unless "routes" says otherwise), packets, distinct
    # destinations?, imix?, targets (program, min ratio)
    "v4-full": dict(table="v4-full", count=1000000, distinct=True, imix=False,
                    targets=[("testpmd-io", 0.8), ("l3fwd-lpm", 1.25)]),
    "v4-small": dict(table="v4-small", count=65536, distinct=False, imix=False,
                     targets=[("l3fwd-lpm", 1.0)]),
    "v6-full": dict(table="v6-full", count=1000000, distinct=True, imix=False,
                    targets=[("l3fwd-lpm", 1.5)]),
    "v4-full-imix": dict(table="v4-full", count=1000000, distinct=True, imix=True, targets=[]),
    # v4-full's traffic with two /1 routes: the same I/O and checks, next to no FIB work, so
    # the difference to v4-full is what the lookups cost under the pcap's memory traffic
    "v4-full-2routes": dict(table="v4-full", routes="v4-halves", count=1000000, distinct=True,
                            imix=False, targets=[]),
    "v4-2k": dict(table="v4-2k", count=1000000, distinct=True, imix=False, targets=[]),
    "v6-small": dict(table="v6-tiny", count=65536, distinct=False, imix=False, targets=[]),
    "v4-tiny": dict(table="v4-tiny", count=20000, distinct=True, imix=False, targets=[]),
    "v6-tiny": dict(table="v6-tiny", count=20000, distinct=True, imix=False, targets=[]),
}
PROGRAMS = ["testpmd-io", "l3fwd-lpm", "l3fwd-fib", "nprouter"]


def describe(sc, tables, mode):
    n = len(tables.prefixes(routes_of(sc)))
    pk = "%s pkts" % ("%gM" % (sc["count"] / 1e6) if sc["count"] >= 100000 else fmt_int(
        sc["count"]))
    return "%s: %s prefixes, %s, %s, %s, %s" % (
        sc["name"], fmt_int(n), pk, "1 dst/pkt" if sc["distinct"] else "8192 dsts",
        "IMIX" if sc["imix"] else "64 B", mem_label(mode))


def scenario_mem(k, sc, tables, programs):
    """Hugepages for a scenario if its largest program fits in the free ones."""
    extra = 512
    if any(p.startswith("l3fwd") for p in programs):
        extra = max(extra, l3fwd_sizes(tables, routes_of(sc))[1])
    return k.set_mem(((sc["count"] + 33000) * MBUF_BYTES >> 20) + extra)


def start_program(k, prog, sc, pcap, tables):
    if prog == "testpmd-io":
        return start_testpmd(k, sc, pcap, sc["count"])
    if prog in ("l3fwd-lpm", "l3fwd-fib"):
        return start_l3fwd(k, sc, pcap, sc["count"], prog.split("-")[1], tables)
    if prog == "nprouter-b":
        return start_nprouter(k, sc, pcap, sc["count"], tables, binary=k.nprouter_b,
                              name=prog, extra=k.nprouter_b_args)
    return start_nprouter(k, sc, pcap, sc["count"], tables, extra=k.nprouter_args)


def one_run(k, prog, sc, pcap, tables):
    obj = start_program(k, prog, sc, pcap, tables)
    proc = obj.proc if isinstance(obj, Npr) else obj
    try:
        if proc.tel.s is None:
            proc.connect()
        ready = proc.wait_forwarding(k.ready_timeout)
        time.sleep(k.warmup)
        m = measure(proc, k)
        m["ready_s"] = ready
        if isinstance(obj, Npr):
            st = obj.ctl("show", "stats", json_out=True)
            m["drops"] = {r: v for r, v in st.get("drops", {}).items() if v}
            m["exceptions"] = {r: v for r, v in st.get("exceptions", {}).items() if v}
            m["route_load_s"] = obj.load.get("push_s")
    finally:
        obj.stop()
    return m


def section_fwd(k, tables, report, res):
    results = {}
    for name in k.scenarios:
        sc = dict(SCENARIOS[name], name=name)
        if k.packets and sc["count"] >= 100000:
            sc["count"] = k.packets
        pcap = traffic(k, tables, sc["table"], sc["count"], sc["distinct"], sc["imix"])
        mode = scenario_mem(k, sc, tables, k.programs)
        runs = {p: [] for p in k.programs}
        for rep in range(k.repeat):
            # Every other round runs the programs in reverse order: on the VMs measured, the
            # later of two runs of the same binary tends to be a few per cent faster, which
            # would otherwise favour whichever program comes later (nprouter-b over nprouter).
            for prog in (k.programs if rep % 2 == 0 else k.programs[::-1]):
                log("%s: %s run %d/%d" % (name, prog, rep + 1, k.repeat))
                m = one_run(k, prog, sc, pcap, tables)
                log("  %.2f Mpps forwarded (rx %.2f), ready after %.1f s" % (
                    m["tx_mpps"], m["rx_mpps"], m["ready_s"]))
                runs[prog].append(m)
        results[name] = dict(sc=sc, desc=describe(sc, tables, mode), runs=runs)
    res["fwd"] = {n: dict(desc=r["desc"], runs=r["runs"]) for n, r in results.items()}

    def mmm(v):
        return "%.2f (%.2f–%.2f)" % (statistics.median(v), min(v), max(v)) if len(v) > 1 \
            else "%.2f" % v[0]

    report.append("## Forwarding: Mpps, one worker core, same pcap and ports for every program")
    report.append("")
    report.append("Median (min–max) of %d run%s; a run is one start of the program, rates over "
                  "a %g s window after %g s of warm-up; ratios are nprouter / the other "
                  "program within the same round; every other round runs the programs in "
                  "reverse order." % (k.repeat, "s" * (k.repeat > 1), k.seconds, k.warmup))
    report.append("")
    others = [p for p in k.programs if p != "nprouter"]
    hdr = ["scenario"] + k.programs
    if "nprouter" in k.programs:
        hdr += ["npr / " + p for p in others] + ["target"]
    report.append("| " + " | ".join(hdr) + " |")
    report.append("|" + "---|" * len(hdr))
    problems = []
    for name, r in results.items():
        runs = r["runs"]
        row = [r["desc"]]
        for p in k.programs:
            row.append(mmm([m["tx_mpps"] for m in runs[p]]))
            for m in runs[p]:
                if m["rx_mpps"] > 0 and m["tx_mpps"] < 0.99 * m["rx_mpps"]:
                    problems.append("%s %s: forwarded %.2f of %.2f Mpps received" % (
                        name, p, m["tx_mpps"], m["rx_mpps"]))
                if m.get("drops") or m.get("exceptions"):
                    problems.append("%s %s: drops %s exceptions %s" % (
                        name, p, m.get("drops"), m.get("exceptions")))
                if m["tx_mpps"] <= 0:
                    problems.append("%s %s: nothing forwarded" % (name, p))
        if "nprouter" in k.programs:
            ratios = {}
            for p in others:
                ratios[p] = [a["tx_mpps"] / b["tx_mpps"] if b["tx_mpps"] > 0 else 0
                             for a, b in zip(runs["nprouter"], runs[p])]
                row.append(mmm(ratios[p]))
            verdict = []
            for p, want in r["sc"]["targets"]:
                if p in ratios:
                    med = statistics.median(ratios[p])
                    ok = med >= want
                    verdict.append("≥ %.2f × %s: %s" % (want, p, "met" if ok else "MISSED"))
                    res.setdefault("targets", []).append(dict(
                        scenario=name, vs=p, want=want, median=med, met=ok))
            row.append("; ".join(verdict) or "–")
        report.append("| " + " | ".join(row) + " |")
    report.append("")
    report.append("Start-up until the first packet left (s, median): " + "; ".join(
        "%s: %s" % (name, ", ".join("%s %.1f" % (p, statistics.median(
            m["ready_s"] for m in r["runs"][p])) for p in k.programs))
        for name, r in results.items()))
    report.append("")
    return problems


FIB_RE = re.compile(
    r"^(?P<name>.+?)\s+load\s+(?P<load_ms>[\d.]+) ms\s+(?P<mroutes>[\d.]+|inf) Mroutes/s\s+"
    r"mem\s+(?P<mem>\d+) B\s+(?P<bpp>[\d.]+) B/prefix\s+lookup\s+(?P<lookup>[\d.]+) M/s "
    r"bulk32\s+(?P<bulk>[\d.]+) M/s\s+update\s+(?P<upd>[\d.]+) k/s del\+add\s+"
    r"(?P<deladd>[\d.]+) k/s\s+mismatches (?P<mism>\d+)(?P<note>.*)$")


def cache_bytes(level, kinds=("Unified", "Data")):
    """Size of CPU 0's cache of this level (data or unified), 0 if unknown."""
    try:
        for idx in sorted(os.listdir("/sys/devices/system/cpu/cpu0/cache")):
            d = os.path.join("/sys/devices/system/cpu/cpu0/cache", idx)
            if (open(os.path.join(d, "level")).read().strip() == str(level) and
                    open(os.path.join(d, "type")).read().strip() in kinds):
                s = open(os.path.join(d, "size")).read().strip()
                mult = {"K": 1 << 10, "M": 1 << 20}.get(s[-1], 1)
                return int(s.rstrip("KM")) * mult
    except (OSError, ValueError):
        pass
    return 0


def size_label(n):
    return "?" if n == 0 else "%d MiB" % (n >> 20) if n >= 1 << 20 else "%d KiB" % (n >> 10)


def section_fib(k, tables, report, res):
    names = ["v4-tiny", "v6-tiny"] if k.quick else ["v4-full", "v6-full"]
    problems = []
    report.append("## FIB microbenchmarks (tools/fib-bench, one process, one core)")
    report.append("")
    report.append("Same 1M random destinations (a random host in a random prefix of the table) "
                  "for every structure; lookup = one at a time, bulk32 = bulk calls of 32; "
                  "update = replace the next hop of a random existing prefix; del+add = delete "
                  "and re-add one. Memory: ours is the FIB alone (no RIB); DPDK's is the "
                  "rte_malloc growth (their RIB and preallocated tables included).")
    report.append("")
    report.append("| table | structure | load ms | Mroutes/s | B/prefix | lookup M/s | "
                  "bulk32 M/s | update k/s | del+add k/s | mismatches |")
    report.append("|---|---|---|---|---|---|---|---|---|---|")
    res["fib"] = {}
    l3 = cache_bytes(3)
    for name in names:
        argv = [k.fib_bench] + (["--updates", "2000"] if k.quick else []) + [tables.path(name)]
        log("fib-bench %s" % name)
        out = run(argv)
        rows = []
        for line in out.splitlines():
            m = FIB_RE.match(line.strip())
            if m is None:
                continue
            d = m.groupdict()
            rows.append(d)
            report.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s%s |" % (
                name, d["name"], d["load_ms"], d["mroutes"], d["bpp"], d["lookup"], d["bulk"],
                d["upd"], d["deladd"], d["mism"], d["note"]))
            if int(d["mism"]) != 0 or "disagree" in d["note"] or "failed" in d["note"]:
                problems.append("fib-bench %s %s: %s mismatches%s" % (
                    name, d["name"], d["mism"], d["note"]))
            if d["name"].startswith("npr fib4") and l3:
                res["fib_l3"] = dict(mem=int(d["mem"]), l3=l3)
        if not rows:
            problems.append("fib-bench %s: no result line understood:\n%s" % (name, out))
        res["fib"][name] = rows
    report.append("")
    if "fib_l3" in res and not k.quick:
        f = res["fib_l3"]
        report.append("Full IPv4 FIB: %.1f MiB; L3 cache %.0f MiB: %s." % (
            f["mem"] / 2**20, f["l3"] / 2**20, "fits" if f["mem"] <= f["l3"] else "DOES NOT FIT"))
        report.append("")
    return problems


def section_load(k, tables, report, res):
    name = "v4-tiny" if k.quick else "v4-1m"
    path = tables.path(name)
    n_routes = len(tables.prefixes(name))
    out = []
    k.set_mem(600)
    for rep in range(k.repeat):
        n = Npr(k, pcap_vdevs(empty_pcap(k), k), 8192, name="nprouter-load")
        n.start()
        try:
            npr_basic_config(n)
            t0 = time.monotonic()
            r = n.ctl("route", "load", path, "--nexthops", "1,2", json_out=True)
            r["wall_s"] = time.monotonic() - t0
            info = n.ctl("show", "info", json_out=True)
            r["route4_count"] = info.get("route4_count")
        finally:
            n.stop()
        out.append(r)
        log("route load %s: %d routes, push %.3f s, wall %.3f s" % (
            name, r["routes"], r["push_s"], r["wall_s"]))
    res["load"] = out
    problems = [("route load: the data plane holds %s routes, %d were sent" % (
        r["route4_count"], n_routes)) for r in out if r.get("route4_count") not in
        (None, n_routes)]
    med = lambda key: statistics.median(r[key] for r in out)  # noqa: E731
    report.append("## Route load: nprouter-control → running data plane")
    report.append("")
    report.append("`nprouter-control route load FILE --nexthops 1,2` into a fresh data plane "
                  "(%s routes: %s); median of %d." % (
                      fmt_int(n_routes), "the first 1M prefixes of the union of the two shared "
                      "IPv4 tables" if name == "v4-1m" else name, len(out)))
    report.append("")
    report.append("| routes | parse s | push s (into the FIB) | command wall s | routes/s (push) "
                  "| target |")
    report.append("|---|---|---|---|---|---|")
    tgt = "≤ 2 s for 1M: %s" % ("met" if med("wall_s") <= 2.0 else "MISSED") \
        if name == "v4-1m" else "–"
    report.append("| %s | %.3f | %.3f | %.3f | %s | %s |" % (
        fmt_int(n_routes), med("parse_s"), med("push_s"), med("wall_s"),
        fmt_int(int(n_routes / med("push_s"))), tgt))
    report.append("")
    return problems


# --- churn ---


def churn_nh(prefix):
    """Port (1 or 2) and two distinct next hops on that port for a prefix: next hops 1-8 are
    on port 1, 9-16 on port 2, each with its own MAC 02:00:00:00:0P:NN."""
    h = zlib.crc32(prefix.encode())
    port = 1 + (h & 1)
    a = (h >> 1) & 7
    b = (a + 1 + (h >> 4) % 7) & 7
    return port, 1 + 8 * (port - 1) + a, 1 + 8 * (port - 1) + b


def churn_config(n):
    lines = ["interface set o1 port 1 mac 02:00:00:00:01:00 up",
             "interface set o2 port 2 mac 02:00:00:00:02:00 up"]
    for nh in range(1, 17):
        port = 1 + (nh - 1) // 8
        lines.append("nexthop set %d dev o%d lladdr 02:00:00:00:%02x:%02x" % (nh, port, port, nh))
    n.ctl("batch", "-", stdin="\n".join(lines) + "\n")


class Pushers:
    """nprouter-control processes replacing every route, alternating the A and B files, as
    fast as they can. Two of them overlap one's parsing with the other's push (the data plane
    serves one session at a time)."""

    def __init__(self, n, files, count=2):
        self.n, self.files, self.count = n, files, count
        self.stop_ev = threading.Event()
        self.passes = []
        self.errors = []
        self.lock = threading.Lock()
        self.turn = 0
        self.threads = [threading.Thread(target=self.loop, daemon=True) for _ in range(count)]

    def loop(self):
        while not self.stop_ev.is_set():
            with self.lock:
                f = self.files[(self.turn + 1) % 2]  # the first pass moves away from A
                self.turn += 1
            t0 = time.monotonic()
            try:
                r = self.n.ctl("route", "load", f, "--replace", json_out=True,
                               cpus=self.n.k.control_cpus)
            except Fail as e:
                self.errors.append(str(e))
                return
            r["t0"], r["t1"] = t0, time.monotonic()
            with self.lock:
                self.passes.append(r)

    def start(self):
        self.t0 = time.monotonic()
        for t in self.threads:
            t.start()

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join()
        self.t1 = time.monotonic()
        if self.errors:
            raise Fail("churn: " + self.errors[0])

    def summary(self):
        routes = sum(p["routes"] for p in self.passes)
        push = sum(p["push_s"] for p in self.passes)
        span = (max(p["t1"] for p in self.passes) - min(p["t0"] for p in self.passes)) \
            if self.passes else 0
        return dict(passes=len(self.passes), updates=routes, span_s=span,
                    updates_per_s=routes / span if span else 0,
                    push_rate=routes / push if push else 0)


def section_churn(k, tables, report, res):
    table = "v4-tiny" if k.quick else k.churn_table
    prefixes = tables.prefixes(table)
    count = 20000 if k.quick else (k.packets or 1000000)
    pcap = traffic(k, tables, table, count, True, False)
    nh = [churn_nh(p) for p in prefixes]
    fa = os.path.join(k.work, "churn-%s-A.txt" % table)
    fb = os.path.join(k.work, "churn-%s-B.txt" % table)
    if not (os.path.exists(fa) and os.path.exists(fb)):
        write_lines(fa, ["%s %d" % (p, x[1]) for p, x in zip(prefixes, nh)])
        write_lines(fb, ["%s %d" % (p, x[2]) for p, x in zip(prefixes, nh)])

    # the expected port of every packet of the pcap, in pcap order
    log("churn: longest-prefix match of the %d packets (reference)" % count)
    lpm = Lpm(prefixes)
    pkt_idx = array.array("i")
    dst_idx = {}
    for fr in read_pcap(pcap):
        _, d = frame_dst(fr)
        i = dst_idx.get(d)
        if i is None:
            i = dst_idx[d] = lpm.lookup(d)
        if i < 0:
            raise Fail("churn: generated destination %x has no route" % d)
        pkt_idx.append(i)
    n_pkts = len(pkt_idx)
    port_of = [x[0] for x in nh]
    per_port = collections.Counter(port_of[i] for i in pkt_idx)
    problems = []
    out = {}

    mode = k.set_mem(((count + 33000) * MBUF_BYTES >> 20) + 512)

    # phase 1: rate, and exact per-port counts over the whole churn
    n = Npr(k, pcap_vdevs(pcap, k, n_out=2), count + 32768, name="nprouter-churn")
    n.start()
    try:
        churn_config(n)
        n.ctl("route", "load", fa)
        n.ctl("interface", "set", "in", "port", "0", "mac", IN_MAC, "up")
        n.proc.wait_forwarding(60)
        time.sleep(k.warmup)
        base = measure(n.proc, k)
        pu = Pushers(n, (fa, fb))
        pu.start()
        time.sleep(min(0.5, k.churn_seconds / 4))
        during = measure(n.proc, k, k.churn_seconds)
        pu.stop()
        n.ctl("interface", "set", "in", "port", "0", "down")
        time.sleep(0.5)
        st = n.ctl("show", "stats", json_out=True)
    finally:
        n.stop()
    ps = pu.summary()
    rx = sum(w["rx_pkts"] for w in st["workers"])
    tx = {p["port_id"]: p["opackets"] for p in st["ports"]}
    # Taking "in" down drops the burst the worker holds at that moment (IFACE_DOWN: it was
    # received on a port that is now down): the last packets received, none of them sent.
    drops = {r: v for r, v in st.get("drops", {}).items() if v}
    tail = drops.pop("IFACE_DOWN", 0)
    full, rem = divmod(rx - tail, n_pkts)
    want = collections.Counter({p: full * c for p, c in per_port.items()})
    want.update(port_of[i] for i in pkt_idx[:rem])
    count_ok = all(tx.get(p, 0) == want.get(p, 0) for p in (0, 1, 2)) and not drops and \
        tail <= 64
    if not count_ok:
        problems.append("churn: per-port counts differ from the reference: sent %s, expected %s"
                        " (drops %s, received on the port taken down %d)" % (
                            dict(tx), dict(want), drops, tail))
    if ps["passes"] < 2:
        problems.append("churn: fewer than two update passes ran")
    out["rate"] = dict(base_mpps=base["tx_mpps"], churn_mpps=during["tx_mpps"], rx=rx,
                       tx=dict(tx), want=dict(want), counts_ok=count_ok, tail_dropped=tail, **ps)

    # phase 2: every packet of one pass of the pcap captured and checked against its prefix.
    # The pass takes some 40 ms; when it happens to fall between two update passes every
    # packet sees one table version, which proves less: then it is taken again (3 tries).
    cap = [os.path.join(k.work, "churn-out%d.pcap" % i) for i in (1, 2)]

    def capture_once():
        for c in cap:
            if os.path.exists(c):
                os.unlink(c)
        vdevs = ["--vdev", "net_pcap0,rx_pcap=%s" % pcap]
        for i in (1, 2):
            vdevs += ["--vdev", "net_pcap%d,rx_pcap=%s,tx_pcap=%s" % (i, empty_pcap(k),
                                                                     cap[i - 1])]
        n = Npr(k, vdevs, count + 32768, name="nprouter-churn-capture")
        n.start()
        try:
            churn_config(n)
            n.ctl("route", "load", fa)
            pu2 = Pushers(n, (fa, fb))
            pu2.start()
            # After the first pass the other pusher has parsed its file and waits for the
            # session lock: this command gets it between two passes and the next push starts
            # at once, while the packets are crossing.
            end = time.monotonic() + 120
            while not pu2.passes and not pu2.errors and time.monotonic() < end:
                time.sleep(0.01)
            n.ctl("interface", "set", "in", "port", "0", "mac", IN_MAC, "up")
            end = time.monotonic() + 120
            while time.monotonic() < end:
                s = n.proc.tel.sample()
                if s["o1"] + s["o2"] >= n_pkts:
                    break
                time.sleep(0.05)
            pu2.stop()
        finally:
            n.stop()  # closes the capture files
        versions = collections.Counter()
        bad = []
        seen = collections.Counter()
        for port, c in zip((1, 2), cap):
            for fr in read_pcap(c):
                _, d = frame_dst(fr)
                seen[d] += 1
                i = dst_idx.get(d)
                mac_port, mac_nh = fr[4], fr[5]
                if i is None:
                    bad.append("unknown destination %x on port %d" % (d, port))
                    continue
                p, a, b = nh[i]
                if port != p or mac_port != p or mac_nh not in (a, b):
                    bad.append("%s (%s): left port %d to next hop %d; allowed: port %d, next "
                               "hop %d or %d" % (ipaddress.ip_address(d), prefixes[i], port,
                                                 mac_nh, p, a, b))
                versions["A" if mac_nh == a else "B"] += 1
        return versions, bad, seen, pu2

    for attempt in range(1, 4):
        versions, bad, seen, pu2 = capture_once()
        if bad or k.quick or (versions["A"] > 0 and versions["B"] > 0):
            break
        log("churn capture %d: one table version only (A %d, B %d), again" % (
            attempt, versions["A"], versions["B"]))
    want_seen = collections.Counter()
    for fr in read_pcap(pcap):
        want_seen[frame_dst(fr)[1]] += 1
    lost = sum((want_seen - seen).values())
    extra = sum((seen - want_seen).values())
    ps2 = pu2.summary()
    cap_ok = not bad and lost == 0 and extra == 0
    if not cap_ok:
        problems.append("churn capture: %d misforwarded, %d lost, %d unexpected packets%s" % (
            len(bad), lost, extra, (": " + "; ".join(bad[:5])) if bad else ""))
    both = versions["A"] > 0 and versions["B"] > 0
    if not both and not k.quick:
        problems.append("churn capture: every packet saw the same table version (A %d, B %d) "
                        "in %d tries: the capture did not overlap an update pass" % (
                            versions["A"], versions["B"], attempt))
    out["capture"] = dict(packets=sum(seen.values()), misforwarded=len(bad), lost=lost,
                          extra=extra, versions=dict(versions), tries=attempt, **ps2)
    res["churn"] = out

    r = out["rate"]
    report.append("## Churn under load")
    report.append("")
    report.append("Table %s (%s prefixes), %s packets with one destination each (%s), one "
                  "worker; "
                  "every prefix alternates between two next hops on the same port (16 next "
                  "hops on 2 ports, each with its own MAC). %d nprouter-control processes (on CPU "
                  "%s, the data plane's control lcore) run `route load FILE --replace` back to "
                  "back for %g s." % (table, fmt_int(len(prefixes)), fmt_int(n_pkts),
                                     mem_label(mode), pu.count,
                                     ",".join(map(str, sorted(k.control_cpus))),
                                     k.churn_seconds))
    report.append("")
    report.append("| Mpps before | Mpps during churn | updates/s (wall) | updates/s while "
                  "pushing | passes | misforwarded (counts) | misforwarded (capture) | "
                  "target |")
    report.append("|---|---|---|---|---|---|---|---|")
    tgt = "≥ 1M updates/s, 0 misforwarded: %s" % (
        "met" if r["updates_per_s"] >= 1e6 and count_ok and cap_ok else "MISSED")
    report.append("| %.2f | %.2f | %s | %s | %d | %s | %s | %s |" % (
        r["base_mpps"], r["churn_mpps"], fmt_int(int(r["updates_per_s"])),
        fmt_int(int(r["push_rate"])), r["passes"],
        "0 (%s packets, every port exact)" % fmt_int(r["rx"] - tail) if count_ok
        else "MISMATCH",
        "%d of %s (next hop A %s, B %s)" % (len(bad), fmt_int(out["capture"]["packets"]),
                                            fmt_int(versions["A"]), fmt_int(versions["B"])),
        tgt))
    report.append("")
    report.append("Counts: after the churn the input interface is taken down (the burst the "
                  "worker holds then is dropped as IFACE_DOWN, %d packets here) and each output "
                  "port's TX count is compared with the reference port of the packets sent, in "
                  "the order of the cyclic replay. Capture: one pass of the pcap (no "
                  "infinite_rx) sent while the updates run, written by net_pcap (tx_pcap), "
                  "every packet checked: its port and next-hop MAC must be one of its longest "
                  "prefix's two, and every input packet must come out once; A/B shows the "
                  "packets crossed updates." %
                  tail)
    report.append("")
    return problems


CYC_RE = re.compile(r"^cycles worker (\d+) packets (\d+) tsc_hz (\d+) (.*) busy ([\d.]+)")


def section_cycles(k, tables, report, res):
    problems = []
    rows = []
    for name in k.scenarios:
        sc = dict(SCENARIOS[name], name=name)
        if k.packets and sc["count"] >= 100000:
            sc["count"] = k.packets
        pcap = traffic(k, tables, sc["table"], sc["count"], sc["distinct"], sc["imix"])
        log("%s: cycles per stage (cycle_stats build)" % name)
        mode = scenario_mem(k, sc, tables, ["nprouter"])
        n = start_nprouter(k, sc, pcap, sc["count"], tables, binary=k.dp_cycles,
                           name="nprouter-cycles")
        try:
            n.proc.wait_forwarding(120)
            time.sleep(k.warmup)
            m = measure(n.proc, k)
        finally:
            n.stop()
        line = [x for x in open(n.proc.log) if x.startswith("cycles worker")]
        if not line:
            problems.append("cycles: no counters in %s" % n.proc.log)
            continue
        mt = CYC_RE.match(line[-1])
        st = dict(zip(mt.group(4).split()[::2], map(float, mt.group(4).split()[1::2])))
        busy, hz = float(mt.group(5)), int(mt.group(3))
        rows.append((describe(sc, tables, mode), st, busy, hz, m["tx_mpps"]))
    res["cycles"] = [dict(scenario=r[0], stages=r[1], busy=r[2], tsc_hz=r[3], mpps=r[4])
                     for r in rows]
    report.append("## Cycles per packet per stage (nprouter, -Dcycle_stats=true)")
    report.append("")
    report.append("TSC cycles per forwarded packet over the worker's life, by stage: rx = "
                  "rte_eth_rx_burst (for net_pcap infinite_rx: an mbuf allocation and a copy "
                  "per packet) plus loop overhead; checks = L2/L3 validation; lookup = bulk FIB "
                  "lookup; nexthop = next hop, TTL, rewrite, staging; tx = rte_eth_tx_burst "
                  "(net_pcap drop: frees the mbufs). The counters cost a few cycles per packet.")
    report.append("")
    report.append("| scenario | rx | checks | lookup | nexthop | tx | total | Mpps ceiling "
                  "(TSC/total) | Mpps measured |")
    report.append("|---|---|---|---|---|---|---|---|---|")
    for desc, st, busy, hz, mpps in rows:
        report.append("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f |" % (
            desc, st.get("rx", 0), st.get("checks", 0), st.get("lookup", 0),
            st.get("nexthop", 0), st.get("tx", 0), busy, hz / busy / 1e6 if busy else 0, mpps))
    report.append("")
    return problems


# ---------------------------------------------------------------------------------------------


def machine(k):
    """One line: CPU (with family/model, as VMs often hide the name), caches, memory, versions."""
    info = {}
    try:
        for line in open("/proc/cpuinfo"):
            key, _, val = line.partition(":")
            key = key.strip()
            if key in ("model name", "cpu family", "model", "flags") and key not in info:
                info[key] = val.strip()
            if line.strip() == "":
                break
    except OSError:
        pass
    flags = set(info.get("flags", "").split())
    simd = "avx512f" if "avx512f" in flags else "avx2" if "avx2" in flags else "no avx2"
    cpu = "%s (family %s model %s, %s)" % (info.get("model name", "?"), info.get("cpu family", "?"),
                                           info.get("model", "?"), simd)
    try:
        rev = subprocess.run(["git", "-C", SRC, "describe", "--always", "--dirty"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True).stdout.strip()
    except OSError:
        rev = "?"
    dpdk = subprocess.run(["pkg-config", "--modversion", "libdpdk"], stdout=subprocess.PIPE,
                          text=True).stdout.strip()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") >> 30
    return ("%s, %d CPUs, L1d %s, L2 %s, L3 %s (per CPU 0's sysfs), %d GiB RAM; Linux %s; "
            "DPDK %s; nprouter %s; memory: %s" % (
        cpu, os.cpu_count(), size_label(cache_bytes(1, ("Data",))), size_label(cache_bytes(2)),
        size_label(cache_bytes(3)), mem, platform.release(), dpdk, rev,
        " and ".join(sorted(mem_label(m) for m in k.modes_used)) or "–"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[2:]))
    ap.add_argument("--build", default=os.path.join(SRC, "build-bench"),
                    help="meson build directory (release), default build-bench")
    ap.add_argument("--work", help="pcaps, tables, logs (default BUILD/bench/work)")
    ap.add_argument("--data", default=os.environ.get("NPR_DATA_DIR",
                                                     os.path.join(SRC, "..", "shared", "data")))
    ap.add_argument("--quick", action="store_true", help="smoke mode: a few seconds, tiny tables")
    ap.add_argument("--repeat", type=int, help="runs per program and scenario (default 3)")
    ap.add_argument("--seconds", type=float, help="measurement window (default 5)")
    ap.add_argument("--warmup", type=float, help="warm-up before a window (default 2)")
    ap.add_argument("--churn-seconds", type=float, help="churn duration (default 10)")
    ap.add_argument("--churn-table", default="v4-full")
    ap.add_argument("--churn-cpus", help="CPUs of the nprouter-control processes during the "
                    "churn (default: the main lcore's, away from the worker)")
    ap.add_argument("--scenarios", help="comma list of %s (default v4-full,v4-small,v6-full)"
                    % ",".join(SCENARIOS))
    ap.add_argument("--programs", default=",".join(PROGRAMS))
    ap.add_argument("--skip", help="comma list of fwd,fib,load,churn,cycles (default: none; "
                    "--quick: cycles, which needs a second build tree)")
    ap.add_argument("--packets", type=int, help="packets of the big pcaps (default 1000000)")
    ap.add_argument("--mem", choices=("auto", "huge", "nohuge"), default="auto")
    ap.add_argument("--lcores", default="0,1", help="MAIN,WORKER (default 0,1)")
    ap.add_argument("--ready-timeout", type=float, default=900,
                    help="seconds a program may take to start forwarding (l3fwd's rte_lpm "
                    "needs ~90 s for a full table)")
    ap.add_argument("--out", help="also write the report (Markdown) here")
    ap.add_argument("--no-build", action="store_true",
                    help="do not run ninja on --build (l3fwd and the cycles tree are still built)")
    ap.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    ap.add_argument("--nprouter-b", metavar="BINARY",
                    help="another nprouter-dataplane (an older build): runs as program "
                    "nprouter-b, alternating with nprouter in every round, so that the "
                    "report's npr / nprouter-b column compares the two builds; its "
                    "build's control (../control/nprouter-control) programs it")
    ap.add_argument("--nprouter-args", metavar="ARGS",
                    help="data-plane options of nprouter (e.g. \"--idle poll\")")
    ap.add_argument("--nprouter-b-args", metavar="ARGS",
                    help="data-plane options of nprouter-b (e.g. \"--idle poll\"); without "
                    "--nprouter-b, nprouter-b is this build with these options")
    a = ap.parse_args()
    q = a.quick
    a.repeat = a.repeat or (1 if q else 3)
    a.seconds = a.seconds or (1.0 if q else 5.0)
    a.warmup = a.warmup if a.warmup is not None else (0.3 if q else 2.0)
    a.churn_seconds = a.churn_seconds or (1.0 if q else 10.0)
    a.scenarios = (a.scenarios or ("v4-tiny,v6-tiny" if q else "v4-full,v4-small,v6-full")
                   ).split(",")
    a.programs = a.programs.split(",")
    if a.nprouter_b:
        a.nprouter_b = os.path.abspath(a.nprouter_b)
        if not os.access(a.nprouter_b, os.X_OK):
            ap.error("--nprouter-b: %s is not an executable" % a.nprouter_b)
    a.nprouter_args = (a.nprouter_args or "").split()
    a.nprouter_b_args = (a.nprouter_b_args or "").split()
    if a.nprouter_b_args and not a.nprouter_b:  # this build, built below
        a.nprouter_b = os.path.abspath(os.path.join(a.build, "dataplane", "nprouter-dataplane"))
    if a.nprouter_b:
        if "nprouter-b" not in a.programs:
            a.programs.append("nprouter-b")
    a.skip = set(x for x in (a.skip if a.skip is not None else "cycles" if q else "").split(",")
                 if x)
    for s in a.scenarios:
        if s not in SCENARIOS:
            ap.error("unknown scenario %s" % s)
    for p in a.programs:
        if p not in PROGRAMS and not (p == "nprouter-b" and a.nprouter_b):
            ap.error("unknown program %s" % p)
    k = Kit(a)
    if k.testpmd is None and "testpmd-io" in k.programs:
        raise Fail("dpdk-testpmd not on PATH (package dpdk)")

    t_start = time.monotonic()
    build(k, "cycles" not in k.skip)
    tables = Tables(k)
    report, res, problems = [], {}, []
    sections = [("fwd", section_fwd), ("fib", section_fib), ("load", section_load),
                ("churn", section_churn), ("cycles", section_cycles)]
    for name, fn in sections:
        if name in k.skip:
            continue
        log("=== %s" % name)
        k.mem_mode = None
        problems += fn(k, tables, report, res)

    head = ["# nprouter benchmark", "",
            "Machine: " + machine(k) + ".", "",
            "Command: `%s`; %.0f s in all." % (
                " ".join(["tools/bench/bench.py"] + sys.argv[1:]), time.monotonic() - t_start),
            ""]
    text = "\n".join(head + report)
    if problems:
        text += "\n## Problems\n\n" + "\n".join("- " + p for p in problems) + "\n"
    print(text)
    with open(os.path.join(k.work, "report.md"), "w") as f:
        f.write(text)
    with open(os.path.join(k.work, "results.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    if k.out:
        with open(k.out, "w") as f:
            f.write(text)
    missed = [t for t in res.get("targets", []) if not t["met"]]
    if problems:
        return 1
    if k.strict and missed:
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fail as e:
        log("FAILED: %s" % e)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
