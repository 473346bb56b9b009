#include "control/egress.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "absl/container/flat_hash_set.h"

namespace edgefwd::control {

using dataplane::AdjacencyId;
using dataplane::kMaxAdjacencies;
using dataplane::kMaxPathMembers;
using dataplane::PathMembers;

std::vector<size_t> ExpandWeights(std::span<const uint32_t> weights) {
  const size_t n = weights.size();
  std::vector<size_t> slots(n, 1);
  if (n == 0 || n >= kMaxPathMembers) return slots;  // one slot each (n <= 16 is validated)
  const uint64_t total = std::accumulate(weights.begin(), weights.end(), uint64_t{0});
  if (total <= kMaxPathMembers) {
    for (size_t i = 0; i < n; ++i) slots[i] = weights[i];
    return slots;
  }
  // Largest remainder over the slots left after everyone's guaranteed one.
  const size_t spare = kMaxPathMembers - n;
  std::vector<std::pair<uint64_t, size_t>> remainders;  // (remainder, index)
  size_t given = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t scaled = uint64_t{weights[i]} * spare;
    slots[i] += scaled / total;
    given += scaled / total;
    remainders.push_back({scaled % total, i});
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; given < spare; ++k, ++given) ++slots[remainders[k].second];
  return slots;
}

namespace {

// Whether the adjacency written for `a` serves `b` unchanged: the wire (port,
// VLAN, MACs, next hops) and the class, which workers read from the
// adjacency to count packets per egress class.
bool SameAdjacency(const NeighborSpec& a, const NeighborSpec& b) {
  return a.port == b.port && a.vlan == b.vlan && a.mac == b.mac && a.port_mac == b.port_mac &&
         a.next_hop_v4 == b.next_hop_v4 && a.next_hop_v6 == b.next_hop_v6 &&
         a.egress_class == b.egress_class;
}

}  // namespace

absl::Status EgressModel::ValidateSpec(const ControlSpec& spec) const {
  absl::flat_hash_set<std::string> neighbors;
  absl::flat_hash_set<std::string> names;
  for (const NeighborSpec& n : spec.neighbors) {
    if (n.name.empty()) return absl::InvalidArgumentError("neighbor: empty name");
    if (!names.insert(n.name).second) {
      return absl::InvalidArgumentError("neighbor " + n.name + ": name used twice");
    }
    neighbors.insert(n.name);
  }
  if (spec.neighbors.size() > kMaxAdjacencies / 2) {
    // Half the adjacency space stays free so changed neighbours can move to
    // fresh ids while the old ones wait out their grace period.
    return absl::InvalidArgumentError("neighbors: more than " +
                                      std::to_string(kMaxAdjacencies / 2));
  }
  for (const GroupSpec& g : spec.groups) {
    if (g.name.empty()) return absl::InvalidArgumentError("group: empty name");
    if (!names.insert(g.name).second) {
      return absl::InvalidArgumentError("group " + g.name + ": name already used");
    }
    if (g.members.empty()) return absl::InvalidArgumentError("group " + g.name + ": no members");
    if (g.members.size() > kMaxPathMembers) {
      return absl::InvalidArgumentError("group " + g.name + ": more than " +
                                        std::to_string(kMaxPathMembers) + " members");
    }
    absl::flat_hash_set<std::string> seen;
    for (const auto& m : g.members) {
      if (!neighbors.contains(m.neighbor)) {
        return absl::InvalidArgumentError("group " + g.name + ": member '" + m.neighbor +
                                          "' is not a neighbor");
      }
      if (!seen.insert(m.neighbor).second) {
        return absl::InvalidArgumentError("group " + g.name + ": member '" + m.neighbor +
                                          "' listed twice");
      }
      if (m.weight == 0) {
        return absl::InvalidArgumentError("group " + g.name + ": member '" + m.neighbor +
                                          "' has weight 0");
      }
    }
  }
  // A name may not switch between neighbour and group: paths keyed by its id
  // would silently change meaning.
  for (const NeighborSpec& n : spec.neighbors) {
    if (auto id = Find(n.name); id && egresses_[*id].is_group) {
      return absl::InvalidArgumentError("neighbor " + n.name + ": was a group; rename it");
    }
  }
  for (const GroupSpec& g : spec.groups) {
    if (auto id = Find(g.name); id && !egresses_[*id].is_group) {
      return absl::InvalidArgumentError("group " + g.name + ": was a neighbor; rename it");
    }
  }
  return absl::OkStatus();
}

AdjacencyId EgressModel::AllocateAdjacency() {
  if (!free_adjacencies_.empty()) {
    AdjacencyId id = free_adjacencies_.back();
    free_adjacencies_.pop_back();
    return id;
  }
  return static_cast<AdjacencyId>(next_adjacency_++);
}

