// The queries the engine emits are sendable as they are: wire::encode_query builds frames
// from them and wire::decode gives the same values back, the S flag and the source list of
// group-and-source-specific queries included.
#include "router_test_support.hpp"

#include "wire/codec.hpp"

namespace mcfwd::router::test {
namespace {

class EncodeQueries : public ::testing::TestWithParam<const Names*> {};

TEST_P(EncodeQueries, EveryEmittedQueryRoundTripsThroughTheCodec) {
    const Names& n = *GetParam();
    RouterHarness h(n, default_config(n));
    h.engine.start(h.now());
    h.report(RecordType::mode_is_include, "ab");
    h.report(RecordType::block_old_sources, "ab");
    h.run_until(at(500ms));
    h.report(RecordType::mode_is_include, "a");
    h.run_until(at(1s)); // the S-set / S-clear pair
    ASSERT_EQ(h.sink.sent, strs({"Q() S=0", "Q(G,ab) S=0", "Q(G,a) S=1", "Q(G,b) S=0"}));

    wire::FrameParams params;
    params.src_mac = addr::MacAddr{{0x02, 0, 0, 0, 0, 1}};
    params.ipv4_src = n.family == Family::v4 ? ip(n.self) : IpAddr::v4(0);
    params.ipv6_src = n.family == Family::v6 ? ip(n.self) : IpAddr{};
    for (const wire::Query& q : h.sink.queries) {
        std::vector<wire::Frame> frames;
        ASSERT_EQ(wire::encode_query(q, params, frames), errc::ok);
        ASSERT_EQ(frames.size(), 1u);
        const wire::DecodeResult d = wire::decode(frames[0]);
        ASSERT_TRUE(std::holds_alternative<wire::DecodedFrame>(d));
        const auto& frame = std::get<wire::DecodedFrame>(d);
        const auto* back = std::get_if<wire::Query>(&frame.message);
        ASSERT_NE(back, nullptr);
        EXPECT_EQ(*back, q);
        // RFC 3376 §4.1.12 / RFC 3810 §5.1.15: specific queries go to the group.
        EXPECT_EQ(frame.ip_dst, q.group.is_unspecified()
                                    ? ip(n.family == Family::v4 ? "224.0.0.1" : "ff02::1")
                                    : q.group);
    }
}

INSTANTIATE_TEST_SUITE_P(Families, EncodeQueries, ::testing::Values(&v4_names, &v6_names),
                         [](const auto& info) { return std::string(info.param->name); });

} // namespace
} // namespace mcfwd::router::test
