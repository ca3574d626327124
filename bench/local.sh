#!/usr/bin/env bash
# bench/local.sh — the developer's own requests to the app while mirrord mirrors or steals its port (issue 13's
# benchmark). Not a test: prints a table.
#
#   sudo bench/local.sh                 DURATION=10 WARMUP=3 CONNECTIONS=2 to change the defaults
#
# The same local server (ShaHttpServerApp, a JDK HttpServer) on 127.0.0.1:8080 in the dev namespace, and a local
# client in the same namespace — wrk with "Connection: close", so every request is a fresh connection, the case the
# layer used to stall by up to 1 s while it looked for a relay mapping. Three runs, one after the other:
#   (a) the app without mirrord
#   (b) the app under `mirrord exec --target pid/<pod>` (mirror: its port 8080 is mirrored from the pod)
#   (c) the app under `mirrord exec --tcp-steal --target pid/<pod>` (its port 8080 is stolen)
# Each is warmed up (WARMUP seconds of wrk) before it is measured. Every run is bounded by DURATION.
# Goal: p50 of (b) and (c) within +0.2 ms of (a).
source "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
CONNECTIONS=${CONNECTIONS:-2}

bench_build
bench_need_wrk
bench_lab_up
declare -A ROW

# wrk_close LABEL -> ROW[LABEL]="REQUESTS RPS P50 P99 ERRORS": fresh connection per request, from the dev namespace.
wrk_close() {
  local label=$1 url="http://127.0.0.1:8080/"
  ip netns exec "$(bench_ns local)" wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -H 'Connection: close' "$url" \
    >/dev/null 2>&1 || true
  ip netns exec "$(bench_ns local)" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H 'Connection: close' "$url" \
    >"$BENCH_WORK/wrk-$label.txt" 2>&1
  # wrk counts the server's close after each answer (Connection: close) as a read error: count only the others.
  local errors
  errors=$(awk '/Socket errors/ { gsub(/,/, ""); e += $4 + $8 + $10 } /Non-2xx/ { e += $5 } END { print e + 0 }' \
    "$BENCH_WORK/wrk-$label.txt")
  ROW[$label]="$(bench_parse_wrk <"$BENCH_WORK/wrk-$label.txt" | awk '{ print $1, $2, $3, $4 }') $errors"
  bench_log "$label: ${ROW[$label]} (requests rps p50_us p99_us errors)"
}

mapfile -t SERVER < <(bench_app_cmd ShaHttpServerApp 8080 local 3600 quiet)

plain=$(bench_start server-plain local "${SERVER[@]}")
bench_wait_line "$BENCH_WORK/server-plain.out" '^sha-http.listening' 30
wrk_close a_without
bench_stop "$plain" TERM

for mode in mirror steal; do
  flags=()
  [[ $mode == steal ]] && flags=(--tcp-steal)
  cli=$(bench_mirrord "local-$mode" "${flags[@]}" -- "${SERVER[@]}")
  bench_wait_line "$BENCH_WORK/local-$mode.out" '^sha-http.listening' 60
  # The port is subscribed once the app's bind returned (the bind waits for the agent).
  wrk_close "b_$mode"
  bench_stop "$cli"
done

read -r _ A_RPS A_P50 A_P99 A_ERR <<<"${ROW[a_without]}"
read -r _ M_RPS M_P50 M_P99 M_ERR <<<"${ROW[b_mirror]}"
read -r _ S_RPS S_P50 S_P99 S_ERR <<<"${ROW[b_steal]}"
echo
echo "## bench/local.sh — $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(bench_machine)"
echo "CLI JVM flags: ${BENCH_CLI_FLAGS[*]}"
echo "wrk -t1 -c$CONNECTIONS -d${DURATION}s --latency -H 'Connection: close' (after a ${WARMUP}s warm-up) from the dev"
echo "namespace to 127.0.0.1:8080; server: JDK HttpServer (ShaHttpServerApp); every request on a fresh connection"
echo "(errors: connect/write/timeout and non-2xx; wrk's read errors are the server closing after each answer)"
echo
printf '| %-40s | %9s | %9s | %9s | %6s |\n' "local client -> app" "req/s" "p50 µs" "p99 µs" "errors"
printf '|%s|%s|%s|%s|%s|\n' "------------------------------------------" "-----------" "-----------" "-----------" "--------"
printf '| %-40s | %9s | %9s | %9s | %6s |\n' "(a) without mirrord" "$A_RPS" "$A_P50" "$A_P99" "$A_ERR"
printf '| %-40s | %9s | %9s | %9s | %6s |\n' "(b) under mirrord, port mirrored" "$M_RPS" "$M_P50" "$M_P99" "$M_ERR"
printf '| %-40s | %9s | %9s | %9s | %6s |\n' "(c) under mirrord, port stolen" "$S_RPS" "$S_P50" "$S_P99" "$S_ERR"
echo
echo "added p50: mirror $((M_P50 - A_P50)) µs, steal $((S_P50 - A_P50)) µs (goal <= 200 µs)"
echo "added p99: mirror $((M_P99 - A_P99)) µs, steal $((S_P99 - A_P99)) µs"
