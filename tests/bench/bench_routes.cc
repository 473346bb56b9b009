#include "tests/bench/bench_routes.h"

#include <cstdio>
#include <fstream>
#include <random>
#include <string_view>

#include "absl/container/flat_hash_map.h"

namespace edgefwd::bench {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Keys the dedup map; IPv6 prefixes are keyed by their text-free bytes.
struct Key6 {
  lpm::Ipv6Address addr;
  uint8_t len;
  friend bool operator==(const Key6&, const Key6&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Key6& k) {
    return H::combine(std::move(h), k.addr, k.len);
  }
};

class Loader {
 public:
  explicit Loader(RouteSet* out) : out_(out) {}

  uint32_t EgressId(std::string_view name) {
    auto [it, inserted] = egress_ids_.try_emplace(std::string(name), out_->egress_names.size());
    if (inserted) out_->egress_names.emplace_back(name);
    return it->second;
  }

  bool LoadFile(const std::string& path, bool want_v6) {
    std::ifstream in(path);
    if (!in) {
      std::fprintf(stderr, "%s: cannot open\n", path.c_str());
      return false;
    }
    std::string line;
    uint32_t line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      std::string_view text(line);
      if (size_t hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
      text = Trim(text);
      if (text.empty()) continue;
      size_t space = text.find_first_of(" \t");
      if (space == std::string_view::npos) {
        std::fprintf(stderr, "%s:%u: egress: missing after prefix\n", path.c_str(), line_no);
        return false;
      }
      std::string_view prefix_text = text.substr(0, space);
      std::string_view egress = Trim(text.substr(space));
      if (egress.find_first_of(" \t") != std::string_view::npos) {
        std::fprintf(stderr, "%s:%u: egress: unexpected text after '%.*s'\n", path.c_str(), line_no,
                     static_cast<int>(egress.size()), egress.data());
        return false;
      }
      bool is_v6 = prefix_text.find(':') != std::string_view::npos;
      if (is_v6 != want_v6) {
        std::fprintf(stderr, "%s:%u: prefix: '%.*s' is not IPv%d\n", path.c_str(), line_no,
                     static_cast<int>(prefix_text.size()), prefix_text.data(), want_v6 ? 6 : 4);
        return false;
      }
      if (is_v6) {
        auto p = lpm::ParseIpv6Prefix(prefix_text);
        if (!p) return BadPrefix(path, line_no, prefix_text);
        AddV6(*p, EgressId(egress));
      } else {
        auto p = lpm::ParseIpv4Prefix(prefix_text);
        if (!p) return BadPrefix(path, line_no, prefix_text);
        AddV4(*p, EgressId(egress));
      }
    }
    return true;
  }

  void AddV4(lpm::Ipv4Prefix p, uint32_t nh) {
    uint64_t key = (uint64_t{p.addr} << 8) | p.len;
    auto [it, inserted] = index4_.try_emplace(key, out_->v4.size());
    if (inserted) {
      out_->v4.push_back({p, nh});
    } else {
      out_->v4[it->second].next_hop = nh;
    }
  }
  void AddV6(const lpm::Ipv6Prefix& p, uint32_t nh) {
    auto [it, inserted] = index6_.try_emplace(Key6{p.addr, p.len}, out_->v6.size());
    if (inserted) {
      out_->v6.push_back({p, nh});
    } else {
      out_->v6[it->second].next_hop = nh;
    }
  }

 private:
  static bool BadPrefix(const std::string& path, uint32_t line_no, std::string_view text) {
    std::fprintf(stderr, "%s:%u: prefix: '%.*s' is malformed, out of range or has host bits set\n",
                 path.c_str(), line_no, static_cast<int>(text.size()), text.data());
    return false;
  }

