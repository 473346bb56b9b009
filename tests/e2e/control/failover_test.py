#!/usr/bin/python3
"""Prefix-independent failover, end to end.

edgefwd forwards a sustained stream (net_pcap, infinite_rx=1) to a sample of
a peer's prefixes (PEER_PREFIXES of them in the route file, most with a
transit candidate too, some with none so the covering default route answers)
and to prefixes of other egresses. While it runs, `edgectl neighbor down
peer-a`, a pause, `edgectl neighbor up peer-a`. Then:
  - before the down: the peer's destinations left to peer-a;
  - after the down was acknowledged: not one packet to peer-a (tx pcaps, and
    peer-a's counter frozen between two stats reads), the peer's traffic on
    its transit candidate or, without one, on the default route's egress;
  - after the up: back on peer-a (and its counter moving again);
  - other destinations never moved; nothing dropped; no mbuf leaked.
Prints the switch times edgectl reported.

usage: failover_test.py EDGEFWD_BINARY EDGECTL_BINARY [PEER_PREFIXES]
"""
import ipaddress
import json
import os
import subprocess
import sys
import time

from scapy.all import IP, UDP, Ether, IPv6, Raw, wrpcap

from control_e2e_util import (BY_WIRE, CLIENT_MAC, NEIGHBORS, PORT_MAC, ROUTER_MAC, Daemon,
                              check,
                              neighbor_config, pcap_device, port_config, run_test,
                              stream_counts, tag)

DEFAULT_PEER_PREFIXES = 100000
CLOCK_SLACK_S = 0.05  # see route_churn_test.py
PHASE_S = 0.5

PEER = "peer-a"


def peer_v4_prefix(k):
    """The k-th /24 of the peer: 11.0.0.0/24, 11.0.1.0/24, ... (k < 2^16 per /8)."""
    return ipaddress.ip_network((int(ipaddress.ip_address("11.0.0.0")) + (k << 8), 24))


