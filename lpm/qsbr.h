// Quiescent-state-based reclamation (QSBR) for the lock-free tables.
//
// One writer (the control thread) replaces parts of a table and retires the
// old memory; many readers (workers) look up without locks. A reader reports
// a quiescent state between bursts ("I hold no pointer into any table").
// Memory retired at epoch E may be freed once every online reader has
// reported a quiescent state at an epoch >= E.
//
// Reader cost per report: one acquire load and one release store to the
// reader's own cache line; no atomic read-modify-write, no shared writes.
// The library does not need DPDK's EAL (its unit tests run without
// hugepages); this is the same protocol as rte_rcu_qsbr.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace edgefwd::lpm {

class QsbrDomain {
 public:
  using ReaderId = uint32_t;

  explicit QsbrDomain(uint32_t max_readers);
  QsbrDomain(const QsbrDomain&) = delete;
  QsbrDomain& operator=(const QsbrDomain&) = delete;
  ~QsbrDomain();  // frees everything still retired: readers must be gone

  // --- Control side: register a reader before its thread starts reading.
  ReaderId RegisterReader();
  void UnregisterReader(ReaderId id);

  // --- Reader side (fast path).
  // Call between bursts, when the reader holds no pointer into a table.
  void Quiescent(ReaderId id) {
    slots_[id].seen.store(epoch_.load(std::memory_order_acquire), std::memory_order_release);
  }
  // An idle reader that stops polling goes offline so it never holds up
  // reclamation; Online() must be called before its next lookup.
  void Offline(ReaderId id) { slots_[id].seen.store(kOffline, std::memory_order_release); }
  void Online(ReaderId id) { Quiescent(id); }

  // --- Writer side (one thread).
  // Hands memory to the domain: `free_fn` runs once every reader that could
  // have seen it has passed a quiescent state. Never blocks.
  void Retire(std::function<void()> free_fn);
  // Frees what is safe to free now; returns how many retired items were
  // freed. Never blocks readers, never waits.
  size_t Reclaim();
  // Waits until every reader has passed a quiescent state, then frees all
  // retired memory. For shutdown and tests; the control thread uses Reclaim.
  void Synchronize();
  size_t pending() const { return retired_.size() - retired_head_; }

  // --- Writer side, for owners that keep their own list of retired memory
  // (the tables recycle node runs into their pools without a std::function
  // per run). Call after unlinking: returns a token; memory unlinked before
  // the call may be reused once Passed(token) is true. Also safe from a
  // second thread (edgefwd's rte_pdump barrier): one read-modify-write, so
  // two callers never get the same token.
  uint64_t Advance() { return epoch_.fetch_add(1, std::memory_order_seq_cst) + 1; }
  bool Passed(uint64_t token) const { return OldestSeen() >= token; }
  // The token for memory unlinked before the call, without advancing the
  // epoch (a writer changing routes a million times a second would
  // otherwise pull the epoch's cache line from every reader each time): the
  // memory becomes reusable once some later Advance() has passed it and
  // readers reported quiescent states after that; see AdvancePast(). The
  // fence keeps the epoch load after the unlinking stores (ThreadSanitizer
  // does not model fences: there, a read-modify-write gives the same order).
  uint64_t NextToken() {
#if defined(__SANITIZE_THREAD__)
    return epoch_.fetch_add(0, std::memory_order_seq_cst) + 1;
#else
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return epoch_.load(std::memory_order_relaxed) + 1;
#endif
  }
  // Advances the epoch if `token` is still ahead of it.
  void AdvancePast(uint64_t token) {
    if (epoch_.load(std::memory_order_relaxed) < token) Advance();
  }

 private:
  static constexpr uint64_t kOffline = ~uint64_t{0};
  struct alignas(64) Slot {
    std::atomic<uint64_t> seen{kOffline};
    bool registered = false;
  };
  struct Retired {
    uint64_t epoch;
    std::function<void()> free_fn;
  };

 public:
  // Smallest epoch any online reader has reported (kOffline if none).
  uint64_t OldestSeen() const;

 private:
  alignas(64) std::atomic<uint64_t> epoch_{1};
  std::unique_ptr<Slot[]> slots_;
  uint32_t max_readers_;
  std::vector<Retired> retired_;  // writer-only, in epoch order
  size_t retired_head_ = 0;       // retired_[0, head) already freed
};

}  // namespace edgefwd::lpm
