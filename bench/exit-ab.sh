#!/usr/bin/env bash
# bench/exit-ab.sh JAR_DIR... — wall time of `mirrord exec --target pid/N -- java Exit42` (a main that exits at once)
# for two or more builds, alternating run by run (ROUNDS rounds, default 10; a first round trains each build's AOT
# caches and is not counted), with the layer log's "layer ready in" of each run. Each JAR_DIR holds mirrord-cli.jar,
# mirrord-layer-agent.jar and mirrord-pod-agent.jar, run through bin/mirrord with MIRRORD_JAR_DIR (its own AOT caches,
# as a user's build). The target is a `sleep` in a network namespace this script creates; nothing is sent to it.
# Needs root. Example: bench/exit-ab.sh /tmp/jars-main /tmp/jars-branch
# A JAR_DIR may hold a file cli.opts: the CLI's JVM flags for that build (bench/ab-lib.sh, ab_env).
# EXEC_FLAGS="--steal" (for example) adds flags to every `mirrord exec`.
set -euo pipefail
(($# >= 2)) || { echo "usage: bench/exit-ab.sh JAR_DIR_A JAR_DIR_B [JAR_DIR...]" >&2; exit 2; }
ROUNDS=${ROUNDS:-10}
AB_NAME=exit
source "$(dirname "$0")/ab-lib.sh"
printf 'public class Exit42 { public static void main(String[] a) { System.exit(42); } }\n' >"$WORK/Exit42.java"
"$JAVA_HOME/bin/javac" --release 17 -d "$WORK" "$WORK/Exit42.java"

# One run of jar dir $1 into log dir $2: prints "<wall ms> <layer ready ms> <since premain ms> <cli ms> <tear-down
# ms>" ("-" where the log has none: layers before 2026-12-06 do not print the time since premain). cli: from the start
# of bin/mirrord until the CLI's log says it started the command (the CLI's share of the start: its JVM, the agent's
# start or reuse, the session's set-up); the log's HH:MM:SS.mmm is local time, like the start's. tear-down: from the
# CLI's line of the command's exit to its "cleaned up" line (with an agent per run, the agent's exit is in it).
one() {
  local dir=$1 logs=$2 s e ready since abenv cli midnight teardown
  mkdir -p "$logs"
  mapfile -t abenv < <(ab_env "$dir")
  s=$(date +%s%N)
  # shellcheck disable=SC2086 # EXEC_FLAGS: words on purpose
  env "${abenv[@]}" "$(ab_launcher "$dir")" exec --target "pid/$TARGET" --log-file "$logs/cli.log" ${EXEC_FLAGS:-} -- \
    "$JAVA_HOME/bin/java" -cp "$WORK" Exit42 >/dev/null 2>&1 || true
  e=$((($(date +%s%N) - s) / 1000000))
  # the first ready line: "layer ready in N ms (M ms since premain)"; no layer log (the layer failed) gives "- -"
  read -r ready since < <(awk '/layer ready in / {
      r = $0; sub(/.*layer ready in /, "", r); sub(/ .*/, "", r)
      s = match($0, /\([0-9]+ ms since premain/) ? substr($0, RSTART + 1, RLENGTH - 18) : "-"
      print r, s; exit }' "$logs"/*-layer.log 2>/dev/null || true)
  midnight=$(date -d "$(date -d "@$((s / 1000000000))" +%F)" +%s)
  cli=$(awk -v t0=$((s / 1000000 - midnight * 1000)) '/ started .* as pid / {
      split($1, c, ":"); print int((c[1] * 3600 + c[2] * 60 + c[3]) * 1000 + 0.5) - t0; exit }' "$logs/cli.log" 2>/dev/null)
  teardown=$(awk 'function ms(t,  c) { split(t, c, ":"); return int((c[1] * 3600 + c[2] * 60 + c[3]) * 1000 + 0.5) }
      / exited with 42$/ { x = ms($1) } / cleaned up$/ && x != "" { print ms($1) - x; exit }' "$logs/cli.log" 2>/dev/null)
  echo "$e ${ready:--} ${since:--} ${cli:--} ${teardown:--}"
}

for ((r = 0; r <= ROUNDS; r++)); do
  line="round $r:"
  for ((j = 1; j <= $#; j++)); do
    read -r wall ready since cli teardown < <(one "${!j}" "$WORK/$j-$r")
    line+=" [$j] $wall ms (cli $cli, layer ready $ready, $since since premain, tear-down $teardown)"
    ((r == 0)) || echo "$wall $ready $since $cli $teardown" >>"$WORK/$j.txt"
  done
  echo "$line"
done
for ((j = 1; j <= $#; j++)); do
  echo "[$j] ${!j}: wall median $(awk '{print $1}' "$WORK/$j.txt" | bench_median) ms," \
    "cli until the command started $(awk '$4 != "-" {print $4}' "$WORK/$j.txt" | bench_median) ms," \
    "layer ready median $(awk '$2 != "-" {print $2}' "$WORK/$j.txt" | bench_median) ms," \
    "since premain $(awk '$3 != "-" {print $3}' "$WORK/$j.txt" | bench_median) ms," \
    "tear-down $(awk '$5 != "-" {print $5}' "$WORK/$j.txt" | bench_median) ms (medians of $ROUNDS)"
done
