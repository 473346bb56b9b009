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

}  // namespace edgefwd::control
