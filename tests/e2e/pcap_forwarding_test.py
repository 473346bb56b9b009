#!/usr/bin/python3
"""edgefwd end to end through net_pcap ports: every packet of a generated
input pcap either leaves on the expected port with the expected MACs, VLAN,
TTL-1 / hop limit-1 and a valid checksum, or is counted under the expected
reason. No mbuf may leak.

usage: pcap_forwarding_test.py EDGEFWD_BINARY
"""
import collections
import os
import shutil
import sys

from scapy.all import ARP, IP, UDP, Dot1Q, Ether, IPv6, Raw, rdpcap, wrpcap

from edgefwd_e2e import (CLIENT_MAC, ROUTER_MAC, check, check_no_mbuf_leak, fail, Failure, find_tag,
                         ipv4_checksum_ok, run_edgefwd, tag, temp_dir)

P1_MAC, P2_MAC = "02:00:00:00:00:02", "02:00:00:00:00:03"
NEIGHBORS = {  # name: (port, vlan, mac, class)
    "transit-a": ("p1", 0, "02:00:00:00:bb:01", "transit"),
    "transit-b": ("p1", 0, "02:00:00:00:bb:02", "transit"),
    "peer-b": ("p2", 100, "02:00:00:00:cc:01", "peering"),
    "cdn-c": ("p2", 0, "02:00:00:00:dd:01", "cdn"),
}
PORT_MAC = {"p0": ROUTER_MAC, "p1": P1_MAC, "p2": P2_MAC}

ROUTES = """\
# default route, a covering /24 and a more specific /25 inside it
0.0.0.0/0            transit-a
198.51.100.0/24      peer-b
198.51.100.128/25    cdn-c
203.0.113.0/24       ecmp
2001:db8:2::/48      peer-b
2001:db8:2:8000::/49 cdn-c
"""


def config(work):
    def pcap(name, rx, tx):
        return "%s,rx_pcap=%s/%s,tx_pcap=%s/%s" % (name, work, rx, work, tx)
    text = """\
routes = ["routes.txt"]
control_socket = "%(w)s/ctl.sock"

[[ports]]
name = "p0"
device = "%(p0)s"
mac = "%(m0)s"
vlans = [10]
ipv4 = ["192.0.2.1"]
ipv6 = ["2001:db8:ffff::1"]

[[ports]]
name = "p1"
device = "%(p1)s"
mac = "%(m1)s"
mtu = 1500

[[ports]]
name = "p2"
device = "%(p2)s"
mac = "%(m2)s"
mtu = 1400
vlans = [100]

[[groups]]
name = "ecmp"
members = [{ neighbor = "transit-a" }, { neighbor = "transit-b" }]
""" % {"w": work, "p0": pcap("net_pcap0", "in.pcap", "out0.pcap"),
       "p1": pcap("net_pcap1", "empty.pcap", "out1.pcap"),
       "p2": pcap("net_pcap2", "empty.pcap", "out2.pcap"),
       "m0": ROUTER_MAC, "m1": P1_MAC, "m2": P2_MAC}
    for name, (port, vlan, mac, cls) in NEIGHBORS.items():
        text += ('\n[[neighbors]]\nname = "%s"\nclass = "%s"\nport = "%s"\nvlan = %d\n'
                 'ipv4 = "192.0.2.%d"\nipv6 = "2001:db8:ffff::%d"\nmac = "%s"\n'
                 % (name, cls, port, vlan, 10 + len(text) % 200, 10 + len(text) % 200, mac))
    return text


class Plan:
    """The input packets and what must become of each."""

    def __init__(self):
        self.packets = []
        self.forward = {}  # tag -> (neighbor or set of neighbors, original packet)
        self.drops = collections.Counter()

    def fwd(self, pkt, neighbor):
        i = len(self.packets)
        pkt = pkt / tag(i)
        self.packets.append(pkt)
        self.forward[i] = (neighbor, Ether(bytes(pkt)))  # with lengths, checksums

    def drop(self, pkt, reason):
        self.packets.append(pkt)
        self.drops[reason] += 1


def eth(vlan=None):
    e = Ether(dst=ROUTER_MAC, src=CLIENT_MAC)
    return e / Dot1Q(vlan=vlan) if vlan is not None else e


def v4(dst, src="10.1.0.1", ttl=64, vlan=None, **kw):
    return eth(vlan) / IP(src=src, dst=dst, ttl=ttl, **kw) / UDP(sport=4000, dport=53)


def v6(dst, src="2001:db8:1::1", hlim=64, vlan=None):
    return eth(vlan) / IPv6(src=src, dst=dst, hlim=hlim) / UDP(sport=4000, dport=53)


