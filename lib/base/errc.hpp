// mcfwd::errc — the error codes of the membership API.
//
// The names follow illumos ip_multi.c (the seed), which returns errno values;
// the numeric values are those errno values so that telemetry and logs can show
// the classic names (EADDRINUSE, ...) and strerror text.
#pragma once

#include <cerrno>
#include <string_view>

namespace mcfwd {

enum class errc : int {
    ok = 0,
    addr_in_use = EADDRINUSE,       // join twice
    addr_not_avail = EADDRNOTAVAIL, // leave/block/unblock without the membership or source
    invalid = EINVAL,               // bad group/source, filter mode change by a one-source call
    no_buffer_space = ENOBUFS,      // source list full
    no_device = ENXIO,              // unknown or removed port
    not_found = ENOENT,             // unknown receiver
    not_supported = ENOTSUP,        // driver has no multicast filter
    no_space = ENOSPC,              // driver filter table full
    io = EIO,                       // driver failed
    exists = EEXIST,                // a named resource (a ring) exists already
    no_memory = ENOMEM,             // out of memory
};

/// The errno name of an error code ("EADDRINUSE"); "OK" for errc::ok.
constexpr std::string_view errc_name(errc e) noexcept {
    switch (e) {
    case errc::ok:
        return "OK";
    case errc::addr_in_use:
        return "EADDRINUSE";
    case errc::addr_not_avail:
        return "EADDRNOTAVAIL";
    case errc::invalid:
        return "EINVAL";
    case errc::no_buffer_space:
        return "ENOBUFS";
    case errc::no_device:
        return "ENXIO";
    case errc::not_found:
        return "ENOENT";
    case errc::not_supported:
        return "ENOTSUP";
    case errc::no_space:
        return "ENOSPC";
    case errc::io:
        return "EIO";
    case errc::exists:
        return "EEXIST";
    case errc::no_memory:
        return "ENOMEM";
    }
    return "EUNKNOWN";
}

/// Maps a positive errno value (as DPDK returns negated) to errc; unknown values map to io.
constexpr errc errc_from_errno(int e) noexcept {
    if (e < 0)
        e = -e;
    switch (e) {
    case 0:
        return errc::ok;
    case EADDRINUSE:
        return errc::addr_in_use;
    case EADDRNOTAVAIL:
        return errc::addr_not_avail;
    case EINVAL:
        return errc::invalid;
    case ENOBUFS:
        return errc::no_buffer_space;
    case ENXIO:
        return errc::no_device;
    case ENOENT:
        return errc::not_found;
    case ENOTSUP:
        return errc::not_supported;
    case ENOSPC:
        return errc::no_space;
    case EEXIST:
        return errc::exists;
    case ENOMEM:
        return errc::no_memory;
    default:
        return errc::io;
    }
}

} // namespace mcfwd
