#!/usr/bin/env bash
# bench/steal.sh — steal mode against its baselines, in one run (issue 5's benchmark). Not a test: prints a table.
#
#   sudo bench/steal.sh                 DURATION=20 CONNECTIONS=16 THREADS=2 BULK_MIB=1024 PACED_CONNECTIONS=4
#                                       PACED_DELAY_MS=2 BULK_BLOCK=131072 to change the defaults
#
# The same local server (ShaHttpServerApp, a JDK HttpServer; GET answers "hello from local: GET /") is measured with
# wrk keep-alive, from the lab's client namespace where a path exists:
#   (a)  direct, loopback: wrk in the dev namespace -> 127.0.0.1:8080 (no network, no relay)
#   (a') direct, lab network: the same server run in the pod namespace, wrk client ns -> 198.18.0.10:8082 (one veth
#        hop each way, no relay) — the fair "direct" for (b) and (c), which cross the same network
#   (b)  two-hop socat relay chain: client ns -> socat in the pod ns (:8081) -> unix socket -> socat in the dev ns ->
#        127.0.0.1:8080: the shape of mirrord's path (agent in the pod ns, CLI in the dev ns, unix socket between)
#   (c)  mirrord steal: the server under `mirrord exec --tcp-steal` on 8080; wrk client ns -> 198.18.0.10:8080
#   (d)  HTTP filter, unmatched: (a')'s pod server stays; the same server under `mirrord exec --http-header-filter`
#        on 8082; wrk without the header: every request passes through the agent to the pod's server
#   (e)  HTTP filter, matched: as (d) with the header: every request goes to the local app (compare with (c))
#   (d0) one socat relay in the pod ns in front of (a')'s server: the floor of (d)'s shape (one user-space hop)
#   (f)-(i) h2c / gRPC: a gRPC-java server (GrpcEchoApp) and GrpcBenchClient (one channel = one HTTP/2 connection,
#        GRPC_PARALLEL unary calls in flight, closed loop, WARMUP then DURATION seconds): (f) the pod's server, no
#        mirrord; (g) the same server under `mirrord exec --http-header-filter`, calls without the header (passed
#        through to the pod's server); (h) calls with the header (replayed to the local app over h2c); (i) the local
#        server under --tcp-steal (unfiltered steal, compare with (h)). GRPC_ONLY=1 runs just these rows.
# The rows run one after another, minutes apart; a ratio of two of them moves with the machine's speed (2x within
# minutes on the 2-core VM), and the gRPC rows' short warm-up measures JIT warm-up more than the paths: issue 15's
# goal ratios are measured by bench/filter-ab.sh (both sides alternated, every session up at once, medians).
# Each is warmed up (WARMUP seconds of wrk) before it is measured. A closed-loop wrk saturates the two cores, so its p50
# is mostly queueing (Little's law: connections / req/s); the latency a path adds is also measured paced: for (a'), (b)
# and (c), PACED_CONNECTIONS connections that each wait PACED_DELAY_MS between requests (wrk's Lua delay()), far below
# saturation. Then 1 GiB bulk upload (socat with BULK_BLOCK-byte reads and writes into BulkSinkApp, which reads to EOF
# and reports bytes and ms from first byte to EOF): direct loopback, direct lab network, and stolen.
source "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-20}
WARMUP=${WARMUP:-5}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
BULK_MIB=${BULK_MIB:-1024}
BULK_BLOCK=${BULK_BLOCK:-131072}
PACED_CONNECTIONS=${PACED_CONNECTIONS:-4}
PACED_DELAY_MS=${PACED_DELAY_MS:-2}
# RSS is read 1 s after the app listened (the start's JIT arenas and buffers still held) and again SETTLE s after it,
# and right after (c)'s load and SETTLE s later: the settled readings are what an agent that idles on a node holds
# (malloc'd memory is given back every 5 s, agent.jvm.options' TrimNativeHeapInterval).
SETTLE=${SETTLE:-10}

bench_build
bench_need_wrk
bench_lab_up
bench_log "start-up caches of this jar copy built in $(bench_prepare_caches) s"
POD_IP=198.18.0.10
declare -A ROW
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }

