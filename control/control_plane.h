// The control plane: everything that changes forwarding, run on the control
// thread (the daemon's main thread) while workers forward.
//
// It owns the RIB (all candidate routes per prefix, from every source), picks
// the best egress per prefix (class preference cdn > peering > transit by
// default, then source preference, then a stable tie-break), and programs
// the FIB: lpm tables map prefix -> path id; ForwardingState maps path id ->
// member adjacencies. Prefixes share path objects, so a neighbour going down
// rewrites a few paths, not every prefix (prefix-independent failover).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/route_file.h"
#include "dataplane/state/forwarding_state.h"
#include "lpm/ipv4_table.h"
#include "lpm/ipv6_table.h"

namespace edgefwd::control {

struct SocketLimits;  // control/control_socket.h

struct NeighborSpec {
  std::string name;  // what route files name as EGRESS
  dataplane::EgressClass egress_class = dataplane::EgressClass::kTransit;
  uint16_t port = 0;  // DPDK port id
  uint16_t vlan = 0;  // 0 = untagged
  std::optional<lpm::Ipv4Address> next_hop_v4;
  std::optional<lpm::Ipv6Address> next_hop_v6;
  std::array<uint8_t, 6> mac{};       // the neighbour's MAC (static until ARP/ND)
  std::array<uint8_t, 6> port_mac{};  // our MAC on that port (source MAC)
};

struct GroupSpec {  // ECMP group of neighbours, usable as an EGRESS name
  std::string name;
  struct Member {
    std::string neighbor;
    uint32_t weight = 1;
  };
  std::vector<Member> members;
};

struct ControlSpec {
  std::vector<NeighborSpec> neighbors;
  std::vector<GroupSpec> groups;
  std::vector<std::string> route_files;  // loaded at start, in order
  std::string socket_path = "/run/edgefwd.sock";
  // Preference order of egress classes, most preferred first.
  std::array<dataplane::EgressClass, dataplane::kEgressClassCount> class_preference = {
      dataplane::EgressClass::kCdn, dataplane::EgressClass::kPeering,
      dataplane::EgressClass::kTransit};
};

// The tables the control plane writes and the workers read.
struct Fib {
  lpm::QsbrDomain* qsbr = nullptr;
  lpm::Ipv4Table* v4 = nullptr;
  lpm::Ipv6Table* v6 = nullptr;
  dataplane::ForwardingState* state = nullptr;
};

class ControlPlane {
 public:
  static absl::StatusOr<std::unique_ptr<ControlPlane>> Create(ControlSpec spec, Fib fib);
  ~ControlPlane();

  // Loads spec.route_files: all applied or none, errors name file and line.
  absl::Status LoadRouteFiles();
  // Adds `routes` as candidates from `source` (all or none).
  absl::Status LoadRoutes(std::span<const FileRoute> routes, std::string_view source);
  // Administrative or link-state change of a neighbour; failover/restore.
  // Returns once every online worker has passed a quiescent state after the
  // switch (so nothing more goes the old way, e.g. to a neighbour that went
  // down); if one does not within 1 s, the switch stands but the result is
  // DeadlineExceeded.
  absl::Status SetNeighborUp(std::string_view name, bool up);

  // Opens the control socket (Unix domain, mode 0600).
  absl::Status StartSocket();
  // One turn of the control loop: serve socket clients, reclaim retired
  // memory. Waits at most timeout_ms for socket activity.
  void Poll(int timeout_ms);

  // The dataplane supplies counters for `edgectl stats` (text or JSON).
  void SetStatsProvider(std::function<std::string(bool json)> provider);

  // ---- Added by control/ (the calls above are the daemon's contract).
  // `reload` asks this for the re-read config (neighbours, groups, route
  // files); the control plane applies only the difference.
  void SetReloadProvider(std::function<absl::StatusOr<ControlSpec>()> provider);
  // Re-reads via the reload provider and applies the difference: all checked
  // first (names, files), so a bad config changes nothing. Returns once
  // applied; workers may still use removed neighbours and paths until a
  // grace period has passed, which the `reload` command's reply waits for
  // (deferred on the socket, so other clients are served meanwhile).
  absl::Status Reload();
  // Applies a whole new spec (what Reload does after asking the provider).
  absl::Status ApplySpec(ControlSpec spec);
  // Removes `routes` (prefix + egress) contributed by `source`, all or none.
  absl::Status RemoveRoutes(std::span<const FileRoute> routes, std::string_view source);
  // Runs one protocol request line in-process (what a socket client gets;
  // a reply the socket would defer is waited for here, bounded).
  std::string Execute(std::string_view request_line);
  // Limits for socket clients; call before StartSocket.
  void SetSocketLimits(const SocketLimits& limits);
  // How long the last SetNeighborUp took to republish paths (failover time),
  // and how many paths it rewrote.
  double last_failover_ms() const;
  size_t last_failover_paths() const;
  // How long the last SetNeighborUp then waited for the workers to pass it.
  double last_grace_ms() const;
  size_t route_count() const;  // prefixes in the RIB (both families)
  size_t path_count() const;   // live shared paths
  // Bytes the control plane's own containers hold (RIB prefix maps, paths,
  // per-path prefix sets), from their capacities; the FIB (lpm tables,
  // ForwardingState) is not included.
  struct MemoryUsage {
    size_t rib_prefix_maps = 0;
    size_t path_prefix_sets = 0;
    size_t paths = 0;
    size_t total() const { return rib_prefix_maps + path_prefix_sets + paths; }
  };
  MemoryUsage memory_usage() const;

 private:
  struct Impl;
  explicit ControlPlane(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgefwd::control
