#!/usr/bin/env bash
# Runs an EAL test program on hugepages: reserves 2 MiB pages (mounting hugetlbfs
# on /dev/hugepages if nothing is mounted there), runs PROGRAM ARGS... with
# MCFWD_TEST_HUGEPAGES=1 (tests/eal/eal_env.hpp then starts EAL --in-memory
# instead of --no-huge), and puts the page count and the mount back as they were,
# whatever the program's outcome. Needs root; without it the test is skipped
# (exit 77) and says why. CI runs as root.
#   hugepages.sh PROGRAM [ARGS...]     (PAGES=N: pages to reserve, default 128)
set -uo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "hugepages.sh: SKIP: reserving hugepages needs root (CI runs as root)"
  exit 77
fi
pages=${PAGES:-128}
nr=/proc/sys/vm/nr_hugepages
before=$(cat "$nr")
mounted=0
if ! grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts; then
  mkdir -p /dev/hugepages
  mount -t hugetlbfs nodev /dev/hugepages || { echo "hugepages.sh: cannot mount hugetlbfs"; exit 1; }
  mounted=1
fi
added=0
# Give back what this script added, whatever another test did meanwhile.
restore() {
  local now; now=$(cat "$nr")
  echo $(( now > added ? now - added : 0 )) >"$nr"
  [ $mounted -eq 0 ] || umount /dev/hugepages
}
trap restore EXIT
echo $((before + pages)) >"$nr"
got=$(cat "$nr")
added=$((got - before))
if [ "$got" -lt $((before + pages)) ]; then
  echo "hugepages.sh: asked the kernel for $pages pages, it reserved $((got - before)) (memory fragmented?)"
  exit 1
fi
MCFWD_TEST_HUGEPAGES=1 "$@"
