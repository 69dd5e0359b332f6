#!/usr/bin/env bash
# Builds mcfwd and runs every test suite except perf; the last line printed is
#   tests: N passed, M failed[, K skipped]
# and the exit status is non-zero when anything failed or did not build.
#
# Three configurations, each built once:
#   build/       gcc, warnings are errors      suites: unit eal e2e
#   build-san/   clang, ASan + UBSan, fuzzers  suites: unit eal fuzz
#   build-tsan/  clang, ThreadSanitizer        the concurrency tests only (TSAN_TESTS)
# Options:
#   --quick     only build/ and the unit suite (the inner loop while coding)
#   --fuzz-seconds N   how long each fuzz target runs (default 60)
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

quick=0
fuzz_seconds=60
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --fuzz-seconds) fuzz_seconds=$2; shift ;;
    *) echo "usage: $0 [--quick] [--fuzz-seconds N]" >&2; exit 2 ;;
  esac
  shift
done

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/mcfwd-ccache}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
jobs=$(nproc)
start=$(date +%s)
broken=0
logs=()

# configure DIR ARGS...: set up DIR once; later runs only rebuild.
configure() {
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
  fi
}

# Tests whose point is concurrency: built and run again under ThreadSanitizer.
TSAN_TESTS=(table base)
TSAN_TARGETS=(tests/unit/table/test_table tests/unit/base/test_base)

# run DIR LABEL "TARGETS" MESON_TEST_ARGS...: build the targets (everything when
# empty), run meson test with the arguments, keep the JUnit log for counting.
run() {
  local dir=$1 label=$2 targets=$3; shift 3
  # shellcheck disable=SC2086
  if ! ninja -C "$dir" -j "$jobs" $targets >"$dir.build.log" 2>&1; then
    tail -n 60 "$dir.build.log"
    echo "test.sh: $label build failed (full log: $dir.build.log)"
    broken=$((broken + 1))
    return
  fi
  rm -f "$dir/meson-logs/testlog.junit.xml"
  meson test -C "$dir" --no-rebuild --print-errorlogs "$@" || echo "test.sh: $label had failures"
  if [ -f "$dir/meson-logs/testlog.junit.xml" ]; then
    logs+=("$label=$dir/meson-logs/testlog.junit.xml")
  else
    echo "test.sh: $label wrote no test log"
    broken=$((broken + 1))
  fi
}

# run_suites DIR LABEL SUITE...: build everything in DIR and run the suites.
run_suites() {
  local dir=$1 label=$2; shift 2
  local args=()
  for s in "$@"; do args+=(--suite "$s"); done
  run "$dir" "$label" "" "${args[@]}"
}

if configure build -Dwerror=true; then
  if [ $quick -eq 1 ]; then
    run_suites build gcc unit
  else
    run_suites build gcc unit eal e2e
  fi
else
  broken=$((broken + 1))
fi

if [ $quick -eq 0 ]; then
  if CXX="ccache clang++" CC="ccache clang" configure build-san \
       -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true \
       -Dfuzz_seconds="$fuzz_seconds" -Dbenchmarks=disabled; then
    run_suites build-san clang-asan-ubsan unit eal fuzz
  else
    broken=$((broken + 1))
  fi
  if CXX="ccache clang++" CC="ccache clang" configure build-tsan \
       -Db_sanitize=thread -Db_lundef=false -Dbenchmarks=disabled; then
    run build-tsan clang-tsan "${TSAN_TARGETS[*]}" "${TSAN_TESTS[@]}"
  else
    broken=$((broken + 1))
  fi
fi

counts=$(/usr/bin/python3 scripts/count_tests.py "${logs[@]}")
sed '$d' <<<"$counts"   # the failed and skipped cases, by name
read -r passed failed skipped <<<"$(tail -n 1 <<<"$counts")"
failed=$((failed + broken))
echo "test.sh: $(( $(date +%s) - start )) s"
if [ "$skipped" -gt 0 ]; then
  echo "tests: $passed passed, $failed failed, $skipped skipped"
else
  echo "tests: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
