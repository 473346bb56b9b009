// libFuzzer target for the prefix/address text parsers (they read route files
// and control commands from outside). Checks that whatever parses formats
// back to text that parses to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lpm/prefix.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto p = edgefwd::lpm::ParseIpv4Prefix(text)) {
    if (edgefwd::lpm::ParseIpv4Prefix(edgefwd::lpm::FormatPrefix(*p)) != p) std::abort();
  }
  if (auto p = edgefwd::lpm::ParseIpv6Prefix(text)) {
    if (edgefwd::lpm::ParseIpv6Prefix(edgefwd::lpm::FormatPrefix(*p)) != p) std::abort();
  }
  if (auto a = edgefwd::lpm::ParseIpv4Address(text)) {
    if (edgefwd::lpm::ParseIpv4Address(edgefwd::lpm::FormatIpv4(*a)) != a) std::abort();
  }
  if (auto a = edgefwd::lpm::ParseIpv6Address(text)) {
    if (edgefwd::lpm::ParseIpv6Address(edgefwd::lpm::FormatIpv6(*a)) != a) std::abort();
  }
  return 0;
}
