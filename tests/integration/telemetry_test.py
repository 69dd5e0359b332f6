#!/usr/bin/python3
"""mcfwd's telemetry commands end to end: the real application on net_pcap ports,
driven by scripts/mcfwdctl and DPDK's own dpdk-telemetry.py.

Checks: ports / groups / receivers / stats list; join, set-filter, leave,
block, close-receiver change the group table; errors (not joined ->
EADDRNOTAVAIL, bad address -> EINVAL, join twice -> EADDRINUSE, unknown
receiver -> ENOENT) answer their code and leave the state unchanged; several
clients at once each get their own answer; telemetry.read_only refuses every
mutation with EPERM and still answers reads.
Usage: telemetry_test.py MCFWD_BINARY SOURCE_ROOT
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import FAILURES, check  # noqa: E402


CONFIG = """
eal: ["--no-huge", "--no-pci", "-m", "128", "--file-prefix={prefix}", "--log-level=lib.eal:warning"]
lcores: {{ control: 0, forwarding: [1] }}
telemetry: {{ read_only: {ro} }}
ports:
  - name: uplink
    device: "net_pcap{n0},rx_pcap={d}/empty.pcap,tx_pcap={d}/uplink-{tag}.pcap"
    ipv4: {{ address: 192.0.2.10 }}
    ipv6: {{ link_local: "fe80::10" }}
  - name: side
    device: "net_pcap{n1},rx_pcap={d}/empty.pcap,tx_pcap={d}/side-{tag}.pcap"
    ipv4: {{ address: 192.0.2.11 }}
    ipv6: {{ link_local: "fe80::11" }}
  # Traffic for mcfwdctl top: net_null receives all-zero frames (copy=1) as fast
  # as it is polled; the parser drops them.
  - name: noise
    device: "net_null{n2},copy=1"
    igmp: {{ enabled: false }}
    mld: {{ enabled: false }}
receivers:
  - name: feed-a
    sink: {{ ring: tel-a-{tag} }}
  - name: feed-b
    sink: {{ ring: tel-b-{tag} }}
    joins:
      - {{ port: side, group: 239.1.1.1 }}
