#!/usr/bin/python3
"""Helpers for the control plane's end-to-end tests: run edgefwd in the
background with a sustained traffic stream (net_pcap, infinite_rx=1), talk to
its control socket (pipelined protocol v1 requests, or the edgectl CLI), and
read what left each port from the tx pcaps quickly (no scapy per packet: the
streams hold millions of frames)."""
import bisect
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from edgefwd_e2e import (CLIENT_MAC, ROUTER_MAC, Failure, check, remove_runtime_dir,  # noqa: E402,F401
                         temp_dir)

TAG = b"EFID"


# The test topology the failover and churn tests share: p0 receives, p1-p3
# are egress ports; one neighbour sits behind a VLAN.
PORT_MAC = {"p0": ROUTER_MAC, "p1": "02:00:00:00:00:02", "p2": "02:00:00:00:00:03",
            "p3": "02:00:00:00:00:04"}
NEIGHBORS = {  # name: (port, vlan, mac, class)
    "transit-a": ("p1", 0, "02:00:00:00:bb:01", "transit"),
    "transit-b": ("p1", 0, "02:00:00:00:bb:02", "transit"),
    "peer-a": ("p2", 100, "02:00:00:00:cc:01", "peering"),
    "peer-b": ("p2", 0, "02:00:00:00:cc:02", "peering"),
    "cdn-a": ("p3", 0, "02:00:00:00:dd:01", "cdn"),
}
BY_WIRE = {(n[0], n[1], n[2]): name for name, n in NEIGHBORS.items()}


def tag(i):
    """Payload naming input packet i (same format as edgefwd_e2e's tags)."""
    return TAG + b"%06d" % i + b"." * 18


def edgectl_path(edgefwd_binary):
    """edgectl sits in the same build tree as edgefwd (control/edgectl)."""
    build = os.path.dirname(os.path.dirname(os.path.abspath(edgefwd_binary)))
    return os.path.join(build, "control", "edgectl")


class Control:
    """A connection to the daemon's control socket. Requests may be pipelined:
    replies come back in order (control/PROTOCOL.md)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""

    def close(self):
        self.sock.close()

    def _line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise Failure("control socket closed by the daemon")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def read_reply(self):
        """(status line, body lines) of the next reply."""
        status = self._line()
        body = []
        while True:
            line = self._line()
            if line == ".":
                return status, body
            body.append(line[1:] if line.startswith("..") else line)

    def request(self, line):
        self.sock.sendall((line + "\n").encode())
        return self.read_reply()

    def ok(self, line):
        status, body = self.request(line)
        check(status == "ok", "%r: %s" % (line, status))
        return body

    def json(self, line):
        body = self.ok("v1+json " + line)
        return json.loads(body[0])

    def pipeline(self, lines, window=256):
        """Sends all lines, keeping at most `window` unanswered. Returns the
        monotonic time each one was acknowledged. Every reply must be ok."""
        acks = []
        sent = 0
        while len(acks) < len(lines):
            if sent < len(lines) and sent - len(acks) < window:
                end = min(len(lines), len(acks) + window)
                self.sock.sendall("".join(l + "\n" for l in lines[sent:end]).encode())
                sent = end
            status, _ = self.read_reply()
            acks.append(time.time())
            i = len(acks) - 1
            check(status == "ok", "%r: %s" % (lines[i], status))
        return acks


class Daemon:
    """edgefwd running in the background until stop()."""

    def __init__(self, binary, config, workdir, lcores="0,1"):
        self.stats_path = os.path.join(workdir, "stats.json")
        self.log_path = os.path.join(workdir, "edgefwd.log")
        self.log = open(self.log_path, "w")
        self.prefix = "ce%d" % os.getpid()
        argv = [binary, "--no-pci", "--in-memory", "--file-prefix=" + self.prefix, "-m", "256",
                "-l", lcores, "--log-level=lib.eal:error",
                "--", "--config", config, "--stats-json", self.stats_path]
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_for_socket(self, path, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            check(self.proc.poll() is None, "edgefwd exited with %s during start-up: %s"
                  % (self.proc.returncode, self.output()))
            if os.path.exists(path):
                try:
                    return Control(path)
                except OSError:
                    pass
            time.sleep(0.05)
        raise Failure("control socket %s never appeared" % path)

    def output(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self, timeout=30):
        """SIGINT, wait, and return the final counters."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failure("edgefwd did not stop within %d s of SIGINT" % timeout)
        self.log.close()
        remove_runtime_dir(self.prefix)
        sys.stdout.write(self.output())
        check(self.proc.returncode == 0, "edgefwd exited with %d" % self.proc.returncode)
        with open(self.stats_path) as f:
            return json.load(f)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.log.closed:
            self.log.close()
        remove_runtime_dir(self.prefix)


