#!/usr/bin/env python3
"""Receivers that come and go while mcfwd runs (issue 12, item 6).

mcfwd starts with no receiver on a net_tap port. A consumer process
(mcfwd-consumer --receiver, a DPDK secondary) makes its own receiver over the
telemetry socket (add_receiver: mcfwd creates the ring then), sets two filters,
gets exactly the (S,G) they accept out of frames sent into the tap with scapy,
and closes the receiver when it exits. A second consumer then uses the same
receiver and ring name with another filter: the name, the ring and the outlet
were given back. mcfwdctl add-receiver / close-receiver and their refusals run
against the same instance.

Needs root: hugepages (a secondary process cannot attach to a --no-huge primary)
and a tap interface. CI runs as root.
    runtime_receiver_test.py MCFWD MCFWD_CONSUMER SOURCE_ROOT
"""
import json
import os
import subprocess
import sys
import tempfile
import time

MCFWD, CONSUMER, ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
MCFWDCTL = os.path.join(ROOT, "scripts", "mcfwdctl")
NR = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import FAILURES, check, skip  # noqa: E402


if os.getuid() != 0:
    skip("needs root for hugepages and a tap interface (CI runs as root)")
if not os.access("/dev/net/tun", os.W_OK):
    skip("no /dev/net/tun")
if not os.access(NR, os.W_OK):
    skip(NR + " is not writable: no 2 MiB hugepages")

pid = os.getpid()
prefix = "mcfwd-rtr-%d" % pid
tap = "mcrtr%d" % (pid % 100000)
work = tempfile.mkdtemp(prefix="mcfwd-rtr.")
huge = os.path.join(work, "huge")
os.mkdir(huge)
old_pages = int(open(NR).read())
added = 0
mcfwd = None


