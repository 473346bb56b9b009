#include "dataplane/options.h"

#include <charconv>
#include <string_view>

#include "absl/status/status.h"

namespace edgefwd::dataplane {

absl::StatusOr<Options> ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    std::string_view name = arg;
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc &&
               (arg == "--config" || arg == "--stats-json" || arg == "--exit-when-idle")) {
      value = argv[++i];
    }
    if (name == "--config") {
      o.config = std::string(value);
    } else if (name == "--stats-json") {
      o.stats_json = std::string(value);
    } else if (name == "--exit-when-idle") {
      auto [p, ec] =
          std::from_chars(value.data(), value.data() + value.size(), o.exit_when_idle_ms);
      if (ec != std::errc() || p != value.data() + value.size() || value.empty())
        return absl::InvalidArgumentError("--exit-when-idle: expected milliseconds, got '" +
                                          std::string(value) + "'");
    } else {
      return absl::InvalidArgumentError("unknown option '" + std::string(arg) + "'");
    }
  }
  if (o.config.empty()) return absl::InvalidArgumentError("--config FILE is required");
  return o;
}

}  // namespace edgefwd::dataplane
