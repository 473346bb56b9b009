#include "control/rib.h"

#include <algorithm>
#include <string>

#include "lpm/ipv4_table.h"
#include "lpm/ipv6_table.h"

namespace edgefwd::control {

using dataplane::PathId;
using dataplane::PathMembers;
using lpm::Ipv4Prefix;
using lpm::Ipv6Prefix;

namespace {

bool SameMembers(const PathMembers& a, const PathMembers& b) {
  return a.count == b.count &&
         std::equal(a.members.begin(), a.members.begin() + a.count, b.members.begin());
}

// Per-family glue: the table type and its change record.
template <class P>
struct FamilyOf;
template <>
struct FamilyOf<Ipv4Prefix> {
  using Change = lpm::Ipv4RouteChange;
  static lpm::Ipv4Table* Table(const Fib& f) { return f.v4; }
  static constexpr const char* kName = "IPv4";
};
template <>
struct FamilyOf<Ipv6Prefix> {
  using Change = lpm::Ipv6RouteChange;
  static lpm::Ipv6Table* Table(const Fib& f) { return f.v6; }
  static constexpr const char* kName = "IPv6";
};

template <class P>
using FibChange = typename FamilyOf<P>::Change;

template <class P>
FibChange<P> Upsert(const P& p, PathId path) {
  return {FibChange<P>::Op::kUpsert, p, path};
}
template <class P>
FibChange<P> Withdraw(const P& p) {
  return {FibChange<P>::Op::kRemove, p, 0};
}

PrefixSet<Ipv4Prefix>& PrefixesOf(Path& path, const Ipv4Prefix&) {
  return path.v4_prefixes;
}
PrefixSet<Ipv6Prefix>& PrefixesOf(Path& path, const Ipv6Prefix&) {
  return path.v6_prefixes;
}

template <class P>
absl::Status ApplyToFib(const Fib& fib, std::span<const FibChange<P>> changes) {
  if (changes.empty()) return absl::OkStatus();
  const lpm::LpmError e = FamilyOf<P>::Table(fib)->Apply(changes);
  if (e == lpm::LpmError::kOk) return absl::OkStatus();
  return absl::ResourceExhaustedError(std::string(FamilyOf<P>::kName) + " FIB: " +
                                      std::string(lpm::ToString(e)) + "; nothing applied");
}

}  // namespace

Rib::Rib(const Fib& fib, EgressModel* egress, const ControlSpec* spec)
    : fib_(fib),
      egress_(egress),
      spec_(spec),
      grace_passed_(std::make_shared<std::vector<PathId>>()) {}

Rib::~Rib() = default;

SourceId Rib::AddSource(std::string_view name, uint32_t preference) {
  if (auto id = FindSource(name)) {
    sources_[*id].preference = preference;
    return *id;
  }
  sources_.push_back({std::string(name), preference});
  return static_cast<SourceId>(sources_.size() - 1);
}

std::optional<SourceId> Rib::FindSource(std::string_view name) const {
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (sources_[i].name == name) return static_cast<SourceId>(i);
  }
  return std::nullopt;
}

template <>
PrefixMap<Ipv4Prefix, RibEntry>& Rib::Map<Ipv4Prefix>() {
  return v4_;
}
template <>
PrefixMap<Ipv6Prefix, RibEntry>& Rib::Map<Ipv6Prefix>() {
  return v6_;
}

const RibEntry* Rib::Find(const Ipv4Prefix& p) const {
  auto it = v4_.find(p);
  return it == v4_.end() ? nullptr : &it->second;
}
const RibEntry* Rib::Find(const Ipv6Prefix& p) const {
  auto it = v6_.find(p);
  return it == v6_.end() ? nullptr : &it->second;
}
const Path* Rib::path(PathId id) const {
  return id < paths_.size() ? paths_[id].get() : nullptr;
}

void Rib::Rank(RibEntry& e) const {
  if (e.candidates.size() < 2) return;
  std::array<size_t, dataplane::kEgressClassCount> class_rank{};
  for (size_t i = 0; i < spec_->class_preference.size(); ++i) {
    class_rank[static_cast<size_t>(spec_->class_preference[i])] = i;
  }
  auto key = [&](const Candidate& c) {
    const Egress& eg = egress_->egress(c.egress);
    return std::tuple(class_rank[static_cast<size_t>(eg.egress_class)],
                      sources_[c.source].preference, std::string_view(sources_[c.source].name),
                      std::string_view(eg.name), c.egress);
  };
  std::sort(e.candidates.begin(), e.candidates.end(),
            [&](const Candidate& a, const Candidate& b) { return key(a) < key(b); });
}