def routes(peer_prefixes):
    """Route file lines, and per destination (up egress, down egress)."""
    lines = ["0.0.0.0/0 transit-a", "::/0 transit-a",
             "172.16.0.0/16 peer-b", "172.17.0.0/16 cdn-a",
             # the peer behind a CDN cache: cdn-a wins, peer-a is only a fallback
             "172.20.0.0/16 cdn-a", "172.20.0.0/16 peer-a",
             "2001:db8:a::/48 peer-a", "2001:db8:a::/48 transit-b",
             "2001:db8:b::/48 peer-a"]
    dests = [("172.16.1.1", "peer-b", "peer-b"), ("172.17.1.1", "cdn-a", "cdn-a"),
             ("172.20.1.1", "cdn-a", "cdn-a"), ("8.8.8.8", "transit-a", "transit-a"),
             ("2001:db8:a::1", PEER, "transit-b"), ("2001:db8:b::1", PEER, "transit-a")]
    with_transit = peer_prefixes - peer_prefixes // 10
    step = max(1, peer_prefixes // 64)
    for k in range(peer_prefixes):
        p = peer_v4_prefix(k)
        lines.append("%s %s" % (p, PEER))
        if k < with_transit:
            lines.append("%s transit-b" % p)
        if k % step == 0 or k == with_transit:
            dests.append((str(p.network_address + 9), PEER,
                          "transit-b" if k < with_transit else "transit-a"))
    return lines, dests


def config(work):
    text = 'routes = ["routes.txt"]\ncontrol_socket = "%s/ctl.sock"\n' % work
    text += port_config("p0", pcap_device(0, work, "in.pcap", "out0.pcap", infinite=True),
                        PORT_MAC["p0"])
    text += port_config("p1", pcap_device(1, work, "empty.pcap", "out1.pcap"), PORT_MAC["p1"])
    text += port_config("p2", pcap_device(2, work, "empty.pcap", "out2.pcap"), PORT_MAC["p2"],
                        vlans=[100])
    text += port_config("p3", pcap_device(3, work, "empty.pcap", "out3.pcap"), PORT_MAC["p3"])
    for i, (name, (port, vlan, mac, cls)) in enumerate(NEIGHBORS.items()):
        text += neighbor_config(name, cls, port, vlan, mac, i)
    return text


def packet(i, dst):
    dst = ipaddress.ip_address(dst)
    if dst.version == 4:
        l3 = IP(src="10.200.0.%d" % (1 + i % 250), dst=str(dst), ttl=64)
    else:
        l3 = IPv6(src="2001:db8:1::%x" % (1 + i), dst=str(dst), hlim=64)
    return Ether(dst=ROUTER_MAC, src=CLIENT_MAC) / l3 / UDP(sport=4000 + i, dport=53) / Raw(tag(i))


def edgectl(binary, sock, *args):
    proc = subprocess.run([binary, "--socket", sock, "--json", *args], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=30)
    check(proc.returncode == 0, "edgectl %s: exit %d: %s" % (" ".join(args), proc.returncode,
                                                           proc.stdout))
    return json.loads(proc.stdout)


def neighbor_packets(stats):
    """Per-neighbour packet counters, and the drop counters under "drops"."""
    counts = {n: v["packets"] for n, v in stats["dataplane"]["neighbors"].items()}
    counts["drops"] = {r: n for r, n in stats["dataplane"]["drops"].items() if n}
    return counts


def check_outputs(work, dests, boundaries):
    """Intervals: 0 up, 1 going down, 2 down, 3 coming up, 4 up again."""
    seen = [set() for _ in range(5)]
    total = 0
    for port in PORT_MAC:
        counts = stream_counts(os.path.join(work, "out%s.pcap" % port[1]), boundaries)
        for (mac, vlan, i), n in counts.items():
            check(i is not None and 0 <= i < len(dests),
                  "%s: a packet that was never sent (dst %s, vlan %d)" % (port, mac, vlan))
            dst, up, down = dests[i]
            name = BY_WIRE.get((port, vlan, mac))
            check(name is not None, "%s: packet for %s left to MAC %s VLAN %d: no such neighbour"
                  " on this port" % (port, dst, mac, vlan))
            check(name in (up, down), "%d packets for %s went to %s (want %s, or %s while %s is "
                  "down)" % (sum(n), dst, name, up, down, PEER))
            for k, want, phase in ((0, up, "before the down"), (2, down, "while the peer was down"),
                                   (4, up, "after the up")):
                check(n[k] == 0 or name == want, "%d packets for %s went to %s %s; want %s"
                      % (n[k], dst, name, phase, want))
            for k in range(5):
                if n[k]:
                    seen[k].add(i)
            total += sum(n)
    for k, phase in ((0, "before the down"), (2, "while down"), (4, "after the up")):
        missing = [dests[i][0] for i in range(len(dests)) if i not in seen[k]]
        check(not missing, "no packet %s for %s" % (phase, missing))
    return total


def main():
    binary, edgectl_bin = sys.argv[1], sys.argv[2]
    peer_prefixes = int(sys.argv[3]) if len(sys.argv) > 3 else DEFAULT_PEER_PREFIXES

    def body(session):
        work = session.work
        lines, dests = routes(peer_prefixes)
        with open(os.path.join(work, "routes.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        wrpcap(os.path.join(work, "in.pcap"), [packet(i, d[0]) for i, d in enumerate(dests)],
               linktype=1)
        wrpcap(os.path.join(work, "empty.pcap"), [], linktype=1)
        cfg = os.path.join(work, "edgefwd.toml")
        with open(cfg, "w") as f:
            f.write(config(work))
        sock = os.path.join(work, "ctl.sock")

        daemon = session.daemon = Daemon(binary, cfg, work)
        ctl = daemon.wait_for_socket(sock)
        time.sleep(PHASE_S)
        s0 = neighbor_packets(ctl.json("stats"))
        down_sent = time.time()
        down = edgectl(edgectl_bin, sock, "neighbor", "down", PEER)
        down_ack = time.time()
        s1 = neighbor_packets(ctl.json("stats"))
        time.sleep(PHASE_S)
        s2 = neighbor_packets(ctl.json("stats"))
        up_sent = time.time()
        up = edgectl(edgectl_bin, sock, "neighbor", "up", PEER)
        up_ack = time.time()
        time.sleep(PHASE_S)
        s3 = neighbor_packets(ctl.json("stats"))
        shown = ctl.json("neighbor show " + PEER)
        ctl.close()
        stats = daemon.stop()

        print("timeline: down sent %.6f, acknowledged %.6f; up sent %.6f, acknowledged %.6f; "
              "neighbor counters %s / %s / %s / %s" % (down_sent, down_ack, up_sent, up_ack,
                                                       s0, s1, s2, s3))
        check(down.get("changed") and up.get("changed"), "down %s, up %s" % (down, up))
        # s1 is read after the down was acknowledged: the switch is complete.
        check(s2[PEER] == s1[PEER], "%d packets went to %s after its down was acknowledged"
              % (s2[PEER] - s1[PEER], PEER))
        for n in ("transit-a", "transit-b"):
            check(s2[n] > s1[n], "%s's counter did not move while %s was down" % (n, PEER))
        check(s3[PEER] > s2[PEER], "%s's counter did not move after it came back" % PEER)
        total = check_outputs(work, dests, [down_sent, down_ack + CLOCK_SLACK_S, up_sent,
                                            up_ack + CLOCK_SLACK_S])
        # A destination whose peer went down falls back to another candidate
        # or the covering route: none of its packets may be dropped.
        check(not any(stats["drops"].values()),
              "packets dropped: before the down %s, across the down (and its stats read) %s, "
              "while down %s, across the up %s, at the end %s"
              % (s0["drops"], s1["drops"], s2["drops"], s3["drops"],
                 {r: n for r, n in stats["drops"].items() if n}))
        rx = stats["ports"]["p0"]["rx_packets"]
        tx = sum(p["tx_packets"] for p in stats["ports"].values())
        check(rx == tx == total, "received %d packets, transmitted %d, the pcaps hold %d"
              % (rx, tx, total))
        mp = stats["mempool"]
        check(mp["avail_at_stop"] == mp["size"],
              "mempool: size %(size)d, available at stop %(avail_at_stop)d" % mp)
        print("OK: %s (%d prefixes) down: %s paths recomputed in %s ms (edgectl round trip "
              "%.1f ms), up: %s paths in %s ms (round trip %.1f ms); %s counters while down: "
              "%+d, transit-b %+d; %d packets checked; neighbor show: %s"
              % (PEER, peer_prefixes + 3, down["paths"], down["ms"],
                 1e3 * (down_ack - down_sent), up["paths"], up["ms"], 1e3 * (up_ack - up_sent),
                 PEER, s2[PEER] - s1[PEER], s2["transit-b"] - s1["transit-b"], total, shown))

    return run_test(body)


if __name__ == "__main__":
    sys.exit(main())
