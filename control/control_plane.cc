// ControlPlane: start-up loading, neighbour failover, reload diffing and the
// control loop. The socket commands are in commands.cc.
#include "control/control_plane.h"

#include <poll.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "control/control_plane_impl.h"

namespace edgefwd::control {

namespace {

// A (prefix, egress) pair as a flat key, for set differences on reload.
std::string RouteKey(const AnyPrefix& prefix, EgressId egress) {
  std::string key;
  if (const auto* p4 = std::get_if<lpm::Ipv4Prefix>(&prefix)) {
    key.assign(reinterpret_cast<const char*>(&p4->addr), sizeof(p4->addr));
    key.push_back(static_cast<char>(p4->len));
  } else {
    const auto& p6 = std::get<lpm::Ipv6Prefix>(prefix);
    key.assign(reinterpret_cast<const char*>(p6.addr.data()), p6.addr.size());
    key.push_back(static_cast<char>(p6.len));
  }
  key.append(reinterpret_cast<const char*>(&egress), sizeof(egress));
  return key;
}

}  // namespace

absl::StatusOr<std::vector<RouteChange>> ControlPlane::Impl::ToChanges(
    std::span<const FileRoute> routes, std::string_view source_name, SourceId source,
    RouteChange::Op op) const {
  std::vector<RouteChange> changes;
  changes.reserve(routes.size());
  for (const FileRoute& r : routes) {
    auto id = egress.Find(r.egress);
    if (!id) {
      return absl::InvalidArgumentError(std::string(source_name) + ":" + std::to_string(r.line) +
                                        ": egress: unknown neighbor or group '" + r.egress + "'");
    }
    changes.push_back({op, r.prefix, source, *id});
  }
  return changes;
}

void ControlPlane::Impl::RetireAdjacencies(const std::vector<dataplane::AdjacencyId>& ids) {
  for (dataplane::AdjacencyId id : ids) {
    fib.qsbr->Retire([passed = adjacencies_passed, id] { passed->push_back(id); });
  }
}

bool ControlPlane::Impl::WaitForReaders(uint64_t token) const {
  // Bounded: a stalled worker must not stall the control thread for good.
  const auto deadline = std::chrono::steady_clock::now() + kGraceTimeout;
  while (!fib.qsbr->Passed(token)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    // Polling workers pass a quiescent state every burst (microseconds).
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  return true;
}

void ControlPlane::Impl::Reclaim() {
  fib.qsbr->Reclaim();
  fib.v4->Maintain();
  fib.v6->Maintain();
  rib->FinishReleases();
  for (dataplane::AdjacencyId id : *adjacencies_passed) egress.FreeAdjacency(id);
  adjacencies_passed->clear();
}

absl::StatusOr<std::unique_ptr<ControlPlane>> ControlPlane::Create(ControlSpec spec, Fib fib) {
  if (fib.qsbr == nullptr || fib.v4 == nullptr || fib.v6 == nullptr || fib.state == nullptr) {
    return absl::InvalidArgumentError("control plane: FIB tables missing");
  }
  auto impl = std::make_unique<Impl>();
  if (absl::Status s = impl->egress.ValidateSpec(spec); !s.ok()) return s;
  impl->spec = std::move(spec);
  impl->fib = fib;
  std::vector<dataplane::AdjacencyId> released;  // none on first apply
  impl->egress.ApplySpec(impl->spec, fib.state, &released);
  impl->rib = std::make_unique<Rib>(fib, &impl->egress, &impl->spec);
  impl->rib->AddSource(kCliSource, kCliSourcePreference);
  return std::unique_ptr<ControlPlane>(new ControlPlane(std::move(impl)));
}

ControlPlane::ControlPlane(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ControlPlane::~ControlPlane() = default;

absl::Status ControlPlane::LoadRouteFiles() {
  // Parse and check everything before touching the RIB: all files or none.
  // Straight from the text to RIB changes, without a parsed copy of the
  // table in between (a full table is ~770k routes).
  BulkVector<RouteChange> all;
  size_t bytes = 0;  // sized once from the files (a route line is >= ~12 bytes)
  for (const std::string& path : impl_->spec.route_files) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && st.st_size > 0) bytes += static_cast<size_t>(st.st_size);
  }
  all.reserve(bytes / 24);
  for (const std::string& path : impl_->spec.route_files) {
    const SourceId source = impl_->rib->AddSource(path, kFileSourcePreference);
    // Neighbouring lines often name the same egress: skip the name lookup.
    std::string last_name;
    EgressId last_id = 0;
    absl::Status s = ForEachRouteInFile(
        path, [&](const AnyPrefix& prefix, std::string_view name, uint32_t line) {
          if (name != last_name || last_name.empty()) {
            auto id = impl_->egress.Find(name);
            if (!id) {
              return absl::InvalidArgumentError(path + ":" + std::to_string(line) +
                                                ": egress: unknown neighbor or group '" +
                                                std::string(name) + "'");
            }
            last_name.assign(name);
            last_id = *id;
          }
          if (all.size() == all.capacity()) all.reserve(std::max<size_t>(1 << 16, 2 * all.size()));
          all.push_back({RouteChange::Op::kAdd, prefix, source, last_id});
          return absl::OkStatus();
        });
    if (!s.ok()) return s;
  }
  return impl_->rib->Apply(all);
}

absl::Status ControlPlane::LoadRoutes(std::span<const FileRoute> routes, std::string_view source) {
  const SourceId id = impl_->rib->AddSource(source, kFileSourcePreference);
  auto changes = impl_->ToChanges(routes, source, id, RouteChange::Op::kAdd);
  if (!changes.ok()) return changes.status();
  return impl_->rib->Apply(*changes);
}

absl::Status ControlPlane::RemoveRoutes(std::span<const FileRoute> routes,
                                        std::string_view source) {
  auto id = impl_->rib->FindSource(source);
  if (!id) return absl::NotFoundError("no routes from source '" + std::string(source) + "'");
  auto changes = impl_->ToChanges(routes, source, *id, RouteChange::Op::kRemove);
  if (!changes.ok()) return changes.status();
  return impl_->rib->Apply(*changes);
}

absl::Status ControlPlane::SetNeighborUp(std::string_view name, bool up) {
  auto id = impl_->egress.Find(name);
  if (!id || impl_->egress.egress(*id).is_group) {
    return absl::NotFoundError("unknown neighbor '" + std::string(name) + "'");
  }
  if (impl_->egress.egress(*id).up == up) return absl::OkStatus();
  const auto start = std::chrono::steady_clock::now();
  impl_->egress.SetUp(*id, up);
  const EgressId ids[] = {*id};
  absl::Status s = impl_->rib->Recompute(ids);
  const auto switched = std::chrono::steady_clock::now();
  impl_->last_failover_ms = std::chrono::duration<double, std::milli>(switched - start).count();
  impl_->last_failover_paths = impl_->rib->PathsThrough(*id);
  if (!s.ok()) return s;
  // The switch is published, but a worker may still forward with what it
  // looked up before (an old member list). Only once every online worker
  // has passed a quiescent state is it true that nothing more goes to the
  // neighbour the old way: the caller (the `neighbor` reply) waits for that.
  const bool passed = impl_->WaitForReaders(impl_->fib.qsbr->Advance());
  impl_->last_grace_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - switched)
          .count();
  if (!passed) {
    return absl::DeadlineExceededError(
        "neighbor " + std::string(name) + (up ? " up" : " down") +
        ": switched, but a worker has not passed a quiescent state within " +
        std::to_string(Impl::kGraceTimeout.count()) +
        " ms: it may still forward the old way (stalled worker?)");
  }
  return absl::OkStatus();
}

