#!/usr/bin/env bash
# Runs mcfwd's benchmarks. Figures in docs/PERFORMANCE.md come from this script.
#   scripts/bench.sh               every Google Benchmark program (meson suite "perf")
#   scripts/bench.sh membership    only bench_membership (names: tests/bench/bench_*)
#   scripts/bench.sh pipeline      the application against dpdk-testpmd and
#                                  examples/ipv4_multicast (see pipeline() below)
#   scripts/bench.sh scale         issue 11's comparison: testpmd, ipv4_multicast,
#                                  l3fwd -E and mcfwd, IPv4 and IPv6, 15 to 1M
#                                  groups, --no-huge and hugepages (see scale();
#                                  REPS=3 takes ~35 min; PERF=1 profiles)
#   scripts/bench.sh plot          docs/benchmarks.png from the last JSON results
#   scripts/bench.sh timers        issue 14: bench_control_timers before and after the
#                                  engines' timer index, alternately (see timers())
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

# DPDK's examples, built from Debian's dpdk-doc copy under $work (never committed).
# ipv4_multicast: one change: the example asks for the MULTI_SEGS TX offload,
# which net_null does not advertise (it frees chained mbufs all the same), so
# rte_eth_dev_configure would refuse the port.
build_ipv4mc() {
  local ex="$work/ipv4_multicast"
  if [ ! -x "$ex/build/ipv4_multicast" ]; then
    rm -rf "$ex" && cp -r /usr/share/dpdk/examples/ipv4_multicast "$ex"
    sed -i 's/\.offloads = RTE_ETH_TX_OFFLOAD_MULTI_SEGS,/.offloads = 0,/' "$ex/main.c"
    grep -q 'RTE_ETH_TX_OFFLOAD_MULTI_SEGS' "$ex/main.c" && { echo "bench.sh: patch failed" >&2; exit 2; }
    make -C "$ex" -j2 >/dev/null
  fi
}

# l3fwd (-E: exact match, rte_hash of 4M entries, 5-tuple keys read from the
# --rule_ipv4/--rule_ipv6 files by 22.11's em_route_parse.c; a miss goes back out
# of the port it came in on). Its Makefile includes ../common, so that is copied
# beside it. Three changes, each checked:
#  - RTE_ETH_RX_OFFLOAD_CHECKSUM out of port_conf: net_pcap does not offer it and
#    rte_eth_dev_configure refuses the port;
#  - the mbuf pool's minimum 8192 -> 65535: net_pcap's infinite_rx holds every
#    frame of the capture in an mbuf (32k), plus the rings;
#  - the per-rule "EM: Adding route" printf off: 1M lines of log per start.
build_l3fwd() {
  local ex="$work/l3fwd"
  if [ ! -x "$ex/build/l3fwd" ]; then
    rm -rf "$ex" "$work/common"
    cp -r /usr/share/dpdk/examples/l3fwd "$ex"
    cp -r /usr/share/dpdk/examples/common "$work/common"
    sed -i 's/\.offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,/.offloads = 0,/;
            s/(unsigned)8192)/(unsigned)65535)/' "$ex/main.c"
    sed -i 's/^\(\s*\)printf("EM: Adding route/\1if (0) printf("EM: Adding route/' "$ex/l3fwd_em.c"
    if grep -q 'RTE_ETH_RX_OFFLOAD_CHECKSUM,' "$ex/main.c" || ! grep -q '(unsigned)65535)' "$ex/main.c" ||
       [ "$(grep -c 'if (0) printf("EM: Adding route' "$ex/l3fwd_em.c")" -ne 2 ]; then
      echo "bench.sh: l3fwd patch failed" >&2; exit 2
    fi
    make -C "$ex" -j2 >/dev/null
  fi
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

  build_ipv4mc
  local ex="$work/ipv4_multicast"

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
  $py scripts/bench_report.py pipeline "$results"
  echo "JSON lines: $results; logs: $pw/*.log"
}

