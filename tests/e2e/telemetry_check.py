#!/usr/bin/python3
"""Check nprouter's DPDK telemetry commands against nprouter-control's --json answers.

  telemetry_check.py PREFIX STATS.json INFO.json

Queries the data plane's telemetry socket with dpdk-telemetry.py -f PREFIX (the operator's
tool, commands on its stdin) and compares: per worker rx/tx/forwarded, per port and queue,
drops, exceptions, policing and slow-path totals with `show stats`; route counts, capacities,
FIB memory and instance with `show info`. Checks that a bad parameter gets a clean error and
that DPDK's own commands are still there. Prints what differs; exits 1 if anything does.
"""
import json
import subprocess
import sys

fails = []


def telemetry(prefix, cmds):
    """One reply per command, as dpdk-telemetry.py prints them (one JSON object a line)."""
    out = subprocess.run(["/usr/bin/python3", "/usr/bin/dpdk-telemetry.py", "-f", prefix],
                         input="\n".join(cmds) + "\n", capture_output=True, text=True,
                         timeout=30, check=True).stdout
    replies = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if len(replies) != len(cmds):
        sys.exit(f"FAIL: {len(cmds)} commands, {len(replies)} replies:\n{out}")
    return [r[c.split(",")[0]] for r, c in zip(replies, cmds)]


def same(what, got, want):
    if got != want:
        fails.append(f"{what}: telemetry {got!r}, control {want!r}")


