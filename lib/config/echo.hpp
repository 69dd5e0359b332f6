// How a user's value appears in a configuration error (internal to lib/config).
//
// Its first 64 bytes, cut on a UTF-8 character boundary, control characters as '?' (a
// value may hold escapes such as "\e[2J" that would act on the terminal), and when cut,
// "…" and its length: a 10 MB name is shown as its start, not printed back whole. Every
// user value a message echoes goes through cut() or shown().
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mcfwd::config {

inline constexpr size_t echo_max = 64;

/// The value as is: `aaaa… (N bytes)` when cut.
std::string cut(std::string_view s);

/// The value in quotes: `"aaaa…" (N bytes)` when cut. (Not called quoted(): std::quoted
/// would win overload resolution by ADL for a std::string argument.)
std::string shown(std::string_view s);

} // namespace mcfwd::config
