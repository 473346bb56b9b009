// Randomised equivalence: hundreds of thousands of inserts, removes,
// next-hop changes, batches and lookups against ReferenceLpm. The seed is
// printed; LPM_SEED=<n> reproduces a run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "lpm/test/families.h"
#include "lpm/test/reference_lpm.h"

namespace edgefwd::lpm::test {
namespace {

template <class F>
class RandomEquivalence : public ::testing::Test {};
using Families = ::testing::Types<V4, V6>;
TYPED_TEST_SUITE(RandomEquivalence, Families);

template <class F>
struct Harness {
  using Key = typename F::Key;
  using Ref = ReferenceLpm<Key, F::W>;

  explicit Harness(uint64_t seed) : rng(seed) { table = F::Table::Create(TableConfig{}, &qsbr); }

  typename F::Prefix RandomPrefix() {
    // Half the time nest under or beside something installed.
    unsigned len = F::RandomLen(rng);
    Key k = F::RandomKey(rng);
    if (!installed.empty() && rng() % 2 == 0) {
      auto [base, blen] = installed[rng() % installed.size()];
      len = std::min<unsigned>(F::W, blen + static_cast<unsigned>(rng() % 9));
      Key low = F::RandomKey(rng);
      k = blen == 0 ? low : (base | (low & ~(~Key{0} << (F::W - blen))));
      if (rng() % 8 == 0 && blen > 0) len = blen - 1;
    }
    Key m = Ref::Mask(k, len);
    return typename F::Prefix{F::AddrOf(m), static_cast<uint8_t>(len)};
  }

  void Check(Key k) {
    NextHop got = table->Lookup(F::AddrOf(k));
    ASSERT_EQ(got, ref.Lookup(k)) << "lookup of " << FormatAddr(k);
  }
  static std::string FormatAddr(Key k) {
    if constexpr (F::W == 32) {
      return FormatIpv4(k);
    } else {
      return FormatIpv6(F::AddrOf(k));
    }
  }
  // Probes the prefix's edges, its inside and just outside it.
  void CheckAround(Key base, unsigned len) {
    Key span = len == 0 ? ~Key{0} : ~(~Key{0} << (F::W - len));
    Key probes[] = {base,
                    base + span,
                    base - 1,
                    base + span + 1,
                    base + (static_cast<Key>(rng()) & span),
                    F::RandomKey(rng)};
    for (Key p : probes) Check(p);
  }
  void CheckBurst(size_t n) {
    std::vector<typename F::Address> addrs(n);
    std::vector<NextHop> out(n);
    for (auto& a : addrs) {
      Key k = installed.empty() || rng() % 3 == 0 ? F::RandomKey(rng)
                                                  : installed[rng() % installed.size()].first;
      a = F::AddrOf(k + (rng() % 3 == 0 ? static_cast<Key>(rng() % 300) : 0));
    }
    table->LookupBurst(addrs.data(), out.data(), n);
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(out[i], ref.Lookup(F::KeyOf(addrs[i]))) << "burst lookup " << i;
    }
  }
  void Track(Key k, unsigned len, bool add) {
    auto it = std::find(installed.begin(), installed.end(), std::pair{k, len});
    if (add && it == installed.end()) installed.emplace_back(k, len);
    if (!add && it != installed.end()) {
      *it = installed.back();
      installed.pop_back();
    }
  }

