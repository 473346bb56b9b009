// The edgefwd daemon after EAL init: ports, FIB, control plane, workers, the
// control loop on the main lcore, and the orderly stop.
#pragma once

#include "dataplane/config/config.h"
#include "dataplane/options.h"

namespace edgefwd::dataplane {

// Runs until SIGINT/SIGTERM (or --exit-when-idle); returns the exit code.
// EAL must be initialised.
int RunDaemon(const Config& config, const Options& options);

}  // namespace edgefwd::dataplane
