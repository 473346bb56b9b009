// The edgefwd configuration file (TOML): ports, neighbours, groups, workers,
// route files, control socket. Parsed before EAL is initialised, so a broken
// file is refused before any port is touched. Errors have the form
// "FILE:LINE: FIELD: reason".
//
// Everything here is plain data: DPDK port ids and MACs are resolved later,
// once the ports are probed (see dataplane/ports.h).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "control/control_plane.h"
#include "dataplane/state/forwarding_state.h"
#include "lpm/prefix.h"

namespace edgefwd::dataplane {

using MacAddress = std::array<uint8_t, 6>;

inline constexpr uint32_t kMinMtu = 68;    // RFC 791: every IPv4 link carries 68 bytes
inline constexpr uint32_t kMaxMtu = 9600;  // what our mbufs are sized for at most
inline constexpr size_t kMaxNeighbors = 1024;
inline constexpr size_t kMaxLocalAddresses = 16;  // per family, whole router

struct PortConfig {
  std::string name;
  std::string device;                  // PCI address or vdev string
  std::optional<uint16_t> rx_queues;   // default: one per worker
  std::optional<uint16_t> tx_queues;   // default and minimum: one per worker
  uint32_t mtu = 1500;                 // L3 MTU
  std::vector<uint16_t> vlans;         // 802.1Q sub-interfaces accepted on rx
  std::vector<lpm::Ipv4Address> ipv4;  // the router's own addresses on this port
  std::vector<lpm::Ipv6Address> ipv6;
  std::optional<MacAddress> mac;  // overrides the NIC's MAC
  uint32_t line = 0;
};

struct NeighborConfig {
  std::string name;
  EgressClass egress_class = EgressClass::kTransit;
  std::string port;  // a PortConfig name
  uint16_t vlan = 0;
  std::optional<lpm::Ipv4Address> ipv4;
  std::optional<lpm::Ipv6Address> ipv6;
  MacAddress mac{};
  std::string file;  // where it was declared (config or an include)
  uint32_t line = 0;
};

struct RxQueueRef {
  std::string port;
  uint16_t queue = 0;
};

struct WorkerConfig {
  uint32_t lcore = 0;
  std::vector<RxQueueRef> rx;
  uint32_t line = 0;
};

struct Config {
  std::string path;  // the file it came from
  std::vector<PortConfig> ports;
  std::vector<NeighborConfig> neighbors;
  std::vector<control::GroupSpec> groups;
  std::vector<uint32_t> group_lines;     // parallel to groups, for errors
  std::vector<WorkerConfig> workers;     // empty: the default layout
  std::vector<std::string> route_files;  // resolved against the config's dir
  std::string control_socket = "/run/edgefwd.sock";
  std::array<EgressClass, kEgressClassCount> class_preference = {
      EgressClass::kCdn, EgressClass::kPeering, EgressClass::kTransit};

  const PortConfig* FindPort(std::string_view name) const;
};

// Parses `text` as if read from `path` (relative includes and route files
// resolve against path's directory).
absl::StatusOr<Config> ParseConfigText(std::string_view text, const std::string& path);
absl::StatusOr<Config> ReadConfigFile(const std::string& path);

// Parses "02:00:00:00:00:01".
std::optional<MacAddress> ParseMac(std::string_view text);
std::string FormatMac(const MacAddress& mac);

}  // namespace edgefwd::dataplane
