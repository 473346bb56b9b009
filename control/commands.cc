// The control socket's commands (protocol v1, control/PROTOCOL.md). Each
// returns a status and a body: text for people, or one JSON line.
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "control/control_plane_impl.h"

namespace edgefwd::control {
namespace {

using dataplane::EgressClass;

constexpr const char* kHelp =
    "route add PREFIX EGRESS      set the operator route for PREFIX (source 'cli')\n"
    "route del PREFIX [EGRESS]    delete the operator route\n"
    "route show [PREFIX]          FIB answer for PREFIX, or a summary\n"
    "route lookup ADDRESS         longest match and the members it sends to\n"
    "load FILE                    add a route file's routes (all or none)\n"
    "neighbor show [NAME]         neighbours and their state\n"
    "neighbor up|down NAME        administrative state (failover/restore)\n"
    "group show [NAME]            ECMP groups, weights and slot tables\n"
    "rib show PREFIX              every candidate for PREFIX and the winner\n"
    "stats                        counters\n"
    "reload                       re-read config and route files, apply the difference\n"
    "help                         this text";

// Parses a prefix with the route file's rules and messages.
absl::StatusOr<AnyPrefix> ParsePrefixArg(std::string_view text) {
  auto parsed = ParseRouteText(std::string(text) + " x", "request");
  if (!parsed.ok()) {
    std::string msg(parsed.status().message());
    const std::string_view lead = "request:1: ";
    if (msg.rfind(lead, 0) == 0) msg.erase(0, lead.size());
    return absl::InvalidArgumentError(msg);
  }
  if (parsed->size() != 1) return absl::InvalidArgumentError("prefix: missing");
  return (*parsed)[0].prefix;
}

std::string FormatAny(const AnyPrefix& p) {
  return std::visit([](const auto& x) { return lpm::FormatPrefix(x); }, p);
}

absl::Status Usage(std::string_view usage) {
  return absl::InvalidArgumentError("usage: " + std::string(usage));
}

}  // namespace

absl::Status ControlPlane::Impl::GraceStatus(bool passed, std::string_view what) const {
  if (passed) return absl::OkStatus();
  return absl::DeadlineExceededError(
      std::string(what) + ": applied, but a worker has not passed a quiescent state within " +
      std::to_string(kGraceTimeout.count()) +
      " ms: it may still use what was removed (stalled worker?)");
}

std::string ControlPlane::Impl::Execute(std::string_view line, ControlPlane* self) {
  auto req = ParseRequestLine(line);
  if (!req.ok()) return FormatResponse(req.status(), "");
  std::string body;
  uint64_t grace_token = 0;
  absl::Status status = Dispatch(*req, &body, &grace_token, self);
  if (status.ok() && grace_token != 0) {
    status = GraceStatus(WaitForReaders(grace_token), req->args[0]);
  }
  if (!status.ok()) body.clear();
  return FormatResponse(status, body);
}

SocketReply ControlPlane::Impl::Serve(std::string_view line, ControlPlane* self) {
  auto req = ParseRequestLine(line);
  if (!req.ok()) return FormatResponse(req.status(), "");
  std::string body;
  uint64_t grace_token = 0;
  absl::Status status = Dispatch(*req, &body, &grace_token, self);
  if (!status.ok() || grace_token == 0 || fib.qsbr->Passed(grace_token)) {
    if (!status.ok()) body.clear();
    return FormatResponse(status, body);
  }
  // Not yet safe to say "done": ask again each loop turn (this Impl owns the
  // socket, so it outlives the deferred reply).
  const auto deadline = std::chrono::steady_clock::now() + kGraceTimeout;
  return SocketReply::Deferred([this, grace_token, deadline, what = req->args[0],
                                body = std::move(body)]() -> std::optional<std::string> {
    const bool passed = fib.qsbr->Passed(grace_token);
    if (!passed && std::chrono::steady_clock::now() < deadline) return std::nullopt;
    const absl::Status s = GraceStatus(passed, what);
    return FormatResponse(s, s.ok() ? body : "");
  });
}

absl::Status ControlPlane::Impl::Dispatch(const Request& req, std::string* body,
                                          uint64_t* grace_token, ControlPlane* self) {
  const auto& a = req.args;
  const bool json = req.json;
  const std::string& cmd = a[0];
  auto arg = [&](size_t i) { return i < a.size() ? std::string_view(a[i]) : std::string_view(); };

  // Names of the neighbours behind a member list, for display.
  auto member_names = [&](const dataplane::PathMembers& m) {
    std::vector<std::string> names;
    for (size_t i = 0; i < m.count; ++i) {
      for (EgressId e = 0; e < egress.size(); ++e) {
        const Egress& eg = egress.egress(e);
        if (!eg.is_group && !eg.removed && eg.adjacency == m.members[i]) {
          names.push_back(eg.name);
          break;
        }
      }
    }
    return names;
  };
  auto join = [&](const std::vector<std::string>& v, bool as_json) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out += as_json ? "," : " ";
      out += as_json ? JsonString(v[i]) : v[i];
    }
    return as_json ? "[" + out + "]" : out;
  };
  auto find_entry = [&](const AnyPrefix& p) -> const RibEntry* {
    return std::visit([&](const auto& x) { return rib->Find(x); }, p);
  };
  // "prefix -> path" description shared by route show / rib show / lookup.
  auto describe = [&](const std::string& prefix, const RibEntry& e) {
    const Path* path = rib->path(e.path);
    std::vector<std::string> members =
        path ? member_names(path->members) : std::vector<std::string>{};
    std::vector<std::string> chain;
    if (path) {
      for (EgressId id : path->chain) chain.push_back(egress.egress(id).name);
    }
    if (json) {
      return "{\"prefix\":" + JsonString(prefix) + ",\"path\":" + std::to_string(e.path) +
             ",\"chain\":" + join(chain, true) + ",\"members\":" + join(members, true) +
             ",\"in_fib\":" + (e.in_fib ? "true" : "false") + "}";
    }
    return prefix + " path " + std::to_string(e.path) + " chain [" + join(chain, false) +
           "] members [" + join(members, false) + "]" +
           (e.in_fib ? "" : " (withdrawn: no candidate up; covering route answers)");
  };

  if (cmd == "help") {
    *body = json ? "{\"help\":" + JsonString(kHelp) + "}" : kHelp;
    return absl::OkStatus();
  }

  if (cmd == "route") {
    const std::string_view sub = arg(1);
    const SourceId cli = *rib->FindSource(kCliSource);
    if (sub == "add") {
      if (a.size() != 4) return Usage("route add PREFIX EGRESS");
      auto p = ParsePrefixArg(a[2]);
      if (!p.ok()) return p.status();
      auto e = egress.Find(a[3]);
      if (!e) return absl::NotFoundError("egress: unknown neighbor or group '" + a[3] + "'");
      const RouteChange c{RouteChange::Op::kReplace, *p, cli, *e};
      return rib->Apply(std::span(&c, 1));
    }
    if (sub == "del") {
      if (a.size() != 3 && a.size() != 4) return Usage("route del PREFIX [EGRESS]");
      auto p = ParsePrefixArg(a[2]);
      if (!p.ok()) return p.status();
      RouteChange c{RouteChange::Op::kRemove, *p, cli, std::nullopt};
      if (a.size() == 4) {
        auto e = egress.Find(a[3]);
        if (!e) return absl::NotFoundError("egress: unknown neighbor or group '" + a[3] + "'");
        c.egress = *e;
      }
      return rib->Apply(std::span(&c, 1));
    }
    if (sub == "show") {
      if (a.size() == 2) {
        if (json) {
          *body = "{\"ipv4_routes\":" + std::to_string(rib->v4_count()) +
                  ",\"ipv6_routes\":" + std::to_string(rib->v6_count()) +
                  ",\"paths\":" + std::to_string(rib->live_paths()) +
                  ",\"withdrawn\":" + std::to_string(rib->fib_withdrawn()) + "}";
        } else {
          *body = "ipv4 routes " + std::to_string(rib->v4_count()) + "\nipv6 routes " +
                  std::to_string(rib->v6_count()) + "\nshared paths " +
                  std::to_string(rib->live_paths()) + "\nwithdrawn (no candidate up) " +
                  std::to_string(rib->fib_withdrawn());
        }
        return absl::OkStatus();
      }
      if (a.size() != 3) return Usage("route show [PREFIX]");
      auto p = ParsePrefixArg(a[2]);
      if (!p.ok()) return p.status();
      const RibEntry* e = find_entry(*p);
      if (!e) return absl::NotFoundError(FormatAny(*p) + ": no such route");
      *body = describe(FormatAny(*p), *e);
      return absl::OkStatus();
    }
    if (sub == "lookup") {
      if (a.size() != 3) return Usage("route lookup ADDRESS");
      std::optional<AnyPrefix> match;
      dataplane::PathId next_hop = lpm::kNoRoute;
      if (auto v4 = lpm::ParseIpv4Address(a[2])) {
        if (auto m = fib.v4->Match(*v4)) match = m->first, next_hop = m->second;
      } else if (auto v6 = lpm::ParseIpv6Address(a[2])) {
        if (auto m = fib.v6->Match(*v6)) match = m->first, next_hop = m->second;
      } else {
        return absl::InvalidArgumentError("address: '" + a[2] + "' is not an IPv4/IPv6 address");
      }
      if (!match) {
        *body =
            json ? "{\"address\":" + JsonString(a[2]) + ",\"prefix\":null}" : a[2] + ": no route";
        return absl::OkStatus();
      }
      const RibEntry* e = find_entry(*match);
      if (e == nullptr || e->path != next_hop) {
        return absl::InternalError("FIB and RIB disagree for " + FormatAny(*match));
      }
      std::string d = describe(FormatAny(*match), *e);
      *body =
          json ? "{\"address\":" + JsonString(a[2]) + ",\"match\":" + d + "}" : a[2] + " via " + d;
      return absl::OkStatus();
    }
    return Usage("route add|del|show|lookup ...");
  }

  if (cmd == "load") {
    if (a.size() != 2) return Usage("load FILE");
    auto routes = ReadRouteFile(a[1]);
    if (!routes.ok()) return routes.status();
    const SourceId source = rib->AddSource(a[1], kFileSourcePreference);
    auto changes = ToChanges(*routes, a[1], source, RouteChange::Op::kAdd);
    if (!changes.ok()) return changes.status();
    if (absl::Status s = rib->Apply(*changes); !s.ok()) return s;
    *body = json ? "{\"loaded\":" + std::to_string(routes->size()) + "}"
                 : "loaded " + std::to_string(routes->size()) + " routes from " + a[1];
    return absl::OkStatus();
  }

  if (cmd == "neighbor") {
    const std::string_view sub = arg(1);
    if (sub == "up" || sub == "down") {
      if (a.size() != 3) return Usage("neighbor up|down NAME");
      auto id = egress.Find(a[2]);
      if (!id || egress.egress(*id).is_group) {
        return absl::NotFoundError("unknown neighbor '" + a[2] + "'");
      }
      if (egress.egress(*id).up == (sub == "up")) {
        *body = json ? "{\"changed\":false}" : a[2] + " already " + std::string(sub);
        return absl::OkStatus();
      }
      absl::Status s = self->SetNeighborUp(a[2], sub == "up");
      if (!s.ok()) return s;
      char ms[32], grace_ms[32];
      std::snprintf(ms, sizeof(ms), "%.3f", last_failover_ms);
      std::snprintf(grace_ms, sizeof(grace_ms), "%.3f", last_grace_ms);
      *body = json ? "{\"changed\":true,\"paths\":" + std::to_string(last_failover_paths) +
                         ",\"ms\":" + ms + ",\"grace_ms\":" + grace_ms + "}"
                   : a[2] + " " + std::string(sub) + ": " + std::to_string(last_failover_paths) +
                         " paths recomputed in " + ms + " ms; workers past it after " + grace_ms +
                         " ms more";
      return absl::OkStatus();
    }
    if (sub == "show") {
      if (a.size() > 3) return Usage("neighbor show [NAME]");
      std::vector<std::string> rows;
      for (EgressId e = 0; e < egress.size(); ++e) {
        const Egress& n = egress.egress(e);
        if (n.is_group || n.removed) continue;
        if (a.size() == 3 && n.name != a[2]) continue;
        std::string nh = n.spec.next_hop_v4   ? lpm::FormatIpv4(*n.spec.next_hop_v4)
                         : n.spec.next_hop_v6 ? lpm::FormatIpv6(*n.spec.next_hop_v6)
                                              : "-";
        if (json) {
          rows.push_back("{\"name\":" + JsonString(n.name) + ",\"class\":\"" +
                         dataplane::ToString(n.spec.egress_class) + "\",\"port\":" +
                         std::to_string(n.spec.port) + ",\"vlan\":" + std::to_string(n.spec.vlan) +
                         ",\"next_hop\":" + JsonString(nh) +
                         ",\"up\":" + (n.up ? "true" : "false") +
                         ",\"paths\":" + std::to_string(rib->PathsThrough(e)) + "}");
        } else {
          char line[256];
          std::snprintf(line, sizeof(line),
                        "%-20s %-8s port %-3u vlan %-4u nh %-20s %-4s paths %zu", n.name.c_str(),
                        dataplane::ToString(n.spec.egress_class), n.spec.port, n.spec.vlan,
                        nh.c_str(), n.up ? "up" : "down", rib->PathsThrough(e));
          rows.push_back(line);
        }
      }
      if (a.size() == 3 && rows.empty()) {
        return absl::NotFoundError("unknown neighbor '" + a[2] + "'");
      }
      std::string out;
      for (size_t i = 0; i < rows.size(); ++i) out += (i ? (json ? "," : "\n") : "") + rows[i];
      *body = json ? "[" + out + "]" : out;
      return absl::OkStatus();
    }
    return Usage("neighbor show|up|down ...");
  }

  if (cmd == "group") {
    if (arg(1) != "show" || a.size() > 3) return Usage("group show [NAME]");
    std::vector<std::string> rows;
    for (EgressId e = 0; e < egress.size(); ++e) {
      const Egress& g = egress.egress(e);
      if (!g.is_group || g.removed) continue;
      if (a.size() == 3 && g.name != a[2]) continue;
      dataplane::PathMembers slots;
      const EgressId chain[] = {e};
      egress.Resolve(chain, &slots);
      std::vector<std::string> members;
      for (size_t i = 0; i < g.members.size(); ++i) {
        const Egress& m = egress.egress(g.member_ids[i]);
        members.push_back(json ? "{\"neighbor\":" + JsonString(m.name) +
                                     ",\"weight\":" + std::to_string(g.members[i].weight) +
                                     ",\"up\":" + (m.up ? "true" : "false") + "}"
                               : m.name + "(w" + std::to_string(g.members[i].weight) +
                                     (m.up ? "" : ",down") + ")");
      }
      std::string mem;
      for (size_t i = 0; i < members.size(); ++i) mem += (i ? (json ? "," : " ") : "") + members[i];
      if (json) {
        rows.push_back("{\"name\":" + JsonString(g.name) + ",\"class\":\"" +
                       dataplane::ToString(g.egress_class) + "\",\"members\":[" + mem +
                       "],\"slots\":" + join(member_names(slots), true) + "}");
      } else {
        rows.push_back(g.name + " " + dataplane::ToString(g.egress_class) + " members " + mem +
                       " slots [" + join(member_names(slots), false) + "]");
      }
    }
    if (a.size() == 3 && rows.empty()) return absl::NotFoundError("unknown group '" + a[2] + "'");
    std::string out;
    for (size_t i = 0; i < rows.size(); ++i) out += (i ? (json ? "," : "\n") : "") + rows[i];
    *body = json ? "[" + out + "]" : out;
    return absl::OkStatus();
  }

  if (cmd == "rib") {
    if (arg(1) != "show" || a.size() != 3) return Usage("rib show PREFIX");
    auto p = ParsePrefixArg(a[2]);
    if (!p.ok()) return p.status();
    const RibEntry* e = find_entry(*p);
    if (!e) return absl::NotFoundError(FormatAny(*p) + ": not in the RIB");
    // Winner: the best-ranked candidate. Active: the first whose egress has
    // an up neighbour (what the path sends to now).
    std::optional<size_t> active;
    for (size_t i = 0; i < e->candidates.size() && !active; ++i) {
      dataplane::PathMembers m;
      const EgressId chain[] = {e->candidates[i].egress};
      if (egress.Resolve(chain, &m)) active = i;
    }
    std::string out;
    for (size_t i = 0; i < e->candidates.size(); ++i) {
      const Candidate& c = e->candidates[i];
      const Egress& eg = egress.egress(c.egress);
      const Source& src = rib->source(c.source);
      if (json) {
        out += std::string(i ? "," : "") + "{\"source\":" + JsonString(src.name) +
               ",\"source_preference\":" + std::to_string(src.preference) +
               ",\"egress\":" + JsonString(eg.name) + ",\"class\":\"" +
               dataplane::ToString(eg.egress_class) +
               "\",\"winner\":" + (i == 0 ? "true" : "false") +
               ",\"active\":" + (active == i ? "true" : "false") + "}";
      } else {
        out += std::string(i == 0 ? "*" : " ") + (active == i ? ">" : " ") + " " + eg.name + " (" +
               dataplane::ToString(eg.egress_class) + ") from " + src.name + " pref " +
               std::to_string(src.preference) + "\n";
      }
    }
    if (json) {
      *body = "{\"prefix\":" + JsonString(FormatAny(*p)) + ",\"candidates\":[" + out +
              "],\"fib\":" + describe(FormatAny(*p), *e) + "}";
    } else {
      *body =
          FormatAny(*p) + "  (* best, > active)\n" + out + "fib: " + describe(FormatAny(*p), *e);
    }
    return absl::OkStatus();
  }

  if (cmd == "stats") {
    if (a.size() != 1) return Usage("stats");
    const std::string dataplane_stats = stats_provider ? stats_provider(json) : "";
    const size_t clients = socket ? socket->client_count() : 0;
    if (json) {
      *body = "{\"control\":{\"ipv4_routes\":" + std::to_string(rib->v4_count()) +
              ",\"ipv6_routes\":" + std::to_string(rib->v6_count()) +
              ",\"paths\":" + std::to_string(rib->live_paths()) +
              ",\"withdrawn\":" + std::to_string(rib->fib_withdrawn()) +
              ",\"qsbr_pending\":" + std::to_string(fib.qsbr->pending()) +
              ",\"fib_memory_bytes\":" +
              std::to_string(fib.v4->memory_bytes() + fib.v6->memory_bytes()) +
              ",\"rib_memory_bytes\":" + std::to_string(self->memory_usage().total()) +
              ",\"clients\":" + std::to_string(clients) +
              "},\"dataplane\":" + (dataplane_stats.empty() ? "null" : dataplane_stats) + "}";
    } else {
      *body = "control: ipv4 routes " + std::to_string(rib->v4_count()) + ", ipv6 routes " +
              std::to_string(rib->v6_count()) + ", paths " + std::to_string(rib->live_paths()) +
              ", withdrawn " + std::to_string(rib->fib_withdrawn()) + ", fib memory " +
              std::to_string((fib.v4->memory_bytes() + fib.v6->memory_bytes()) >> 10) +
              " KiB, rib memory " + std::to_string(self->memory_usage().total() >> 10) +
              " KiB, qsbr pending " + std::to_string(fib.qsbr->pending()) + ", clients " +
              std::to_string(clients);
      if (!dataplane_stats.empty()) *body += "\n" + dataplane_stats;
    }
    return absl::OkStatus();
  }

  if (cmd == "reload") {
    if (a.size() != 1) return Usage("reload");
    if (absl::Status s = self->Reload(); !s.ok()) return s;
    // Removed neighbours' adjacencies and dropped paths are no longer
    // published, but a worker may still forward with what it looked up
    // before: "reloaded" is only true once every worker has passed this.
    *grace_token = fib.qsbr->Advance();
    *body = json ? "{\"reloaded\":true,\"routes\":" + std::to_string(self->route_count()) + "}"
                 : "reloaded: " + std::to_string(self->route_count()) + " routes";
    return absl::OkStatus();
  }

  return absl::InvalidArgumentError("unknown command '" + cmd + "' (try 'help')");
}

}  // namespace edgefwd::control
