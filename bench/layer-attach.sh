#!/usr/bin/env bash
# bench/layer-attach.sh BASELINE_LAYER_JAR [RUNS] — the layer's attach time ("layer ready in N ms" in the layer log:
# session file, connect + handshake to the CLI, TargetInfo, hook installation) of this build's layer against
# BASELINE_LAYER_JAR (e.g. the layer jar of main), in one run, alternating A (baseline) and B (this build) RUNS times
# each (default 10). Each run is `mirrord exec --target pid/<a sleep of this script> -- java Hello` (the CLI jar as
# bin/mirrord runs it, with -Dmirrord.layer.jar=<jar under test>): the same CLI and agent for both, only the layer
# differs. Besides the medians it prints the hook installation alone (from the layer's "target:" line to "ready"). Nothing is sent anywhere (the app
# prints one line and exits). Prints the medians, their difference and ratio. Needs root (the agent's nsenter).
# Example: git archive main | tar -x -C /tmp/base && (cd /tmp/base && mvn -q -pl mirrord-protocol,mirrord-layer-agent
#          package -DskipTests) && bench/layer-attach.sh /tmp/base/mirrord-layer-agent/target/mirrord-layer-agent.jar 10
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/lib.sh" # bench_median
BASE_JAR=${1:?usage: bench/layer-attach.sh BASELINE_LAYER_JAR [RUNS]}
RUNS=${2:-10}
[[ -f $BASE_JAR ]] || { echo "no such jar: $BASE_JAR" >&2; exit 2; }
"$ROOT/bin/mirrord" --version >/dev/null # builds the jars if stale
THIS_JAR="$ROOT/mirrord-layer-agent/target/mirrord-layer-agent.jar"
JAVA_HOME=$("$ROOT/scripts/java-home.sh")
WORK=$(mktemp -d /tmp/mirrord-bench-attach.XXXXXX)
sleep 600 &
TARGET=$!
trap 'kill $TARGET 2>/dev/null || true; [[ -n ${KEEP:-} ]] || rm -rf "$WORK"' EXIT
printf 'public class Hello { public static void main(String[] a) { System.out.println("hello"); } }\n' >"$WORK/Hello.java"
"$JAVA_HOME/bin/javac" -d "$WORK" "$WORK/Hello.java"

# One run with layer jar $1: prints the layer's "ready in" milliseconds.
attach_ms() {
  local dir
  dir=$(mktemp -d "$WORK/run.XXXXXX")
  # The CLI as bin/mirrord runs it, with the layer jar under test (bin/mirrord would name its own).
  env -u JAVA_TOOL_OPTIONS MIRRORD_LOG_FILE="$dir/mirrord.log" \
    timeout 120 "$JAVA_HOME/bin/java" -XX:+UseSerialGC -Xshare:auto -Dmirrord.layer.jar="$1" \
    -Dmirrord.agent.jar="$ROOT/mirrord-pod-agent/target/mirrord-pod-agent.jar" -jar "$ROOT/mirrord-cli/target/mirrord-cli.jar" \
    exec --target "pid/$TARGET" -- "$JAVA_HOME/bin/java" -cp "$WORK" Hello \
    >"$dir/out" 2>"$dir/err" </dev/null || true
  # A run whose layer did not get ready (e.g. its handshake timed out on a loaded machine) counts as failed.
  grep -h -o 'layer ready in [0-9]* ms' "$dir"/mirrord-*-layer.log 2>/dev/null | grep -o '[0-9]*' | head -1 \
    || echo "failed run, logs in $dir" >&2
  install_ms "$dir" >>"$2"
}

# "<ready ms> <install ms>" of one run: install = from the layer's "target:" log line to "layer ready".
install_ms() {
  awk '/ target: pid=/ {t = $1} /layer ready in/ {r = $1} END {print t, r}' "$1"/mirrord-*-layer.log 2>/dev/null |
    while read -r t r; do
      [[ -n $t && -n $r ]] && echo $(( ($(date -d "$r" +%s%N) - $(date -d "$t" +%s%N)) / 1000000 ))
    done
}

: >"$WORK/a"
: >"$WORK/b"
: >"$WORK/a.install"
: >"$WORK/b.install"
for ((i = 1; i <= RUNS; i++)); do
  attach_ms "$BASE_JAR" "$WORK/a.install" >>"$WORK/a"
  attach_ms "$THIS_JAR" "$WORK/b.install" >>"$WORK/b"
done
a=$(bench_median <"$WORK/a")
b=$(bench_median <"$WORK/b")
echo "layer attach (\"layer ready in\"), $RUNS runs each, alternating; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  baseline $BASE_JAR: median $a ms ($(tr '\n' ' ' <"$WORK/a"); $(wc -l <"$WORK/a") of $RUNS runs ready)"
echo "  this build:          median $b ms ($(tr '\n' ' ' <"$WORK/b"); $(wc -l <"$WORK/b") of $RUNS runs ready)"
awk -v a="$a" -v b="$b" 'BEGIN {printf "  difference %+.0f ms, ratio %.2f\n", b - a, b / a}'
ai=$(bench_median <"$WORK/a.install")
bi=$(bench_median <"$WORK/b.install")
echo "  hook installation alone: baseline median $ai ms, this build $bi ms"
awk -v a="$ai" -v b="$bi" 'BEGIN {printf "  difference %+.0f ms, ratio %.2f\n", b - a, b / a}'