std::vector<EgressId> Rib::ChainOf(const RibEntry& e) const {
  std::vector<EgressId> chain;
  for (const Candidate& c : e.candidates) {
    if (std::find(chain.begin(), chain.end(), c.egress) == chain.end()) chain.push_back(c.egress);
  }
  return chain;
}

PathId Rib::Acquire(const std::vector<EgressId>& chain) {
  if (auto it = by_chain_.find(chain); it != by_chain_.end()) {
    ++paths_[it->second]->refs;
    return it->second;
  }
  PathId id;
  if (!free_paths_.empty()) {
    id = free_paths_.back();
    free_paths_.pop_back();
  } else if (paths_.size() < fib_.state->max_paths() && paths_.size() <= lpm::kMaxNextHop) {
    id = static_cast<PathId>(paths_.size());
    paths_.emplace_back();
  } else {
    return kNoPath;
  }
  auto path = std::make_unique<Path>();
  path->chain = chain;
  path->refs = 1;
  path->usable = egress_->Resolve(chain, &path->members);
  // Published before any FIB entry can name it.
  if (path->usable) fib_.state->SetPath(id, path->members);
  if (paths_through_.size() < egress_->size()) paths_through_.resize(egress_->size());
  for (EgressId e : chain) {
    paths_through_[e].insert(id);
    for (EgressId n : egress_->Neighbors(e)) paths_through_[n].insert(id);
  }
  paths_[id] = std::move(path);
  by_chain_[chain] = id;
  return id;
}

void Rib::Release(PathId id) {
  Path& path = *paths_[id];
  if (--path.refs > 0) return;
  by_chain_.erase(path.chain);
  for (EgressId e : path.chain) {
    paths_through_[e].erase(id);
    for (EgressId n : egress_->Neighbors(e)) paths_through_[n].erase(id);
  }
  paths_[id].reset();
  // The FIB no longer names `id`, but a worker may still hold it from an
  // earlier lookup: clear and reuse it only after a grace period.
  fib_.qsbr->Retire([passed = grace_passed_, id] { passed->push_back(id); });
}

void Rib::FinishReleases() {
  for (PathId id : *grace_passed_) {
    fib_.state->ClearPath(id);
    free_paths_.push_back(id);
  }
  grace_passed_->clear();
  size_t done = 0;
  for (; done < stale_members_.size(); ++done) {
    const auto [token, id] = stale_members_[done];
    if (!fib_.qsbr->Passed(token)) break;  // tokens ascend: the rest wait too
    Path* path = paths_[id].get();
    // Skip a path that became usable again, or was released (and its id
    // perhaps reused) meanwhile.
    if (path != nullptr && !path->usable && path->empty_after == token) {
      fib_.state->SetPath(id, PathMembers{});
      path->empty_after = 0;
    }
  }
  stale_members_.erase(stale_members_.begin(), stale_members_.begin() + done);
}

template <class P>
absl::Status Rib::StageOne(const RouteChange& c, const P& p, PrefixMap<P, uint32_t>& index,
                           BulkVector<Staged<P>>& staged) {
  auto [it, added] = index.try_emplace(p, static_cast<uint32_t>(staged.size()));
  if (added) {
    Staged<P> s{p, {}};
    // An empty family (start-up load) has nothing to find: skip the probe,
    // a cache miss per route into the freshly reserved table.
    const RibEntry* cur = Map<P>().empty() ? nullptr : Find(p);
    if (cur != nullptr) {
      s.entry = *cur;
      s.old_path = cur->path;
      s.old_in_fib = cur->in_fib;
    }
    staged.push_back(std::move(s));
  }
  auto& cands = staged[it->second].entry.candidates;
  auto of_source = [&](const Candidate& x) { return x.source == c.source; };
  switch (c.op) {
    case RouteChange::Op::kAdd: {
      Candidate cand{c.source, *c.egress};
      if (std::find(cands.begin(), cands.end(), cand) == cands.end()) cands.push_back(cand);
      break;
    }
    case RouteChange::Op::kReplace:
      cands.erase(std::remove_if(cands.begin(), cands.end(), of_source), cands.end());
      cands.push_back({c.source, *c.egress});
      break;
    case RouteChange::Op::kRemove: {
      const size_t before = cands.size();
      if (c.egress) {
        cands.erase(std::remove(cands.begin(), cands.end(), Candidate{c.source, *c.egress}),
                    cands.end());
      } else {
        cands.erase(std::remove_if(cands.begin(), cands.end(), of_source), cands.end());
      }
      if (cands.size() == before) {
        std::string what =
            lpm::FormatPrefix(p) + ": no route from source '" + sources_[c.source].name + "'";
        if (c.egress) what += " via '" + egress_->egress(*c.egress).name + "'";
        return absl::NotFoundError(what);
      }
      break;
    }
  }
  return absl::OkStatus();
}

