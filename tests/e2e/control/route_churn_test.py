#!/usr/bin/python3
"""Live route changes under traffic, end to end.

edgefwd forwards a sustained stream (net_pcap, infinite_rx=1) of tagged
packets, one per destination, while this test applies CHANGES route changes
(adds, egress changes, deletes, of IPv4 /16 and /17 and IPv6 /48 prefixes)
through the control socket, pipelined. The changes are simulated here, so for
every destination the set of egresses it had at some moment of the window is
known. Then:
  - every packet that left went to an egress its destination had at some
    moment (right port, neighbour MAC, VLAN); destinations whose routes were
    never touched stayed on their one egress;
  - before the first change each destination used its initial egress, and
    after the last change was acknowledged its final one;
  - nothing was dropped: every drop counter is zero, every received packet
    was transmitted, no mbuf leaked.
Prints the update rate achieved.

usage: route_churn_test.py EDGEFWD_BINARY [CHANGES]   (or $EDGEFWD_E2E_CHANGES)
"""
import ipaddress
import os
import random
import sys
import time

from scapy.all import IP, UDP, Ether, IPv6, Raw, wrpcap

from control_e2e_util import (BY_WIRE, CLIENT_MAC, NEIGHBORS, PORT_MAC, ROUTER_MAC, Daemon,
                              check,
                              neighbor_config, pcap_device, port_config, run_test,
                              stream_counts, tag)

DEFAULT_CHANGES = 100000
# Slack between the daemon's pcap timestamps (TSC since start-up) and our
# clock, and for a burst looked up just before a change and sent just after.
CLOCK_SLACK_S = 0.05

GROUPS = {"ecmp": ("transit-a", "transit-b")}
EGRESSES = ["transit-a", "transit-b", "peer-a", "peer-b", "cdn-a", "ecmp"]

# Routes from the file: never changed by the test.
STABLE_ROUTES = [("0.0.0.0/0", "transit-a"), ("::/0", "transit-a"),
                 ("172.16.0.0/16", "peer-a"), ("172.17.0.0/16", "cdn-a"),
                 ("2001:db8:100::/48", "peer-b"), ("172.18.0.0/16", "ecmp")]
V4_CHURN = 64   # 10.i.0.0/16 and 10.i.128.0/17
V6_CHURN = 32   # 2001:db8:0:i::/64 inside 2001:db8::/48 (also churned)


def churned_prefixes():
    prefixes = []
    for i in range(V4_CHURN):
        prefixes += ["10.%d.0.0/16" % i, "10.%d.128.0/17" % i]
    prefixes.append("2001:db8::/48")
    prefixes += ["2001:db8:0:%x::/64" % i for i in range(V6_CHURN)]
    return [ipaddress.ip_network(p) for p in prefixes]


def destinations():
    dests = ["172.16.3.4", "172.17.5.6", "172.18.7.8", "192.0.2.200", "2001:db8:100::5",
             "2001:db9::1"]  # untouched: stable routes, default routes
    for i in range(V4_CHURN):
        dests += ["10.%d.1.1" % i, "10.%d.200.1" % i]
    dests += ["2001:db8:0:%x::1" % i for i in range(V6_CHURN)]
    dests.append("2001:db8:0:ffff::1")  # only under the churned /48
    return [ipaddress.ip_address(d) for d in dests]


class RouteModel:
    """Longest-prefix match over the stable and the operator's routes, kept per
    destination: what each one uses now and everything it used."""

    def __init__(self, dests):
        self.stable = {ipaddress.ip_network(p): e for p, e in STABLE_ROUTES}
        self.cli = {}
        self.dests = dests
        self.covering = {}  # churned prefix -> indexes of destinations inside it
        for p in churned_prefixes():
            self.covering[p] = [i for i, d in enumerate(dests) if d.version == p.version and
                                d in p]
        # Per destination, every prefix that can match it, longest first.
        self.chains = []
        for d in dests:
            chain = [p for p in list(self.stable) + list(self.covering)
                     if p.version == d.version and d in p]
            self.chains.append(sorted(chain, key=lambda p: -p.prefixlen))
        self.now = [self.lookup(i) for i in range(len(dests))]
        self.initial = list(self.now)
        self.legal = [{e} for e in self.now]

    def lookup(self, i):
        for p in self.chains[i]:
            e = self.cli.get(p) or self.stable.get(p)
            if e is not None:
                return e
        raise AssertionError("no default route for %s" % self.dests[i])

    def apply(self, prefix, egress):
        if egress is None:
            del self.cli[prefix]
        else:
            self.cli[prefix] = egress
        for i in self.covering[prefix]:
            self.now[i] = self.lookup(i)
            self.legal[i].add(self.now[i])


def plan_changes(model, count, seed):
    rng = random.Random(seed)
    prefixes = list(model.covering)
    lines = []
    for _ in range(count):
        p = rng.choice(prefixes)
        current = model.cli.get(p)
        if current is not None and rng.random() < 0.35:
            lines.append("v1 route del %s" % p)
            model.apply(p, None)
        else:
            egress = rng.choice([e for e in EGRESSES if e != current])
            lines.append("v1 route add %s %s" % (p, egress))
            model.apply(p, egress)
    return lines


