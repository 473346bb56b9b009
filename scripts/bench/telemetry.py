#!/usr/bin/python3
"""Minimal DPDK telemetry (v2) client: what dpdk-telemetry.py does, scriptable.

The benchmark reads every program's port counters through this one client
(/ethdev/stats,<port>), so testpmd, l3fwd and edgefwd are measured the same
way and none of them has to print its own rates.

  telemetry.py FILE_PREFIX COMMAND...     prints each reply as one JSON line
"""
import json
import os
import socket
import sys

RUNTIME_DIRS = ("/var/run/dpdk", os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk"))


def socket_path(file_prefix: str) -> str:
    base = RUNTIME_DIRS[0] if os.geteuid() == 0 else RUNTIME_DIRS[1]
    return os.path.join(base, file_prefix, "dpdk_telemetry.v2")


class Telemetry:
    def __init__(self, file_prefix: str):
        self.path = socket_path(file_prefix)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.connect(self.path)
        hello = json.loads(self.sock.recv(1 << 16).decode())
        self.max_output_len = int(hello.get("max_output_len", 1 << 14))

    def query(self, command: str):
        self.sock.send(command.encode())
        reply = json.loads(self.sock.recv(self.max_output_len + 1024).decode())
        # Replies are {"<command name>": value}; the name is the part before ','.
        return reply.get(command.split(",", 1)[0])

    def close(self):
        self.sock.close()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    client = Telemetry(sys.argv[1])
    for command in sys.argv[2:]:
        print(json.dumps(client.query(command)))
    client.close()


if __name__ == "__main__":
    main()
