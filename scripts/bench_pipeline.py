#!/usr/bin/python3
"""Measures the input packet rate of one DPDK application (scripts/bench.sh pipeline).

Starts COMMAND, waits until its EAL telemetry socket answers and its RX port has
received packets, lets it warm up, then reads that port's rte_eth_stats
(ipackets) through DPDK telemetry (/ethdev/stats,PORT) once a second for WINDOW
seconds. The rate is the median of the one-second rates, so startup, the
warm-up and the shutdown are never counted, and every application (mcfwd,
dpdk-testpmd, examples/ipv4_multicast) is measured the same way from outside.
Then the application gets SIGTERM (SIGKILL after 30 s; not SIGINT, which a
shell ignores in its background jobs and the example does not handle) and its
runtime directory /var/run/dpdk/PREFIX is removed.

Prints one JSON object: {"name", "mpps" (median), "best" (the fastest second:
the least disturbed by other tenants of a shared machine), "samples" (each
second's Mpps), "startup_s" (command start to first packets), "log" (its output file)}.

Usage: bench_pipeline.py --name N --prefix FILE_PREFIX --port ID --log FILE
                         [--warmup S] [--window S] -- COMMAND...
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time


def telemetry(sock, cmd):
    sock.send(cmd.encode())
    return json.loads(sock.recv(1 << 16).decode())


def connect(path, proc, deadline):
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        if os.path.exists(path):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                s.connect(path)
                s.recv(1 << 16)  # the greeting: version, pid, max_output_len
                return s
            except OSError:
                s.close()
        time.sleep(0.1)
    return None


def ipackets(sock, port):
    """0 until the port exists (telemetry answers null for an unknown port)."""
    r = telemetry(sock, "/ethdev/stats,%d" % port).get("/ethdev/stats")
    return int(r["ipackets"]) if r else 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--name", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--window", type=int, default=8)
    p.add_argument("--startup-timeout", type=float, default=600.0)
    p.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    rundir = "/var/run/dpdk/" + a.prefix
    result = {"name": a.name, "mpps": None, "samples": [], "log": a.log}
    start = time.monotonic()
    with open(a.log, "w") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        return sample(a, proc, start, result, rundir)
    except OSError as e:  # the application closed the socket: it has exited
        result["error"] = "telemetry: %s (exit %s)" % (e, proc.poll())
        return result
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        result["exit"] = proc.returncode
        shutil.rmtree(rundir, ignore_errors=True)


def sample(a, proc, start, result, rundir):
    deadline = start + a.startup_timeout
    sock = connect(rundir + "/dpdk_telemetry.v2", proc, deadline)
    if sock is None:
        result["error"] = "no telemetry socket (exited with %s)" % proc.poll()
        return result
    while ipackets(sock, a.port) == 0:
        if proc.poll() is not None or time.monotonic() > deadline:
            result["error"] = "no packets received"
            return result
        time.sleep(0.05)
    result["startup_s"] = round(time.monotonic() - start, 2)
    time.sleep(a.warmup)
    t0, n0 = time.monotonic(), ipackets(sock, a.port)
    for _ in range(a.window):
        time.sleep(1.0)
        t1, n1 = time.monotonic(), ipackets(sock, a.port)
        result["samples"].append(round((n1 - n0) / (t1 - t0) / 1e6, 3))
        t0, n0 = t1, n1
    result["mpps"] = statistics.median(result["samples"])
    result["best"] = max(result["samples"])
    sock.close()
    return result


if __name__ == "__main__":
    r = main()
    print(json.dumps(r))
    sys.exit(0 if r.get("mpps") else 1)
