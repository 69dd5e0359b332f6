#!/usr/bin/env bash
# A receiver's ring sink read by another process (the multi-process consumer
# pattern): mcfwd as DPDK primary on hugepages, mcfwd-consumer as secondary. It must
# get exactly what mcfwd delivered to the ring, and only the (S,G) its filter wants.
# A secondary cannot attach to a --no-huge primary, so this test reserves 2 MiB
# hugepages and mounts hugetlbfs (root only), and puts both back afterwards.
#   ring_consumer_test.sh MCFWD MCFWD_CONSUMER SOURCE_ROOT
set -u
mcfwd=$1 consumer=$2 root=$3
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root to reserve hugepages and mount hugetlbfs (CI runs as root)"
  exit 77
fi
nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
if [ ! -w "$nr" ]; then
  echo "SKIP: $nr is not writable: no 2 MiB hugepages on this kernel"
  exit 77
fi
old=$(cat "$nr")
dir=$(mktemp -d /tmp/mcfwd-ring.XXXXXX)
huge=$dir/huge
mkdir -p "$huge"
added=0
cleanup() {
  umount "$huge" 2>/dev/null
  # Give back what this test added, whatever another test did meanwhile.
  local now; now=$(cat "$nr")
  echo $(( now > added ? now - added : 0 )) >"$nr"
  rm -rf "$dir" "/var/run/dpdk/mcfwd-ring-$$"
}
trap cleanup EXIT
echo $((old + 192)) >"$nr"
added=$(( $(cat "$nr") - old ))
mount -t hugetlbfs nodev "$huge" || { echo "FAIL: cannot mount hugetlbfs"; exit 1; }
if [ "$(cat "$nr")" -lt $((old + 128)) ]; then
  echo "SKIP: the kernel granted only $(cat "$nr") hugepages (memory fragmented)"
  exit 77
fi
/usr/bin/python3 "$root/scripts/gen_traffic.py" "$dir/in.pcap" --packets 2000 --seed 3 >/dev/null || exit 1
prefix=mcfwd-ring-$$
cat >"$dir/mcfwd.yaml" <<YAML
eal: ["--no-pci", "-m", "256", "--huge-dir=$huge", "--file-prefix=$prefix"]
ports:
  - name: uplink
    device: "net_pcap0,rx_pcap=$dir/in.pcap,tx_pcap=$dir/out.pcap"
    ipv4: { address: 192.0.2.10 }
receivers:
  - name: feed
    sink: { ring: ring-$$, size: 4096 }
    joins:
      - { port: uplink, group: 239.1.1.1, mode: exclude, sources: [198.51.100.66] }
YAML
# The primary runs long enough for the secondary to attach and drain the ring.
"$mcfwd" --config "$dir/mcfwd.yaml" --duration 10 >"$dir/primary.out" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "mcfwd: running" "$dir/primary.out" && break; sleep 0.2; done
json=$("$consumer" --ring ring-$$ --timeout 4 -- --proc-type=secondary --no-pci \
         --file-prefix=$prefix --huge-dir="$huge" 2>"$dir/consumer.err")
crc=$?
wait $pid
prc=$?
cat "$dir/primary.out"
echo "$json"
fail=0
[ $prc -eq 0 ] || { echo "FAIL: mcfwd exited $prc"; fail=1; }
[ $crc -eq 0 ] || { echo "FAIL: mcfwd-consumer exited $crc: $(cat "$dir/consumer.err")"; fail=1; }
delivered=$(sed -n 's/.*receiver feed: delivered \([0-9]*\).*/\1/p' "$dir/primary.out")
got=$(sed -n 's/.*"packets": \([0-9]*\).*/\1/p' <<<"$json")
want=$(/usr/bin/python3 - "$dir/in.pcap" <<'PY'
import re, sys
from scapy.all import Raw, rdpcap
n = 0
for p in rdpcap(sys.argv[1]):
    m = Raw in p and re.match(rb"mcfwd S=(\S+) G=(\S+) ", bytes(p[Raw].load))
    if m and m.group(2) == b"239.1.1.1" and m.group(1) != b"198.51.100.66":
        n += 1
print(n)
PY
)
[ -n "$got" ] && [ "$got" = "$want" ] && [ "$delivered" = "$want" ] \
  && echo "ok   consumer got $got = delivered $delivered = oracle $want" \
  || { echo "FAIL: consumer $got, delivered $delivered, oracle $want"; fail=1; }
grep -q '"flows": {"S=198.51.100.1 G=239.1.1.1": ' <<<"$json" && ! grep -q "198.51.100.66" <<<"$json" \
  && echo "ok   only the wanted (S,G) reached the consumer" \
  || { echo "FAIL: unexpected flows: $json"; fail=1; }
exit $fail
