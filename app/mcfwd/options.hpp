// Command line of the mcfwd executable.
//
//   mcfwd --config FILE [--duration SECONDS] [--idle-exit SECONDS] [--stats] [-- EAL ARGS...]
//   mcfwd --help
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mcfwd::app {

struct Options {
    bool help = false;                 // --help / -h: print usage() to stdout, exit 0
    std::string config;                // YAML file (required unless help)
    std::optional<double> duration;    // stop after this many seconds
    std::optional<double> idle_exit;   // stop after this long without received packets
    bool stats = false;                // at exit, also print the /mcfwd/stats object as JSON
    std::vector<std::string> eal_args; // after "--", appended to the config's eal:
};

/// Parses argv; on error returns nullopt and sets error to a one-line message.
/// --help anywhere before "--" (and before an error) answers an Options with help set.
std::optional<Options> parse_options(int argc, const char* const* argv, std::string& error);

/// The usage text: the synopsis line, then one line per option.
const char* usage();

} // namespace mcfwd::app
