#include "control/request.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace mcfwd::control {

// Tokens separated by commas and blanks; key=value tokens are options.
std::optional<Value> tokenize(std::string_view params, std::span<const std::string_view> allowed,
                              Args& out) {
    // The transport cannot carry more (gateway.hpp); a caller that bypasses it
    // (tests, a future transport) meets the same rule.
    if (params.size() >= max_params_bytes)
        return error_value("EMSGSIZE", "parameters of " + std::to_string(params.size()) +
                                           " bytes: over one telemetry read; stage long "
                                           "source lists");
    size_t i = 0;
    while (i < params.size()) {
        const char c = params[i];
        if (c == ',' || c == ' ' || c == '\t') {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < params.size() && params[j] != ',' && params[j] != ' ' && params[j] != '\t')
            ++j;
        std::string_view tok = params.substr(i, j - i);
        i = j;
        for (char t : tok)
            if (static_cast<unsigned char>(t) < 0x20 || static_cast<unsigned char>(t) >= 0x7f)
                return error_value("EINVAL", "parameters must be printable ASCII");
        if (tok.size() > max_token)
            return error_value("EINVAL", "parameter too long: " + quote(tok));
        if (auto eq = tok.find('='); eq != std::string_view::npos) {
            std::string_view key = tok.substr(0, eq), value = tok.substr(eq + 1);
            if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
                return error_value("EINVAL", "unknown option " + quote(key));
            if (out.opt(key))
                return error_value("EINVAL", "option " + quote(key) + " given twice");
            if (value.empty())
                return error_value("EINVAL", "option " + quote(key) + " needs a value");
            out.opts.emplace_back(key, value);
        } else {
            if (!out.opts.empty())
                return error_value("EINVAL",
                                   "positional parameter " + quote(tok) + " after an option");
            out.pos.push_back(tok);
        }
    }
    return std::nullopt;
}

std::optional<size_t> parse_count(std::string_view s) {
    size_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size())
        return std::nullopt;
    return v;
}

} // namespace mcfwd::control
