"""Helpers the end-to-end tests share: skipping, checks, commands in network
namespaces, the RFC 3376 §3.2 merge and mcfwdctl. Imported by tests/e2e/*_test.py."""
import ipaddress
import os
import subprocess
import sys

FAILURES = []


def skip(why):
    """Exit 77, which meson counts as skipped, saying why."""
    print("SKIP: " + why)
    sys.exit(77)


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)
    return cond


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
