#include "options.hpp"

#include <cstdlib>
#include <cstring>

namespace mcfwd::app {

const char* usage() {
    return "usage: mcfwd --config FILE [--duration SECONDS] [--idle-exit SECONDS] [--stats]"
           " [-- EAL ARGS...]\n"
           "       mcfwd --help\n";
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
        if (std::strcmp(a, "--") == 0) {
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
        } else if (std::strcmp(a, "--help") == 0 || std::strcmp(a, "-h") == 0) {
            o.help = true;
            return o;
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
