#!/usr/bin/python3
"""Unit tests of scripts/fetch-table's converter, on hand-made packages.

No network: every test builds its own tiny package tarball (or feeds lines
directly) and points the script's cache at a temporary folder.
Run: /usr/bin/python3 tests/scripts/test_fetch_table.py
"""

import contextlib
import importlib.machinery
import importlib.util
import io
import ipaddress
import json
import os
import random
import tarfile
import tempfile
import tomllib
import unittest
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fetch-table"


def load_script():
    loader = importlib.machinery.SourceFileLoader("fetch_table", str(SCRIPT))
    spec = importlib.util.spec_from_loader("fetch_table", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


ft = load_script()

V4 = lambda text: int(ipaddress.IPv4Address(text))  # noqa: E731
V6 = lambda text: int(ipaddress.IPv6Address(text))  # noqa: E731

CDN_LIST = """\
# test CDN list
15169  cdn-google   # Google
13335  cdn-cloudflare
"""
PEER_LIST = """\
3320   peer-ix1-a   # Deutsche Telekom
7922   peer-ix2-a
"""

# IPv4 rows: start,end,asn,organisation (addresses as integers, like the package).
IPV4_ROWS = [
    # non-aligned range: 10.0.0.1 - 10.0.0.6 -> /32, /31, /31, /32
    (V4("10.0.0.1"), V4("10.0.0.6"), 64500, "Odd Range Inc."),
    # a run of AS64502 (10.1.0.0/23 + 10.1.2.0/24) with a CDN /24 beside it:
    # its cover 10.1.0.0/22 is 3/4 filled -> eligible, nests over cdn-google
    (V4("10.1.0.0"), V4("10.1.2.255"), 64502, "Run Networks"),
    (V4("10.1.3.0"), V4("10.1.3.255"), 15169, "Google LLC"),
    (V4("10.2.0.0"), V4("10.2.0.255"), 3320, '"Deutsche Telekom, AG"'),
    (V4("10.3.0.0"), V4("10.3.0.255"), 64501, "Odd AS"),
    (V4("192.0.2.0"), V4("192.0.2.255"), 13335, "Cloudflare, Inc."),
]
IPV6_ROWS = [
    # 2001:db8:: - 2001:db8:2:ffff:... -> /47 + /48
    (V6("2001:db8::"), V6("2001:db8:2:ffff:ffff:ffff:ffff:ffff"), 7922, "Comcast"),
    (V6("2001:db8:100::"), V6("2001:db8:100::ffff"), 64503, "Tiny"),
]


def csv_text(rows):
    return "".join("%d,%d,%d,%s\n" % row for row in rows)


def make_tarball(folder, ipv4_text, ipv6_text, name="pkg.tgz"):
    path = Path(folder) / name
    members = {
        "package/package.json": json.dumps({"name": "@ip-location-db/asn",
                                            "version": "0.0.1-test"}),
        "package/asn-ipv4-num.csv": ipv4_text,
        "package/asn-ipv6-num.csv": ipv6_text,
    }
    with tarfile.open(path, "w:gz") as archive:
        for member, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def read_routes(path):
    """{prefix text: egress} plus the ordered list, comments stripped."""
    ordered = []
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            prefix, egress = line.split()
            ordered.append((prefix, egress))
    return dict(ordered), ordered


class Workspace:
    """Temporary lists, cache and output folders for one end-to-end run."""

    def __init__(self, test, ipv4_text=None, ipv6_text=None):
        self.dir = tempfile.TemporaryDirectory()
        test.addCleanup(self.dir.cleanup)
        root = Path(self.dir.name)
        self.cdn = root / "cdn-asns.txt"
        self.peer = root / "peer-asns.txt"
        self.cdn.write_text(CDN_LIST)
        self.peer.write_text(PEER_LIST)
        self.cache = root / "cache"
        self.tarball = make_tarball(
            root, csv_text(IPV4_ROWS) if ipv4_text is None else ipv4_text,
            csv_text(IPV6_ROWS) if ipv6_text is None else ipv6_text)
        self.root = root

    def run(self, out_name="out", *extra):
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            status = ft.main(["--from-tarball", str(self.tarball), "--out",
                              str(self.root / out_name), "--cache-dir", str(self.cache),
                              "--cdn-list", str(self.cdn), "--peer-list", str(self.peer)] +
                             list(extra))
        return status, stderr.getvalue(), self.root / out_name


class RangeToCidrs(unittest.TestCase):
    def test_non_aligned_ipv4_range_splits_minimally(self):
        got = ft.range_to_cidrs(V4("10.0.0.1"), V4("10.0.0.6"), 32)
        self.assertEqual(got, [(V4("10.0.0.1"), 32), (V4("10.0.0.2"), 31),
                               (V4("10.0.0.4"), 31), (V4("10.0.0.6"), 32)])

    def test_whole_spaces(self):
        self.assertEqual(ft.range_to_cidrs(0, 2**32 - 1, 32), [(0, 0)])
        self.assertEqual(ft.range_to_cidrs(0, 2**128 - 1, 128), [(0, 0)])
        self.assertEqual(ft.range_to_cidrs(2**32 - 1, 2**32 - 1, 32), [(2**32 - 1, 32)])

    def test_matches_ipaddress_on_seeded_random_ranges(self):
        rng = random.Random(20260617)
        for bits, address in ((32, ipaddress.IPv4Address), (128, ipaddress.IPv6Address)):
            for _ in range(500):
                start = rng.randrange(2**bits)
                end = min(2**bits - 1, start + rng.randrange(2**rng.randrange(1, bits)))
                want = [(int(n.network_address), n.prefixlen)
                        for n in ipaddress.summarize_address_range(address(start), address(end))]
                self.assertEqual(ft.range_to_cidrs(start, end, bits), want, (bits, start, end))


class ParseRanges(unittest.TestCase):
    def parse(self, text, bits=32):
        warnings = []
        rows = list(ft.parse_ranges(io.StringIO(text), "pkg.tgz:package/x.csv", bits,
                                    warnings.append))
        return rows, warnings

    def assertBadLine(self, text, line, field, bits=32):
        with self.assertRaises(ft.TableError) as caught:
            self.parse(text, bits)
        self.assertIn("pkg.tgz:package/x.csv:%d: %s:" % (line, field), str(caught.exception))

    def test_quoted_organisation_with_commas_is_fine(self):
        rows, warnings = self.parse('1,2,64500,"Foo, Bar, Inc."\n3,3,7,x\n')
        self.assertEqual([r[:3] for r in rows], [(1, 2, 64500), (3, 3, 7)])
        self.assertEqual(warnings, [])

    def test_bad_lines_name_file_line_and_field(self):
        good = "1,2,64500,ok\n"
        self.assertBadLine(good + "5,6\n", 2, "columns")
        self.assertBadLine(good + "5,x6,1,org\n", 2, "end")
        self.assertBadLine(good + "-5,6,1,org\n", 2, "start")
        self.assertBadLine(good + "5,6,AS1,org\n", 2, "asn")
        self.assertBadLine(good + "5,6,4294967296,org\n", 2, "asn")
        self.assertBadLine(good + "9,6,1,org\n", 2, "end")
        self.assertBadLine(good + "5,4294967296,1,org\n", 2, "end")
        self.assertBadLine(good + "0,4,1,org\n", 2, "start")  # unsorted
        with self.assertRaisesRegex(ft.TableError, r"x.csv:3: start: .*before line 2's"):
            self.parse("0,99,1,a\n50,60,2,dropped\n40,200,3,b\n")
        self.assertBadLine("1,%d,1,org\n" % 2**128, 1, "end", bits=128)

    def test_overlap_is_clipped_with_a_warning(self):
        rows, warnings = self.parse("0,99,1,a\n50,149,2,b\n60,70,3,c\n150,150,4,d\n")
        self.assertEqual([r[:3] for r in rows], [(0, 99, 1), (100, 149, 2), (150, 150, 4)])
        self.assertEqual(len(warnings), 2)
        self.assertIn("pkg.tgz:package/x.csv:2: warning: overlaps line 1 by 50", warnings[0])
        self.assertIn(":3: warning:", warnings[1])
        self.assertIn("dropped", warnings[1])


class AsnLists(unittest.TestCase):
    def test_parses_and_classifies(self):
        cdn = ft.parse_asn_list(CDN_LIST, "cdn.txt", "cdn-")
        peers = ft.parse_asn_list(PEER_LIST, "peer.txt", "peer-")
        self.assertEqual(ft.egress_for(15169, cdn, peers), ("cdn", "cdn-google"))
        self.assertEqual(ft.egress_for(7922, cdn, peers), ("peering", "peer-ix2-a"))
        self.assertEqual(ft.egress_for(64500, cdn, peers), ("transit", "transit-a"))
        self.assertEqual(ft.egress_for(64501, cdn, peers), ("transit", "transit-b"))

    def test_bad_list_lines_name_file_and_line(self):
        cases = [("15169 cdn-google\nx15 cdn-x\n", "cdn.txt:2: asn:"),
                 ("15169 cdn-google\n15169 cdn-other\n", "cdn.txt:2: asn:"),
                 ("15169 peer-google\n", "cdn.txt:1: egress:"),
                 ("15169 cdn-Google\n", "cdn.txt:1: egress:"),
                 ("15169\n", "cdn.txt:1: line:")]
        for text, want in cases:
            with self.assertRaises(ft.TableError) as caught:
                ft.parse_asn_list(text, "cdn.txt", "cdn-")
            self.assertIn(want, str(caught.exception), text)

    def test_an_asn_in_both_lists_is_refused(self):
        with tempfile.TemporaryDirectory() as folder:
            cdn = Path(folder) / "cdn.txt"
            peer = Path(folder) / "peer.txt"
            cdn.write_text("15169 cdn-google\n")
            peer.write_text("15169 peer-ix1-a\n")
            with self.assertRaises(ft.TableError) as caught:
                ft.load_asn_lists(cdn, peer)
            self.assertIn("AS15169", str(caught.exception))

    def test_repository_lists_load(self):
        cdn, peers = ft.load_asn_lists(ft.CDN_LIST, ft.PEER_LIST)
        self.assertEqual(cdn[15169], "cdn-google")
        self.assertEqual(cdn[2906], "cdn-netflix")
        self.assertGreaterEqual(len(set(peers.values())), 4)
        self.assertLessEqual(len(set(peers.values())), 8)


class Aggregates(unittest.TestCase):
    def prefixes(self, rows, bits=32):
        ranges = [(s, e, a, 0) for s, e, a, _ in rows]
        return ft.ranges_to_prefixes(ranges, bits)

    def test_all_eligible_covers_at_full_share(self):
        prefixes = self.prefixes(IPV4_ROWS)
        aggregates, eligible = ft.find_aggregates(prefixes, 32, share_percent=100)
        # runs: 10.0.0.1-6 (cover /29, 6 of 8 filled) and 10.1.0.0-10.1.2.255 (cover /22, 3/4)
        self.assertEqual(eligible, 2)
        self.assertEqual(aggregates, [(V4("10.0.0.0"), 29, 64500), (V4("10.1.0.0"), 22, 64502)])
        self.assertEqual(ft.find_aggregates(prefixes, 32, share_percent=0), ([], 2))

    def test_sparse_run_and_short_cover_are_not_eligible(self):
        # AS64500 at 10.0.0.0/24 and 10.0.255.0/24 only: cover /16 is 2/256 filled
        sparse = self.prefixes([(V4("10.0.0.0"), V4("10.0.0.255"), 64500, ""),
                                (V4("10.0.255.0"), V4("10.0.255.255"), 64500, "")])
        self.assertEqual(ft.find_aggregates(sparse, 32, 100), ([], 0))
        # a run straddling 9/8 and 10/8 would need a /6 cover: shorter than /8
        straddle = self.prefixes([(V4("9.0.0.0"), V4("10.255.255.255"), 64500, "")])
        self.assertEqual(ft.find_aggregates(straddle, 32, 100), ([], 0))

    def test_selection_is_a_deterministic_share(self):
        picks = [ft.aggregate_selected(32, n << 8, 24, 50) for n in range(4000)]
        self.assertEqual(picks, [ft.aggregate_selected(32, n << 8, 24, 50) for n in range(4000)])
        self.assertTrue(1800 < sum(picks) < 2200, sum(picks))
        self.assertFalse(any(ft.aggregate_selected(32, n << 8, 24, 0) for n in range(100)))
        self.assertTrue(all(ft.aggregate_selected(32, n << 8, 24, 100) for n in range(100)))


class EndToEnd(unittest.TestCase):
    def test_converts_a_tiny_package(self):
        ws = Workspace(self)
        status, stderr, out = ws.run()
        self.assertEqual(status, 0, stderr)
        v4, v4_ordered = read_routes(out / "ipv4.routes")
        v6, v6_ordered = read_routes(out / "ipv6.routes")
        self.assertEqual(v4["0.0.0.0/0"], "transit-a")
        self.assertEqual(v6["::/0"], "transit-a")
        for prefix in ("10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"):
            self.assertEqual(v4[prefix], "transit-a")  # AS64500: even
        self.assertEqual(v4["10.1.0.0/23"], "transit-a")
        self.assertEqual(v4["10.1.2.0/24"], "transit-a")
        self.assertEqual(v4["10.1.3.0/24"], "cdn-google")
        self.assertEqual(v4["10.2.0.0/24"], "peer-ix1-a")
        self.assertEqual(v4["10.3.0.0/24"], "transit-b")  # AS64501: odd
        self.assertEqual(v4["192.0.2.0/24"], "cdn-cloudflare")
        self.assertEqual(v6["2001:db8::/47"], "peer-ix2-a")
        self.assertEqual(v6["2001:db8:2::/48"], "peer-ix2-a")
        self.assertEqual(v6["2001:db8:100::/112"], "transit-b")
        # every extra route is an eligible cover, i.e. one of the two computed above
        extra = set(v4) - {"0.0.0.0/0", "10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31",
                           "10.0.0.6/32", "10.1.0.0/23", "10.1.2.0/24", "10.1.3.0/24",
                           "10.2.0.0/24", "10.3.0.0/24", "192.0.2.0/24"}
        self.assertLessEqual(extra, {"10.0.0.0/29", "10.1.0.0/22"})
        # the /47 + /48 run fills 3/4 of 2001:db8::/46: its one possible aggregate
        self.assertLessEqual(set(v6) - {"::/0", "2001:db8::/47", "2001:db8:2::/48",
                                        "2001:db8:100::/112"}, {"2001:db8::/46"})
        # sorted by address, then length; files start with the credit
        key = lambda item: (ipaddress.ip_network(item[0]).network_address,  # noqa: E731
                            ipaddress.ip_network(item[0]).prefixlen)
        self.assertEqual(v4_ordered, sorted(v4_ordered, key=key))
        self.assertEqual(v6_ordered, sorted(v6_ordered, key=key))
        for name in ("ipv4.routes", "ipv6.routes", "neighbors.toml"):
            head = (out / name).read_text()[:2000]
            for credit in ("RouteViews", "DB-IP", "@ip-location-db/asn", "CC BY 4.0"):
                self.assertIn(credit, head, name)

    def test_neighbors_name_every_used_egress_with_distinct_addresses(self):
        ws = Workspace(self)
        status, stderr, out = ws.run()
        self.assertEqual(status, 0, stderr)
        used = set(read_routes(out / "ipv4.routes")[0].values()) | set(
            read_routes(out / "ipv6.routes")[0].values())
        with open(out / "neighbors.toml", "rb") as f:
            neighbors = tomllib.load(f)["neighbors"]
        self.assertEqual({n["name"] for n in neighbors}, used)
        for field in ("ipv4", "ipv6", "mac"):
            values = [n[field] for n in neighbors]
            self.assertEqual(len(values), len(set(values)), field)
        for n in neighbors:
            want = {"cdn-": "cdn", "peer-": "peering", "transit-": "transit"}
            self.assertEqual(n["class"], next(v for k, v in want.items()
                                              if n["name"].startswith(k)))
            self.assertEqual(n["port"], n["class"])
            self.assertIn(ipaddress.IPv4Address(n["ipv4"]), ipaddress.ip_network("192.0.2.0/24"))
            self.assertIn(ipaddress.IPv6Address(n["ipv6"]), ipaddress.ip_network("2001:db8::/32"))
            self.assertEqual(int(n["mac"].split(":")[0], 16) & 3, 2)  # local, unicast

    def test_aggregates_nest_over_more_specifics(self):
        # Many runs like the 10.1.0.0/22 one, so the hash picks some.
        rows = []
        for block in range(200):
            base = V4("20.0.0.0") + block * 1024
            rows.append((base, base + 767, 64502 + 2 * (block % 2), "run"))
            rows.append((base + 768, base + 1023, 15169, "Google"))
        ws = Workspace(self, ipv4_text=csv_text(rows))
        status, stderr, out = ws.run()
        self.assertEqual(status, 0, stderr)
        v4, ordered = read_routes(out / "ipv4.routes")
        aggregates = [p for p in (line.split()[0] for line in
                                  (out / "ipv4.routes").read_text().splitlines()
                                  if line.endswith("# aggregate"))]
        self.assertTrue(60 < len(aggregates) < 140, len(aggregates))  # about half of 200
        for text in aggregates:
            cover = ipaddress.ip_network(text)
            self.assertEqual(cover.prefixlen, 22)
            inside = [(p, e) for p, e in ordered
                      if p != text and ipaddress.ip_network(p).subnet_of(cover)]
            self.assertIn((str(cover.network_address) + "/23", v4[text]), inside)
            self.assertIn("cdn-google", {e for _, e in inside})  # points elsewhere too
        self.assertIn("%d eligible runs -> %d aggregates" % (200, len(aggregates)), stderr)

    def test_output_is_deterministic(self):
        ws = Workspace(self)
        self.assertEqual(ws.run("one")[0], 0)
        self.assertEqual(ws.run("two", "--force")[0], 0)
        for name in ("ipv4.routes", "ipv6.routes", "neighbors.toml"):
            self.assertEqual((ws.root / "one" / name).read_bytes(),
                             (ws.root / "two" / name).read_bytes(), name)

    def test_second_run_does_no_work_and_list_change_reconverts(self):
        ws = Workspace(self)
        self.assertEqual(ws.run()[0], 0)
        status, stderr, out = ws.run()
        self.assertEqual(status, 0)
        self.assertIn("up to date", stderr)
        status, stderr, _ = ws.run("elsewhere")
        self.assertIn("reusing the conversion", stderr)
        ws.cdn.write_text(CDN_LIST + "64500 cdn-odd-range\n")
        status, stderr, out = ws.run()
        self.assertEqual(status, 0, stderr)
        self.assertIn("converted in", stderr)
        self.assertEqual(read_routes(out / "ipv4.routes")[0]["10.0.0.1/32"], "cdn-odd-range")

    def test_bad_package_line_is_a_clear_error_and_nothing_is_written(self):
        ws = Workspace(self, ipv4_text=csv_text(IPV4_ROWS) + "167772160,oops,1,x\n")
        status, stderr, out = ws.run()
        self.assertEqual(status, 1)
        self.assertIn("pkg.tgz:package/asn-ipv4-num.csv:%d: end: 'oops' is not a decimal integer"
                      % (len(IPV4_ROWS) + 1), stderr)
        self.assertFalse(out.exists())

    def test_missing_member_is_named(self):
        ws = Workspace(self)
        with tarfile.open(ws.tarball, "w:gz") as archive:
            data = b"{}"
            info = tarfile.TarInfo("package/package.json")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        status, stderr, _ = ws.run()
        self.assertEqual(status, 1)
        self.assertIn("package/asn-ipv4-num.csv: missing from the package", stderr)


class Download(unittest.TestCase):
    """The npm path, with a fake `npm` on PATH (nothing reaches the network)."""

    def setUp(self):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.root = Path(folder.name)
        self.bin = self.root / "bin"
        self.bin.mkdir()
        self.cache = self.root / "cache"
        saved_path = os.environ.get("PATH", "")
        self.addCleanup(os.environ.__setitem__, "PATH", saved_path)
        os.environ["PATH"] = str(self.bin)

    def fake_npm(self, body):
        npm = self.bin / "npm"
        npm.write_text("#!/bin/sh\n" + body)
        npm.chmod(0o755)

    def run_main(self):
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            status = ft.main(["--out", str(self.root / "out"), "--cache-dir", str(self.cache)])
        return status, stderr.getvalue()

    def test_without_npm_says_what_to_do(self):
        status, stderr = self.run_main()
        self.assertEqual(status, 1)
        self.assertIn("npm not found", stderr)
        self.assertIn("--from-tarball", stderr)

    def test_npm_failure_is_reported(self):
        self.fake_npm("echo 'npm ERR! code E404' >&2; exit 1\n")
        status, stderr = self.run_main()
        self.assertEqual(status, 1)
        self.assertIn("failed (exit 1): npm ERR! code E404", stderr)

    def test_tarball_with_wrong_sha1_is_refused_and_not_cached(self):
        self.fake_npm('echo not-the-package > "%s"\n' % ft.TARBALL_NAME)
        status, stderr = self.run_main()
        self.assertEqual(status, 1)
        self.assertIn("expected %s" % ft.PACKAGE_SHA1, stderr)
        self.assertFalse((self.cache / ft.TARBALL_NAME).exists())

    def test_corrupt_cached_tarball_is_fetched_again(self):
        self.cache.mkdir()
        (self.cache / ft.TARBALL_NAME).write_text("truncated")
        status, stderr = self.run_main()  # no npm on PATH: the refetch fails
        self.assertEqual(status, 1)
        self.assertIn("wrong sha1; fetching it again", stderr)
        self.assertFalse((self.cache / ft.TARBALL_NAME).exists())


if __name__ == "__main__":
    unittest.main()
