// Per-worker counters: one writer (the worker), read by the control and
// telemetry threads, summed over workers on read. Each worker's block is
// cache-line aligned so workers never share a line. An increment is a plain
// add (no atomic read-modify-write, no compiler barrier, so the compiler
// keeps the worker's loop state in registers); with one writer nothing is
// lost. Readers load with __atomic_load_n: an aligned 64-bit store is never
// torn on the 64-bit targets DPDK supports, so a reader sees the value
// before or after an increment (the same contract as DPDK's own stats).
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
  void Add(uint64_t n) { v_ += n; }  // the owning worker only
  uint64_t Read() const { return __atomic_load_n(&v_, __ATOMIC_RELAXED); }

 private:
  alignas(8) uint64_t v_ = 0;
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
  // TSC cycles spent per pipeline stage in a sample of the worker's loop
  // turns (one in kStageSampleEvery, worker.h), and the packets received in
  // those turns: stage_cycles / timed_packets is cycles per packet per
  // stage, for benchmarks and capacity planning.
  enum Stage { kRx, kCheck, kLookup, kForward, kTx, kStageCount };
  Counter stage_cycles[kStageCount];
  Counter timed_packets;
  Counter packets;     // received by this worker
  Counter lookups;     // addresses looked up in the LPM tables
  Counter busy_turns;  // loop turns that received at least one packet
  Counter idle_turns;
};

inline constexpr const char* kStageNames[WorkerCounters::kStageCount] = {"rx", "check", "lookup",
                                                                         "forward", "tx"};

}  // namespace edgefwd::dataplane