def main(prefix, stats_path, info_path):
    st = json.load(open(stats_path))
    info = json.load(open(info_path))
    cmds = ["/", "/nprouter/info", "/nprouter/stats", "/nprouter/workers", "/nprouter/ports",
            "/nprouter/drops", "/nprouter/fib", "/nprouter/workers,0", "/nprouter/ports,1",
            "/nprouter/drops,0", "/nprouter/ports,99", "/nprouter/workers,x",
            "/nprouter/stats,1", "/nprouter/drops,-1", "/ethdev/list"]
    (lst, t_info, t_stats, t_workers, t_ports, t_drops, t_fib, t_w0, t_p1, t_d0,
     e_port, e_worker, e_stats, e_drops, ethdev) = telemetry(prefix, cmds)

    for c in ["/nprouter/info", "/nprouter/stats", "/nprouter/ports", "/nprouter/workers",
              "/nprouter/drops", "/nprouter/fib", "/ethdev/list", "/ethdev/stats"]:
        if c not in lst:
            fails.append(f"'/' does not list {c}")
    same("/ethdev/list", ethdev, list(range(len(st["ports"]))))

    # info and fib: what `show info` says
    for k in ["instance_id", "abi_version", "n_ports", "n_workers", "n_ifaces", "nh_max",
              "group_max", "route4_max", "route6_max", "route4_count", "route6_count",
              "fib4_bytes", "fib6_bytes", "route4_by_origin", "route6_by_origin"]:
        same(f"info {k}", t_info.get(k), info[k])
    for k in ["route4_count", "route6_count", "route4_max", "route6_max", "fib4_bytes",
              "fib6_bytes", "route4_by_origin", "route6_by_origin"]:
        same(f"fib {k}", t_fib.get(k), info[k])
    # each origin's configuration transactions (the test's batch is one of the cli's)
    for f in ["generation", "failed", "commit_unix_ns", "failed_unix_ns"]:
        same(f"info txn_{f}", t_info.get("txn_" + f),
             {o: t[f] for o, t in info["transactions"].items()})
    same("info txn_last_errno", t_info.get("txn_last_errno"),
         {o: -t["last_status"] for o, t in info["transactions"].items()})
    if info["transactions"]["cli"]["generation"] < 1:
        fails.append("show info: the cli's batch is not counted as a transaction")
    if not 0 <= t_info["snapshot_age_ms"] < 1000:
        fails.append(f"snapshot_age_ms {t_info['snapshot_age_ms']}: staler than promised")

    # workers: each as show stats counts it
    nw = len(st["workers"])
    for w, cw in enumerate(st["workers"]):
        tw = t_workers.get(str(w), {})
        for k in ["lcore", "rx_pkts", "tx_pkts", "fwd4_pkts", "fwd6_pkts", "inject_pkts"]:
            same(f"worker {w} {k}", tw.get(k), cw[k])
        if not 0 <= tw.get("busy_permille", -1) <= 1000 or \
                not 0 <= tw.get("asleep_permille", -1) <= 1000:
            fails.append(f"worker {w}: shares out of range: {tw}")
    same("workers listed", sorted(k for k in t_workers if k.isdigit()),
         sorted(str(w) for w in range(nw)))
    for k in ["rx_pkts", "tx_pkts", "fwd4_pkts", "fwd6_pkts"]:
        same(f"worker 0 alone {k}", t_w0.get(k), st["workers"][0][k])
    same("worker 0 alone drops", t_w0["drops"],
         dict(st["workers"][0]["drops"], total=sum(st["workers"][0]["drops"].values())))
    same("drops of worker 0", t_d0,
         dict(st["workers"][0]["drops"], total=sum(st["workers"][0]["drops"].values()),
              snapshot_age_ms=t_d0.get("snapshot_age_ms")))

    # totals
    for k in ["rx_pkts", "tx_pkts", "fwd4_pkts", "fwd6_pkts"]:
        same(f"stats {k}", t_stats[k], sum(w[k] for w in st["workers"]))
    for k in ["exc_handled", "ring_resets", "replies_dropped", "batches_aborted",
              "layout_repairs", "mbufs_total"]:
        same(f"stats {k}", t_stats[k], st[k])
    same("stats drops", t_stats["drops"], dict(st["drops"], total=st["drops_total"]))
    same("stats exceptions", t_stats["exceptions"],
         dict(st["exceptions"], total=st["exceptions_total"]))
    same("stats policed", t_stats["policed"], dict(st["policed"], total=st["policed_total"]))
    same("stats slowpath", t_stats["slowpath"], st["slowpath"])
    same("drops", {k: v for k, v in t_drops.items() if k != "snapshot_age_ms"},
         dict(st["drops"], total=st["drops_total"]))
    if st["drops_total"] == 0 or sum(w["rx_pkts"] for w in st["workers"]) == 0:
        fails.append("no traffic counted: the comparison proves nothing")

    # ports, each queue
    for i, cp in enumerate(st["ports"]):
        tp = t_ports.get(str(i), {})
        for k in ["port_id", "link_up", "link_downs", "ipackets", "opackets", "ibytes",
                  "obytes", "imissed", "ierrors", "oerrors", "rx_nombuf"]:
            same(f"port {i} {k}", tp.get(k), cp[k])
        same(f"port {i} q_ipackets", tp.get("q_ipackets"),
             [q["ipackets"] for q in cp["queues"]])
        same(f"port {i} q_opackets", tp.get("q_opackets"),
             [q["opackets"] for q in cp["queues"]])
        same(f"port {i} name", tp.get("name"), f"net_pcap{i}")
    same("port 1 alone", {k: v for k, v in t_p1.items() if k != "snapshot_age_ms"},
         {k: v for k, v in t_ports["1"].items()})

    # bad parameters: a clean error, naming what is wrong
    for what, reply, word in [("/nprouter/ports,99", e_port, "99"),
                              ("/nprouter/workers,x", e_worker, "'x'"),
                              ("/nprouter/stats,1", e_stats, "takes no parameter"),
                              ("/nprouter/drops,-1", e_drops, "'-1'")]:
        if not isinstance(reply, dict) or list(reply) != ["error"] or word not in reply["error"]:
            fails.append(f"{what}: not a clean error: {reply!r}")
        else:
            print(f"{what} -> {json.dumps(reply)}")

    if fails:
        print("\n".join("FAIL: " + f for f in fails))
        sys.exit(1)
    print(f"telemetry agrees with show stats / show info: {nw} workers, "
          f"{len(st['ports'])} ports, {t_stats['rx_pkts']} packets received, "
          f"{t_info['route4_count']} + {t_info['route6_count']} routes")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
