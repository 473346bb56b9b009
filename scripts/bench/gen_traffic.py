#!/usr/bin/python3
"""Writes the benchmark's traffic: 64-byte IPv4/UDP frames as pcap files.

One file per receiving port, identical except for the destination MAC (the
receiving port's own, so a forwarder that checks it accepts every frame).
Flows differ in source address, destination address and UDP ports, so
nothing downstream can win by caching one flow.

  small: destinations in 198.18.P.0/24 for every port P, l3fwd's built-in
         routes (RFC 2544 benchmarking space), the same set edgefwd's small
         table holds.
  table: destinations spread uniformly over the routed IPv4 prefixes of a
         route file (`PREFIX EGRESS`, the default route left out so every
         packet exercises a real more-specific prefix).

Plain struct packing instead of scapy: 735k routes and tens of thousands of
frames are written in about a second, and the frames are fixed-layout.
"""
import argparse
import ipaddress
import random
import struct
import sys

FRAME_LEN = 60  # 64 bytes on the wire with the 4-byte FCS the NIC adds
PCAP_GLOBAL_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)


def ipv4_checksum(header: bytes) -> int:
    total = sum(struct.unpack("!10H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def frame(dst_mac: bytes, src_mac: bytes, src_ip: int, dst_ip: int, sport: int, dport: int) -> bytes:
    udp_len = FRAME_LEN - 14 - 20
    ip_no_sum = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + udp_len, 0, 0, 64, 17, 0, src_ip, dst_ip)
    ip = ip_no_sum[:10] + struct.pack("!H", ipv4_checksum(ip_no_sum)) + ip_no_sum[12:]
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0)  # UDP checksum 0: allowed for IPv4
    payload = bytes(udp_len - 8)
    return dst_mac + src_mac + b"\x08\x00" + ip + udp + payload


def routed_prefixes(path: str):
    prefixes = []
    with open(path, encoding="utf-8") as routes:
        for line_no, line in enumerate(routes, 1):
            text = line.split("#", 1)[0].split()
            if not text:
                continue
            if ":" in text[0]:
                continue  # IPv6: this benchmark is IPv4
            try:
                net = ipaddress.IPv4Network(text[0])
            except ValueError as err:
                sys.exit(f"{path}:{line_no}: prefix: {err}")
            if net.prefixlen == 0:
                continue
            prefixes.append((int(net.network_address), net.prefixlen))
    if not prefixes:
        sys.exit(f"{path}: no routed IPv4 prefixes (other than the default route)")
    return prefixes


def destinations(args, rng: random.Random):
    if args.mode == "small":
        base = int(ipaddress.IPv4Address("198.18.0.0"))
        return [base + ((i % args.ports) << 8) + rng.randrange(1, 255) for i in range(args.packets)]
    prefixes = routed_prefixes(args.routes)
    dsts = []
    for _ in range(args.packets):
        addr, length = rng.choice(prefixes)
        host_bits = 32 - length
        dsts.append(addr | (rng.getrandbits(host_bits) if host_bits else 0))
    return dsts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["small", "table"])
    parser.add_argument("--routes", help="route file for mode 'table'")
    parser.add_argument("--packets", type=int, default=2048, help="frames per file (default 2048)")
    parser.add_argument("--ports", type=int, default=2, help="receiving ports, one file each (default 2)")
    parser.add_argument("--port-mac-prefix", default="02:70:63:61:70",
                        help="first 5 bytes of the ports' MACs; byte 6 is the port index "
                             "(net_pcap's 02:70:63:61:70:<index>)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True, help="output prefix: writes OUT-p<port>.pcap")
    args = parser.parse_args()
    if args.mode == "table" and not args.routes:
        parser.error("mode 'table' needs --routes FILE")
    if args.packets < 1:
        parser.error("--packets must be at least 1")

    rng = random.Random(args.seed)
    dsts = destinations(args, rng)
    src_base = int(ipaddress.IPv4Address("10.0.0.0"))
    flows = [(src_base + rng.getrandbits(24), dst, rng.randrange(1024, 65536), rng.randrange(1024, 65536))
             for dst in dsts]
    src_mac = bytes.fromhex("020000000001")
    prefix = bytes.fromhex(args.port_mac_prefix.replace(":", ""))
    record_header = struct.pack("<IIII", 0, 0, FRAME_LEN, FRAME_LEN)
    for port in range(args.ports):
        dst_mac = prefix + bytes([port])
        with open(f"{args.out}-p{port}.pcap", "wb") as out:
            out.write(PCAP_GLOBAL_HEADER)
            for src_ip, dst_ip, sport, dport in flows:
                out.write(record_header + frame(dst_mac, src_mac, src_ip, dst_ip, sport, dport))


if __name__ == "__main__":
    main()
