// What mcfwd knows of DPDK's device strings, to refuse a bad one before the EAL starts
// (internal to lib/config; no DPDK here).
//
// A port's `device:` is a --vdev string, "INSTANCE[,key=value...]", that the app hands to
// rte_dev_probe(). DPDK checks it only then, after the EAL started: an unknown driver, a
// devarg the PMD does not take or a capture file that is missing made mcfwd fail with
// "Bad address" or "Operation not permitted" and no column. check_device() refuses what
// the text alone shows; check_device_on_host() what this machine shows (files,
// interfaces), as far as it can be known before the PMD opens them.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mcfwd::config::devices {

/// What a devarg's value names, for check_device_on_host().
enum class ArgKind : unsigned char {
    plain,      // a number, a MAC, a ring action: not checked here
    read_file,  // a capture file the PMD reads (net_pcap rx_pcap)
    write_file, // a capture file the PMD creates (net_pcap tx_pcap)
    interface,  // an existing network interface the PMD opens
};

struct Devarg {
    std::string_view key;
    ArgKind kind = ArgKind::plain;
};

struct VdevDriver {
    std::string_view name;                   // net_pcap
    std::span<const Devarg> args;            // the keys its probe accepts
    std::span<const std::string_view> needs; // its probe fails without one of these (if any)
};

/// The virtual-device drivers mcfwd runs on, in name order.
std::span<const VdevDriver> drivers();

/// The driver of an instance name: DPDK's vdev bus takes the first driver whose name
/// starts the instance name (vdev_parse(), drivers/bus/vdev/vdev.c), so "net_pcap0" and
/// "net_pcap_uplink" are both net_pcap. nullptr when none of drivers() matches.
const VdevDriver* find_driver(std::string_view instance);

/// The instance name of a device string: the text before the first ','.
std::string_view instance_name(std::string_view device);

/// The longest instance name DPDK takes: RTE_DEV_NAME_MAX_LEN (64) with its NUL.
inline constexpr size_t instance_name_max = 63;

/// One key[=value] of the devargs, split as rte_kvargs_parse() does (lib/kvargs): at
/// commas outside [...] lists, empty pairs skipped.
struct Arg {
    std::string_view key;
    std::string_view value;
    bool has_value = false;
};

/// The devargs of a device string (the text after the first ',').
std::vector<Arg> split_devargs(std::string_view device);

/// Why the device string cannot probe, judged from its text: not of the form
/// INSTANCE[,key=value...], a PCI address (that goes under pci:), an unknown driver, a
/// name longer than DPDK takes, a key the driver does not take, a required key missing.
/// Empty when the text is fine. Values in the reason are cut (echo.hpp).
std::optional<std::string> check_device(std::string_view device);

/// Why the device cannot probe on this machine now: a capture file to read that is not
/// there or not readable, a capture file to write whose directory is missing or not
/// writable, an interface to open that does not exist. Relative paths are taken from the
/// current directory, as the PMD takes them. Empty when nothing is wrong. Call after
/// check_device() accepted the string.
std::optional<std::string> check_device_on_host(std::string_view device);

/// A PCI address in the form DPDK names the device: "0000:01:00.0" (lower case,
/// domain:bus:device.function, function 0..7). The domain may be left out ("01:00.0"),
/// as DPDK's -a allows; it is then 0000. Empty if s is no PCI address.
std::optional<std::string> canonical_pci(std::string_view s);

} // namespace mcfwd::config::devices
