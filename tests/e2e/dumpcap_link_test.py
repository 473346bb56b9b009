#!/usr/bin/python3
"""dpdk-dumpcap attaching to edgefwd and exiting must not take links down.

DPDK 22.11's net_pcap runs its dev_stop in dev_close even in a secondary
process, and a secondary's rte_eal_cleanup() closes every vdev: when
dpdk-dumpcap exits it marks the primary's net_pcap ports "link down" in the
shared ethdev data. edgefwd used to believe that and withdraw every
neighbour on those ports. This test runs edgefwd with packet capture
enabled (multi-process, so without --in-memory), captures a few packets
with dpdk-dumpcap, lets it exit, and checks that no link went down, the
neighbour stayed up and forwarding went on.

usage: dumpcap_link_test.py EDGEFWD_BINARY EDGECTL_BINARY
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from scapy.all import IP, UDP, Ether, wrpcap

from edgefwd_e2e import (CLIENT_MAC, ROUTER_MAC, Failure, check, read_until, remove_runtime_dir,
                         temp_dir)

DUMPCAP = "/usr/bin/dpdk-dumpcap"


def edgectl_json(edgectl, sock, *cmd):
    for attempt in range(3):  # the control thread may be busy for a moment
        out = subprocess.run([edgectl, "--socket", sock, "--json", *cmd], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=10)
        if out.returncode == 0:
            return json.loads(out.stdout)
        time.sleep(0.3)
    raise Failure("edgectl %s: %s" % (" ".join(cmd), out.stdout))


def tx_packets(edgectl, sock):
    stats = edgectl_json(edgectl, sock, "stats")
    return stats["dataplane"]["ports"]["p1"]["tx_packets"]


def read_lines(proc, until, timeout):
    """Lines edgefwd prints until one contains `until` (or the timeout)."""
    return read_until(proc, until, timeout).splitlines(keepends=True)


def main():
    edgefwd, edgectl = sys.argv[1], sys.argv[2]
    if not os.access(DUMPCAP, os.X_OK):
        print("SKIP: %s not installed" % DUMPCAP)
        return 77
    work = temp_dir()
    prefix = "e2edc%d" % os.getpid()
    sock = os.path.join(work, "ctl.sock")
    pkts = [Ether(dst=ROUTER_MAC, src=CLIENT_MAC) / IP(src="10.1.0.%d" % (i + 1), dst="8.8.8.8") /
            UDP(sport=1000 + i, dport=53) for i in range(16)]
    wrpcap(os.path.join(work, "in.pcap"), pkts, linktype=1)
    with open(os.path.join(work, "routes.txt"), "w") as f:
        f.write("0.0.0.0/0 transit-a\n")
    cfg = os.path.join(work, "edgefwd.toml")
    with open(cfg, "w") as f:
        f.write('routes = ["routes.txt"]\ncontrol_socket = "%s"\n' % sock)
        # p0 replays its input forever; p1 (the egress) drops what it sends.
        f.write('[[ports]]\nname = "p0"\ndevice = "net_pcap0,rx_pcap=%s/in.pcap,infinite_rx=1"\n'
                'mac = "%s"\n' % (work, ROUTER_MAC))
        f.write('[[ports]]\nname = "p1"\ndevice = "net_pcap1,rx_pcap=%s/in.pcap,infinite_rx=1"\n'
                % work)
        f.write('[[neighbors]]\nname = "transit-a"\nclass = "transit"\nport = "p1"\n'
                'ipv4 = "192.0.2.2"\nmac = "02:00:00:00:bb:01"\n')
    proc = None
    log = []
    try:
        # No --in-memory: rte_pdump needs the multi-process channel and the
        # secondary maps our hugepage files (removed in `finally`).
        proc = subprocess.Popen(
            [edgefwd, "--no-pci", "--file-prefix=" + prefix, "-m", "128", "-l", "0,1",
             "--log-level=lib.eal:error", "--", "--config", cfg],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        log += read_lines(proc, "worker on lcore", 30)
        check(any("worker on lcore" in l for l in log), "edgefwd did not start:\n" + "".join(log))
        check(not any("packet capture (rte_pdump) unavailable" in l for l in log),
              "edgefwd started without packet capture:\n" + "".join(log))
        before = tx_packets(edgectl, sock)
        check(before >= 0, "no tx counter")

        capture = os.path.join(work, "capture.pcapng")
        dc = subprocess.run([DUMPCAP, "--file-prefix=" + prefix, "-i", "net_pcap1", "-c", "20",
                             "-w", capture, "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=60)
        check(dc.returncode == 0, "dpdk-dumpcap exited with %d:\n%s" % (dc.returncode, dc.stdout))
        check(os.path.getsize(capture) > 0, "dpdk-dumpcap wrote nothing")

        # edgefwd polls net_pcap links every 0.5 s: give it a few polls.
        time.sleep(2)
        log += read_lines(proc, "\0", 0.5)
        downs = [l for l in log if "link down" in l]
        check(not downs, "a link went down after dpdk-dumpcap exited: %s" % downs)
        neighbors = edgectl_json(edgectl, sock, "neighbor", "show")
        check("transit-a" in json.dumps(neighbors) and '"up": false' not in json.dumps(neighbors)
              and '"up":false' not in json.dumps(neighbors),
              "neighbour withdrawn after dpdk-dumpcap exited: %s" % json.dumps(neighbors))
        after = tx_packets(edgectl, sock)
        time.sleep(0.5)
        later = tx_packets(edgectl, sock)
        check(later > after > before, "forwarding stopped: tx %d, %d, %d" % (before, after, later))

        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        log.append(out)
        check(proc.returncode == 0, "edgefwd exited with %d" % proc.returncode)
        print("OK: dpdk-dumpcap captured and exited; links stayed up, tx %d -> %d" % (before, later))
    except (Failure, subprocess.TimeoutExpired, json.JSONDecodeError) as e:
        print("FAIL:", e)
        print("edgefwd output:\n" + "".join(log))
        print("work dir kept:", work)
        return 1
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        remove_runtime_dir(prefix)
        for leftover in glob.glob("/dev/hugepages/%smap_*" % prefix):
            os.unlink(leftover)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