def ctl(*args):
    p = subprocess.run([sys.executable, MCFWDCTL, "--file-prefix", prefix] + list(args),
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def send(flows, count):
    """count frames of each (source, group), the accepted ones last: when the
    consumer has its count, every refused frame was already looked up (one RX
    queue keeps the order)."""
    script = """
import sys
from scapy.all import Ether, IP, UDP, Raw, sendp
frames = []
for src, grp in %r:
    mac = "01:00:5e:%%02x:%%02x:%%02x" %% tuple(int(x) for x in grp.split(".")[1:])
    mac = "01:00:5e:%%02x:%%s" %% (int(grp.split(".")[1]) & 0x7f, mac[12:])
    for seq in range(%d):
        frames.append(Ether(dst=mac, src="02:00:00:00:00:99") / IP(src=src, dst=grp, ttl=8)
                      / UDP(sport=5000, dport=5001)
                      / Raw(b"mcfwd S=%%s G=%%s seq=%%d " %% (src.encode(), grp.encode(), seq)))
sendp(frames, iface=%r, verbose=False)
""" % (flows, count, tap)
    subprocess.run(["/usr/bin/python3", "-c", script], check=True, timeout=60)


def consumer(receiver, filters, count):
    cmd = [CONSUMER, "--receiver", receiver, "--count", str(count), "--timeout", "10"]
    for f in filters:
        cmd += ["--filter", f]
    cmd += ["--", "--proc-type=secondary", "--no-pci", "--file-prefix=" + prefix,
            "--huge-dir=" + huge, "--log-level=lib.eal:error"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_member(receiver, memberships):
    """Until mcfwd lists the receiver with that many memberships (10 s at most)."""
    for _ in range(100):
        rc, out = ctl("--json", "receivers", receiver)
        if rc == 0:
            r = json.loads(out)["receivers"][0]
            if len(r.get("memberships") or []) == memberships:
                return True
        time.sleep(0.1)
    return False


def finish(p):
    out, err = p.communicate(timeout=60)
    try:
        return p.returncode, json.loads(out), err
    except ValueError:
        return p.returncode, {}, err + out


S1, S2, S7, S66 = "198.51.100.1", "198.51.100.2", "198.51.100.7", "198.51.100.66"
G1, G2, G3 = "239.1.1.1", "239.2.2.2", "239.3.3.3"
N = 50

try:
    with open(NR, "w") as f:
        f.write(str(old_pages + 192))
    added = int(open(NR).read()) - old_pages
    subprocess.run(["mount", "-t", "hugetlbfs", "nodev", huge], check=True)
    if int(open(NR).read()) < old_pages + 128:
        skip("the kernel granted only %s hugepages" % open(NR).read().strip())
    cfg = os.path.join(work, "mcfwd.yaml")
    with open(cfg, "w") as f:
        f.write("""eal: ["--no-pci", "-m", "256", "--huge-dir=%s", "--file-prefix=%s"]
ports:
  - name: t0
    device: "net_tap0,iface=%s"
    ipv4: { address: 192.0.2.10 }
""" % (huge, prefix, tap))
    log = open(os.path.join(work, "mcfwd.out"), "w+")
    mcfwd = subprocess.Popen([MCFWD, "--config", cfg, "--duration", "120"], stdout=log,
                             stderr=subprocess.STDOUT)
    for _ in range(100):
        log.seek(0)
        if "mcfwd: running" in log.read():
            break
        time.sleep(0.1)
    subprocess.run(["ip", "link", "set", tap, "up"], check=True)
    rc, out = ctl("--json", "receivers")
    check(rc == 0 and json.loads(out)["total"] == 0, "mcfwd starts with no receiver")

    # A consumer started after mcfwd makes its receiver and gets exactly its filter.
    flows = [(S2, G1), (S66, G2), (S1, G3), (S1, G1), (S7, G2)]
    a = consumer("live", ["%s include %s" % (G1, S1), "%s exclude %s" % (G2, S66)], 2 * N)
    check(wait_member("live", 2), "the consumer's receiver and its two filters are in mcfwd")
    rc, out = ctl("receivers", "live")
    check(rc == 0 and "ring live" in out, "mcfwdctl receivers shows its ring: " + out.strip())
    send(flows, N)
    rc, got, err = finish(a)
    want = {"S=%s G=%s" % (S1, G1): N, "S=%s G=%s" % (S7, G2): N}
    check(rc == 0 and got.get("flows") == want,
          "first consumer got exactly its (S,G): %s (exit %d) %s" % (got.get("flows"), rc, err))
    check(got.get("mcfwd_delivered") == 2 * N,
          "mcfwd delivered what the consumer took: %s" % got.get("mcfwd_delivered"))
    rc, out = ctl("receivers", "live")
    check(rc == 1 and "ENOENT" in out, "the receiver is gone after the consumer exits: " + out)

    # A second consumer reuses the name and the ring's name with another filter.
    b = consumer("live", ["%s include %s" % (G1, S2)], N)
    check(wait_member("live", 1), "a second consumer reuses the name")
    send(flows, N)
    rc, got, err = finish(b)
    check(rc == 0 and got.get("flows") == {"S=%s G=%s" % (S2, G1): N}
          and got.get("mcfwd_delivered") == N,
          "second consumer got exactly its (S,G): %s %s" % (got, err))

    # mcfwdctl: add, refusals that change nothing, close.
    rc, out = ctl("add-receiver", "cli", "--ring-size", "64")
    check(rc == 0 and "ok: add_receiver cli outlet" in out and "ring cli" in out, out.strip())
    for args, code in ((["add-receiver", "cli"], "EADDRINUSE"),
                       (["add-receiver", "Bad"], "EINVAL"),
                       (["add-receiver", "other", "--ring", "cli"], "EEXIST"),
                       (["add-receiver", "other", "--ring-size", "100"], "EINVAL"),
                       (["add-receiver", "other", "--tx-port", "t0"], "EINVAL"),
                       (["close-receiver", "downstream:t0"], "ENOENT")):
        rc, out = ctl(*args)
        check(rc == 1 and code in out, "%s -> %s: %s" % (" ".join(args), code, out.strip()))
    rc, out = ctl("--json", "receivers")
    check(rc == 0 and [r["name"] for r in json.loads(out)["receivers"]] == ["cli"],
          "the refusals made nothing")
    rc, out = ctl("close-receiver", "cli")
    check(rc == 0 and "ok: close_receiver cli" in out and "ring cli delivered 0" in out,
          out.strip())

    mcfwd.terminate()
    rc = mcfwd.wait(timeout=30)
    log.seek(0)
    text = log.read()
    check(rc == 0 and "mcfwd: stopped" in text, "mcfwd stops cleanly (exit %d)" % rc)
finally:
    if mcfwd and mcfwd.poll() is None:
        mcfwd.kill()
        mcfwd.wait()
    subprocess.run(["umount", huge], stderr=subprocess.DEVNULL)
    # Give back what this test added, whatever another test did meanwhile.
    now = int(open(NR).read())
    with open(NR, "w") as f:
        f.write(str(max(0, now - added)))
    subprocess.run(["rm", "-rf", work, "/var/run/dpdk/" + prefix])

print("%d failed" % len(FAILURES))
sys.exit(1 if FAILURES else 0)
