#!/usr/bin/env bash
# Runs mcfwd's benchmarks. Figures in docs/PERFORMANCE.md come from this script.
#   scripts/bench.sh               every Google Benchmark program (meson suite "perf")
#   scripts/bench.sh membership    only bench_membership (names: tests/bench/bench_*)
#   scripts/bench.sh pipeline      the application against dpdk-testpmd and
#                                  examples/ipv4_multicast (see pipeline() below)
#   scripts/bench.sh plot          docs/benchmarks.png from the last JSON results
# Extra Google Benchmark flags can be given in BENCH_ARGS, e.g.
#   BENCH_ARGS=--benchmark_filter=JoinLeave scripts/bench.sh membership
# The machine is shared and noisy: each benchmark is repeated (REPS, default 5 for
# Google Benchmark, 3 for the pipeline) and the median kept.
#
# Everything is built in a release build directory of its own (BENCH_BUILD,
# default build-bench-mcfwd, -Dbuildtype=release). -Werror is off there: GCC 12
# at -O3 reports a false -Wrestrict inside std::string in app/mcfwd/runtime.cpp.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/mcfwd-ccache}
bdir=${BENCH_BUILD:-build-bench-mcfwd}
work=build-bench # pcaps, configs, the example's build, logs, JSON: outside git
mkdir -p "$work/json"
[ -f "$bdir/build.ninja" ] || meson setup "$bdir" -Dbuildtype=release -Dwerror=false >/dev/null
py=/usr/bin/python3
# Other tenants' compilers share the 2 cores: the measured programs run at a
# higher priority (nice -10, as root) so a busy-polling lcore keeps its core
# most of the time. Every program measured gets the same. PRIO= disables it.
prio=(nice -n "${PRIO:--10}")
[ -n "${PRIO-x}" ] || prio=()
[ "$(id -u)" -eq 0 ] || prio=()

header() {
  echo "== $1 ($(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
}

