// Sums the per-worker counters into one snapshot and renders it: text for
// humans (final counters, `edgectl stats`), JSON for tools and tests
// (--stats-json, `edgectl stats --json`), and DPDK telemetry dictionaries.
#pragma once

#include <rte_telemetry.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/counters.h"
#include "dataplane/ports.h"

namespace edgefwd::dataplane {

struct NeighborInfo {
  std::string name;
  EgressClass egress_class = EgressClass::kTransit;
  std::string port;
};

struct WorkerInfo {
  unsigned lcore = 0;
  const WorkerCounters* counters = nullptr;
};

struct StatsSnapshot {
  struct PortStats {
    std::string name;
    uint16_t id = 0;
    bool link_up = false;
    uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
    uint64_t nic_missed = 0, nic_rx_errors = 0, nic_tx_errors = 0;  // rte_eth_stats
  };
  struct ClassStats {
    uint64_t packets = 0, bytes = 0;
  };
  struct NeighborStats {
    std::string name;
    EgressClass egress_class;
    uint64_t packets = 0, bytes = 0;
  };
  struct WorkerStats {
    unsigned lcore = 0;
    uint64_t lookups = 0, busy_turns = 0, idle_turns = 0, packets = 0;
    uint64_t timed_packets = 0;  // received in the loop turns whose stages were timed
    std::array<uint64_t, WorkerCounters::kStageCount> stage_cycles{};
  };
  std::vector<PortStats> ports;
  std::array<uint64_t, kReasonCount> reasons{};
  std::array<ClassStats, kEgressClassCount> classes{};
  std::vector<NeighborStats> neighbors;
  std::vector<WorkerStats> workers;
  uint64_t punts_drained = 0;
  // Mempool accounting, filled by the daemon at start and stop.
  uint64_t mempool_size = 0, mempool_avail_at_start = 0, mempool_avail_at_stop = 0;
};

// Everything needed to take a snapshot; owned by the daemon, read by the
// control thread and the telemetry thread.
struct StatsSource {
  std::vector<const Port*> ports;
  std::vector<NeighborInfo> neighbors;
  std::vector<WorkerInfo> workers;
  const std::atomic<uint64_t>* punts_drained = nullptr;

  StatsSnapshot Take() const;
};

std::string ToJson(const StatsSnapshot& s);
std::string ToText(const StatsSnapshot& s);

// Registers /edgefwd/{ports,classes,neighbors,drops,workers}. `source` must
// outlive the process's telemetry thread (the daemon keeps it for life).
void RegisterTelemetry(const StatsSource* source);

}  // namespace edgefwd::dataplane