def build_plan():
    p = Plan()
    # Routing: default, covering prefix, more specific, VLAN in/out.
    p.fwd(v4("8.8.8.8"), "transit-a")                        # default route
    p.fwd(v4("198.51.100.7"), "peer-b")                      # /24, tagged out
    p.fwd(v4("198.51.100.200"), "cdn-c")                     # /25 beats the /24
    p.fwd(v4("8.8.4.4", vlan=10), "transit-a")               # tag removed
    p.fwd(v4("198.51.100.9", vlan=10), "peer-b")             # tag rewritten 10 -> 100
    p.fwd(v4("198.51.100.129", ttl=2), "cdn-c")              # TTL 2 leaves with 1
    p.fwd(v4("8.8.8.9", flags="MF", frag=0), "transit-a")    # first fragment
    p.fwd(v4("8.8.8.9", frag=100), "transit-a")              # later fragment
    p.fwd(v6("2001:db8:2::7"), "peer-b")
    p.fwd(v6("2001:db8:2:8000::1"), "cdn-c")                 # /49 beats the /48
    p.fwd(v6("2001:db8:2::8", vlan=10), "peer-b")
    p.fwd(v6("2001:db8:2:8000::2", hlim=2), "cdn-c")
    # Ethernet padding after a short IPv4 packet is not forwarded.
    small = eth() / IP(src="10.1.0.1", dst="8.8.8.8") / UDP(sport=1, dport=2)
    p.fwd(small, "transit-a")
    # MTU: p1 1500, p2 1400 (L3).
    p.fwd(v4("8.8.8.8") / Raw(b"j" * (1500 - 20 - 8 - 28)), "transit-a")  # exactly 1500
    p.fwd(v6("2001:db8:2:8000::3") / Raw(b"j" * (1400 - 40 - 8 - 28)), "cdn-c")  # exactly 1400
    p.drop(v4("8.8.8.8") / Raw(b"j" * 1550), "too_big")                # jumbo over p1's MTU
    p.drop(v4("198.51.100.9") / Raw(b"j" * 1420), "too_big")           # fits p1, not p2
    p.drop(v6("2001:db8:2::9") / Raw(b"j" * 1400), "too_big")
    # ECMP group: flows spread over both members, each flow sticks to one.
    for flow in range(24):
        for _ in range(2):
            p.fwd(eth() / IP(src="10.2.%d.1" % flow, dst="203.0.113.5") /
                  UDP(sport=1000 + flow, dport=80), {"transit-a", "transit-b"})
    # Malformed frames, each counted under its reason.
    p.drop(Raw(bytes(eth())[:10]), "runt")
    p.drop(eth(vlan=11) / IP(dst="8.8.8.8") / UDP(), "unknown_vlan")
    p.drop(Ether(dst=ROUTER_MAC, type=0x0800) / Raw(bytes(IP(dst="8.8.8.8"))[:12]), "ipv4_truncated")     # < 20 bytes
    p.drop(Ether(dst=ROUTER_MAC, src=CLIENT_MAC, type=0x0800) /
           Raw(bytes(IP(dst="8.8.8.8", len=200) / UDP())), "ipv4_truncated")  # total length > frame
    p.drop(eth() / IP(dst="8.8.8.8", ihl=4) / UDP(), "ipv4_bad_ihl")
    bad = IP(bytes(IP(dst="8.8.8.8") / UDP()))
    bad.chksum ^= 0x1234
    p.drop(eth() / bad, "ipv4_bad_checksum")
    p.drop(eth() / IP(dst="8.8.8.8", version=5) / UDP(), "ipv4_bad_version")
    p.drop(eth() / IP(dst="8.8.8.8", len=16) / UDP(), "ipv4_bad_total_length")
    p.drop(v4("8.8.8.8", src="127.0.0.1"), "ipv4_martian_source")
    p.drop(v4("127.0.0.2"), "ipv4_martian_destination")
    p.drop(v4("8.8.8.8", ttl=0), "punt_ttl_expired")
    p.drop(v4("8.8.8.8", ttl=1), "punt_ttl_expired")
    p.drop(v6("2001:db8:2::7", hlim=1), "punt_ttl_expired")
    p.drop(v6("2001:db8:2::7", hlim=0), "punt_ttl_expired")
    p.drop(eth() / IP(dst="8.8.8.8", options=b"\x94\x04\x00\x00") / UDP(), "punt_ipv4_options")
    p.drop(v4("192.0.2.1"), "punt_for_us")
    p.drop(v4("192.0.2.1", ttl=1), "punt_for_us")  # local delivery before the TTL check
    p.drop(v6("2001:db8:ffff::1"), "punt_for_us")
    p.drop(v4("224.0.0.5"), "punt_multicast")
    p.drop(v6("ff02::1"), "punt_multicast")
    p.drop(Ether(dst="ff:ff:ff:ff:ff:ff", src=CLIENT_MAC) / ARP(pdst="192.0.2.1"), "punt_arp")
    p.drop(Ether(dst=ROUTER_MAC, src=CLIENT_MAC, type=0x88CC) / Raw(b"\x00" * 46),
           "unsupported_ethertype")
    p.drop(v6("2001:db9::1"), "no_route")  # no IPv6 default route
    v6_trunc = bytes(v6("2001:db8:2::7"))
    p.drop(Ether(v6_trunc[:-4]), "ipv6_truncated")
    p.drop(Ether(dst=ROUTER_MAC, type=0x86DD) / Raw(bytes(IPv6(dst="2001:db8:2::7"))[:30]),
           "ipv6_truncated")
    p.drop(v6("2001:db8:2::7", src="fe80::1"), "ipv6_martian_source")
    return p


