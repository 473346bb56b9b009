// control_bench: control-plane figures for scripts/bench-control.
//
//   control_bench --routes FILE [--routes FILE...] [--updates N] [--socket-dir DIR]
//
// Neighbours are made up from the egress names the route files use (cdn-* ->
// cdn, peer-* -> peering, else transit), so any route file works. Prints one
// line per measurement and, last, one JSON object.
//
//  full_load_s           LoadRouteFiles of the given files into empty tables
//  control_memory_mb     heap the control plane keeps for that table (RIB,
//                        paths, per-path prefix sets; FIB excluded)
//  updates_per_s_api     single-route LoadRoutes/RemoveRoutes calls, table loaded
//  updates_per_s_socket  pipelined `route add|del` through the control socket
//  updates_per_s_api_with_lookups  as _api while 1 thread looks up continuously
//                        (in-process readers; not DPDK traffic)
//  failover_ms_K         SetNeighborUp(peer, false) with K prefixes whose
//                        best path is that peer (fallback: transit), median of 5
//  failover_withdraw_ms_K  same, prefixes with no alternative (withdrawn; per-prefix)
#include <malloc.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "control/bulk_allocator.h"
#include "control/control_plane.h"
#include "control/control_socket.h"
#include "lpm/ipv4_table.h"
#include "lpm/ipv6_table.h"
#include "lpm/qsbr.h"

