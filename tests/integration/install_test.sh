#!/usr/bin/env bash
# `meson install` into a DESTDIR: the files are where the FHS and the build's
# directory options say, nothing of the tests is installed, a reinstall keeps an
# edited configuration, the systemd unit verifies and names the installed paths,
# the service's hugepage helper raises only the shortfall, and the installed
# mcfwd runs on the installed configuration (--no-huge added: a test does not
# reserve hugepages) and stops with status 0.
#   install_test.sh MESON BUILD_ROOT SOURCE_ROOT BINDIR SYSCONFDIR LIBEXECDIR DOCDIR UNITDIR
# (absolute directories as configured; UNITDIR "no" when the unit is not installed)
set -u
meson=$1 build=$2 root=$3 bindir=$4 sysconfdir=$5 libexecdir=$6 docdir=$7 unitdir=$8
dest=$(mktemp -d /tmp/mcfwd-install.XXXXXX)
prefix=mcfwd-install-$$
trap 'rm -rf "$dest" "/var/run/dpdk/$prefix" 2>/dev/null' EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
# is STATUS WHAT: pass when STATUS (of the command just run) is 0.
is() { if [ "$1" -eq 0 ]; then ok "$2"; else bad "$2"; fi; }

install_into() {
  "$meson" install -C "$build" --no-rebuild --destdir "$1" >"$dest/install.log" 2>&1 \
    || { cat "$dest/install.log"; return 1; }
}
install_into "$dest/root" || { bad "meson install --destdir failed"; exit 1; }
D=$dest/root

for f in mcfwd mcfwd-consumer mcfwdctl mcfwd-exporter; do
  [ -x "$D$bindir/$f" ]; is $? "$bindir/$f is installed, executable"
done
[ -f "$D$libexecdir/mcfwd_telemetry.py" ]; is $? "$libexecdir/mcfwd_telemetry.py (the tools' module) is installed"
[ -x "$D$libexecdir/mcfwd-hugepages" ]; is $? "$libexecdir/mcfwd-hugepages is installed, executable"
cmp -s "$D$sysconfdir/mcfwd/mcfwd.yaml" "$root/config/mcfwd.yaml"
is $? "$sysconfdir/mcfwd/mcfwd.yaml is config/mcfwd.yaml"
for f in README.md docs/OPERATIONS.md docs/CONFIGURATION.md docs/TELEMETRY.md \
         examples/mcfwd.yaml examples/proxy.yaml; do
  [ -f "$D$docdir/$f" ]; is $? "$docdir/$f is installed"
done
# Development tools, tests and benchmarks stay in the build tree.
extra=$(cd "$D" && find . -type f \( -name 'mcfwd-demo' -o -name 'test_*' -o -name 'bench_*' \
          -o -name 'fuzz_*' -o -name '*.a' -o -name '*.h' -o -name '*.hpp' \) | tr '\n' ' ')
[ -z "$extra" ]; is $? "no demo, test, benchmark, library or header is installed ${extra:+($extra)}"

# A reinstall keeps the operator's configuration.
echo "# edited by the operator" >>"$D$sysconfdir/mcfwd/mcfwd.yaml"
install_into "$D" || bad "the second meson install failed"
tail -n 1 "$D$sysconfdir/mcfwd/mcfwd.yaml" | grep -q 'edited by the operator'
is $? "a reinstall keeps an edited $sysconfdir/mcfwd/mcfwd.yaml"

# The unit: installed paths, SIGTERM, restarts; systemd-analyze verify on a copy
# whose paths point into the DESTDIR (it checks that each command exists).
if [ "$unitdir" = no ]; then
  echo "skip the unit: configured with -Dsystemdunitdir=no"
else
  unit=$D$unitdir/mcfwd.service
  [ -f "$unit" ]; is $? "$unitdir/mcfwd.service is installed"
  for line in "ExecStart=$bindir/mcfwd --config $sysconfdir/mcfwd/mcfwd.yaml" \
              "ExecStartPre=$libexecdir/mcfwd-hugepages \${MCFWD_HUGEPAGES}" \
              "Requires=dev-hugepages.mount" "KillSignal=SIGTERM" "Restart=on-failure" \
              "RestartPreventExitStatus=2"; do
    grep -qxF -- "$line" "$unit"; is $? "the unit has $line"
  done
  if command -v systemd-analyze >/dev/null; then
    mkdir -p "$dest/verify"
    sed -e "s#=$bindir/#=$D$bindir/#" -e "s#=$libexecdir/#=$D$libexecdir/#" "$unit" \
      >"$dest/verify/mcfwd.service"
    out=$(cd "$dest/verify" && systemd-analyze verify mcfwd.service 2>&1); rc=$?
    [ $rc -eq 0 ] && [ -z "$out" ]; is $? "systemd-analyze verify: clean (exit $rc) $out"
  else
    echo "skip systemd-analyze verify: systemd-analyze is not installed"
  fi
fi

# mcfwd-hugepages against a fake /proc: only the shortfall is added.
fake=$dest/proc
mkdir -p "$fake/sys/vm"
hp() { # FREE RSVD TOTAL PAGES: run the helper, print its status and the new total
  printf 'HugePages_Total: %s\nHugePages_Free: %s\nHugePages_Rsvd: %s\n' "$3" "$1" "$2" \
    >"$fake/meminfo"
  echo "$3" >"$fake/sys/vm/nr_hugepages"
  MCFWD_PROC=$fake "$D$libexecdir/mcfwd-hugepages" "$4" >/dev/null 2>&1
  echo "$? $(cat "$fake/sys/vm/nr_hugepages")"
}
[ "$(hp 300 0 400 256)" = "0 400" ]; is $? "mcfwd-hugepages: enough free, nr_hugepages untouched"
[ "$(hp 100 20 400 256)" = "0 576" ]; is $? "mcfwd-hugepages: 80 of 256 available, raised by 176"
[ "$(hp 0 0 0 x)" = "2 0" ]; is $? "mcfwd-hugepages: a bad count is a usage error"

# The installed programs run.
out=$("$D$bindir/mcfwdctl" --help 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q 'usage: mcfwdctl' <<<"$out"; is $? "installed mcfwdctl --help"
out=$("$D$bindir/mcfwd-exporter" --help 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q 'usage: mcfwd-exporter' <<<"$out"; is $? "installed mcfwd-exporter --help"
out=$("$D$bindir/mcfwd" --help 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q 'usage: mcfwd' <<<"$out"; is $? "installed mcfwd --help"
out=$("$D$bindir/mcfwd" --config "$D$sysconfdir/mcfwd/mcfwd.yaml" --duration 1 \
        -- --no-huge --file-prefix="$prefix" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q 'mcfwd: stopped' <<<"$out"
is $? "installed mcfwd runs the installed configuration and stops (exit $rc)"
[ $rc -eq 0 ] || echo "$out"
exit $fail
