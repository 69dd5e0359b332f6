// mcfwd::wire — IGMP/MLD messages to Ethernet frames and back.
//
// Encoding (RFC 1112, RFC 2236, RFC 3376 for IGMPv1/2/3; RFC 2710, RFC 3810 for
// MLDv1/2) builds complete frames: Ethernet (+ optional 802.1Q tag), IPv4 with
// TTL 1 and, except for IGMPv1, the Router Alert option (RFC 2113), or IPv6 with
// hop limit 1 and a Hop-by-Hop header carrying Router Alert value 0 (RFC 2711,
// RFC 3810 §5), and the IGMP / ICMPv6 message with its checksum. The Ethernet
// destination is the mapped multicast MAC of the IP destination (RFC 1112 §6.4,
// RFC 2464 §7). Frames are not padded to 60 octets; the NIC pads runts.
//
// Decoding takes a whole Ethernet frame and returns either the message with the
// header facts a state machine or a policy needs, or the reason it was dropped
// (drop_reason.hpp). It validates every layer and never reads past the span.
//
// All functions are pure and thread-safe; they allocate (frames, source lists)
// and so run on the control lcore, not in the forwarding path.
#pragma once

#include "base/errc.hpp"
#include "wire/drop_reason.hpp"
#include "wire/messages.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <variant>
#include <vector>

namespace mcfwd::wire {

/// One Ethernet frame without FCS.
using Frame = std::vector<uint8_t>;

/// What the encoder needs to know about the port it sends on.
struct FrameParams {
    MacAddr src_mac;
    /// IGMP source. 0.0.0.0 is allowed (RFC 3376 §4.2.13: a host without an
    /// address yet reports from 0.0.0.0).
    IpAddr ipv4_src = IpAddr::v4(0);
    /// MLD source; must be link-local (fe80::/10, RFC 3810 §5), else MLD encoding
    /// fails with errc::invalid.
    IpAddr ipv6_src;
    /// 802.1Q VLAN identifier (0..4095); no tag when empty.
    std::optional<uint16_t> vlan;
    /// 802.1Q priority (0..7). 0: Linux sends IGMP/MLD untagged-priority too, and
    /// nothing in the RFCs asks for more.
    uint8_t vlan_pcp = 0;
    /// Largest IP packet (header included) the link carries; reports are split to
    /// fit it. At least 68 for IGMP (RFC 791) and 1280 for MLD (RFC 8200 §5).
    uint16_t mtu = 1500;
};

// Encoders append the frames to `out` and return errc::ok, or return
// errc::invalid and leave `out` as it was when the message cannot be sent:
// - a message whose family does not match its addresses (IGMP needs IPv4
//   addresses; MLD needs IPv6 groups; sources of MLD messages are sent as their
//   16 bytes whatever they hold);
// - a group that is not multicast (a query's may also be unspecified);
// - a version the protocol does not have (IGMP 1..3, MLD 1..2 for queries;
//   IGMP 1..2, MLD 1 for legacy reports), sources in a version 1/2 query;
// - MLD without a link-local ipv6_src, IGMP without an IPv4 ipv4_src;
// - a VLAN id above 4095, a PCP above 7, an MTU below the minimum;
// - more than 65535 sources in a query.

/// An IGMPv3 report to 224.0.0.22 or an MLDv2 report to ff02::16 (RFC 3376
/// §4.2.14, RFC 3810 §5.2.14), split over as many frames as the MTU requires
/// (RFC 3376 §4.2.16, RFC 3810 §5.2.15):
/// - records are packed in order, a record never straddles two frames;
/// - a record too large for any frame is sent alone in as many frames as needed,
///   each holding the next chunk of its sources (same type, same group), unless
///   its type is MODE_IS_EXCLUDE or CHANGE_TO_EXCLUDE_MODE: then one record is
///   sent with as many of its sources as fit, in the given order, and the rest
///   are not reported, as the RFCs require. Callers keep sources sorted so the
///   same subset is reported each time, as the RFCs prefer.
/// A report without records produces no frame.
errc encode_report(const Report& report, const FrameParams& params, std::vector<Frame>& out);

/// IGMPv1 (type 0x12, no Router Alert), IGMPv2 (0x16) or MLDv1 (131) report,
/// sent to the group (RFC 1112 App. I, RFC 2236 §3, RFC 2710 §3).
errc encode_legacy_report(const LegacyReport& report, const FrameParams& params,
                          std::vector<Frame>& out);

/// IGMPv2 leave group (0x17) to 224.0.0.2 (RFC 2236 §3) or MLDv1 done (132) to
/// ff02::2 (RFC 2710 §4).
errc encode_leave(const Leave& leave, const FrameParams& params, std::vector<Frame>& out);

/// A query of the given version, to the group, or to 224.0.0.1 / ff02::1 when
/// the group is unspecified. Times are encoded as follows (rounded down):
/// - IGMPv1: Max Resp Code 0 (RFC 3376 §7.1), max_response ignored;
/// - IGMPv2: tenths of a second, linear, clamped to 1..255 (0 would make it v1);
/// - IGMPv3: tenths of a second, RFC 3376 §4.1.1 code; QQIC in seconds (§4.1.7);
///   a QRV above 7 is sent as 0 (§4.1.6);
/// - MLDv1: milliseconds, clamped to 65535 (RFC 2710 §3.4);
/// - MLDv2: milliseconds, RFC 3810 §5.1.3 code; QQIC in seconds (§5.1.9).
/// qrv, qqi, suppress_router_processing and sources are sent only by version 3
/// (IGMP) / 2 (MLD).
errc encode_query(const Query& query, const FrameParams& params, std::vector<Frame>& out);

/// Dispatches on the message kind.
errc encode(const Message& message, const FrameParams& params, std::vector<Frame>& out);

/// A frame the decoder accepted.
struct DecodedFrame {
    MacAddr dst_mac;
    MacAddr src_mac;
    std::optional<uint16_t> vlan; // VLAN id of the 802.1Q tag, if any
    uint8_t vlan_pcp = 0;
    IpAddr ip_src;
    IpAddr ip_dst;
    uint8_t ttl = 0; // TTL or hop limit; always 1, other values are dropped
    /// The IPv4 Router Alert option / IPv6 Hop-by-Hop Router Alert (value 0, MLD)
    /// was present. IGMPv2/v3 and MLD messages without it are still decoded: RFC
    /// 3376 §9.1 leaves ignoring them to the receiver's policy.
    bool router_alert = false;
    /// Group records skipped because their type is unknown (RFC 3810 §5.2.12).
    uint16_t ignored_records = 0;
    Message message;
};

/// Decoded frame or the reason for dropping it.
using DecodeResult = std::variant<DecodedFrame, DropReason>;

/// Decodes one Ethernet frame (without FCS; trailing padding is ignored).
/// Versions of queries follow RFC 3376 §7.1 (8 octets and Max Resp Code 0: v1;
/// 8 octets otherwise: v2; 12 or more: v3) and RFC 3810 §8.1 (24 octets: v1,
/// 28 or more: v2). A decoded IGMPv1 query has max_response 10 s. Octets after
/// the fields a message defines are checksummed and otherwise ignored (RFC 2236
/// §2.5, RFC 3376 §4.1.10 / §4.2.11); auxiliary data of records is skipped, and
/// so are records of an unknown type (counted in ignored_records).
DecodeResult decode(std::span<const uint8_t> frame);

} // namespace mcfwd::wire
