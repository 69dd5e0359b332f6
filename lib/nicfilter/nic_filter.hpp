// mcfwd::nicfilter::NicFilter — one port's multicast MAC filter, reference counted.
//
// Many groups map to one MAC (RFC 1112 §6.4 keeps only the low 23 bits of an IPv4
// group, RFC 2464 §7 the low 32 bits of an IPv6 group: 224.1.2.3 and 225.129.2.3
// both map to 01:00:5e:01:02:03). Following illumos ip_mphysaddr_add/_del and
// mc_multicst(9E), the framework — this class — counts references per MAC and the
// device is asked to add a MAC once (first group of that MAC) and to remove it once
// (last group of that MAC). The list the device accepted last is kept, so that
// after a device reset or restart reprogram() restores it.
//
// Fallback to allmulticast (the device refused the list):
//   - not_supported: the device has no multicast filter. Allmulticast while at least
//     one MAC is wanted; the device is not asked for a list again until reprogram().
//   - no_space at list size n: the table is too small. Allmulticast; the device is
//     not asked again until the wanted list is shorter than n, so a port with 100k
//     groups and a 32-entry table adds and removes groups in O(1), without device
//     calls, while it stays in allmulticast.
//   - invalid / io: allmulticast; the list is tried again at the next change.
//   - An empty wanted list never needs allmulticast (no group would be lost).
// Allmulticast is left again as soon as a list is accepted and nothing forces it.
// force_allmulticast() (the membership engine's join-all) wins as the reason; the
// MAC list is still kept and programmed when it fits, so leaving forced mode is
// immediate. A failed set_allmulticast() is counted and retried at the next change.
//
// "A change" — the only moments the device is called — is: the set of wanted MACs
// changed (add/remove of a group that was the first/last of its MAC), a
// force_allmulticast() transition, or reprogram(). Adding or removing a group whose
// MAC stays wanted never calls the device.
//
// Thread-safety: none. One NicFilter per port, used only by the control lcore.
// Telemetry reads a snapshot() taken (and published) by the control lcore.
#pragma once

