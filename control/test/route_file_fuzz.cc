// libFuzzer target: the route file parser never crashes, and what it accepts
// is well-formed (lengths in range, names within limits).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "control/route_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto routes = edgefwd::control::ParseRouteText(text, "fuzz");
  if (!routes.ok()) return 0;
  for (const auto& r : *routes) {
    if (r.egress.empty() || r.egress.size() > 64 || r.line == 0) std::abort();
    if (const auto* p4 = std::get_if<edgefwd::lpm::Ipv4Prefix>(&r.prefix)) {
      if (p4->len > 32) std::abort();
    } else if (std::get<edgefwd::lpm::Ipv6Prefix>(r.prefix).len > 128) {
      std::abort();
    }
  }
  return 0;
}
