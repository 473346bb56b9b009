#include "lpm/qsbr.h"

#include <thread>

namespace edgefwd::lpm {

QsbrDomain::QsbrDomain(uint32_t max_readers)
    : slots_(std::make_unique<Slot[]>(max_readers)), max_readers_(max_readers) {}

QsbrDomain::~QsbrDomain() {
  for (size_t i = retired_head_; i < retired_.size(); ++i) retired_[i].free_fn();
}

QsbrDomain::ReaderId QsbrDomain::RegisterReader() {
  for (uint32_t i = 0; i < max_readers_; ++i) {
    if (!slots_[i].registered) {
      slots_[i].registered = true;
      // Online from the start: the reader may read as soon as it is handed
      // its id, so it must hold back reclamation from now on.
      slots_[i].seen.store(epoch_.load(std::memory_order_acquire), std::memory_order_seq_cst);
      return i;
    }
  }
  return ~ReaderId{0};  // no free slot: caller configured too few readers
}

void QsbrDomain::UnregisterReader(ReaderId id) {
  if (id >= max_readers_) return;
  slots_[id].seen.store(kOffline, std::memory_order_release);
  slots_[id].registered = false;
}

uint64_t QsbrDomain::OldestSeen() const {
  uint64_t oldest = kOffline;
  for (uint32_t i = 0; i < max_readers_; ++i) {
    uint64_t seen = slots_[i].seen.load(std::memory_order_acquire);
    if (seen < oldest) oldest = seen;
  }
  return oldest;
}

void QsbrDomain::Retire(std::function<void()> free_fn) {
  retired_.push_back(Retired{Advance(), std::move(free_fn)});
}

size_t QsbrDomain::Reclaim() {
  if (retired_head_ == retired_.size()) return 0;
  uint64_t oldest = OldestSeen();
  size_t freed = 0;
  while (retired_head_ < retired_.size() && retired_[retired_head_].epoch <= oldest) {
    retired_[retired_head_].free_fn();
    retired_[retired_head_].free_fn = nullptr;
    ++retired_head_;
    ++freed;
  }
  // Compact once the freed head dominates, so the vector stays small
  // without erasing from the front on every call.
  if (retired_head_ == retired_.size()) {
    retired_.clear();
    retired_head_ = 0;
  } else if (retired_head_ > 64 && retired_head_ * 2 > retired_.size()) {
    retired_.erase(retired_.begin(), retired_.begin() + static_cast<ptrdiff_t>(retired_head_));
    retired_head_ = 0;
  }
  return freed;
}

void QsbrDomain::Synchronize() {
  uint64_t target = Advance();
  while (OldestSeen() < target) std::this_thread::yield();
  Reclaim();
}

}  // namespace edgefwd::lpm