absl::Status Rib::Apply(std::span<const RouteChange> changes) {
  BulkVector<Staged<Ipv4Prefix>> v4;
  BulkVector<Staged<Ipv6Prefix>> v6;
  PrefixMap<Ipv4Prefix, uint32_t> v4_index;
  PrefixMap<Ipv6Prefix, uint32_t> v6_index;
  if (changes.size() > 1024) {  // bulk loads: size the maps once
    size_t n4 = 0;
    for (const RouteChange& c : changes) n4 += std::holds_alternative<Ipv4Prefix>(c.prefix);
    v4_index.reserve(n4);
    v6_index.reserve(changes.size() - n4);
    v4.reserve(n4);
    v6.reserve(changes.size() - n4);
    v4_.reserve(v4_.size() + n4);
    v6_.reserve(v6_.size() + changes.size() - n4);
  }
  for (const RouteChange& c : changes) {
    absl::Status s = std::holds_alternative<Ipv4Prefix>(c.prefix)
                         ? StageOne(c, std::get<Ipv4Prefix>(c.prefix), v4_index, v4)
                         : StageOne(c, std::get<Ipv6Prefix>(c.prefix), v6_index, v6);
    if (!s.ok()) return s;
  }
  return Commit(v4, v6);
}

absl::Status Rib::Commit(BulkVector<Staged<Ipv4Prefix>>& v4, BulkVector<Staged<Ipv6Prefix>>& v6) {
  std::vector<PathId> acquired;
  auto release_acquired = [&] {
    for (PathId id : acquired) Release(id);
  };
  BulkVector<FibChange<Ipv4Prefix>> v4_fib, v4_undo;
  BulkVector<FibChange<Ipv6Prefix>> v6_fib, v6_undo;

  // Paths for one-egress chains, valid while planning (nothing is released
  // before the commit step).
  std::vector<PathId> single_egress_path(egress_->size(), kNoPath);
  // Plan: rank, pick (and publish) the path, and say what the FIB must do.
  auto plan = [&](auto& staged, auto& fib_changes, auto& undo) -> absl::Status {
    for (auto& s : staged) {
      Rank(s.entry);
      const PathId old_path = s.old_path;
      const bool old_in_fib = s.old_in_fib;
      PathId path = kNoPath;
      if (s.entry.candidates.size() == 1 &&
          single_egress_path[s.entry.candidates[0].egress] != kNoPath) {
        // Most prefixes have one candidate: skip building and hashing the chain.
        path = single_egress_path[s.entry.candidates[0].egress];
        ++paths_[path]->refs;
        acquired.push_back(path);
      } else if (!s.entry.candidates.empty()) {
        path = Acquire(ChainOf(s.entry));
        if (path == kNoPath) return absl::ResourceExhaustedError("path table full");
        acquired.push_back(path);
        if (s.entry.candidates.size() == 1) single_egress_path[s.entry.candidates[0].egress] = path;
      }
      s.entry.path = path;
      s.entry.in_fib = path != kNoPath && paths_[path]->usable;
      if (s.entry.in_fib && (!old_in_fib || old_path != path)) {
        fib_changes.push_back(Upsert(s.prefix, path));
      } else if (!s.entry.in_fib && old_in_fib) {
        fib_changes.push_back(Withdraw(s.prefix));
      } else {
        continue;
      }
      undo.push_back(old_in_fib ? Upsert(s.prefix, old_path) : Withdraw(s.prefix));
    }
    return absl::OkStatus();
  };
  absl::Status status = plan(v4, v4_fib, v4_undo);
  if (status.ok()) status = plan(v6, v6_fib, v6_undo);
  if (status.ok()) status = ApplyToFib<Ipv4Prefix>(fib_, v4_fib);
  if (status.ok()) {
    status = ApplyToFib<Ipv6Prefix>(fib_, v6_fib);
    if (!status.ok()) (void)ApplyToFib<Ipv4Prefix>(fib_, v4_undo);  // restores what was there
  }
  if (!status.ok()) {
    release_acquired();
    return status;
  }

  // Commit the RIB: move prefixes from their old paths to the new ones.
  auto commit = [&](auto& staged) {
    for (auto& s : staged) {
      auto& map = Map<std::decay_t<decltype(s.prefix)>>();
      if (s.old_path != s.entry.path) {
        if (s.old_path != kNoPath) PrefixesOf(*paths_[s.old_path], s.prefix).erase(s.prefix);
        if (s.entry.path != kNoPath) PrefixesOf(*paths_[s.entry.path], s.prefix).insert(s.prefix);
      }
      if (s.old_path != kNoPath) {
        if (!s.old_in_fib) --withdrawn_;
        Release(s.old_path);
      }
      if (s.entry.candidates.empty()) {
        map.erase(s.prefix);
        continue;
      }
      if (!s.entry.in_fib) ++withdrawn_;
      map.insert_or_assign(s.prefix, std::move(s.entry));
    }
  };
  commit(v4);
  commit(v6);
  return absl::OkStatus();
}