# h2c / gRPC rows (f)-(i), see the header.
GRPC_PARALLEL=${GRPC_PARALLEL:-16}
# CPU per request or call of the CLI and the agent: while CPU_PIDS="CLI AGENT" is set, grpc_run and wrk_run set
# CPU[LABEL]="CLI_US AGENT_US", their user+system CPU over the measured run (after the warm-up) / its requests
declare -A CPU
CPU_PIDS=""
# cpu_sample -> the user+system CPU seconds of each of CPU_PIDS, space-separated
cpu_sample() {
  for p in $CPU_PIDS; do bench_cpu_seconds "$p"; done | tr '\n' ' '
}
# cpu_per LABEL C0 C1 UNIT: CPU[LABEL] from the samples before and after the measured run of ROW[LABEL]
cpu_per() {
  CPU[$1]=$(awk -v a="$2" -v b="$3" -v n="${ROW[$1]%% *}" 'BEGIN {
    split(a, x, " "); split(b, y, " "); printf "%.0f %.0f", (y[1] - x[1]) * 1e6 / n, (y[2] - x[2]) * 1e6 / n }')
  bench_log "$1: CPU per $4 ${CPU[$1]} (cli_us agent_us)"
}
# cli_and_agent CLI -> "CLI AGENT" for CPU_PIDS
cli_and_agent() {
  echo "$1 $(bench_agent_pid "$1" || echo "$1")"
}
# grpc_run LABEL EXPECT [X_DEV] -> ROW[LABEL]="CALLS RPS P50 P99 ERRORS" (and CPU[LABEL], see CPU_PIDS)
grpc_run() {
  local label=$1 expect=$2 out c0 c1 sampler=""
  local -a client
  mapfile -t client < <(bench_grpc_cmd GrpcBenchClient "$POD_IP" 50051 "$DURATION" "$WARMUP" "$GRPC_PARALLEL" "$expect" "${@:3}")
  if [[ -n $CPU_PIDS ]]; then
    (sleep "$WARMUP"; cpu_sample >"$BENCH_WORK/cpu0-$label") &
    sampler=$!
  fi
  out=$(ip netns exec "$(bench_ns client)" timeout $((DURATION + WARMUP + 60)) "${client[@]}" \
    2>"$BENCH_WORK/grpc-$label.err" | grep '^grpc-bench ') || true
  [[ -n $out ]] || bench_die "grpc $label: no result (see $BENCH_WORK/grpc-$label.err)"
  ROW[$label]=$(sed -E 's/.*calls=([0-9]+) rps=([0-9]+) p50_us=([0-9]+) p99_us=([0-9]+) errors=([0-9]+).*/\1 \2 \3 \4 \5/' <<<"$out")
  bench_log "$label: ${ROW[$label]} (calls rps p50_us p99_us errors)"
  if [[ -n $sampler ]]; then
    wait "$sampler" || true
    c0=$(cat "$BENCH_WORK/cpu0-$label" 2>/dev/null || true)
    c1=$(cpu_sample)
    cpu_per "$label" "$c0" "$c1" call
  fi
}
grpc_section() {
  local gpod cli
  local -a pod_server local_server
  mapfile -t pod_server < <(bench_grpc_cmd GrpcEchoApp 50051 pod 3600 quiet)
  mapfile -t local_server < <(bench_grpc_cmd GrpcEchoApp 50051 local 3600 quiet)
  gpod=$(bench_start grpc-pod pod "${pod_server[@]}")
  bench_wait_line "$BENCH_WORK/grpc-pod.out" '^grpc.listening' 60
  grpc_run f_grpc_direct pod
  cli=$(bench_mirrord grpc-filter --http-header-filter '^x-dev: bench$' -- "${local_server[@]}")
  bench_wait_line "$BENCH_WORK/grpc-filter.out" '^grpc.listening' 60
  grpc_run g_grpc_unmatched pod
  CPU_PIDS=$(cli_and_agent "$cli")
  grpc_run h_grpc_matched local bench
  CPU_PIDS=""
  bench_stop "$cli"
  cli=$(bench_mirrord grpc-steal --tcp-steal -- "${local_server[@]}")
  bench_wait_line "$BENCH_WORK/grpc-steal.out" '^grpc.listening' 60
  CPU_PIDS=$(cli_and_agent "$cli")
  grpc_run i_grpc_steal local
  CPU_PIDS=""
  bench_stop "$cli"
  bench_stop "$gpod" TERM
}
grpc_results() {
  read -r _ F_RPS F_P50 F_P99 F_ERR <<<"${ROW[f_grpc_direct]}"
  read -r _ G_RPS G_P50 G_P99 G_ERR <<<"${ROW[g_grpc_unmatched]}"
  read -r _ H_RPS H_P50 H_P99 H_ERR <<<"${ROW[h_grpc_matched]}"
  read -r _ I_RPS I_P50 I_P99 I_ERR <<<"${ROW[i_grpc_steal]}"
  echo
  echo "h2c / gRPC: GrpcBenchClient, one channel (one HTTP/2 connection), $GRPC_PARALLEL unary calls in flight, closed loop,"
  echo "${DURATION}s after a ${WARMUP}s warm-up; server: gRPC-java GrpcEchoApp (grpc-netty-shaded); --http-header-filter '^x-dev: bench$'"
  printf '| %-36s | %9s | %9s | %9s | %6s |\n' "path" "calls/s" "p50 µs" "p99 µs" "errors"
  printf '|%s|%s|%s|%s|%s|\n' "--------------------------------------" "-----------" "-----------" "-----------" "--------"
  printf '| %-36s | %9s | %9s | %9s | %6s |\n' "(f) gRPC direct, lab network (pod ns)" "$F_RPS" "$F_P50" "$F_P99" "$F_ERR"
  printf '| %-36s | %9s | %9s | %9s | %6s |\n' "(g) filter, unmatched, to the pod" "$G_RPS" "$G_P50" "$G_P99" "$G_ERR"
  printf '| %-36s | %9s | %9s | %9s | %6s |\n' "(h) filter, matched, to the local app" "$H_RPS" "$H_P50" "$H_P99" "$H_ERR"
  printf '| %-36s | %9s | %9s | %9s | %6s |\n' "(i) unfiltered steal (--tcp-steal)" "$I_RPS" "$I_P50" "$I_P99" "$I_ERR"
  echo "gRPC filter, unmatched / (f) direct calls/s: $(ratio "$G_RPS" "$F_RPS") (goal >= 0.8); added p50 $((G_P50 - F_P50)) µs"
  echo "gRPC filter, matched / (i) unfiltered steal calls/s: $(ratio "$H_RPS" "$I_RPS") (goal >= 0.8); p50 $H_P50 µs vs $I_P50 µs"
  echo "CPU per call (µs, user+system, after the warm-up): (h) matched: CLI ${CPU[h_grpc_matched]% *}, agent ${CPU[h_grpc_matched]#* }; (i) steal: CLI ${CPU[i_grpc_steal]% *}, agent ${CPU[i_grpc_steal]#* }"
}
if [[ ${GRPC_ONLY:-0} == 1 ]]; then
  grpc_section
  echo
  echo "## bench/steal.sh GRPC_ONLY=1 — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "machine: $(bench_machine)"
  echo "CLI JVM flags: ${BENCH_CLI_FLAGS[*]}"
  grpc_results
  exit 0
