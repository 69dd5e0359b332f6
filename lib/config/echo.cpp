#include "config/echo.hpp"

#include <algorithm>

namespace mcfwd::config {

namespace {

struct Excerpt {
    std::string text;
    std::string note; // " (N bytes)" when cut, else empty
};

Excerpt excerpt(std::string_view s) {
    size_t n = std::min(s.size(), echo_max);
    if (n < s.size()) // back up to a UTF-8 character boundary
        while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80)
            --n;
    Excerpt e;
    e.text.reserve(n + 3);
    for (char c : s.substr(0, n))
        e.text += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    if (n < s.size()) {
        e.text += "…";
        e.note = " (" + std::to_string(s.size()) + " bytes)";
    }
    return e;
}

} // namespace

std::string cut(std::string_view s) {
    Excerpt e = excerpt(s);
    return e.text + e.note;
}

std::string shown(std::string_view s) {
    const Excerpt e = excerpt(s);
    return "\"" + e.text + "\"" + e.note;
}

} // namespace mcfwd::config
