#!/usr/bin/env bash
# mcfwd's command line and configuration errors: exit status 2 and a message that
# names the file, line and key path, before any DPDK work (no EAL banner, no port);
# --help: the usage on stdout, exit 0; SIGTERM: every group is left on the wire and
# the exit status is 0; --stats: the counters at exit as one JSON object; a second
# instance on the same --file-prefix: exit 1 saying so.
#   app_cli_test.sh MCFWD_BINARY
set -u
mcfwd=$(readlink -f "$1")
dir=$(mktemp -d /tmp/mcfwd-cli.XXXXXX)
# The EAL leaves its runtime directory behind (/var/run/dpdk/<prefix> as root).
trap 'rm -rf "$dir" /var/run/dpdk/mcfwd-cli-$$ 2>/dev/null' EXIT
fail=0
passed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; fail=1; }

# expect_exit2 NAME YAML EXPECTED-SUBSTRING...
expect_exit2() {
  local name=$1 yaml=$2; shift 2
  printf '%s\n' "$yaml" >"$dir/$name.yaml"
  local out rc
  out=$("$mcfwd" --config "$dir/$name.yaml" 2>&1); rc=$?
  [ $rc -eq 2 ] || { bad "$name: exit $rc, want 2: $out"; return; }
  for s in "$@"; do
    grep -qF -- "$s" <<<"$out" || { bad "$name: message lacks '$s': $out"; return; }
  done
  grep -q "EAL:" <<<"$out" && { bad "$name: the EAL started: $out"; return; }
  ok "$name -> exit 2: $out"
}

ports='ports:
  - name: p0
    device: "net_null0,no-rx=1"'
expect_exit2 unknown-key "$ports
colour: blue" "unknown-key.yaml:4:" "colour"
expect_exit2 bad-version "$ports
    igmp: { version: 4 }" ":4:" "ports[0].igmp.version"
expect_exit2 unknown-port "$ports
receivers:
  - name: r
    sink: { ring: r }
    joins:
      - { port: nope, group: 239.1.1.1 }" ":8:" "receivers[0].joins[0].port"
expect_exit2 not-multicast "$ports
receivers:
  - name: r
    sink: { ring: r }
    joins:
      - { port: p0, group: 10.0.0.1 }" ":8:" "receivers[0].joins[0].group"
expect_exit2 multicast-source "$ports
receivers:
  - name: r
    sink: { ring: r }
    joins:
      - { port: p0, group: 239.1.1.1, mode: exclude, sources: [239.0.0.1] }" "receivers[0].joins[0].sources"
expect_exit2 syntax "ports: [ {name: p0" "$dir/syntax.yaml:"
# Device strings are checked before the EAL (they failed after it, with DPDK's
# "Bad address" and no column): at ports[0].device's own line and column.
expect_exit2 unknown-driver 'ports:
  - name: p0
    device: net_bogus0' "unknown-driver.yaml:3:13: ports[0].device: unknown driver \"net_bogus0\""
expect_exit2 unknown-devarg 'ports:
  - name: p0
    device: "net_null0,no-rx=1,bogus=1"' \
  "unknown-devarg.yaml:3:13: ports[0].device: net_null takes no devarg \"bogus\""
expect_exit2 missing-capture "ports:
  - name: p0
    device: \"net_pcap0,rx_pcap=$dir/none.pcap\"" \
  "missing-capture.yaml:3:13: ports[0].device: rx_pcap \"$dir/none.pcap\": No such file or directory"
