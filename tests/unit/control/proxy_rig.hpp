// Frames and port setups the proxy's tests share (proxy_test.cpp,
// router_commands_test.cpp): an upstream port 0 and downstream ports with fixed
// addresses, a downstream host's IGMPv3 report and another router's query.
#pragma once

#include "control/control_plane.hpp"
#include "wire/codec.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mcfwd::control::testing {

inline IpAddr addr_of(const char* s) {
    return *IpAddr::parse(s);
}

/// Port 0, "uplink", 192.0.2.10 / fe80::10, with a NIC filter and a table.
inline PortSetup upstream_setup(nicfilter::PortDriver* nic, table::PortTable* table,
                                EncodingSink::Transmit transmit) {
    PortSetup s;
    s.id = 0;
    s.name = "uplink";
    s.driver = nic;
    s.table = table;
    s.frame.src_mac = *addr::MacAddr::parse("02:00:00:00:00:10");
    s.frame.ipv4_src = addr_of("192.0.2.10");
    s.frame.ipv6_src = addr_of("fe80::10");
    s.transmit = std::move(transmit);
    return s;
}

/// Downstream port id (1..9), "down<id>", 198.51.100.<id> / fe80::1:<id>.
inline PortSetup downstream_setup(PortId id, EncodingSink::Transmit transmit) {
    PortSetup s;
    s.id = id;
    s.name = "down" + std::to_string(id);
    s.role = PortRole::downstream;
    s.frame.src_mac = *addr::MacAddr::parse("02:00:00:00:01:0" + std::to_string(id));
    s.frame.ipv4_src = addr_of(("198.51.100." + std::to_string(id)).c_str());
    s.frame.ipv6_src = addr_of(("fe80::1:" + std::to_string(id)).c_str());
    s.transmit = std::move(transmit);
    return s;
}

/// A listener on a downstream link (198.51.100.100) sends one IGMPv3 record.
inline std::vector<wire::Frame> host_report(wire::RecordType type, const IpAddr& group,
                                            std::vector<IpAddr> sources) {
    wire::FrameParams host;
    host.src_mac = *addr::MacAddr::parse("02:00:00:00:aa:01");
    host.ipv4_src = addr_of("198.51.100.100");
    wire::Report report;
    report.records.push_back({type, group, std::move(sources)});
    std::vector<wire::Frame> frames;
    EXPECT_EQ(wire::encode(wire::Message{report}, host, frames), errc::ok);
    return frames;
}

/// Another router's IGMPv3 general query (Max Resp 10 s) from `from`.
inline wire::Frame router_query(const char* from) {
    wire::FrameParams router;
    router.src_mac = *addr::MacAddr::parse("02:00:00:00:00:fe");
    router.ipv4_src = addr_of(from);
    wire::Query q;
    q.max_response = std::chrono::seconds(10);
    std::vector<wire::Frame> frames;
    EXPECT_EQ(wire::encode_query(q, router, frames), errc::ok);
    return frames.at(0);
}

} // namespace mcfwd::control::testing
