// mcfwd::ethdev::Eal — the DPDK EAL's lifetime as an object.
//
// rte_eal_init() may run once per process; rte_eal_cleanup() releases what it
// took (hugepage files, the runtime directory's lock, service lcores). Eal runs
// the first in its constructor and the second in its destructor, so main()
// cannot forget either.
//
// Thread-safety: construct and destroy on the main thread, before any lcore is
// launched and after every lcore has returned (rte_eal_mp_wait_lcore()).
#pragma once

#include <string>
#include <vector>

namespace mcfwd::ethdev {

class Eal {
public:
    /// Runs rte_eal_init() on args (args[0] is the program name, as argv[0]).
    /// Startup only: throws std::runtime_error naming rte_strerror(rte_errno)
    /// when the EAL refuses (bad argument, no memory, already initialised, ...).
    explicit Eal(std::vector<std::string> args);
    /// rte_eal_cleanup(). Precondition: every port is closed and no lcore runs.
    ~Eal();
    Eal(const Eal&) = delete;
    Eal& operator=(const Eal&) = delete;

    /// How many arguments after args[0] the EAL consumed (rte_eal_init()'s
    /// return value, "--" included): the application's start at args[consumed() + 1].
    int consumed() const noexcept { return consumed_; }

private:
    // rte_eal_init() keeps pointers into argv: the strings live as long as the EAL.
    std::vector<std::string> args_;
    int consumed_ = 0;
};

} // namespace mcfwd::ethdev
