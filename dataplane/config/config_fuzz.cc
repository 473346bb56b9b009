// libFuzzer target: the TOML configuration parser never crashes, every
// error it returns names the file (and, for the main file, a line), and
// what it accepts holds together: every neighbour's port is a declared port,
// names are unique.
//
// The text is parsed as "/nonexistent-edgefwd-fuzz/edgefwd.toml", so
// relative includes and route files resolve to nothing; absolute ones the
// fuzzer invents may name real files, which the parser must reject or read
// like any other (the config reader only opens regular files).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "dataplane/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string kPath = "/nonexistent-edgefwd-fuzz/edgefwd.toml";
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cfg = edgefwd::dataplane::ParseConfigText(text, kPath);
  if (!cfg.ok()) {
    // "FILE:LINE: field: what" for errors in a file (an include's own
    // errors name the include).
    const std::string message(cfg.status().message());
    if (message.find(".toml") == std::string::npos && message.find('/') == std::string::npos)
      std::abort();
    return 0;
  }
  if (cfg->ports.empty()) std::abort();
  std::set<std::string> ports, neighbors;
  for (const auto& p : cfg->ports) {
    if (!ports.insert(p.name).second) std::abort();
  }
  for (const auto& n : cfg->neighbors) {
    if (!ports.contains(n.port) || !neighbors.insert(n.name).second) std::abort();
  }
  return 0;
}