  RouteSet* out_;
  absl::flat_hash_map<std::string, uint32_t> egress_ids_;
  absl::flat_hash_map<uint64_t, size_t> index4_;
  absl::flat_hash_map<Key6, size_t> index6_;
};

uint32_t Mask4(uint8_t len) {
  return len == 0 ? 0 : ~uint32_t{0} << (32 - len);
}

// Picks a length from (length, weight) pairs.
template <size_t N>
uint8_t PickLength(const std::pair<uint8_t, double> (&table)[N], std::mt19937_64& rng) {
  double total = 0;
  for (const auto& [len, w] : table) total += w;
  double x = std::uniform_real_distribution<double>(0, total)(rng);
  for (const auto& [len, w] : table) {
    if (x < w) return len;
    x -= w;
  }
  return table[N - 1].first;
}

}  // namespace

bool LoadRouteFiles(const std::string& v4_path, const std::string& v6_path, RouteSet* out) {
  Loader loader(out);
  out->source = v4_path + " + " + v6_path;
  return loader.LoadFile(v4_path, false) && loader.LoadFile(v6_path, true);
}

RouteSet SyntheticRoutes(size_t v4_count, size_t v6_count, uint64_t seed) {
  RouteSet set;
  set.source = "synthetic (seed " + std::to_string(seed) + ")";
  Loader loader(&set);
  std::mt19937_64 rng(seed);
  constexpr int kEgresses = 16;
  for (int i = 0; i < kEgresses; ++i) loader.EgressId("egress-" + std::to_string(i));
  std::uniform_int_distribution<uint32_t> egress(0, kEgresses - 1);

  // IPv4: allocations cluster inside ~20k /16s of unicast space; the length
  // mix follows the global table (/24 dominates, a few more-specifics).
  static const std::pair<uint8_t, double> kV4Lengths[] = {
      {8, 0.02}, {12, 0.1}, {14, 0.3}, {15, 0.4},  {16, 1.5}, {17, 1.2},  {18, 2.0},
      {19, 3.3}, {20, 5.0}, {21, 5.5}, {22, 12.0}, {23, 9.5}, {24, 57.0}, {25, 0.4},
      {26, 0.3}, {27, 0.2}, {28, 0.2}, {29, 0.2},  {30, 0.1}, {32, 0.3}};
  std::vector<uint32_t> blocks(20000);
  for (auto& b : blocks)
    b = std::uniform_int_distribution<uint32_t>(1, 223)(rng) << 24 |
        std::uniform_int_distribution<uint32_t>(0, 255)(rng) << 16;
  loader.AddV4({0, 0}, egress(rng));
  while (set.v4.size() < v4_count) {
    uint8_t len = PickLength(kV4Lengths, rng);
    uint32_t base = len < 16
                        ? static_cast<uint32_t>(rng())
                        : blocks[rng() % blocks.size()] | (static_cast<uint32_t>(rng()) & 0xffff);
    loader.AddV4({base & Mask4(len), len}, egress(rng));
  }

  // IPv6: inside 2000::/3, clustered under ~4k /24 blocks; /48 dominates.
  static const std::pair<uint8_t, double> kV6Lengths[] = {
      {28, 0.5}, {29, 4.0}, {32, 12.0}, {33, 0.5},  {36, 3.0}, {40, 6.0}, {42, 1.0}, {44, 7.0},
      {45, 1.0}, {46, 2.5}, {47, 2.5},  {48, 50.0}, {52, 0.5}, {56, 2.0}, {64, 1.0}, {128, 0.2}};
  std::vector<uint32_t> blocks6(4000);
  for (auto& b : blocks6) b = (0x20u << 16) | (static_cast<uint32_t>(rng()) & 0x1fffff);
  if (v6_count > 0) loader.AddV6({{}, 0}, egress(rng));
  while (set.v6.size() < v6_count) {
    uint8_t len = PickLength(kV6Lengths, rng);
    lpm::Ipv6Address a{};
    uint32_t b = blocks6[rng() % blocks6.size()];
    a[0] = static_cast<uint8_t>(b >> 16);
    a[1] = static_cast<uint8_t>(b >> 8);
    a[2] = static_cast<uint8_t>(b);
    for (int i = 3; i < 16; ++i) a[i] = static_cast<uint8_t>(rng());
    for (int bit = len; bit < 128; ++bit) a[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
    loader.AddV6({a, len}, egress(rng));
  }
  return set;
}

}  // namespace edgefwd::bench
