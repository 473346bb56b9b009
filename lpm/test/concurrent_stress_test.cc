// A writer churns routes around a set of probe addresses while reader
// threads look the probes up and check every answer is one the probe legally
// had at some version during the lookup's window — never a transient third
// answer. Run under ThreadSanitizer by scripts/test.
//
// Versions: the writer records each probe's answer history (version, next
// hop) BEFORE applying a change (publishing `pending`), then applies it and
// publishes `done`. A reader reads done=b, looks up, reads pending=p: every
// table state it could have seen is a version in [b, p].
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "lpm/test/families.h"
#include "lpm/test/reference_lpm.h"

namespace edgefwd::lpm::test {
namespace {

int EnvInt(const char* name, int fallback) {
  const char* s = std::getenv(name);
  return s ? std::atoi(s) : fallback;
}

template <class F>
class ConcurrentStress : public ::testing::Test {};
using Families = ::testing::Types<V4, V6>;
TYPED_TEST_SUITE(ConcurrentStress, Families);

TYPED_TEST(ConcurrentStress, ReadersSeeOnlyOldOrNewAnswers) {
  using F = TypeParam;
  using Key = typename F::Key;
  using Ref = ReferenceLpm<Key, F::W>;
  constexpr size_t kProbes = 64;
  const int changes = EnvInt("LPM_STRESS_CHANGES", F::W == 32 ? 20000 : 10000);
  const uint64_t seed = static_cast<uint64_t>(EnvInt("LPM_SEED", 12345));
  // Bounded by time too, so a slow (sanitized, shared) machine still ends soon.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(EnvInt("LPM_STRESS_SECONDS", 12));
  SCOPED_TRACE(::testing::Message() << "LPM_SEED=" << seed);
  std::mt19937_64 rng(seed);

  QsbrDomain qsbr(4);
  auto table = F::Table::Create(TableConfig{}, &qsbr);
  ASSERT_NE(table, nullptr);
  Ref ref;

  // Probes cluster in a few regions so changes hit them often; a background
  // of covering routes makes removals fall back to something.
  std::vector<Key> probes(kProbes);
  for (size_t i = 0; i < kProbes; ++i) {
    Key base = F::RandomKey(rng);
    probes[i] = i % 4 == 0 ? base : probes[i - i % 4] ^ static_cast<Key>(rng() & 0xFFF);
  }
  const size_t hist_cap = static_cast<size_t>(changes) + 2;
  // history[p * hist_cap + n] = version << 32 | next hop, n < count[p].
  std::vector<std::atomic<uint64_t>> history(kProbes * hist_cap);
  std::vector<std::atomic<uint32_t>> count(kProbes);
  for (size_t p = 0; p < kProbes; ++p) {
    history[p * hist_cap].store(uint64_t{kNoRoute}, std::memory_order_relaxed);  // version 0
    count[p].store(1, std::memory_order_relaxed);
  }
  std::atomic<uint64_t> done{0}, pending{0};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> checked{0};

  auto reader = [&](QsbrDomain::ReaderId rid) {
    std::vector<typename F::Address> addrs(kProbes);
    for (size_t i = 0; i < kProbes; ++i) addrs[i] = F::AddrOf(probes[i]);
    std::vector<NextHop> out(kProbes);
    uint64_t n = 0;
    while (!stop.load(std::memory_order_acquire)) {
      uint64_t b = done.load(std::memory_order_acquire);
      bool burst = (n & 1) != 0;
      if (burst && (n & 2)) {
        table->LookupBurst(addrs.data(), out.data(), kProbes);
      } else if (burst) {  // short bursts: IPv6's pipelined scalar walk (long ones: AVX-512)
        for (size_t i = 0; i < kProbes; i += 8) table->LookupBurst(&addrs[i], &out[i], 8);
      } else {
        for (size_t i = 0; i < kProbes; ++i) out[i] = table->Lookup(addrs[i]);
      }
      uint64_t p = pending.load(std::memory_order_acquire);
      qsbr.Quiescent(rid);
      for (size_t i = 0; i < kProbes; ++i) {
        uint32_t cnt = count[i].load(std::memory_order_acquire);
        bool legal = false;
        uint32_t at_b = kNoRoute;
        // Newest first: skip versions after p, accept any in (b, p], stop at
        // the answer in force at b.
        for (uint32_t h = cnt; h-- > 0;) {
          uint64_t e = history[i * hist_cap + h].load(std::memory_order_relaxed);
          uint64_t v = e >> 32;
          if (v > p) continue;
          if (v > b) {
            legal |= static_cast<uint32_t>(e) == out[i];
            continue;
          }
          at_b = static_cast<uint32_t>(e);
          break;
        }
        if (at_b == out[i]) legal = true;
        if (!legal) {
          ADD_FAILURE() << "probe " << i << " got " << out[i] << " outside versions [" << b << ", "
                        << p << "]";
          stop.store(true);
          return;
        }
      }
      ++n;
      // Leave the writer room on small machines; the check still overlaps
      // every change with many lookups.
      if (n % 16 == 0) std::this_thread::yield();
    }
    checked.fetch_add(n * kProbes);
    qsbr.Offline(rid);
  };

  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i) {
    auto rid = qsbr.RegisterReader();
    readers.emplace_back(reader, rid);
  }

