// Membership churn under traffic (issue #6): a real forwarding lcore runs
// dataplane::poll_once on a net_ring port while the main lcore injects frames
// into that port's RX ring and, between bursts, applies random membership
// operations through the control path exactly as app/mcfwd/runtime.cpp wires it:
// control::ControlPlane (engine -> TablePublisher) -> lock-free PortTable, old
// entries reclaimed through ethdev::DpdkReclaimer over rte_rcu_qsbr.
//
// Time is an epoch counter the main lcore bumps after each operation returns
// (the publish is a release store inside that call). The oracle below keeps every
// receiver's filter independently of the engine and records, per (receiver,
// source, group), the epochs at which acceptance flipped. Each frame carries a
// sequence number; its record holds its (S,G) and its injection epoch. Then:
//   - a delivery to receiver r, dequeued at epoch d, is justified only if r
//     accepted (S,G) at some epoch in [inject, d] — during an operation the
//     table holds the entry of the epoch before or after it, never anything else;
//   - once the forwarding lcore has finished polling a frame (it publishes how
//     many frames it has finished after each poll_once, which flushes every
//     outlet), every receiver that accepted (S,G) at every epoch from injection
//     to that moment must have received it, exactly once. Rings are sized so that
//     nothing can be dropped (sink_full must stay 0), so no loss is excused.
// Traffic per operation: two frames of random (S,G)s injected before it (they
// cross the table while it changes), and two probes after it — the (S,G) the
// operation named and another source to that group — which the main lcore waits
// (bounded spin) to see through, so that an update that never reached the table
// meets traffic before a later operation republishes the group. The main lcore
// drains the outlet rings between operations; the forwarding lcore spins on its
// RX queue: both cores stay busy, nothing sleeps.
//
// Operation count: MCFWD_CHURN_OPS (environment) overrides the default 100 000.
#include "../../unit/pktparse/frame_builder.hpp"
#include "../eal_env.hpp"

#include "control/control_plane.hpp"
#include "dataplane/forward.hpp"
#include "ethdev/rcu.hpp"
#include "ethdev/rte_allocator.hpp"
#include "pktparse/parse.hpp"
#include "table/port_table.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace mcfwd;
using addr::IpAddr;
using filter::FilterMode;
using membership::ReceiverId;

// ---- the address space the churn plays in ---------------------------------------
constexpr int k_receivers = 6;
constexpr int k_groups = 6;      // 0..2 IPv4, 3..5 IPv6
constexpr int k_listable = 3;    // sources operations name, per family
constexpr int k_traffic_src = 4; // the listable ones and one no filter ever names
constexpr int k_sg = k_groups * k_traffic_src;

const char* const group_text[k_groups] = {"232.1.1.1", "232.1.1.2", "239.2.2.2",
                                          "ff3e::1",   "ff3e::2",   "ff15::3"};
