#include "config/devices.hpp"

#include "config/echo.hpp"

#include <net/if.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace mcfwd::config::devices {

namespace {

using K = ArgKind;

// The one table of what each virtual-device driver takes. From DPDK 22.11.11's sources:
// the valid_arguments[] array each PMD hands to rte_kvargs_parse(), which refuses any
// other key, so the probe fails:
//   drivers/net/af_packet/rte_eth_af_packet.c  (iface is required: "no interface
//                                               specified for AF_PACKET ethdev")
//   drivers/net/null/rte_eth_null.c
//   drivers/net/pcap/pcap_ethdev.c             (without an rx or tx argument: "No rx or
//                                               tx queues provided")
//   drivers/net/ring/rte_eth_ring.c
//   drivers/net/tap/rte_eth_tap.c
// RTE_PMD_REGISTER_PARAM_STRING (what `dpdk-pmdinfo.py` prints for Debian's
// librte_net_*.so.23) lists the same keys, except tap's persist and ring's internal.
// ring's internal is left out here: it carries a pointer that rte_eth_from_rings()
// passes within one process, which no file can give. net_tun (in the tap PMD) is not
// listed: it has no Ethernet header, and mcfwd forwards Ethernet frames.
constexpr std::array af_packet_args{
    Devarg{"iface", K::interface},
    Devarg{"qpairs"},
    Devarg{"blocksz"},
    Devarg{"framesz"},
    Devarg{"framecnt"},
    Devarg{"qdisc_bypass"},
};
constexpr std::array<std::string_view, 1> af_packet_needs{"iface"};
constexpr std::array null_args{Devarg{"size"}, Devarg{"copy"}, Devarg{"no-rx"}};
constexpr std::array pcap_args{
    Devarg{"rx_pcap", K::read_file},
    Devarg{"tx_pcap", K::write_file},
    Devarg{"rx_iface", K::interface},
    Devarg{"rx_iface_in", K::interface},
    Devarg{"tx_iface", K::interface},
    Devarg{"iface", K::interface},
    Devarg{"phy_mac"},
    Devarg{"infinite_rx"},
};
constexpr std::array<std::string_view, 6> pcap_needs{"rx_pcap",     "tx_pcap",  "rx_iface",
                                                     "rx_iface_in", "tx_iface", "iface"};
constexpr std::array ring_args{Devarg{"nodeaction"}};
// iface is the tap interface the PMD creates; remote names an existing one whose
// traffic it mirrors.
constexpr std::array tap_args{Devarg{"iface"}, Devarg{"mac"}, Devarg{"remote", K::interface},
                              Devarg{"persist"}};

constexpr std::array<VdevDriver, 5> table{
    VdevDriver{"net_af_packet", af_packet_args, af_packet_needs},
    VdevDriver{"net_null", null_args, {}},
    VdevDriver{"net_pcap", pcap_args, pcap_needs},
    VdevDriver{"net_ring", ring_args, {}},
    VdevDriver{"net_tap", tap_args, {}},
};

template <typename Range, typename Name>
std::string join(const Range& r, Name name) {
    std::string out;
    for (const auto& x : r) {
        if (!out.empty())
            out += ", ";
        out += name(x);
    }
    return out;
}

std::string driver_names() {
    return join(table, [](const VdevDriver& d) { return std::string(d.name); });
}

bool is_lower_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool valid_instance_name(std::string_view s) {
    if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z'))
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

const Devarg* find_arg(const VdevDriver& d, std::string_view key) {
    for (const Devarg& a : d.args)
        if (a.key == key)
            return &a;
    return nullptr;
}

std::string errno_text(int err) {
    return std::strerror(err);
}

} // namespace

std::span<const VdevDriver> drivers() {
    return table;
}

const VdevDriver* find_driver(std::string_view instance) {
    for (const VdevDriver& d : table)
        if (instance.starts_with(d.name))
            return &d;
    return nullptr;
}

std::string_view instance_name(std::string_view device) {
    return device.substr(0, device.find(','));
}

std::vector<Arg> split_devargs(std::string_view device) {
    std::vector<Arg> out;
    const size_t comma = device.find(',');
    if (comma == std::string_view::npos)
        return out;
    const std::string_view args = device.substr(comma + 1);
    bool in_list = false;
    size_t start = 0;
    for (size_t i = 0; i <= args.size(); ++i) {
        const char c = i < args.size() ? args[i] : ',';
        if (c == '[')
            in_list = true;
        else if (c == ']')
            in_list = false;
        if (c != ',' || (in_list && i < args.size()))
            continue;
        const std::string_view pair = args.substr(start, i - start);
        start = i + 1;
        if (pair.empty())
            continue;
        const size_t eq = pair.find('=');
        if (eq == std::string_view::npos)
            out.push_back({pair, {}, false});
        else
            out.push_back({pair.substr(0, eq), pair.substr(eq + 1), true});
    }
    return out;
}

std::optional<std::string> canonical_pci(std::string_view s) {
    std::string a(s);
    std::transform(a.begin(), a.end(), a.begin(),
                   [](char ch) { return static_cast<char>(std::tolower(ch)); });
    if (a.size() == 7) // bus:device.function, domain 0 (DPDK's PCI_SHORT_PRI_FMT)
        a = "0000:" + a;
    if (a.size() != 12 || a[4] != ':' || a[7] != ':' || a[10] != '.')
        return std::nullopt;
    for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (!is_lower_hex(a[i]))
            return std::nullopt;
    // PCI device numbers are 5 bits (0x00..0x1f), functions 3 (0..7).
    if (a[8] > '1' || a[11] < '0' || a[11] > '7')
        return std::nullopt;
    return a;
}

std::optional<std::string> check_device(std::string_view device) {
    const std::string_view name = instance_name(device);
    if (canonical_pci(name))
        return shown(name) + " is a PCI address: give it as pci: " + shown(name) +
               " (device: is for virtual devices)";
    if (!valid_instance_name(name))
        return shown(device) +
               " is not a virtual device: expected DRIVERINSTANCE[,key=value...] such as "
               "\"net_null0\"";
    const VdevDriver* d = find_driver(name);
    if (d == nullptr)
        return "unknown driver " + shown(name) + " (known: " + driver_names() +
               "; the instance name starts with the driver's, as net_pcap0)";
    if (name.size() > instance_name_max)
        return "device name " + shown(name) + " is longer than the " +
               std::to_string(instance_name_max) + " characters DPDK takes";
    const std::vector<Arg> args = split_devargs(device);
    for (const Arg& a : args)
        if (find_arg(*d, a.key) == nullptr)
            return std::string(d->name) + " takes no devarg " + shown(a.key) + " (it takes: " +
                   join(d->args, [](const Devarg& x) { return std::string(x.key); }) + ")";
    if (!d->needs.empty() && std::none_of(args.begin(), args.end(), [&](const Arg& a) {
            return std::find(d->needs.begin(), d->needs.end(), a.key) != d->needs.end();
        }))
        return std::string(d->name) + " needs " + (d->needs.size() > 1 ? "one of " : "") +
               join(d->needs, [](std::string_view k) { return std::string(k); }) +
               " (its probe fails without)";
    for (const Arg& a : args)
        if (find_arg(*d, a.key)->kind != ArgKind::plain && a.value.empty())
            return std::string(a.key) + " needs a value (" + std::string(a.key) + "=...)";
    return std::nullopt;
}

std::optional<std::string> check_device_on_host(std::string_view device) {
    const VdevDriver* d = find_driver(instance_name(device));
    if (d == nullptr)
        return std::nullopt;
    for (const Arg& a : split_devargs(device)) {
        const Devarg* spec = find_arg(*d, a.key);
        if (spec == nullptr)
            continue;
        const std::string value(a.value);
        const std::string what = std::string(a.key) + " " + shown(value);
        struct stat st {};
        switch (spec->kind) {
        case ArgKind::plain:
            break;
        case ArgKind::read_file:
            if (::stat(value.c_str(), &st) != 0 || ::access(value.c_str(), R_OK) != 0)
                return what + ": " + errno_text(errno);
            if (S_ISDIR(st.st_mode))
                return what + ": " + errno_text(EISDIR);
            break;
        case ArgKind::write_file: {
            if (::stat(value.c_str(), &st) == 0) {
                if (S_ISDIR(st.st_mode))
                    return what + ": " + errno_text(EISDIR);
                if (::access(value.c_str(), W_OK) != 0)
                    return what + ": " + errno_text(errno);
            }
            const size_t slash = value.rfind('/');
            const std::string dir = slash == std::string::npos ? "."
                                    : slash == 0               ? "/"
                                                               : value.substr(0, slash);
            if (::stat(dir.c_str(), &st) != 0)
                return what + ": directory " + shown(dir) + ": " + errno_text(errno);
            if (!S_ISDIR(st.st_mode))
                return what + ": directory " + shown(dir) + ": " + errno_text(ENOTDIR);
            if (::access(dir.c_str(), W_OK) != 0)
                return what + ": directory " + shown(dir) + ": " + errno_text(errno);
            break;
        }
        case ArgKind::interface:
            if (value.size() >= IF_NAMESIZE || ::if_nametoindex(value.c_str()) == 0)
                return what + ": no such network interface on this host";
            break;
        }
    }
    return std::nullopt;
}

} // namespace mcfwd::config::devices