  // Writer.
  std::vector<uint32_t> last(kProbes, kNoRoute);
  uint64_t version = 0;
  Key changed = 0;
  unsigned changed_len = 0;
  auto record = [&](uint64_t v) {
    for (size_t i = 0; i < kProbes; ++i) {
      if (Ref::Mask(probes[i], changed_len) != changed) continue;  // outside the change
      uint32_t now = ref.Lookup(probes[i]);
      if (now == last[i]) continue;
      last[i] = now;
      uint32_t c = count[i].load(std::memory_order_relaxed);
      history[i * hist_cap + c].store(v << 32 | now, std::memory_order_relaxed);
      count[i].store(c + 1, std::memory_order_release);
    }
  };
  int c = 0;
  for (; c < changes && !stop.load(); ++c) {
    if (c % 256 == 0 && std::chrono::steady_clock::now() > deadline) break;
    Key probe = probes[rng() % kProbes];
    unsigned len = F::W == 32 ? 8 + static_cast<unsigned>(rng() % 25)
                              : 16 + static_cast<unsigned>(rng() % 113);
    if (rng() % 16 == 0) len = static_cast<unsigned>(rng() % 8);
    Key k = Ref::Mask(probe ^ static_cast<Key>(rng() % 4 == 0 ? rng() & 0xFF : 0), len);
    typename F::Prefix prefix{F::AddrOf(k), static_cast<uint8_t>(len)};
    bool present = ref.Get(k, len).has_value();
    bool remove = present && rng() % 3 == 0;
    NextHop nh = static_cast<NextHop>(rng() % 4);
    ++version;
    if (remove) {
      ref.Erase(k, len);
    } else {
      ref.Set(k, len, nh);
    }
    changed = k;
    changed_len = len;
    record(version);
    pending.store(version, std::memory_order_release);
    LpmError err = remove ? table->Remove(prefix) : table->Insert(prefix, nh);
    ASSERT_EQ(err, LpmError::kOk);
    done.store(version, std::memory_order_release);
    if (c % 64 == 0) qsbr.Reclaim();
  }
  stop.store(true, std::memory_order_release);
  for (auto& t : readers) t.join();
  qsbr.Synchronize();
  EXPECT_GT(checked.load(), 0u);
  EXPECT_GE(c, 256) << "writer made too few changes to mean anything";
  std::printf("%d changes, %llu answers checked\n", c,
              static_cast<unsigned long long>(checked.load()));
  for (size_t i = 0; i < kProbes; ++i) {
    EXPECT_EQ(table->Lookup(F::AddrOf(probes[i])), ref.Lookup(probes[i]));
  }
}

}  // namespace
}  // namespace edgefwd::lpm::test
