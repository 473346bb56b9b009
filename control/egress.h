// The egress model: neighbours and ECMP groups from the config, their up/down
// state, the adjacency each neighbour is written to, and how a fallback chain
// of egresses resolves to the member list a path publishes.
//
// Egress ids are stable for the life of the control plane: a reload keeps the
// id of every name that survives, appends new names, and retires removed
// ones (their id is never handed out again), so shared paths keyed by egress
// ids stay valid across reloads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "control/control_plane.h"
#include "dataplane/state/forwarding_state.h"

namespace edgefwd::control {

using EgressId = uint32_t;

struct Egress {
  std::string name;
  bool is_group = false;
  bool removed = false;  // gone from the config; id kept, never reused
  // Neighbour fields.
  NeighborSpec spec;
  bool up = true;
  dataplane::AdjacencyId adjacency = 0;
  uint16_t counter_index = 0;  // Adjacency::neighbor: stable across MAC changes
  // Group fields: the member neighbours with their weights, and the slot
  // table (at most kMaxPathMembers slots, each a member neighbour) that the
  // weights expand to. A flow hashes onto a slot.
  std::vector<GroupSpec::Member> members;
  std::vector<EgressId> member_ids;  // parallel to members
  std::vector<EgressId> slots;
  // Class used for ranking: a neighbour's own; a group's best member class.
  dataplane::EgressClass egress_class = dataplane::EgressClass::kTransit;
};

// Expands weights into at most kMaxPathMembers slots, proportionally
// (largest remainder), every member keeping at least one slot. Members are
// laid out in config order so the table is deterministic.
std::vector<size_t> ExpandWeights(std::span<const uint32_t> weights);

class EgressModel {
 public:
  // Adjacency ids are recycled through `release_adjacency` callers' grace
  // period (see ControlPlane); the model only hands them out.
  EgressModel() = default;

  // Validates `spec` (unique names, known group members, weights >= 1,
  // neighbour count within kMaxAdjacencies) and computes what would change;
  // nothing is modified. ApplySpec then applies it.
  absl::Status ValidateSpec(const ControlSpec& spec) const;
  // Applies a validated spec: keeps ids by name, writes adjacencies for new
  // or changed neighbours into `state` (changed ones get a fresh adjacency
  // id; the old one is appended to `released_adjacencies`).
  struct SpecChanges {
    std::vector<EgressId> resolution;  // members may resolve differently
    std::vector<EgressId> ranking;     // class changed: candidate order may change
  };
  SpecChanges ApplySpec(const ControlSpec& spec, dataplane::ForwardingState* state,
                        std::vector<dataplane::AdjacencyId>* released_adjacencies);
  // Returns an adjacency id to the free pool (after its grace period).
  void FreeAdjacency(dataplane::AdjacencyId id) { free_adjacencies_.push_back(id); }

  std::optional<EgressId> Find(std::string_view name) const;
  const Egress& egress(EgressId id) const { return egresses_[id]; }
  size_t size() const { return egresses_.size(); }
  void SetUp(EgressId neighbor, bool up) { egresses_[neighbor].up = up; }

  // The neighbours an egress may send to (itself, or a group's members).
  std::span<const EgressId> Neighbors(EgressId id) const;
  // Resolves a fallback chain: the first egress with an up neighbour gives
  // the members (a group's slots with down members' slots handed round-robin
  // to the up members, so flows on up members keep their member). Returns
  // false (out->count = 0) when nothing in the chain is up.
  bool Resolve(std::span<const EgressId> chain, dataplane::PathMembers* out) const;

 private:
  dataplane::AdjacencyId AllocateAdjacency();
  void RebuildGroup(Egress& g);

  std::vector<Egress> egresses_;
  absl::flat_hash_map<std::string, EgressId> by_name_;
  std::vector<dataplane::AdjacencyId> free_adjacencies_;
  uint32_t next_adjacency_ = 0;
  uint16_t next_counter_index_ = 0;
  std::vector<EgressId> self_ids_;  // self_ids_[i] == i, for Neighbors()
};

}  // namespace edgefwd::control
