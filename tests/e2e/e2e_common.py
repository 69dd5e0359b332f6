"""Helpers the end-to-end tests share: skipping, checks, commands in network
namespaces, the RFC 3376 §3.2 merge and mcfwdctl. Imported by tests/e2e/*_test.py."""
import ipaddress
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import FAILURES, check, skip  # noqa: E402,F401  (re-exported to the e2e tests)


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
