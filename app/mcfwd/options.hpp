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
    std::string config;                // YAML file (required)
    std::optional<double> duration;    // stop after this many seconds
    std::optional<double> idle_exit;   // stop after this long without received packets
    bool stats = false;                // print the counters at exit as JSON too
    bool help = false;                 // --help / -h: print the usage, run nothing
    std::vector<std::string> eal_args; // after "--", appended to the config's eal:
};

/// Parses argv; on error returns nullopt and sets error to a one-line message.
std::optional<Options> parse_options(int argc, const char* const* argv, std::string& error);

/// The usage text.
const char* usage();

} // namespace mcfwd::app
