#!/usr/bin/env bash
# Runs mcfwd's Google Benchmark programs (meson suite "perf") and keeps their
# JSON output. Figures in docs/PERFORMANCE.md come from this script.
#   scripts/bench.sh               every benchmark program
#   scripts/bench.sh membership    only bench_membership (names: tests/bench/bench_*)
# Extra Google Benchmark flags can be given in BENCH_ARGS, e.g.
#   BENCH_ARGS=--benchmark_filter=JoinLeave scripts/bench.sh membership
# The machine is shared and noisy: each benchmark is repeated and the median kept.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/mcfwd-ccache}
[ -f build/build.ninja ] || meson setup build -Dwerror=true >/dev/null
ninja -C build >/dev/null
out=build/bench
mkdir -p "$out"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for b in build/tests/bench/bench_*; do names+=("$(basename "$b" | sed 's/^bench_//')"); done
fi
for n in "${names[@]}"; do
  bin=build/tests/bench/bench_$n
  [ -x "$bin" ] || { echo "bench.sh: no benchmark program $bin" >&2; exit 2; }
  echo "== $n ($(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
  # A private network namespace (root) keeps the kernel baselines' joins off any
  # real interface: only its own loopback exists there.
  netns=()
  if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
    netns=(unshare -n sh -c 'ip link set lo up && exec "$0" "$@"')
  fi
  # shellcheck disable=SC2086
  "${netns[@]}" "$bin" --benchmark_repetitions=${REPS:-5} --benchmark_report_aggregates_only=true \
         --benchmark_display_aggregates_only=true \
         --benchmark_out="$out/$n.json" --benchmark_out_format=json ${BENCH_ARGS:-} \
    | grep -v -E '_(mean|stddev|cv) ' || true
done
echo "JSON: $out/"
