#!/usr/bin/python3
"""edgefwd end to end through ports backed by a kernel interface, in a
network namespace the test creates (and deletes):

  tap     edgefwd's port is net_tap (the PMD creates the tap interface);
          the kernel side of the test uses that interface.
  af_xdp  a veth pair; edgefwd's port is net_af_xdp on one end, the test
          uses the other end.

From the kernel side the test sends (scapy, AF_PACKET) IPv4 and IPv6 packets
into edgefwd's port. Some are routed to a net_pcap egress (checked in its
tx pcap), others straight back out of the kernel-facing port (sniffed on the
kernel side): so edgefwd both receives and transmits on the port. Every
packet must arrive once with the expected MACs, TTL-1 / hop limit-1, a valid
checksum and unchanged payload. IPv6 is disabled on the test's interfaces so
the kernel sends no ND/MLD of its own.

usage: kernel_port_forwarding_test.py tap|af_xdp EDGEFWD_BINARY
Exits 77 (skip) when the kernel or DPDK here cannot provide the port, with
the error.
"""
import json
import os
import shutil
import subprocess
import sys
import time

ROUTER_MAC = "02:00:00:00:00:01"
BACK_MAC = "02:00:00:00:bb:01"   # neighbour behind the kernel-facing port
OUT_MAC = "02:00:00:00:cc:01"    # neighbour behind the net_pcap egress
ROUTES = """\
198.51.100.0/24   out-n
2001:db8:5::/48   out-n
203.0.113.0/24    back-n
2001:db8:6::/48   back-n
"""


def sh(*argv, check=True):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          check=check)


def outside(mode, binary):
    """Creates the namespace, runs the test inside it, always deletes it."""
    ns = "efde2e%d" % os.getpid()
    try:
        r = sh("ip", "netns", "add", ns, check=False)
        if r.returncode != 0:
            print("SKIP: cannot create a network namespace: %s" % r.stdout.strip())
            return 77
        r = subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", os.path.abspath(__file__),
                            "--inside", mode, binary])
        return r.returncode
    finally:
        sh("ip", "netns", "del", ns, check=False)


