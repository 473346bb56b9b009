// edgefwd [EAL options] -- --config FILE [--stats-json FILE] [--exit-when-idle MS]
//
// The configuration is read and checked before EAL starts, so a broken file
// is refused before any device is touched.
#include <rte_eal.h>
#include <rte_errno.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "dataplane/config/config.h"
#include "dataplane/daemon.h"
#include "dataplane/options.h"

int main(int argc, char** argv) {
  using namespace edgefwd::dataplane;
  int dash = 1;
  while (dash < argc && std::strcmp(argv[dash], "--") != 0) ++dash;
  if (dash == argc) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  auto options = ParseOptions(argc - dash - 1, argv + dash + 1);
  if (!options.ok()) {
    std::fprintf(stderr, "edgefwd: %s\n%s", std::string(options.status().message()).c_str(),
                 kUsage);
    return 2;
  }
  auto config = ReadConfigFile(options->config);
  if (!config.ok()) {
    std::fprintf(stderr, "edgefwd: %s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  if (rte_eal_init(dash, argv) < 0) {
    std::fprintf(stderr, "edgefwd: EAL init failed: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  int rc = RunDaemon(*config, *options);
  rte_eal_cleanup();
  return rc;
}
