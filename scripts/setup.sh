#!/usr/bin/env bash
# Installs every build and test dependency of mcfwd from Debian packages.
# Idempotent: packages already present are left alone. Needs root (or sudo).
set -euo pipefail

packages=(
  # build
  build-essential meson ninja-build pkg-config ccache clang libclang-rt-14-dev
  # libraries
  dpdk dpdk-dev libdpdk-dev libyaml-cpp-dev libpcap-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # DPDK's examples (the ipv4_multicast baseline) and tools
  dpdk-doc
  # scripts/plot_bench.py (docs/benchmarks.png)
  python3-matplotlib
  # packet tools and network namespaces for the wire and end-to-end tests
  tshark python3-scapy iproute2 bridge-utils tcpdump ethtool
  # Prometheus and promtool: the metrics exporter's tests (docs/METRICS.md). Where
  # systemd runs, the package also starts its own server on :9090; the tests use
  # their own on a free port.
  prometheus
  python3
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}"
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
