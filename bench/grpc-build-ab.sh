#!/usr/bin/env bash
# bench/grpc-build-ab.sh JAR_DIR_A [JAR_DIR_B] — two builds' HTTP-filtered gRPC paths side by side (issue 15). Not a test.
#
#   sudo bench/grpc-build-ab.sh /tmp/jars-main          B = this checkout's jars
#   sudo bench/grpc-build-ab.sh /tmp/jars-main /tmp/jars-branch
#                                       WHAT="unmatched matched" SECONDS_PER_RUN=4 ROUNDS=8 WARMUP=40 GRPC_PARALLEL=16
#
# Two pod servers (GrpcEchoApp on :50061 and :50051) and two filtering sessions on the same lab pod at once, one per
# build (each through bin/mirrord with MIRRORD_JAR_DIR: its own CLI, agent and AOT caches), both with the header filter
# '^x-dev: bench$': A filters :50061, B filters :50051. One GrpcBenchClient ab JVM then alternates between them (A B,
# then B A, one channel each, GRPC_PARALLEL calls in flight): unmatched calls (answered by the pod's servers) and matched
# ones (x-dev: bench, answered by each session's local app). Prints each round, the medians (ratio = B ÷ A) and the CPU
# time each build's agent used over the comparison. A JAR_DIR holds mirrord-cli.jar, mirrord-layer-agent.jar and
# mirrord-pod-agent.jar, and may hold cli.opts: that build's CLI JVM flags (MIRRORD_CLI_JAVA_OPTS).
source "$(dirname "$0")/lib.sh"

(($# >= 1)) || bench_die "usage: bench/grpc-build-ab.sh JAR_DIR_A [JAR_DIR_B]"
A_DIR=$(cd "$1" && pwd)
WHAT=${WHAT:-unmatched matched}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-4}
ROUNDS=${ROUNDS:-8}
WARMUP=${WARMUP:-40}
GRPC_PARALLEL=${GRPC_PARALLEL:-16}
for m in mirrord-cli mirrord-layer-agent mirrord-pod-agent; do
  [[ -f $A_DIR/$m.jar ]] || bench_die "$A_DIR has no $m.jar"
done

bench_build
bench_lab_up
if [[ $# -ge 2 ]]; then
  for m in mirrord-cli mirrord-layer-agent mirrord-pod-agent; do cp "$2/$m.jar" "$BENCH_WORK/jars/"; done
fi
bench_log "start-up caches of B built in $(bench_prepare_caches) s"
MIRRORD_JAR_DIR=$A_DIR "$BENCH_ROOT/bin/mirrord" --version >/dev/null 2>"$BENCH_WORK/prepare-a.err" \
  || bench_die "build A: bin/mirrord --version failed; see $BENCH_WORK/prepare-a.err"
for p in 50061 50051; do
  mapfile -t POD < <(bench_grpc_cmd GrpcEchoApp $p pod 3600 quiet)
  bench_start "pod-$p" pod "${POD[@]}" >/dev/null
  bench_wait_line "$BENCH_WORK/pod-$p.out" '^grpc.listening' 60
done
mapfile -t LOCAL_A < <(bench_grpc_cmd GrpcEchoApp 50062 local 3600 quiet)
mapfile -t LOCAL_B < <(bench_grpc_cmd GrpcEchoApp 50052 local 3600 quiet)
# a JAR_DIR's cli.opts, if any: that build's CLI JVM flags (bench_cli_opts, as bench/exit-ab.sh's ab_env)
cli_opts() { bench_cli_opts "$1" || echo "${MIRRORD_CLI_JAVA_OPTS:-}"; }
cli_a=$(MIRRORD_JAR_DIR=$A_DIR MIRRORD_CLI_JAVA_OPTS=$(cli_opts "$A_DIR") bench_mirrord filter-a --http-header-filter '^x-dev: bench$' -p 50062:50061 -- "${LOCAL_A[@]}")
bench_wait_line "$BENCH_WORK/filter-a.out" '^grpc.listening' 60
cli_b=$(MIRRORD_CLI_JAVA_OPTS=$(cli_opts "${2:-/nonexistent}") bench_mirrord filter-b --http-header-filter '^x-dev: bench$' -p 50052:50051 -- "${LOCAL_B[@]}")
bench_wait_line "$BENCH_WORK/filter-b.out" '^grpc.listening' 60
agent_a=$(bench_agent_pid "$cli_a") && agent_b=$(bench_agent_pid "$cli_b") || bench_die "an agent is missing"
tr '\0' ' ' <"/proc/$agent_a/cmdline" | grep -q -- "$A_DIR/mirrord-pod-agent.jar" || bench_die "A's agent is not A's jar"

declare -a SUMMARY
for what in $WHAT; do
  case $what in
    unmatched) a=50061:pod b=50051:pod ;;
    matched) a=50061:local:bench b=50051:local:bench ;;
    *) bench_die "unknown WHAT $what (unmatched, matched)" ;;
  esac
  ca=$(bench_cpu_seconds "$agent_a") cb=$(bench_cpu_seconds "$agent_b")
  mapfile -t CLIENT < <(bench_grpc_cmd GrpcBenchClient ab 198.18.0.10 "$SECONDS_PER_RUN" "$ROUNDS" "$WARMUP" \
    "$GRPC_PARALLEL" "$a" "$b")
  out=$(ip netns exec "$(bench_ns client)" "${CLIENT[@]}" 2>"$BENCH_WORK/ab-$what.err" | grep '^grpc-ab ') || true
  grep -q median_ratio <<<"$out" || bench_die "$what: no result (see $BENCH_WORK/ab-$what.err)"
  grep -q 'errors=0' <<<"$out" || bench_die "$what: calls failed: $(tail -1 <<<"$out")"
  sed "s/^/$what: /" <<<"$out" >&2
  cpu=$(awk -v a0="$ca" -v a1="$(bench_cpu_seconds "$agent_a")" -v b0="$cb" -v b1="$(bench_cpu_seconds "$agent_b")" \
    'BEGIN { printf "%.1f %.1f", a1 - a0, b1 - b0 }')
  SUMMARY+=("$what $(tail -1 <<<"$out" | sed 's/grpc-ab //') agent_cpu_s_a_b=${cpu/ /\/}")
done
bench_stop "$cli_a"
bench_stop "$cli_b"
echo
echo "A = $A_DIR, B = ${2:-this checkout}; $ROUNDS rounds of ${SECONDS_PER_RUN}s per side after ${WARMUP}s each"
printf '%s\n' "${SUMMARY[@]}"
