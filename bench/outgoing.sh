#!/usr/bin/env bash
# bench/outgoing.sh — outgoing traffic and DNS through the pod against the same operations made directly inside the
# pod's namespace, in one run (issue 6's benchmark). Not a test: prints a table.
#
#   sudo bench/outgoing.sh          CONNECTS=2000 BULK_MIB=1024 LOOKUPS=1000 MAX_SECONDS=300 to change the defaults
#
# One client, OutgoingBenchApp (JDK only), run twice with the same arguments:
#   (a) baseline: directly in the pod's namespace (`ip netns exec <lab>-pod java …`): names through the pod's
#       resolv.conf and the lab's dnsmasq, connections over the lab's bridge
#   (b) mirrord: `mirrord exec --target pid/<pod>` in the dev namespace <lab>-local, which has only a loopback (no
#       route into the lab, nor anywhere else: whatever mirrord did not take over fails at once, nothing leaves)
# and measures, in this order:
#   connect  Socket.connect to svc:9000 (the lab's TCP echo), CONNECTS times after a 10 % warm-up: p50/p99
#   bulk     BULK_MIB MiB written to svc:9002 (the lab's sink, which answers the byte count after the half-close),
#            after a 64 MiB warm-up connection: MiB/s from the first write to the sink's answer
#   dns      InetAddress.getByName of cluster names (svc, postgres, redis.default.svc.cluster.local, …), JDK caches
#            off, LOOKUPS times after a 10 % warm-up: p50/p99
# Goals (issue 6): connect ≤ 1 ms added at p50, bulk ≥ 0.6× the baseline, DNS ≤ 1 ms added at p50.
# Exit code 0 when both halves produced numbers; 1 when the mirrord half failed (the baseline is printed anyway).
source "$(dirname "$0")/lib.sh"

CONNECTS=${CONNECTS:-2000}
BULK_MIB=${BULK_MIB:-1024}
LOOKUPS=${LOOKUPS:-1000}
MAX_SECONDS=${MAX_SECONDS:-300}

bench_build
bench_lab_up
bench_log "start-up caches of this jar copy built in $(bench_prepare_caches) s"

mapfile -t CLIENT < <(bench_app_cmd OutgoingBenchApp --connect "$CONNECTS" --bulk "$BULK_MIB" --dns "$LOOKUPS" \
  --max-seconds "$MAX_SECONDS")

# bench_wait_exit PID SECONDS: waits (bounded) for a process that is not our child; SIGKILL after SECONDS.
bench_wait_exit() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do bench_running "$1" || return 0; sleep 0.1; done
  bench_log "pid $1 still running after $2 s; killing it"
  kill -KILL "$1" 2>/dev/null || true
}

# value FILE KEY -> the value of KEY=… in FILE (empty if absent)
value() { sed -n "s/^$2=//p" "$1" | tail -1; }

# (a) baseline, in the pod's namespace.
bench_log "baseline: OutgoingBenchApp in the pod's namespace (connect x$CONNECTS, ${BULK_MIB} MiB, dns x$LOOKUPS)"
base_rc=0
timeout -k 5 "$((MAX_SECONDS + 30))" ip netns exec "$(bench_ns pod)" "${CLIENT[@]}" \
  </dev/null >"$BENCH_WORK/baseline.out" 2>"$BENCH_WORK/baseline.err" || base_rc=$?
[[ $base_rc -eq 0 ]] || bench_die "baseline failed (exit $base_rc): $(cat "$BENCH_WORK/baseline.out" "$BENCH_WORK/baseline.err" | tail -5)"

# (b) under mirrord, from the dev namespace.
bench_log "mirrord: the same client under mirrord exec --target pid/$BENCH_POD_PID from $(bench_ns local)"
cli=$(bench_mirrord mirrord -- "${CLIENT[@]}")
bench_wait_exit "$cli" "$((MAX_SECONDS + 90))"
mirrord_ok=1
for k in connect.p50_us bulk.mibps dns.p50_us; do
  [[ -n $(value "$BENCH_WORK/mirrord.out" "$k") ]] || mirrord_ok=0
done
if [[ $mirrord_ok -eq 0 ]]; then
  bench_log "mirrord half incomplete; its output (also $BENCH_WORK/mirrord.{out,err}, mirrord-mirrord.log):"
  sed 's/^/    /' "$BENCH_WORK/mirrord.out" >&2 || true
  tail -5 "$BENCH_WORK/mirrord.err" | sed 's/^/    /' >&2 || true
fi

# Results.
B=$BENCH_WORK/baseline.out
M=$BENCH_WORK/mirrord.out
num() { local v; v=$(value "$1" "$2"); printf '%s' "${v:-n/a}"; }
added_ms() { # baseline_us mirrord_us
  awk -v b="$1" -v m="$2" 'BEGIN { if (b == "n/a" || m == "n/a") print "n/a"; else printf "%+.3f ms", (m - b) / 1000 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b == 0) print "n/a"; else printf "%.2fx", a / b }'; }

echo
echo "## bench/outgoing.sh — $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(bench_machine)"
echo "CLI JVM flags: $BENCH_CLI_FLAGS_TEXT; client: OutgoingBenchApp ${CLIENT[*]:6}"
echo "baseline: the client in the pod's namespace; mirrord: the client under mirrord exec from a loopback-only namespace"
echo
printf '| %-34s | %12s | %12s | %16s | %-18s |\n' "measure" "baseline" "mirrord" "mirrord vs base" "goal"
printf '|%s|%s|%s|%s|%s|\n' "------------------------------------" "--------------" "--------------" "------------------" "--------------------"
row() { printf '| %-34s | %12s | %12s | %16s | %-18s |\n' "$@"; }
row "connect svc:9000 p50 (us)" "$(num "$B" connect.p50_us)" "$(num "$M" connect.p50_us)" \
  "$(added_ms "$(num "$B" connect.p50_us)" "$(num "$M" connect.p50_us)")" "<= +1 ms"
row "connect svc:9000 p99 (us)" "$(num "$B" connect.p99_us)" "$(num "$M" connect.p99_us)" \
  "$(added_ms "$(num "$B" connect.p99_us)" "$(num "$M" connect.p99_us)")" ""
row "connect errors (of $CONNECTS)" "$(num "$B" connect.errors)" "$(num "$M" connect.errors)" "" "0"
row "bulk ${BULK_MIB} MiB to svc:9002 (MiB/s)" "$(num "$B" bulk.mibps)" "$(num "$M" bulk.mibps)" \
  "$(ratio "$(num "$M" bulk.mibps)" "$(num "$B" bulk.mibps)")" ">= 0.6x"
row "bulk time (ms)" "$(num "$B" bulk.ms)" "$(num "$M" bulk.ms)" "" ""
row "dns lookup p50 (us)" "$(num "$B" dns.p50_us)" "$(num "$M" dns.p50_us)" \
  "$(added_ms "$(num "$B" dns.p50_us)" "$(num "$M" dns.p50_us)")" "<= +1 ms"
row "dns lookup p99 (us)" "$(num "$B" dns.p99_us)" "$(num "$M" dns.p99_us)" \
  "$(added_ms "$(num "$B" dns.p99_us)" "$(num "$M" dns.p99_us)")" ""
row "dns errors (of $LOOKUPS)" "$(num "$B" dns.errors)" "$(num "$M" dns.errors)" "" "0"
echo
if [[ $mirrord_ok -eq 0 ]]; then
  echo "mirrord half: no numbers (see $BENCH_WORK/mirrord.out, mirrord.err, mirrord-mirrord.log)"
  exit 1
fi