"""

EMPTY_PCAP = bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000")


class Mcfwd:
    def __init__(self, binary, root, d, tag, read_only):
        self.prefix = "mcfwd-tel-%d-%s" % (os.getpid(), tag)
        self.root = root
        cfg = os.path.join(d, "%s.yaml" % tag)
        with open(cfg, "w") as f:
            f.write(CONFIG.format(prefix=self.prefix, d=d, tag=tag,
                                  ro="true" if read_only else "false",
                                  n0=0, n1=1, n2=2))
        self.out = open(os.path.join(d, "%s.out" % tag), "w+")
        self.proc = subprocess.Popen([binary, "--config", cfg, "--duration", "120"],
                                     stdout=self.out, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            self.out.seek(0)
            if "mcfwd: running" in self.out.read() or self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.out.seek(0)
        self.started = "mcfwd: running" in self.out.read()

    def ctl(self, *args, user=None, connect=None):
        """(exit status, stdout, stderr) of scripts/mcfwdctl (as user, through
        --socket connect when given)."""
        where = ["--socket", connect] if connect else ["--file-prefix", self.prefix]
        r = subprocess.run((["runuser", "-u", user, "--"] if user else []) +
                           [sys.executable, os.path.join(self.root, "scripts/mcfwdctl")] +
                           where + list(args), capture_output=True, text=True, timeout=30)
        return r.returncode, r.stdout, r.stderr

    def json(self, *args):
        rc, out, err = self.ctl("--json", *args)
        try:
            return json.loads(out)
        except ValueError:
            return {"unparsable": out, "stderr": err, "rc": rc}

    def state(self):
        """Memberships and merged filters; the IGMP/MLD timers tick on their own."""
        groups = self.json("groups")
        for g in groups.get("groups") or []:
            g.pop("host", None)
        return (groups, self.json("receivers"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        shutil.rmtree("/var/run/dpdk/" + self.prefix, ignore_errors=True)
        return rc


def expect_error(m, code, what, *args):
    before = m.state()
    rc, out, err = m.ctl(*args)
    check(rc == 1 and code in err, "%s -> %s (rc %d: %s)" % (what, code, rc, err.strip()))
    check(m.state() == before, "%s changed nothing" % what)


def main():
    binary, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    d = tempfile.mkdtemp(prefix="mcfwd-tel.")
    with open(os.path.join(d, "empty.pcap"), "wb") as f:
        f.write(EMPTY_PCAP)
    m = Mcfwd(binary, root, d, "rw", read_only=False)
    try:
        check(m.started, "mcfwd started")
        if not m.started:
            m.out.seek(0)
            print(m.out.read())
            return 1

        rc, out, _ = m.ctl("ports")
        check(rc == 0 and "port uplink id" in out and "port side id" in out,
              "ports lists both ports: " + out.strip().replace("\n", " | "))
        p = m.json("ports", "side")
        nic = p["ports"][0].get("nic", {})
        # net_pcap has no multicast list: the join of 239.1.1.1 put the port in allmulticast.
        check(nic.get("allmulti_reason") == "not_supported" and nic.get("allmulti") == 1,
              "ports side shows allmulticast and why: %s" % nic.get("allmulti_reason"))

        rc, out, _ = m.ctl("groups")
        check(rc == 0 and "dev side grp 239.1.1.1 exclude src {} refs 1 members feed-b" in out,
              "groups shows the static join: " + out.strip())
        rc, out, _ = m.ctl("receivers")
        check(rc == 0 and "receiver feed-a outlet 0" in out and "receiver feed-b outlet 1" in out
              and "dev side grp 239.1.1.1 exclude" in out, "receivers: " + out.strip())
        s = m.json("stats")
        check(s.get("lcores") == 1 and "rx_packets" in s.get("dataplane", {})
              and "calls_ok" in s.get("engine", {}) and s.get("outlets") == ["feed-a", "feed-b"]
              and "decode_bad_checksum" in s.get("control", {})
              and "reports_heard" in s.get("control", {}) and "ssm_ignored" in s.get("router", {}),
              "stats has data path, control (each drop reason), router, engine and outlets")
        # Per lcore (mcfwd-exporter's per-lcore metrics): the one forwarding lcore,
        # by its EAL id, with every data path counter. net_null keeps the counters
        # moving, so each is at least what the earlier summed answer said.
        per = m.json("stats", "--lcores")
        recs = per.get("per_lcore") or []
        dp = s.get("dataplane") or {}
        got = recs[0].get("counters", {}) if recs else {}
        check(per.get("total") == 1 and len(recs) == 1 and recs[0].get("lcore") == 1
              and set(got) == set(dp) and all(got[k] >= dp[k] for k in dp),
              "stats --lcores: lcore 1 with the summed counters: %s" % json.dumps(per)[:300])
        rc, out, _ = m.ctl("raw", "/mcfwd/stats,lcores start=1 limit=1 ;")
        page = json.loads(out) if rc == 0 else {}
        check(page.get("per_lcore") == [] and page.get("total") == 1 and "next" not in page,
              "stats lcores start=1: an empty last page of 1: %s" % out.strip()[:200])
        for bad in ("/mcfwd/stats,lcores limit=0 ;", "/mcfwd/stats,lcores start=x ;",
                    "/mcfwd/stats,bogus ;"):
            rc, out, err = m.ctl("raw", bad)
            check(rc == 1 and "EINVAL" in err and "usage: stats [lcores" in err,
                  "%s -> EINVAL with the usage (rc %d: %s)" % (bad, rc, err.strip()))

        rc, out, err = m.ctl("join", "feed-a", "233.1.1.1", "--source", "10.0.0.1",
                             "--port", "uplink")
        check(rc == 0 and "ok: join_source feed-a 233.1.1.1 on uplink: include 10.0.0.1" in out,
              "join --source: " + (out + err).strip())
        rc, out, _ = m.ctl("groups", "uplink")
        check("dev uplink grp 233.1.1.1 include src 10.0.0.1 refs 1 members feed-a" in out,
              "the group table shows the join: " + out.strip())
        # The port is inferred now that feed-a is on one port only.
        rc, out, err = m.ctl("set-filter", "feed-a", "233.1.1.1", "exclude", "10.0.0.1,10.0.0.2")
        check(rc == 0, "set-filter exclude: " + (out + err).strip())
        rc, out, _ = m.ctl("groups", "uplink")
        check("grp 233.1.1.1 exclude src 10.0.0.1,10.0.0.2" in out,
              "the group table shows the new filter: " + out.strip())

        expect_error(m, "EADDRNOTAVAIL", "leave of a group not joined",
                     "leave", "feed-a", "239.9.9.9", "--port", "uplink")
        expect_error(m, "EINVAL", "join of a bad address",
                     "join", "feed-a", "232.1.1.300", "--port", "uplink")
        expect_error(m, "EINVAL", "join of a unicast group",
                     "join", "feed-a", "10.1.1.1", "--port", "uplink")
        expect_error(m, "EADDRINUSE", "second join", "join", "feed-b", "239.1.1.1")
        expect_error(m, "ENOENT", "unknown receiver", "join", "nobody", "239.1.1.1")
        expect_error(m, "ENXIO", "unknown port", "join", "feed-a", "239.1.1.2", "--port", "nope")
        expect_error(m, "EINVAL", "join --source on an EXCLUDE filter (mode mismatch)",
                     "join", "feed-a", "233.1.1.1", "--source", "10.0.0.3")
        # RFC 4604 §2.2.1: the SSM range takes no any-source (EXCLUDE) filter.
        expect_error(m, "EINVAL", "any-source join of an SSM group",
                     "join", "feed-a", "232.9.9.9", "--port", "uplink")
        expect_error(m, "EINVAL", "set-filter exclude on an SSM group",
                     "set-filter", "feed-a", "232.9.9.9", "exclude", "10.0.0.1", "--port", "uplink")

        # DPDK's own client.
        tel = shutil.which("dpdk-telemetry.py") or "/usr/bin/dpdk-telemetry.py"
        if os.path.exists(tel):
            r = subprocess.run([sys.executable, tel, "-f", m.prefix],
                               input="/mcfwd/groups,side\n/mcfwd/block,feed-b 239.1.1.1 10.9.9.9 ;\n",
                               capture_output=True, text=True, timeout=30)
            check("239.1.1.1" in r.stdout and '"ok": "block"' in r.stdout.replace('":"', '": "'),
                  "dpdk-telemetry.py reads groups and blocks a source")
            rc, out, _ = m.ctl("groups", "side")
            check("exclude src 10.9.9.9" in out, "the block shows: " + out.strip())
        else:
            check(False, "dpdk-telemetry.py not found")

        # Several clients at once (DPDK: one telemetry thread per connection).
        results = []

        def client(i):
            rc, out, err = m.ctl("join", "feed-b", "239.2.0.%d" % i, "--port", "uplink")
            results.append(rc == 0 and ("239.2.0.%d" % i) in out)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(1, 9)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check(results.count(True) == 8, "8 concurrent clients joined: %s" % results)
        g = m.json("groups", "uplink")
        check(g.get("total") == 9, "uplink has 9 groups: %s" % g.get("total"))

        # feed-b has 239.1.1.1 on two ports: the leave must say which, in the
        # command line's words.
        rc, out, err = m.ctl("join", "feed-b", "239.1.1.1", "--port", "uplink")
        check(rc == 0, "join feed-b 239.1.1.1 on uplink too: " + (out + err).strip())
        expect_error(m, "EINVAL", "leave of a group joined on two ports without --port",
                     "leave", "feed-b", "239.1.1.1")
        rc, out, err = m.ctl("leave", "feed-b", "239.1.1.1")
        check("give --port NAME" in err and "port=NAME" not in err,
              "the ambiguity names mcfwdctl's --port: " + err.strip())
        rc, out, err = m.ctl("leave", "feed-b", "239.1.1.1", "--port", "uplink")
        check(rc == 0 and out == "ok: leave feed-b 239.1.1.1 on uplink\n",
              "leave --port: " + (out + err).strip())
        rc, out, err = m.ctl("leave", "feed-a", "233.1.1.1")
        check(rc == 0 and out == "ok: leave feed-a 233.1.1.1 on uplink\n",
              "leave: " + (out + err).strip())

        # Mistakes answered in one line with the right exit status.
        rc, out, err = m.ctl("raw", "/mcfwd/nothere")
        check(rc == 1 and "/mcfwd/nothere: no such telemetry command" in err and not out,
              "raw of an unknown command -> exit 1: " + err.strip())
        rc, out, err = m.ctl("raw", "")
        check(rc == 2 and "usage: mcfwdctl raw" in err and "Traceback" not in err,
              "raw '' -> usage, exit 2: " + err.strip().replace("\n", " | "))
        rc, out, err = m.ctl("router", "uplink")
        check(rc == 1 and "EINVAL: port uplink is not downstream" in err,
              "router on an upstream port -> exit 1: " + err.strip())
        rc, out, err = m.ctl("router")
        check(rc == 0 and not out and "no downstream port" in err,
              "router without downstream ports says so: " + err.strip())

        # The live view: rates per second, a bounded number of lines.
        rc, out, err = m.ctl("top", "--interval", "0.3", "--count", "2")
        lines = out.splitlines()
        check(rc == 0 and len(lines) == 3 and lines[0].split()[:3] == ["time", "rx/s", "fwd/s"],
              "top --count 2: a header and 2 lines: " + (out + err).strip().replace("\n", " | "))
        rc, out, err = m.ctl("--json", "top", "--interval", "0.3", "--count", "1")
        try:
            rates = json.loads(out)
        except ValueError:
            rates = {}
        check(rc == 0 and rates.get("dataplane", {}).get("rx_packets", 0) > 0
              and "feed-b" in rates.get("delivered", {}) and "frames" in rates.get("control", {}),
              "top --json: rates of the data path (net_null's frames), receivers, control: "
              + (out + err).strip())

        # DPDK 22.11 serves 10 clients at a time and closes any further one at once.
        held = []
        for _ in range(10):
            h = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            h.connect("/var/run/dpdk/%s/dpdk_telemetry.v2" % m.prefix)
            h.recv(1024)
            held.append(h)
        rc, out, err = m.ctl("groups")
        for h in held:
            h.close()
        check(rc == 2 and len(err.splitlines()) == 1 and "limit of 10 clients" in err,
              "connection limit reached -> one line, exit 2: " + err.strip())
        for _ in range(50):  # DPDK counts a closed client out on its own thread
            if m.ctl("groups")[0] == 0:
                break
            time.sleep(0.1)
        # Another user cannot reach root's socket: the hint is about the user,
        # not the file prefix the socket was not named by.
        sock = "/var/run/dpdk/%s/dpdk_telemetry.v2" % m.prefix
        if os.getuid() == 0 and shutil.which("runuser") and subprocess.run(
                ["runuser", "-u", "nobody", "--", "test", "-r",
                 os.path.join(root, "scripts/mcfwdctl")]).returncode == 0:
            rc, out, err = m.ctl("groups", user="nobody", connect=sock)
            check(rc == 2 and "Permission denied" in err and "another user" in err
                  and "--file-prefix" not in err, "permission error with --socket: " + err.strip())
        else:
            print("skip: the permission error needs root and a mcfwdctl user nobody can read")
        # Many groups with long source lists: one page would pass telemetry's 16 KiB,
        # so the command refuses it (E2BIG) and mcfwdctl pages by itself.
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sock.connect("/var/run/dpdk/%s/dpdk_telemetry.v2" % m.prefix)
        sock.recv(1024)
        srcs = ",".join("10.1.0.%d" % i for i in range(1, 33))
        ok = 0
        for i in range(1, 61):
            sock.send(("/mcfwd/set_filter,feed-a 232.3.0.%d include %s port=side ;"
                       % (i, srcs)).encode())
            ok += '"ok"' in sock.recv(65536).decode()
        check(ok == 60, "60 filters of 32 sources set over one connection")
        sock.send(b"/mcfwd/groups,side limit=200")
        big = json.loads(sock.recv(65536).decode())["/mcfwd/groups"]
        sock.close()
        check(big.get("error") == "E2BIG", "an answer over 16 KiB is E2BIG: %s" % big)
        g = m.json("groups", "side")
        check(g.get("total") == 61 and len(g.get("groups", [])) == 61
              and len(g["groups"][0]["sources"]) == 32,
              "mcfwdctl pages through 61 groups: %s" % g.get("total"))
        rc, out, err = m.ctl("close-receiver", "feed-a")
        check(rc == 0 and "close_receiver feed-a left 60 membership(s)" in out,
              "close-receiver feed-a: " + out.strip())

        rc, out, err = m.ctl("close-receiver", "feed-b")
        check(rc == 0, "close-receiver: " + (out + err).strip())
        g = m.json("groups")
        check(g.get("total") == 0 and g.get("groups") == [], "no group left: %s" % g)
        rc, out, err = m.ctl("raw", "/mcfwd/help")
        check(rc == 0 and "set_filter" in out, "help lists the commands")
    finally:
        rc = m.stop()
    check(rc == 0, "mcfwd exits 0 after SIGTERM (%s)" % rc)

    ro = Mcfwd(binary, root, d, "ro", read_only=True)
    try:
        check(ro.started, "read-only mcfwd started")
        before = ro.state()
        for args in (["join", "feed-a", "232.1.1.1", "--port", "uplink"],
                     ["leave", "feed-b", "239.1.1.1"],
                     ["set-filter", "feed-b", "239.1.1.1", "include"],
                     ["block", "feed-b", "239.1.1.1", "10.0.0.1"],
                     ["close-receiver", "feed-b"]):
            rc, out, err = ro.ctl(*args)
            check(rc == 1 and "EPERM" in err, "read-only refuses %s: %s" % (args[0], err.strip()))
        check(ro.state() == before, "read-only: state unchanged")
        rc, out, _ = ro.ctl("groups")
        check(rc == 0 and "grp 239.1.1.1" in out, "read-only still answers groups")
    finally:
        ro.stop()

    # Not running: a clear connection error.
    r = subprocess.run([sys.executable, os.path.join(root, "scripts/mcfwdctl"),
                        "--file-prefix", "mcfwd-tel-none-%d" % os.getpid(), "groups"],
                       capture_output=True, text=True)
    check(r.returncode == 2 and "cannot connect" in r.stderr, "no mcfwd: exit 2")
    shutil.rmtree(d, ignore_errors=True)
    print("%d failure(s)" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
