// mcfwd::Result<T> — a value or an errc, for APIs an lcore calls (no exceptions).
// (std::expected is C++23; this is the small part of it mcfwd needs.)
#pragma once

#include "base/errc.hpp"

#include <cassert>
#include <utility>
#include <variant>

namespace mcfwd {

template <class T>
class Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(errc e) : v_(e) { assert(e != errc::ok); }

    bool ok() const noexcept { return std::holds_alternative<T>(v_); }
    explicit operator bool() const noexcept { return ok(); }
    /// errc::ok when a value is held.
    errc error() const noexcept { return ok() ? errc::ok : std::get<errc>(v_); }
    /// Precondition: ok().
    const T& value() const& { return std::get<T>(v_); }
    T& value() & { return std::get<T>(v_); }
    T&& value() && { return std::get<T>(std::move(v_)); }
    const T& operator*() const& { return value(); }
    const T* operator->() const { return &value(); }

private:
    std::variant<T, errc> v_;
};

} // namespace mcfwd
