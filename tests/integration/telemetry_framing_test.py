#!/usr/bin/python3
"""A request to mcfwd's telemetry runs exactly as sent or is refused whole
(docs/TELEMETRY.md "Framing"), against the real application on net_pcap ports.

Checks:
  - 151, 4,096 and 65,536 sources set through scripts/mcfwdctl set-filter (staged
    and committed in one step when over one request) read back exactly through
    mcfwdctl filter;
  - raw requests over the socket: the 151-source set_filter in one request
    (DPDK cuts it at 1023 bytes), the same request cut at several lengths, with a
    NUL inside, a join with garbage after a NUL, a request without the end
    marker: each refused with EMSGSIZE / EINVAL, the filter unchanged;
  - mcfwdctl refuses to send a request that would be cut (raw, over 1023 bytes);
  - dpdk-telemetry.py still reads without the marker and changes with it;
  - the proxy's internal receiver (downstream:lan1) is marked internal and every
    change to it is EPERM.
Usage: telemetry_framing_test.py MCFWD_BINARY SOURCE_ROOT
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import FAILURES, check  # noqa: E402


CONFIG = """
eal: ["--no-huge", "--no-pci", "-m", "256", "--file-prefix={prefix}", "--log-level=lib.eal:warning"]
lcores: {{ control: 0, forwarding: [1] }}
limits: {{ max_filter_sources: 65536, max_merged_sources: 65536 }}
ports:
  - name: uplink
    device: "net_pcap0,rx_pcap={d}/empty.pcap,tx_pcap={d}/uplink.pcap"
    ipv4: {{ address: 192.0.2.10 }}
    ipv6: {{ link_local: "fe80::10" }}
    role: upstream
  - name: lan1
    device: "net_null0,no-rx=1"
    role: downstream
    ipv4: {{ address: 192.0.2.11 }}
    ipv6: {{ link_local: "fe80::11" }}
receivers:
  - name: r1
    sink: {{ ring: frame-r1 }}
  - name: r2
    sink: {{ ring: frame-r2 }}