absl::Status ControlPlane::StartSocket() {
  if (impl_->socket) return absl::FailedPreconditionError("control socket already started");
  auto socket =
      ControlSocket::Listen(impl_->spec.socket_path, impl_->socket_limits,
                            [this](std::string_view line) { return impl_->Serve(line, this); });
  if (!socket.ok()) return socket.status();
  impl_->socket = std::move(*socket);
  return absl::OkStatus();
}

void ControlPlane::Poll(int timeout_ms) {
  if (impl_->socket) {
    impl_->socket->Poll(timeout_ms);
  } else if (timeout_ms > 0) {
    ::poll(nullptr, 0, timeout_ms);
  }
  impl_->Reclaim();
}

void ControlPlane::SetStatsProvider(std::function<std::string(bool json)> provider) {
  impl_->stats_provider = std::move(provider);
}

void ControlPlane::SetReloadProvider(std::function<absl::StatusOr<ControlSpec>()> provider) {
  impl_->reload_provider = std::move(provider);
}

void ControlPlane::SetSocketLimits(const SocketLimits& limits) {
  impl_->socket_limits = limits;
}

double ControlPlane::last_failover_ms() const {
  return impl_->last_failover_ms;
}
double ControlPlane::last_grace_ms() const {
  return impl_->last_grace_ms;
}
size_t ControlPlane::last_failover_paths() const {
  return impl_->last_failover_paths;
}
size_t ControlPlane::route_count() const {
  return impl_->rib->v4_count() + impl_->rib->v6_count();
}
size_t ControlPlane::path_count() const {
  return impl_->rib->live_paths();
}

ControlPlane::MemoryUsage ControlPlane::memory_usage() const {
  const Rib::Memory m = impl_->rib->MemoryUsage();
  return {m.prefix_maps, m.path_prefix_sets, m.paths};
}

std::string ControlPlane::Execute(std::string_view request_line) {
  return impl_->Execute(request_line, this);
}

