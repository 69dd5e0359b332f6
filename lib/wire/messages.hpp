// mcfwd::wire — IGMP and MLD messages as values, independent of their bytes.
//
// The codec (codec.hpp) turns these into frames and back; the host and router
// state machines consume and produce only these values. IPv4 means IGMP, IPv6
// means MLD; `version` is the protocol version as RFC 3376 §7.1 / RFC 3810 §8.1
// tell it from the packet (IGMP 1/2/3, MLD 1/2).
#pragma once

#include "addr/ip_addr.hpp"
#include "base/clock.hpp"

#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

namespace mcfwd::wire {

using addr::Family;
using addr::IpAddr;
using addr::MacAddr;

/// RFC 3376 §4.2.12 / RFC 3810 §5.2.12 record types, wire values.
enum class RecordType : uint8_t {
    mode_is_include = 1,
    mode_is_exclude = 2,
    change_to_include = 3,
    change_to_exclude = 4,
    allow_new_sources = 5,
    block_old_sources = 6,
};

constexpr std::string_view record_type_name(RecordType t) noexcept {
    switch (t) {
    case RecordType::mode_is_include: return "IS_IN";
    case RecordType::mode_is_exclude: return "IS_EX";
    case RecordType::change_to_include: return "TO_IN";
    case RecordType::change_to_exclude: return "TO_EX";
    case RecordType::allow_new_sources: return "ALLOW";
    case RecordType::block_old_sources: return "BLOCK";
    }
    return "?";
}

/// One group record of an IGMPv3 / MLDv2 report (auxiliary data is ignored on
/// receive and never sent, as RFC 3376 §4.2.10 allows).
struct GroupRecord {
    RecordType type = RecordType::mode_is_include;
    IpAddr group;
    std::vector<IpAddr> sources;
    friend bool operator==(const GroupRecord&, const GroupRecord&) = default;
};

/// A membership query (any version). For IGMPv1 max_response is 10 s
/// (RFC 3376 §7.1 / RFC 2236 §4); version-3 fields are zero/empty otherwise.
struct Query {
    Family family = Family::v4;
    uint8_t version = 3;
    IpAddr group;                  // unspecified (0.0.0.0 / ::) = general query
    duration max_response{0};      // decoded Max Resp Code / Maximum Response Delay
    bool suppress_router_processing = false; // S flag
    uint8_t qrv = 0;               // 0 = not given
    duration qqi{0};               // decoded QQIC; 0 = not given
    std::vector<IpAddr> sources;   // group-and-source-specific query
    friend bool operator==(const Query&, const Query&) = default;
};

/// An IGMPv3 / MLDv2 report.
struct Report {
    Family family = Family::v4;
    std::vector<GroupRecord> records;
    friend bool operator==(const Report&, const Report&) = default;
};

/// An IGMPv1 / IGMPv2 membership report or an MLDv1 report (one group).
struct LegacyReport {
    Family family = Family::v4;
    uint8_t version = 2; // IGMP 1 or 2; MLD 1
    IpAddr group;
    friend bool operator==(const LegacyReport&, const LegacyReport&) = default;
};

/// An IGMPv2 leave group or an MLDv1 done.
struct Leave {
    Family family = Family::v4;
    IpAddr group;
    friend bool operator==(const Leave&, const Leave&) = default;
};

using Message = std::variant<Query, Report, LegacyReport, Leave>;

} // namespace mcfwd::wire