fi

# wrk_run LABEL NODE URL [WRK ARGS...] -> ROW[LABEL]="REQUESTS RPS P50 P99 ERRORS" (and CPU[LABEL], see CPU_PIDS)
wrk_run() {
  local label=$1 node=$2 url=$3 c0 c1
  ip netns exec "$(bench_ns "$node")" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "${@:4}" "$url" >/dev/null 2>&1 || true
  c0=$(cpu_sample)
  ip netns exec "$(bench_ns "$node")" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "${@:4}" "$url" \
    >"$BENCH_WORK/wrk-$label.txt" 2>&1
  ROW[$label]=$(bench_parse_wrk <"$BENCH_WORK/wrk-$label.txt")
  bench_log "$label: ${ROW[$label]} (requests rps p50_us p99_us errors)"
  if [[ -n $CPU_PIDS ]]; then
    c1=$(cpu_sample)
    cpu_per "$label" "$c0" "$c1" request
  fi
}

# wrk_paced LABEL NODE URL [WRK ARGS...] -> ROW[LABEL]: PACED_CONNECTIONS connections, PACED_DELAY_MS between requests
wrk_paced() {
  local label=$1 node=$2 url=$3 script="$BENCH_WORK/paced.lua"
  printf 'function delay()\n  return %s\nend\n' "$PACED_DELAY_MS" >"$script"
  ip netns exec "$(bench_ns "$node")" wrk -t1 -c"$PACED_CONNECTIONS" -d"${DURATION}s" --latency -s "$script" "${@:4}" "$url" \
    >"$BENCH_WORK/wrk-$label.txt" 2>&1
  ROW[$label]=$(bench_parse_wrk <"$BENCH_WORK/wrk-$label.txt")
  bench_log "$label: ${ROW[$label]} (requests rps p50_us p99_us errors)"
}

