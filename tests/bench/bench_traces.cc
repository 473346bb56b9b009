#include "tests/bench/bench_traces.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace edgefwd::bench {
namespace {

using u128 = unsigned __int128;

u128 ToU128(const lpm::Ipv6Address& a) {
  u128 v = 0;
  for (uint8_t b : a) v = (v << 8) | b;
  return v;
}
lpm::Ipv6Address FromU128(u128 v) {
  lpm::Ipv6Address a;
  for (int i = 15; i >= 0; --i) {
    a[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
  return a;
}
u128 Random128(std::mt19937_64& rng) {
  return (u128{rng()} << 64) | rng();
}

// Host part mask of a prefix length in a W-bit address (W = 32 or 128).
template <typename U, int W>
U HostMask(int len) {
  return len == 0 ? ~U{0} : (len >= W ? U{0} : (~U{0} >> len));
}

// Family-neutral view: every prefix as [base, base + hostmask].
template <typename U>
struct Span {
  U base;
  U host_mask;
};

// Rank sampler for a Zipf law with s = 1 over n items: inverse transform of
// the continuous density 1/x on [1, n+1), so P(rank = k) ~ ln(1 + 1/k) /
// ln(n + 1) ~ 1/(k ln n). O(1) per sample, unlike a CDF search.
size_t ZipfRank(size_t n, std::mt19937_64& rng) {
  double u = std::uniform_real_distribution<double>(0, 1)(rng);
  size_t k = static_cast<size_t>(std::exp(u * std::log(static_cast<double>(n) + 1.0)));
  return std::clamp<size_t>(k, 1, n) - 1;
}

template <typename U>
std::vector<U> Generate(std::vector<Span<U>> spans, TraceKind kind, size_t count, uint64_t seed,
                        U (*random_u)(std::mt19937_64&)) {
  std::mt19937_64 rng(seed);
  count = (count + 63) / 64 * 64;
  std::vector<U> out(count);
  if (spans.empty()) {
    for (auto& a : out) a = random_u(rng);
    return out;
  }
  switch (kind) {
    case TraceKind::kUniformPrefix:
      for (auto& a : out) {
        const Span<U>& s = spans[rng() % spans.size()];
        a = s.base | (random_u(rng) & s.host_mask);
      }
      break;
    case TraceKind::kZipf: {
      // Popularity ranks go to prefixes in a seeded random order, so the hot
      // prefixes are scattered over the address space.
      std::shuffle(spans.begin(), spans.end(), rng);
      for (auto& a : out) {
        const Span<U>& s = spans[ZipfRank(spans.size(), rng)];
        a = s.base | (random_u(rng) & s.host_mask);
      }
      break;
    }
    case TraceKind::kUniformRouted: {
      // Merge the prefixes into disjoint covered intervals, then draw an
      // offset uniformly over their total size.
      std::sort(spans.begin(), spans.end(),
                [](const Span<U>& a, const Span<U>& b) { return a.base < b.base; });
      std::vector<U> starts, ends;  // inclusive ends
      for (const auto& s : spans) {
        U end = s.base | s.host_mask;
        if (!starts.empty() && s.base <= ends.back() + 1 && ends.back() != ~U{0}) {
          ends.back() = std::max(ends.back(), end);
        } else if (!starts.empty() && ends.back() == ~U{0}) {
          // already covers to the top of the space
        } else {
          starts.push_back(s.base);
          ends.push_back(end);
        }
      }
      // cum[i] = covered size before interval i; sizes fit U unless the
      // non-default routes cover the whole space (two /1s), handled by wrap.
      std::vector<U> cum(starts.size() + 1, 0);
      for (size_t i = 0; i < starts.size(); ++i) cum[i + 1] = cum[i] + (ends[i] - starts[i] + 1);
      U total = cum.back();
      for (auto& a : out) {
        U r = random_u(rng);
        U off = total == 0 ? r : r % total;
        size_t i = std::upper_bound(cum.begin() + 1, cum.end(), off) - cum.begin() - 1;
        a = starts[i] + (off - cum[i]);
      }
      break;
    }
  }
  return out;
}

uint32_t Random32(std::mt19937_64& rng) {
  return static_cast<uint32_t>(rng());
}

}  // namespace

const char* TraceName(TraceKind kind) {
  switch (kind) {
    case TraceKind::kUniformRouted:
      return "uniform-routed";
    case TraceKind::kUniformPrefix:
      return "uniform-prefix";
    case TraceKind::kZipf:
      return "zipf";
  }
  return "?";
}

std::vector<lpm::Ipv4Address> MakeTrace4(const std::vector<Route4>& routes, TraceKind kind,
                                         size_t count, uint64_t seed) {
  std::vector<Span<uint32_t>> spans;
  for (const auto& r : routes) {
    if (r.prefix.len > 0) spans.push_back({r.prefix.addr, HostMask<uint32_t, 32>(r.prefix.len)});
  }
  return Generate<uint32_t>(std::move(spans), kind, count, seed, Random32);
}

std::vector<lpm::Ipv6Address> MakeTrace6(const std::vector<Route6>& routes, TraceKind kind,
                                         size_t count, uint64_t seed) {
  std::vector<Span<u128>> spans;
  for (const auto& r : routes) {
    if (r.prefix.len > 0)
      spans.push_back({ToU128(r.prefix.addr), HostMask<u128, 128>(r.prefix.len)});
  }
  std::vector<u128> raw = Generate<u128>(std::move(spans), kind, count, seed, Random128);
  std::vector<lpm::Ipv6Address> out(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) out[i] = FromU128(raw[i]);
  return out;
}

}  // namespace edgefwd::bench
