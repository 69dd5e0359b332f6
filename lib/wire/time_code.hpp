// mcfwd::wire — the floating-point time codes of IGMPv3 and MLDv2.
//
// RFC 3376 §4.1.1 (Max Resp Code) and §4.1.7 (QQIC), and RFC 3810 §5.1.9 (QQIC),
// use an 8-bit code: below 128 it is the value itself; otherwise it is
// 1|exp(3)|mant(4) and the value is (mant | 0x10) << (exp + 3).
// RFC 3810 §5.1.3 (Maximum Response Code) uses a 16-bit code: below 32768 it is
// the value itself; otherwise 1|exp(3)|mant(12) and the value is
// (mant | 0x1000) << (exp + 3).
//
// Both mappings are one-to-one on the codes, so decode(encode(decode(c))) == decode(c)
// and encode(decode(c)) == c: the decoder and encoder agree exactly, which the
// fuzz target relies on. Values that are not representable are rounded down to
// the nearest representable value (a querier that asks for a little less time
// gets answers a little sooner, never later) and clamped at the largest.
#pragma once

#include <cstdint>

namespace mcfwd::wire {

/// Largest value an 8-bit code represents: 31 << 10.
inline constexpr uint32_t code8_max = 31744;
/// Largest value a 16-bit code represents: 0x1fff << 10.
inline constexpr uint32_t code16_max = 8387584;

constexpr uint32_t decode_code8(uint8_t code) noexcept {
    if (code < 0x80)
        return code;
    return uint32_t((code & 0x0f) | 0x10) << (((code >> 4) & 0x07) + 3);
}

constexpr uint8_t encode_code8(uint32_t value) noexcept {
    if (value < 0x80)
        return static_cast<uint8_t>(value);
    if (value > code8_max)
        value = code8_max;
    unsigned exp = 0;
    while ((value >> (exp + 3)) > 0x1f)
        ++exp;
    return static_cast<uint8_t>(0x80 | exp << 4 | ((value >> (exp + 3)) & 0x0f));
}

constexpr uint32_t decode_code16(uint16_t code) noexcept {
    if (code < 0x8000)
        return code;
    return uint32_t((code & 0x0fff) | 0x1000) << (((code >> 12) & 0x07) + 3);
}

constexpr uint16_t encode_code16(uint32_t value) noexcept {
    if (value < 0x8000)
        return static_cast<uint16_t>(value);
    if (value > code16_max)
        value = code16_max;
    unsigned exp = 0;
    while ((value >> (exp + 3)) > 0x1fff)
        ++exp;
    return static_cast<uint16_t>(0x8000 | exp << 12 | ((value >> (exp + 3)) & 0x0fff));
}

} // namespace mcfwd::wire
