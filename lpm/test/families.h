// Per-family glue for the tests: keys as integers (for the reference) and
// random prefixes that nest and collide often enough to exercise the trie.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>

#include "lpm/ipv4_table.h"
#include "lpm/ipv6_table.h"

namespace edgefwd::lpm::test {

using U128 = unsigned __int128;

// The seed of a randomised test: LPM_SEED=<n> reproduces a run.
inline uint64_t Seed() {
  if (const char* s = std::getenv("LPM_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

struct V4 {
  using Table = Ipv4Table;
  using Key = uint32_t;
  using Address = Ipv4Address;
  using Prefix = Ipv4Prefix;
  using Change = Ipv4RouteChange;
  static constexpr unsigned W = 32;
  static Key KeyOf(Address a) { return a; }
  static Address AddrOf(Key k) { return k; }
  // Few top bytes and second bytes, so prefixes pile up in shared chunks.
  static Key RandomKey(std::mt19937_64& rng) {
    static constexpr uint32_t kTop[] = {0, 10, 172, 192, 255};
    static constexpr uint32_t kSecond[] = {0, 1, 2, 168, 255};
    uint64_t r = rng();
    uint32_t top = (r & 7) < 5 ? kTop[r & 7] : static_cast<uint32_t>(r >> 8) & 255;
    uint32_t second = (r >> 3 & 7) < 5 ? kSecond[r >> 3 & 7] : static_cast<uint32_t>(r >> 16) & 255;
    return top << 24 | second << 16 | (static_cast<uint32_t>(r >> 32) & 0xFFFF);
  }
  static unsigned RandomLen(std::mt19937_64& rng) {
    uint64_t r = rng();
    if (r % 4 == 0) return static_cast<unsigned>((r >> 8) % 33);
    return 16 + static_cast<unsigned>((r >> 8) % 17);
  }
};

struct V6 {
  using Table = Ipv6Table;
  using Key = U128;
  using Address = Ipv6Address;
  using Prefix = Ipv6Prefix;
  using Change = Ipv6RouteChange;
  static constexpr unsigned W = 128;
  static Key KeyOf(const Address& a) {
    Key k = 0;
    for (uint8_t b : a) k = k << 8 | b;
    return k;
  }
  static Address AddrOf(Key k) {
    Address a;
    for (int i = 15; i >= 0; --i) {
      a[static_cast<size_t>(i)] = static_cast<uint8_t>(k);
      k >>= 8;
    }
    return a;
  }
  // Mostly 2001:db8::/29-ish and a few other /16s, random low bits.
  static Key RandomKey(std::mt19937_64& rng) {
    static constexpr uint64_t kTop[] = {0x20010db800000000ull, 0x2a00000000000000ull,
                                        0x0000000000000000ull, 0xffffffffffffffffull};
    uint64_t r = rng();
    uint64_t hi;
    if ((r & 7) < 4) {
      hi = kTop[r & 3] ^ ((rng() & 0x0007FFFFFFFFull) << (r >> 3 & 1 ? 0 : 8));
    } else {
      hi = rng();
    }
    uint64_t lo = (r >> 8 & 3) == 0 ? 0 : rng();
    return static_cast<U128>(hi) << 64 | lo;
  }
  static unsigned RandomLen(std::mt19937_64& rng) {
    uint64_t r = rng();
    switch (r % 6) {
      case 0:
        return static_cast<unsigned>((r >> 8) % 129);
      case 1:
        return 120 + static_cast<unsigned>((r >> 8) % 9);
      default:
        return 16 + static_cast<unsigned>((r >> 8) % 49);  // /16../64 like a real table
    }
  }
};

}  // namespace edgefwd::lpm::test
