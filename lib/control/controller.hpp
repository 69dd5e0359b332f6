// mcfwd::control::Controller — what the control lcore owns: the membership
// engine, each port's NIC filter, and the list of other consumers of
// membership events (IGMP/MLD host engines, forwarding tables).
//
// Every group-change event of the engine goes first to the port's NicFilter
// (the port joined a group: take a reference on its MAC; left: drop it), then
// to the other listeners in registration order. Join-all transitions force
// allmulticast on the port's NicFilter. A port with no device attached (yet)
// simply has no NIC filter to program.
//
// Thread-safety: none; the control lcore is the only caller.
#pragma once

#include "membership/engine.hpp"
#include "nicfilter/nic_filter.hpp"

#include <memory>
#include <vector>

namespace mcfwd::control {

using addr::IpAddr;
using membership::PortId;

class Controller final : private membership::Listener {
public:
    explicit Controller(membership::Limits limits = {});
    Controller(const Controller&) = delete;
    Controller& operator=(const Controller&) = delete;

    membership::Engine& engine() noexcept { return engine_; }
    const membership::Engine& engine() const noexcept { return engine_; }

    /// Attaches the device behind a port id. Call before the port joins groups
    /// (the NIC filter starts empty). EADDRINUSE if the port has a device already.
    /// driver must outlive the Controller.
    errc attach_device(PortId port, nicfilter::PortDriver& driver);
    /// The port's NIC filter; null if no device is attached.
    nicfilter::NicFilter* nic_filter(PortId port) noexcept;
    const nicfilter::NicFilter* nic_filter(PortId port) const noexcept;

    /// Holds every attached NIC filter while it lives (NicFilter::hold): each device
    /// is programmed once when it ends, for all the changes made meanwhile. The
    /// control plane opens one around a control frame, a turn of timers, a link
    /// change and a batch of proxied changes.
    class DeviceBatch {
    public:
        explicit DeviceBatch(Controller& c) noexcept : c_(c) {
            for (auto& f : c_.nic_filters_)
                if (f)
                    f->hold();
        }
        ~DeviceBatch() {
            for (auto& f : c_.nic_filters_)
                if (f)
                    f->release();
        }
        DeviceBatch(const DeviceBatch&) = delete;
        DeviceBatch& operator=(const DeviceBatch&) = delete;

    private:
        Controller& c_;
    };

    /// Adds a consumer of membership events, called after the NIC filter. It must
    /// outlive the Controller and must not call back into the engine.
    void add_listener(membership::Listener& listener) { listeners_.push_back(&listener); }

private:
    void on_group_change(PortId port, const IpAddr& group, const filter::FilterState& old_filter,
                         const filter::FilterState& new_filter) override;
    void on_allmulti_change(PortId port, bool on) override;
    void on_members_change(PortId port, const IpAddr& group) override;

    membership::Engine engine_;
    std::vector<std::unique_ptr<nicfilter::NicFilter>> nic_filters_; // by PortId
    std::vector<membership::Listener*> listeners_;
};

} // namespace mcfwd::control