#include "addr/ip_addr.hpp"
#include "addr/mac_addr.hpp"
#include "base/errc.hpp"
#include "nicfilter/port_driver.hpp"

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mcfwd::nicfilter {

/// Why the port is (or wants to be) in allmulticast.
enum class AllmultiReason : uint8_t {
    none,          // not in allmulticast
    forced,        // force_allmulticast(true): join-all by the membership engine
    not_supported, // the device has no multicast filter list (ENOTSUP)
    table_full,    // the device's filter table is too small (ENOSPC)
    invalid,       // the device rejected the list (EINVAL)
    device_error,  // the device failed (EIO or any other error)
};

constexpr std::string_view allmulti_reason_name(AllmultiReason r) noexcept {
    switch (r) {
    case AllmultiReason::none:
        return "none";
    case AllmultiReason::forced:
        return "forced";
    case AllmultiReason::not_supported:
        return "not_supported";
    case AllmultiReason::table_full:
        return "table_full";
    case AllmultiReason::invalid:
        return "invalid";
    case AllmultiReason::device_error:
        return "device_error";
    }
    return "unknown";
}

/// Device calls and their outcomes, since construction.
struct NicFilterCounters {
    uint64_t list_programs = 0;     // set_mc_addr_list() calls the device accepted
    uint64_t list_failures = 0;     // set_mc_addr_list() calls the device refused
    uint64_t allmulti_enables = 0;  // successful set_allmulticast(true)
    uint64_t allmulti_disables = 0; // successful set_allmulticast(false)
    uint64_t allmulti_failures = 0; // set_allmulticast() calls that failed

    friend bool operator==(const NicFilterCounters&, const NicFilterCounters&) = default;
};

struct MacRefcount {
    addr::MacAddr mac;
    uint32_t groups = 0; // number of groups (with at least one reference) mapping to mac

    friend bool operator==(const MacRefcount&, const MacRefcount&) = default;
};

/// A copy of the whole state for telemetry; lists are sorted by MAC.
struct NicFilterSnapshot {
    std::vector<MacRefcount> wanted;              // MACs the port's groups need
    std::vector<addr::MacAddr> programmed;        // the list the device accepted last
    bool allmulti = false;                        // allmulticast as the device last accepted it
    bool allmulti_wanted = false;                 // differs from allmulti only after a failure
    AllmultiReason reason = AllmultiReason::none; // why allmulti is wanted
    bool forced = false;
    errc last_list_error = errc::ok;   // result of the last set_mc_addr_list()
    errc last_device_error = errc::ok; // last error of either device call
    size_t no_space_at = 0;            // 0, or the list size the device last refused as full
    bool not_supported = false;        // the device said it has no list (until reprogram())
    NicFilterCounters counters;
};

class NicFilter {
public:
    /// driver must outlive the NicFilter. Nothing is programmed until the first change.
    explicit NicFilter(PortDriver& driver) : driver_(driver) {}
    NicFilter(const NicFilter&) = delete;
    NicFilter& operator=(const NicFilter&) = delete;

    /// Takes a reference on group. Groups are reference counted themselves (adding
    /// the same group twice needs two removes). The device is programmed only when
    /// this is the first group of its MAC.
    /// Returns ok (also when the device refused: that is handled by the fallback
    /// and visible in snapshot()), or invalid if group is not multicast (no change).
    errc add_group(const addr::IpAddr& group);

    /// Drops a reference on group; the device is programmed only when this was the
    /// last group of its MAC. Returns ok, or addr_not_avail if group holds no
    /// reference (a caller bug; nothing changes).
    errc remove_group(const addr::IpAddr& group);

    /// Enters (on) or leaves (off) forced allmulticast. The membership engine counts
    /// its join-all references and calls this on the 0 -> 1 and 1 -> 0 transitions;
    /// a call that does not change the state does nothing.
    void force_allmulticast(bool on);

    /// After a device reset or restart: pushes the kept list and the allmulticast
    /// state again, whatever this object believes the device holds (the programmed
    /// copy is emptied first: a reset device holds no list), and forgets that the
    /// device said not_supported. The no_space size is kept (a reset does not grow
    /// the table): a list known not to fit is not pushed, the port just goes to
    /// allmulticast. Returns ok if the device accepted every call made, else the
    /// first error (the fallback applies as usual).
    errc reprogram();

    /// Batching. While held (hold() more often than release()), add_group,
    /// remove_group and force_allmulticast only record the change; the last
    /// release() programs the device once for all of them: one list, at most one
    /// allmulticast call. The list is a sorted copy of every wanted MAC, so
    /// programming costs O(wanted MACs): a report of 100 groups on a port that
    /// already wants 20,000 costs one programming held, 100 unheld. The control
    /// plane holds its devices while it handles one control frame, one turn of
    /// timers, one link change or a batch of proxied changes.
    void hold() noexcept { ++holds_; }
    /// Returns what programming returned (ok when nothing was due or still held).
    errc release();
    bool held() const noexcept { return holds_ != 0; }

    // Read-only state. O(1) unless stated.
    size_t wanted_mac_count() const noexcept { return macs_.size(); }
    size_t group_count() const noexcept { return groups_.size(); }
    /// References held on group (0 if none).
    uint32_t group_refcount(const addr::IpAddr& group) const noexcept;
    /// Groups referencing mac (0 if none).
    uint32_t mac_refcount(const addr::MacAddr& mac) const noexcept;
    /// The list the device accepted last, sorted.
    const std::vector<addr::MacAddr>& programmed() const noexcept { return programmed_; }
    bool allmulti() const noexcept { return allmulti_on_; }
    bool allmulti_wanted() const noexcept { return forced_ || list_fault_ != AllmultiReason::none; }
    AllmultiReason reason() const noexcept {
        return forced_ ? AllmultiReason::forced : list_fault_;
    }
    bool forced() const noexcept { return forced_; }
    errc last_list_error() const noexcept { return last_list_error_; }
    errc last_device_error() const noexcept { return last_device_error_; }
    const NicFilterCounters& counters() const noexcept { return counters_; }
    /// The whole state; O(number of wanted MACs · log).
    NicFilterSnapshot snapshot() const;

private:
    // Brings the device in line with the wanted state. push: call the device even
    // if nothing seems to need it (reprogram()). Returns the first device error.
    errc sync(bool push);
    // A wanted change: sync now, or at the last release() while held.
    void changed();
    errc sync_list(bool push);
    errc sync_allmulti(bool push);
    const std::vector<addr::MacAddr>& wanted_list();

    PortDriver& driver_;
    std::unordered_map<addr::IpAddr, uint32_t> groups_; // group -> references (> 0)
    std::unordered_map<addr::MacAddr, uint32_t> macs_;  // MAC -> groups (> 0)

    std::vector<addr::MacAddr> list_; // wanted MACs sorted; valid iff list_valid_
    bool list_valid_ = true;
    bool list_dirty_ = false; // the device may not hold the wanted list
    std::vector<addr::MacAddr> programmed_;

    AllmultiReason list_fault_ = AllmultiReason::none; // why the list is not enough
    size_t no_space_at_ = 0; // device refused a list of this size as full; 0: unknown
    bool not_supported_ = false;

    bool forced_ = false;
    bool allmulti_on_ = false;      // as the device last accepted it
    bool allmulti_pending_ = false; // the last set_allmulticast() failed

    errc last_list_error_ = errc::ok;
    errc last_device_error_ = errc::ok;
    NicFilterCounters counters_;

    unsigned holds_ = 0;       // hold() calls not yet released
    bool held_change_ = false; // a change waits for the last release()
};

} // namespace mcfwd::nicfilter
