#!/usr/bin/python3
"""Shared helpers for edgefwd's end-to-end tests: run the daemon on DPDK
vdevs, read its final counters, and check forwarded packets with scapy."""
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

from scapy.all import Raw


ROUTER_MAC = "02:00:00:00:00:01"
CLIENT_MAC = "02:00:00:00:aa:01"


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def tag(i):
    """Payload that identifies input packet i in the output."""
    return Raw(b"EFID%06d" % i + b"." * 18)


def find_tag(pkt):
    raw = bytes(pkt)
    at = raw.find(b"EFID")
    return int(raw[at + 4:at + 10]) if at >= 0 else None


def ipv4_checksum_ok(ip):
    hdr = bytes(ip)[: ip.ihl * 4]
    s = 0
    for i in range(0, len(hdr), 2):
        s += (hdr[i] << 8) | hdr[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s == 0xFFFF


def read_until(proc, marker, timeout):
    """Reads proc's output until `marker` appears in it (or EOF, or timeout);
    returns what was read. Works on the pipe's file descriptor: select() sees
    only the pipe, not the file object's buffer, so readline() after select()
    may pull every line the process has written so far into that buffer,
    return the first, and leave select() blocking on an empty pipe while the
    awaited line sits unseen in the buffer (until the process writes again)."""
    fd = proc.stdout.fileno()
    data = b""
    deadline = time.monotonic() + timeout
    while marker.encode() not in data:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


def check_no_mbuf_leak(stats):
    """Every mbuf is back in the pool when edgefwd stops, as at its start."""
    mp = stats["mempool"]
    check(mp["avail_at_stop"] == mp["avail_at_start"] == mp["size"],
          "mempool: size %(size)d, at start %(avail_at_start)d, at stop %(avail_at_stop)d" % mp)


def fail(error, work):
    """Reports a failed check and keeps the work dir to look at; returns the exit status."""
    print("FAIL:", error)
    print("work dir kept:", work)
    return 1


def run_edgefwd(binary, config, workdir, lcores="0,1", idle_ms=400, timeout=45, extra_eal=()):
    stats = os.path.join(workdir, "stats.json")
    prefix = "e2e%d" % os.getpid()
    argv = [binary, "--no-pci", "--in-memory", "--file-prefix=" + prefix, "-m", "256",
            "-l", lcores, "--log-level=lib.eal:error", *extra_eal,
            "--", "--config", config, "--stats-json", stats, "--exit-when-idle", str(idle_ms)]
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout, text=True)
    finally:
        remove_runtime_dir(prefix)
    sys.stdout.write(proc.stdout)
    check(proc.returncode == 0, "edgefwd exited with %d" % proc.returncode)
    with open(stats) as f:
        return json.load(f)


def remove_runtime_dir(prefix):
    """EAL leaves /var/run/dpdk/PREFIX (telemetry socket) even with --in-memory."""
    for base in ("/var/run/dpdk", os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/nonexistent"),
                                               "dpdk")):
        shutil.rmtree(os.path.join(base, prefix), ignore_errors=True)


def temp_dir():
    return tempfile.mkdtemp(prefix="edgefwd-e2e.")