# ---------------------------------------------------------------------------
# The pipeline: one forwarding core, net_pcap (infinite_rx=1) in, net_null out.
# Every application's input rate is read from its RX port's rte_eth_stats through
# DPDK telemetry, once a second over WINDOW seconds after a warm-up
# (scripts/bench_pipeline.py), the median kept; REPS rounds run the applications
# interleaved, and ratios are taken within a round, then their median reported.
#   testpmd-15 / testpmd-100k  dpdk-testpmd --forward-mode=io, port 0 -> port 1 (the
#                              harness limit), on the 15-group and the 100k x 8 pcap
#   ipv4mc-15                  DPDK's examples/ipv4_multicast, its own 15 groups
#   mcfwd-15                   mcfwd with the same table (at 239.0.0.101.., see
#                              gen_bench_traffic.py), 4 receivers on net_null sinks
#   mcfwd-{10k,100k}-s{0,8}    mcfwd, N groups, any-source or INCLUDE {8 sources}
# ---------------------------------------------------------------------------
pipeline() {
  local reps=${REPS:-3} window=${WINDOW:-8} pw="$root/$work/pipeline"
  local packets=${PACKETS:-32768}
  mkdir -p "$pw"
  ninja -C "$bdir" -j2 app/mcfwd >/dev/null
  local mcfwd="$root/$bdir/app/mcfwd"

  # DPDK's example, built from Debian's dpdk-doc copy. One change: the example asks
  # for the MULTI_SEGS TX offload, which net_null does not advertise (it frees
  # chained mbufs all the same), so rte_eth_dev_configure would refuse the port.
  local ex="$work/ipv4_multicast"
  if [ ! -x "$ex/build/ipv4_multicast" ]; then
    rm -rf "$ex" && cp -r /usr/share/dpdk/examples/ipv4_multicast "$ex"
    sed -i 's/\.offloads = RTE_ETH_TX_OFFLOAD_MULTI_SEGS,/.offloads = 0,/' "$ex/main.c"
    grep -q 'RTE_ETH_TX_OFFLOAD_MULTI_SEGS' "$ex/main.c" && { echo "bench.sh: patch failed" >&2; exit 2; }
    make -C "$ex" -j2 >/dev/null
  fi

  # Traffic and configurations (regenerated when the generator changes).
  local gen="scripts/gen_bench_traffic.py"
  gen_once() { # OUT.pcap ARGS...: runs the generator unless OUT is newer than it
    local out=$1; shift
    [ "$out" -nt "$gen" ] || $py "$gen" "$@"
  }
  gen_once "$pw/m15-example.pcap" mcast15 --packets 4096 --pcap "$pw/m15-example.pcap" \
    --config "$pw/m15-example.yaml" --file-prefix unused
  gen_once "$pw/m15.pcap" mcast15 --packets 4096 --group-base 239.0.0.101 \
    --pcap "$pw/m15.pcap" --config "$pw/mcfwd-15.yaml" --file-prefix mcfwd-bench-15
  local g s
  for g in 10k 100k; do
    for s in 0 8; do
      gen_once "$pw/g$g-s$s.pcap" scale --groups "${g%k}000" --sources "$s" --packets "$packets" \
        --pcap "$pw/g$g-s$s.pcap" --config "$pw/mcfwd-$g-s$s.yaml" \
        --file-prefix "mcfwd-bench-$g-s$s"
    done
  done

  local eal=(--no-huge --no-pci -m 1024 --log-level=lib.eal:warning)
  local results="$root/$work/json/pipeline.jsonl"
  : >"$results"
  measure() { # NAME PREFIX RX_PORT COMMAND...
    local name=$1 prefix=$2 port=$3; shift 3
    $py scripts/bench_pipeline.py --name "$name" --prefix "$prefix" --port "$port" \
      --window "$window" --log "$pw/$name.log" -- "${prio[@]}" "$@" | tee -a "$results" || true
  }
  testpmd() { # NAME PCAP
    measure "$1" bench-testpmd 0 dpdk-testpmd -l 0,1 "${eal[@]}" --file-prefix=bench-testpmd \
      --vdev "net_pcap0,rx_pcap=$2,infinite_rx=1" --vdev net_null0,no-rx=1 \
      -- --forward-mode=io --nb-cores=1 --auto-start --stats-period 100000
  }
  all_forwarded() { # NAME: the joins accept every packet, so nothing may be dropped
    grep -q "data path: rx_packets=\([0-9]*\) forwarded=\1\$" "$pw/$1.log" ||
      echo "bench.sh: $1 did not forward every packet: $(grep 'data path' "$pw/$1.log")" >&2
  }
  header pipeline
  local r
  for r in $(seq "$reps"); do
    echo "-- round $r of $reps"
    testpmd testpmd-15 "$pw/m15-example.pcap"
    # The example: ports 0..3 are its outputs (group masks 0x1..0xF), port 4 the
    # input; -l 1 -q 5: one lcore (the forwarding core of the others) polls all five.
    measure ipv4mc-15 bench-ipv4mc 4 "$ex/build/ipv4_multicast" -l 1 "${eal[@]}" \
      --file-prefix=bench-ipv4mc --vdev net_null0,no-rx=1 --vdev net_null1,no-rx=1 \
      --vdev net_null2,no-rx=1 --vdev net_null3,no-rx=1 \
      --vdev "net_pcap0,rx_pcap=$pw/m15-example.pcap,infinite_rx=1" -- -p 0x1f -q 5
    measure mcfwd-15 mcfwd-bench-15 0 "$mcfwd" --config "$pw/mcfwd-15.yaml" --duration 600
    all_forwarded mcfwd-15
    testpmd testpmd-100k "$pw/g100k-s8.pcap"
    for g in 10k 100k; do
      for s in 0 8; do
        measure "mcfwd-$g-s$s" "mcfwd-bench-$g-s$s" 0 "$mcfwd" \
          --config "$pw/mcfwd-$g-s$s.yaml" --duration 600
        all_forwarded "mcfwd-$g-s$s"
      done
    done
  done
  $py - "$results" <<'EOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
names = list(dict.fromkeys(r["name"] for r in runs))
def col(name, key):  # one value per round (None: failed)
    return [r.get(key) for r in runs if r["name"] == name]
def med(xs):
    xs = [x for x in xs if x]
    return statistics.median(xs) if xs else None
def fmt(x):
    return "%.2f" % x if x else "-"
def ratio(a, b, key):  # within each round, then the median over rounds
    xs = [x / y for x, y in zip(col(a, key), col(b, key)) if x and y]
    return "%.2f" % statistics.median(xs) if xs else "-"
print("| run | Mpps, median second | Mpps, best second | startup s |")
print("|---|---:|---:|---:|")
for n in names:
    print("| %s | %s (%s) | %s (%s) | %s |" % (
        n, fmt(med(col(n, "mpps"))), ", ".join(fmt(x) for x in col(n, "mpps")),
        fmt(med(col(n, "best"))), ", ".join(fmt(x) for x in col(n, "best")),
        fmt(max([x for x in col(n, "startup_s") if x] or [0]))))
print()
print("| ratio (median over rounds) | median seconds | best seconds |")
print("|---|---:|---:|")
pairs = [("mcfwd-15", "ipv4mc-15"), ("mcfwd-15", "testpmd-15"), ("ipv4mc-15", "testpmd-15")]
pairs += [(n, "testpmd-100k") for n in ("mcfwd-10k-s0", "mcfwd-10k-s8", "mcfwd-100k-s0",
                                        "mcfwd-100k-s8")]
for a, b in pairs:
    print("| %s / %s | %s | %s |" % (a, b, ratio(a, b, "mpps"), ratio(a, b, "best")))
EOF
  echo "JSON lines: $results; logs: $pw/*.log"
}