def keep_evidence(work):
    """On failure: keep the work dir, but the tx pcaps of a sustained stream
    (hundreds of MB) only if $EDGEFWD_E2E_KEEP_PCAPS is set."""
    if not os.environ.get("EDGEFWD_E2E_KEEP_PCAPS"):
        for name in os.listdir(work):
            if name.startswith("out") and name.endswith(".pcap"):
                os.remove(os.path.join(work, name))
    print("work dir kept: %s (tx pcaps %s)" % (
        work, "kept" if os.environ.get("EDGEFWD_E2E_KEEP_PCAPS") else
        "removed; set EDGEFWD_E2E_KEEP_PCAPS=1 to keep them"))


def port_config(name, device, mac, vlans=()):
    text = '\n[[ports]]\nname = "%s"\ndevice = "%s"\nmac = "%s"\n' % (name, device, mac)
    if vlans:
        text += "vlans = [%s]\n" % ", ".join(str(v) for v in vlans)
    return text


def neighbor_config(name, cls, port, vlan, mac, index):
    return ('\n[[neighbors]]\nname = "%s"\nclass = "%s"\nport = "%s"\nvlan = %d\n'
            'ipv4 = "192.0.2.%d"\nipv6 = "2001:db8:ffff::%d"\nmac = "%s"\n'
            % (name, cls, port, vlan, 10 + index, 10 + index, mac))


def pcap_device(index, work, rx, tx, infinite=False):
    dev = "net_pcap%d,rx_pcap=%s/%s,tx_pcap=%s/%s" % (index, work, rx, work, tx)
    return dev + (",infinite_rx=1" if infinite else "")


def read_pcap(path):
    """Yields (timestamp, frame bytes) without scapy."""
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        return
    magic = struct.unpack("<I", data[:4])[0]
    check(magic in (0xA1B2C3D4, 0xA1B23C4D), "%s: not a little-endian pcap" % path)
    scale = 1e-6 if magic == 0xA1B2C3D4 else 1e-9
    off = 24
    n = len(data)
    while off + 16 <= n:
        sec, frac, incl, _ = struct.unpack_from("<IIII", data, off)
        off += 16
        yield sec + frac * scale, data[off:off + incl]
        off += incl


def frame_tag(frame):
    """The input packet id in a frame's payload (tests/e2e/edgefwd_e2e.tag)."""
    at = frame.find(TAG)
    return int(frame[at + 4:at + 10]) if at >= 0 else None


def frame_vlan(frame):
    return struct.unpack(">H", frame[14:16])[0] & 0xFFF if frame[12:14] == b"\x81\x00" else 0


def mac_text(raw):
    return ":".join("%02x" % b for b in raw)


def stream_counts(path, boundaries=()):
    """For one tx pcap: (dst MAC, VLAN, tag) -> packet counts per time interval,
    the intervals cut at the sorted `boundaries` (len(boundaries) + 1 counts)."""
    out = {}
    for ts, frame in read_pcap(path):
        key = (mac_text(frame[:6]), frame_vlan(frame), frame_tag(frame))
        counts = out.get(key)
        if counts is None:
            counts = out[key] = [0] * (len(boundaries) + 1)
        counts[bisect.bisect_right(boundaries, ts)] += 1
    return out


class Session:
    """What a test's body shares with run_test: its work dir and, once
    started, the daemon (so a failure can kill it and show its output)."""

    def __init__(self):
        self.work = temp_dir()
        self.daemon = None


def run_test(body):
    """Runs body(session). On Failure: prints it and the daemon's output and
    keeps the evidence; always stops the daemon. Returns the exit code."""
    session = Session()
    try:
        body(session)
    except Failure as e:
        print("FAIL:", e)
        if session.daemon:
            session.daemon.kill()
            sys.stdout.write(session.daemon.output())
        keep_evidence(session.work)
        return 1
    finally:
        if session.daemon:
            session.daemon.kill()
    shutil.rmtree(session.work, ignore_errors=True)
    return 0
