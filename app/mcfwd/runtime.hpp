// The mcfwd application's runtime (runtime.cpp): EAL, ports, lcores, control loop.
#pragma once

#include "config/config.hpp"
#include "options.hpp"

namespace mcfwd::app {

/// Runs mcfwd with a validated configuration until a signal, --duration or
/// --idle-exit; returns the process exit status (0, or 1 when startup failed, with
/// the reason printed to stderr).
int run(const config::Config& cfg, const Options& opts);

} // namespace mcfwd::app
