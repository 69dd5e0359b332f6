// mcfwd — the multicast forwarder. See README.md and docs/CONFIGURATION.md.
//
// Exit status: 0 after a clean stop or --help (signal, --duration, --idle-exit); 2 for a bad
// command line or configuration (nothing was started: no EAL, no port touched);
// 1 when starting failed (EAL, a port, memory).
#include "config/config.hpp"
#include "options.hpp"
#include "runtime.hpp"

#include <cstdio>

int main(int argc, char** argv) {
    std::string error;
    auto opts = mcfwd::app::parse_options(argc, argv, error);
    if (!opts) {
        std::fprintf(stderr, "mcfwd: %s\n%s", error.c_str(), mcfwd::app::usage());
        return 2;
    }
    if (opts->help) {
        std::fputs(mcfwd::app::usage(), stdout);
        return 0;
    }
    mcfwd::config::Config cfg;
    try {
        cfg = mcfwd::config::load_file(opts->config);
    } catch (const mcfwd::config::ConfigError& e) {
        std::fprintf(stderr, "mcfwd: %s\n", e.what());
        return 2;
    }
    return mcfwd::app::run(cfg, *opts);
}
