#!/usr/bin/env bash
# The main job on config/default.yaml, no NIC needed: builds mcfwd, makes the
# bundled upstream traffic (scripts/gen_traffic.py: IGMP/MLD queries and UDP
# multicast from wanted and unwanted (S,G)), and runs mcfwd on
# config/default.yaml: net_pcap ports replay it, the receivers' deliveries and
# mcfwd's own IGMP/MLD go to capture files, and mcfwd prints its counters when
# the replay has ended. tshark then shows what each side got.
#   scripts/demo.sh            the application (DPDK, virtual devices)
#   scripts/demo.sh --engine   mcfwd-demo: the control-plane engine alone, scripted
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/mcfwd-ccache}
if [ ! -f build/build.ninja ]; then
  meson setup build -Dwerror=true >build.setup.log 2>&1 || { cat build.setup.log; exit 1; }
fi

if [ "${1:-}" = "--engine" ]; then
  ninja -C build app/mcfwd-demo >/dev/null
  exec build/app/mcfwd-demo --out out
fi

ninja -C build app/mcfwd >/dev/null
dir=/tmp/mcfwd-demo # where config/default.yaml's ports read and write
mkdir -p "$dir"
/usr/bin/python3 scripts/gen_traffic.py "$dir/uplink-in.pcap" --packets 2000
/usr/bin/python3 -c "from scapy.all import wrpcap; wrpcap('$dir/empty.pcap', [])" 2>/dev/null
echo
build/app/mcfwd --config config/default.yaml --idle-exit 3
echo
echo "== what the recorder receiver got (its sink is TX on port 'recorder': $dir/recorder-out.pcap)"
tshark -r "$dir/recorder-out.pcap" -T fields -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst 2>/dev/null \
  | awk '{print $1" -> "$2}' | sort | uniq -c
echo
echo "== what mcfwd said on the uplink ($dir/uplink-out.pcap)"
tshark -r "$dir/uplink-out.pcap" 2>/dev/null
bad=$(tshark -r "$dir/uplink-out.pcap" -V 2>/dev/null | grep -ciE 'malformed|incorrect|bad checksum' || true)
echo "tshark warnings (malformed / bad checksum): $bad"
[ "$bad" -eq 0 ]
