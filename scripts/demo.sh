#!/usr/bin/env bash
# The main job on config/default.yaml, no NIC needed: builds mcfwd, makes the
# bundled upstream traffic (scripts/gen_traffic.py: IGMP/MLD queries and UDP
# multicast from wanted and unwanted (S,G)), and runs mcfwd on
# config/default.yaml: net_pcap ports replay it, the receivers' deliveries and
# mcfwd's own IGMP/MLD go to capture files, and mcfwd prints its counters when
# the replay has ended. tshark then shows what each side got.
#
# The run is private: its capture files live in a directory of its own (the
# configuration's /tmp/mcfwd-demo/ paths rewritten) and DPDK runs with its own
# --file-prefix, so a running mcfwd — on the same configuration or the default
# prefix — is neither disturbed nor in the way.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/demo.sh [--keep] [--huge] | --engine
  (none)     build mcfwd, replay the bundled traffic through it on config/default.yaml
             (virtual devices, no NIC, no hugepages), print its counters and what
             tshark sees on each side
  --keep     the same, but mcfwd keeps running after the replay until Ctrl-C: drive
             it meanwhile with scripts/mcfwdctl (the commands are printed)
  --huge     run on hugepages instead of --no-huge (root: reserves 192 2 MiB pages
             and gives them back at exit), so that mcfwd-consumer, a DPDK secondary
             process, can read the ring receiver feed-a (with --keep: the command
             is printed)
  --engine   mcfwd-demo: the control-plane engine alone through a scripted day
  -h, --help this text
Exit status: 0 done, 1 the build or the demo failed, 2 bad arguments.
EOF
}

mode=app
keep=0
huge=0
while [ $# -gt 0 ]; do
  case "$1" in
    --engine) mode=engine ;;
    --keep) keep=1 ;;
    --huge) huge=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "demo.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [ "$mode" = engine ] && [ $((keep + huge)) -gt 0 ]; then
  echo "demo.sh: --keep and --huge are for the application, not --engine" >&2
  exit 2
fi
if [ $huge -eq 1 ] && [ "$(id -u)" -ne 0 ]; then
  echo "demo.sh: --huge reserves hugepages and mounts hugetlbfs: run it as root" >&2
  exit 2
fi

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/mcfwd-ccache}

# build TARGET: ninja with a progress line, its whole output in build.demo.log,
# and on a failure the errors (ninja's output without the progress lines).
build() {
  if [ ! -f build/build.ninja ]; then
    echo "demo.sh: configuring build/ (meson; the first build takes a few minutes)"
    meson setup build -Dwerror=true >build.setup.log 2>&1 || { cat build.setup.log; exit 1; }
  fi
  echo "demo.sh: building $1"
  local tty=0
  [ -t 1 ] && tty=1
  if ! ninja -C build "$1" 2>&1 | tee build.demo.log | awk -v tty=$tty '
      /^\[[0-9]+\/[0-9]+\] / {
        s = $1; gsub(/[\[\]]/, "", s); split(s, n, "/")
        pct = int(100 * n[1] / n[2])
        if (tty) { printf "\r  %3d%% (%d/%d)", pct, n[1], n[2]; shown = 1 }
        else if (pct >= last + 20 || n[1] == n[2]) { printf "  %3d%% (%d/%d)\n", pct, n[1], n[2]; last = pct }
        fflush()
      }
      END { if (shown) printf "\n" }'; then
    grep -v '^\[[0-9]*/[0-9]*\] ' build.demo.log >&2 || true
    echo "demo.sh: building $1 failed (whole log: $root/build.demo.log)" >&2
    exit 1
  fi
}

if [ "$mode" = engine ]; then
  build app/mcfwd-demo
  exec build/app/mcfwd-demo --out out
fi

