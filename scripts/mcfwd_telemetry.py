"""mcfwd's telemetry client, shared by scripts/mcfwdctl and scripts/mcfwd-exporter.

DPDK telemetry (docs/TELEMETRY.md): a SOCK_SEQPACKET socket, one JSON hello on
connect, then one request per message and one JSON answer per request.
Python 3 standard library only.
"""
import json
import os
import socket
import time

# DPDK 22.11 lib/telemetry/telemetry.c: read(s, buffer, 1024 - 1) of one message;
# at most MAX_CONNECTIONS clients at a time, any more are closed on accept.
READ_LIMIT = 1023
MAX_CONNECTIONS = 10


class RequestError(ValueError):
    pass


class Unavailable(ConnectionError):
    """The telemetry socket took the connection but cannot serve it."""


class UnknownCommand(RuntimeError):
    """DPDK answered null: no such command is registered."""

    def __init__(self, command):
        super().__init__("no such telemetry command: %s" % command)
        self.command = command


def runtime_dir(prefix):
    # As DPDK's eal_get_runtime_dir(): /var/run as root, else XDG_RUNTIME_DIR or /tmp.
    if os.getuid() == 0:
        base = "/var/run"
    else:
        base = os.environ.get("XDG_RUNTIME_DIR", "/tmp")
    return os.path.join(base, "dpdk", prefix)


def socket_path(file_prefix, path=None):
    """The telemetry socket: path if given, else the one of EAL --file-prefix."""
    return path or os.path.join(runtime_dir(file_prefix), "dpdk_telemetry.v2")


class Client:
    def __init__(self, path, timeout):
        # DPDK's telemetry socket listens with a backlog of 1: while other clients
        # connect at the same moment, connect() fails with EAGAIN. Retry that
        # (only that) until the timeout.
        deadline = time.monotonic() + timeout
        while True:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            self.sock.settimeout(timeout)
            try:
                self.sock.connect(path)
                break
            except BlockingIOError:
                self.sock.close()
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)
        hello = self.sock.recv(1024)
        if not hello:
            # DPDK 22.11 accepts and at once closes a connection beyond its limit
            # (MAX_CONNECTIONS, 10 clients at a time), before any greeting.
            self.sock.close()
            raise Unavailable(
                "%s accepted and closed the connection: DPDK telemetry's limit of %d clients "
                "at a time is reached (other mcfwdctl, dpdk-telemetry.py or mcfwd-consumer "
                "sessions still open?)" % (path, MAX_CONNECTIONS))
        try:
            self.max_len = int(json.loads(hello.decode()).get("max_output_len", 16384))
        except (ValueError, AttributeError):
            self.sock.close()
            raise Unavailable("%s does not greet as DPDK telemetry v2 does: %r"
                              % (path, hello[:60]))

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, command, params="", marker=True):
        """One request. With marker, the parameters end with mcfwd's end marker
        ";" (docs/TELEMETRY.md: a cut or a NUL removes it, so mcfwd refuses a
        request that did not arrive whole). DPDK's own commands (/ethdev/...)
        take no marker."""
        if marker:
            params = (params + " ;") if params else ";"
        text = command + ("," + params if params else "")
        data = text.encode()
        if len(data) >= READ_LIMIT or b"\0" in data:
            raise RequestError("request of %d bytes%s would not reach mcfwd whole "
                               "(telemetry reads at most %d bytes, a NUL ends a request)"
                               % (len(data), " with a NUL" if b"\0" in data else "",
                                  READ_LIMIT))
        try:
            self.sock.send(data)
            raw = self.sock.recv(self.max_len)
        except (BrokenPipeError, ConnectionResetError):
            raw = b""
        if not raw:
            raise Unavailable("mcfwd closed the connection (it stopped?)")
        reply = json.loads(raw.decode())
        if not isinstance(reply, dict) or command not in reply:
            raise RuntimeError("unexpected reply: %r" % (reply,))
        if reply[command] is None:
            # DPDK answers null for a command nobody registered (and for a handler
            # that failed: mcfwd's fail only when out of memory).
            raise UnknownCommand(command)
        return unlist(reply[command])


def unlist(v):
    """DPDK 22.11 telemetry cannot carry a list of objects: mcfwd sends them as
    objects keyed "0", "1", ...; turn those back into lists."""
    if isinstance(v, dict):
        v = {k: unlist(x) for k, x in v.items()}
        if v and all(k == str(i) for i, k in enumerate(v)):
            return [v[str(i)] for i in range(len(v))]
        return v
    if isinstance(v, list):
        return [unlist(x) for x in v]
    return v


def as_list(v):
    """A record list as unlist() leaves it: a one-record list arrives as a dict."""
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def paged(client, command, params, key, last_page_keys=()):
    """All records of a listing command (groups, receivers, router), page by page,
    as {key: records, "total": N} plus last_page_keys taken from the last page
    (router's queriers, the same on every page). A page larger than telemetry's
    16 KiB answer is refused (E2BIG): ask for fewer."""
    out, start, limit = [], 0, 64
    while True:
        p = ",".join(x for x in [params, "start=%d" % start, "limit=%d" % limit] if x)
        page = client.call(command, p)
        if page.get("error") == "E2BIG" and limit > 1:
            limit //= 2
            continue
        if "error" in page:
            return page
        out.extend(as_list(page.get(key)))
        if "next" not in page:
            ans = {key: out, "total": page.get("total", len(out))}
            for k in last_page_keys:
                ans[k] = as_list(page.get(k))
            return ans
        start = page["next"]
