#!/usr/bin/python3
"""Retired memory is reclaimed, end to end.

edgefwd forwards a sustained stream (the route churn test's set-up) while
this test applies CHANGES route changes through the control socket in
rounds — add a batch of new IPv4 /24 and IPv6 /56 prefixes, move each to
another egress, delete them all — with a neighbour down/up in between, so
the route set ends where it started. The control counters (`stats`: FIB
memory, QSBR backlog, paths, routes) must return to their baseline once the
workers have passed a quiescent state, after having grown during the churn.

usage: memory_reclaim_test.py EDGEFWD_BINARY [CHANGES]   (or $EDGEFWD_E2E_CHANGES)
"""
import os
import random
import sys
import time

from scapy.all import wrpcap

from control_e2e_util import Daemon, check, run_test
import route_churn_test as setup

DEFAULT_CHANGES = 360000
BATCH = 20000  # prefixes per round; each round makes 3 changes per prefix
# What compaction may leave behind: 256 KiB of waste per table (IPv4, IPv6)
# plus allocation headroom.
MEMORY_SLACK = 1 << 20
SETTLE_S = 5.0


def round_lines(rng, count):
    prefixes = []
    for k in range(count):
        if k % 4 == 3:
            prefixes.append("2001:db8:%x:%x00::/56" % (0x1000 + k // 256, k % 256))
        else:
            prefixes.append("20.%d.%d.0/24" % ((k >> 8) & 255, k & 255))
    adds = []
    moves = []
    for p in prefixes:
        first = rng.choice(setup.EGRESSES)
        adds.append("v1 route add %s %s" % (p, first))
        moves.append("v1 route add %s %s" % (p, rng.choice([e for e in setup.EGRESSES
                                                             if e != first])))
    dels = ["v1 route del %s" % p for p in prefixes]
    return adds + moves + dels


def counters(ctl):
    c = ctl.json("stats")["control"]
    return {k: c[k] for k in ("ipv4_routes", "ipv6_routes", "paths", "withdrawn", "qsbr_pending",
                              "fib_memory_bytes")}


def without_memory(c):
    return {k: v for k, v in c.items() if k != "fib_memory_bytes"}


def settled(ctl, baseline):
    """Polls until every counter but the FIB memory equals the baseline (the
    QSBR backlog drained: the workers moved past every retired piece), or
    SETTLE_S passes; then returns them all."""
    deadline = time.time() + SETTLE_S
    while True:
        now = counters(ctl)
        if without_memory(now) == without_memory(baseline) or time.time() > deadline:
            return now
        time.sleep(0.05)


def main():
    binary = sys.argv[1]
    total = int(sys.argv[2]) if len(sys.argv) > 2 else int(
        os.environ.get("EDGEFWD_E2E_CHANGES", DEFAULT_CHANGES))

    def body(session):
        work = session.work
        dests = setup.destinations()
        wrpcap(os.path.join(work, "in.pcap"), [setup.packet(i, d) for i, d in enumerate(dests)],
               linktype=1)
        wrpcap(os.path.join(work, "empty.pcap"), [], linktype=1)
        with open(os.path.join(work, "routes.txt"), "w") as f:
            f.write("".join("%s %s\n" % r for r in setup.STABLE_ROUTES))
        cfg = os.path.join(work, "edgefwd.toml")
        with open(cfg, "w") as f:
            f.write(setup.config(work))

        daemon = session.daemon = Daemon(binary, cfg, work)
        ctl = daemon.wait_for_socket(os.path.join(work, "ctl.sock"))
        baseline = counters(ctl)
        deadline = time.time() + SETTLE_S
        while baseline["qsbr_pending"] and time.time() < deadline:  # start-up's retirements
            time.sleep(0.05)
            baseline = counters(ctl)
        done = 0
        per_round = []  # settled FIB memory after each round
        peak = dict(baseline)
        r = 0
        start = time.time()
        while done < total:
            # Identical rounds: a pool that reuses what it freed ends each at
            # the same size.
            lines = round_lines(random.Random(total), min(BATCH, max(1, (total - done) // 3)))
            adds = len(lines) // 3
            ctl.pipeline(lines[:adds])
            grown = counters(ctl)
            for k in ("fib_memory_bytes", "qsbr_pending", "ipv4_routes", "ipv6_routes"):
                peak[k] = max(peak[k], grown[k])
            if r == 0:
                ctl.ok("v1 neighbor down peer-a")
                ctl.ok("v1 neighbor up peer-a")
            ctl.pipeline(lines[adds:])
            now = counters(ctl)
            for k in ("fib_memory_bytes", "qsbr_pending"):
                peak[k] = max(peak[k], now[k])
            done += len(lines)
            r += 1
            per_round.append(settled(ctl, baseline)["fib_memory_bytes"])
        elapsed = time.time() - start
        after = settled(ctl, baseline)
        ctl.close()
        stats = daemon.stop()

        print("baseline %s\npeak     %s\nafter    %s\nFIB memory after each round: %s"
              % (baseline, peak, after, per_round))
        check(peak["fib_memory_bytes"] > baseline["fib_memory_bytes"],
              "the FIB never grew: the churn did not reach it")
        memory = "fib_memory_bytes"
        check(without_memory(after) == without_memory(baseline),
              "%.1f s after %d changes the control counters are %s, baseline %s"
              % (SETTLE_S, done, after, baseline))
        # The tables compact when churn has left more than half their pools
        # free (and at least 256 KiB each), so some waste below that bound
        # may remain; a table that kept what it freed ends megabytes above.
        # Every round must end within the bound too: memory must not grow with
        # the number of changes.
        for i, m in enumerate(per_round + [after[memory]]):
            check(m <= baseline[memory] + MEMORY_SLACK,
                  "FIB memory did not return to its baseline: %d bytes before, %d after round %d "
                  "of %d changes (after each: %s) with every route removed again and nothing "
                  "pending in QSBR: freed memory is kept, not given back (allowed: +%d bytes)"
                  % (baseline[memory], m, i + 1, done, per_round, MEMORY_SLACK))
        mp = stats["mempool"]
        check(mp["avail_at_stop"] == mp["size"],
              "mempool: size %(size)d, available at stop %(avail_at_stop)d" % mp)
        print("OK: %d changes in %d rounds (%.1f s, %.0f changes/s); FIB memory %d -> peak %d -> "
              "%d bytes, QSBR backlog peak %d -> %d"
              % (done, r, elapsed, done / elapsed, baseline["fib_memory_bytes"],
                 peak["fib_memory_bytes"], after["fib_memory_bytes"], peak["qsbr_pending"],
                 after["qsbr_pending"]))

    return run_test(body)


if __name__ == "__main__":
    sys.exit(main())