# ---------------------------------------------------------------------------
# Egress: what one more outlet costs, receiver (a reference to the same mbuf)
# against downstream port (a routed copy), k = 1, 2, 4 outlets on a 15-group
# table (scripts/gen_egress_bench.py says how). Interleaved rounds; the ratio
# downstream / receivers is taken within a round, then the median.
# ---------------------------------------------------------------------------
egress() {
  local reps=${REPS:-3} window=${WINDOW:-6} pw="$root/$work/egress"
  mkdir -p "$pw"
  ninja -C "$bdir" -j2 app/mcfwd >/dev/null
  local mcfwd="$root/$bdir/app/mcfwd"
  $py scripts/gen_egress_bench.py "$pw"
  local results="$root/$work/json/egress.jsonl"
  : >"$results"
  header egress
  local r kind k
  for r in $(seq "$reps"); do
    echo "-- round $r of $reps"
    for k in 1 2 4; do
      for kind in rcv down; do
        $py scripts/bench_pipeline.py --name "$kind-$k" --prefix "mcfwd-egress-$kind$k" --port 0 \
          --window "$window" --log "$pw/$kind$k.log" -- "${prio[@]}" "$mcfwd" \
          --config "$pw/$kind$k.yaml" --duration 600 | tee -a "$results" || true
      done
    done
  done
  $py - "$results" <<'EOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def col(n):
    return [r.get("mpps") for r in runs if r["name"] == n]
print("| outlets k | receivers, Mpps per round | downstream ports, Mpps per round | downstream / receivers |")
print("|---|---|---|---:|")
for k in (1, 2, 4):
    a, b = col("rcv-%d" % k), col("down-%d" % k)
    rs = [y / x for x, y in zip(a, b) if x and y]
    print("| %d | %s | %s | %s |" % (k, ", ".join("%.2f" % x for x in a if x),
          ", ".join("%.2f" % x for x in b if x),
          "%.2f" % statistics.median(rs) if rs else "-"))
EOF
}

plot() {
  $py scripts/plot_bench.py "$work/json" docs/benchmarks.png
}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  ninja -C "$bdir" -j2 >/dev/null
  for b in "$bdir"/tests/bench/bench_*; do names+=("$(basename "$b" | sed 's/^bench_//')"); done
fi
for n in "${names[@]}"; do
  case "$n" in
    pipeline) pipeline; continue ;;
    egress) egress; continue ;;
    plot) plot; continue ;;
  esac
  ninja -C "$bdir" -j2 "tests/bench/bench_$n" >/dev/null
  bin=$bdir/tests/bench/bench_$n
  [ -x "$bin" ] || { echo "bench.sh: no benchmark program $bin" >&2; exit 2; }
  header "$n"
  # A private network namespace (root) keeps the kernel baselines' joins off any
  # real interface: only its own loopback exists there.
  netns=()
  if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
    netns=(unshare -n sh -c 'ip link set lo up && exec "$0" "$@"')
  fi
  # shellcheck disable=SC2086
  "${netns[@]}" "${prio[@]}" "$bin" --benchmark_repetitions=${REPS:-5} --benchmark_report_aggregates_only=true \
         --benchmark_display_aggregates_only=true \
         --benchmark_out="$work/json/$n.json" --benchmark_out_format=json ${BENCH_ARGS:-} \
    | grep -v -E '_(mean|stddev|cv) ' || true
done
echo "JSON: $work/json/"