# bulk_run LABEL NODE HOST PORT -> BULK[LABEL]="BYTES MILLIS MBPS"
declare -A BULK
bulk_run() {
  local label=$1 node=$2 host=$3 port=$4 out
  out=$(ip netns exec "$(bench_ns "$node")" bash -c \
    "head -c $((BULK_MIB * 1024 * 1024)) /dev/zero | socat -b $BULK_BLOCK -t 120 -T 120 - TCP:$host:$port" 2>"$BENCH_WORK/bulk-$label.err")
  local bytes millis
  bytes=$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' <<<"$out")
  millis=$(sed -n 's/.*millis=\([0-9]*\).*/\1/p' <<<"$out")
  [[ -n $bytes && $bytes -eq $((BULK_MIB * 1024 * 1024)) ]] || bench_die "bulk $label: sink answered [$out]"
  BULK[$label]="$bytes $millis $(awk -v b="$bytes" -v m="$millis" 'BEGIN { printf "%.0f", b / 1048576 / (m / 1000) }')"
  bench_log "bulk $label: ${BULK[$label]} (bytes ms MiB/s)"
}

mapfile -t SERVER < <(bench_app_cmd ShaHttpServerApp 8080 local 3600 quiet)
mapfile -t POD_SERVER < <(bench_app_cmd ShaHttpServerApp 8082 local 3600 quiet)

# (a) and (b): the plain server in the dev namespace.
plain=$(bench_start server-plain local "${SERVER[@]}")
bench_wait_line "$BENCH_WORK/server-plain.out" '^sha-http.listening' 30
wrk_run a_direct_loopback local "http://127.0.0.1:8080/"
# (a') the same server in the pod namespace, reached over the lab network.
bench_start server-pod pod "${POD_SERVER[@]}" >/dev/null
bench_wait_line "$BENCH_WORK/server-pod.out" '^sha-http.listening' 30
wrk_run a2_direct_network client "http://$POD_IP:8082/"
wrk_paced a2_paced client "http://$POD_IP:8082/"
# (b) socat chain: pod ns TCP :8081 -> unix socket -> dev ns -> 127.0.0.1:8080
SOCK="$BENCH_WORK/relay.sock"
bench_start relay-local local socat "UNIX-LISTEN:$SOCK,fork,mode=600" TCP:127.0.0.1:8080 >/dev/null
for _ in $(seq 50); do [[ -S $SOCK ]] && break; sleep 0.1; done
bench_start relay-pod pod socat TCP-LISTEN:8081,fork,reuseaddr,nodelay "UNIX-CONNECT:$SOCK" >/dev/null
sleep 0.5
wrk_run b_socat_chain client "http://$POD_IP:8081/"
wrk_paced b_paced client "http://$POD_IP:8081/"
bench_stop "$plain" TERM

