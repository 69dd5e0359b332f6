#!/usr/bin/env bash
# The engine in lib/ stays free of DPDK: no <rte_*.h>, no rte_ calls. DPDK
# services reach it through small interfaces that drivers/ implements.
set -u
cd "$(dirname "$0")/.."
# An include of rte_*.h, or an rte_ call on a line that is not a comment.
hits=$(git grep -nE '^\s*#\s*include\s*[<"]rte_|^[^/]*\brte_[a-z0-9_]+\(' -- 'lib/*.hpp' 'lib/*.cpp' 'lib/*.h' 'lib/*.c' 2>/dev/null)
if [ -n "$hits" ]; then
  echo "lib/ must not use DPDK directly:"
  echo "$hits"
  exit 1
fi
# Prove the check can see lib/ at all (a broken pathspec would pass vacuously).
[ -n "$(git ls-files -- 'lib/*.hpp' 'lib/**/*.hpp')" ] || { echo "no headers found under lib/"; exit 1; }
echo "lib/ is DPDK-free"
