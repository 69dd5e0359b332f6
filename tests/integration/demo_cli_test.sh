#!/usr/bin/env bash
# scripts/demo.sh's arguments, checked without running the demo: --help prints the
# usage on stdout and exits 0; an unknown argument, or options that do not go
# together, exit 2 with a message on stderr; none of them builds or starts anything.
#   demo_cli_test.sh DEMO_SH
set -u
demo=$1
fail=0
passed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; fail=1; }
err=$(mktemp)
trap 'rm -f "$err"' EXIT

for h in --help -h; do
  out=$("$demo" $h 2>"$err"); rc=$?
  if [ $rc -eq 0 ] && grep -q "^usage: scripts/demo.sh" <<<"$out" && [ ! -s "$err" ] \
      && ! grep -q "building" <<<"$out"; then
    ok "demo.sh $h -> usage on stdout, exit 0"
  else
    bad "demo.sh $h: exit $rc: $out $(cat "$err")"
  fi
done
# expect2 ARGS... : exit 2, the reason and nothing built.
expect2() {
  out=$("$demo" "$@" 2>"$err"); rc=$?
  if [ $rc -eq 2 ] && [ -z "$out" ] && grep -q "^demo.sh: " "$err" && ! grep -q building "$err"; then
    ok "demo.sh $* -> exit 2: $(head -n 1 "$err")"
  else
    bad "demo.sh $*: exit $rc: $out $(cat "$err")"
  fi
}
expect2 --bogus
expect2 --keep extra
expect2 --engine --keep
out=$("$demo" --bogus 2>&1)
grep -q "^usage: scripts/demo.sh" <<<"$out" && ok "an unknown argument shows the usage" \
  || bad "no usage after an unknown argument: $out"
echo "$passed passed, $fail failed"
exit $fail
