#!/usr/bin/env bash
# bench/e2e-full-size.sh — the byte-for-byte e2e checks at the issues' full sizes, where CI runs smaller or paced ones:
#   steal:  StealE2EIT#tenThousandStolenRequestsWithChecksummedBodies with bodies of 0-1 MiB (CI: 0-64 KiB);
#           10 000 requests over 32 keep-alive connections, about 5 GiB, each body's SHA-256 echoed and checked
#   mirror: MirrorE2EIT#thousandKeepAliveRequestsWithRandomBodiesArriveByteForByte with bodies of 0-1 MiB at
#           PAUSES ms between the requests of each of its 4 connections (CI: 50); 0 = as fast as the pod answers
#
#   sudo bench/e2e-full-size.sh         PAUSES="50 25 0" STEAL=1 MIRROR=1 to choose
#
# Runs through Maven (scripts/test.sh), one invocation per size; prints one line per run. A mirror run that fails is
# reported, not fatal: it finds how fast a flood the mirror keeps up with on this machine.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
PAUSES=${PAUSES:-"50 25 0"}
[[ $(id -u) -eq 0 ]] || { echo "e2e-full-size.sh: needs root (network namespaces); run with sudo" >&2; exit 1; }

run() { # LOG TEST PROPS...
  local log=$1 test=$2
  shift 2
  "$root/scripts/test.sh" -pl e2e -am -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
    -Dit.test="$test" -Dfailsafe.failIfNoSpecifiedTests=false "$@" >"$log" 2>&1
}

echo "## bench/e2e-full-size.sh — $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores, kernel $(uname -r)"
if [[ ${STEAL:-1} == 1 ]]; then
  log=$(mktemp /tmp/mirrord-bench-steal-full.XXXX.log)
  run "$log" 'StealE2EIT#tenThousandStolenRequestsWithChecksummedBodies' -Dmirrord.e2e.steal.maxBody=1048576 \
    -Dmirrord.e2e.steal.deadline=540
  echo "steal, 10000 x 0-1 MiB, 32 conns: $([[ $? -eq 0 ]] && echo PASS || echo FAIL) — $(grep -o 'summary .*' "$log" | head -1) (log $log)"
fi
if [[ ${MIRROR:-1} == 1 ]]; then
  for pause in $PAUSES; do
    log=$(mktemp /tmp/mirrord-bench-mirror-full.XXXX.log)
    run "$log" 'MirrorE2EIT#thousandKeepAliveRequestsWithRandomBodiesArriveByteForByte' \
      -Dmirrord.e2e.mirror.maxBody=1048576 -Dmirrord.e2e.mirror.pauseMillis="$pause"
    rc=$?
    arrived=$(grep -oE "app got [0-9]+ requests|all mirrored [0-9]+ ms" "$log" | head -1)
    echo "mirror, 1000 x 0-1 MiB, 4 conns, pause ${pause} ms: $([[ $rc -eq 0 ]] && echo PASS || echo FAIL) — $(grep -o 'summary .*millis=[0-9]*' "$log" | head -1); ${arrived:-see log} (log $log)"
  done
fi