out=$("$mcfwd" --config "$dir/missing.yaml" 2>&1); rc=$?
[ $rc -eq 2 ] && ok "missing file -> exit 2: $out" || bad "missing file: exit $rc: $out"
out=$("$mcfwd" --config "$dir" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -qF "$dir: (file): Is a directory" <<<"$out" && ok "a directory -> exit 2: $out" \
  || bad "--config DIR: exit $rc: $out"
: >"$dir/empty.yaml"
out=$("$mcfwd" --config "$dir/empty.yaml" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -qF "empty.yaml:1:1: (document): the configuration is empty" <<<"$out" \
  && ok "an empty file -> exit 2: $out" || bad "empty file: exit $rc: $out"
out=$("$mcfwd" --bogus 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q usage <<<"$out" && ok "unknown option -> exit 2 with usage" || bad "unknown option: exit $rc: $out"
out=$("$mcfwd" --help 2>"$dir/help.err"); rc=$?
if [ $rc -eq 0 ] && grep -q "^usage: mcfwd --config FILE" <<<"$out" && grep -q -- "--stats" <<<"$out" \
    && [ ! -s "$dir/help.err" ]; then
  ok "--help -> usage on stdout, exit 0"
else
  bad "--help: exit $rc: $out $(cat "$dir/help.err")"
fi

# SIGTERM: leave on the wire, exit 0.
cat >"$dir/run.yaml" <<YAML
eal: ["--no-huge", "--no-pci", "-m", "128", "--file-prefix=mcfwd-cli-$$"]
ports:
  - name: p0
    device: "net_pcap0,rx_pcap=$dir/empty.pcap,tx_pcap=$dir/out.pcap"
    ipv4: { address: 192.0.2.10 }
receivers:
  - name: r
    sink: { ring: cli-r-$$ }
    joins:
      - { port: p0, group: 239.1.1.1 }
YAML
/usr/bin/python3 -c "from scapy.all import wrpcap; wrpcap('$dir/empty.pcap', [])" 2>/dev/null \
  || printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' >"$dir/empty.pcap"
"$mcfwd" --config "$dir/run.yaml" --duration 60 --stats >"$dir/run.out" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "mcfwd: running" "$dir/run.out" && break; sleep 0.2; done
# A second mcfwd on the same file prefix: the EAL refuses it before any port.
out=$("$mcfwd" --config "$dir/run.yaml" --duration 1 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -q "mcfwd: rte_eal_init failed (.*same --file-prefix" <<<"$out" \
    && ! grep -q "Success" <<<"$out"; then
  ok "a second instance on the same file prefix -> exit 1, says why"
else
  bad "second instance: exit $rc: $out"
fi
sleep 1
kill -TERM $pid
wait $pid; rc=$?
[ $rc -eq 0 ] && ok "SIGTERM -> exit 0" || bad "SIGTERM: exit $rc: $(cat "$dir/run.out")"
# DPDK 22.11's telemetry notice on every start ("No legacy callbacks...") is hidden.
grep -q "TELEMETRY:" "$dir/run.out" && bad "telemetry noise: $(grep TELEMETRY: "$dir/run.out")" \
  || ok "no TELEMETRY: lines"
# --stats: the last line is the /mcfwd/stats object.
if tail -n 1 "$dir/run.out" | /usr/bin/python3 -c '
import json, sys
v = json.loads(sys.stdin.read())
assert v["lcores"] == 1 and "rx_packets" in v["dataplane"] and v["outlets"] == ["r"], v
assert "frames" in v["control"] and "calls_ok" in v["engine"], v'; then
  ok "--stats: the counters at exit as one JSON object"
else
  bad "--stats: $(tail -n 3 "$dir/run.out")"
fi
if command -v tshark >/dev/null; then
  summary=$(tshark -r "$dir/out.pcap" 2>/dev/null)
  grep -q "Join group 239.1.1.1 for any sources" <<<"$summary" && ok "the join was reported" \
    || bad "no join report: $summary"
  grep -q "Leave group 239.1.1.1" <<<"$summary" && ok "SIGTERM left the group on the wire" \
    || bad "no leave after SIGTERM: $summary"
fi
# rte_flow steering: `auto` (the default) falls back to software punting on a
# port without a spare RX queue (net_pcap: one per rx_pcap) and says so; `on` makes that refusal a startup error.
grep -q "port p0: rte_flow steering refused, IGMP/MLD punted in software (no RX queue 1 for control" "$dir/run.out" \
  && ok "flow_steering auto falls back to software punting" \
  || bad "no steering fallback line: $(cat "$dir/run.out")"
sed -e "s/mcfwd-cli-$$/mcfwd-cli-flow-$$/" -e "s/ipv4: { address: 192.0.2.10 }/flow_steering: on/" \
  -e "s/out.pcap/flow-out.pcap/" "$dir/run.yaml" >"$dir/flow.yaml"
out=$("$mcfwd" --config "$dir/flow.yaml" --duration 1 2>&1); rc=$?
rm -rf "/var/run/dpdk/mcfwd-cli-flow-$$"
if [ $rc -eq 1 ] && grep -q "flow.yaml:3:5: ports\[0\]: flow_steering is on but the port refuses it: no RX queue 1" <<<"$out"; then
  ok "flow_steering on + a PMD without rte_flow -> exit 1 naming the port and the reason"
else
  bad "flow_steering on: exit $rc: $out"
fi
# A device that passes every check before the EAL and still does not probe (a
# capture file that is no pcap): exit 1 at ports[0].device's line and column, in
# words rather than the PMD's -1 read as an errno ("Operation not permitted").
echo "not a capture" >"$dir/garbage.pcap"
sed -e "s/mcfwd-cli-$$/mcfwd-cli-probe-$$/" -e "s|rx_pcap=$dir/empty.pcap|rx_pcap=$dir/garbage.pcap|" \
  -e "s/out.pcap/probe-out.pcap/" "$dir/run.yaml" >"$dir/probe.yaml"
out=$("$mcfwd" --config "$dir/probe.yaml" --duration 1 2>&1); rc=$?
rm -rf "/var/run/dpdk/mcfwd-cli-probe-$$"
if [ $rc -eq 1 ] && grep -q "probe.yaml:4:13: ports\[0\].device: the driver did not probe net_pcap0 (rte_dev_probe returned -1; DPDK's log above says why)" <<<"$out" \
   && ! grep -q "Operation not permitted\|Bad address" <<<"$out"; then
  ok "a device that does not probe -> exit 1 at ports[0].device, in words"
else
  bad "device that does not probe: exit $rc: $out"
fi
# A port with a multicast filter: net_tap. Its kernel interface's list (the
# filter that decides what the tap receives) holds the joined group's MAC while
# mcfwd runs, and mcfwd reports it programmed and not in allmulticast.
if [ "$(id -u)" -eq 0 ] && [ -w /dev/net/tun ]; then
  tap=mcfcli$(( $$ % 100000 ))
  cat >"$dir/tap.yaml" <<YAML
eal: ["--no-huge", "--no-pci", "-m", "128", "--file-prefix=mcfwd-cli-tap-$$"]
ports:
  - name: t0
    device: "net_tap0,iface=$tap"
    ipv4: { address: 192.0.2.11 }
receivers:
  - name: r
    sink: { ring: cli-tap-$$ }
    joins:
      - { port: t0, group: 239.1.1.1 }
      - { port: t0, group: "ff3e::1:2", mode: include, sources: ["2001:db8::1"] }
YAML
  "$mcfwd" --config "$dir/tap.yaml" --duration 60 >"$dir/tap.out" 2>&1 &
  pid=$!
  for _ in $(seq 50); do grep -q "mcfwd: running" "$dir/tap.out" && break; sleep 0.2; done
  maddr=$(ip maddr show dev "$tap" 2>&1)
  kill -TERM $pid; wait $pid; rc=$?
  rm -rf "/var/run/dpdk/mcfwd-cli-tap-$$"
  if grep -q "link  01:00:5e:01:01:01" <<<"$maddr" && grep -q "link  33:33:00:01:00:02" <<<"$maddr"; then
    ok "net_tap: ip maddr show dev $tap lists the joined groups' MACs"
  else
    bad "net_tap: ip maddr lacks the groups' MACs: $maddr"
  fi
  [ $rc -eq 0 ] && grep -q "port t0: 2 group(s) at exit, .* NIC 2 MAC(s) programmed, allmulticast off" "$dir/tap.out" \
    && ok "net_tap: 2 MACs programmed, no allmulticast" || bad "net_tap run: exit $rc: $(cat "$dir/tap.out")"
else
  echo "skip: net_tap needs root and /dev/net/tun"
fi
# As a normal user: --no-huge needs no privilege (the README's promise).
if [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null && [ -x "$mcfwd" ]; then
  chmod 777 "$dir"
  sed -e "s/mcfwd-cli-$$/mcfwd-cli-user-$$/" -e "s/out.pcap/user-out.pcap/" "$dir/run.yaml" >"$dir/user.yaml"
  chmod 644 "$dir"/*.yaml "$dir"/*.pcap
  out=$(cd "$dir" && runuser -u nobody -- "$mcfwd" --config "$dir/user.yaml" --duration 2 2>&1); rc=$?
  if [ $rc -eq 0 ] && grep -q "mcfwd: stopped" <<<"$out"; then
    ok "runs as user nobody"
  elif grep -qi "permission denied" <<<"$out" && ! runuser -u nobody -- test -x "$mcfwd"; then
    echo "skip: user nobody cannot reach $mcfwd (a parent directory is private)"
  else
    bad "as user nobody: exit $rc: $out"
  fi
fi
echo "$passed passed, $fail failed"
exit $fail
