#!/usr/bin/env bash
# bench/jvm-skip.sh — what the mirrord layer costs a JVM it stays out of (issue 17: build tools' own JVMs, skip_jvms).
#
#   bench/jvm-skip.sh            (RUNS=30 by default; JDKS="17 25")
#
# For each JDK: the wall time from exec to exit of a JVM whose main returns at once, RUNS times each, alternating:
#   none     no agent at all
#   empty    -javaagent: of a jar whose premain returns at once: what any Java agent costs (the JVM's part)
#   skipped  -javaagent:<layer jar>=<session file> whose skip.jvms names the main class: the layer reads the session
#            file, decides, writes one log line and returns (no bootstrap classes, no Byte Buddy, no connection)
# and prints the medians and their ratio. Then the decision alone: JvmSkip.skipReason on Maven's command line and on an
# app's, in ns per call (2 million calls after a warm-up). No lab and no network: only the layer jar (built if missing).
# Bounded: 2 * RUNS short JVM starts per JDK. The machine may be shared: read the ratios, not the absolute numbers.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-30}
JDKS=${JDKS:-"17 25"}
bench_build
LAYER="$BENCH_ROOT/mirrord-layer-agent/target/mirrord-layer-agent.jar"
work=$(mktemp -d /tmp/mirrord-bench-skip.XXXXXX)
trap 'rm -rf "$work"' EXIT

cat >"$work/Hello.java" <<'EOF'
public class Hello { public static void main(String[] args) {} }
EOF
cat >"$work/Empty.java" <<'EOF'
public class Empty { public static void premain(String args, java.lang.instrument.Instrumentation inst) {} }
EOF
cat >"$work/Decide.java" <<'EOF'
import dev.mirrord.jvm.layer.JvmSkip;
import java.util.List;
public class Decide {
  public static void main(String[] args) {
    String maven = "org.codehaus.plexus.classworlds.launcher.Launcher -B -ntp verify exec:exec";
    String app = "com.example.shop.ShopApplication --server.port=8080";
    List<String> globs = List.of("com.example.tools.*", "*-cli.jar");
    int sink = 0;
    for (int round = 0; round < 3; round++) {
      for (String cmd : new String[] {maven, app}) {
        long t0 = System.nanoTime();
        for (int i = 0; i < 2_000_000; i++) {
          String r = JvmSkip.skipReason(cmd, "", true, globs);
          sink += r == null ? 1 : r.length();
        }
        long ns = System.nanoTime() - t0;
        if (round == 2) {
          System.out.printf("decision %-6s %.0f ns/call%n", cmd == maven ? "maven" : "app", ns / 2_000_000.0);
        }
      }
    }
    if (sink == 42) System.out.println();
  }
}
EOF
printf 'proxy.host=127.0.0.1\nproxy.port=9\ntoken=bench\nlog.file=%s/layer.log\nskip.jvms=Hello\n' "$work" >"$work/session.properties"

ms_of() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(((t1 - t0) / 1000)); }

bench_log "machine: $(bench_machine)"
(cd "$work" && "$BENCH_JAVA_HOME/bin/javac" --release 17 -d "$work" Hello.java Empty.java \
  && printf 'Premain-Class: Empty\n' >"$work/manifest" && "$BENCH_JAVA_HOME/bin/jar" cfm "$work/empty.jar" "$work/manifest" -C "$work" Empty.class)
printf '| JDK | none: median ms | empty agent | skipped layer | empty / none | skipped / none | skipped / empty |\n|---|---|---|---|---|---|---|\n'
for v in $JDKS; do
  if [[ $v == 25 ]]; then java="$BENCH_JAVA"; else java=/usr/lib/jvm/java-${v}-openjdk-amd64/bin/java; fi
  [[ -x $java ]] || { bench_log "no JDK $v at $java; skipped"; continue; }
  "$java" -version >/dev/null 2>&1
  : >"$work/none.us"
  : >"$work/empty.us"
  : >"$work/skipped.us"
  for ((i = 0; i < RUNS; i++)); do
    ms_of "$java" -Xshare:auto -cp "$work" Hello >>"$work/none.us"
    ms_of "$java" -Xshare:auto "-javaagent:$work/empty.jar" -cp "$work" Hello >>"$work/empty.us"
    ms_of "$java" -Xshare:auto "-javaagent:$LAYER=$work/session.properties" -cp "$work" Hello >>"$work/skipped.us"
  done
  none=$(bench_median <"$work/none.us")
  empty=$(bench_median <"$work/empty.us")
  skipped=$(bench_median <"$work/skipped.us")
  awk -v v="$v" -v n="$none" -v e="$empty" -v s="$skipped" \
    'BEGIN {printf "| %s | %.1f | %.1f | %.1f | %.2f× | %.2f× | %.2f× |\n", v, n / 1000, e / 1000, s / 1000, e / n, s / n, s / e}'
done
lines=$(grep -c 'skipped: Hello matches skip_jvms' "$work/layer.log" || true)
bench_log "layer log: $lines 'skipped' lines (one per skipped JVM), nothing else: $(grep -vc 'skipped: ' "$work/layer.log" || true) other lines"
"$BENCH_JAVA" -cp "$LAYER" "$work/Decide.java"
