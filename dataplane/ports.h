// DPDK ports: probe by PCI address or vdev string, configure with whatever
// the device supports (RSS, Rx IPv4 checksum, fast mbuf free, link-state
// interrupts), start, stop, close. Works unchanged on real NICs, virtio and
// vdevs: a missing offload only moves work to software (the l3fwd
// --disable-rss / --relax-rx-offload choices, made automatically).
#pragma once

#include <rte_mempool.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dataplane/config/config.h"
#include "dataplane/counters.h"
#include "dataplane/pipeline/ethernet.h"

namespace edgefwd::dataplane {

struct Port {
  std::string name;  // from the config
  uint16_t id = 0;   // DPDK port id
  std::string driver;
  MacAddress mac{};
  std::optional<MacAddress> mac_override;  // from the config
  uint16_t rx_queues = 1;
  uint16_t tx_queues = 1;
  uint16_t rx_descriptors = 1024;
  uint16_t tx_descriptors = 1024;
  uint32_t mtu = 1500;
  bool rss = false;
  bool rx_checksum_offload = false;
  bool fast_free = false;
  bool lsc_interrupt = false;  // else the control thread polls link state
  // The device has no link of its own (a pcap file): it is up while we
  // have it started, whatever its ethdev link status says (see ports.cc).
  bool link_follows_start = false;
  bool started = false;
  bool link_up = false;
  VlanSet vlans;
  // Set by the LSC interrupt callback (interrupt thread), cleared by the
  // control thread.
  std::atomic<bool> link_event{false};
};

// Finds or hot-plugs the device of each configured port (no configuration
// yet). `workers` decides the default rx queue count and the tx queue count
// (one tx queue per worker, so workers never share a queue).
absl::StatusOr<std::vector<std::unique_ptr<Port>>> ProbePorts(const Config& cfg, uint16_t workers);

// The mbufs every port, worker and ring can hold at once, with headroom.
uint32_t MbufsNeeded(const std::vector<std::unique_ptr<Port>>& ports, uint16_t workers,
                     uint32_t punt_ring_size);
// Data room per mbuf for the largest port MTU (+ Ethernet, 802.1Q, CRC).
uint16_t MbufDataRoom(const Config& cfg);

// Configures queues and offloads, sets MAC and MTU, registers the LSC
// callback where the device supports it.
absl::Status ConfigurePort(Port& port, rte_mempool* pool);
absl::Status StartPort(Port& port);
void StopAndClosePort(Port& port);

// Reads the link state without waiting; true if it changed.
bool RefreshLink(Port& port);

std::string DescribePort(const Port& port);

}  // namespace edgefwd::dataplane
