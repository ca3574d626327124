#!/usr/bin/env bash
# bench/mirror.sh — mirror mode's cost to the pod and its coverage (issue 4's benchmark). Not a test: prints a table.
#
#   sudo bench/mirror.sh                DURATION=30 CONNECTIONS=8 THREADS=2 DELAYS="5 1 0" to change the defaults
#
# The pod serves HTTP keep-alive on 8081 (ShaHttpServerApp "pod", a JDK HttpServer, started in the pod namespace);
# wrk runs in the lab's client namespace against 198.18.0.10:8081. In one run:
#   1. warm-up (WARMUP s), then baseline: wrk without mirrord;
#   2. mirrored: the same wrk while `mirrord exec --target pid/<pod>` (mirror, the default mode) runs a local
#      ShaHttpServerApp on 8081 that prints one line per request it receives;
#   3. baseline again after mirrord exited (drift check).
# Reported: the percentage of wrk's requests that reached the local app, the pod's p50/p99 with mirroring over the
# mean of the two baselines, req/s, and the agent's CPU (utime+stime from /proc over the mirrored run) and peak RSS
# (VmHWM). wrk2 (fixed request rate) is not in Debian; instead each connection waits DELAY ms between its requests
# (wrk's Lua delay() hook), which fixes the offered rate at about CONNECTIONS x 1000 / (DELAY + latency) req/s. The
# three runs are repeated for every DELAY in DELAYS; DELAY 0 is a closed-loop flood (as fast as the pod answers).
#
# PIN splits the two cores as the product splits machines, so that the pod's latency ratio measures what mirroring
# costs the pod rather than the local app's own work (it answers every mirrored request too) competing with the
# pod's server. PIN=2 (default): the pod's server and wrk (its clients) on CPU 0; the agent, the mirrord CLI and the
# local app on CPU 1 — a node whose agent runs on another core than the pod's server, as on any multi-core node; the
# capture's kernel work (the packet copy into the ring) still runs on the pod's CPU. PIN=1: the agent too on CPU 0
# (re-pinned once it runs, since it starts as the CLI's child): a node with one core for the pod and the agent.
# PIN=0: every process on both cores.
#
# QUIET_WAIT (default 150 s; 0 skips it): after each mirrored run the session stays up, without traffic, until the
# agent logs that it shrank its capture ring (64 MiB from the first packet on, shrunk after a quiet minute, see
# ARCHITECTURE.md "Mirror: capture"), at most QUIET_WAIT s; the agent's VmRSS then is the "quiet" RSS column.
# QUIET_FIRST=1: the same wait before the mirrored run too, so that the run's load meets an 8 MiB ring, which must
# grow in time (the capture column counts what it did not catch).
# EXTRA_AGENT_OPTS="-Dmirrord.capture.ring.first.mib=8": options appended to this run's copy of agent.jvm.options.
source "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-30}
WARMUP=${WARMUP:-20}
DELAYS=${DELAYS:-"5 1 0"}
CONNECTIONS=${CONNECTIONS:-8}
THREADS=${THREADS:-2}
PIN=${PIN:-2}
QUIET_WAIT=${QUIET_WAIT:-150}
QUIET_FIRST=${QUIET_FIRST:-0}

wait_ring_8mib() { # AGENT_LOG: until the agent's last ring line says 8 MiB, at most QUIET_WAIT s
  local start=$SECONDS
  while [[ $((SECONDS - start)) -lt $QUIET_WAIT ]]; do
    grep -E 'capture ring (grown|shrunk) to' "$1" | tail -1 | grep -q 'to 8 MiB' && break
    sleep 1
  done
}
if [[ $PIN == 1 || $PIN == 2 ]]; then NODE_CPU=(taskset -c 0); else NODE_CPU=(); fi
POD_IP=198.18.0.10
PORT=8081

bench_build
bench_need_wrk
bench_lab_up
bench_extra_agent_options
bench_log "start-up caches of this jar copy built in $(bench_prepare_caches) s"

wrk_run() { # LABEL SECONDS DELAY_MS
  local script="$BENCH_WORK/delay-$3.lua"
  printf 'function delay()\n  return %s\nend\n' "$3" >"$script"
  "${NODE_CPU[@]}" ip netns exec "$(bench_ns client)" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2s" --latency -s "$script" \
    "http://$POD_IP:$PORT/" >"$BENCH_WORK/wrk-$1.txt" 2>&1
}

