// A forwarding worker: polls its rx queues on a dedicated lcore and runs each
// burst to completion (parse, check, look up, rewrite, transmit). Reads the
// FIB without locks and reports a quiescent state every loop turn.
#pragma once

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/counters.h"
#include "dataplane/pipeline/ethernet.h"
#include "dataplane/pipeline/ipv4_fast.h"
#include "dataplane/pipeline/local_addresses.h"
#include "dataplane/state/forwarding_state.h"
#include "lpm/ipv4_table.h"
#include "lpm/ipv6_table.h"
#include "lpm/qsbr.h"

namespace edgefwd::dataplane {

inline constexpr uint16_t kBurst = 32;
static_assert(kBurst <= Ipv4FastBurst::kMax);
// Stage cycles are measured in one loop turn in this many: rdtsc costs ~25
// cycles here, and timing every burst cost ~5 cycles per packet.
inline constexpr uint32_t kStageSampleEvery = 16;

// What every worker reads about a port; written before workers start.
struct PortEnv {
  bool configured = false;
  bool rx_checksum_offload = false;  // the NIC marks IPv4 header checksums
  uint32_t mtu = 0;                  // L3 MTU on egress
  VlanSet vlans;                     // VLANs accepted on ingress
};

// Shared, read-only while workers run (the FIB behind the pointers changes
// through its own lock-free protocol).
struct WorkerEnv {
  const lpm::Ipv4Table* v4 = nullptr;
  const lpm::Ipv6Table* v6 = nullptr;
  const ForwardingState* state = nullptr;
  lpm::QsbrDomain* qsbr = nullptr;
  LocalAddresses local;
  PortEnv ports[kMaxPorts];
  // ports[p].mtu, densely: the one port field read per forwarded packet
  // (PortEnv is 520 bytes apart, for its VLAN set). Filled by SetPort.
  uint32_t egress_mtu[kMaxPorts] = {};
  std::atomic<bool> stop{false};

  void SetPort(uint16_t id, const PortEnv& port) {
    ports[id] = port;
    egress_mtu[id] = port.mtu;
  }
};

struct RxQueueId {
  uint16_t port = 0;
  uint16_t queue = 0;
};

class Worker {
 public:
  // `counters` and `punt_ring` are owned by the daemon and outlive the
  // worker; `tx_queue` is this worker's own queue on every port.
  Worker(WorkerEnv* env, std::vector<RxQueueId> rx, uint16_t tx_queue, WorkerCounters* counters,
         rte_ring* punt_ring, lpm::QsbrDomain::ReaderId reader);

  // The lcore body; returns when env->stop is set, after draining tx.
  int Run();
  static int RunOnLcore(void* worker) { return static_cast<Worker*>(worker)->Run(); }

  // Runs one burst through the pipeline.
  void ProcessBurst(uint16_t in_port, rte_mbuf** pkts, uint16_t n);
  void FlushAll();

 private:
  struct TxBuffer {
    uint16_t count = 0;
    uint64_t bytes = 0;  // of pkts[0, count), for the port's tx counter
    rte_mbuf* pkts[kBurst];
  };
  struct Meta {
    uint16_t l3_offset;
    bool tagged;
  };

  void Dispose(rte_mbuf* m, Reason reason);
  // Steps 4-6 for the packets of one family, in receive order.
  template <bool kIpv4, bool kAllFast>
  void ForwardBurst(rte_mbuf** pkts, const Meta* meta, const uint8_t* index, const lpm::NextHop* nh,
                    uint16_t n);
  template <bool kIpv4>
  [[gnu::always_inline]] static inline const Adjacency* Resolve(const ForwardingState& state,
                                                                const rte_mbuf* m, const Meta& meta,
                                                                lpm::NextHop nh);
  void Flush(uint16_t port);
  // Steps 1-2 for one packet the fast path did not take: the full parse and
  // checks, which name the outcome. Returns the family to look it up in, or
  // disposes of the packet and returns kDisposed.
  enum class Slow : uint8_t { kIpv4, kIpv6, kDisposed };
  Slow ParseAndCheck(rte_mbuf* m, const PortEnv& in, Meta* meta);

  WorkerEnv* env_;
  std::vector<RxQueueId> rx_;
  uint16_t tx_queue_;
  WorkerCounters* counters_;
  rte_ring* punt_ring_;
  lpm::QsbrDomain::ReaderId reader_;
  bool timed_ = false;  // this loop turn's stages are timed
  TxBuffer tx_[kMaxPorts];
  Ipv4FastBurst fast_burst_;  // scratch of ProcessBurst
};

}  // namespace edgefwd::dataplane
