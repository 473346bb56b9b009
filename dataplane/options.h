// edgefwd's own command line (after EAL's, behind "--").
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace edgefwd::dataplane {

struct Options {
  std::string config;      // --config FILE (required)
  std::string stats_json;  // --stats-json FILE: final counters as JSON at exit
  // --exit-when-idle MS: stop once no packet was received for MS ms (counted
  // from start or the last link change). For tests and demos that replay a
  // finite pcap; 0 = run until a signal.
  uint32_t exit_when_idle_ms = 0;
};

inline constexpr char kUsage[] =
    "usage: edgefwd [EAL options] -- --config FILE [--stats-json FILE] [--exit-when-idle MS]\n"
    "  --config FILE        the TOML configuration (ports, neighbors, groups, workers, routes)\n"
    "  --stats-json FILE    write the final counters as one JSON object to FILE at exit\n"
    "  --exit-when-idle MS  stop after MS ms without received packets (tests, demos)\n";

absl::StatusOr<Options> ParseOptions(int argc, char** argv);

}  // namespace edgefwd::dataplane