# ---------------------------------------------------------------------------
# Scale (issue 11): mcfwd against DPDK's own forwarders on the same captures, in
# one run, --no-huge and hugepages, REPS interleaved rounds (default 3); ratios are
# taken within a round, then their median printed. Same harness as pipeline: one
# forwarding core (lcore 1), net_pcap infinite_rx in, net_null out, input rates
# from /ethdev/stats (scripts/bench_pipeline.py).
#   testpmd-15, ipv4mc-15, mcfwd-15   as in pipeline (ipv4_multicast's 15 groups)
#   mcfwd-v6-15                       the same table in IPv6 (ff0e::101.., any source)
#   testpmd-100k                      io forwarding of the 100k x 8 capture
#   l3fwd-100k-s8                     examples/l3fwd -E, one 5-tuple rule per (S,G):
#                                     800k rules, every packet a hit on port 1
#   mcfwd-100k-s8                     100k groups x INCLUDE {8 sources}, random (S,G)
#   mcfwd-v6-100k-s8                  its IPv6 version (ff3e::/96, 2001:db8::/32)
#   l3fwd-1M                          1M rules, (group i, its one source)
#   mcfwd-1M-s1 / mcfwd-1M-s0         1M groups x INCLUDE {that source} / any source,
#                                     on the capture l3fwd-1M reads
#   ...-huge                          the scale runs again on hugepages
# Every capture is PACKETS (32768) frames: a 1M-group run touches ~32k random
# groups of the table per pass of the capture.
# Hugepages: mounts hugetlbfs on /dev/hugepages if nothing is mounted there,
# reserves HUGEPAGES 2 MiB pages (default 512: l3fwd -E takes ~340 for its two
# 4M-entry hash tables and the pool, mcfwd ~110 for its pool; its tables are on
# the heap today), and gives back both on exit. Each application gets a
# --file-prefix and -m of its own and --huge-unlink, so pages come back when it
# ends, however it ends. HUGE=0 skips the hugepage runs (not root, or no pages).
# PERF=1: in the last round, perf record -g (cpu-clock) on the forwarding thread
# of every mcfwd and l3fwd scale run over the window, the top symbols and the
# hottest function's annotation to $work/perf/<run>.txt.
# Time: one round is 17 runs of WINDOW (8) + 2 s warm-up + start-up, ~11 min here;
# start-up dominates: mcfwd takes ~1 min per 1M-group run to load its 1M static
# joins (4 such runs a round; before the one-pass YAML reader 70-100 s), l3fwd
# ~5 s for 1M rules. REPS=3 took 33 min on this 2-core VM at load 6 (the output
# ends with "took"); the first run also generates the captures and
# configurations (~4 min, kept in $work/scale until the generator changes).
# ---------------------------------------------------------------------------
scale() {
  local reps=${REPS:-3} window=${WINDOW:-8} pw="$root/$work/scale"
  local packets=${PACKETS:-32768} t_start=$SECONDS
  mkdir -p "$pw" "$work/perf"
  ninja -C "$bdir" -j2 app/mcfwd >/dev/null
  local mcfwd="$root/$bdir/app/mcfwd"
  build_ipv4mc
  build_l3fwd
  local ipv4mc="$root/$work/ipv4_multicast/build/ipv4_multicast" l3fwd="$root/$work/l3fwd/build/l3fwd"

  local gen="scripts/gen_bench_traffic.py"
  gen_once() { # OUT ARGS...: runs the generator unless OUT is newer than it
    local out=$1; shift
    [ "$out" -nt "$gen" ] || { echo "generating $out" >&2; $py "$gen" "$@"; }
  }
  gen_once "$pw/m15-example.pcap" mcast15 --packets 4096 --pcap "$pw/m15-example.pcap" \
    --config "$pw/m15-example.yaml" --file-prefix unused
  gen_once "$pw/mcfwd-15.yaml" mcast15 --packets 4096 --group-base 239.0.0.101 \
    --pcap "$pw/m15.pcap" --config "$pw/mcfwd-15.yaml" --file-prefix mcfwd-scale-15
  gen_once "$pw/mcfwd-v6-15.yaml" mcast15 --family 6 --packets 4096 \
    --pcap "$pw/m15-v6.pcap" --config "$pw/mcfwd-v6-15.yaml" --file-prefix mcfwd-scale-v6-15
  gen_once "$pw/mcfwd-100k-s8.yaml" scale --groups 100000 --sources 8 --packets "$packets" \
    --pcap "$pw/g100k-s8.pcap" --config "$pw/mcfwd-100k-s8.yaml" \
    --huge-config "$pw/mcfwd-100k-s8-huge.yaml" --file-prefix mcfwd-scale-100k-s8 \
    --rules "$pw/l3fwd-100k-s8.rules" --rules6 "$pw/l3fwd-100k-s8.rules6"
  gen_once "$pw/mcfwd-v6-100k-s8.yaml" scale --family 6 --groups 100000 --sources 8 \
    --packets "$packets" --pcap "$pw/g100k-s8-v6.pcap" --config "$pw/mcfwd-v6-100k-s8.yaml" \
    --huge-config "$pw/mcfwd-v6-100k-s8-huge.yaml" --file-prefix mcfwd-scale-v6-100k-s8
  # 1M groups, one sender each: the any-source capture is the INCLUDE one (same
  # seed, same frames), so l3fwd-1M's rules are the keys of both.
  gen_once "$pw/mcfwd-1M-s1.yaml" scale --groups 1000000 --sources 1 --senders 1 \
    --packets "$packets" --pcap "$pw/g1M.pcap" --config "$pw/mcfwd-1M-s1.yaml" \
    --huge-config "$pw/mcfwd-1M-s1-huge.yaml" --file-prefix mcfwd-scale-1M-s1 \
    --rules "$pw/l3fwd-1M.rules" --rules6 "$pw/l3fwd-1M.rules6"
  gen_once "$pw/mcfwd-1M-s0.yaml" scale --groups 1000000 --sources 0 --senders 1 \
    --packets "$packets" --pcap "$pw/g1M-s0.pcap" --config "$pw/mcfwd-1M-s0.yaml" \
    --huge-config "$pw/mcfwd-1M-s0-huge.yaml" --file-prefix mcfwd-scale-1M-s0
  cmp -s "$pw/g1M.pcap" "$pw/g1M-s0.pcap" || { echo "bench.sh: the 1M captures differ" >&2; exit 2; }

  # Hugepages, put back as they were on exit.
  local huge=${HUGE:-1} pages=${HUGEPAGES:-512}
  local nr=/proc/sys/vm/nr_hugepages
  huge_old=$(cat $nr) huge_mounted=0
  if [ "$huge" = 1 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "bench.sh: not root: no hugepage runs" >&2; huge=0
    else
      trap huge_restore EXIT
      if ! mountpoint -q /dev/hugepages; then
        mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages && huge_mounted=1
      fi
      [ "$huge_old" -ge "$pages" ] || echo "$pages" >$nr
      if [ "$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)" -lt "$pages" ]; then
        echo "bench.sh: only $(awk '/HugePages_Free/ {print $2}' /proc/meminfo) free hugepages" \
             "of $pages: no hugepage runs" >&2
        huge=0
      fi
    fi
  fi

  local nohuge=(--no-huge --no-pci -m 1024 --log-level=lib.eal:warning)
  local onhuge=(--no-pci -m 768 --huge-unlink --log-level=lib.eal:warning)
  local results="$root/$work/json/scale.jsonl" perf_round=0
  : >"$results"
  measure() { # NAME PREFIX RX_PORT [bench_pipeline options --] COMMAND...
    local name=$1 prefix=$2 port=$3; shift 3
    local opts=()
    while [ "$1" != "--" ]; do opts+=("$1"); shift; done
    shift
    $py scripts/bench_pipeline.py --name "$name" --prefix "$prefix" --port "$port" \
      --window "$window" --log "$pw/$name.log" "${opts[@]}" -- "${prio[@]}" "$@" \
      | tee -a "$results" || true
    rm -f /dev/hugepages/"$prefix"map_* 2>/dev/null || true
  }
  perf_opt() { # RUN: the --perf option in the round that profiles
    [ "$perf_round" = 1 ] && echo "--perf=$root/$work/perf/$1.txt" || true
  }
  mcfwd_run() { # NAME CONFIG
    measure "$1" "$(sed -n 's/.*--file-prefix=\([^"]*\)".*/\1/p' "$2")" 0 $(perf_opt "$1") -- \
      "$mcfwd" --config "$2" --duration 900
    grep -q "data path: rx_packets=\([0-9]*\) forwarded=\1\$" "$pw/$1.log" ||
      echo "bench.sh: $1 did not forward every packet: $(grep 'data path' "$pw/$1.log")" >&2
  }
  l3fwd_run() { # NAME PCAP RULES_PREFIX EAL...: rules in RULES_PREFIX.rules and .rules6
    local name=$1 pcap=$2 rules=$3; shift 3
    measure "$name" "bench-$name" 0 --tx-port 1 $(perf_opt "$name") -- "$l3fwd" -l 1 "$@" \
      --file-prefix="bench-$name" --vdev "net_pcap0,rx_pcap=$pcap,infinite_rx=1" \
      --vdev net_null0,no-rx=1 -- -p 0x3 -E --parse-ptype --config "(0,0,1)" \
      --rule_ipv4 "$rules.rules" --rule_ipv6 "$rules.rules6"
  }
  header "scale ($reps rounds, window ${window} s, hugepages: $([ "$huge" = 1 ] && echo "$pages" || echo no))"
  local r h
  for r in $(seq "$reps"); do
    echo "-- round $r of $reps"
    [ "${PERF:-0}" = 1 ] && [ "$r" = "$reps" ] && perf_round=1
    measure testpmd-15 bench-testpmd 0 -- dpdk-testpmd -l 0,1 "${nohuge[@]}" \
      --file-prefix=bench-testpmd --vdev "net_pcap0,rx_pcap=$pw/m15-example.pcap,infinite_rx=1" \
      --vdev net_null0,no-rx=1 -- --forward-mode=io --nb-cores=1 --auto-start --stats-period 100000
    measure ipv4mc-15 bench-ipv4mc 4 -- "$ipv4mc" -l 1 "${nohuge[@]}" \
      --file-prefix=bench-ipv4mc --vdev net_null0,no-rx=1 --vdev net_null1,no-rx=1 \
      --vdev net_null2,no-rx=1 --vdev net_null3,no-rx=1 \
      --vdev "net_pcap0,rx_pcap=$pw/m15-example.pcap,infinite_rx=1" -- -p 0x1f -q 5
    mcfwd_run mcfwd-15 "$pw/mcfwd-15.yaml"
    mcfwd_run mcfwd-v6-15 "$pw/mcfwd-v6-15.yaml"
    measure testpmd-100k bench-testpmd 0 -- dpdk-testpmd -l 0,1 "${nohuge[@]}" \
      --file-prefix=bench-testpmd --vdev "net_pcap0,rx_pcap=$pw/g100k-s8.pcap,infinite_rx=1" \
      --vdev net_null0,no-rx=1 -- --forward-mode=io --nb-cores=1 --auto-start --stats-period 100000
    for h in "" -huge; do
      if [ -n "$h" ] && [ "$huge" != 1 ]; then continue; fi
      local eal=("${nohuge[@]}")
      [ -z "$h" ] || eal=("${onhuge[@]}")
      l3fwd_run "l3fwd-100k-s8$h" "$pw/g100k-s8.pcap" "$pw/l3fwd-100k-s8" "${eal[@]}"
      mcfwd_run "mcfwd-100k-s8$h" "$pw/mcfwd-100k-s8$h.yaml"
      mcfwd_run "mcfwd-v6-100k-s8$h" "$pw/mcfwd-v6-100k-s8$h.yaml"
      l3fwd_run "l3fwd-1M$h" "$pw/g1M.pcap" "$pw/l3fwd-1M" "${eal[@]}"
      mcfwd_run "mcfwd-1M-s1$h" "$pw/mcfwd-1M-s1$h.yaml"
      mcfwd_run "mcfwd-1M-s0$h" "$pw/mcfwd-1M-s0$h.yaml"
    done
  done
  $py scripts/bench_report.py scale "$results"
  echo "JSON lines: $results; logs: $pw/*.log$([ "${PERF:-0}" = 1 ] && echo "; profiles: $work/perf/*.txt")"
  echo "took $(( (SECONDS - t_start) / 60 )) min $(( (SECONDS - t_start) % 60 )) s"
}

huge_restore() { # the EXIT trap of scale: hugepage count and mount as they were
  echo "${huge_old:-0}" >/proc/sys/vm/nr_hugepages
  [ "${huge_mounted:-0}" = 1 ] && umount /dev/hugepages
  true
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

# Issue 14: the control lcore's timers (bench_control_timers) before and after the
# engines' DeadlineIndex, alternately in one run. "Before" is the benchmark's own
# commit (BEFORE, default 659e005: the benchmark, the engines still scanning),
# exported with git archive and built in its own release directory under $work.
timers() {
  local before=${BEFORE:-659e005} src="$work/timers-before"
  if [ ! -x "$src/build/tests/bench/bench_control_timers" ]; then
    rm -rf "$src" && mkdir -p "$src"
    git archive "$before" | tar -x -C "$src"
    (cd "$src" && meson setup build -Dbuildtype=release -Dwerror=false >/dev/null &&
      ninja -C build -j2 tests/bench/bench_control_timers >/dev/null)
  fi
  ninja -C "$bdir" -j2 tests/bench/bench_control_timers >/dev/null
  header "control_timers, before ($before) and after ($(git rev-parse --short HEAD))"
  local i
  for i in $(seq "${REPS:-3}"); do
    for which in before after; do
      local bin=$bdir/tests/bench/bench_control_timers
      [ "$which" = before ] && bin=$src/build/tests/bench/bench_control_timers
      echo "-- $which, run $i"
      # shellcheck disable=SC2086
      "${prio[@]}" "$bin" --benchmark_out="$work/json/control_timers_${which}_$i.json" \
        --benchmark_out_format=json ${BENCH_ARGS:-} | grep '^BM_' || true
    done
  done
}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  ninja -C "$bdir" -j2 >/dev/null
  for b in "$bdir"/tests/bench/bench_*; do names+=("$(basename "$b" | sed 's/^bench_//')"); done
fi
for n in "${names[@]}"; do
  case "$n" in
    pipeline) pipeline; continue ;;
    scale) scale; continue ;;
    egress) egress; continue ;;
    plot) plot; continue ;;
    timers) timers; continue ;;
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