"""

EMPTY_PCAP = bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000")


def sources(n, first=10):
    return ["%d.%d.%d.%d" % (first, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff)
            for i in range(1, n + 1)]


def ip_key(s):
    return tuple(int(x) for x in s.split("."))


def main():
    binary, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    ctl_path = os.path.join(root, "scripts/mcfwdctl")
    d = tempfile.mkdtemp(prefix="mcfwd-frame.")
    prefix = "mcfwd-frame-%d" % os.getpid()
    with open(os.path.join(d, "empty.pcap"), "wb") as f:
        f.write(EMPTY_PCAP)
    cfg = os.path.join(d, "mcfwd.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(prefix=prefix, d=d))
    out = open(os.path.join(d, "mcfwd.out"), "w+")
    proc = subprocess.Popen([binary, "--config", cfg, "--duration", "300"],
                            stdout=out, stderr=subprocess.STDOUT)
    sock_path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix

    def ctl(*args, stdin=None):
        r = subprocess.run(["/usr/bin/python3", ctl_path, "--file-prefix", prefix] + list(args),
                           input=stdin, capture_output=True, text=True, timeout=300)
        return r.returncode, r.stdout, r.stderr

    def read_back(receiver, group):
        rc, o, e = ctl("--json", "filter", receiver, group)
        try:
            return json.loads(o)
        except ValueError:
            return {"rc": rc, "stderr": e}

    def raw(data):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(sock_path)
        s.recv(1024)
        s.send(data)
        ans = json.loads(s.recv(65536).decode())
        s.close()
        return list(ans.values())[0] or {}

    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            out.seek(0)
            if "mcfwd: running" in out.read() or proc.poll() is not None:
                break
            time.sleep(0.2)
        out.seek(0)
        started = "mcfwd: running" in out.read()
        check(started, "mcfwd started")
        if not started:
            out.seek(0)
            print(out.read())
            return 1

        # ---- long filters through mcfwdctl, read back exactly ----
        for n, group in ((151, "239.4.4.4"), (4096, "239.4.4.5"), (65536, "239.4.4.6")):
            src = sources(n)
            t0 = time.time()
            if n <= 151:
                rc, o, e = ctl("set-filter", "r2", group, "include", ",".join(src),
                               "--port", "uplink")
            else:  # over the kernel's 128 KiB per argument: from a file (stdin)
                rc, o, e = ctl("set-filter", "r2", group, "include", "--sources-file", "-",
                               "--port", "uplink", stdin="\n".join(src) + "\n")
            took = time.time() - t0
            check(rc == 0 and ("%d sources" % n in o or "10.0.0.151" in o),
                  "set-filter %d sources: rc %d %s%s (%.1f s)"
                  % (n, rc, o.strip()[:100], e.strip()[:200], took))
            back = read_back("r2", group)
            got = back.get("sources") or []
            check(back.get("mode") == "include" and got == sorted(src, key=ip_key),
                  "%d sources read back exactly (%d read)" % (n, len(got)))

        # Listings stay within one answer: the first 64 sources and the count.
        rc, o, e = ctl("receivers", "r2")
        check(rc == 0 and "(+65472 more" in o, "receivers r2 with a 65536-source filter: rc %d %s"
              % (rc, e.strip()))
        rc, o, e = ctl("groups")
        check(rc == 0 and "grp 239.4.4.6 include" in o and "(+65472 more" in o,
              "groups with a 65536-source filter: rc %d %s" % (rc, e.strip()))

        # The filter the cut requests must not touch: 151 sources in place.
        want = read_back("r2", "239.4.4.4")

        # ---- raw requests: cut, NUL, no marker ----
        full = ("/mcfwd/set_filter,r2 239.4.4.4 exclude %s ;" % " ".join(sources(151, 11))).encode()
        check(len(full) > 1023, "the 151-source request is %d bytes" % len(full))
        a = raw(full)
        check(a.get("error") == "EMSGSIZE", "a request over 1023 bytes: %s" % a)
        for cut in (40, 100, 517, 900, 1022):
            a = raw(full[:cut])
            check(a.get("error") in ("EINVAL", "EMSGSIZE"),
                  "the request cut at %d bytes is refused: %s" % (cut, a.get("error")))
        short = b"/mcfwd/set_filter,r2 239.4.4.4 exclude 10.9.9.1 10.9.9.2 ;"
        for at in (25, 40, len(short) - 2):
            a = raw(short[:at] + b"\0" + short[at:])
            check(a.get("error") == "EINVAL", "NUL at %d is refused: %s" % (at, a.get("error")))
        check(read_back("r2", "239.4.4.4") == want, "the 151-source filter is unchanged")
        a = raw(b"/mcfwd/join,r1 239.1.1.1\0garbage ;")
        check(a.get("error") == "EINVAL", "join with garbage after a NUL: %s" % a)
        a = raw(b"/mcfwd/join,r1 239.1.1.1")
        check(a.get("error") == "EINVAL" and ";" in a.get("message", ""),
              "join without the end marker: %s" % a)
        rc, o, _ = ctl("--json", "receivers", "r1")
        check(rc == 0 and json.loads(o)["receivers"][0].get("memberships") in ([], {}, None),
              "r1 joined nothing")
        a = raw(b"/mcfwd/join,r1 239.1.1.1 port=uplink ;")
        check(a.get("ok") == "join", "the same join with the marker runs: %s" % a)

        # The proxy's receiver of lan1 is internal: listed as such, never changed.
        rc, o, _ = ctl("--json", "receivers", "downstream:lan1")
        rec = (json.loads(o).get("receivers") or [{}])[0] if rc == 0 else {}
        check(rec.get("internal") == 1, "downstream:lan1 is listed internal: %s" % rec)
        for args in (["join", "downstream:lan1", "239.7.7.7", "--port", "uplink"],
                     ["leave", "downstream:lan1", "239.7.7.7", "--port", "uplink"],
                     ["block", "downstream:lan1", "239.7.7.7", "10.0.0.1", "--port", "uplink"],
                     ["set-filter", "downstream:lan1", "239.7.7.7", "include", "10.0.0.1",
                      "--port", "uplink"],
                     ["set-filter", "downstream:lan1", "239.7.7.7", "include",
                      ",".join(sources(151)), "--port", "uplink"],
                     ["close-receiver", "downstream:lan1"]):
            rc, o, e = ctl(*args)
            check(rc == 1 and "EPERM" in e and "internal" in e,
                  "%s downstream:lan1 -> EPERM: %s" % (args[0], e.strip()))
        rc, o, _ = ctl("--json", "receivers", "downstream:lan1")
        check(rc == 0 and json.loads(o)["receivers"][0].get("memberships") in ([], {}, None),
              "downstream:lan1 unchanged")

        # mcfwdctl refuses to send what would be cut.
        rc, o, e = ctl("raw", "/mcfwd/groups," + "x" * 1100)
        check(rc == 2 and "1023" in e, "mcfwdctl raw refuses a 1100-byte request: %s" % e.strip())

        # dpdk-telemetry.py: reads as before, changes with the marker.
        tel = shutil.which("dpdk-telemetry.py") or "/usr/bin/dpdk-telemetry.py"
        if os.path.exists(tel):
            r = subprocess.run(["/usr/bin/python3", tel, "-f", prefix],
                               input="/mcfwd/receivers,r1\n/mcfwd/leave,r1 239.1.1.1 port=uplink ;\n",
                               capture_output=True, text=True, timeout=30)
            txt = r.stdout.replace('":"', '": "')
            check("239.1.1.1" in txt and '"ok": "leave"' in txt,
                  "dpdk-telemetry.py reads without the marker and leaves with it")
        else:
            check(False, "dpdk-telemetry.py not found")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)
    check(rc == 0, "mcfwd exits 0 after SIGTERM (%s)" % rc)
    shutil.rmtree(d, ignore_errors=True)
    print("%d failure(s)" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
