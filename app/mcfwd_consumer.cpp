// mcfwd-consumer — a receiver's process: attaches to mcfwd as a DPDK secondary
// process, takes the packets mcfwd delivers into the receiver's rte_ring,
// counts them (per (S,G) when the payload carries gen_traffic.py's marker) and
// can write them to a pcap file. The multi-process consumer pattern: the
// packets are mcfwd's mbufs, shared memory, no copy until the pcap.
//
//   mcfwd-consumer --ring NAME [--pcap FILE] [--count N] [--timeout SECONDS]
//                  [-- EAL ARGS]   (default EAL args: --proc-type=secondary --no-pci)
//   mcfwd-consumer --receiver NAME [--ring NAME] [--ring-size N]
//                  [--filter "GROUP include|exclude [S1,S2,...]"]... [--port PORT]
//                  [--telemetry SOCKET] [--pcap ...] [--count ...] [--timeout ...]
//
// With --receiver the consumer makes its own receiver, as a process opens a
// socket: over mcfwd's telemetry socket (the primary's runtime directory, or
// --telemetry) it sends add_receiver (a ring named as the receiver unless --ring
// says otherwise) and one set_filter per --filter; when it stops it closes the
// receiver after its last dequeue, which frees the ring and the name. Without
// --receiver it reads the ring of a receiver that exists (the configuration's).
//
// It stops after N packets, after SECONDS without a packet, or on SIGINT/SIGTERM,
// then prints one JSON object: {"ring":..., "packets":..., "bytes":..., "flows":{...}}
// (with --receiver also "mcfwd_delivered": what mcfwd counted for the receiver).
// A secondary process needs the primary to run on hugepages (DPDK 22.11 cannot
// attach to a --no-huge primary).
#include "pcapfile/pcap_file.hpp"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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
    std::fprintf(stderr,
                 "usage: %s --ring NAME [--pcap FILE] [--count N] [--timeout SECONDS] "
                 "[-- EAL ARGS]\n"
                 "       %s --receiver NAME [--ring NAME] [--ring-size N] [--filter \"GROUP "
                 "include|exclude [S1,S2,...]\"]... [--port PORT] [--telemetry SOCKET] ...\n",
                 argv0, argv0);
    return 2;
}

/// mcfwd's telemetry socket, for the few requests a consumer makes. Each request
/// ends with mcfwd's end marker and must fit DPDK's 1023-byte read
/// (docs/TELEMETRY.md "Framing").
class Telemetry {
public:
    ~Telemetry() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    bool connect(const std::string& path) {
        fd_ = ::socket(AF_UNIX, SOCK_SEQPACKET, 0);
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        if (fd_ < 0 || path.size() >= sizeof(sun.sun_path)) {
            error_ = "cannot make a socket for " + path;
            return false;
        }
        std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
        // DPDK's listen backlog is 1: retry EAGAIN for a second.
        for (int i = 0; ::connect(fd_, reinterpret_cast<sockaddr*>(&sun), sizeof(sun)) != 0; ++i)
            if (errno != EAGAIN || i == 100) {
                error_ = "cannot connect to " + path + ": " + std::strerror(errno);
                return false;
            } else {
                usleep(10000);
            }
        char hello[1024];
        return ::recv(fd_, hello, sizeof(hello), 0) > 0;
    }
    /// Sends "/mcfwd/COMMAND,PARAMS ;" and returns mcfwd's answer; false (and
    /// error()) when the request cannot be sent whole or mcfwd answers an error.
    bool call(const std::string& command, const std::string& params, std::string& answer) {
        const std::string req = "/mcfwd/" + command + "," + params + " ;";
        if (req.size() >= 1023) {
            error_ = command + ": request of " + std::to_string(req.size()) +
                     " bytes is longer than telemetry reads (1023)";
            return false;
        }
        if (::send(fd_, req.data(), req.size(), 0) < 0) {
            error_ = command + ": " + std::strerror(errno);
            return false;
        }
        std::string buf(16384, '\0');
        const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
        if (n <= 0) {
            error_ = command + ": no answer from mcfwd";
            return false;
        }
        answer.assign(buf.data(), size_t(n));
        if (answer.find("\"error\"") != std::string::npos) {
            error_ = command + " " + params + ": " + answer;
            return false;
        }
        return true;
    }
    const std::string& error() const { return error_; }

private:
    int fd_ = -1;
    std::string error_;
};

} // namespace

