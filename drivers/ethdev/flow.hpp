// mcfwd::ethdev — rte_flow rules that steer IGMP and MLD to the control queue.
//
// The forwarding lcores must not see membership reports: they go to the
// control lcore's RX queue. A NIC that accepts these rules does the split in
// hardware; without them (every virtual device here) the data path's parser
// punts IGMP/MLD in software (pktparse's punt flag), so a refusal is not fatal.
//
// The rules, each ingress, action QUEUE(queue) then END:
//   igmp      ETH / IPV4 next_proto_id=2 (RFC 2236 §2, RFC 3376 §4) / END
//   mld_hbh   ETH / IPV6 proto=0 (Hop-by-Hop)                      / END
//   mld_<t>   ETH / IPV6 proto=58 / ICMP6 type=t                   / END
//             for t in 130 (query), 131 (v1 report), 132 (v1 done),
//             143 (v2 report) (RFC 2710 §3, RFC 3810 §5).
//
// Why the Hop-by-Hop rule: every conforming MLD message carries the Router
// Alert option in a Hop-by-Hop header (RFC 2710 §3, RFC 3810 §5), so its IPv6
// Next Header is 0, not 58. rte_flow's IPV6 item matches hdr.proto against the
// first Next Header only, so "IPV6 proto 58 / ICMP6 type" never matches a
// conforming MLD packet. DPDK 22.11 has an IPV6_EXT item (next_hdr after the
// extension chain) and the IPV6 item's has_hop_ext bit, but few PMDs parse
// through an extension header to an ICMP6 item, and a rule a PMD cannot
// express is refused at validation. So MLD is steered by the broader "any
// packet with a Hop-by-Hop header" rule; such packets are rare outside MLD
// (RSVP, jumbograms): the control lcore's decoder drops whatever is not MLD
// and counts it (ControlCounters::dropped by reason); such packets are not
// forwarded on a port that steers. The per-type rules catch MLD sent without Hop-by-Hop
// (non-conforming: the control plane drops it after validation, but it must
// not be forwarded as data either).
#pragma once

#include "base/errc.hpp"

#include <rte_flow.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace mcfwd::ethdev {

inline constexpr uint8_t k_ipproto_igmp = 2;
inline constexpr uint8_t k_ipproto_hopopts = 0;
inline constexpr uint8_t k_ipproto_icmpv6 = 58;
/// MLD ICMPv6 types: query, v1 report, v1 done, v2 report.
inline constexpr std::array<uint8_t, 4> k_mld_types = {130, 131, 132, 143};

/// One rule as plain data: spec/mask storage plus the rte_flow arrays built
/// over it. pattern() and actions() point into *this: use them while *this is
/// alive and not moved. A null spec in an item means "any" (the ETH item).
struct ControlRule {
    std::string name;
    rte_flow_attr attr{};
    rte_flow_item_type l3 = RTE_FLOW_ITEM_TYPE_IPV4; // IPV4 or IPV6
    rte_flow_item_ipv4 ipv4_spec{}, ipv4_mask{};
    rte_flow_item_ipv6 ipv6_spec{}, ipv6_mask{};
    bool has_icmp6 = false;
    rte_flow_item_icmp6 icmp6_spec{}, icmp6_mask{};
    rte_flow_action_queue queue{};

    /// ETH / l3 [/ ICMP6] / END.
    std::vector<rte_flow_item> pattern() const;
    /// QUEUE / END.
    std::array<rte_flow_action, 2> actions() const;
};

/// The rules above for control queue `queue`, in the order listed. Pure: no
/// device, no EAL.
std::vector<ControlRule> control_rules(uint16_t queue);

struct ControlRulesResult {
    bool installed = false;
    errc error = errc::ok;        // why not installed (errno of the refusal)
    std::string reason;           // which rule, and the PMD's message
    std::vector<rte_flow*> flows; // the installed rules (empty unless installed)
};

/// Validates every rule of control_rules(queue) on port_id, and only if all
/// validate creates them. On any refusal (validation or creation) nothing is
/// left installed: rules already created are destroyed. Control thread; the
/// port must be configured (and, for most PMDs, started).
ControlRulesResult install_control_rules(uint16_t port_id, uint16_t queue);

/// Destroys flows (from install_control_rules); returns the first error. Control thread.
errc remove_control_rules(uint16_t port_id, std::vector<rte_flow*>& flows);

} // namespace mcfwd::ethdev