absl::Status Rib::Recompute(std::span<const EgressId> egresses) {
  if (paths_through_.size() < egress_->size()) paths_through_.resize(egress_->size());
  absl::flat_hash_set<PathId> affected;
  for (EgressId e : egresses) {
    for (PathId id : paths_through_[e]) {
      // Entries left by a group that lost a member may name freed ids.
      if (paths_[id] != nullptr) affected.insert(id);
    }
  }
  std::vector<PathId> now_usable, now_unusable;
  for (PathId id : affected) {
    Path& path = *paths_[id];
    // A group may have gained members (reload): keep the index complete.
    for (EgressId e : path.chain) {
      for (EgressId n : egress_->Neighbors(e)) paths_through_[n].insert(id);
    }
    PathMembers members;
    const bool usable = egress_->Resolve(path.chain, &members);
    if (usable) {
      if (!path.usable || !SameMembers(members, path.members)) fib_.state->SetPath(id, members);
      if (!path.usable) now_usable.push_back(id);
      path.empty_after = 0;  // its members are live again: not to be emptied
    } else if (path.usable) {
      now_unusable.push_back(id);
    }
    path.members = members;
    path.usable = usable;
  }
  last_recompute_prefix_visits_ = 0;
  if (now_usable.empty() && now_unusable.empty()) return absl::OkStatus();

  // The per-prefix part: only the prefixes of the paths whose whole chain
  // went down (or came back), from the paths' own prefix sets.
  BulkVector<FibChange<Ipv4Prefix>> v4_fib;
  BulkVector<FibChange<Ipv6Prefix>> v6_fib;
  for (PathId id : now_usable) {
    const Path& path = *paths_[id];
    for (const Ipv4Prefix& p : path.v4_prefixes) v4_fib.push_back(Upsert(p, id));
    for (const Ipv6Prefix& p : path.v6_prefixes) v6_fib.push_back(Upsert(p, id));
  }
  for (PathId id : now_unusable) {
    const Path& path = *paths_[id];
    for (const Ipv4Prefix& p : path.v4_prefixes) v4_fib.push_back(Withdraw(p));
    for (const Ipv6Prefix& p : path.v6_prefixes) v6_fib.push_back(Withdraw(p));
  }
  last_recompute_prefix_visits_ = v4_fib.size() + v6_fib.size();
  const absl::Status v4_status = ApplyToFib<Ipv4Prefix>(fib_, v4_fib);
  const absl::Status v6_status = ApplyToFib<Ipv6Prefix>(fib_, v6_fib);
  // A worker that looked a prefix up before its withdrawal may still use
  // the path: it keeps the old members (not an empty list, which would drop
  // a packet the covering route should carry) until a grace period has
  // passed; FinishReleases empties them after that.
  if (!now_unusable.empty()) {
    const uint64_t token = fib_.qsbr->Advance();
    for (PathId id : now_unusable) {
      paths_[id]->empty_after = token;
      stale_members_.push_back({token, id});
    }
  }
  auto mark = [this](auto& map, const auto& fib_changes) {
    for (const auto& c : fib_changes) {
      RibEntry& e = map.find(c.prefix)->second;
      const bool in = c.op == std::decay_t<decltype(c)>::Op::kUpsert;
      if (e.in_fib == in) continue;
      e.in_fib = in;
      if (in) {
        --withdrawn_;
      } else {
        ++withdrawn_;
      }
    }
  };
  if (v4_status.ok()) mark(v4_, v4_fib);
  if (v6_status.ok()) mark(v6_, v6_fib);
  return v4_status.ok() ? v6_status : v4_status;
}

