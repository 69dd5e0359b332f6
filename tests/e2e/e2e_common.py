"""Helpers the end-to-end tests share: skipping, checks, commands in network
namespaces, captures and their decoding, the RFC 3376 §3.2 merge and mcfwdctl.
Imported by tests/e2e/*_test.py."""
import ipaddress
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import FAILURES, check, skip  # noqa: E402,F401  (re-exported to the e2e tests)


def require(why, tools=(), tun=False, scapy=False):
    """Exits 77 (meson: skipped), saying what is missing, unless this runs as root (needed
    for `why`), every one of tools is on PATH, with tun /dev/net/tun is writable and with
    scapy this python imports scapy."""
    import shutil
    if os.geteuid() != 0:
        skip("needs root (%s)" % why)
    if tun and not os.access("/dev/net/tun", os.W_OK):
        skip("no /dev/net/tun")
    for tool in tools:
        if shutil.which(tool) is None:
            skip("%s is not installed" % tool)
    if scapy:
        try:
            import scapy.all  # noqa: F401
        except ImportError:
            skip("python3-scapy is not installed for %s (scripts/setup.sh installs it)"
                 % sys.executable)


def run_in(ns, cmd, check_rc=True):
    """cmd inside network namespace ns (None: here); its stdout."""
    full = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
    r = subprocess.run(full, capture_output=True, text=True)
    if check_rc and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(full), r.returncode, r.stderr.strip()))
    return r.stdout


def canon(a):
    return str(ipaddress.ip_address(a))


def accepts(flt, src):
    mode, sources = flt
    return (src in sources) == (mode == "include")


def merge(filters):
    """RFC 3376 §3.2: the merge of (mode, sources) filters of one group."""
    ex = [s for m, s in filters if m == "exclude"]
    inc = set().union(*[s for m, s in filters if m == "include"])
    if ex:
        return ("exclude", set.intersection(*map(set, ex)) - inc)
    return ("include", inc)