# (c) mirrord steal.
cli=$(bench_mirrord steal --tcp-steal -- "${SERVER[@]}")
bench_wait_line "$BENCH_WORK/steal.out" '^sha-http.listening' 60
agent=$(bench_agent_pid "$cli") || bench_die "no agent under the CLI ($cli)"
sleep 1
read -r IDLE_AGENT_RSS _ <<<"$(bench_rss "$agent")"
read -r IDLE_CLI_RSS _ <<<"$(bench_rss "$cli")"
sleep $((SETTLE > 1 ? SETTLE - 1 : 0))
read -r SETTLED_AGENT_RSS _ <<<"$(bench_rss "$agent")"
read -r SETTLED_CLI_RSS _ <<<"$(bench_rss "$cli")"
cpu0=$(bench_cpu_seconds "$agent")
CPU_PIDS="$cli $agent"
wrk_run c_mirrord_steal client "http://$POD_IP:8080/"
CPU_PIDS=""
wrk_paced c_paced client "http://$POD_IP:8080/"
AGENT_CPU=$(awk -v a="$cpu0" -v b="$(bench_cpu_seconds "$agent")" -v t="$((WARMUP + DURATION))" \
  'BEGIN { printf "%.0f %% of one core", 100 * (b - a) / t }')
read -r LOAD_AGENT_RSS AGENT_RSS <<<"$(bench_rss "$agent")"
read -r LOAD_CLI_RSS CLI_RSS <<<"$(bench_rss "$cli")"
sleep "$SETTLE"
read -r LOAD_SETTLED_AGENT_RSS _ <<<"$(bench_rss "$agent")"
read -r LOAD_SETTLED_CLI_RSS _ <<<"$(bench_rss "$cli")"
bench_stop "$cli"

# (d) and (e) HTTP-filtered steal (issue 15): the same server under `mirrord exec --http-header-filter` on the pod's
# port 8082, where the pod's own server of (a') keeps running. (d) requests without the header: every one is
# unmatched and passed through the agent to the pod's server — compare with (a'), no mirrord. (e) requests with
# the header: every one is matched and replayed to the local app — compare with (c), unfiltered steal.
# (d0) the floor of (d)'s shape: one socat relay in the pod ns (TCP :8085 -> the pod's server on 127.0.0.1:8082).
d0=$(bench_start relay-one pod socat TCP-LISTEN:8085,fork,reuseaddr,nodelay TCP:127.0.0.1:8082,nodelay)
sleep 0.5
wrk_run d0_socat_one_hop client "http://$POD_IP:8085/"
wrk_paced d0_paced client "http://$POD_IP:8085/"
bench_stop "$d0" TERM
mapfile -t FILTER_SERVER < <(bench_app_cmd ShaHttpServerApp 8082 filtered 3600 quiet)
cli=$(bench_mirrord filter --http-header-filter '^x-dev: bench$' -- "${FILTER_SERVER[@]}")
bench_wait_line "$BENCH_WORK/filter.out" '^sha-http.listening' 60
wrk_run d_filter_unmatched client "http://$POD_IP:8082/"
wrk_paced d_paced client "http://$POD_IP:8082/"
CPU_PIDS=$(cli_and_agent "$cli")
wrk_run e_filter_matched client "http://$POD_IP:8082/" -H "X-Dev: bench"
CPU_PIDS=""
wrk_paced e_paced client "http://$POD_IP:8082/" -H "X-Dev: bench"
grep -q 'hello from filtered' <(ip netns exec "$(bench_ns client)" curl -s -H 'X-Dev: bench' "http://$POD_IP:8082/") \
  || bench_die "(e): a request with the header was not answered by the local app"
grep -q 'hello from local' <(ip netns exec "$(bench_ns client)" curl -s "http://$POD_IP:8082/") \
  || bench_die "(d): a request without the header was not answered by the pod's server"
bench_stop "$cli"

grpc_section

