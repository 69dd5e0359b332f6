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

--tx-port P also reads port P's opackets and the RX port's own opackets at the
start and the end of the window and adds "tx_ratio" (packets sent on P / packets
received, over the window) and "sent_back" (packets sent out of the RX port over
the window): examples/l3fwd sends an exact-match miss back out of the port it
came in on, so tx_ratio ~ 1 and sent_back = 0 say every packet hit its rule.

--perf OUT.txt records `perf record -g` (cpu-clock: this VM has no hardware PMU)
on the forwarding thread over the window: the thread named *worker-1 (DPDK names
lcore 1's thread rte-worker-1), or the main thread if there is none (an
application started with -l 1 forwards on its main lcore). OUT.txt gets the
top symbols (perf report --no-children) and perf annotate of the hottest one;
OUT.data keeps the samples.

Usage: bench_pipeline.py --name N --prefix FILE_PREFIX --port ID --log FILE
                         [--warmup S] [--window S] [--tx-port P] [--perf OUT.txt]
                         -- COMMAND...
"""
import argparse
import glob
import json
import os
import re
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


def stats(sock, port):
    """{} until the port exists (telemetry answers null for an unknown port)."""
    return telemetry(sock, "/ethdev/stats,%d" % port).get("/ethdev/stats") or {}


def ipackets(sock, port):
    return int(stats(sock, port).get("ipackets", 0))


def tx_counters(sock, rx_port, tx_port):
    """(received on rx_port, sent on tx_port, sent back out of rx_port)."""
    rx, tx = stats(sock, rx_port), stats(sock, tx_port)
    return (int(rx.get("ipackets", 0)), int(tx.get("opackets", 0)), int(rx.get("opackets", 0)))


def forwarding_tid(pid):
    """The thread that polls: lcore 1's (rte-worker-1) if there is one, else the main."""
    for comm in glob.glob("/proc/%d/task/*/comm" % pid):
        with open(comm) as f:
            if re.search(r"worker-1$", f.read().strip()):
                return int(comm.split("/")[4])
    return pid


def start_perf(out, pid):
    data = out[:-4] + ".data" if out.endswith(".txt") else out + ".data"
    cmd = ["perf", "record", "-g", "-e", "cpu-clock", "-F", "999", "-o", data,
           "-t", str(forwarding_tid(pid))]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), data


def stop_perf(perf, data, out, title):
    """Ends the recording and writes the top symbols and the hottest one's annotation."""
    perf.send_signal(signal.SIGINT)
    perf.wait(60)
    report = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                             "-g", "none", "--percent-limit", "0.5"],
                            capture_output=True, text=True).stdout
    lines = [l for l in report.splitlines() if l.strip() and not l.startswith("#")]
    with open(out, "w") as f:
        f.write("# %s: perf record -g -e cpu-clock on the forwarding thread over the window\n"
                % title)
        f.write("## perf report --stdio --no-children (top symbols)\n")
        f.write("\n".join(lines) + "\n")
        by_dso = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                                 "-g", "none", "--sort", "dso"], capture_output=True, text=True)
        f.write("\n## perf report --sort dso (DPDK's libraries have no symbols here)\n")
        f.write("\n".join(l for l in by_dso.stdout.splitlines()
                          if l.strip() and not l.startswith("#")) + "\n")
        # The hottest function with a name (stripped libraries show bare addresses).
        names = [m.group(1).strip() for m in (re.search(r"\[\.\] (.+)$", l) for l in lines)
                 if m and not m.group(1).startswith("0x")]
        if names:
            sym = names[0]
            ann = subprocess.run(["perf", "annotate", "-i", data, "--stdio", sym],
                                 capture_output=True, text=True).stdout
            f.write("\n## perf annotate --stdio %s\n" % sym)
            f.write(ann)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--name", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--window", type=int, default=8)
    p.add_argument("--startup-timeout", type=float, default=600.0)
    p.add_argument("--tx-port", type=int)
    p.add_argument("--perf")
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
    perf = start_perf(a.perf, proc.pid) if a.perf else None
    if a.tx_port is not None:
        c0 = tx_counters(sock, a.port, a.tx_port)
    t0, n0 = time.monotonic(), ipackets(sock, a.port)
    for _ in range(a.window):
        time.sleep(1.0)
        t1, n1 = time.monotonic(), ipackets(sock, a.port)
        result["samples"].append(round((n1 - n0) / (t1 - t0) / 1e6, 3))
        t0, n0 = t1, n1
    if a.tx_port is not None:
        c1 = tx_counters(sock, a.port, a.tx_port)
        rx = c1[0] - c0[0]
        result["tx_ratio"] = round((c1[1] - c0[1]) / rx, 4) if rx else None
        result["sent_back"] = c1[2] - c0[2]
    if perf:
        stop_perf(perf[0], perf[1], a.perf, a.name)
        result["perf"] = a.perf
    result["mpps"] = statistics.median(result["samples"])
    result["best"] = max(result["samples"])
    sock.close()
    return result


if __name__ == "__main__":
    r = main()
    print(json.dumps(r))
    sys.exit(0 if r.get("mpps") else 1)
