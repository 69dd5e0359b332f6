// mcfwd::control::Mailbox — the hand-over from telemetry threads (several may
// call at once, one per client connection) to the control lcore, which alone may
// run commands.
//
// Thread-safety: safe for any number of submitting threads and one draining thread.
#pragma once

#include "addr/ip_addr.hpp"
#include "control/value.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcfwd::control {

using addr::IpAddr;

/// Telemetry threads -> control lcore. submit() queues a command and returns a
/// ticket; wait() blocks up to a timeout for the answer. On timeout a request the
/// control lcore has not started is withdrawn (it will never run), so
/// ETIMEDOUT means "not applied". A request the control lcore already started is
/// waited for until it ends (commands take microseconds). Shared ownership keeps
/// a request alive for whichever side finishes last.
class Mailbox {
public:
    struct Request;
    using Ticket = std::shared_ptr<Request>;
    /// staged: see execute(); null when the request has none.
    using Runner = std::function<Value(std::string_view name, std::string_view params,
                                       const std::vector<IpAddr>* staged)>;

    /// Queues (name, params[, staged sources]). After close(), answers at once
    /// with ESHUTDOWN.
    Ticket submit(std::string name, std::string params,
                  std::optional<std::vector<IpAddr>> staged = std::nullopt);
    /// The answer, or ETIMEDOUT if the control lcore did not take the request in time.
    Value wait(const Ticket& ticket, std::chrono::milliseconds timeout);
    /// Control lcore: runs every queued request with run and wakes its waiter.
    /// Returns the number run. Never blocks longer than a submit's push.
    size_t drain(const Runner& run);
    /// No more requests run: queued ones and later submits answer ESHUTDOWN.
    void close();
    size_t pending() const;

private:
    mutable std::mutex mutex_;
    std::condition_variable done_;
    std::deque<Ticket> queue_;
    bool closed_ = false;
};

} // namespace mcfwd::control
