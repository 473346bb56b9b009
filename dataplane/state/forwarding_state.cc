#include "dataplane/state/forwarding_state.h"

#include <cstdio>
#include <cstdlib>

namespace edgefwd::dataplane {

const char* ToString(EgressClass c) {
  switch (c) {
    case EgressClass::kCdn:
      return "cdn";
    case EgressClass::kPeering:
      return "peering";
    case EgressClass::kTransit:
      return "transit";
  }
  return "?";
}
namespace {

// An id out of range is a bug in the caller (the control plane allocates ids
// from ranges it was given), not bad input: continuing would corrupt memory a
// worker reads, so stop loudly.
[[noreturn]] void DieOutOfRange(const char* what, uint32_t id, uint32_t limit) {
  std::fprintf(stderr, "ForwardingState: %s id %u out of range (limit %u)\n", what, id, limit);
  std::abort();
}

}  // namespace

ForwardingState::ForwardingState(lpm::QsbrDomain* qsbr, uint32_t max_paths)
    : qsbr_(qsbr),
      max_paths_(max_paths),
      paths_(std::make_unique<std::atomic<const PathMembers*>[]>(max_paths)),
      adjacencies_(std::make_unique<Adjacency[]>(kMaxAdjacencies)) {
  for (uint32_t i = 0; i < max_paths_; ++i) paths_[i].store(nullptr, std::memory_order_relaxed);
}

// Readers are gone by now (the daemon stops workers first), so the lists
// still published can be freed directly. Lists already handed to the
// QsbrDomain are its to free.
ForwardingState::~ForwardingState() {
  for (uint32_t i = 0; i < max_paths_; ++i) delete paths_[i].load(std::memory_order_relaxed);
}

void ForwardingState::SetAdjacency(AdjacencyId id, const Adjacency& adj) {
  if (id >= kMaxAdjacencies) DieOutOfRange("adjacency", id, kMaxAdjacencies);
  // Plain stores: a reader only reaches an adjacency through a path, and
  // SetPath publishes with a release store that orders these bytes before
  // the path pointer (same thread, program order). No fence needed here.
  adjacencies_[id] = adj;
}

void ForwardingState::SetPath(PathId id, const PathMembers& members) {
  if (id >= max_paths_) DieOutOfRange("path", id, max_paths_);
  auto* fresh = new PathMembers(members);
  if (fresh->count > kMaxPathMembers) fresh->count = kMaxPathMembers;
  const PathMembers* old = paths_[id].exchange(fresh, std::memory_order_acq_rel);
  if (old != nullptr) qsbr_->Retire([old] { delete old; });
}

void ForwardingState::ClearPath(PathId id) {
  if (id >= max_paths_) DieOutOfRange("path", id, max_paths_);
  const PathMembers* old = paths_[id].exchange(nullptr, std::memory_order_acq_rel);
  if (old != nullptr) qsbr_->Retire([old] { delete old; });
}

}  // namespace edgefwd::dataplane
