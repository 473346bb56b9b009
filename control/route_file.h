// The route file: one route a line, `PREFIX EGRESS`, `#` starts a comment.
//
//   # RouteViews-derived, 2026-06-17
//   0.0.0.0/0        transit-a
//   203.0.113.0/24   peer-ix1     # trailing comments are fine
//   2001:db8::/32    cdn-cache1
//
// EGRESS names a neighbour or a neighbour group from the config. IPv4 and
// IPv6 may be mixed in one file. Errors name file, line and field; a file
// with any error is refused whole (nothing half-loaded).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lpm/prefix.h"

namespace edgefwd::control {

struct FileRoute {
  std::variant<lpm::Ipv4Prefix, lpm::Ipv6Prefix> prefix;
  std::string egress;
  uint32_t line = 0;  // 1-based, for error messages further up
};

// Longest line accepted; anything longer is refused as binary/garbage.
inline constexpr size_t kMaxRouteLineBytes = 512;

// Parses text that came from `source_name` (a path, or "<socket>").
// Error message form: "FILE:LINE: FIELD: reason", e.g.
//   "routes/v4.routes:17: prefix: '10.0.0.1/8' has host bits set".
absl::StatusOr<std::vector<FileRoute>> ParseRouteText(std::string_view text,
                                                      std::string_view source_name);
// Reads and parses a file; a read error names the file.
absl::StatusOr<std::vector<FileRoute>> ReadRouteFile(const std::string& path);

// The same parser without building FileRoutes (for loading a full table
// without a copy of it): calls on_route for every route in order; the first
// parse error, or the first error on_route returns, stops it and is
// returned. `egress` points into the text, valid during the call only.
using RouteVisitor =
    absl::FunctionRef<absl::Status(const std::variant<lpm::Ipv4Prefix, lpm::Ipv6Prefix>& prefix,
                                   std::string_view egress, uint32_t line)>;
absl::Status ForEachRoute(std::string_view text, std::string_view source_name,
                          RouteVisitor on_route);
// Reads the whole file, then ForEachRoute over it.
absl::Status ForEachRouteInFile(const std::string& path, RouteVisitor on_route);

}  // namespace edgefwd::control
