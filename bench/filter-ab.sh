#!/usr/bin/env bash
# bench/filter-ab.sh — issue 15's ratios as interleaved A/Bs. Not a test: prints each round and the medians.
#
#   sudo bench/filter-ab.sh             ROUNDS=6 SECONDS_PER_RUN=4 WARMUP=10 GRPC_WARMUP=30 CONNECTIONS=16 THREADS=2
#                                       PACED_CONNECTIONS=4 PACED_DELAY_MS=2 GRPC_PARALLEL=16 to change the defaults
#
# bench/steal.sh measures its rows one after another, minutes apart; on this 2-core VM the machine's speed moves by 2×
# within minutes, and a ratio of two rows taken at different times moves with it. Here every server and every mirrord
# session of a comparison is up at once, and the two sides of each ratio run alternately (A B, then B A, …) for
# ROUNDS rounds of SECONDS_PER_RUN each, after a warm-up of each side; a round's ratio compares two runs seconds apart.
# The pairs (the goals of issue 15):
#   HTTP/1 (wrk keep-alive GET, ShaHttpServerApp):
#     (d) ÷ (a')  unmatched requests through the filter to the pod's server on :8082 vs the same server with no mirrord
#                 (a second pod server on :8084), req/s closed loop (goal >= 0.8) and paced p50 added (goal <= 300 µs)
#     (d0) ÷ (a') the floor of (d)'s shape: one socat relay in the pod ns (:8085 -> the direct pod server) — a
#                 user-space hop with the least work per request, no HTTP parsing
#     (e) ÷ (c)   matched requests (X-Dev: bench) replayed to the local app vs unfiltered --tcp-steal of :8080
#                 (goal >= 0.8)
#   gRPC (GrpcBenchClient ab: one JVM, one channel per side, GRPC_PARALLEL unary calls in flight, GrpcEchoApp):
#     (g) ÷ (f)   unmatched calls through the filter to the pod's server on :50051 vs a pod server on :50054
#     (g0) ÷ (f)  the floor of (g)'s shape: one socat relay in the pod ns (:50055 -> the pod server on :50054)
#     (h) ÷ (i)   matched calls (x-dev: bench) replayed to the local app vs unfiltered --tcp-steal of :50053
#                 (goal >= 0.8)
# With NGHTTPX=1 (the default), what the same shapes cost a proxy that parses HTTP, in C (nghttp2's nghttpx, one
# thread; bench_nghttpx in bench/lib.sh), side by side with the goals' ratios:
#     (d1) ÷ (a') one nghttpx hop in the pod ns (:8086, HTTP/1 parsed and sent on) in front of the direct pod server
#     (e1) ÷ (e0) two nghttpx hops (pod ns :8087 -> unix socket -> local ns) vs two socat hops of the same shape (:8088),
#                 both in front of (c)'s local app: what terminating HTTP at both hops costs against relaying bytes
#     (g1) ÷ (f)  one nghttpx hop in the pod ns (:50057, h2c terminated and re-encoded) in front of the pod server
#     (h1) ÷ (h0) two nghttpx hops (:50058) vs two socat hops (:50059), in front of (i)'s local app
#   (e) and (h) terminate HTTP twice too (in the agent and in the CLI), and (c) and (i) relay bytes through two hops.
# The filtering sessions' apps listen on other local ports (-p LOCAL:REMOTE) so that all four sessions run at once.
# gRPC's warm-up is longer: the matched path (HTTP/2 codecs in the agent and the CLI) reaches its steady speed only
# after ~30-40 s of load on this machine (docs/PERFORMANCE.md, 2026-12-06 03:40).
source "$(dirname "$0")/lib.sh"

ROUNDS=${ROUNDS:-6}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-4}
WARMUP=${WARMUP:-10}
GRPC_WARMUP=${GRPC_WARMUP:-30}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
PACED_CONNECTIONS=${PACED_CONNECTIONS:-4}
PACED_DELAY_MS=${PACED_DELAY_MS:-2}
GRPC_PARALLEL=${GRPC_PARALLEL:-16}
NGHTTPX=${NGHTTPX:-1}

