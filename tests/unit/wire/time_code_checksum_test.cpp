#include "wire/checksum.hpp"
#include "wire/time_code.hpp"
#include "wire_test_util.hpp"

#include <gtest/gtest.h>

namespace mcfwd::wire {
namespace {

struct Code8Row {
    uint8_t code;
    uint32_t value;
};

// RFC 3376 §4.1.1: below 128 linear; above, (mant | 0x10) << (exp + 3).
TEST(TimeCode, Code8MatchesRfc3376Formula) {
    const Code8Row rows[] = {
        {0x00, 0},    {0x01, 1},     {0x64, 100},   {0x7f, 127}, {0x80, 128},
        {0x81, 136},  {0x8f, 248},   {0x90, 256},   {0x9f, 496}, {0xa0, 512},
        {0xc5, 2688}, {0xf0, 16384}, {0xff, 31744},
    };
    for (const auto& r : rows) {
        EXPECT_EQ(decode_code8(r.code), r.value) << int(r.code);
        EXPECT_EQ(encode_code8(r.value), r.code) << r.value;
    }
}

TEST(TimeCode, Code8EveryCodeRoundTrips) {
    for (unsigned c = 0; c < 256; ++c)
        EXPECT_EQ(encode_code8(decode_code8(uint8_t(c))), c);
}

TEST(TimeCode, Code8RoundsDownAndClamps) {
    EXPECT_EQ(decode_code8(encode_code8(135)), 128u);
    EXPECT_EQ(decode_code8(encode_code8(257)), 256u);
    EXPECT_EQ(encode_code8(31745), 0xff);
    EXPECT_EQ(encode_code8(1u << 30), 0xff);
}

// RFC 3810 §5.1.3: below 32768 linear; above, (mant | 0x1000) << (exp + 3).
TEST(TimeCode, Code16MatchesRfc3810Formula) {
    EXPECT_EQ(decode_code16(10000), 10000u);
    EXPECT_EQ(decode_code16(0x7fff), 32767u);
    EXPECT_EQ(decode_code16(0x8000), 32768u);
    EXPECT_EQ(decode_code16(0x8001), 32776u);
    EXPECT_EQ(decode_code16(0x9000), 65536u);
    EXPECT_EQ(decode_code16(0xffff), code16_max);
    EXPECT_EQ(encode_code16(code16_max + 1), 0xffff);
    EXPECT_EQ(decode_code16(encode_code16(32775)), 32768u);
}

TEST(TimeCode, Code16EveryCodeRoundTrips) {
    for (unsigned c = 0; c < 65536; ++c)
        ASSERT_EQ(encode_code16(decode_code16(uint16_t(c))), c);
}

// RFC 1071 §3 worked example: 0001 f203 f4f5 f6f7 sums to ddf2.
TEST(Checksum, MatchesRfc1071Example) {
    const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_EQ(internet_checksum(data), 0x220d);
    EXPECT_EQ(test::ref_checksum({data, data + 8}), 0x220d);
}

TEST(Checksum, OddLengthPadsWithZeroAndAgreesWithReference) {
    test::Bytes b;
    for (int i = 0; i < 999; ++i)
        b.push_back(uint8_t(i * 37 + 11));
    EXPECT_EQ(internet_checksum(b), test::ref_checksum(b));
    b.push_back(0);
    EXPECT_EQ(internet_checksum(b), test::ref_checksum(b));
}

TEST(Checksum, PseudoHeaderSumEqualsChecksumOverItsBytes) {
    auto src = test::ip("fe80::1:2");
    auto dst = test::ip("ff02::16");
    auto bytes = test::pseudo_header(src, dst, 0x12345, 58);
    EXPECT_EQ(checksum_finish(ipv6_pseudo_header_sum(src, dst, 0x12345, 58)),
              test::ref_checksum(bytes));
}

TEST(DropReasons, NamesAndDescriptionsComeFromTheOneList) {
    EXPECT_EQ(drop_reason_name(DropReason::eth_truncated), "eth_truncated");
    EXPECT_EQ(drop_reason_name(DropReason::bad_group), "bad_group");
    EXPECT_EQ(static_cast<std::size_t>(DropReason::bad_group) + 1, drop_reason_count);
    for (std::size_t i = 0; i < drop_reason_count; ++i) {
        EXPECT_NE(drop_reason_name(DropReason(i)), "?");
        EXPECT_FALSE(drop_reason_description(DropReason(i)).empty());
    }
    EXPECT_EQ(drop_reason_name(DropReason(drop_reason_count)), "?");
}

} // namespace
} // namespace mcfwd::wire
