#!/usr/bin/env bash
# bench/start-profile.sh — where the start of a session spends its CPU: async-profiler (fetched from Maven Central,
# tools.profiler:async-profiler, once into ~/.m2) in the CLI's and the agent's JVMs over RUNS sessions of
# `mirrord exec --target pid/N -- java Exit42` (a main that exits at once), then, per process, the frames that the most
# samples passed through (inclusive) and where they ended (self). Not a timing: a profile shows shares, and sampling
# slows each JVM a little; compare builds with bench/exit-ab.sh. Not the app's JVM: async-profiler does not sample
# its main thread while a Java agent's premain runs (checked with a premain that spins for 300 ms: no sample of it),
# so the layer's attach would be missing; its "layer ready in" line and -Xlog:class+load measure it.
#
#   sudo bench/start-profile.sh      RUNS=4 EVENT=cpu INTERVAL=100us TOP=40 FRAMES='regex of frames to list'
#
# The first session after the caches are built is not profiled (its agent trains nothing, but the page cache is
# cold). The collapsed stacks stay in the work directory the script names (one file per JVM: cli-PID, agent-PID),
# for flame graphs or a closer look. EVENT=itimer where perf events are not allowed (a coarser profile).
source "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-4}
EVENT=${EVENT:-cpu}
INTERVAL=${INTERVAL:-100us}
TOP=${TOP:-40}
FRAMES=${FRAMES:-'^(dev/mirrord|picocli|ch/qos|io/netty/(util/internal/PlatformDependent|bootstrap)|java/lang/invoke/(MethodHandleNatives.link|StringConcatFactory.make|InnerClassLambdaMetafactory.build)|java/security/SecureRandom.<init>|java/time/ZoneId|java/lang/ClassLoader.defineClass$)'}
AP_VERSION=4.1

jar="$HOME/.m2/repository/tools/profiler/async-profiler/$AP_VERSION/async-profiler-$AP_VERSION-linux-x64.jar"
if [[ ! -f $jar ]]; then
  bench_log "fetching async-profiler $AP_VERSION from Maven Central"
  mvn -B -ntp -q dependency:get -Dartifact="tools.profiler:async-profiler:$AP_VERSION:jar:linux-x64" >&2 \
    || bench_die "could not fetch tools.profiler:async-profiler:$AP_VERSION (linux-x64)"
fi
bench_lab_up
PROF="$BENCH_WORK/profiles"
mkdir -p "$PROF" "$BENCH_WORK/ap"
unzip -q -o "$jar" 'linux-x64/libasyncProfiler.so' -d "$BENCH_WORK/ap"
AP="$BENCH_WORK/ap/linux-x64/libasyncProfiler.so"
agentpath() { printf -- '-agentpath:%s=start,event=%s,interval=%s,file=%s/%s-%%p.txt,collapsed,cstack=no' \
  "$AP" "$EVENT" "$INTERVAL" "$PROF" "$1"; }

# The agent: its options file in this run's jar copy, plus the profiler (a new jar: its own AOT cache, built below).
bench_agent_options "$(agentpath agent)"
# The CLI: bin/mirrord's own flags (its cli_opts default, or CLI_FLAGS), plus the profiler.
cli_flags=${CLI_FLAGS:-$(bench_default_cli_flags)}
[[ -n $cli_flags ]] || bench_die "could not read the CLI's flags from bin/mirrord"
bench_log "caches $(bench_prepare_caches) s"

printf 'public class Exit42 { public static void main(String[] a) { System.exit(42); } }\n' >"$BENCH_WORK/Exit42.java"
"$BENCH_JAVA_HOME/bin/javac" --release 17 -d "$BENCH_WORK" "$BENCH_WORK/Exit42.java"
session() {
  "$BENCH_ROOT/bin/mirrord" exec --target "pid/$BENCH_POD_PID" -- "$BENCH_JAVA" -cp "$BENCH_WORK" Exit42 \
    >/dev/null 2>>"$BENCH_WORK/sessions.err" || true
}
MIRRORD_CLI_JAVA_OPTS="$cli_flags" session
rm -f "$PROF"/*
for ((i = 1; i <= RUNS; i++)); do
  MIRRORD_CLI_JAVA_OPTS="$cli_flags $(agentpath cli)" session
done

# inclusive and self samples per frame over the given collapsed-stack files
report() {
  local what=$1
  shift
  (($# > 0)) || { echo "$what: no profile written"; return; }
  awk -v top="$TOP" -v frames="$FRAMES" -v what="$what" '
    { n = $NF; $NF = ""; sub(/ $/, ""); total += n; k = split($0, f, ";"); self[f[k]] += n
      delete seen; for (i = 1; i <= k; i++) if (!(f[i] in seen)) { seen[f[i]] = 1; incl[f[i]] += n } }
    END {
      printf "\n## %s: %d samples in %d JVMs\n\ninclusive (frames matching FRAMES):\n", what, total, files
      for (x in incl) if (x ~ frames) printf "%7d %5.1f%% %s\n", incl[x], 100 * incl[x] / total, x | "sort -rn | head -" top
      close("sort -rn | head -" top)
      printf "\nself:\n"
      for (x in self) printf "%7d %5.1f%% %s\n", self[x], 100 * self[x] / total, x | "sort -rn | head -15"
      close("sort -rn | head -15")
    }' files=$# "$@"
}
echo "# bench/start-profile.sh — $(date -u +%Y-%m-%dT%H:%MZ), $RUNS sessions of Exit42, event $EVENT every $INTERVAL"
echo "machine: $(bench_machine)"
shopt -s nullglob
report "CLI" "$PROF"/cli-*.txt
report "agent" "$PROF"/agent-*.txt
echo
echo "collapsed stacks: $PROF"