  std::mt19937_64 rng;
  QsbrDomain qsbr{2};
  std::unique_ptr<typename F::Table> table;
  Ref ref;
  std::vector<std::pair<Key, unsigned>> installed;
};

TYPED_TEST(RandomEquivalence, MixedOperations) {
  using F = TypeParam;
  using Key = typename F::Key;
  uint64_t seed = Seed();
  std::printf("seed %llu (LPM_SEED=%llu reproduces)\n", static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(seed));
  SCOPED_TRACE(::testing::Message() << "LPM_SEED=" << seed);
  Harness<F> h(seed);
  ASSERT_NE(h.table, nullptr);
  constexpr int kOps = F::W == 32 ? 200000 : 120000;
  for (int op = 0; op < kOps; ++op) {
    uint64_t r = h.rng() % 100;
    auto p = h.RandomPrefix();
    Key k = F::KeyOf(p.addr);
    if (r < 55 || h.installed.empty()) {
      NextHop nh = static_cast<NextHop>(h.rng() % 8 == 0 ? h.rng() & kMaxNextHop : h.rng() % 5);
      ASSERT_EQ(h.table->Insert(p, nh), LpmError::kOk);
      h.ref.Set(k, p.len, nh);
      h.Track(k, p.len, true);
    } else if (r < 85) {
      bool absent = h.rng() % 10 == 0;
      if (!absent) {
        auto [ik, il] = h.installed[h.rng() % h.installed.size()];
        k = ik;
        p = typename F::Prefix{F::AddrOf(ik), static_cast<uint8_t>(il)};
      }
      bool present = h.ref.Get(k, p.len).has_value();
      ASSERT_EQ(h.table->Remove(p), present ? LpmError::kOk : LpmError::kNotFound);
      h.ref.Erase(k, p.len);
      h.Track(k, p.len, false);
    } else if (r < 97) {
      auto [ik, il] = h.installed[h.rng() % h.installed.size()];
      k = ik;
      p = typename F::Prefix{F::AddrOf(ik), static_cast<uint8_t>(il)};
      NextHop nh = static_cast<NextHop>(h.rng() % 7);
      ASSERT_EQ(h.table->Insert(p, nh), LpmError::kOk);
      h.ref.Set(k, p.len, nh);
    } else {
      // A small batch, sometimes with a bad change at the end (must be a no-op).
      std::vector<typename F::Change> batch;
      int n = 1 + static_cast<int>(h.rng() % 20);
      for (int i = 0; i < n; ++i) {
        auto q = h.RandomPrefix();
        batch.push_back({F::Change::Op::kUpsert, q, static_cast<NextHop>(h.rng() % 6)});
      }
      bool poison = h.rng() % 3 == 0;
      if (poison) {
        typename F::Prefix bad{F::AddrOf(Key{1}), static_cast<uint8_t>(F::W)};
        if (!h.ref.Get(Key{1}, F::W))
          batch.push_back({F::Change::Op::kRemove, bad, 0});
        else
          poison = false;
      }
      LpmError err = h.table->Apply(batch);
      if (poison) {
        ASSERT_EQ(err, LpmError::kNotFound);
      } else {
        ASSERT_EQ(err, LpmError::kOk);
        for (const auto& c : batch) {
          Key ck = F::KeyOf(c.prefix.addr);
          h.ref.Set(ck, c.prefix.len, c.next_hop);
          h.Track(ck, c.prefix.len, true);
        }
      }
    }
    ASSERT_NO_FATAL_FAILURE(h.CheckAround(k, p.len));
    if (op % 2000 == 0) {
      ASSERT_NO_FATAL_FAILURE(h.CheckBurst(256));
      ASSERT_EQ(h.table->route_count(), h.ref.size());
      h.qsbr.Synchronize();
    }
  }
  // Full comparison at the end: iteration order and every route's edges.
  std::vector<std::pair<Key, unsigned>> seen;
  h.table->ForEach([&](typename F::Prefix p, NextHop nh) {
    seen.emplace_back(F::KeyOf(p.addr), p.len);
    EXPECT_EQ(h.ref.Get(F::KeyOf(p.addr), p.len), std::optional<uint32_t>(nh));
  });
  auto sorted = h.ref.Sorted();
  ASSERT_EQ(seen.size(), sorted.size());
  size_t i = 0;
  for (const auto& [kl, nh] : sorted) {
    ASSERT_EQ(seen[i], kl);
    ++i;
    ASSERT_NO_FATAL_FAILURE(h.CheckAround(kl.first, kl.second));
  }
  std::printf("routes %zu, memory %zu bytes\n", h.table->route_count(), h.table->memory_bytes());
}

// Batches big enough to take the rebuild path, mixed with single changes.
TYPED_TEST(RandomEquivalence, LargeBatchesRebuild) {
  using F = TypeParam;
  using Key = typename F::Key;
  uint64_t seed = Seed();
  SCOPED_TRACE(::testing::Message() << "LPM_SEED=" << seed);
  Harness<F> h(seed);
  for (int round = 0; round < 4; ++round) {
    std::vector<typename F::Change> batch;
    for (int i = 0; i < 6000; ++i) {
      auto p = h.RandomPrefix();
      Key k = F::KeyOf(p.addr);
      if (h.ref.Get(k, p.len) && h.rng() % 3 == 0) {
        batch.push_back({F::Change::Op::kRemove, p, 0});
        h.ref.Erase(k, p.len);
        h.Track(k, p.len, false);
      } else {
        NextHop nh = static_cast<NextHop>(h.rng() % 9);
        batch.push_back({F::Change::Op::kUpsert, p, nh});
        h.ref.Set(k, p.len, nh);
        h.Track(k, p.len, true);
      }
    }
    ASSERT_EQ(h.table->Apply(batch), LpmError::kOk);
    ASSERT_EQ(h.table->route_count(), h.ref.size());
    for (int i = 0; i < 3000; ++i) {
      auto p = h.RandomPrefix();
      ASSERT_NO_FATAL_FAILURE(h.CheckAround(F::KeyOf(p.addr), p.len));
    }
    ASSERT_NO_FATAL_FAILURE(h.CheckBurst(1000));
    for (int i = 0; i < 3000 && !h.installed.empty(); ++i) {
      auto [k, l] = h.installed[h.rng() % h.installed.size()];
      ASSERT_EQ(h.table->Remove(typename F::Prefix{F::AddrOf(k), static_cast<uint8_t>(l)}),
                LpmError::kOk);
      h.ref.Erase(k, l);
      h.Track(k, l, false);
      ASSERT_NO_FATAL_FAILURE(h.CheckAround(k, l));
    }
  }
}

}  // namespace
}  // namespace edgefwd::lpm::test
