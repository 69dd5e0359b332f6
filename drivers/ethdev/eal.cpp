#include "ethdev/eal.hpp"

#include <rte_eal.h>
#include <rte_errno.h>

#include <stdexcept>

namespace mcfwd::ethdev {

Eal::Eal(std::vector<std::string> args) : args_(std::move(args)) {
    std::vector<char*> argv;
    argv.reserve(args_.size() + 1);
    for (auto& a : args_)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = rte_eal_init(static_cast<int>(args_.size()), argv.data());
    // Some failures leave rte_errno at 0 ("Success"): the EAL's own log lines say
    // why. The commonest, a second primary on the same runtime directory, is
    // such a one ("Cannot create lock on .../config").
    if (rc < 0)
        throw std::runtime_error(
            rte_errno != 0
                ? std::string("rte_eal_init failed: ") + rte_strerror(rte_errno)
                : std::string("rte_eal_init failed (the EAL: lines above say why; a DPDK "
                              "process with the same --file-prefix already running?)"));
    consumed_ = rc;
}

Eal::~Eal() {
    rte_eal_cleanup();
}

} // namespace mcfwd::ethdev