def check_forwarded(plan, outputs):
    seen = {}
    flow_member = {}
    for port, pkts in outputs.items():
        for out in pkts:
            i = find_tag(out)
            check(i is not None and i in plan.forward, "%s: unexpected packet %r" % (port, out))
            check(i not in seen, "packet %d left twice" % i)
            seen[i] = out
            want, orig = plan.forward[i]
            names = want if isinstance(want, set) else {want}
            member = [n for n in names if NEIGHBORS[n][2] == out[Ether].dst]
            check(member, "packet %d: dst MAC %s, want one of %s" % (i, out[Ether].dst, names))
            n_port, n_vlan, n_mac, _ = NEIGHBORS[member[0]]
            check(port == n_port, "packet %d left on %s, want %s" % (i, port, n_port))
            check(out[Ether].src == PORT_MAC[port], "packet %d: src MAC %s" % (i, out[Ether].src))
            if n_vlan:
                check(out.haslayer(Dot1Q) and out[Dot1Q].vlan == n_vlan,
                      "packet %d: want VLAN %d, got %r" % (i, n_vlan, out.summary()))
            else:
                check(not out.haslayer(Dot1Q), "packet %d: unexpected VLAN tag" % i)
            if orig.haslayer(IP):
                ip, oip = out[IP], orig[IP]
                check(ip.ttl == oip.ttl - 1, "packet %d: TTL %d, want %d" % (i, ip.ttl, oip.ttl - 1))
                check(ipv4_checksum_ok(ip), "packet %d: bad IPv4 checksum" % i)
                check(bytes(ip)[12:] == bytes(oip)[12:oip.len] and ip.len == oip.len,
                      "packet %d: IPv4 packet changed beyond TTL/checksum" % i)
                check(len(bytes(out)) == len(bytes(out[Ether])) and
                      len(bytes(ip)) == oip.len, "packet %d: padding forwarded" % i)
                if isinstance(want, set):
                    flow = (oip.src, orig[UDP].sport)
                    check(flow_member.setdefault(flow, member[0]) == member[0],
                          "flow %r switched members" % (flow,))
            else:
                ip, oip = out[IPv6], orig[IPv6]
                check(ip.hlim == oip.hlim - 1, "packet %d: hop limit %d" % (i, ip.hlim))
                check(bytes(ip)[8:] == bytes(oip)[8:], "packet %d: IPv6 packet changed" % i)
    missing = sorted(set(plan.forward) - set(seen))
    check(not missing, "packets never forwarded: %s" % missing)
    check(len(set(flow_member.values())) == 2, "ECMP used %s only" % set(flow_member.values()))
    return len(seen)


def main():
    binary = sys.argv[1]
    work = temp_dir()
    try:
        plan = build_plan()
        wrpcap(os.path.join(work, "in.pcap"), plan.packets, linktype=1)
        wrpcap(os.path.join(work, "empty.pcap"), [], linktype=1)
        with open(os.path.join(work, "routes.txt"), "w") as f:
            f.write(ROUTES)
        cfg = os.path.join(work, "edgefwd.toml")
        with open(cfg, "w") as f:
            f.write(config(work))
        stats = run_edgefwd(binary, cfg, work)

        outputs = {p: list(rdpcap(os.path.join(work, "out%s.pcap" % p[1]))) for p in PORT_MAC}
        forwarded = check_forwarded(plan, outputs)
        check(stats["ports"]["p0"]["rx_packets"] == len(plan.packets),
              "rx %d, sent %d" % (stats["ports"]["p0"]["rx_packets"], len(plan.packets)))
        tx = sum(p["tx_packets"] for p in stats["ports"].values())
        check(tx == forwarded, "tx counters %d, forwarded %d" % (tx, forwarded))
        for reason, count in stats["drops"].items():
            check(count == plan.drops.get(reason, 0),
                  "drops[%s] = %d, want %d" % (reason, count, plan.drops.get(reason, 0)))
        for reason in plan.drops:
            check(reason in stats["drops"], "no counter named %s" % reason)
        punts = sum(c for r, c in stats["drops"].items() if r.startswith("punt_") and
                    r != "punt_ring_full")
        check(stats["punts_drained"] == punts, "punts drained %d of %d" % (stats["punts_drained"], punts))
        by_class = {c: v["packets"] for c, v in stats["classes"].items()}
        want_class = collections.Counter()
        for want, _ in plan.forward.values():
            want_class[NEIGHBORS[sorted(want)[0] if isinstance(want, set) else want][3]] += 1
        check(by_class == {c: want_class.get(c, 0) for c in by_class},
              "class counters %s, want %s" % (by_class, dict(want_class)))
        check_no_mbuf_leak(stats)
        print("OK: %d packets in, %d forwarded, %d counted as not forwarded"
              % (len(plan.packets), forwarded, sum(plan.drops.values())))
    except Failure as e:
        return fail(e, work)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
