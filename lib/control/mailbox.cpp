#include "control/mailbox.hpp"

#include <stdexcept>

namespace mcfwd::control {

struct Mailbox::Request {
    enum class State : uint8_t { queued, running, done, withdrawn };
    std::string name, params;
    std::optional<std::vector<IpAddr>> staged;
    State state = State::queued;
    Value answer;
};

Mailbox::Ticket Mailbox::submit(std::string name, std::string params,
                                std::optional<std::vector<IpAddr>> staged) {
    auto t = std::make_shared<Request>();
    t->name = std::move(name);
    t->params = std::move(params);
    t->staged = std::move(staged);
    std::lock_guard lock(mutex_);
    if (closed_) {
        t->state = Request::State::done;
        t->answer = error_value("ESHUTDOWN", "mcfwd is stopping");
    } else {
        queue_.push_back(t);
    }
    return t;
}

Value Mailbox::wait(const Ticket& t, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    using S = Request::State;
    if (!done_.wait_for(lock, timeout, [&] { return t->state == S::done; })) {
        if (t->state == S::queued) {
            // Withdrawn: drain() skips it, so the command never runs.
            t->state = S::withdrawn;
            return error_value("ETIMEDOUT", "the control lcore did not answer in " +
                                                std::to_string(timeout.count()) +
                                                " ms; nothing was changed");
        }
        done_.wait(lock, [&] { return t->state == S::done; });
    }
    return t->answer;
}

size_t Mailbox::drain(const Runner& run) {
    size_t n = 0;
    for (;;) {
        Ticket t;
        {
            std::lock_guard lock(mutex_);
            while (!queue_.empty() && queue_.front()->state == Request::State::withdrawn)
                queue_.pop_front();
            if (queue_.empty())
                break;
            t = std::move(queue_.front());
            queue_.pop_front();
            t->state = Request::State::running;
        }
        Value answer;
        try {
            answer = run(t->name, t->params, t->staged ? &*t->staged : nullptr);
        } catch (const std::exception& e) { // bad_alloc: the waiter must still wake
            answer = error_value("ENOMEM", e.what());
        }
        {
            std::lock_guard lock(mutex_);
            t->answer = std::move(answer);
            t->state = Request::State::done;
        }
        done_.notify_all();
        ++n;
    }
    return n;
}

void Mailbox::close() {
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        for (Ticket& t : queue_)
            if (t->state == Request::State::queued) {
                t->answer = error_value("ESHUTDOWN", "mcfwd is stopping");
                t->state = Request::State::done;
            }
        queue_.clear();
    }
    done_.notify_all();
}

size_t Mailbox::pending() const {
    std::lock_guard lock(mutex_);
    size_t n = 0;
    for (const Ticket& t : queue_)
        n += t->state == Request::State::queued;
    return n;
}

} // namespace mcfwd::control
