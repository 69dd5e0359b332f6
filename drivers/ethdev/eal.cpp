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
    if (rc < 0)
        throw std::runtime_error(std::string("rte_eal_init failed: ") + rte_strerror(rte_errno));
    consumed_ = rc;
}

Eal::~Eal() {
    rte_eal_cleanup();
}

} // namespace mcfwd::ethdev