void EgressModel::RebuildGroup(Egress& g) {
  g.member_ids.clear();
  std::vector<uint32_t> weights;
  for (const auto& m : g.members) {
    g.member_ids.push_back(*Find(m.neighbor));
    weights.push_back(m.weight);
  }
  const std::vector<size_t> counts = ExpandWeights(weights);
  g.slots.clear();
  for (size_t i = 0; i < counts.size(); ++i)
    g.slots.insert(g.slots.end(), counts[i], g.member_ids[i]);
  // A group ranks as its best member's class.
  g.egress_class = egresses_[g.member_ids[0]].spec.egress_class;
  for (EgressId m : g.member_ids) {
    g.egress_class = std::min(g.egress_class, egresses_[m].spec.egress_class);
  }
}

EgressModel::SpecChanges EgressModel::ApplySpec(const ControlSpec& spec,
                                                dataplane::ForwardingState* state,
                                                std::vector<AdjacencyId>* released_adjacencies) {
  SpecChanges changes;
  absl::flat_hash_set<std::string> present;
  for (const NeighborSpec& n : spec.neighbors) {
    present.insert(n.name);
    auto id = Find(n.name);
    bool write = false;
    if (!id) {
      id = static_cast<EgressId>(egresses_.size());
      Egress e;
      e.name = n.name;
      e.spec = n;
      e.egress_class = n.egress_class;
      e.adjacency = AllocateAdjacency();
      e.counter_index = next_counter_index_++;
      egresses_.push_back(std::move(e));
      by_name_[n.name] = *id;
      write = true;
      changes.resolution.push_back(*id);
    } else {
      Egress& e = egresses_[*id];
      if (e.spec.egress_class != n.egress_class) changes.ranking.push_back(*id);
      if (!SameAdjacency(e.spec, n)) {
        // Readers may be using the old adjacency: write a fresh one and
        // move the paths to it; the old id is freed after a grace period.
        released_adjacencies->push_back(e.adjacency);
        e.adjacency = AllocateAdjacency();
        write = true;
        changes.resolution.push_back(*id);
      }
      e.spec = n;
      e.egress_class = n.egress_class;
    }
    if (write) {
      const Egress& e = egresses_[*id];
      dataplane::Adjacency adj;
      adj.dst_mac = n.mac;
      adj.src_mac = n.port_mac;
      adj.port = n.port;
      adj.vlan = n.vlan;
      adj.neighbor = e.counter_index;
      adj.egress_class = n.egress_class;
      state->SetAdjacency(e.adjacency, adj);
    }
  }
  for (const GroupSpec& g : spec.groups) present.insert(g.name);
  for (EgressId id = 0; id < egresses_.size(); ++id) {
    Egress& e = egresses_[id];
    if (e.removed || present.contains(e.name)) continue;
    e.removed = true;
    e.up = false;
    by_name_.erase(e.name);
    if (!e.is_group) released_adjacencies->push_back(e.adjacency);
    changes.resolution.push_back(id);
  }
  for (const GroupSpec& g : spec.groups) {
    auto id = Find(g.name);
    if (!id) {
      id = static_cast<EgressId>(egresses_.size());
      Egress e;
      e.name = g.name;
      e.is_group = true;
      egresses_.push_back(std::move(e));
      by_name_[g.name] = *id;
    }
    Egress& e = egresses_[*id];
    const auto old_class = e.egress_class;
    const auto old_slots = e.slots;
    e.members = g.members;
    RebuildGroup(e);
    if (e.slots != old_slots) changes.resolution.push_back(*id);
    if (e.egress_class != old_class) changes.ranking.push_back(*id);
  }
  self_ids_.resize(egresses_.size());
  std::iota(self_ids_.begin(), self_ids_.end(), EgressId{0});
  return changes;
}

std::optional<EgressId> EgressModel::Find(std::string_view name) const {
  auto it = by_name_.find(absl::string_view(name.data(), name.size()));  // no std::string built
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

std::span<const EgressId> EgressModel::Neighbors(EgressId id) const {
  const Egress& e = egresses_[id];
  if (e.is_group) return e.member_ids;
  return std::span<const EgressId>(&self_ids_[id], 1);
}

bool EgressModel::Resolve(std::span<const EgressId> chain, PathMembers* out) const {
  *out = PathMembers{};
  for (EgressId id : chain) {
    const Egress& e = egresses_[id];
    if (e.removed) continue;
    if (!e.is_group) {
      if (!e.up) continue;
      out->count = 1;
      out->members[0] = e.adjacency;
      return true;
    }
    std::array<EgressId, kMaxPathMembers> up_members;
    size_t up_count = 0;
    for (EgressId m : e.member_ids) {
      if (egresses_[m].up) up_members[up_count++] = m;
    }
    if (up_count == 0) continue;
    size_t next = 0;
    for (EgressId slot : e.slots) {
      EgressId member = slot;
      if (!egresses_[slot].up) member = up_members[next++ % up_count];
      out->members[out->count++] = egresses_[member].adjacency;
    }
    return true;
  }
  return false;
}

}  // namespace edgefwd::control
