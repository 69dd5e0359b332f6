// Golden packets: frames from the encoder dissected by tshark (Wireshark's
// dissectors are an independent reading of the RFCs), and frames crafted by
// scapy decoded by our decoder. Each test skips, saying why, when its tool is
// missing; none passes without having run its tool.
#include "wire_test_util.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <sstream>
#include <unistd.h>

namespace mcfwd::wire {
namespace {

using namespace std::chrono_literals;
using namespace test;

bool have_program(const std::string& name) {
    return !run("command -v " + name + " 2>/dev/null").empty();
}

/// A fresh directory under TMPDIR (or /tmp), removed with its files at scope end.
class TempDir {
public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/mcfwd-wire-XXXXXX";
        if (mkdtemp(tmpl.data()) != nullptr)
            path_ = tmpl;
    }
    ~TempDir() {
        if (!path_.empty())
            run("rm -rf '" + path_ + "'");
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

FrameParams port_params() {
    FrameParams p;
    p.src_mac = MacAddr{{0x02, 0x00, 0x00, 0x00, 0x00, 0x07}};
    p.ipv4_src = ip("192.0.2.7");
    p.ipv6_src = ip("fe80::7");
    return p;
}

std::vector<IpAddr> v4_range(uint32_t first, std::size_t n) {
    std::vector<IpAddr> v;
    for (std::size_t i = 0; i < n; ++i)
        v.push_back(IpAddr::v4(first + uint32_t(i)));
    return v;
}

struct GoldenFrame {
    std::string what;
    std::map<std::string, std::string> fields; // tshark field → expected text
};

/// Encodes `m` and records the expectations for each frame it produces.
void add(std::vector<Frame>& frames, std::vector<GoldenFrame>& golden, const Message& m,
         const FrameParams& p, std::vector<std::map<std::string, std::string>> per_frame,
         const std::string& what) {
    std::vector<Frame> out;
    ASSERT_EQ(encode(m, p, out), errc::ok) << what;
    ASSERT_EQ(out.size(), per_frame.size()) << what;
    for (std::size_t i = 0; i < out.size(); ++i) {
        frames.push_back(out[i]);
        golden.push_back({what + " #" + std::to_string(i), per_frame[i]});
    }
}

TEST(GoldenTshark, EncodedFramesDissectCleanlyWithTheExpectedFields) {
    if (!have_program("tshark"))
        GTEST_SKIP() << "tshark not found on PATH: golden dissection not checked";
    std::vector<Frame> frames;
    std::vector<GoldenFrame> golden;
    const FrameParams p = port_params();
    FrameParams tagged = p;
    tagged.vlan = 100;

    add(frames, golden,
        Report{Family::v4,
               {{RecordType::mode_is_include, ip("232.1.1.1"), {ip("10.0.0.1"), ip("10.0.0.2")}},
                {RecordType::change_to_exclude, ip("239.1.1.1"), {}},
                {RecordType::block_old_sources, ip("232.2.2.2"), {ip("10.9.9.9")}}}},
        p,
        {{{"igmp.type", "0x22"},
          {"igmp.num_grp_recs", "3"},
          {"igmp.record_type", "1,4,6"},
          {"igmp.num_src", "2,0,1"},
          {"igmp.maddr", "232.1.1.1,239.1.1.1,232.2.2.2"},
          {"igmp.saddr", "10.0.0.1,10.0.0.2,10.9.9.9"},
          {"ip.dst", "224.0.0.22"},
          {"eth.dst", "01:00:5e:00:00:16"},
          {"ip.ttl", "1"},
          {"ip.dsfield", "0xc0"},
          {"ip.opt.ra", "0"}}},
        "igmpv3 report");
    // 500 sources of ALLOW at MTU 1500: 365 + 135 (RFC 3376 §4.2.16).
    add(frames, golden,
        Report{Family::v4,
               {{RecordType::allow_new_sources, ip("232.5.5.5"), v4_range(0x0a010001, 500)}}},
        p,
        {{{"igmp.record_type", "5"}, {"igmp.num_src", "365"}, {"ip.len", "1500"}},
         {{"igmp.record_type", "5"}, {"igmp.num_src", "135"}}},
        "split igmpv3 report");
    add(frames, golden, LegacyReport{Family::v4, 1, ip("239.0.0.5")}, p,
        {{{"igmp.type", "0x12"},
          {"igmp.version", "1"},
          {"ip.dst", "239.0.0.5"},
          {"ip.opt.ra", ""}}},
        "igmpv1 report");
    add(frames, golden, LegacyReport{Family::v4, 2, ip("239.0.0.5")}, p,
        {{{"igmp.type", "0x16"}, {"igmp.maddr", "239.0.0.5"}, {"eth.dst", "01:00:5e:00:00:05"}}},
        "igmpv2 report");
    add(frames, golden, Leave{Family::v4, ip("239.0.0.5")}, tagged,
        {{{"igmp.type", "0x17"},
          {"igmp.maddr", "239.0.0.5"},
          {"ip.dst", "224.0.0.2"},
          {"vlan.id", "100"}}},
        "igmpv2 leave on vlan 100");
    add(frames, golden, Query{Family::v4, 1, IpAddr::v4(0), 10s, false, 0, 0s, {}}, p,
        {{{"igmp.type", "0x11"}, {"igmp.version", "1"}, {"ip.dst", "224.0.0.1"}}}, "igmpv1 query");
    add(frames, golden, Query{Family::v4, 2, ip("239.0.0.5"), 1s, false, 0, 0s, {}}, p,
        {{{"igmp.type", "0x11"},
          {"igmp.version", "2"},
          {"igmp.max_resp", "10"},
          {"igmp.maddr", "239.0.0.5"}}},
        "igmpv2 group query");
    add(frames, golden,
        Query{Family::v4,
              3,
              ip("232.1.1.1"),
              25600ms,
              true,
              2,
              125s,
              {ip("10.0.0.1"), ip("10.0.0.3")}},
        p,
        {{{"igmp.version", "3"},
          {"igmp.max_resp", "256"},
          {"igmp.s", "1"},
          {"igmp.qrv", "2"},
          {"igmp.qqic", "125"},
          {"igmp.num_src", "2"},
          {"igmp.saddr", "10.0.0.1,10.0.0.3"}}},
        "igmpv3 group-and-source query");
    add(frames, golden,
        Report{Family::v6,
               {{RecordType::allow_new_sources, ip("ff3e::1"), {ip("2001:db8::1")}},
                {RecordType::change_to_include, ip("ff05::1:3"), {}}}},
        p,
        {{{"icmpv6.type", "143"},
          {"icmpv6.mldr.nb_mcast_records", "2"},
          {"icmpv6.mldr.mar.record_type", "5,3"},
          {"icmpv6.mldr.mar.nb_sources", "1,0"},
          {"icmpv6.mldr.mar.multicast_address", "ff3e::1,ff05::1:3"},
          {"icmpv6.mldr.mar.source_address", "2001:db8::1"},
          {"ipv6.dst", "ff02::16"},
          {"ipv6.hlim", "1"},
          {"eth.dst", "33:33:00:00:00:16"}}},
        "mldv2 report");
    add(frames, golden, LegacyReport{Family::v6, 1, ip("ff05::2")}, tagged,
        {{{"icmpv6.type", "131"}, {"icmpv6.mld.multicast_address", "ff05::2"}, {"vlan.id", "100"}}},
        "mldv1 report on vlan 100");
    add(frames, golden, Leave{Family::v6, ip("ff05::2")}, p,
        {{{"icmpv6.type", "132"}, {"ipv6.dst", "ff02::2"}}}, "mldv1 done");
    add(frames, golden, Query{Family::v6, 1, IpAddr{}, 10s, false, 0, 0s, {}}, p,
        {{{"icmpv6.type", "130"},
          {"icmpv6.mld.maximum_response_delay", "10000"},
          {"ipv6.dst", "ff02::1"}}},
        "mldv1 general query");
    add(frames, golden,
        Query{Family::v6,
              2,
              ip("ff3e::1"),
              20s,
              false,
              2,
              125s,
              {ip("2001:db8::1"), ip("2001:db8::2")}},
        p,
        {{{"icmpv6.type", "130"},
          {"icmpv6.mld.maximum_response_code", "20000"},
          {"icmpv6.mld.flag.qrv", "2"},
          {"icmpv6.mld.qqi", "125"},
          {"icmpv6.mld.nb_sources", "2"},
          {"icmpv6.mld.source_address", "2001:db8::1,2001:db8::2"}}},
        "mldv2 group-and-source query");
    ASSERT_FALSE(HasFailure());

    TempDir dir;
    ASSERT_FALSE(dir.path().empty());
    const std::string pcap = dir.path() + "/encoded.pcap";
    write_pcap(pcap, frames);

    // 1. The verbose dissection has no malformation and no checksum complaint
    //    (ip.check_checksum is off by default in Wireshark; turn it on).
    int status = -1;
    const std::string verbose =
        run("tshark -n -o ip.check_checksum:TRUE -r '" + pcap + "' -V 2>&1", &status);
    ASSERT_EQ(status, 0) << verbose;
    ASSERT_NE(verbose.find("Multicast Listener Report Message v2"), std::string::npos)
        << "tshark produced no dissection:\n"
        << verbose.substr(0, 2000);
    for (const char* bad :
         {"Malformed", "incorrect", "Bad checksum", "Expert Info (Error", "Expert Info (Warning"}) {
        auto at = verbose.find(bad);
        EXPECT_EQ(at, std::string::npos)
            << "tshark says '" << bad << "':\n"
            << verbose.substr(at == std::string::npos ? 0 : (at > 1500 ? at - 1500 : 0), 2500);
    }
    const std::size_t good_checksums = [&] {
        std::size_t n = 0;
        for (auto at = verbose.find("[Checksum Status: Good]"); at != std::string::npos;
             at = verbose.find("[Checksum Status: Good]", at + 1))
            ++n;
        return n;
    }();
    EXPECT_EQ(good_checksums, frames.size()); // every IGMP / ICMPv6 checksum was verified

    // 2. Field by field.
    std::vector<std::string> names;
    for (const auto& g : golden)
        for (const auto& [name, value] : g.fields)
            if (std::find(names.begin(), names.end(), name) == names.end())
                names.push_back(name);
    std::string cmd = "tshark -n -r '" + pcap + "' -T fields -E separator='|' -E occurrence=a";
    for (const auto& n : names)
        cmd += " -e " + n;
    const std::string table = run(cmd + " 2>/dev/null", &status);
    ASSERT_EQ(status, 0);
    std::istringstream lines(table);
    std::string line;
    std::size_t frame = 0;
    while (std::getline(lines, line)) {
        ASSERT_LT(frame, golden.size()) << "extra line: " << line;
        std::vector<std::string> cols;
        std::size_t start = 0;
        for (std::size_t bar; (bar = line.find('|', start)) != std::string::npos; start = bar + 1)
            cols.push_back(line.substr(start, bar - start));
        cols.push_back(line.substr(start));
        ASSERT_EQ(cols.size(), names.size()) << line;
        for (std::size_t c = 0; c < names.size(); ++c) {
            auto it = golden[frame].fields.find(names[c]);
            if (it != golden[frame].fields.end()) {
                EXPECT_EQ(cols[c], it->second) << golden[frame].what << ": " << names[c];
            }
        }
        ++frame;
    }
    EXPECT_EQ(frame, golden.size());
}

TEST(GoldenTshark, CorruptedChecksumIsReportedSoTheCheckAboveCanFail) {
    if (!have_program("tshark"))
        GTEST_SKIP() << "tshark not found on PATH: golden dissection not checked";
    std::vector<Frame> out;
    ASSERT_EQ(encode(LegacyReport{Family::v4, 2, ip("239.0.0.5")}, port_params(), out), errc::ok);
    out[0].back() ^= 0x01;
    TempDir dir;
    const std::string pcap = dir.path() + "/bad.pcap";
    write_pcap(pcap, out);
    const std::string verbose = run("tshark -n -r '" + pcap + "' -V 2>&1");
    EXPECT_NE(verbose.find("Bad checksum"), std::string::npos) << verbose;
}

// --- scapy ---

std::string craft_script() {
    return std::string(MCFWD_SOURCE_ROOT) + "/scripts/golden/craft.py";
}

TEST(GoldenScapy, CraftedFramesDecodeToTheExpectedMessages) {
    if (access("/usr/bin/python3", X_OK) != 0)
        GTEST_SKIP() << "/usr/bin/python3 not found: scapy golden frames not checked";
    if (run("/usr/bin/python3 -c 'import scapy.contrib.igmpv3, scapy.layers.inet6' "
            ">/dev/null 2>&1 && echo yes") != "yes\n")
        GTEST_SKIP() << "scapy not importable by /usr/bin/python3: golden frames not checked";
    TempDir dir;
    ASSERT_FALSE(dir.path().empty());
    const std::string pcap = dir.path() + "/scapy.pcap";
    int status = -1;
    const std::string log =
        run("/usr/bin/python3 '" + craft_script() + "' '" + pcap + "' 2>&1", &status);
    ASSERT_EQ(status, 0) << log;
    const std::vector<Bytes> frames = read_pcap(pcap);
    ASSERT_EQ(frames.size(), 8u);

    std::vector<DecodedFrame> d;
    for (const Bytes& f : frames) {
        auto r = decode_ok(f);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->ttl, 1);
        EXPECT_TRUE(r->router_alert);
        EXPECT_EQ(r->src_mac, (MacAddr{{0x02, 0, 0, 0, 0, 0x01}}));
        d.push_back(*r);
    }
    EXPECT_EQ(d[0].message,
              Message(Report{
                  Family::v4,
                  {{RecordType::mode_is_include, ip("232.1.1.1"), {ip("10.0.0.1"), ip("10.0.0.2")}},
                   {RecordType::change_to_exclude, ip("239.1.1.1"), {}},
                   {RecordType::block_old_sources, ip("232.2.2.2"), {ip("10.9.9.9")}}}}));
    EXPECT_EQ(d[0].ip_src, ip("192.0.2.1"));
    EXPECT_EQ(d[0].ip_dst, ip("224.0.0.22"));
    EXPECT_EQ(d[1].message, Message(LegacyReport{Family::v4, 2, ip("239.0.0.5")}));
    EXPECT_EQ(d[2].message, Message(Leave{Family::v4, ip("239.0.0.5")}));
    EXPECT_EQ(d[3].message, Message(Query{Family::v4,
                                          3,
                                          ip("232.1.1.1"),
                                          25600ms,
                                          true,
                                          2,
                                          125s,
                                          {ip("10.0.0.1"), ip("10.0.0.3")}}));
    EXPECT_EQ(d[4].message,
              Message(Report{Family::v6,
                             {{RecordType::allow_new_sources, ip("ff3e::1"), {ip("2001:db8::1")}},
                              {RecordType::change_to_include, ip("ff05::1:3"), {}}}}));
    EXPECT_EQ(d[4].ip_src, ip("fe80::1"));
    EXPECT_EQ(d[5].message, Message(Query{Family::v6,
                                          2,
                                          ip("ff3e::1"),
                                          20s,
                                          false,
                                          2,
                                          125s,
                                          {ip("2001:db8::1"), ip("2001:db8::2")}}));
    EXPECT_EQ(d[6].message, Message(LegacyReport{Family::v6, 1, ip("ff05::2")}));
    EXPECT_EQ(d[6].vlan, std::optional<uint16_t>(7));
    EXPECT_EQ(d[7].message, Message(Leave{Family::v6, ip("ff05::2")}));
    EXPECT_EQ(d[7].ip_dst, ip("ff02::2"));
}

} // namespace
} // namespace mcfwd::wire
