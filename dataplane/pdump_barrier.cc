#include "dataplane/pdump_barrier.h"

#include <dlfcn.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

namespace edgefwd::dataplane {

// PDUMP_MP in lib/pdump/rte_pdump.c: the name of rte_pdump's requests (and
// of the answers its handler sends with rte_mp_reply).
constexpr char kPdumpMessage[] = "mp_pdump";

namespace {

// Bounded, like the control thread's grace periods: a stalled worker must
// not hang the multi-process channel for good.
constexpr auto kMaxWait = std::chrono::seconds(1);

std::atomic<lpm::QsbrDomain*> barrier_workers{nullptr};

}  // namespace

// Called by the rte_mp_reply below (global namespace), hence not in the
// anonymous namespace; static keeps it in this file.
static void WaitForWorkers() {
  lpm::QsbrDomain* workers = barrier_workers.load(std::memory_order_acquire);
  if (workers == nullptr) return;
  // The callbacks were unlinked before this answer; a worker that reports a
  // quiescent state after the token has left every burst that could still
  // run them.
  const uint64_t token = workers->Advance();
  const auto deadline = std::chrono::steady_clock::now() + kMaxWait;
  while (!workers->Passed(token)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      std::fprintf(stderr,
                   "edgefwd: a worker has not passed a quiescent state within 1 s; answering "
                   "rte_pdump's request anyway (a capture stopping now may crash a worker)\n");
      return;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
}

void SetPdumpBarrier(lpm::QsbrDomain* workers) {
  barrier_workers.store(workers, std::memory_order_release);
}

}  // namespace edgefwd::dataplane

// Interposes EAL's rte_mp_reply for every caller in the process (the
// executable's definition comes first in symbol lookup): rte_pdump's handler
// is static in librte_pdump, so its answer is the only place to wait.
extern "C" __attribute__((visibility("default"))) int rte_mp_reply(struct rte_mp_msg* msg,
                                                                   const char* peer) {
  using Reply = int (*)(struct rte_mp_msg*, const char*);
  static const Reply eal_reply = reinterpret_cast<Reply>(dlsym(RTLD_NEXT, "rte_mp_reply"));
  if (eal_reply == nullptr) {
    rte_errno = ENOSYS;
    return -1;
  }
  if (std::strncmp(msg->name, edgefwd::dataplane::kPdumpMessage, sizeof(msg->name)) == 0)
    edgefwd::dataplane::WaitForWorkers();
  return eal_reply(msg, peer);
}