# Bulk: direct loopback, direct lab network, stolen.
mapfile -t SINK < <(bench_app_cmd BulkSinkApp 9000 3600)
sink=$(bench_start sink-local local "${SINK[@]}")
bench_wait_line "$BENCH_WORK/sink-local.out" '^bulk.listening' 30
bulk_run direct_loopback local 127.0.0.1 9000
bulk_run direct_loopback local 127.0.0.1 9000
# The socat chain of (b) in front of the same sink: what the shape of the path costs with the least work per byte.
BSOCK="$BENCH_WORK/bulk-relay.sock"
bl=$(bench_start bulk-relay-local local socat -b "$BULK_BLOCK" "UNIX-LISTEN:$BSOCK,fork,mode=600" TCP:127.0.0.1:9000)
for _ in $(seq 50); do [[ -S $BSOCK ]] && break; sleep 0.1; done
bp=$(bench_start bulk-relay-pod pod socat -b "$BULK_BLOCK" TCP-LISTEN:8083,fork,reuseaddr "UNIX-CONNECT:$BSOCK")
sleep 0.5
bulk_run socat_chain client "$POD_IP" 8083
bulk_run socat_chain client "$POD_IP" 8083
bench_stop "$bp" TERM
bench_stop "$bl" TERM
bench_stop "$sink" TERM
bench_start sink-pod pod "${SINK[@]}" >/dev/null
bench_wait_line "$BENCH_WORK/sink-pod.out" '^bulk.listening' 30
bulk_run direct_network client "$POD_IP" 9000
bulk_run direct_network client "$POD_IP" 9000
# The pod's own sink keeps listening on 9000: steal takes the port over.
cli=$(bench_mirrord steal-bulk --tcp-steal -- "${SINK[@]}")
bench_wait_line "$BENCH_WORK/steal-bulk.out" '^bulk.listening' 60
bulk_run mirrord_steal client "$POD_IP" 9000
# CPU per GiB of each relay process during the second (measured) run: robust where a busy machine blurs MiB/s.
agent=$(bench_agent_pid "$cli") || bench_die "no agent under the CLI ($cli)"
app=$(pgrep -P "$cli" | while read -r p; do [[ $p != "$agent" ]] && tr '\0' ' ' <"/proc/$p/cmdline" | grep -q BulkSinkApp && echo "$p"; done | head -1)
c0="$(bench_cpu_seconds "$agent") $(bench_cpu_seconds "$cli") $(bench_cpu_seconds "${app:-$cli}")"
bulk_run mirrord_steal client "$POD_IP" 9000
c1="$(bench_cpu_seconds "$agent") $(bench_cpu_seconds "$cli") $(bench_cpu_seconds "${app:-$cli}")"
BULK_CPU=$(awk -v a="$c0" -v b="$c1" -v g="$(awk -v m="$BULK_MIB" 'BEGIN { print m / 1024 }')" 'BEGIN {
  split(a, x, " "); split(b, y, " ")
  printf "agent %.2f s, CLI %.2f s, app %.2f s", (y[1] - x[1]) / g, (y[2] - x[2]) / g, (y[3] - x[3]) / g }')
bench_stop "$cli"