namespace edgefwd::control {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
// This thread's CPU time: the machine is shared, so wall time alone
// mostly measures the neighbours' compiles.
double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Bytes in use on the C++ heap (glibc: small-block arena + mmapped blocks)
// and in the control plane's bulk blocks (control/bulk_allocator.h).
size_t HeapBytes() {
  const struct mallinfo2 m = ::mallinfo2();
  return m.uordblks + m.hblkhd + BulkBytesInUse();
}

struct World {
  explicit World(uint32_t readers = 4)
      : qsbr(readers),
        v4(lpm::Ipv4Table::Create(lpm::TableConfig{}, &qsbr)),
        v6(lpm::Ipv6Table::Create(lpm::TableConfig{}, &qsbr)),
        state(&qsbr, 1 << 20) {}
  ~World() { qsbr.Synchronize(); }
  Fib fib() { return {&qsbr, v4.get(), v6.get(), &state}; }
  lpm::QsbrDomain qsbr;
  std::unique_ptr<lpm::Ipv4Table> v4;
  std::unique_ptr<lpm::Ipv6Table> v6;
  dataplane::ForwardingState state;
};

NeighborSpec MakeNeighbor(const std::string& name, uint16_t index) {
  NeighborSpec n;
  n.name = name;
  n.egress_class = name.rfind("cdn-", 0) == 0    ? dataplane::EgressClass::kCdn
                   : name.rfind("peer-", 0) == 0 ? dataplane::EgressClass::kPeering
                                                 : dataplane::EgressClass::kTransit;
  n.port = index % 4;
  n.mac = {0x02, 0, 0, 0, static_cast<uint8_t>(index >> 8), static_cast<uint8_t>(index)};
  return n;
}

ControlSpec SpecFor(const std::vector<std::string>& files, const std::string& socket_path) {
  std::set<std::string> names = {"transit-a", "bench-peer"};
  for (const auto& f : files) {
    auto routes = ReadRouteFile(f);
    if (!routes.ok()) continue;
    for (const auto& r : *routes) names.insert(r.egress);
  }
  ControlSpec spec;
  uint16_t i = 0;
  for (const auto& n : names) spec.neighbors.push_back(MakeNeighbor(n, i++));
  spec.route_files = files;
  spec.socket_path = socket_path;
  return spec;
}

std::string V4Prefix24(uint32_t i) {
  // 1.0.0.0/24 upward, skipping nothing: i < 2^24.
  const uint32_t a = (1u << 24) + (i << 8);
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + ".0/24";
}

FileRoute MakeRoute(const std::string& prefix, const std::string& egress) {
  auto parsed = ParseRouteText(prefix + " " + egress, "bench");
  return (*parsed)[0];
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Failover with K prefixes preferring bench-peer; `with_fallback` gives each
// a transit candidate too (the common case), else they are withdrawn.
double FailoverMs(size_t k, bool with_fallback) {
  World w;
  ControlSpec spec = SpecFor({}, "");
  auto cp = std::move(*ControlPlane::Create(spec, w.fib()));
  std::vector<FileRoute> peer, transit;
  peer.reserve(k);
  for (size_t i = 0; i < k; ++i) {
    const std::string p = V4Prefix24(static_cast<uint32_t>(i));
    peer.push_back(MakeRoute(p, "bench-peer"));
    if (with_fallback) transit.push_back(MakeRoute(p, "transit-a"));
  }
  std::vector<FileRoute> def = {MakeRoute("0.0.0.0/0", "transit-a")};
  if (!cp->LoadRoutes(def, "default").ok() || !cp->LoadRoutes(peer, "peer").ok() ||
      !cp->LoadRoutes(transit, "transit").ok()) {
    std::fprintf(stderr, "control_bench: failover setup failed\n");
    return -1;
  }
  // The peer's adjacency, as the workers see it before the switch.
  const lpm::Ipv4Address probe = (1u << 24) + (static_cast<uint32_t>(k / 2) << 8) + 1;
  const dataplane::AdjacencyId peer_adj = w.state.path(w.v4->Lookup(probe))->members[0];
  std::vector<double> downs;
  size_t still_to_peer = 0;
  for (int rep = 0; rep < 5; ++rep) {
    (void)cp->SetNeighborUp("bench-peer", false);
    downs.push_back(cp->last_failover_ms());
    // After the switch nothing may resolve to the peer.
    for (uint32_t i = 0; i < k; i += 997) {
      const auto* path = w.state.path(w.v4->Lookup((1u << 24) + (i << 8) + 1));
      for (size_t m = 0; path && m < path->count; ++m)
        still_to_peer += path->members[m] == peer_adj;
    }
    (void)cp->SetNeighborUp("bench-peer", true);
    cp->Poll(0);
  }
  if (still_to_peer > 0) {
    std::fprintf(stderr, "control_bench: %zu lookups still went to the down peer\n", still_to_peer);
    return -1;
  }
  return Median(downs);
}

// Pipelined route changes through the socket: a client thread keeps
// `window` requests in flight; the control loop runs here.
double SocketUpdatesPerSecond(ControlPlane& cp, const std::string& path, size_t n) {
  std::atomic<bool> done{false};
  std::atomic<size_t> replies{0};
  std::thread client([&] {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      done = true;
      return;
    }
    const size_t window = 256;
    size_t sent = 0, got = 0;
    std::string pending;
    char buf[65536];
    while (got < n) {
      std::string out;
      while (sent < n && sent - got < window) {
        const std::string p = V4Prefix24(static_cast<uint32_t>(3'000'000 + sent / 2));
        out += sent % 2 == 0 ? "v1 route add " + p + " bench-peer\n" : "v1 route del " + p + "\n";
        ++sent;
      }
      size_t off = 0;
      while (off < out.size()) {
        ssize_t w = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += static_cast<size_t>(w);
      }
      ssize_t r = ::recv(fd, buf, sizeof(buf), 0);
      if (r <= 0) break;
      pending.append(buf, static_cast<size_t>(r));
      size_t pos = 0, cut = 0;
      while ((pos = pending.find("\n.\n", pos)) != std::string::npos) {
        ++got;
        pos += 3;
        cut = pos;
      }
      pending.erase(0, cut);
    }
    replies = got;
    ::close(fd);
    done = true;
  });
  const auto start = Clock::now();
  while (!done.load()) cp.Poll(1);
  const auto end = Clock::now();
  client.join();
  return static_cast<double>(replies.load()) / Seconds(start, end);
}

double ApiUpdatesPerSecond(ControlPlane& cp, size_t n, uint32_t base, double* per_cpu_s) {
  const auto start = Clock::now();
  const double c0 = ThreadCpuSeconds();
  for (size_t i = 0; i < n; i += 2) {
    const FileRoute r = MakeRoute(V4Prefix24(base + static_cast<uint32_t>(i / 2)), "bench-peer");
    std::span<const FileRoute> one(&r, 1);
    if (!cp.LoadRoutes(one, "api").ok() || !cp.RemoveRoutes(one, "api").ok()) return -1;
    if (i % 1024 == 0) cp.Poll(0);
  }
  *per_cpu_s = static_cast<double>(n) / (ThreadCpuSeconds() - c0);
  return static_cast<double>(n) / Seconds(start, Clock::now());
}

int Main(int argc, char** argv) {
  std::vector<std::string> files;
  size_t updates = 200'000;
  std::string socket_dir = "/tmp";
  bool load_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--load-only") {
      load_only = true;
    } else if (a == "--routes" && i + 1 < argc) {
      files.push_back(argv[++i]);
    } else if (a == "--updates" && i + 1 < argc) {
      updates = std::stoul(argv[++i]);
    } else if (a == "--socket-dir" && i + 1 < argc) {
      socket_dir = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: control_bench --routes FILE... [--updates N] [--socket-dir D] "
                   "[--load-only]\n");
      return 2;
    }
  }
  const std::string socket_path =
      socket_dir + "/edgefwd-bench-" + std::to_string(::getpid()) + ".sock";
  std::string json = "{";

  // 1. Full-table load.
  World w;
  ControlSpec spec = SpecFor(files, socket_path);
  const size_t heap0 = HeapBytes();
  const size_t fib0 = w.v4->memory_bytes() + w.v6->memory_bytes();
  auto cp = std::move(*ControlPlane::Create(spec, w.fib()));
  const auto t0 = Clock::now();
  const double c0 = ThreadCpuSeconds();
  absl::Status loaded = cp->LoadRouteFiles();
  const double load_s = Seconds(t0, Clock::now());
  const double load_cpu_s = ThreadCpuSeconds() - c0;
  if (!loaded.ok()) {
    std::fprintf(stderr, "control_bench: %s\n", std::string(loaded.message()).c_str());
    return 1;
  }
  std::printf("full_load_s %.3f (cpu %.3f) routes %zu paths %zu\n", load_s, load_cpu_s,
              cp->route_count(), cp->path_count());
  json += "\"full_load_s\":" + std::to_string(load_s) +
          ",\"full_load_cpu_s\":" + std::to_string(load_cpu_s) +
          ",\"routes_loaded\":" + std::to_string(cp->route_count());
  // Memory the control plane keeps for the table: the heap's growth over the
  // load (temporaries freed, retired memory reclaimed) minus the FIB's own.
  cp->Poll(0);
  const size_t fib1 = w.v4->memory_bytes() + w.v6->memory_bytes();
  const double control_mb = static_cast<double>(HeapBytes() - heap0 - (fib1 - fib0)) / (1 << 20);
  const ControlPlane::MemoryUsage mu = cp->memory_usage();
  auto mb = [](size_t b) { return static_cast<double>(b) / (1 << 20); };
  std::printf(
      "control_memory_mb %.1f (heap growth minus FIB %.1f MB); by container: rib maps %.1f, "
      "per-path prefix sets %.1f, paths %.2f MB\n",
      control_mb, mb(fib1 - fib0), mb(mu.rib_prefix_maps), mb(mu.path_prefix_sets), mb(mu.paths));
  json += ",\"control_memory_mb\":" + std::to_string(control_mb) +
          ",\"control_memory_rib_maps_mb\":" + std::to_string(mb(mu.rib_prefix_maps)) +
          ",\"control_memory_prefix_sets_mb\":" + std::to_string(mb(mu.path_prefix_sets)) +
          ",\"fib_memory_mb\":" + std::to_string(mb(fib1 - fib0));
  if (load_only) {  // for profiling the load alone
    std::printf("%s}\n", json.c_str());
    return 0;
  }

  // Where the load time goes: parsing alone, and the lpm tables alone.
  {
    double c = ThreadCpuSeconds();
    std::vector<lpm::Ipv4RouteChange> v4;
    std::vector<lpm::Ipv6RouteChange> v6;
    for (const auto& f : files) {
      auto routes = ReadRouteFile(f);
      if (!routes.ok()) continue;
      for (const auto& r : *routes) {
        if (const auto* p4 = std::get_if<lpm::Ipv4Prefix>(&r.prefix)) {
          v4.push_back({lpm::Ipv4RouteChange::Op::kUpsert, *p4, 1});
        } else {
          v6.push_back({lpm::Ipv6RouteChange::Op::kUpsert, std::get<lpm::Ipv6Prefix>(r.prefix), 1});
        }
      }
    }
    const double parse_cpu = ThreadCpuSeconds() - c;
    World bare;
    c = ThreadCpuSeconds();
    (void)bare.v4->Apply(v4);
    (void)bare.v6->Apply(v6);
    const double lpm_cpu = ThreadCpuSeconds() - c;
    std::printf("  of which: parse cpu %.3f s, lpm Apply cpu %.3f s (measured separately)\n",
                parse_cpu, lpm_cpu);
    json += ",\"load_parse_cpu_s\":" + std::to_string(parse_cpu) +
            ",\"load_lpm_cpu_s\":" + std::to_string(lpm_cpu);
  }

  // 2. In-process API, table loaded.
  double api_cpu = 0;
  const double api = ApiUpdatesPerSecond(*cp, updates, 2'000'000, &api_cpu);
  std::printf("updates_per_s_api %.0f (per cpu-second %.0f)\n", api, api_cpu);
  json += ",\"updates_per_s_api\":" + std::to_string(static_cast<uint64_t>(api)) +
          ",\"updates_per_cpu_s_api\":" + std::to_string(static_cast<uint64_t>(api_cpu));

  // 3. Through the socket.
  if (absl::Status s = cp->StartSocket(); !s.ok()) {
    std::fprintf(stderr, "control_bench: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  const double sock = SocketUpdatesPerSecond(*cp, socket_path, updates);
  std::printf("updates_per_s_socket %.0f\n", sock);
  json += ",\"updates_per_s_socket\":" + std::to_string(static_cast<uint64_t>(sock));

  // 4. API while a reader thread looks up (in-process "traffic").
  {
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> lookups{0};
    const auto reader = w.qsbr.RegisterReader();
    std::thread t([&] {
      std::mt19937 rng(1);
      uint64_t n = 0;
      lpm::NextHop sink = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        for (int i = 0; i < 64; ++i, ++n) sink ^= w.v4->Lookup(static_cast<uint32_t>(rng()));
        w.qsbr.Quiescent(reader);
      }
      w.qsbr.Offline(reader);
      lookups = n + (sink & 0);
    });
    const auto start = Clock::now();
    double with_cpu = 0;
    const double with = ApiUpdatesPerSecond(*cp, updates, 2'500'000, &with_cpu);
    const double secs = Seconds(start, Clock::now());
    stop = true;
    t.join();
    std::printf("updates_per_s_api_with_lookups %.0f (reader: %.1f M lookups/s)\n", with,
                static_cast<double>(lookups.load()) / secs / 1e6);
    json += ",\"updates_per_s_api_with_lookups\":" + std::to_string(static_cast<uint64_t>(with));
  }
  cp.reset();

  // 5. Failover time against the number of prefixes behind the peer.
  for (size_t k : {10'000u, 100'000u, 500'000u}) {
    const double ms = FailoverMs(k, true);
    std::printf("failover_ms_%zuk %.4f\n", k / 1000, ms);
    json += ",\"failover_ms_" + std::to_string(k / 1000) + "k\":" + std::to_string(ms);
  }
  for (size_t k : {10'000u, 100'000u}) {
    const double ms = FailoverMs(k, false);
    std::printf("failover_withdraw_ms_%zuk %.4f (no alternative: per-prefix withdrawal)\n",
                k / 1000, ms);
    json += ",\"failover_withdraw_ms_" + std::to_string(k / 1000) + "k\":" + std::to_string(ms);
  }
  json += "}";
  std::printf("%s\n", json.c_str());
  return 0;
}

}  // namespace
}  // namespace edgefwd::control

int main(int argc, char** argv) {
  return edgefwd::control::Main(argc, argv);
}
