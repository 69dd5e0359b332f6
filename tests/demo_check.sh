#!/usr/bin/env bash
# The README's main job works: mcfwd-demo runs to the end, shows the behaviours it
# promises, and every frame it wrote is one tshark dissects without complaint.
#   demo_check.sh MCFWD_DEMO OUTDIR
set -u
demo=$1 out=$2
rm -rf "$out"; mkdir -p "$out"
log=$("$demo" --out "$out") || { echo "mcfwd-demo failed"; echo "$log"; exit 1; }
fail=0
expect() { grep -qF -- "$1" <<<"$log" || { echo "missing from the demo's output: $1"; fail=1; }; }
expect "ALLOW(233.1.1.1 {10.1.1.1})"
expect "exclude {10.1.1.9}  refs 2"
expect "-> EADDRINUSE"
expect "-> ENXIO"
expect "allmulticast on because table_full"
expect "allmulticast on because not_supported"
expect "IS_EX(233.1.1.1 {10.1.1.9})"
expect "IGMPv2 leave for 239.2.2.2"
expect "MLDv2 report to ff02::16: ALLOW(ff3e::8000:1 {2001:db8::1 2001:db8::2})"
for f in "$out"/uplink.pcap "$out"/lab.pcap; do
  [ -s "$f" ] || { echo "no pcap written: $f"; fail=1; continue; }
  if command -v tshark >/dev/null; then
    n=$(tshark -r "$f" 2>/dev/null | wc -l)
    bad=$(tshark -r "$f" -V 2>/dev/null | grep -ciE 'malformed|incorrect|bad checksum')
    [ "$n" -gt 0 ] || { echo "tshark read no packets from $f"; fail=1; }
    [ "$bad" -eq 0 ] || { echo "tshark warns about $f ($bad)"; fail=1; }
  fi
done
[ $fail -eq 0 ] && echo "demo ok"
exit $fail