# Results.
read -r _ A_RPS A_P50 A_P99 A_ERR <<<"${ROW[a_direct_loopback]}"
read -r _ N_RPS N_P50 N_P99 N_ERR <<<"${ROW[a2_direct_network]}"
read -r _ B_RPS B_P50 B_P99 B_ERR <<<"${ROW[b_socat_chain]}"
read -r _ C_RPS C_P50 C_P99 C_ERR <<<"${ROW[c_mirrord_steal]}"
read -r _ NP_RPS NP_P50 NP_P99 NP_ERR <<<"${ROW[a2_paced]}"
read -r _ BP_RPS BP_P50 BP_P99 BP_ERR <<<"${ROW[b_paced]}"
read -r _ CP_RPS CP_P50 CP_P99 CP_ERR <<<"${ROW[c_paced]}"
echo
echo "## bench/steal.sh — $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(bench_machine)"
echo "CLI JVM flags: $BENCH_CLI_FLAGS_TEXT"
echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency (after a ${WARMUP}s warm-up), keep-alive GET; server: JDK HttpServer (ShaHttpServerApp)"
echo
printf '| %-36s | %9s | %9s | %9s | %6s |\n' "path" "req/s" "p50 µs" "p99 µs" "errors"
printf '|%s|%s|%s|%s|%s|\n' "--------------------------------------" "-----------" "-----------" "-----------" "--------"
printf '| %-36s | %9s | %9s | %9s | %6s |\n' "(a) direct, loopback (dev ns)" "$A_RPS" "$A_P50" "$A_P99" "$A_ERR"
printf '| %-36s | %9s | %9s | %9s | %6s |\n' "(a') direct, lab network (pod ns)" "$N_RPS" "$N_P50" "$N_P99" "$N_ERR"
printf '| %-36s | %9s | %9s | %9s | %6s |\n' "(b) socat chain, 2 hops" "$B_RPS" "$B_P50" "$B_P99" "$B_ERR"
printf '| %-36s | %9s | %9s | %9s | %6s |\n' "(c) mirrord steal" "$C_RPS" "$C_P50" "$C_P99" "$C_ERR"
echo
echo "steal / socat chain req/s: $(ratio "$C_RPS" "$B_RPS") (goal >= 1.0)"
echo "steal added p50 vs (a'): $((C_P50 - N_P50)) µs, vs (a): $((C_P50 - A_P50)) µs (goal <= 150 µs)"
echo "steal p99 / (a') p99: $(ratio "$C_P99" "$N_P99")"
echo
echo "paced: wrk -t1 -c$PACED_CONNECTIONS -d${DURATION}s, ${PACED_DELAY_MS} ms between requests on each connection"
printf '| %-36s | %9s | %9s | %9s | %6s |\n' "path (paced)" "req/s" "p50 µs" "p99 µs" "errors"
printf '|%s|%s|%s|%s|%s|\n' "--------------------------------------" "-----------" "-----------" "-----------" "--------"
printf '| %-36s | %9s | %9s | %9s | %6s |\n' "(a') direct, lab network (pod ns)" "$NP_RPS" "$NP_P50" "$NP_P99" "$NP_ERR"
printf '| %-36s | %9s | %9s | %9s | %6s |\n' "(b) socat chain, 2 hops" "$BP_RPS" "$BP_P50" "$BP_P99" "$BP_ERR"
printf '| %-36s | %9s | %9s | %9s | %6s |\n' "(c) mirrord steal" "$CP_RPS" "$CP_P50" "$CP_P99" "$CP_ERR"
echo "paced: steal added p50 vs (a'): $((CP_P50 - NP_P50)) µs (goal <= 150 µs); socat chain added: $((BP_P50 - NP_P50)) µs"
echo "agent during (c) (warm-up + run): $AGENT_CPU, peak RSS $AGENT_RSS MiB"
echo
echo "| RSS, MiB (goals: agent <= 64, CLI <= 96) | agent | CLI |"
echo "|---|---|---|"
echo "| idle (1 s after the app listened) | $IDLE_AGENT_RSS | $IDLE_CLI_RSS |"
echo "| idle, settled ($SETTLE s after the app listened) | $SETTLED_AGENT_RSS | $SETTLED_CLI_RSS |"
echo "| after the wrk runs of (c) (closed loop + paced) | $LOAD_AGENT_RSS | $LOAD_CLI_RSS |"
echo "| after the wrk runs, settled ($SETTLE s later) | $LOAD_SETTLED_AGENT_RSS | $LOAD_SETTLED_CLI_RSS |"
echo "| peak (VmHWM) over the session | $AGENT_RSS | $CLI_RSS |"
echo
printf '| %-30s | %12s | %8s | %8s |\n' "${BULK_MIB} MiB upload" "bytes" "ms" "MiB/s"
printf '|%s|%s|%s|%s|\n' "--------------------------------" "--------------" "----------" "----------"
for k in direct_loopback direct_network socat_chain mirrord_steal; do
  read -r by ms mbps <<<"${BULK[$k]}"
  printf '| %-30s | %12s | %8s | %8s |\n' "$k (last of 2)" "$by" "$ms" "$mbps"
