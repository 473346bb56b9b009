#!/usr/bin/python3
"""edgefwd end to end through a net_ring port.

A net_ring vdev without arguments is one rte_ring used for both directions:
what edgefwd transmits on it, it receives from it again. The test uses that
loop to make every packet cross the ring port many times:

  in.pcap -> p0 (net_pcap) -> edgefwd -> r0 (net_ring, VLAN 100 added)
                                ^                        |
                                +--- r0 rx (tagged) <----+   ... until TTL 1

A packet arriving with TTL t is forwarded onto the ring t-1 times (each pass
re-checks its header: version, lengths, checksum after the incremental
update, the VLAN) and then punted as TTL-expired. So r0's tx and rx
counters must both be sum(t-1) exactly, nothing else may be dropped, and a
control flow to a net_pcap egress must arrive byte-exact. Also IPv6 (hop
limit). No mbuf may leak.

usage: ring_forwarding_test.py EDGEFWD_BINARY
"""
import os
import shutil
import sys

from scapy.all import IP, UDP, Dot1Q, Ether, IPv6, rdpcap, wrpcap

from edgefwd_e2e import (CLIENT_MAC, ROUTER_MAC, check, check_no_mbuf_leak, fail, Failure, find_tag,
                         ipv4_checksum_ok, run_edgefwd, tag, temp_dir)

RING_NEIGHBOR_MAC = "02:00:00:00:ee:01"
PCAP_NEIGHBOR_MAC = "02:00:00:00:bb:01"
ROUTES = """\
198.51.100.0/24   ring-n
2001:db8:7::/48   ring-n
0.0.0.0/0         out-n
"""


def main():
    binary = sys.argv[1]
    work = temp_dir()
    try:
        packets, loops, control = [], 0, {}
        for i, ttl in enumerate([2, 3, 5, 8, 16, 64, 255] * 4):
            packets.append(Ether(dst=ROUTER_MAC, src=CLIENT_MAC) /
                           IP(src="10.1.0.%d" % (i + 1), dst="198.51.100.%d" % (i + 1), ttl=ttl) /
                           UDP(sport=2000 + i, dport=53) / tag(len(packets)))
            loops += ttl - 1
        for hlim in (2, 9, 64):
            packets.append(Ether(dst=ROUTER_MAC, src=CLIENT_MAC) /
                           IPv6(src="2001:db8:1::1", dst="2001:db8:7::9", hlim=hlim) /
                           UDP(sport=3000, dport=53) / tag(len(packets)))
            loops += hlim - 1
        for i in range(5):  # to the net_pcap egress, checked byte for byte
            control[len(packets)] = Ether(bytes(
                Ether(dst=ROUTER_MAC, src=CLIENT_MAC) / IP(src="10.2.0.1", dst="8.8.8.%d" % i) /
                UDP(sport=4000 + i, dport=53) / tag(len(packets))))
            packets.append(control[len(packets)])
        wrpcap(os.path.join(work, "in.pcap"), packets, linktype=1)
        wrpcap(os.path.join(work, "empty.pcap"), [], linktype=1)
        with open(os.path.join(work, "routes.txt"), "w") as f:
            f.write(ROUTES)
        cfg = os.path.join(work, "edgefwd.toml")
        with open(cfg, "w") as f:
            f.write('routes = ["routes.txt"]\ncontrol_socket = "%s/ctl.sock"\n' % work)
            f.write('[[ports]]\nname = "p0"\ndevice = "net_pcap0,rx_pcap=%s/in.pcap"\nmac = "%s"\n'
                    % (work, ROUTER_MAC))
            f.write('[[ports]]\nname = "p1"\n'
                    'device = "net_pcap1,rx_pcap=%s/empty.pcap,tx_pcap=%s/out1.pcap"\n'
                    'mac = "02:00:00:00:00:02"\n' % (work, work))
            f.write('[[ports]]\nname = "r0"\ndevice = "net_ring0"\nvlans = [100]\n'
                    'mac = "02:00:00:00:00:03"\n')
            f.write('[[neighbors]]\nname = "ring-n"\nclass = "peering"\nport = "r0"\nvlan = 100\n'
                    'ipv4 = "192.0.2.9"\nipv6 = "2001:db8::9"\nmac = "%s"\n' % RING_NEIGHBOR_MAC)
            f.write('[[neighbors]]\nname = "out-n"\nclass = "transit"\nport = "p1"\n'
                    'ipv4 = "192.0.2.2"\nmac = "%s"\n' % PCAP_NEIGHBOR_MAC)
        stats = run_edgefwd(binary, cfg, work)

        ports = stats["ports"]
        check(ports["r0"]["tx_packets"] == loops,
              "ring tx %d, want %d (sum of TTL-1)" % (ports["r0"]["tx_packets"], loops))
        check(ports["r0"]["rx_packets"] == loops,
              "ring rx %d, want %d: packets lost in the ring" % (ports["r0"]["rx_packets"], loops))
        looped = len(packets) - len(control)
        want_drops = {"punt_ttl_expired": looped}
        for reason, count in stats["drops"].items():
            check(count == want_drops.get(reason, 0),
                  "drops[%s] = %d, want %d" % (reason, count, want_drops.get(reason, 0)))
        check(stats["neighbors"]["ring-n"]["packets"] == loops, "ring neighbour counter")

        out = list(rdpcap(os.path.join(work, "out1.pcap")))
        check(len(out) == len(control), "%d packets on p1, want %d" % (len(out), len(control)))
        for pkt in out:
            i = find_tag(pkt)
            check(i in control, "unexpected packet on p1: %r" % pkt)
            orig = control[i]
            check(pkt[Ether].dst == PCAP_NEIGHBOR_MAC and pkt[IP].ttl == orig[IP].ttl - 1 and
                  ipv4_checksum_ok(pkt[IP]) and bytes(pkt[IP])[12:] == bytes(orig[IP])[12:] and
                  not pkt.haslayer(Dot1Q), "packet %d rewritten wrongly: %r" % (i, pkt))
        check_no_mbuf_leak(stats)
        print("OK: %d packets in, %d passes through net_ring (tx and rx), %d to net_pcap"
              % (len(packets), loops, len(out)))
    except Failure as e:
        return fail(e, work)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
