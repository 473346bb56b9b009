// A deliberately simple longest-prefix match to check the tables against:
// one std::map per prefix length, longest match by trying every length.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>

namespace edgefwd::lpm::test {

template <class Key, unsigned W>
class ReferenceLpm {
 public:
  static Key Mask(Key a, unsigned len) { return len == 0 ? Key{0} : a & (~Key{0} << (W - len)); }

  void Set(Key a, unsigned len, uint32_t nh) { by_len_[len][Mask(a, len)] = nh; }
  bool Erase(Key a, unsigned len) { return by_len_[len].erase(Mask(a, len)) > 0; }
  std::optional<uint32_t> Get(Key a, unsigned len) const {
    auto it = by_len_[len].find(Mask(a, len));
    if (it == by_len_[len].end()) return std::nullopt;
    return it->second;
  }
  // Longest match: (length, next hop), or nullopt.
  std::optional<std::pair<unsigned, uint32_t>> Match(Key a) const {
    for (int l = W; l >= 0; --l) {
      auto it = by_len_[l].find(Mask(a, static_cast<unsigned>(l)));
      if (it != by_len_[l].end()) return std::pair{static_cast<unsigned>(l), it->second};
    }
    return std::nullopt;
  }
  uint32_t Lookup(Key a) const {
    auto m = Match(a);
    return m ? m->second : ~uint32_t{0};
  }
  size_t size() const {
    size_t n = 0;
    for (const auto& m : by_len_) n += m.size();
    return n;
  }
  // Every route ordered by (address, length).
  std::map<std::pair<Key, unsigned>, uint32_t> Sorted() const {
    std::map<std::pair<Key, unsigned>, uint32_t> out;
    for (unsigned l = 0; l <= W; ++l) {
      for (const auto& [k, v] : by_len_[l]) out[{k, l}] = v;
    }
    return out;
  }

 private:
  std::array<std::map<Key, uint32_t>, W + 1> by_len_;
};

}  // namespace edgefwd::lpm::test
