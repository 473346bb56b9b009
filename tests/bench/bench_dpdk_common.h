// Small DPDK helpers for the LPM benchmark.
#pragma once

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include <atomic>
#include <string>

namespace edgefwd::bench {

// Bytes currently allocated from DPDK's heap on this socket: memzones
// (mempools) come from the heap too, so a difference around create + load is
// everything a structure holds.
inline size_t DpdkHeapBytes() {
  rte_malloc_socket_stats stats{};
  int socket = static_cast<int>(rte_socket_id());
  if (socket < 0) socket = 0;
  if (rte_malloc_get_socket_stats(socket, &stats) != 0) return 0;
  return stats.heap_allocsz_bytes;
}

// DPDK objects live in a global namespace; every instance gets a fresh name.
inline std::string UniqueName(const char* stem) {
  static std::atomic<int> counter{0};
  return std::string(stem) + std::to_string(counter.fetch_add(1));
}

inline std::string ErrnoText() {
  return std::string(rte_strerror(rte_errno));
}

}  // namespace edgefwd::bench