def inside(mode, binary):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from scapy.all import IP, UDP, AsyncSniffer, Ether, IPv6, conf, rdpcap, sendp, wrpcap
    from edgefwd_e2e import (check, fail, Failure, find_tag, ipv4_checksum_ok, remove_runtime_dir,
                             tag, temp_dir)

    conf.verb = 0
    for key in ("all", "default"):
        sh("sysctl", "-q", "-w", "net.ipv6.conf.%s.disable_ipv6=1" % key)
    sh("ip", "link", "set", "lo", "up")
    if mode == "af_xdp":
        sh("ip", "link", "add", "efd-xdp", "type", "veth", "peer", "name", "efd-peer")
        for ifname in ("efd-xdp", "efd-peer"):
            sh("ip", "link", "set", ifname, "up")
        device, kernel_if = "net_af_xdp0,iface=efd-xdp,start_queue=0,queue_count=1", "efd-peer"
    else:
        device, kernel_if = "net_tap0,iface=efd-tap", "efd-tap"

    work = temp_dir()
    prefix = "e2ek%s%d" % (mode, os.getpid())
    wrpcap(os.path.join(work, "empty.pcap"), [], linktype=1)
    with open(os.path.join(work, "routes.txt"), "w") as f:
        f.write(ROUTES)
    cfg = os.path.join(work, "edgefwd.toml")
    with open(cfg, "w") as f:
        f.write('routes = ["routes.txt"]\ncontrol_socket = "%s/ctl.sock"\n' % work)
        f.write('[[ports]]\nname = "k0"\ndevice = "%s"\nmac = "%s"\n' % (device, ROUTER_MAC))
        f.write('[[ports]]\nname = "p1"\n'
                'device = "net_pcap1,rx_pcap=%s/empty.pcap,tx_pcap=%s/out1.pcap"\n'
                'mac = "02:00:00:00:00:02"\n' % (work, work))
        f.write('[[neighbors]]\nname = "back-n"\nclass = "peering"\nport = "k0"\n'
                'ipv4 = "192.0.2.9"\nipv6 = "2001:db8::9"\nmac = "%s"\n' % BACK_MAC)
        f.write('[[neighbors]]\nname = "out-n"\nclass = "transit"\nport = "p1"\n'
                'ipv4 = "192.0.2.2"\nipv6 = "2001:db8::2"\nmac = "%s"\n' % OUT_MAC)
    stats_path = os.path.join(work, "stats.json")
    edgefwd = subprocess.Popen(
        [binary, "--no-pci", "--in-memory", "--file-prefix=" + prefix, "-m", "256", "-l", "0,1",
         "--log-level=lib.eal:error", "--", "--config", cfg, "--stats-json", stats_path,
         "--exit-when-idle", "2500"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = ""
    try:
        # The port (and, for tap, the interface) exists once the worker runs.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = edgefwd.stdout.readline()
            if not line:
                break
            log += line
            if "worker on lcore" in line:
                break
        if "worker on lcore" not in log:
            edgefwd.wait(timeout=10)
            # Only a refusal of this port (probe/configure/start errors name
            # it) is a skip; anything else is a failure.
            if edgefwd.returncode != 0 and "port 'k0'" in log:
                print("SKIP: edgefwd could not open a %s port here (exit %s):\n%s"
                      % (mode, edgefwd.returncode, log))
                return 77
            raise Failure("edgefwd did not start:\n" + log)
        sh("ip", "link", "set", kernel_if, "up")

        client = Ether(dst=ROUTER_MAC, src="02:00:00:00:aa:01")
        packets, to_pcap, to_kernel = [], {}, {}
        for i in range(24):
            if i % 2 == 0:
                dst4, dst6, want = "198.51.100.%d" % (i + 1), "2001:db8:5::%x" % (i + 1), to_pcap
            else:
                dst4, dst6, want = "203.0.113.%d" % (i + 1), "2001:db8:6::%x" % (i + 1), to_kernel
            p = (client / IP(src="10.1.0.%d" % (i + 1), dst=dst4, ttl=10 + i) /
                 UDP(sport=1000 + i, dport=53) / tag(len(packets)))
            want[len(packets)] = Ether(bytes(p))
            packets.append(p)
            p = (client / IPv6(src="2001:db8:1::1", dst=dst6, hlim=20 + i) /
                 UDP(sport=1000 + i, dport=53) / tag(len(packets)))
            want[len(packets)] = Ether(bytes(p))
            packets.append(p)

        sniffer = AsyncSniffer(iface=kernel_if, lfilter=lambda p: p[Ether].dst == BACK_MAC)
        sniffer.start()
        time.sleep(0.5)
        sendp(packets, iface=kernel_if)
        time.sleep(1.0)
        back = sniffer.stop() or []
        out, _ = edgefwd.communicate(timeout=30)
        log += out
        check(edgefwd.returncode == 0, "edgefwd exited with %d" % edgefwd.returncode)
        with open(stats_path) as f:
            stats = json.load(f)

        def verify(pkts, want, where, src_mac):
            seen = set()
            for pkt in pkts:
                i = find_tag(pkt)
                check(i in want and i not in seen, "%s: unexpected or repeated %r" % (where, pkt))
                seen.add(i)
                orig = want[i]
                check(pkt[Ether].src == src_mac, "%s: packet %d src MAC %s" % (where, i, pkt[Ether].src))
                if orig.haslayer(IP):
                    check(pkt[IP].ttl == orig[IP].ttl - 1 and ipv4_checksum_ok(pkt[IP]) and
                          bytes(pkt[IP])[12:] == bytes(orig[IP])[12:],
                          "%s: packet %d: bad TTL/checksum/payload" % (where, i))
                else:
                    check(pkt[IPv6].hlim == orig[IPv6].hlim - 1 and
                          bytes(pkt[IPv6])[8:] == bytes(orig[IPv6])[8:],
                          "%s: packet %d: bad hop limit/payload" % (where, i))
            check(seen == set(want), "%s: missing packets %s" % (where, sorted(set(want) - seen)))

        verify(list(rdpcap(os.path.join(work, "out1.pcap"))), to_pcap, "net_pcap egress",
               "02:00:00:00:00:02")
        verify(back, to_kernel, "%s egress (kernel side)" % mode, ROUTER_MAC)
        k0 = stats["ports"]["k0"]
        check(k0["rx_packets"] == len(packets), "k0 rx %d, sent %d" % (k0["rx_packets"], len(packets)))
        check(k0["tx_packets"] == len(to_kernel), "k0 tx %d, want %d" % (k0["tx_packets"], len(to_kernel)))
        dropped = {r: c for r, c in stats["drops"].items() if c}
        check(not dropped, "unexpected drops %s" % dropped)
        mp = stats["mempool"]
        held = mp["avail_at_start"] - mp["avail_at_stop"]
        if mode == "af_xdp":
            # DPDK 22.11's af_xdp close (xdp_umem_destroy) forgets the mbufs it
            # posted to the kernel's fill ring (2048 descriptors) and those of
            # transmitted frames whose completions it has not reaped, instead
            # of freeing them; anything beyond that would be ours.
            bound = 2048 + k0["tx_packets"]
            check(0 <= held <= bound, "mempool: %d mbufs missing at stop (more than the %d the "
                  "af_xdp PMD can hold)" % (held, bound))
        else:
            check(held == 0, "mempool: %d mbufs missing at stop" % held)
        print("OK: %s: %d packets from the kernel side, %d back to it, %d to net_pcap%s"
              % (mode, len(packets), len(to_kernel), len(to_pcap),
                 " (the PMD kept %d mbufs at close: fill ring, tx completions)" % held if held else ""))
    except (Failure, subprocess.TimeoutExpired) as e:
        print("edgefwd output:\n" + log)
        return fail(e, work)
    finally:
        if edgefwd.poll() is None:
            edgefwd.kill()
            edgefwd.wait()
        remove_runtime_dir(prefix)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--inside":
        sys.exit(inside(sys.argv[2], sys.argv[3]))
    if len(sys.argv) != 3 or sys.argv[1] not in ("tap", "af_xdp"):
        sys.exit("usage: kernel_port_forwarding_test.py tap|af_xdp EDGEFWD_BINARY")
    sys.exit(outside(sys.argv[1], sys.argv[2]))