absl::Status Rib::Rerank(std::span<const EgressId> egresses) {
  if (egresses.empty()) return absl::OkStatus();
  absl::flat_hash_set<EgressId> changed(egresses.begin(), egresses.end());
  auto names_changed = [&](const RibEntry& e) {
    for (const Candidate& c : e.candidates) {
      if (changed.contains(c.egress)) return true;
    }
    return false;
  };
  BulkVector<Staged<Ipv4Prefix>> v4;
  BulkVector<Staged<Ipv6Prefix>> v6;
  for (const auto& [p, e] : v4_) {
    if (names_changed(e)) v4.push_back({p, e, e.path, e.in_fib});
  }
  for (const auto& [p, e] : v6_) {
    if (names_changed(e)) v6.push_back({p, e, e.path, e.in_fib});
  }
  return Commit(v4, v6);
}

std::vector<std::pair<AnyPrefix, EgressId>> Rib::SourceRoutes(SourceId source) const {
  std::vector<std::pair<AnyPrefix, EgressId>> out;
  for (const auto& [p, e] : v4_) {
    for (const Candidate& c : e.candidates) {
      if (c.source == source) out.push_back({p, c.egress});
    }
  }
  for (const auto& [p, e] : v6_) {
    for (const Candidate& c : e.candidates) {
      if (c.source == source) out.push_back({p, c.egress});
    }
  }
  return out;
}

size_t Rib::CandidatesNaming(EgressId egress) const {
  size_t n = 0;
  for (const auto& [p, e] : v4_) {
    for (const Candidate& c : e.candidates) n += c.egress == egress;
  }
  for (const auto& [p, e] : v6_) {
    for (const Candidate& c : e.candidates) n += c.egress == egress;
  }
  return n;
}

namespace {

// A flat hash container's allocation: slots, one control byte per slot and
// a group's worth of cloned control bytes.
template <class C>
size_t FlatBytes(const C& c) {
  if (c.capacity() == 0) return 0;
  return c.capacity() * (sizeof(typename C::value_type) + 1) + 16;
}

}  // namespace

Rib::Memory Rib::MemoryUsage() const {
  Memory m;
  m.prefix_maps = FlatBytes(v4_) + FlatBytes(v6_);
  auto spilled = [](const auto& map) {
    size_t bytes = 0;
    for (const auto& [p, e] : map) {
      if (e.candidates.on_heap()) {
        bytes += e.candidates.capacity() * sizeof(Candidate);
      }
    }
    return bytes;
  };
  m.prefix_maps += spilled(v4_) + spilled(v6_);
  m.paths = paths_.capacity() * sizeof(paths_[0]) + FlatBytes(by_chain_);
  for (const auto& path : paths_) {
    if (path == nullptr) continue;
    m.paths += sizeof(Path) + path->chain.capacity() * sizeof(EgressId);
    m.path_prefix_sets += FlatBytes(path->v4_prefixes) + FlatBytes(path->v6_prefixes);
  }
  for (const auto& through : paths_through_) m.paths += FlatBytes(through);
  return m;
}

size_t Rib::PathsThrough(EgressId egress) const {
  return egress < paths_through_.size() ? paths_through_[egress].size() : 0;
}

}  // namespace edgefwd::control
