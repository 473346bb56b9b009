// Per-worker counters: one writer (the worker), read by the control and
// telemetry threads, summed over workers on read. Each worker's block is
// cache-line aligned so workers never share a line; an increment is a
// relaxed load and store (a plain add on x86), never an atomic
// read-modify-write: with one writer nothing is lost.
#pragma once

#include <atomic>
#include <cstdint>

#include "dataplane/config/config.h"
#include "dataplane/pipeline/reason.h"
#include "dataplane/state/forwarding_state.h"

namespace edgefwd::dataplane {

inline constexpr uint32_t kMaxPorts = 32;  // >= the ports edgefwd configures

class Counter {
 public:
  void Add(uint64_t n) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t Read() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

struct PacketsBytes {
  Counter packets;
  Counter bytes;
  void Add(uint64_t b) {
    packets.Add(1);
    bytes.Add(b);
  }
};

struct PortCounters {
  PacketsBytes rx;
  PacketsBytes tx;
};

struct alignas(64) WorkerCounters {
  PortCounters ports[kMaxPorts];
  Counter reasons[kReasonCount];
  PacketsBytes classes[kEgressClassCount];
  PacketsBytes neighbors[kMaxNeighbors];
  // TSC cycles spent per pipeline stage, measured per burst (a few rdtsc per
  // 32 packets), and the packets they were spent on: cycles per packet per
  // stage for benchmarks and capacity planning.
  enum Stage { kRx, kCheck, kLookup, kForward, kTx, kStageCount };
  Counter stage_cycles[kStageCount];
  Counter packets;     // received by this worker
  Counter lookups;     // addresses looked up in the LPM tables
  Counter busy_turns;  // loop turns that received at least one packet
  Counter idle_turns;
};

inline constexpr const char* kStageNames[WorkerCounters::kStageCount] = {"rx", "check", "lookup",
                                                                         "forward", "tx"};

}  // namespace edgefwd::dataplane