done
read -r _ _ BL <<<"${BULK[direct_loopback]}"
read -r _ _ BN <<<"${BULK[direct_network]}"
read -r _ _ BS <<<"${BULK[mirrord_steal]}"
read -r _ _ BC <<<"${BULK[socat_chain]}"
echo
echo "CPU per GiB stolen (user+system): $BULK_CPU"
echo "bulk socat chain / direct network: $(ratio "$BC" "$BN"), / direct loopback: $(ratio "$BC" "$BL"); steal / socat chain: $(ratio "$BS" "$BC")"
echo "bulk steal / direct network: $(ratio "$BS" "$BN"), steal / direct loopback: $(ratio "$BS" "$BL") (goal >= 0.6)"
read -r _ D_RPS D_P50 D_P99 D_ERR <<<"${ROW[d_filter_unmatched]}"
read -r _ E_RPS E_P50 E_P99 E_ERR <<<"${ROW[e_filter_matched]}"
read -r _ DP_RPS DP_P50 DP_P99 DP_ERR <<<"${ROW[d_paced]}"
read -r _ D0_RPS D0_P50 D0_P99 D0_ERR <<<"${ROW[d0_socat_one_hop]}"
read -r _ D0P_RPS D0P_P50 D0P_P99 D0P_ERR <<<"${ROW[d0_paced]}"
read -r _ EP_RPS EP_P50 EP_P99 EP_ERR <<<"${ROW[e_paced]}"
echo
echo "HTTP filter (--http-header-filter '^x-dev: bench$' on the pod's port 8082, where (a')'s server keeps running)"
printf '| %-36s | %9s | %9s | %9s | %6s |\n' "path" "req/s" "p50 µs" "p99 µs" "errors"
printf '|%s|%s|%s|%s|%s|\n' "--------------------------------------" "-----------" "-----------" "-----------" "--------"
printf '| %-36s | %9s | %9s | %9s | %6s |\n' "(d0) one socat hop to the pod's server" "$D0_RPS" "$D0_P50" "$D0_P99" "$D0_ERR"
printf '| %-36s | %9s | %9s | %9s | %6s |\n' "(d0) paced" "$D0P_RPS" "$D0P_P50" "$D0P_P99" "$D0P_ERR"
printf '| %-36s | %9s | %9s | %9s | %6s |\n' "(d) unmatched, passed to the pod" "$D_RPS" "$D_P50" "$D_P99" "$D_ERR"
printf '| %-36s | %9s | %9s | %9s | %6s |\n' "(d) paced" "$DP_RPS" "$DP_P50" "$DP_P99" "$DP_ERR"
printf '| %-36s | %9s | %9s | %9s | %6s |\n' "(e) matched, to the local app" "$E_RPS" "$E_P50" "$E_P99" "$E_ERR"
printf '| %-36s | %9s | %9s | %9s | %6s |\n' "(e) paced" "$EP_RPS" "$EP_P50" "$EP_P99" "$EP_ERR"
echo "filter, unmatched / (a') direct network req/s: $(ratio "$D_RPS" "$N_RPS") (goal >= 0.8); added p50: closed-loop $((D_P50 - N_P50)) µs, paced $((DP_P50 - NP_P50)) µs (goal <= 300 µs)"
echo "the shape's floor, one socat hop / (a') req/s: $(ratio "$D0_RPS" "$N_RPS"), added p50 paced $((D0P_P50 - NP_P50)) µs; filter unmatched / one socat hop: $(ratio "$D_RPS" "$D0_RPS")"
echo "filter, matched / (c) unfiltered steal req/s: $(ratio "$E_RPS" "$C_RPS") (goal >= 0.8); paced p50 $EP_P50 µs vs steal $CP_P50 µs"
echo "CPU per request (µs, user+system, closed loop): (e) matched: CLI ${CPU[e_filter_matched]% *}, agent ${CPU[e_filter_matched]#* }; (c) steal: CLI ${CPU[c_mirrord_steal]% *}, agent ${CPU[c_mirrord_steal]#* }"
grpc_results
