#!/usr/bin/env bash
# bench/grpc-cost.sh — what one gRPC call costs each process on each HTTP-filtered-steal path (issue 15). Not a test.
#
#   sudo bench/grpc-cost.sh             PATHS="steal matched unmatched" SECONDS_PER_RUN=20 WARMUP=40 GRPC_PARALLEL=16
#                                       PROFILE=1 also records a JFR CPU-time profile of the agent and the CLI
#
# For each path, one mirrord session alone on the lab pod and one GrpcBenchClient (GRPC_PARALLEL unary calls in flight
# on one channel) driving it for WARMUP then SECONDS_PER_RUN seconds; over SECONDS_PER_RUN - 4 seconds of the measured
# part, the user+system CPU time of the client, the server (the local app, or the pod's server for unmatched), the
# agent and the CLI (/proc/PID/stat), each divided by the calls of that window (the client's calls/s × its length):
#   steal      --tcp-steal of :50053, the local GrpcEchoApp answers ("local")
#   matched    --http-header-filter '^x-dev: bench$' of :50051, calls with x-dev: bench, the local app answers
#   unmatched  the same session, calls without the header: the pod's GrpcEchoApp on :50051 answers ("pod")
# On this 2-core machine the closed-loop calls/s of a path follow the sum of those costs (docs/PERFORMANCE.md, "what a
# call costs each process"), so the ratios of bench/filter-ab.sh can be read from them.
source "$(dirname "$0")/lib.sh"

PATHS=${PATHS:-steal matched unmatched}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-20}
WARMUP=${WARMUP:-40}
GRPC_PARALLEL=${GRPC_PARALLEL:-16}
POD_IP=198.18.0.10

bench_build
bench_lab_up
bench_log "start-up caches of this jar copy built in $(bench_prepare_caches) s"
mapfile -t POD_GRPC < <(bench_grpc_cmd GrpcEchoApp 50051 pod 3600 quiet)
POD_SERVER=$(bench_start pod-grpc pod "${POD_GRPC[@]}")
bench_wait_line "$BENCH_WORK/pod-grpc.out" '^grpc.listening' 60

declare -a ROWS
for path in $PATHS; do
  port=50051 expect=local xdev=bench
  case $path in
    steal) port=50053; flags=(--tcp-steal); app_port=50053 ;;
    matched) flags=(--http-header-filter '^x-dev: bench$' -p 50052:50051); app_port=50052 ;;
    unmatched) flags=(--http-header-filter '^x-dev: bench$' -p 50052:50051); app_port=50052; expect=pod; xdev="" ;;
    *) bench_die "unknown path $path (steal, matched, unmatched)" ;;
  esac
  mapfile -t APP < <(bench_grpc_cmd GrpcEchoApp "$app_port" local 3600 quiet)
  cli=$(bench_mirrord "cost-$path" "${flags[@]}" -- "${APP[@]}")
  bench_wait_line "$BENCH_WORK/cost-$path.out" '^grpc.listening' 60
  agent=$(bench_agent_pid "$cli") || bench_die "no agent under CLI $cli"
  app=$(pgrep -f "java.*GrpcEchoApp $app_port local" | while read -r p; do
    tr '\0' ' ' <"/proc/$p/cmdline" | grep -q mirrord-cli || echo "$p"; done | tail -1)
  server=$app
  [[ $path == unmatched ]] && server=$POD_SERVER
  mapfile -t CLIENT < <(bench_grpc_cmd GrpcBenchClient "$POD_IP" "$port" "$SECONDS_PER_RUN" "$WARMUP" "$GRPC_PARALLEL" \
    "$expect" $xdev)
  client=$(bench_start "client-$path" client "${CLIENT[@]}")
  sleep $((WARMUP + 2))
  window=$((SECONDS_PER_RUN - 4))
  declare -A c0=()
  for p in $client $server $agent $cli; do c0[$p]=$(bench_cpu_seconds "$p"); done
  if [[ ${PROFILE:-} == 1 ]]; then
    for p in $agent $cli; do
      "$BENCH_JAVA_HOME/bin/jcmd" "$p" JFR.start name=cost jdk.CPUTimeSample#enabled=true \
        jdk.CPUTimeSample#throttle=2ms duration="${window}s" filename="$BENCH_WORK/cost-$path-$p.jfr" >/dev/null &
    done
  fi
  sleep "$window"
  declare -A c1=()
  for p in $client $server $agent $cli; do c1[$p]=$(bench_cpu_seconds "$p"); done
  for ((i = 0; i < 60; i++)); do grep -q '^grpc-bench' "$BENCH_WORK/client-$path.out" && break; sleep 1; done
  result=$(grep '^grpc-bench' "$BENCH_WORK/client-$path.out") || bench_die "no result from the $path client"
  grep -q 'errors=0' <<<"$result" || bench_die "$path: calls failed: $result"
  rps=$(sed -n 's/.* rps=\([0-9]*\).*/\1/p' <<<"$result")
  row="$path $rps"
  for p in $client $server $agent $cli; do
    row+=" $(awk -v a="${c0[$p]}" -v b="${c1[$p]}" -v s="$window" -v r="$rps" 'BEGIN { printf "%.0f", (b - a) * 1e6 / (s * r) }')"
  done
  ROWS+=("$row")
  bench_log "$path: $result; µs per call: client server agent cli = ${row#* * }"
  bench_stop "$cli"
  sleep 1
done

echo
echo "gRPC, $GRPC_PARALLEL unary calls in flight on one channel, ${WARMUP}s warm-up; CPU over ${window}s of each run"
echo
echo "| path | calls/s | client µs/call | server µs/call | agent µs/call | CLI µs/call | sum |"
echo "|---|---|---|---|---|---|---|"
for row in "${ROWS[@]}"; do
  read -r path rps cl sv ag cli <<<"$row"
  echo "| $path | $rps | $cl | $sv | $ag | $cli | $((cl + sv + ag + cli)) |"
done
[[ ${PROFILE:-} == 1 ]] && echo && echo "profiles: $BENCH_WORK/cost-*.jfr (jfr print --events jdk.CPUTimeSample)"
