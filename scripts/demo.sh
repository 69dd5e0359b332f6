#!/usr/bin/env bash
# The main job on an embedded default, no NIC needed: builds mcfwd and runs
# mcfwd-demo, a scripted day of receivers joining and leaving on two simulated
# ports (a 4-entry NIC filter, a NIC without one), routers querying, and the
# IGMP/MLD it sends written to out/*.pcap. With tshark installed, the uplink's
# frames are then dissected by tshark (an independent decoder) as a check.
#   scripts/demo.sh [--out DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=out
if [ "${1:-}" = "--out" ] && [ -n "${2:-}" ]; then out=$2; fi
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/mcfwd-ccache}
if [ ! -f build/build.ninja ]; then
  meson setup build -Dwerror=true >build.setup.log 2>&1 || { cat build.setup.log; exit 1; }
fi
ninja -C build app/mcfwd-demo >/dev/null
build/app/mcfwd-demo --out "$out"
if command -v tshark >/dev/null 2>&1; then
  echo
  echo "== tshark's reading of $out/uplink.pcap"
  tshark -r "$out/uplink.pcap" 2>/dev/null
  bad=$(tshark -r "$out/uplink.pcap" -V 2>/dev/null | grep -ciE 'malformed|incorrect|bad checksum' || true)
  echo "tshark warnings (malformed / bad checksum): $bad"
  [ "$bad" -eq 0 ]
fi