def config(work):
    text = 'routes = ["routes.txt"]\ncontrol_socket = "%s/ctl.sock"\n' % work
    text += port_config("p0", pcap_device(0, work, "in.pcap", "out0.pcap", infinite=True),
                        PORT_MAC["p0"])
    text += port_config("p1", pcap_device(1, work, "empty.pcap", "out1.pcap"), PORT_MAC["p1"])
    text += port_config("p2", pcap_device(2, work, "empty.pcap", "out2.pcap"), PORT_MAC["p2"],
                        vlans=[100])
    text += port_config("p3", pcap_device(3, work, "empty.pcap", "out3.pcap"), PORT_MAC["p3"])
    for name, members in GROUPS.items():
        text += '\n[[groups]]\nname = "%s"\nmembers = [%s]\n' % (
            name, ", ".join('{ neighbor = "%s" }' % m for m in members))
    for i, (name, (port, vlan, mac, cls)) in enumerate(NEIGHBORS.items()):
        text += neighbor_config(name, cls, port, vlan, mac, i)
    return text


def packet(i, dst):
    if dst.version == 4:
        l3 = IP(src="10.200.0.%d" % (1 + i % 250), dst=str(dst), ttl=64)
    else:
        l3 = IPv6(src="2001:db8:1::%x" % (1 + i), dst=str(dst), hlim=64)
    return Ether(dst=ROUTER_MAC, src=CLIENT_MAC) / l3 / UDP(sport=4000 + i, dport=53) / Raw(tag(i))


def members(egress):
    return set(GROUPS.get(egress, (egress,)))


def check_outputs(work, model, boundaries):
    """Returns (packets before, during, after the window)."""
    per_interval = [0, 0, 0]
    seen_after = set()
    for port in PORT_MAC:
        counts = stream_counts(os.path.join(work, "out%s.pcap" % port[1]), boundaries)
        for (mac, vlan, i), n in counts.items():
            check(i is not None and 0 <= i < len(model.dests),
                  "%s: a packet that was never sent (dst %s, vlan %d)" % (port, mac, vlan))
            dest = model.dests[i]
            name = BY_WIRE.get((port, vlan, mac))
            check(name is not None, "%s: packet for %s left to MAC %s VLAN %d: no such neighbour"
                  " on this port" % (port, dest, mac, vlan))
            legal = set().union(*(members(e) for e in model.legal[i]))
            check(name in legal, "%d packets for %s went to %s; its egresses in the window were %s"
                  % (sum(n), dest, name, sorted(model.legal[i])))
            check(n[0] == 0 or name in members(model.initial[i]),
                  "%d packets for %s went to %s before the first change; it used %s"
                  % (n[0], dest, name, model.initial[i]))
            check(n[2] == 0 or name in members(model.now[i]),
                  "%d packets for %s went to %s after the last change was acknowledged; it "
                  "uses %s now" % (n[2], dest, name, model.now[i]))
            if n[2]:
                seen_after.add(i)
            for k in range(3):
                per_interval[k] += n[k]
    missing = [str(model.dests[i]) for i in range(len(model.dests)) if i not in seen_after]
    check(not missing, "never forwarded after the changes: %s" % missing)
    return per_interval


def main():
    binary = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else int(
        os.environ.get("EDGEFWD_E2E_CHANGES", DEFAULT_CHANGES))

    def body(session):
        work = session.work
        dests = destinations()
        model = RouteModel(dests)
        wrpcap(os.path.join(work, "in.pcap"), [packet(i, d) for i, d in enumerate(dests)],
               linktype=1)
        wrpcap(os.path.join(work, "empty.pcap"), [], linktype=1)
        with open(os.path.join(work, "routes.txt"), "w") as f:
            f.write("".join("%s %s\n" % r for r in STABLE_ROUTES))
        cfg = os.path.join(work, "edgefwd.toml")
        with open(cfg, "w") as f:
            f.write(config(work))
        lines = plan_changes(model, count, seed=count)

        daemon = session.daemon = Daemon(binary, cfg, work)
        ctl = daemon.wait_for_socket(os.path.join(work, "ctl.sock"))
        time.sleep(0.3)  # traffic before the window
        start = time.time()
        acks = ctl.pipeline(lines)
        end = acks[-1]
        rate = count / (end - start)
        time.sleep(0.3)  # and after it
        control = ctl.json("stats")["control"]
        ctl.close()
        stats = daemon.stop()

        before, during, after = check_outputs(
            work, model, [start - CLOCK_SLACK_S, end + CLOCK_SLACK_S])
        check(during > 0, "no packet was forwarded while the routes changed")
        for reason, n in stats["drops"].items():
            check(n == 0, "drops[%s] = %d: packets were lost" % (reason, n))
        rx = stats["ports"]["p0"]["rx_packets"]
        tx = sum(p["tx_packets"] for p in stats["ports"].values())
        check(rx == tx, "received %d packets, transmitted %d" % (rx, tx))
        check(tx == before + during + after,
              "tx counters say %d, the pcaps hold %d" % (tx, before + during + after))
        mp = stats["mempool"]
        check(mp["avail_at_stop"] == mp["size"],
              "mempool: size %(size)d, available at stop %(avail_at_stop)d" % mp)
        check(control["ipv4_routes"] + control["ipv6_routes"] ==
              len(STABLE_ROUTES) + len(model.cli),
              "daemon has %d+%d routes, want %d" % (control["ipv4_routes"], control["ipv6_routes"],
                                                   len(STABLE_ROUTES) + len(model.cli)))
        print("OK: %d route changes in %.2f s: %.0f changes/s through the control socket, "
              "pipelined; %d packets forwarded during the changes (%d before, %d after), none "
              "to an egress its destination did not have, none dropped"
              % (count, end - start, rate, during, before, after))

    return run_test(body)


if __name__ == "__main__":
    sys.exit(main())
