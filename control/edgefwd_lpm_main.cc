// edgefwd-lpm: offline look-ups against a route file, through the same lpm
// tables the workers use. For checking a route file before loading it, and as
// a reference answer in tests.
//
//   edgefwd-lpm lookup --routes FILE [--family 4|6] < addresses
//
// Prints `ADDRESS PREFIX EGRESS` per input line, `ADDRESS - -` when no route
// matches. A later line for the same prefix replaces an earlier one.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "control/route_file.h"
#include "lpm/ipv4_table.h"
#include "lpm/ipv6_table.h"
#include "lpm/qsbr.h"

namespace edgefwd::control {
namespace {

int Usage() {
  std::fprintf(stderr, "usage: edgefwd-lpm lookup --routes FILE [--family 4|6] < addresses\n");
  return 2;
}

int Lookup(const std::string& routes_path, int family) {
  auto routes = ReadRouteFile(routes_path);
  if (!routes.ok()) {
    std::fprintf(stderr, "edgefwd-lpm: %s\n", std::string(routes.status().message()).c_str());
    return 1;
  }
  // Egress names become next-hop ids in order of first appearance.
  std::vector<std::string> egress_names;
  absl::flat_hash_map<std::string, lpm::NextHop> egress_ids;
  lpm::QsbrDomain qsbr(1);
  lpm::TableConfig config;
  auto v4 = lpm::Ipv4Table::Create(config, &qsbr);
  auto v6 = lpm::Ipv6Table::Create(config, &qsbr);
  std::vector<lpm::Ipv4RouteChange> v4_changes;
  std::vector<lpm::Ipv6RouteChange> v6_changes;
  for (const FileRoute& r : *routes) {
    auto [it, added] = egress_ids.try_emplace(r.egress, egress_names.size());
    if (added) egress_names.push_back(r.egress);
    if (const auto* p4 = std::get_if<lpm::Ipv4Prefix>(&r.prefix)) {
      if (family != 6) {
        v4_changes.push_back({lpm::Ipv4RouteChange::Op::kUpsert, *p4, it->second});
      }
    } else if (family != 4) {
      v6_changes.push_back(
          {lpm::Ipv6RouteChange::Op::kUpsert, std::get<lpm::Ipv6Prefix>(r.prefix), it->second});
    }
  }
  if (auto e = v4->Apply(v4_changes); e != lpm::LpmError::kOk) {
    std::fprintf(stderr, "edgefwd-lpm: %s: IPv4 table: %s\n", routes_path.c_str(),
                 std::string(lpm::ToString(e)).c_str());
    return 1;
  }
  if (auto e = v6->Apply(v6_changes); e != lpm::LpmError::kOk) {
    std::fprintf(stderr, "edgefwd-lpm: %s: IPv6 table: %s\n", routes_path.c_str(),
                 std::string(lpm::ToString(e)).c_str());
    return 1;
  }

  int status = 0;
  std::string line;
  uint64_t line_no = 0;
  while (std::getline(std::cin, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::string prefix_text;
    lpm::NextHop next_hop = lpm::kNoRoute;
    bool parsed = false;
    if (family != 6) {
      if (auto a = lpm::ParseIpv4Address(line)) {
        parsed = true;
        next_hop = v4->Lookup(*a);
        if (auto m = v4->Match(*a)) prefix_text = lpm::FormatPrefix(m->first);
      }
    }
    if (!parsed && family != 4) {
      if (auto a = lpm::ParseIpv6Address(line)) {
        parsed = true;
        next_hop = v6->Lookup(*a);
        if (auto m = v6->Match(*a)) prefix_text = lpm::FormatPrefix(m->first);
      }
    }
    if (!parsed) {
      std::fprintf(stderr, "edgefwd-lpm: stdin:%llu: address: '%s' is not an IPv%s address\n",
                   static_cast<unsigned long long>(line_no), line.c_str(),
                   family == 4 ? "4" : (family == 6 ? "6" : "4/IPv6"));
      status = 1;
      continue;
    }
    if (next_hop == lpm::kNoRoute || next_hop >= egress_names.size()) {
      std::printf("%s - -\n", line.c_str());
    } else {
      std::printf("%s %s %s\n", line.c_str(), prefix_text.c_str(), egress_names[next_hop].c_str());
    }
  }
  return status;
}

}  // namespace
}  // namespace edgefwd::control

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "lookup") != 0) return edgefwd::control::Usage();
  std::string routes;
  int family = 0;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--routes" && i + 1 < argc) {
      routes = argv[++i];
    } else if (arg == "--family" && i + 1 < argc) {
      std::string f = argv[++i];
      if (f == "4") {
        family = 4;
      } else if (f == "6") {
        family = 6;
      } else {
        return edgefwd::control::Usage();
      }
    } else {
      return edgefwd::control::Usage();
    }
  }
  if (routes.empty()) return edgefwd::control::Usage();
  return edgefwd::control::Lookup(routes, family);
}
