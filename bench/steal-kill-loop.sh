#!/usr/bin/env bash
# bench/steal-kill-loop.sh — issue 5's clean-up loop at benchmark size: KILLS (default 100) steal sessions, ended in
# turn by SIGINT to mirrord, kill -9 of the CLI and kill -9 of the agent; after each: the pod answers new connections
# within 2 s, no MIRRORD line in the pod's iptables-save/ip6tables-save, no process of the session left.
#
#   sudo bench/steal-kill-loop.sh       KILLS=300 LANES=2 to change the defaults
#
# It is the e2e test StealCleanupE2EIT (the one definition of the checks; CI runs it with 51 sessions) run at a bigger
# size through Maven (which builds what is needed first); the table at the end is the test's summary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
KILLS=${KILLS:-100}
LANES=${LANES:-2}
[[ $(id -u) -eq 0 ]] || { echo "steal-kill-loop.sh: needs root (network namespaces); run with sudo" >&2; exit 1; }
log=$(mktemp /tmp/mirrord-bench-kill-loop.XXXX.log)
echo "steal-kill-loop.sh: $KILLS sessions in $LANES lanes; full log: $log" >&2
set +e
"$root/scripts/test.sh" -pl e2e -am -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
  -Dit.test=StealCleanupE2EIT -Dfailsafe.failIfNoSpecifiedTests=false \
  -Dmirrord.e2e.steal.kills="$KILLS" -Dmirrord.e2e.steal.killLanes="$LANES" >"$log" 2>&1
rc=$?
set -e
grep -E '^\[kill-loop\] +[0-9]+ ' "$log" | tail -5 >&2 || true
echo
echo "## bench/steal-kill-loop.sh — $(date -u +%Y-%m-%dT%H:%MZ), KILLS=$KILLS LANES=$LANES"
echo "machine: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores, kernel $(uname -r)"
grep -E '^\[kill-loop\] ([0-9]+ sessions|kill |SIGINT|KILL)' "$log" | sed 's/^\[kill-loop\] //' || true
if [[ $rc -ne 0 ]]; then
  echo "FAILED (mvn exit $rc):"
  grep -E 'iteration [0-9]+|Tests run:|FAIL' "$log" | head -20
fi
exit $rc
