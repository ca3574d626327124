#!/usr/bin/env bash
# bench/listen-ab.sh JAR_DIR_A JAR_DIR_B [RUNS] — time from `mirrord exec` until the app's first answer, for two
# builds, alternating, RUNS times each (default 8; the first pair is a warm-up and not counted). Each JAR_DIR holds
# mirrord-cli.jar, mirrord-layer-agent.jar and mirrord-pod-agent.jar; both run through bin/mirrord with
# MIRRORD_JAR_DIR, so each gets its own AOT caches, exactly as a user's build would. The app is the JDK's own
# `java -m jdk.httpserver` on 127.0.0.1:18080 (mirror mode: the bind subscribes the target's port), asked with curl on
# loopback every 10 ms; the target is a `sleep` in a network namespace this script creates (nothing is sent to it).
# Also prints, per run, the layer log's "listen port=" → "subscribed target port" (the bind's wait for its
# subscription). A JAR_DIR may hold a file cli.opts: the CLI's JVM flags for that build (bench/ab-lib.sh, ab_env), and a file
# launcher: the bin/mirrord to run it with (ab_launcher). EXEC_FLAGS="--agent-ttl 60" (for example) adds flags to
# every `mirrord exec`. Needs
# root. Example: bench/listen-ab.sh /tmp/jars-main /tmp/jars-branch 8
set -euo pipefail
A=${1:?usage: bench/listen-ab.sh JAR_DIR_A JAR_DIR_B [RUNS]}
B=${2:?usage: bench/listen-ab.sh JAR_DIR_A JAR_DIR_B [RUNS]}
RUNS=${3:-8}
AB_NAME=listen
source "$(dirname "$0")/ab-lib.sh"
echo hello >"$WORK/index.txt"

# One run of jar dir $1 labelled $2: prints "<first answer ms> <bind's wait for the subscription ms>".
one() {
  local dir=$1 label=$2 s e pid k w abenv
  mapfile -t abenv < <(ab_env "$dir")
  s=$(date +%s%N)
  # shellcheck disable=SC2086 # EXEC_FLAGS: words on purpose
  env "${abenv[@]}" "$(ab_launcher "$dir")" exec --target "pid/$TARGET" --log-file "$WORK/$label/cli.log" ${EXEC_FLAGS:-} -- \
    "$JAVA_HOME/bin/java" -m jdk.httpserver -p 18080 -b 127.0.0.1 -d "$WORK" >/dev/null 2>&1 &
  pid=$!
  for ((k = 0; k < 2000; k++)); do
    if curl -s -o /dev/null -m 1 http://127.0.0.1:18080/index.txt; then break; fi
    sleep 0.01
  done
  e=$((($(date +%s%N) - s) / 1000000))
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  w=$(bench_bind_wait 18080 "$WORK/$label"/*-layer.log)
  echo "$e ${w:--}"
  sleep 0.5
}

declare -a RA RB WA WB
for ((i = 0; i <= RUNS; i++)); do
  read -r ta wa < <(one "$A" "a-$i")
  read -r tb wb < <(one "$B" "b-$i")
  echo "run $i: A $ta ms (bind waited $wa ms), B $tb ms (bind waited $wb ms)"
  ((i == 0)) && continue
  RA+=("$ta"); RB+=("$tb"); WA+=("$wa"); WB+=("$wb")
done
echo "first answer, median of $RUNS: A $(printf '%s\n' "${RA[@]}" | bench_median) ms, B $(printf '%s\n' "${RB[@]}" | bench_median) ms"
echo "bind's wait for its subscription, median: A $(printf '%s\n' "${WA[@]}" | grep -v '^-$' | bench_median) ms, B $(printf '%s\n' "${WB[@]}" | grep -v '^-$' | bench_median) ms"
