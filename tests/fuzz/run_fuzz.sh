#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time as a meson test (suite "fuzz").
# usage: run_fuzz.sh TARGET SECONDS SEED_DIR WORK_DIR
# New inputs go to WORK_DIR/corpus (the committed seeds stay untouched); crash
# artifacts go to WORK_DIR/artifacts. Fails when the fuzzer reports a crash,
# a leak, a timeout or a sanitizer error, or when it did not run at all.
set -u
target=$1 seconds=$2 seeds=$3 work=$4
mkdir -p "$work/corpus" "$work/artifacts"
# Abort on the first UBSan report as ASan does, so the fuzzer counts it as a crash.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
log="$work/last.log"
"$target" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" >"$log" 2>&1
rc=$?
tail -n 40 "$log"
if [ "$rc" -ne 0 ]; then
    echo "fuzzer exited with status $rc; artifacts: $(ls "$work/artifacts")"
    exit 1
fi
grep -q '^Done [0-9]* runs' "$log" || { echo "fuzzer did not report its runs"; exit 1; }
exit 0
