// ControlPlane's private state, shared by control_plane.cc (loading,
// failover, reload) and commands.cc (the socket commands).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "control/control_plane.h"
#include "control/control_socket.h"
#include "control/egress.h"
#include "control/protocol.h"
#include "control/rib.h"

namespace edgefwd::control {

// Route files rank after operator routes from the socket within one class.
inline constexpr uint32_t kFileSourcePreference = 100;
inline constexpr uint32_t kCliSourcePreference = 50;
inline constexpr std::string_view kCliSource = "cli";

struct ControlPlane::Impl {
  ControlSpec spec;
  Fib fib;
  EgressModel egress;
  std::unique_ptr<Rib> rib;
  SocketLimits socket_limits;
  std::unique_ptr<ControlSocket> socket;
  std::function<std::string(bool)> stats_provider;
  std::function<absl::StatusOr<ControlSpec>()> reload_provider;
  // Adjacency ids wait out a grace period here (filled by QSBR callbacks).
  std::shared_ptr<std::vector<dataplane::AdjacencyId>> adjacencies_passed =
      std::make_shared<std::vector<dataplane::AdjacencyId>>();
  double last_failover_ms = 0;
  size_t last_failover_paths = 0;
  double last_grace_ms = 0;  // from the switch until every worker was past it
  // How long SetNeighborUp waits for workers to pass the switch.
  static constexpr std::chrono::milliseconds kGraceTimeout{1000};

  // Route-file routes -> RIB changes; unknown egress names are errors that
  // name the file and line.
  absl::StatusOr<std::vector<RouteChange>> ToChanges(std::span<const FileRoute> routes,
                                                     std::string_view source_name, SourceId source,
                                                     RouteChange::Op op) const;
  void RetireAdjacencies(const std::vector<dataplane::AdjacencyId>& ids);
  void Reclaim();
  // Waits (bounded by kGraceTimeout) until QsbrDomain::Passed(token); false
  // if some online worker did not get there in time.
  bool WaitForReaders(uint64_t token) const;

  // commands.cc: one request line -> framed reply. Execute waits (bounded)
  // for a grace period the command asks for; Serve, for socket clients,
  // defers the reply instead, so the control thread keeps serving others.
  std::string Execute(std::string_view line, ControlPlane* self);
  SocketReply Serve(std::string_view line, ControlPlane* self);
  // One parsed request -> (status, body). A command whose effect is only
  // safe once every worker has passed a quiescent state (reload removing
  // neighbours or paths) sets *grace_token (QsbrDomain::Advance()); the
  // reply must not go out before Passed(*grace_token).
  absl::Status Dispatch(const Request& req, std::string* body, uint64_t* grace_token,
                        ControlPlane* self);
  // The reply's status once the grace period is over or timed out.
  absl::Status GraceStatus(bool passed, std::string_view what) const;
};

}  // namespace edgefwd::control
