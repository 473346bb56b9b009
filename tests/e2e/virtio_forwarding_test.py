#!/usr/bin/python3
"""edgefwd end to end through DPDK's virtio PMD, the stand-in for a virtio
NIC in a VM: edgefwd drives a net_virtio_user port whose backend is
net_vhost in a second process (dpdk-testpmd), which relays between the
vhost port and a pcap file in io mode:

  in.pcap -> testpmd(pcap0 -> vhost0) -> edgefwd(virtio_user0) -> forwarded
  back out of virtio_user0 -> testpmd(vhost0 -> pcap0) -> out.pcap

Both processes use --single-file-segments (vhost maps virtio_user's memory).

usage: virtio_forwarding_test.py EDGEFWD_BINARY
"""
import collections
import os
import shutil
import subprocess
import sys
import time

from scapy.all import IP, UDP, Dot1Q, Ether, IPv6, rdpcap, wrpcap

from edgefwd_e2e import (CLIENT_MAC, ROUTER_MAC, check, check_no_mbuf_leak, fail, Failure, find_tag,
                         ipv4_checksum_ok, read_until, remove_runtime_dir, tag, temp_dir)

NEIGHBORS = {
    "transit-a": (0, "02:00:00:00:bb:01"),
    "peer-b": (100, "02:00:00:00:cc:01"),
}
TESTPMD_PROMPT = "testpmd> "
ROUTES = "0.0.0.0/0 transit-a\n198.51.100.0/24 peer-b\n2001:db8:2::/48 peer-b\n"


def build_plan():
    packets, forward, drops = [], {}, collections.Counter()

    def fwd(pkt, neighbor):
        pkt = pkt / tag(len(packets))
        forward[len(packets)] = (neighbor, Ether(bytes(pkt)))
        packets.append(pkt)

    def drop(pkt, reason):
        packets.append(pkt)
        drops[reason] += 1

    e = Ether(dst=ROUTER_MAC, src=CLIENT_MAC)
    for i in range(8):
        fwd(e / IP(src="10.1.0.%d" % (i + 1), dst="8.8.8.8") / UDP(sport=100 + i), "transit-a")
        fwd(e / IP(src="10.1.0.%d" % (i + 1), dst="198.51.100.9") / UDP(sport=100 + i), "peer-b")
        fwd(e / IPv6(src="2001:db8:1::%d" % (i + 1), dst="2001:db8:2::9") / UDP(sport=100 + i),
            "peer-b")
        fwd(e / Dot1Q(vlan=100) / IP(src="10.1.1.%d" % (i + 1), dst="8.8.4.4") / UDP(), "transit-a")
    drop(e / IP(dst="8.8.8.8", ttl=1) / UDP(), "punt_ttl_expired")
    drop(e / IPv6(dst="2001:db9::1") / UDP(), "no_route")
    bad = IP(bytes(IP(dst="8.8.8.8") / UDP()))
    bad.chksum ^= 0x0101
    drop(e / bad, "ipv4_bad_checksum")
    return packets, forward, drops


def testpmd_command(peer, command):
    """Runs one interactive command; returns its output, up to the next prompt."""
    peer.stdin.write(command + "\n")
    peer.stdin.flush()
    return read_until(peer, TESTPMD_PROMPT, 10)


