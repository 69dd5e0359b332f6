// mcfwd::control request parsing — a command's untrusted parameter string as
// tokens: positional parameters first, then options as key=value, separated by
// commas and/or blanks (docs/TELEMETRY.md "Parameters"). Every rule a token must
// meet (printable ASCII, at most max_token bytes, a known option, each once, a
// value) is checked here, so the executor sees only well-formed requests.
//
// Thread-safety: reentrant.
#pragma once

#include "control/value.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace mcfwd::control {

/// Longest parameter string execute() takes: what fits one DPDK telemetry read
/// after the shortest command name (control/gateway.hpp). Longer is EMSGSIZE.
inline constexpr size_t max_params_bytes = 1023;

/// Longer tokens are refused, never cut.
inline constexpr size_t max_token = 64;

/// A request's tokens; the views point into the parameter string.
struct Args {
    std::vector<std::string_view> pos;
    std::vector<std::pair<std::string_view, std::string_view>> opts;

    std::optional<std::string_view> opt(std::string_view key) const {
        for (auto& [k, v] : opts)
            if (k == key)
                return v;
        return std::nullopt;
    }
};

/// Splits params into out; key=value tokens are options and must be in allowed.
/// An error answer (EMSGSIZE, EINVAL) when a rule is broken.
std::optional<Value> tokenize(std::string_view params, std::span<const std::string_view> allowed,
                              Args& out);

/// A decimal count, the whole token; nullopt otherwise.
std::optional<size_t> parse_count(std::string_view s);

} // namespace mcfwd::control