absl::Status ControlPlane::Reload() {
  if (!impl_->reload_provider) {
    return absl::FailedPreconditionError("reload: the daemon gave no way to re-read its config");
  }
  auto spec = impl_->reload_provider();
  if (!spec.ok()) return spec.status();
  return ApplySpec(std::move(*spec));
}

absl::Status ControlPlane::ApplySpec(ControlSpec spec) {
  Impl& im = *impl_;
  // 1. Check everything before changing anything.
  if (absl::Status s = im.egress.ValidateSpec(spec); !s.ok()) return s;
  if (spec.socket_path != im.spec.socket_path) {
    return absl::InvalidArgumentError("socket path cannot change on reload (restart to move it)");
  }
  absl::flat_hash_set<std::string> names;
  for (const auto& n : spec.neighbors) names.insert(n.name);
  for (const auto& g : spec.groups) names.insert(g.name);
  std::vector<std::vector<FileRoute>> files;
  for (const std::string& path : spec.route_files) {
    auto routes = ReadRouteFile(path);
    if (!routes.ok()) return routes.status();
    for (const FileRoute& r : *routes) {
      if (!names.contains(r.egress)) {
        return absl::InvalidArgumentError(path + ":" + std::to_string(r.line) +
                                          ": egress: unknown neighbor or group '" + r.egress + "'");
      }
    }
    files.push_back(std::move(*routes));
  }
  // Routes not from config files (socket, API) survive a reload, so they
  // may not name an egress the new config drops.
  absl::flat_hash_set<std::string> file_sources(im.spec.route_files.begin(),
                                                im.spec.route_files.end());
  file_sources.insert(spec.route_files.begin(), spec.route_files.end());
  for (SourceId s = 0; s < im.rib->source_count(); ++s) {
    const Source& src = im.rib->source(s);
    if (file_sources.contains(src.name)) continue;
    for (const auto& [prefix, egress] : im.rib->SourceRoutes(s)) {
      const std::string& name = im.egress.egress(egress).name;
      if (!names.contains(name)) {
        return absl::FailedPreconditionError(
            "reload: '" + name + "' is not in the new config but routes from source '" + src.name +
            "' still use it (e.g. " +
            std::visit([](const auto& p) { return lpm::FormatPrefix(p); }, prefix) +
            "); delete them first");
      }
    }
  }

  // 2. Egresses: new ones exist before routes name them.
  const auto old_files = im.spec.route_files;
  const auto old_preference = im.spec.class_preference;
  std::vector<dataplane::AdjacencyId> released;
  EgressModel::SpecChanges egress_changes = im.egress.ApplySpec(spec, im.fib.state, &released);
  im.spec = std::move(spec);

  // 3. Route files: remove what a file no longer says, add what is new.
  std::vector<RouteChange> removes, adds;
  for (size_t f = 0; f < im.spec.route_files.size(); ++f) {
    const std::string& path = im.spec.route_files[f];
    const SourceId source = im.rib->AddSource(path, kFileSourcePreference);
    absl::flat_hash_set<std::string> wanted;
    for (const FileRoute& r : files[f]) {
      const EgressId e = *im.egress.Find(r.egress);
      if (wanted.insert(RouteKey(r.prefix, e)).second) {
        adds.push_back({RouteChange::Op::kAdd, r.prefix, source, e});
      }
    }
    absl::flat_hash_set<std::string> have;
    for (const auto& [prefix, e] : im.rib->SourceRoutes(source)) {
      const std::string key = RouteKey(prefix, e);
      have.insert(key);
      if (!wanted.contains(key)) removes.push_back({RouteChange::Op::kRemove, prefix, source, e});
    }
    std::erase_if(adds, [&](const RouteChange& c) {
      return c.source == source && have.contains(RouteKey(c.prefix, *c.egress));
    });
  }
  for (const std::string& path : old_files) {
    if (std::find(im.spec.route_files.begin(), im.spec.route_files.end(), path) !=
        im.spec.route_files.end()) {
      continue;
    }
    if (auto source = im.rib->FindSource(path)) {
      for (const auto& [prefix, e] : im.rib->SourceRoutes(*source)) {
        removes.push_back({RouteChange::Op::kRemove, prefix, *source, e});
      }
    }
  }
  removes.insert(removes.end(), adds.begin(), adds.end());
  absl::Status status = im.rib->Apply(removes);

  // 4. Paths through changed egresses, and the order of candidates if
  // classes (or the class preference) changed.
  if (absl::Status s = im.rib->Recompute(egress_changes.resolution); status.ok()) status = s;
  std::vector<EgressId> rerank = egress_changes.ranking;
  if (old_preference != im.spec.class_preference) {
    rerank.clear();
    for (EgressId e = 0; e < im.egress.size(); ++e) rerank.push_back(e);
  }
  if (absl::Status s = im.rib->Rerank(rerank); status.ok()) status = s;
  im.RetireAdjacencies(released);
  return status;
}

}  // namespace edgefwd::control