const char* const source_text[2][k_traffic_src] = {
    {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.9"},
    {"2001:db8::1", "2001:db8::2", "2001:db8::3", "2001:db8::9"}};

int family_of(int g) {
    return g < k_groups / 2 ? 0 : 1;
}
IpAddr group_addr(int g) {
    return *IpAddr::parse(group_text[g]);
}
IpAddr source_addr(int g, int s) {
    return *IpAddr::parse(source_text[family_of(g)][s]);
}

// ---- the oracle: receivers' filters and acceptance history ----------------------
struct OracleFilter {
    bool member = false;
    FilterMode mode = FilterMode::include;
    uint8_t sources = 0; // bit s: listable source s is in the list

    bool accepts(int s) const {
        const bool listed = s < k_listable && (sources >> s & 1);
        return member && (mode == FilterMode::include ? listed : !listed);
    }
};

/// Epochs at which one (receiver, S, G)'s acceptance flipped; starts rejecting.
class History {
public:
    History() { flips_.push_back({0, false}); }
    void set(uint64_t epoch, bool accepted) {
        if (flips_.back().accepted != accepted)
            flips_.push_back({epoch, accepted});
    }
    /// Accepted at some epoch in [a, b].
    bool any(uint64_t a, uint64_t b) const {
        const size_t i = at(a);
        return flips_[i].accepted || (i + 1 < flips_.size() && flips_[i + 1].epoch <= b);
    }
    /// Accepted at every epoch in [a, b].
    bool all(uint64_t a, uint64_t b) const {
        const size_t i = at(a);
        return flips_[i].accepted && !(i + 1 < flips_.size() && flips_[i + 1].epoch <= b);
    }
    size_t flips() const { return flips_.size() - 1; }

private:
    struct Flip {
        uint64_t epoch;
        bool accepted;
    };
    size_t at(uint64_t e) const { // the last flip at or before e
        auto it = std::upper_bound(flips_.begin(), flips_.end(), e,
                                   [](uint64_t v, const Flip& f) { return v < f.epoch; });
        return size_t(it - flips_.begin()) - 1;
    }
    std::vector<Flip> flips_;
};

// ---- the forwarding lcore -------------------------------------------------------
struct Lcore {
    dataplane::ForwardContext ctx;
    ethdev::DpdkQsbr* qsbr = nullptr;
    std::atomic<bool> stop{false};
    /// Frames this lcore has completely handled: received, and then either dropped
    /// or flushed to every outlet (poll_once() ends with the flush).
    std::atomic<uint64_t> finished{0};
};

int forwarding_main(void* arg) {
    auto& l = *static_cast<Lcore*>(arg);
    l.qsbr->online(0);
    while (!l.stop.load(std::memory_order_relaxed)) {
        dataplane::poll_once(l.ctx);
        l.finished.store(l.ctx.counters.rx_packets, std::memory_order_release);
    }
    dataplane::flush(l.ctx);
    l.qsbr->offline(0);
    return 0;
}

uint64_t operations() {
    if (const char* s = std::getenv("MCFWD_CHURN_OPS"))
        return std::strtoull(s, nullptr, 10);
    return 100000;
}

// The frame of each (S,G) with a 16-byte payload whose first 8 bytes are the
// sequence number.
constexpr size_t k_payload = 16;

struct Frame {
    mcfwd::testing::Bytes bytes;
    IpAddr src, dst;
};

class Churn : public ::testing::Test {
protected:
    void SetUp() override {
        mcfwd::testing::EalEnvironment::require();
        ASSERT_GE(rte_lcore_count(), 2u);
        fwd_lcore_ = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
        ASSERT_LT(fwd_lcore_, unsigned(RTE_MAX_LCORE));
        pool_ = rte_pktmbuf_pool_create("churn_pool", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                        SOCKET_ID_ANY);
        ASSERT_NE(pool_, nullptr) << rte_strerror(rte_errno);
        rx_ring_ = rte_ring_create("churn_rx", 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        tx_ring_ = rte_ring_create("churn_tx", 64, SOCKET_ID_ANY, 0);
        ASSERT_TRUE(rx_ring_ && tx_ring_) << rte_strerror(rte_errno);
        const int id = rte_eth_from_rings("net_ring_churn", &rx_ring_, 1, &tx_ring_, 1, 0);
        ASSERT_GE(id, 0) << rte_strerror(rte_errno);
        port_ = uint16_t(id);
        rte_eth_conf conf{};
        ASSERT_EQ(rte_eth_dev_configure(port_, 1, 1, &conf), 0);
        ASSERT_EQ(rte_eth_rx_queue_setup(port_, 0, 128, 0, nullptr, pool_), 0);
        ASSERT_EQ(rte_eth_tx_queue_setup(port_, 0, 128, 0, nullptr), 0);
        ASSERT_EQ(rte_eth_dev_start(port_), 0);
        port_started_ = true;

        auto q = ethdev::DpdkQsbr::create(1);
        ASSERT_TRUE(q);
        qsbr_ = std::move(q).value();
        reclaimer_ = std::make_unique<ethdev::DpdkReclaimer>(*qsbr_);
        // The application's table memory: DPDK's. An entry read after an early
        // free reads 0xdb garbage, and under ASan (build-san) it is reported:
        // table/table_memory.cpp poisons freed slab objects.
        table_ = std::make_unique<table::PortTable>(
            *reclaimer_, table::PortTableOptions{.poison_retired = true, .allocator = &memory_});
        cp_ = std::make_unique<control::ControlPlane>(membership::Limits{}, clock_, random_);

        control::PortSetup s;
        s.id = port_;
        s.name = "churn";
        s.table = table_.get();
        s.frame.ipv4_src = *IpAddr::parse("192.0.2.1");
        s.frame.ipv6_src = *IpAddr::parse("fe80::1");
        s.transmit = [this](std::span<const uint8_t>) { ++reports_sent_; };
        ASSERT_EQ(cp_->add_port(std::move(s)), errc::ok);
        tables_.assign(size_t(port_) + 1, nullptr);
        tables_[port_] = table_.get();

        for (int r = 0; r < k_receivers; ++r) {
            const std::string n = "churn_out" + std::to_string(r);
            // Deep enough for everything in flight (at most k_window frames, each at
            // most once per ring): a full sink would be a loss this test forbids.
            outlet_rings_[r] = rte_ring_create(n.c_str(), 4096, SOCKET_ID_ANY, 0);
            ASSERT_NE(outlet_rings_[r], nullptr) << rte_strerror(rte_errno);
            table::OutletId oid;
            ASSERT_EQ(outlets_.add(dataplane::Outlet::ring_sink(outlet_rings_[r]), oid), errc::ok);
            ASSERT_EQ(oid, table::OutletId(r));
            open_receiver(r);
        }
        lcore_.ctx.rx[0] = {port_, 0};
        lcore_.ctx.rx_count = 1;
        lcore_.ctx.tables = tables_.data();
        lcore_.ctx.table_count = tables_.size();
        lcore_.ctx.outlets = &outlets_;
        lcore_.ctx.punt_ring = nullptr; // no IGMP/MLD in this traffic
        lcore_.ctx.qsbr = qsbr_->get();
        lcore_.ctx.qsbr_thread_id = 0;
        lcore_.qsbr = qsbr_.get();

        for (int g = 0; g < k_groups; ++g)
            for (int s = 0; s < k_traffic_src; ++s) {
                mcfwd::testing::FrameSpec spec;
                spec.src = source_addr(g, s);
                spec.dst = group_addr(g);
                spec.payload = mcfwd::testing::Bytes(k_payload, 0x5a);
                frames_[sg(g, s)] = {mcfwd::testing::build_frame(spec), spec.src, spec.dst};
            }
    }

    void TearDown() override {
        if (launched_) {
            lcore_.stop.store(true, std::memory_order_relaxed);
            rte_eal_wait_lcore(fwd_lcore_);
        }
        if (reader_registered_)
            qsbr_->unregister_reader(0);
        cp_.reset();
        table_.reset();
        reclaimer_.reset();
        qsbr_.reset();
        if (port_started_) {
            rte_eth_dev_stop(port_);
            rte_eth_dev_close(port_);
        }
        for (rte_ring* r : outlet_rings_)
            drain_and_free(r);
        drain_and_free(rx_ring_);
        drain_and_free(tx_ring_);
        for (rte_ring* r : outlet_rings_)
            rte_ring_free(r);
        rte_ring_free(rx_ring_);
        rte_ring_free(tx_ring_);
        rte_mempool_free(pool_);
    }

    static int sg(int g, int s) { return g * k_traffic_src + s; }
    static void drain_and_free(rte_ring* r) {
        void* p;
        while (r && rte_ring_dequeue(r, &p) == 0)
            rte_pktmbuf_free(static_cast<rte_mbuf*>(p));
    }

    void open_receiver(int r) {
        auto id = cp_->engine().open_receiver("churn_rcv" + std::to_string(r));
        ASSERT_TRUE(id);
        ids_[r] = *id;
        cp_->publisher().bind_receiver(*id, table::OutletId(r));
    }

    /// After an operation on receiver r, at the epoch it ends: records flips.
    void record(int r) {
        for (int g = 0; g < k_groups; ++g)
            for (int s = 0; s < k_traffic_src; ++s)
                history_[r][sg(g, s)].set(epoch_, model_[r][g].accepts(s));
    }

    /// One random operation through the control path; its expected result comes
    /// from the oracle, a mismatch is a violation. Returns the (S,G) it named.
    int operate();
    void violation(const std::string& what) {
        if (violations_++ < 10)
            first_violations_ += what + "\n";
    }
    /// n frames of random (S,G)s, or, with probe >= 0, the (S,G) probe and one
    /// other source to its group.
    void inject(unsigned n, int probe = -1);
    void drain_outlets();
    void finish_through(uint64_t finished);
    void check_engine_matches_oracle();

    unsigned fwd_lcore_ = 0;
    rte_mempool* pool_ = nullptr;
    rte_ring* rx_ring_ = nullptr;
    rte_ring* tx_ring_ = nullptr;
    uint16_t port_ = 0;
    bool port_started_ = false, launched_ = false, reader_registered_ = false;
    ethdev::RteAllocator memory_{SOCKET_ID_ANY}; // outlives the reclaimer, which frees into it
    std::unique_ptr<ethdev::DpdkQsbr> qsbr_;
    std::unique_ptr<ethdev::DpdkReclaimer> reclaimer_;
    std::unique_ptr<table::PortTable> table_;
    VirtualClock clock_;
    SplitMix random_{20261123};
    std::unique_ptr<control::ControlPlane> cp_;
    std::vector<table::PortTable*> tables_;
    dataplane::OutletSet outlets_;
    std::array<rte_ring*, k_receivers> outlet_rings_{};
    std::array<ReceiverId, k_receivers> ids_{};
    Lcore lcore_;
    uint64_t reports_sent_ = 0;

    std::mt19937_64 rng_{20261124};
    uint64_t epoch_ = 0;
    std::array<std::array<OracleFilter, k_groups>, k_receivers> model_{};
    std::array<std::array<History, k_sg>, k_receivers> history_{};
    std::array<Frame, k_sg> frames_{};

    struct InFlight {
        uint8_t sg;
        uint8_t delivered; // bit r: receiver r got it
        uint64_t injected; // epoch
    };
    std::deque<InFlight> in_flight_; // by sequence number, from base_seq_
    uint64_t base_seq_ = 0, next_seq_ = 0;

    uint64_t ops_ok_ = 0, ops_failed_ = 0;
    uint64_t deliveries_ = 0, member_required_ = 0, member_delivered_ = 0;
    uint64_t window_epochs_ = 0, excused_ = 0, ops_without_frames_ = 0;
    uint64_t violations_ = 0;
    std::string first_violations_;
};

int Churn::operate() {
    const int r = int(rng_() % k_receivers);
    const int g = int(rng_() % k_groups);
    const int s = int(rng_() % k_listable);
    const IpAddr group = group_addr(g), source = source_addr(g, s);
    auto& engine = cp_->engine();
    OracleFilter& m = model_[r][g];
    const uint8_t bit = uint8_t(1u << s);
    const bool listed = m.sources & bit;
    const ReceiverId id = ids_[r];
    errc want = errc::ok, got;
    const char* what;
    const unsigned kind = unsigned(rng_() % 100);
    if (kind < 14) {
        what = "join";
        want = m.member ? errc::addr_in_use : errc::ok;
        if (want == errc::ok)
            m = {true, FilterMode::exclude, 0};
        got = engine.join(id, port_, group);
    } else if (kind < 22) {
        what = "leave";
        want = m.member ? errc::ok : errc::addr_not_avail;
        m = {};
        got = engine.leave(id, port_, group);
    } else if (kind < 36) {
        what = "join_source";
        want = !m.member                       ? errc::ok
               : m.mode != FilterMode::include ? errc::invalid
               : listed                        ? errc::addr_not_avail
                                               : errc::ok;
        if (want == errc::ok)
            m = {true, FilterMode::include, uint8_t(m.member ? m.sources | bit : bit)};
        got = engine.join_source(id, port_, group, source);
    } else if (kind < 47) {
        what = "leave_source";
        want = !m.member                       ? errc::addr_not_avail
               : m.mode != FilterMode::include ? errc::invalid
               : !listed                       ? errc::addr_not_avail
                                               : errc::ok;
        if (want == errc::ok) {
            m.sources &= uint8_t(~bit);
            if (m.sources == 0)
                m = {};
        }
        got = engine.leave_source(id, port_, group, source);
    } else if (kind < 58) {
        what = "block";
        want = !m.member                       ? errc::addr_not_avail
               : m.mode != FilterMode::exclude ? errc::invalid
               : listed                        ? errc::addr_not_avail
                                               : errc::ok;
        if (want == errc::ok)
            m.sources |= bit;
        got = engine.block(id, port_, group, source);
    } else if (kind < 68) {
        what = "unblock";
        want = !m.member                       ? errc::addr_not_avail
               : m.mode != FilterMode::exclude ? errc::invalid
               : !listed                       ? errc::addr_not_avail
                                               : errc::ok;
        if (want == errc::ok)
            m.sources &= uint8_t(~bit);
        got = engine.unblock(id, port_, group, source);
    } else if (kind < 97) {
        const FilterMode mode = rng_() % 2 ? FilterMode::include : FilterMode::exclude;
        what = mode == FilterMode::include ? "set_filter include" : "set_filter exclude";
        std::vector<IpAddr> list;
        uint8_t set = 0;
        for (int i = 0, n = int(rng_() % 4); i < n; ++i) { // duplicates allowed
            const int x = int(rng_() % k_listable);
            list.push_back(source_addr(g, x));
            set |= uint8_t(1u << x);
        }
        m = mode == FilterMode::include && set == 0 ? OracleFilter{}
                                                    : OracleFilter{true, mode, set};
        got = engine.set_filter(id, port_, group, mode, list);
    } else {
        what = "close and reopen";
        model_[r] = {};
        got = engine.close_receiver(id);
        open_receiver(r);
    }
    ++epoch_;
    record(r);
    reclaimer_->reclaim();
    ++(got == errc::ok ? ops_ok_ : ops_failed_);
    if (got != want)
        violation(std::string(what) + " receiver " + std::to_string(r) + " group " + group_text[g] +
                  ": engine said " + std::string(errc_name(got)) + ", oracle " +
                  std::string(errc_name(want)));
    return sg(g, s);
}

void Churn::inject(unsigned n, int probe) {
    for (unsigned i = 0; i < n; ++i) {
        int which = int(rng_() % k_sg);
        if (probe >= 0)
            which = i == 0 ? probe
                           : probe - probe % k_traffic_src +
                                 int((probe + 1 + rng_() % (k_traffic_src - 1)) % k_traffic_src);
        const Frame& f = frames_[which];
        rte_mbuf* m = rte_pktmbuf_alloc(pool_);
        if (!m) {
            violation("mempool empty: mbufs leak");
            return;
        }
        char* d = rte_pktmbuf_append(m, uint16_t(f.bytes.size()));
        std::memcpy(d, f.bytes.data(), f.bytes.size());
        const uint64_t seq = next_seq_;
        std::memcpy(d + f.bytes.size() - k_payload, &seq, sizeof seq);
        if (rte_ring_enqueue(rx_ring_, m) != 0) { // sized so that this cannot happen
            rte_pktmbuf_free(m);
            violation("RX ring full");
            return;
        }
        in_flight_.push_back({uint8_t(which), 0, epoch_});
        ++next_seq_;
    }
}

void Churn::drain_outlets() {
    std::array<void*, 64> burst;
    for (int r = 0; r < k_receivers; ++r) {
        unsigned n;
        while ((n = rte_ring_dequeue_burst(outlet_rings_[r], burst.data(), unsigned(burst.size()),
                                           nullptr)) != 0)
            for (unsigned i = 0; i < n; ++i) {
                auto* m = static_cast<rte_mbuf*>(burst[i]);
                const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
                uint64_t seq;
                std::memcpy(&seq, d + m->data_len - k_payload, sizeof seq);
                const auto p = pktparse::parse(d, m->data_len);
                rte_pktmbuf_free(m);
                ++deliveries_;
                if (seq < base_seq_ || seq >= next_seq_) {
                    violation("receiver " + std::to_string(r) + " got sequence " +
                              std::to_string(seq) + " after it was finished");
                    continue;
                }
                InFlight& f = in_flight_[seq - base_seq_];
                const Frame& want = frames_[f.sg];
                if (!p.ok || p.packet.src != want.src || p.packet.dst != want.dst)
                    violation("sequence " + std::to_string(seq) + " arrived altered");
                if (f.delivered >> r & 1)
                    violation("sequence " + std::to_string(seq) + " delivered twice to receiver " +
                              std::to_string(r));
                f.delivered |= uint8_t(1u << r);
                if (!history_[r][f.sg].any(f.injected, epoch_))
                    violation("receiver " + std::to_string(r) + " got " + want.src.to_string() +
                              " -> " + want.dst.to_string() + " (sequence " + std::to_string(seq) +
                              ") though it rejected it from epoch " + std::to_string(f.injected) +
                              " to " + std::to_string(epoch_));
            }
    }
}

void Churn::finish_through(uint64_t finished) {
    while (base_seq_ < finished && !in_flight_.empty()) {
        const InFlight& f = in_flight_.front();
        window_epochs_ += epoch_ - f.injected;
        for (int r = 0; r < k_receivers; ++r) {
            const History& h = history_[r][f.sg];
            if (!h.all(f.injected, epoch_)) {
                // Its filter changed while the frame was inside: either outcome is right.
                excused_ += h.any(f.injected, epoch_);
                continue;
            }
            ++member_required_;
            if (f.delivered >> r & 1)
                ++member_delivered_;
            else
                violation("receiver " + std::to_string(r) + " accepted " +
                          frames_[f.sg].src.to_string() + " -> " + frames_[f.sg].dst.to_string() +
                          " from epoch " + std::to_string(f.injected) + " to " +
                          std::to_string(epoch_) + " but lost sequence " +
                          std::to_string(base_seq_));
        }
        in_flight_.pop_front();
        ++base_seq_;
    }
}

void Churn::check_engine_matches_oracle() {
    for (int r = 0; r < k_receivers; ++r)
        for (int g = 0; g < k_groups; ++g) {
            const OracleFilter& m = model_[r][g];
            auto f = cp_->engine().get_filter(ids_[r], port_, group_addr(g));
            bool same = bool(f) == m.member;
            if (f && m.member) {
                same = f->mode == m.mode;
                for (int s = 0; s < k_listable; ++s)
                    same =
                        same && f->sources.contains(source_addr(g, s)) == bool(m.sources >> s & 1);
            }
            if (!same)
                violation("epoch " + std::to_string(epoch_) +
                          ": engine and oracle differ on receiver " + std::to_string(r) +
                          " group " + group_text[g]);
        }
}

// Frames in flight at once: well under the RX ring (1024) and each outlet ring
// (4096), so no ring can fill whatever the two lcores' relative speeds.
constexpr uint64_t k_window = 64;
// Per operation: 2 frames of random (S,G)s, then 2 probes right after it: the
// (S,G) the operation named and another source to that group, so that a change
// that failed to reach the table (or reached it wrong) meets traffic at once.
constexpr unsigned k_random_frames = 2;
constexpr unsigned k_probe_frames = 2;
constexpr unsigned k_frames_per_op = k_random_frames + k_probe_frames;

TEST_F(Churn, EveryDeliveryIsJustifiedAndNoMemberFrameIsLostWhileFiltersChange) {
    const uint64_t ops = operations();
    ASSERT_EQ(qsbr_->register_reader(0), errc::ok);
    reader_registered_ = true;
    ASSERT_EQ(rte_eal_remote_launch(forwarding_main, &lcore_, fwd_lcore_), 0);
    launched_ = true;

    const auto start = std::chrono::steady_clock::now();
    for (uint64_t op = 0; op < ops; ++op) {
        uint64_t finished = lcore_.finished.load(std::memory_order_acquire);
        drain_outlets();
        finish_through(finished);
        // Keep the frames in flight few, so that each frame's window spans few
        // operations and most of its receivers' filters hold still across it: wait
        // (bounded) for the forwarding lcore to catch up rather than skip a burst.
        for (int spin = 0; spin < 100000 && next_seq_ - finished + k_frames_per_op > k_window;
             ++spin) {
            rte_pause();
            finished = lcore_.finished.load(std::memory_order_acquire);
        }
        const bool room = next_seq_ - finished + k_frames_per_op <= k_window;
        if (room)
            inject(k_random_frames);
        const int named = operate();
        if (room) {
            inject(k_probe_frames, named);
            // The probes must meet the entry this operation published, not one a
            // later operation publishes: wait (bounded) until they are through.
            for (int spin = 0;
                 spin < 100000 && lcore_.finished.load(std::memory_order_acquire) < next_seq_;
                 ++spin)
                rte_pause();
        } else {
            ++ops_without_frames_;
        }
        if (op % 4096 == 0)
            check_engine_matches_oracle();
    }
    check_engine_matches_oracle();
    // Let the forwarding lcore finish everything injected (bounded: 30 s).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    uint64_t finished;
    while ((finished = lcore_.finished.load(std::memory_order_acquire)) < next_seq_ &&
           std::chrono::steady_clock::now() < deadline)
        rte_pause();
    drain_outlets();
    finish_through(finished);
    EXPECT_EQ(finished, next_seq_) << "the forwarding lcore stopped making progress";

    lcore_.stop.store(true, std::memory_order_relaxed);
    EXPECT_EQ(rte_eal_wait_lcore(fwd_lcore_), 0);
    launched_ = false;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    const dataplane::LcoreCounters& c = lcore_.ctx.counters;
    uint64_t delivered_counted = 0;
    for (int r = 0; r < k_receivers; ++r)
        delivered_counted += c.delivered[r];
    size_t flips = 0;
    for (auto& per_receiver : history_)
        for (const History& h : per_receiver)
            flips += h.flips();
    std::printf("churn: %llu operations (%llu ok, %llu refused, %llu without frames: the "
                "forwarding lcore lagged), %llu acceptance flips, "
                "%llu frames, %llu deliveries, %llu member deliveries required, "
                "%llu (receiver, frame) pairs excused by a flip in the frame's window, "
                "%.2f operations per window on average, "
                "%llu source_filtered, %llu not_member, %llu reports sent, %.1f s\n",
                (unsigned long long)ops, (unsigned long long)ops_ok_,
                (unsigned long long)ops_failed_, (unsigned long long)ops_without_frames_,
                (unsigned long long)flips, (unsigned long long)next_seq_,
                (unsigned long long)deliveries_, (unsigned long long)member_required_,
                (unsigned long long)excused_,
                double(window_epochs_) / double(next_seq_ ? next_seq_ : 1),
                (unsigned long long)c.source_filtered, (unsigned long long)c.not_member,
                (unsigned long long)reports_sent_, seconds);

    EXPECT_EQ(violations_, 0u) << first_violations_;
    EXPECT_TRUE(in_flight_.empty());
    EXPECT_EQ(member_delivered_, member_required_);
    // The data path's own account agrees with what the receivers dequeued, and no
    // frame was dropped for lack of room (the rings are sized so none can be).
    EXPECT_EQ(c.rx_packets, next_seq_);
    EXPECT_EQ(c.forwarded + c.source_filtered + c.not_member, c.rx_packets);
    EXPECT_EQ(delivered_counted, deliveries_);
    EXPECT_EQ(c.sink_full, 0u);
    EXPECT_EQ(c.unknown_outlet, 0u);
    // The run exercised what it claims to: filters flipped often, frames were both
    // delivered and filtered, and the operations mostly took effect.
    EXPECT_GE(flips, ops / 2);
    EXPECT_GT(member_required_, next_seq_ / 4);
    EXPECT_GT(c.source_filtered, 0u);
    EXPECT_GT(c.not_member, 0u);
    EXPECT_GT(ops_ok_, ops / 2);
    EXPECT_GT(ops_failed_, 0u);
    EXPECT_EQ(cp_->publisher().stats().refused, 0u);

    // Everything retired is freed once the reader is gone; every mbuf is back.
    ASSERT_EQ(qsbr_->unregister_reader(0), errc::ok);
    reader_registered_ = false;
    reclaimer_->synchronize();
    EXPECT_EQ(reclaimer_->pending(), 0u);
    EXPECT_EQ(rte_mempool_avail_count(pool_), 4095u);
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new mcfwd::testing::EalEnvironment({}, "0,1"));
    return RUN_ALL_TESTS();
}
