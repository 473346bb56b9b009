// LookupBurst against Lookup for every burst length from 1 to 130 (so every
// path: the scalar walk for short bursts, the AVX-512 walk's partial and
// whole register groups, several 64-lane chunks) at several offsets, on a
// table whose IPv6 part has chains down to /128 (walks of up to 18 levels,
// past every refill of the vector walk's key bits). Lanes past the burst
// must stay untouched. LPM_SEED=<n> reproduces a run.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "lpm/test/families.h"
#include "lpm/test/reference_lpm.h"

namespace edgefwd::lpm::test {
namespace {

template <class F>
class Burst : public ::testing::Test {};
using Families = ::testing::Types<V4, V6>;
TYPED_TEST_SUITE(Burst, Families);

TYPED_TEST(Burst, EveryLengthMatchesSingleLookups) {
  using F = TypeParam;
  using Key = typename F::Key;
  using Address = typename F::Address;
  using Prefix = typename F::Prefix;
  const uint64_t seed = Seed();
  SCOPED_TRACE("LPM_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  QsbrDomain qsbr(1);
  auto table = F::Table::Create(TableConfig{}, &qsbr);
  ASSERT_NE(table, nullptr);

  std::vector<std::pair<Key, unsigned>> routes;
  auto add = [&](Key k, unsigned len) {
    Key m = ReferenceLpm<Key, F::W>::Mask(k, len);
    ASSERT_EQ(table->Insert(Prefix{F::AddrOf(m), static_cast<uint8_t>(len)},
                            static_cast<NextHop>(rng() % 1000)),
              LpmError::kOk);
    routes.emplace_back(m, len);
  };
  for (int i = 0; i < 3000; ++i) add(F::RandomKey(rng), F::RandomLen(rng));
  // Nested chains: each route a few bits longer than the last, down to W.
  for (int c = 0; c < 40; ++c) {
    Key k = F::RandomKey(rng);
    for (unsigned len = 16 + static_cast<unsigned>(rng() % 8); len <= F::W;
         len += 1 + static_cast<unsigned>(rng() % 9)) {
      add(k, len);
    }
    add(k, F::W);
  }

  // Addresses inside routes (deep ones included), at their edges, and random.
  std::vector<Address> addrs;
  for (int i = 0; i < 4000; ++i) {
    Key k;
    switch (rng() % 4) {
      case 0:
        k = F::RandomKey(rng);
        break;
      case 1:
        k = routes[rng() % routes.size()].first;
        break;
      case 2: {
        auto [base, len] = routes[rng() % routes.size()];
        Key host = len >= F::W ? Key{0} : ~Key{0} >> len;
        k = base | (host & F::RandomKey(rng));
        break;
      }
      default: {
        auto [base, len] = routes[rng() % routes.size()];
        Key host = len >= F::W ? Key{0} : ~Key{0} >> len;
        k = (base | host) + 1;  // just past the route
        break;
      }
    }
    addrs.push_back(F::AddrOf(k));
  }
  addrs.shrink_to_fit();  // a burst at the end reads up to the allocation's end (ASan)
  std::vector<NextHop> want(addrs.size());
  for (size_t i = 0; i < addrs.size(); ++i) want[i] = table->Lookup(addrs[i]);

  constexpr NextHop kUntouched = 0xDEADBEEF;
  std::vector<NextHop> out;
  for (size_t n = 1; n <= 130; ++n) {
    for (size_t off : {size_t{0}, size_t{1}, size_t{7}, size_t{131}, addrs.size() - n}) {
      out.assign(n + 8, kUntouched);
      table->LookupBurst(&addrs[off], out.data(), n);
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(out[i], want[off + i]) << "burst of " << n << " at " << off << ", lane " << i;
      }
      for (size_t i = n; i < n + 8; ++i) {
        ASSERT_EQ(out[i], kUntouched) << "burst of " << n << " wrote past its end";
      }
    }
  }
}

}  // namespace
}  // namespace edgefwd::lpm::test
