#include "options.hpp"

#include <cstdlib>
#include <cstring>

namespace mcfwd::app {

const char* usage() {
    return "usage: mcfwd --config FILE [--duration SECONDS] [--idle-exit SECONDS] [--stats]"
           " [-- EAL ARGS...]\n"
           "  -c, --config FILE    the YAML configuration (docs/CONFIGURATION.md)\n"
           "  --duration SECONDS   stop after that long\n"
           "  --idle-exit SECONDS  stop once no packet has arrived for that long\n"
           "  --stats              at exit, after the counters, print them as one JSON object\n"
           "                       on one line (the answer of /mcfwd/stats, docs/TELEMETRY.md)\n"
           "  -h, --help           print this text and exit\n"
           "  -- EAL ARGS...       DPDK EAL arguments after the configuration's eal: list\n"
           "                       (e.g. -- --file-prefix NAME for a second instance)\n"
           "Without --duration or --idle-exit mcfwd runs until SIGINT or SIGTERM; it then\n"
           "leaves every group on the wire and prints its counters. Exit status: 0 stopped,\n"
           "1 starting failed (EAL, a port), 2 bad command line or configuration.\n";
}

static std::optional<double> seconds(const char* text) {
    char* end = nullptr;
    double v = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(v > 0) || v > 1e9)
        return std::nullopt;
    return v;
}

std::optional<Options> parse_options(int argc, const char* const* argv, std::string& error) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        auto value = [&](const char* name) -> const char* {
            if (i + 1 >= argc) {
                error = std::string(name) + " needs a value";
                return nullptr;
            }
            return argv[++i];
        };
        if (std::strcmp(a, "--help") == 0 || std::strcmp(a, "-h") == 0) {
            o.help = true;
            return o;
        } else if (std::strcmp(a, "--") == 0) {
            for (++i; i < argc; ++i)
                o.eal_args.emplace_back(argv[i]);
            break;
        } else if (std::strcmp(a, "--config") == 0 || std::strcmp(a, "-c") == 0) {
            const char* v = value("--config");
            if (!v)
                return std::nullopt;
            o.config = v;
        } else if (std::strcmp(a, "--duration") == 0 || std::strcmp(a, "--idle-exit") == 0) {
            const char* v = value(a);
            if (!v)
                return std::nullopt;
            auto s = seconds(v);
            if (!s) {
                error = std::string(a) + ": not a positive number of seconds: " + v;
                return std::nullopt;
            }
            (a[2] == 'd' ? o.duration : o.idle_exit) = s;
        } else if (std::strcmp(a, "--stats") == 0) {
            o.stats = true;
        } else {
            error = std::string("unknown option: ") + a;
            return std::nullopt;
        }
    }
    if (o.config.empty()) {
        error = "--config FILE is required";
        return std::nullopt;
    }
    return o;
}

} // namespace mcfwd::app
