#include "pcapfile/pcap_file.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <unistd.h>

namespace mcfwd::pcapfile {
namespace {

std::string temp_path(const char* name) {
    return std::string(::testing::TempDir()) + "/" + name + "." + std::to_string(getpid());
}

TEST(PcapFile, WrittenFramesReadBackWithTimestamps) {
    const auto path = temp_path("rt.pcap");
    Writer w;
    ASSERT_TRUE(w.open(path));
    std::vector<uint8_t> a{1, 2, 3}, b(1500, 0xab);
    ASSERT_TRUE(w.write(time_point{std::chrono::milliseconds(1500)}, a));
    ASSERT_TRUE(w.write(time_point{std::chrono::seconds(3)}, b));
    ASSERT_TRUE(w.write(time_point{}, {}));
    EXPECT_EQ(w.packets(), 3u);
    w.close();
    auto f = read(path);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->link_type, 1u);
    ASSERT_EQ(f->packets.size(), 3u);
    EXPECT_EQ(f->packets[0].data, a);
    EXPECT_EQ(f->packets[0].timestamp.since_origin, std::chrono::milliseconds(1500));
    EXPECT_EQ(f->packets[1].data, b);
    EXPECT_TRUE(f->packets[2].data.empty());
    std::remove(path.c_str());
}

TEST(PcapFile, SnaplenTruncatesLikeACapture) {
    const auto path = temp_path("snap.pcap");
    Writer w;
    ASSERT_TRUE(w.open(path, 4));
    std::vector<uint8_t> a{1, 2, 3, 4, 5, 6};
    ASSERT_TRUE(w.write({}, a));
    w.close();
    auto f = read(path);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->packets.at(0).data, (std::vector<uint8_t>{1, 2, 3, 4}));
    std::remove(path.c_str());
}

TEST(PcapFile, RejectsNonPcapAndTruncatedFiles) {
    const auto path = temp_path("bad.pcap");
    { std::ofstream(path, std::ios::binary) << "this is not a pcap file at all....."; }
    EXPECT_FALSE(read(path));
    Writer w;
    ASSERT_TRUE(w.open(path));
    std::vector<uint8_t> a(100, 1);
    ASSERT_TRUE(w.write({}, a));
    w.close();
    ASSERT_EQ(truncate(path.c_str(), 24 + 16 + 50), 0);
    EXPECT_FALSE(read(path));
    EXPECT_FALSE(read(path + ".missing"));
    std::remove(path.c_str());
}

TEST(PcapFile, ReadsBigEndianFiles) {
    const auto path = temp_path("be.pcap");
    const uint8_t file[] = {0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0,
                            0,    0,    0xff, 0xff, 0, 0, 0, 1,                         // header
                            0,    0,    0,    7,    0, 0, 0, 9, 0, 0, 0, 2, 0, 0, 0, 2, // record
                            0xde, 0xad};
    {
        std::ofstream(path, std::ios::binary)
            .write(reinterpret_cast<const char*>(file), sizeof file);
    }
    auto f = read(path);
    ASSERT_TRUE(f);
    ASSERT_EQ(f->packets.size(), 1u);
    EXPECT_EQ(f->packets[0].data, (std::vector<uint8_t>{0xde, 0xad}));
    EXPECT_EQ(f->packets[0].timestamp.since_origin,
              std::chrono::seconds(7) + std::chrono::microseconds(9));
    std::remove(path.c_str());
}

} // namespace
} // namespace mcfwd::pcapfile