def main():
    binary = sys.argv[1]
    testpmd = shutil.which("dpdk-testpmd")
    if testpmd is None:
        print("SKIP: dpdk-testpmd not installed")
        return 77
    work = temp_dir()
    sock = os.path.join(work, "vhost.sock")
    packets, forward, drops = build_plan()
    wrpcap(os.path.join(work, "in.pcap"), packets, linktype=1)
    with open(os.path.join(work, "routes.txt"), "w") as f:
        f.write(ROUTES)
    cfg = os.path.join(work, "edgefwd.toml")
    with open(cfg, "w") as f:
        f.write('routes = ["routes.txt"]\ncontrol_socket = "%s/ctl.sock"\n' % work)
        f.write('[[ports]]\nname = "v0"\ndevice = "net_virtio_user0,path=%s,queues=1,mac=%s"\n'
                'vlans = [100]\n' % (sock, ROUTER_MAC))
        for i, (name, (vlan, mac)) in enumerate(NEIGHBORS.items()):
            f.write('[[neighbors]]\nname = "%s"\nclass = "transit"\nport = "v0"\nvlan = %d\n'
                    'ipv4 = "192.0.2.%d"\nipv6 = "2001:db8::%d"\nmac = "%s"\n'
                    % (name, vlan, i + 2, i + 2, mac))
    stats_path = os.path.join(work, "stats.json")
    pid = os.getpid()
    # The vhost side: a server socket; 'start' only once edgefwd is attached.
    peer = subprocess.Popen(
        # stdbuf: testpmd's console output must reach us as it is printed.
        ["stdbuf", "-o0", testpmd, "--no-pci", "--in-memory", "--single-file-segments", "-m", "256",
         "--file-prefix=e2evh%d" % pid, "-l", "0,1", "--log-level=lib.eal:error",
         "--vdev", "net_pcap0,rx_pcap=%s/in.pcap,tx_pcap=%s/out.pcap" % (work, work),
         "--vdev", "net_vhost0,iface=%s,queues=1" % sock,
         "--", "-i", "--forward-mode=io", "--total-num-mbufs=4096",
         # else testpmd drains (discards) the pcap before it starts forwarding
         "--no-flush-rx"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        bufsize=1)
    edgefwd = None
    try:
        # testpmd prompts once its ports are started: the vhost socket is then
        # listening (the file alone exists from bind(), before listen()) and
        # the vhost port has its queues when virtio_user connects.
        peer_log = read_until(peer, TESTPMD_PROMPT, 30)
        check(TESTPMD_PROMPT in peer_log and os.path.exists(sock),
              "testpmd did not start (no prompt or no %s):\n%s" % (sock, peer_log[-3000:]))
        edgefwd = subprocess.Popen(
            [binary, "--no-pci", "--in-memory", "--single-file-segments", "-m", "256",
             "--file-prefix=e2evu%d" % pid, "-l", "0,1", "--log-level=lib.eal:error", "--",
             "--config", cfg, "--stats-json", stats_path, "--exit-when-idle", "3000"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # Traffic starts once edgefwd's worker runs (virtio negotiated, port
        # up): edgefwd's --exit-when-idle clock runs from its link-up, so the
        # line must be seen when it is written, not when edgefwd next writes.
        early = read_until(edgefwd, "edgefwd: worker on lcore", 30)
        sys.stdout.write(early)
        check("edgefwd: worker on lcore" in early, "edgefwd did not start")
        # ... and once vhost reports the device ready (link up), else vhost
        # drops what it sends. virtio_user reached DRIVER_OK while edgefwd
        # probed the port, so this normally holds on the first query.
        deadline = time.monotonic() + 20
        while True:
            reply = testpmd_command(peer, "show port info 1")
            peer_log += reply
            if "Link status: up" in reply or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        check("Link status: up" in reply, "vhost link never came up: %d x down; vhost log:\n%s"
              % (peer_log.count("Link status: down"),
                 "\n".join(l for l in peer_log.splitlines() if "VHOST" in l)[-3000:]))
        peer.stdin.write("start\n")
        peer.stdin.flush()
        out, _ = edgefwd.communicate(timeout=30)
        sys.stdout.write(out)
        check(edgefwd.returncode == 0, "edgefwd exited with %d" % edgefwd.returncode)
        peer.stdin.write("stop\nquit\n")
        peer.stdin.flush()
        peer_out = peer_log + peer.communicate(timeout=20)[0]
        if os.environ.get("E2E_VERBOSE"):
            sys.stdout.write(peer_out)

        with open(stats_path) as f:
            import json
            stats = json.load(f)
        outputs = list(rdpcap(os.path.join(work, "out.pcap")))
        seen = set()
        for pkt in outputs:
            i = find_tag(pkt)
            check(i in forward and i not in seen, "unexpected or repeated packet %r" % pkt)
            seen.add(i)
            name, orig = forward[i]
            vlan, mac = NEIGHBORS[name]
            check(pkt[Ether].dst == mac and pkt[Ether].src == ROUTER_MAC,
                  "packet %d: MACs %s -> %s" % (i, pkt[Ether].src, pkt[Ether].dst))
            check((pkt[Dot1Q].vlan if pkt.haslayer(Dot1Q) else 0) == vlan, "packet %d: VLAN" % i)
            if orig.haslayer(IP):
                check(pkt[IP].ttl == orig[IP].ttl - 1 and ipv4_checksum_ok(pkt[IP]),
                      "packet %d: TTL/checksum" % i)
            else:
                check(pkt[IPv6].hlim == orig[IPv6].hlim - 1, "packet %d: hop limit" % i)
        check(seen == set(forward), "not forwarded: %s" % sorted(set(forward) - seen))
        for reason, count in stats["drops"].items():
            check(count == drops.get(reason, 0), "drops[%s] = %d, want %d"
                  % (reason, count, drops.get(reason, 0)))
        check_no_mbuf_leak(stats)
        print("OK: %d packets through virtio_user/vhost, %d forwarded" % (len(packets), len(seen)))
    except (Failure, subprocess.TimeoutExpired) as e:
        return fail(e, work)
    finally:
        for p in (edgefwd, peer):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        remove_runtime_dir("e2evh%d" % pid)
        remove_runtime_dir("e2evu%d" % pid)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