def mcfwdctl(root, prefix, *args):
    """scripts/mcfwdctl against the mcfwd with EAL file prefix `prefix`: (rc, stdout, stderr)."""
    r = subprocess.run(["/usr/bin/python3", os.path.join(root, "scripts/mcfwdctl"),
                        "--file-prefix", prefix] + list(args), capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def wait_until(cond, timeout, step=0.05):
    """Seconds until cond() held, polling every step; None when it did not within timeout."""
    import time
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if cond():
            return time.monotonic() - t0
        time.sleep(step)
    return None


def capture(ns, iface, pcap):
    """dumpcap recording iface in network namespace ns into pcap (pcap format); stop it with
    SIGTERM and wait() before reading the file."""
    return subprocess.Popen(["ip", "netns", "exec", ns, "dumpcap", "-q", "-i", iface, "-w", pcap,
                             "-P"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def tshark_fields(pcap, fields, display_filter=None, sep="|"):
    """tshark's decode of pcap: per frame (matching display_filter), the values of fields,
    each as tshark prints it (occurrences of a repeated field joined by commas)."""
    cmd = ["tshark", "-n", "-r", pcap, "-T", "fields", "-E", "separator=" + sep]
    if display_filter:
        cmd += ["-Y", display_filter]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    return [line.split(sep) for line in out.splitlines()]


def remove_topology(procs, namespaces, eal_prefixes):
    """A test's cleanup: kills the processes it started that still run, deletes its network
    namespaces and the EAL runtime directories (the EAL leaves them behind)."""
    import shutil
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    for ns in namespaces:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    for prefix in eal_prefixes:
        shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)


def run_topology(setup, cleanup, run, what, tmp_prefix):
    """The tests' main: build the namespaces (skip when that is impossible), run
    run(mcfwd, root, scratch_dir) with argv's binary and source root, clean up on
    every path (meson stops a test over its timeout with SIGTERM: then too), keep
    the scratch directory when MCFWD_E2E_KEEP is set. Returns the exit status."""
    import shutil
    import signal
    import tempfile
    mcfwd, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    d = tempfile.mkdtemp(prefix=tmp_prefix)
    try:
        try:
            setup()
        except RuntimeError as e:
            cleanup()
            shutil.rmtree(d, ignore_errors=True)
            skip("cannot build the %s: %s" % (what, e))
        run(mcfwd, root, d)
    finally:
        cleanup()
        if os.environ.get("MCFWD_E2E_KEEP"):  # for debugging: keep captures and logs
            print("kept " + d)
        else:
            shutil.rmtree(d, ignore_errors=True)
    print("%d check(s) failed" % len(FAILURES) if FAILURES else "all checks passed")
    return 1 if FAILURES else 0


# A host with real sockets, run inside its namespace: one UDP socket per group bound to
# (group, port), joined, blocked and left through the socket API (IP_*, MCAST_*, IPV6_*
# options) by JSON requests on stdin, one per line; {"dump": 1} answers what each socket
# received as {"PEER|PAYLOAD": count}. argv: interface, the host's IPv4 address, UDP port.
SOCKET_AGENT = r"""
import json, select, socket, struct, sys, threading
IFX = socket.if_nametoindex(sys.argv[1])
PORT = int(sys.argv[3])
OPT4 = {"IP_ADD_MEMBERSHIP": 35, "IP_DROP_MEMBERSHIP": 36, "IP_UNBLOCK_SOURCE": 37,
        "IP_BLOCK_SOURCE": 38, "IP_ADD_SOURCE_MEMBERSHIP": 39, "IP_DROP_SOURCE_MEMBERSHIP": 40}
MCAST = {"MCAST_JOIN_GROUP": 42, "MCAST_BLOCK_SOURCE": 43, "MCAST_UNBLOCK_SOURCE": 44,
         "MCAST_LEAVE_GROUP": 45, "MCAST_JOIN_SOURCE_GROUP": 46, "MCAST_LEAVE_SOURCE_GROUP": 47}
socks, counts, lock = {}, {}, threading.Lock()

def storage(a):  # struct sockaddr_storage
    if ":" in a:
        b = struct.pack("=HHI16sI", socket.AF_INET6, 0, 0, socket.inet_pton(socket.AF_INET6, a), 0)
    else:
        b = struct.pack("=HH4s", socket.AF_INET, 0, socket.inet_aton(a))
    return b.ljust(128, b"\0")

def sock(g):
    if g not in socks:
        v6 = ":" in g
        s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((g, PORT, 0, 0) if v6 else (g, PORT))
        with lock:
            socks[g] = s
    return socks[g]

def op(name, g, src):
    s = sock(g)
    if name in MCAST:  # struct group_req / group_source_req: ifindex, pad, storages
        level = socket.IPPROTO_IPV6 if ":" in g else socket.IPPROTO_IP
        arg = struct.pack("=I4x", IFX) + storage(g) + (storage(src) if src else b"")
        s.setsockopt(level, MCAST[name], arg)
    elif name == "IPV6_JOIN_GROUP":
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                     socket.inet_pton(socket.AF_INET6, g) + struct.pack("=i", IFX))
    elif name in ("IP_ADD_MEMBERSHIP", "IP_DROP_MEMBERSHIP"):  # struct ip_mreqn
        s.setsockopt(socket.IPPROTO_IP, OPT4[name],
                     socket.inet_aton(g) + socket.inet_aton("0.0.0.0") + struct.pack("=i", IFX))
    else:  # struct ip_mreq_source (Linux order: group, interface, source)
        local = socket.inet_aton(sys.argv[2])
        s.setsockopt(socket.IPPROTO_IP, OPT4[name],
                     socket.inet_aton(g) + local + socket.inet_aton(src))

def receive():
    while True:
        with lock:
            ss = list(socks.values())
        if not ss:
            select.select([], [], [], 0.05)
            continue
        for s in select.select(ss, [], [], 0.05)[0]:
            data, peer = s.recvfrom(2048)
            key = "%s|%s" % (peer[0], data.decode(errors="replace"))
            with lock:
                counts[key] = counts.get(key, 0) + 1

threading.Thread(target=receive, daemon=True).start()
for line in sys.stdin:
    req = json.loads(line)
    try:
        if "dump" in req:
            with lock:
                out = dict(counts)
            print(json.dumps(out), flush=True)
            continue
        op(req["op"], req["g"], req.get("s"))
        print("ok", flush=True)
    except OSError as e:
        print("error %s %s %s: %s" % (req["op"], req["g"], req.get("s"), e), flush=True)
"""


class HostAgent:
    """A SOCKET_AGENT in namespace ns, on interface eth0 with address addr; its process is
    appended to procs (the test's cleanup kills it)."""

    def __init__(self, name, ns, addr, port, procs):
        self.name = name
        self.p = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c",
                                   SOCKET_AGENT, "eth0", addr, str(port)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(self.p)

    def request(self, req):
        import json
        self.p.stdin.write(json.dumps(req) + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().strip()

    def do(self, ops):
        """ops: (option name, group, source or None); each must answer ok."""
        for name, g, s in ops:
            r = self.request({"op": name, "g": g, "s": s})
            check(r == "ok", "host %s: %s(%s%s) -> %s" % (self.name, name, g,
                                                          ", " + s if s else "", r))

    def datagrams(self):
        """[(peer, source in the payload, group in the payload, seq, count)] of what the
        sockets got, from the tests' payload "e2e S=.. G=.. seq=.."; what does not parse,
        or names another source than the sender's address, as ("junk", key)."""
        import json
        import re
        out = []
        for key, n in json.loads(self.request({"dump": 1})).items():
            peer, payload = key.split("|", 1)
            m = re.match(r"e2e S=(\S+) G=(\S+) seq=(\d+)", payload)
            if not m or canon(m.group(1)) != canon(peer):
                out.append(("junk", key))
                continue
            out.append((canon(peer), canon(m.group(2)), int(m.group(3)), n))
        return out
