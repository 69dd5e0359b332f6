#include "ethdev/flow.hpp"

#include <rte_byteorder.h>
#include <rte_errno.h>

namespace mcfwd::ethdev {

std::vector<rte_flow_item> ControlRule::pattern() const {
    std::vector<rte_flow_item> items;
    items.push_back({RTE_FLOW_ITEM_TYPE_ETH, nullptr, nullptr, nullptr});
    if (l3 == RTE_FLOW_ITEM_TYPE_IPV4)
        items.push_back({RTE_FLOW_ITEM_TYPE_IPV4, &ipv4_spec, nullptr, &ipv4_mask});
    else
        items.push_back({RTE_FLOW_ITEM_TYPE_IPV6, &ipv6_spec, nullptr, &ipv6_mask});
    if (has_icmp6)
        items.push_back({RTE_FLOW_ITEM_TYPE_ICMP6, &icmp6_spec, nullptr, &icmp6_mask});
    items.push_back({RTE_FLOW_ITEM_TYPE_END, nullptr, nullptr, nullptr});
    return items;
}

std::array<rte_flow_action, 2> ControlRule::actions() const {
    return {{{RTE_FLOW_ACTION_TYPE_QUEUE, &queue}, {RTE_FLOW_ACTION_TYPE_END, nullptr}}};
}

std::vector<ControlRule> control_rules(uint16_t queue) {
    std::vector<ControlRule> rules;
    ControlRule base;
    base.attr.ingress = 1;
    base.queue.index = queue;

    ControlRule igmp = base;
    igmp.name = "igmp";
    igmp.l3 = RTE_FLOW_ITEM_TYPE_IPV4;
    igmp.ipv4_spec.hdr.next_proto_id = k_ipproto_igmp;
    igmp.ipv4_mask.hdr.next_proto_id = 0xff;
    rules.push_back(igmp);

    ControlRule hbh = base;
    hbh.name = "mld_hbh";
    hbh.l3 = RTE_FLOW_ITEM_TYPE_IPV6;
    hbh.ipv6_spec.hdr.proto = k_ipproto_hopopts;
    hbh.ipv6_mask.hdr.proto = 0xff;
    rules.push_back(hbh);

    for (uint8_t type : k_mld_types) {
        ControlRule r = base;
        r.name = "mld_" + std::to_string(type);
        r.l3 = RTE_FLOW_ITEM_TYPE_IPV6;
        r.ipv6_spec.hdr.proto = k_ipproto_icmpv6;
        r.ipv6_mask.hdr.proto = 0xff;
        r.has_icmp6 = true;
        r.icmp6_spec.type = type;
        r.icmp6_mask.type = 0xff;
        rules.push_back(r);
    }
    return rules;
}

namespace {

std::string describe(const ControlRule& r, const char* step, int rc, const rte_flow_error& e) {
    std::string s = std::string(step) + " " + r.name + ": " + rte_strerror(-rc);
    if (e.message)
        s += std::string(" (") + e.message + ")";
    return s;
}

} // namespace

ControlRulesResult install_control_rules(uint16_t port_id, uint16_t queue) {
    ControlRulesResult res;
    const std::vector<ControlRule> rules = control_rules(queue);
    for (const ControlRule& r : rules) {
        rte_flow_error err{};
        const auto items = r.pattern();
        const auto acts = r.actions();
        const int rc = rte_flow_validate(port_id, &r.attr, items.data(), acts.data(), &err);
        if (rc != 0) {
            res.error = errc_from_errno(rc);
            res.reason = describe(r, "validate", rc, err);
            return res;
        }
    }
    for (const ControlRule& r : rules) {
        rte_flow_error err{};
        const auto items = r.pattern();
        const auto acts = r.actions();
        rte_flow* f = rte_flow_create(port_id, &r.attr, items.data(), acts.data(), &err);
        if (f == nullptr) {
            const int rc = -rte_errno;
            res.error = errc_from_errno(rc);
            res.reason = describe(r, "create", rc, err);
            remove_control_rules(port_id, res.flows);
            return res;
        }
        res.flows.push_back(f);
    }
    res.installed = true;
    return res;
}

errc remove_control_rules(uint16_t port_id, std::vector<rte_flow*>& flows) {
    errc first = errc::ok;
    for (rte_flow* f : flows) {
        rte_flow_error err{};
        const int rc = rte_flow_destroy(port_id, f, &err);
        if (rc != 0 && first == errc::ok)
            first = errc_from_errno(rc);
    }
    flows.clear();
    return first;
}

} // namespace mcfwd::ethdev