mapfile -t POD < <(bench_app_cmd ShaHttpServerApp "$PORT" pod 3600 quiet)
mapfile -t APP < <(bench_app_cmd ShaHttpServerApp "$PORT" local 3600)
bench_start pod-server pod "${NODE_CPU[@]}" "${POD[@]}" >/dev/null
bench_wait_line "$BENCH_WORK/pod-server.out" '^sha-http.listening' 30
wrk_run warmup "$WARMUP" 0

f() { awk "BEGIN { printf \"$1\", $2 }"; }
RESULTS=""
SUMMARY=""
n=0
for DELAY in $DELAYS; do
  n=$((n + 1))
  wrk_run "base1-$DELAY" "$DURATION" "$DELAY"
  read -r B1_REQ B1_RPS B1_P50 B1_P99 B1_ERR < <(bench_parse_wrk <"$BENCH_WORK/wrk-base1-$DELAY.txt")
  bench_log "delay $DELAY: baseline 1: $B1_REQ requests, $B1_RPS req/s, p50 $B1_P50 µs, p99 $B1_P99 µs"

  cli=$( [[ ${#NODE_CPU[@]} -gt 0 ]] && taskset -cp 1 "$BASHPID" >/dev/null; bench_mirrord "mirror-$n" -- "${APP[@]}")
  bench_wait_line "$BENCH_WORK/mirror-$n.out" '^sha-http.listening' 60
  agent=$(bench_agent_pid "$cli") || bench_die "no agent under the CLI ($cli)"
  [[ $PIN == 1 ]] && taskset -a -cp 0 "$agent" >/dev/null
  agentlog=$(ls "$BENCH_WORK"/mirrord-*-agent.log -t | head -1)
  if [[ $QUIET_FIRST == 1 ]]; then
    wait_ring_8mib "$agentlog"
    bench_log "delay $DELAY: the agent's ring is 8 MiB before the run: $(grep -c 'to 8 MiB' "$agentlog") line(s)"
  fi
  read -r IDLE_AGENT_RSS _ <<<"$(bench_rss "$agent")"
  read -r IDLE_CLI_RSS _ <<<"$(bench_rss "$cli")"
  cpu0=$(bench_cpu_seconds "$agent")
  wrk_run "mirrored-$DELAY" "$DURATION" "$DELAY"
  cpu1=$(bench_cpu_seconds "$agent")
  read -r M_REQ M_RPS M_P50 M_P99 M_ERR < <(bench_parse_wrk <"$BENCH_WORK/wrk-mirrored-$DELAY.txt")
  # Let the mirrored copies drain, then count what the app got.
  prev=-1
  got=0
  for _ in $(seq 30); do
    got=$(grep -c '^sha-http.req GET / ' "$BENCH_WORK/mirror-$n.out" || true)
    [[ $got -eq $prev ]] && break
    prev=$got
    sleep 1
  done
  read -r _ RSS <<<"$(bench_rss "$agent")"
  read -r _ CLI_RSS <<<"$(bench_rss "$cli")"
  QUIET_RSS="-"
  if [[ $QUIET_WAIT -gt 0 ]]; then
    quiet_start=$SECONDS
    wait_ring_8mib "$agentlog"
    sleep 1
    read -r QUIET_RSS _ <<<"$(bench_rss "$agent")"
    QUIET_RSS="$QUIET_RSS MiB after $((SECONDS - quiet_start)) s"
  fi
  bench_stop "$cli"
  # Read once the agent is gone: it logs the capture's losses every 30 s and for the last window when it stops.
  DROPS=$(grep -h 'packet capture lost' "$agentlog" | sed -E 's/.*lost ([0-9]+) packets.*totals: ([0-9]+) received.*/\1 \2/' \
    | awk '{ lost += $1; total = $2 } END { if (NR) printf "%d of %d", lost, total }' || true)
  CUT=$(grep -cE 'connection [0-9]+ (from [^ ]+ )?cut' "$agentlog" "$BENCH_WORK/mirror-$n-mirrord.log" 2>/dev/null | awk -F: '{s += $2} END {print s + 0}' || true)
  bench_log "delay $DELAY: mirrored: $M_REQ requests, $M_RPS req/s, p50 $M_P50 µs, p99 $M_P99 µs; app got $got"

  wrk_run "base2-$DELAY" "$DURATION" "$DELAY"
  read -r B2_REQ B2_RPS B2_P50 B2_P99 B2_ERR < <(bench_parse_wrk <"$BENCH_WORK/wrk-base2-$DELAY.txt")
  bench_log "delay $DELAY: baseline 2: $B2_REQ requests, $B2_RPS req/s, p50 $B2_P50 µs, p99 $B2_P99 µs"

  RESULTS+=$(printf '| %3s ms | %-9s | %8s | %7s | %7s | %7s | %4s |' "$DELAY" "before" "$B1_REQ" "$B1_RPS" "$B1_P50" "$B1_P99" "$B1_ERR")$'\n'
  RESULTS+=$(printf '| %3s ms | %-9s | %8s | %7s | %7s | %7s | %4s |' "$DELAY" "mirrored" "$M_REQ" "$M_RPS" "$M_P50" "$M_P99" "$M_ERR")$'\n'
  RESULTS+=$(printf '| %3s ms | %-9s | %8s | %7s | %7s | %7s | %4s |' "$DELAY" "after" "$B2_REQ" "$B2_RPS" "$B2_P50" "$B2_P99" "$B2_ERR")$'\n'
  SUMMARY+=$(printf '| %3s ms | %7s | %7.2f %% | %5s | %5s | %5s | %5.1f %% | %4s MiB | %s → %s / %s → %s MiB | %s | %s, %s cut |' "$DELAY" "$M_RPS" \
    "$(f '%.2f' "100 * $got / $M_REQ")" "$(f '%.2f' "$M_P50 / (($B1_P50 + $B2_P50) / 2)")" \
    "$(f '%.2f' "$M_P99 / (($B1_P99 + $B2_P99) / 2)")" "$(f '%.2f' "$M_RPS / (($B1_RPS + $B2_RPS) / 2)")" \
    "$(f '%.1f' "100 * ($cpu1 - $cpu0) / $DURATION")" "$RSS" "$IDLE_AGENT_RSS" "$RSS" "$IDLE_CLI_RSS" "$CLI_RSS" "$QUIET_RSS" \
    "${DROPS:-0} packets dropped" "$CUT")$'\n'
done

echo
echo "## bench/mirror.sh — $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(bench_machine)"
echo "CLI JVM flags: $BENCH_CLI_FLAGS_TEXT"
if [[ $PIN == 1 ]]; then
  echo "PIN=1: pod server, agent and wrk on CPU 0; mirrord CLI and the local app on CPU 1"
elif [[ $PIN == 2 ]]; then
  echo "PIN=2: pod server and wrk on CPU 0; agent, mirrord CLI and the local app on CPU 1"
else
  echo "PIN=0: every process on both cores"
fi
echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency with a per-connection delay, keep-alive GET to the pod (JDK HttpServer); ${WARMUP}s warm-up first"
echo
echo "| delay  | run       | requests |   req/s |  p50 µs |  p99 µs | errs |"
echo "|--------|-----------|----------|---------|---------|---------|------|"
printf '%s' "$RESULTS"
echo
echo "| delay  | req/s (mirrored) | reached app | p50 ratio | p99 ratio | req/s ratio | agent CPU | agent RSS | RSS idle → peak: agent / CLI | agent RSS quiet | capture |"
echo "|--------|---------|-----------|-------|-------|-------|---------|----------|---------------------|---------|---------|"
printf '%s' "$SUMMARY"
echo
echo "ratios: mirrored / mean of the two baselines (goals: reached 100 %, p50 and p99 ratio <= 1.05); agent CPU in % of one core"
echo "RSS: VmRSS when the app listened, then VmHWM (peak) at the end of the mirrored run (goals: agent <= 64 MiB, CLI <= 96 MiB);"
echo "agent RSS quiet: VmRSS once the agent shrank its capture ring after the run (QUIET_WAIT=$QUIET_WAIT s at most)"
echo "capture: the kernel's drops of the ring (64 MiB at most, -Dmirrord.capture.ring.mib), summed from the agent's log"
