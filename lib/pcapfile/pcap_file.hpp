// mcfwd::pcapfile — classic libpcap files of Ethernet frames.
//
// Written: magic 0xa1b2c3d4 in host byte order (microsecond timestamps),
// version 2.4, LINKTYPE_ETHERNET (1). Read: either byte order, microsecond or
// nanosecond magic, any link type reported back. Enough for tshark, scapy and
// DPDK's net_pcap; not pcapng.
//
// Thread-safety: a writer or reader object belongs to one thread.
#pragma once

#include "base/clock.hpp"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mcfwd::pcapfile {

struct Packet {
    time_point timestamp;
    std::vector<uint8_t> data;
};

class Writer {
public:
    Writer() = default;
    ~Writer() { close(); }
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    /// Creates (truncates) path and writes the file header. False (with errno set)
    /// if the file cannot be created.
    bool open(const std::string& path, uint32_t snaplen = 65535);
    /// Appends one frame stamped with t (the engine's time: seconds since its origin).
    /// Frames longer than snaplen are truncated in the file, as a capture would.
    bool write(time_point t, std::span<const uint8_t> frame);
    bool is_open() const noexcept { return f_ != nullptr; }
    size_t packets() const noexcept { return packets_; }
    void close();

private:
    std::FILE* f_ = nullptr;
    uint32_t snaplen_ = 65535;
    size_t packets_ = 0;
};

struct File {
    uint32_t link_type = 0;
    std::vector<Packet> packets;
};

/// Reads a whole file; nullopt if it cannot be read or is not a classic pcap file
/// (a truncated last record is an error too: the file was not closed properly).
std::optional<File> read(const std::string& path);

} // namespace mcfwd::pcapfile