build app/mcfwd
prefix=mcfwd-demo-$$
dir=$(mktemp -d /tmp/mcfwd-demo.XXXXXX)
nr=/proc/sys/vm/nr_hugepages
pages_before=
cleanup() {
  if [ -n "$pages_before" ]; then
    umount "$dir/huge" 2>/dev/null || echo "demo.sh: cannot unmount $dir/huge (a consumer still attached?)" >&2
    echo "$pages_before" >"$nr"
  fi
  # DPDK leaves its runtime directory behind (/var/run/dpdk/<prefix> as root).
  rm -rf "$dir" "/var/run/dpdk/$prefix" "${XDG_RUNTIME_DIR:-/tmp}/dpdk/$prefix" 2>/dev/null || true
}
trap cleanup EXIT
sed "s#/tmp/mcfwd-demo/#$dir/#g" config/default.yaml >"$dir/default.yaml"
eal_huge=()
if [ $huge -eq 1 ]; then
  # As tests/integration/ring_consumer_test.sh: a private hugetlbfs mount and 192
  # more 2 MiB pages for the configuration's -m 256, both given back at exit.
  pages_before=$(cat "$nr")
  mkdir -p "$dir/huge"
  mount -t hugetlbfs nodev "$dir/huge"
  echo $((pages_before + 192)) >"$nr"
  if [ "$(cat "$nr")" -lt $((pages_before + 128)) ]; then
    echo "demo.sh: the kernel granted $(($(cat "$nr") - pages_before)) of 192 hugepages (memory fragmented?)" >&2
    exit 1
  fi
  sed -i 's/"--no-huge", //' "$dir/default.yaml"
  eal_huge=(--huge-dir="$dir/huge")
fi
echo "demo.sh: making the upstream traffic (scripts/gen_traffic.py)"
/usr/bin/python3 scripts/gen_traffic.py "$dir/uplink-in.pcap" --packets 2000
# An empty capture: the pcap file header alone (net_pcap needs the file to exist).
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' >"$dir/empty.pcap"
args=(--config "$dir/default.yaml")
[ $keep -eq 1 ] || args+=(--idle-exit 3)
args+=(-- --file-prefix "$prefix" "${eal_huge[@]}")
echo
if [ $keep -eq 1 ]; then
  ctl="scripts/mcfwdctl --file-prefix $prefix"
  cat <<EOF
demo.sh: mcfwd keeps running until Ctrl-C (the replay itself is over within a second).
From another terminal:
  $ctl groups       merged memberships per port
  $ctl receivers    each receiver's filters and packets delivered
  $ctl join feed-a 232.9.9.9 --source 198.51.100.9 --port uplink
                    (its IGMPv3 report shows in the uplink capture below, after Ctrl-C)
  $ctl stats        every counter
  $ctl top          rates per second (zero once the replay is over)
The captures are in $dir/ while it runs.
EOF
  if [ $huge -eq 1 ]; then
    cat <<EOF
Read the ring receiver feed-a (mcfwd-consumer prints what it took, as JSON):
  build/app/mcfwd-consumer --ring feed-a --timeout 2 -- --proc-type=secondary --no-pci \
      --file-prefix=$prefix --huge-dir=$dir/huge --log-level=lib.eal:warning
EOF
  fi
  echo
fi
build/app/mcfwd "${args[@]}"
echo
echo "== what the recorder receiver got (its sink is TX on port 'recorder': recorder-out.pcap)"
tshark -r "$dir/recorder-out.pcap" -T fields -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst 2>/dev/null \
  | awk '{print $1" -> "$2}' | sort | uniq -c
echo
echo "== what mcfwd said on the uplink (uplink-out.pcap)"
tshark -r "$dir/uplink-out.pcap" 2>/dev/null
bad=$(tshark -r "$dir/uplink-out.pcap" -V 2>/dev/null | grep -ciE 'malformed|incorrect|bad checksum' || true)
echo "tshark warnings (malformed / bad checksum): $bad"
if [ $huge -eq 0 ]; then
  echo
  echo "The ring receiver feed-a's packets wait for a reader, mcfwd-consumer: scripts/demo.sh"
  echo "--keep --huge runs mcfwd on hugepages, which that DPDK secondary process needs."
fi
[ "$bad" -eq 0 ]