int main(int argc, char** argv) {
    std::string ring_name, pcap_path, receiver, port, telemetry_path, ring_size;
    std::vector<std::string> filters;
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
        } else if (a == "--receiver" || a == "--filter" || a == "--port" ||
                   a == "--telemetry" || a == "--ring-size") {
            const char* v = next();
            if (!v)
                return usage(argv[0]);
            (a == "--receiver"    ? receiver
             : a == "--filter"    ? filters.emplace_back()
             : a == "--port"      ? port
             : a == "--ring-size" ? ring_size
                                  : telemetry_path) = v;
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
        ring_name = receiver;
    if (ring_name.empty() || (receiver.empty() && !filters.empty()))
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

    mcfwd::pcapfile::Writer pcap;
    if (!pcap_path.empty() && !pcap.open(pcap_path)) {
        std::fprintf(stderr, "mcfwd-consumer: cannot write %s: %s\n", pcap_path.c_str(),
                     std::strerror(errno));
        rte_eal_cleanup();
        return 1;
    }

    // The receiver, made by this process: its ring exists once add_receiver
    // answers. Any refusal closes what was made and ends here.
    Telemetry tel;
    // The last dequeue is done: the receiver (and with it the ring) can go.
    // What mcfwd says it delivered to the receiver, from close_receiver's answer.
    std::string mcfwd_delivered;
    auto close_receiver = [&] {
        std::string answer;
        if (receiver.empty())
            return;
        if (!tel.call("close_receiver", receiver, answer)) {
            std::fprintf(stderr, "mcfwd-consumer: %s\n", tel.error().c_str());
            return;
        }
        if (auto at = answer.find("\"delivered\":"); at != std::string::npos)
            mcfwd_delivered = std::to_string(std::strtoull(answer.c_str() + at + 12, nullptr, 10));
    };
    if (!receiver.empty()) {
        if (telemetry_path.empty())
            telemetry_path = std::string(rte_eal_get_runtime_dir()) + "/dpdk_telemetry.v2";
        std::string answer, params = receiver + " ring=" + ring_name;
        if (!ring_size.empty())
            params += " size=" + ring_size;
        bool ok = tel.connect(telemetry_path) && tel.call("add_receiver", params, answer);
        if (ok)
            std::fprintf(stderr, "mcfwd-consumer: %s\n", answer.c_str());
        const bool made = ok;
        for (size_t i = 0; ok && i < filters.size(); ++i)
            ok = tel.call("set_filter",
                          receiver + " " + filters[i] + (port.empty() ? "" : " port=" + port),
                          answer);
        if (!ok) {
            std::fprintf(stderr, "mcfwd-consumer: %s\n", tel.error().c_str());
            if (made)
                tel.call("close_receiver", receiver, answer);
            rte_eal_cleanup();
            return 1;
        }
    }

    const uint64_t hz = rte_get_timer_hz();
    const uint64_t idle_limit = static_cast<uint64_t>(timeout * double(hz));
    uint64_t last = rte_get_timer_cycles();
    rte_ring* ring = nullptr;
    while (!g_stop && !(ring = rte_ring_lookup(ring_name.c_str()))) {
        if (rte_get_timer_cycles() - last > idle_limit) {
            std::fprintf(stderr, "mcfwd-consumer: no ring named %s\n", ring_name.c_str());
            close_receiver();
            rte_eal_cleanup();
            return 1;
        }
        rte_delay_us_sleep(10000);
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
    close_receiver();
    std::printf("{\"ring\": \"%s\", \"packets\": %llu, \"bytes\": %llu, \"multi_segment\": %llu, "
                "\"flows\": {",
                ring_name.c_str(), packets, bytes, multi_segment);
    bool first = true;
    for (auto& [f, c] : flows) {
        std::printf("%s\"%s\": %llu", first ? "" : ", ", f.c_str(), c);
        first = false;
    }
    std::printf("}");
    if (!mcfwd_delivered.empty())
        std::printf(", \"mcfwd_delivered\": %s", mcfwd_delivered.c_str());
    std::printf("}\n");
    rte_eal_cleanup();
    return 0;
}
