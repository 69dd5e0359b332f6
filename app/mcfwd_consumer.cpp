// mcfwd-consumer — a receiver's process: attaches to mcfwd as a DPDK secondary
// process, takes the packets mcfwd delivers into the receiver's rte_ring,
// counts them (per (S,G) when the payload carries gen_traffic.py's marker) and
// can write them to a pcap file. The multi-process consumer pattern: the
// packets are mcfwd's mbufs, shared memory, no copy until the pcap.
//
//   mcfwd-consumer --ring NAME [--pcap FILE] [--count N] [--timeout SECONDS]
//                  [-- EAL ARGS]   (default EAL args: --proc-type=secondary --no-pci)
//
// It stops after N packets, after SECONDS without a packet, or on SIGINT/SIGTERM,
// then prints one JSON object: {"ring":..., "packets":..., "bytes":..., "flows":{...}}.
// A secondary process needs the primary to run on hugepages (DPDK 22.11 cannot
// attach to a --no-huge primary).
#include "pcapfile/pcap_file.hpp"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
    g_stop = 1;
}

/// "S=198.51.100.1 G=232.1.1.1" from gen_traffic.py's payload marker, or "".
std::string flow_of(const uint8_t* data, size_t len) {
    std::string_view v(reinterpret_cast<const char*>(data), len);
    auto at = v.find("mcfwd S=");
    if (at == std::string_view::npos)
        return {};
    auto end = v.find(" seq=", at);
    if (end == std::string_view::npos)
        return {};
    return std::string(v.substr(at + 6, end - at - 6));
}

int usage(const char* argv0) {
    std::fprintf(
        stderr,
        "usage: %s --ring NAME [--pcap FILE] [--count N] [--timeout SECONDS] [-- EAL ARGS]\n",
        argv0);
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    std::string ring_name, pcap_path;
    unsigned long long want = 0;
    double timeout = 5.0;
    std::vector<std::string> eal = {argv[0]};
    bool eal_given = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        if (a == "--") {
            eal_given = true;
            for (++i; i < argc; ++i)
                eal.emplace_back(argv[i]);
        } else if (a == "--ring") {
            const char* v = next();
            if (!v)
                return usage(argv[0]);
            ring_name = v;
        } else if (a == "--pcap") {
            const char* v = next();
            if (!v)
                return usage(argv[0]);
            pcap_path = v;
        } else if (a == "--count") {
            const char* v = next();
            if (!v)
                return usage(argv[0]);
            want = std::strtoull(v, nullptr, 10);
        } else if (a == "--timeout") {
            const char* v = next();
            if (!v || std::strtod(v, nullptr) <= 0)
                return usage(argv[0]);
            timeout = std::strtod(v, nullptr);
        } else {
            return usage(argv[0]);
        }
    }
    if (ring_name.empty())
        return usage(argv[0]);
    if (!eal_given) {
        eal.emplace_back("--proc-type=secondary");
        eal.emplace_back("--no-pci");
    }
    std::vector<char*> eal_argv;
    for (auto& s : eal)
        eal_argv.push_back(s.data());
    if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
        std::fprintf(stderr, "mcfwd-consumer: EAL init failed: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    const uint64_t hz = rte_get_timer_hz();
    const uint64_t idle_limit = static_cast<uint64_t>(timeout * double(hz));
    uint64_t last = rte_get_timer_cycles();
    rte_ring* ring = nullptr;
    while (!g_stop && !(ring = rte_ring_lookup(ring_name.c_str()))) {
        if (rte_get_timer_cycles() - last > idle_limit) {
            std::fprintf(stderr, "mcfwd-consumer: no ring named %s\n", ring_name.c_str());
            rte_eal_cleanup();
            return 1;
        }
        rte_delay_us_sleep(10000);
    }

    mcfwd::pcapfile::Writer pcap;
    if (!pcap_path.empty() && !pcap.open(pcap_path)) {
        std::fprintf(stderr, "mcfwd-consumer: cannot write %s: %s\n", pcap_path.c_str(),
                     std::strerror(errno));
        rte_eal_cleanup();
        return 1;
    }
    unsigned long long packets = 0, bytes = 0, multi_segment = 0;
    std::map<std::string, unsigned long long> flows;
    rte_mbuf* burst[32];
    last = rte_get_timer_cycles();
    while (!g_stop && (want == 0 || packets < want)) {
        unsigned n =
            ring ? rte_ring_dequeue_burst(ring, reinterpret_cast<void**>(burst), 32, nullptr) : 0;
        const uint64_t now = rte_get_timer_cycles();
        if (n == 0) {
            if (now - last > idle_limit)
                break;
            rte_delay_us_sleep(100);
            continue;
        }
        last = now;
        for (unsigned i = 0; i < n; ++i) {
            rte_mbuf* m = burst[i];
            const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
            ++packets;
            bytes += m->pkt_len;
            multi_segment += m->nb_segs > 1;
            if (auto f = flow_of(data, m->data_len); !f.empty())
                ++flows[f];
            if (pcap.is_open()) {
                mcfwd::time_point t{
                    std::chrono::nanoseconds(static_cast<int64_t>(double(now) / double(hz) * 1e9))};
                pcap.write(t, {data, m->data_len});
            }
            rte_pktmbuf_free(m); // drops the reference mcfwd gave this receiver
        }
    }
    pcap.close();
    std::printf("{\"ring\": \"%s\", \"packets\": %llu, \"bytes\": %llu, \"multi_segment\": %llu, "
                "\"flows\": {",
                ring_name.c_str(), packets, bytes, multi_segment);
    bool first = true;
    for (auto& [f, c] : flows) {
        std::printf("%s\"%s\": %llu", first ? "" : ", ", f.c_str(), c);
        first = false;
    }
    std::printf("}}\n");
    rte_eal_cleanup();
    return 0;
}