bench_build
bench_need_wrk
[[ $NGHTTPX == 1 ]] && bench_need_nghttpx
bench_lab_up
bench_log "start-up caches of this jar copy built in $(bench_prepare_caches) s"
POD_IP=198.18.0.10
PACED_LUA="$BENCH_WORK/paced.lua"
printf 'function delay()\n  return %s\nend\n' "$PACED_DELAY_MS" >"$PACED_LUA"

# wrk_once SECONDS PACED URL [WRK ARGS...] -> "RPS P50_US ERRORS" (PACED=1: PACED_CONNECTIONS connections with a delay)
wrk_once() {
  local seconds=$1 paced=$2 url=$3 out
  local -a shape=(-t"$THREADS" -c"$CONNECTIONS")
  [[ $paced == 1 ]] && shape=(-t1 -c"$PACED_CONNECTIONS" -s "$PACED_LUA")
  out=$(ip netns exec "$(bench_ns client)" wrk "${shape[@]}" -d"${seconds}s" --latency "${@:4}" "$url" 2>&1) || true
  bench_parse_wrk <<<"$out" | awk '{ print $2, $3, $5 }'
}

# http_ab NAME PACED URL_A ARGS_A URL_B ARGS_B: warm-up, then ROUNDS alternating rounds; prints one line per round
# and sets AB[NAME]="MEDIAN_RATIO_RPS MEDIAN_ADDED_P50 MEDIAN_A_RPS MEDIAN_B_RPS" (ratio = B ÷ A, added = B - A)
declare -A AB
http_ab() {
  local name=$1 paced=$2 url_a=$3 url_b=$5 r a b
  local -a args_a=() args_b=()
  [[ -n $4 ]] && args_a=(-H "$4")
  [[ -n $6 ]] && args_b=(-H "$6")
  wrk_once "$WARMUP" "$paced" "$url_a" "${args_a[@]}" >/dev/null
  wrk_once "$WARMUP" "$paced" "$url_b" "${args_b[@]}" >/dev/null
  : >"$BENCH_WORK/ab-$name.txt"
  for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then
      a=$(wrk_once "$SECONDS_PER_RUN" "$paced" "$url_a" "${args_a[@]}")
      b=$(wrk_once "$SECONDS_PER_RUN" "$paced" "$url_b" "${args_b[@]}")
    else
      b=$(wrk_once "$SECONDS_PER_RUN" "$paced" "$url_b" "${args_b[@]}")
      a=$(wrk_once "$SECONDS_PER_RUN" "$paced" "$url_a" "${args_a[@]}")
    fi
    [[ ${a##* } == 0 && ${b##* } == 0 ]] || bench_die "$name round $r: wrk saw errors (A: $a, B: $b; rps p50 errors)"
    awk -v r="$r" -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ")
      printf "%d %s %s %s %s %.2f %d\n", r, x[1], y[1], x[2], y[2], (x[1] > 0 ? y[1] / x[1] : 0), y[2] - x[2] }' \
      >>"$BENCH_WORK/ab-$name.txt"
    bench_log "$name round $r: $(tail -1 "$BENCH_WORK/ab-$name.txt") (round a_rps b_rps a_p50 b_p50 ratio added_p50)"
  done
  AB[$name]="$(awk '{ print $6 }' "$BENCH_WORK/ab-$name.txt" | bench_median %.2f) $(awk '{ print $7 }' "$BENCH_WORK/ab-$name.txt" | bench_median %.0f) \
$(awk '{ print $2 }' "$BENCH_WORK/ab-$name.txt" | bench_median %.0f) $(awk '{ print $3 }' "$BENCH_WORK/ab-$name.txt" | bench_median %.0f)"
}

# grpc_ab NAME A B (PORT:EXPECT[:X_DEV] each) -> AB[NAME]="MEDIAN_RATIO - MEDIAN_A MEDIAN_B", rounds in the log
grpc_ab() {
  local name=$1 out
  local -a client
  mapfile -t client < <(bench_grpc_cmd GrpcBenchClient ab "$POD_IP" "$SECONDS_PER_RUN" "$ROUNDS" "$GRPC_WARMUP" \
    "$GRPC_PARALLEL" "$2" "$3")
  out=$(ip netns exec "$(bench_ns client)" timeout $(((SECONDS_PER_RUN * ROUNDS + GRPC_WARMUP) * 2 + 60)) \
    "${client[@]}" 2>"$BENCH_WORK/grpc-ab-$name.err" | grep '^grpc-ab ') || true
  grep -q median_ratio <<<"$out" || bench_die "gRPC A/B $name: no result (see $BENCH_WORK/grpc-ab-$name.err)"
  grep round= <<<"$out" | while read -r line; do bench_log "$name: $line"; done
  grep -q 'errors=0$' <<<"$out" || bench_die "gRPC A/B $name: calls failed: $(tail -1 <<<"$out")"
  AB[$name]=$(tail -1 <<<"$out" | sed -E 's/.*median_a_rps=([0-9]+) median_b_rps=([0-9]+) median_ratio=([0-9.]+).*/\3 - \1 \2/')
}

mapfile -t POD_HTTP < <(bench_app_cmd ShaHttpServerApp 8082 local 3600 quiet)
mapfile -t POD_HTTP_DIRECT < <(bench_app_cmd ShaHttpServerApp 8084 local 3600 quiet)
mapfile -t STEAL_HTTP < <(bench_app_cmd ShaHttpServerApp 8080 local 3600 quiet)
mapfile -t FILTER_HTTP < <(bench_app_cmd ShaHttpServerApp 8083 filtered 3600 quiet)
mapfile -t POD_GRPC < <(bench_grpc_cmd GrpcEchoApp 50051 pod 3600 quiet)
mapfile -t POD_GRPC_DIRECT < <(bench_grpc_cmd GrpcEchoApp 50054 pod 3600 quiet)
mapfile -t STEAL_GRPC < <(bench_grpc_cmd GrpcEchoApp 50053 local 3600 quiet)
mapfile -t FILTER_GRPC < <(bench_grpc_cmd GrpcEchoApp 50052 local 3600 quiet)

bench_start pod-http pod "${POD_HTTP[@]}" >/dev/null
bench_start pod-http-direct pod "${POD_HTTP_DIRECT[@]}" >/dev/null
bench_start pod-grpc pod "${POD_GRPC[@]}" >/dev/null
bench_start pod-grpc-direct pod "${POD_GRPC_DIRECT[@]}" >/dev/null
for s in pod-http pod-http-direct; do bench_wait_line "$BENCH_WORK/$s.out" '^sha-http.listening' 30; done
for s in pod-grpc pod-grpc-direct; do bench_wait_line "$BENCH_WORK/$s.out" '^grpc.listening' 60; done
steal_http=$(bench_mirrord steal-http --tcp-steal -- "${STEAL_HTTP[@]}")
bench_wait_line "$BENCH_WORK/steal-http.out" '^sha-http.listening' 60
filter_http=$(bench_mirrord filter-http --http-header-filter '^x-dev: bench$' -p 8083:8082 -- "${FILTER_HTTP[@]}")
bench_wait_line "$BENCH_WORK/filter-http.out" '^sha-http.listening' 60
steal_grpc=$(bench_mirrord steal-grpc --tcp-steal -- "${STEAL_GRPC[@]}")
bench_wait_line "$BENCH_WORK/steal-grpc.out" '^grpc.listening' 60
filter_grpc=$(bench_mirrord filter-grpc --http-header-filter '^x-dev: bench$' -p 50052:50051 -- "${FILTER_GRPC[@]}")
bench_wait_line "$BENCH_WORK/filter-grpc.out" '^grpc.listening' 60

bench_start relay-http pod socat TCP-LISTEN:8085,fork,reuseaddr,nodelay TCP:127.0.0.1:8084,nodelay >/dev/null
bench_start relay-grpc pod socat TCP-LISTEN:50055,fork,reuseaddr,nodelay TCP:127.0.0.1:50054,nodelay >/dev/null
if [[ $NGHTTPX == 1 ]]; then
  bench_nghttpx hop-http pod '*,8086;no-tls' '127.0.0.1,8084' >/dev/null
  bench_nghttpx hop-grpc pod '*,50057;no-tls' '127.0.0.1,50054;;proto=h2' >/dev/null
  bench_nghttpx chain-http-local local "unix:$BENCH_WORK/ng-http.sock;no-tls" '127.0.0.1,8080' >/dev/null
  bench_nghttpx chain-http-pod pod '*,8087;no-tls' "unix:$BENCH_WORK/ng-http.sock" >/dev/null
  bench_nghttpx chain-grpc-local local "unix:$BENCH_WORK/ng-grpc.sock;no-tls" '127.0.0.1,50053;;proto=h2' >/dev/null
  bench_nghttpx chain-grpc-pod pod '*,50058;no-tls' "unix:$BENCH_WORK/ng-grpc.sock;;proto=h2" >/dev/null
  for p in http:8080:8088 grpc:50053:50059; do
    IFS=: read -r kind app_port pod_port <<<"$p"
    bench_start "socat-$kind-local" local socat "UNIX-LISTEN:$BENCH_WORK/so-$kind.sock,fork,mode=600" \
      "TCP:127.0.0.1:$app_port,nodelay" >/dev/null
    bench_start "socat-$kind-pod" pod socat "TCP-LISTEN:$pod_port,fork,reuseaddr,nodelay" \
      "UNIX-CONNECT:$BENCH_WORK/so-$kind.sock" >/dev/null
  done
fi
sleep 0.5

# Each side answers as expected before it is measured (a wrong path would make any ratio meaningless).
http_says() { ip netns exec "$(bench_ns client)" curl -s "${@:2}" "http://$POD_IP:$1/"; }
grep -q 'hello from filtered' <(http_says 8082 -H 'X-Dev: bench') || bench_die "(e): the header's request missed the local app"
grep -q 'hello from local' <(http_says 8082) || bench_die "(d): a request without the header missed the pod's server"
grep -q 'hello from local' <(http_says 8080) || bench_die "(c): the stolen request missed the local app"
grep -q 'hello from local' <(http_says 8084) || bench_die "(a'): the direct pod server did not answer"
grep -q 'hello from local' <(http_says 8085) || bench_die "(d0): the socat hop did not answer"
if [[ $NGHTTPX == 1 ]]; then
  grep -q 'hello from local' <(http_says 8086) || bench_die "(d1): the nghttpx hop did not answer"
  for p in 8087 8088; do
    grep -q 'hello from local' <(http_says $p) || bench_die "(e1)/(e0): the chain on :$p did not reach (c)'s app"
  done
fi

http_ab http_unmatched 0 "http://$POD_IP:8084/" "" "http://$POD_IP:8082/" ""
http_ab http_unmatched_paced 1 "http://$POD_IP:8084/" "" "http://$POD_IP:8082/" ""
http_ab http_socat 0 "http://$POD_IP:8084/" "" "http://$POD_IP:8085/" ""
http_ab http_socat_paced 1 "http://$POD_IP:8084/" "" "http://$POD_IP:8085/" ""
http_ab http_matched 0 "http://$POD_IP:8080/" "" "http://$POD_IP:8082/" "X-Dev: bench"
grpc_ab grpc_unmatched 50054:pod 50051:pod
grpc_ab grpc_socat 50054:pod 50055:pod
grpc_ab grpc_matched 50053:local 50051:local:bench
if [[ $NGHTTPX == 1 ]]; then
  http_ab http_nghttpx 0 "http://$POD_IP:8084/" "" "http://$POD_IP:8086/" ""
  http_ab http_chains 0 "http://$POD_IP:8088/" "" "http://$POD_IP:8087/" ""
  grpc_ab grpc_nghttpx 50054:pod 50057:pod
  grpc_ab grpc_chains 50059:local 50058:local
fi
for c in "$filter_grpc" "$steal_grpc" "$filter_http" "$steal_http"; do bench_stop "$c"; done

row() { # LABEL NAME GOAL
  local ratio added a b
  read -r ratio added a b <<<"${AB[$2]}"
  printf '| %-52s | %8s | %8s | **%5s** | %s |\n' "$1" "$a" "$b" "$ratio" "$3"
}
echo
echo "## bench/filter-ab.sh — $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(bench_machine)"
echo "CLI JVM flags: $BENCH_CLI_FLAGS_TEXT"
echo "$ROUNDS rounds of ${SECONDS_PER_RUN}s per side, alternating (A B, B A, …), medians; warm-up ${WARMUP}s per side" \
  "(gRPC ${GRPC_WARMUP}s); wrk -t$THREADS -c$CONNECTIONS keep-alive GET (paced: -t1 -c$PACED_CONNECTIONS," \
  "${PACED_DELAY_MS} ms between requests); gRPC: $GRPC_PARALLEL unary calls in flight on one channel"
echo
printf '| %-52s | %8s | %8s | %9s | %s |\n' "B ÷ A" "A /s" "B /s" "ratio" "goal"
printf '|%s|%s|%s|%s|%s|\n' "------------------------------------------------------" "----------" "----------" "-----------" "------"
row "HTTP/1 (d) unmatched ÷ (a') direct" http_unmatched ">= 0.8"
row "HTTP/1 (d0) one socat hop ÷ (a') direct: (d)'s floor" http_socat ""
[[ $NGHTTPX == 1 ]] && row "HTTP/1 (d1) one nghttpx hop ÷ (a') direct: (d)'s floor, HTTP parsed" http_nghttpx ""
row "HTTP/1 (e) matched ÷ (c) unfiltered steal" http_matched ">= 0.8"
[[ $NGHTTPX == 1 ]] && row "HTTP/1 (e1) two nghttpx hops ÷ (e0) two socat hops: (e)'s floor" http_chains ""
row "gRPC (g) unmatched ÷ (f) direct" grpc_unmatched ">= 0.8"
row "gRPC (g0) one socat hop ÷ (f) direct: (g)'s floor" grpc_socat ""
[[ $NGHTTPX == 1 ]] && row "gRPC (g1) one nghttpx hop ÷ (f) direct: (g)'s floor, h2c terminated" grpc_nghttpx ""
row "gRPC (h) matched ÷ (i) unfiltered steal" grpc_matched ">= 0.8"
[[ $NGHTTPX == 1 ]] && row "gRPC (h1) two nghttpx hops ÷ (h0) two socat hops: (h)'s floor" grpc_chains ""
read -r _ added _ _ <<<"${AB[http_unmatched_paced]}"
read -r _ floor _ _ <<<"${AB[http_socat_paced]}"
echo
echo "HTTP/1 unmatched, paced: added p50 (d) - (a'), median of the rounds: $added µs (goal <= 300 µs); one socat hop: $floor µs"
echo "per round (round a_rps b_rps a_p50_us b_p50_us ratio added_p50_us):"
for n in http_unmatched http_unmatched_paced http_socat http_socat_paced http_matched http_nghttpx http_chains; do
  [[ -f $BENCH_WORK/ab-$n.txt ]] || continue
  echo "  $n:"
  sed 's/^/    /' "$BENCH_WORK/ab-$n.txt"
done
