// mcfwd::control::EncodingSink — turns a host engine's messages into Ethernet
// frames for one port (the codec splits reports by the port's MTU) and hands
// each frame to a transmit function (a DPDK TX queue, a pcap file, a test).
//
// Thread-safety: none; the control lcore owns it.
#pragma once

#include "host/host_engine.hpp"
#include "wire/codec.hpp"

#include <cstdint>
#include <functional>
#include <span>

namespace mcfwd::control {

struct EncodingCounters {
    uint64_t messages = 0;      // messages handed over by the engine
    uint64_t frames = 0;        // frames handed to transmit
    uint64_t encode_errors = 0; // messages the codec refused (e.g. MLD without link-local)
};

class EncodingSink final : public host::ReportSink {
public:
    using Transmit = std::function<void(std::span<const uint8_t> frame)>;

    EncodingSink(wire::FrameParams params, Transmit transmit)
        : params_(std::move(params)), transmit_(std::move(transmit)) {}

    void send(const wire::Message& msg) override {
        ++counters_.messages;
        frames_.clear();
        if (wire::encode(msg, params_, frames_) != errc::ok) {
            ++counters_.encode_errors;
            return;
        }
        for (const auto& f : frames_) {
            ++counters_.frames;
            transmit_(f);
        }
    }

    const wire::FrameParams& params() const noexcept { return params_; }
    void set_params(wire::FrameParams params) { params_ = std::move(params); }
    const EncodingCounters& counters() const noexcept { return counters_; }

private:
    wire::FrameParams params_;
    Transmit transmit_;
    std::vector<wire::Frame> frames_; // reused: no allocation per message once warm
    EncodingCounters counters_;
};

} // namespace mcfwd::control
