#!/usr/bin/env bash
# bench/ab-lib.sh — shared by the A/B scripts (bench/listen-ab.sh, bench/exit-ab.sh; source it with the script's
# work-directory prefix): JAVA_HOME (a JDK 25), WORK (a temporary directory, removed on exit unless KEEP is set; the
# runs' start-up caches are made in it), a target for `--target pid/$TARGET` (a `sleep` in a network namespace of its
# own, removed on exit; nothing is sent to it), ab_env (a jar directory's environment for bin/mirrord) and bench/lib.sh's
# helpers (bench_median). Needs root.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAVA_HOME=$("$ROOT/scripts/java-home.sh")
WORK=$(mktemp -d "/tmp/mirrord-bench-${AB_NAME:?set AB_NAME before sourcing bench/ab-lib.sh}.XXXXXX")
# The builds' start-up caches (AOT, the layer's hooks) go with WORK: each jar copy is a build of its own (~65 MB).
export MIRRORD_AOT_CACHE_DIR="$WORK/aot"
NS=mirrord-$AB_NAME-$$
ip netns add "$NS"
ip netns exec "$NS" sleep 3600 &
TARGET=$!
cleanup() {
  kill "$TARGET" 2>/dev/null || true
  wait "$TARGET" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  [[ -n ${KEEP:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT

# bench_median [FORMAT] (median of the numbers on stdin) and the other helpers of bench/lib.sh
source "$ROOT/bench/lib.sh"

# ab_env JAR_DIR -> the environment bin/mirrord runs that build with, one NAME=VALUE per line (for env): its jars
# (MIRRORD_JAR_DIR) and, if the directory has a file cli.opts, the CLI's JVM flags from it (MIRRORD_CLI_JAVA_OPTS),
# e.g. the flags an older bin/mirrord started the CLI with; without it, today's bin/mirrord's own.
# ab_launcher JAR_DIR -> the bin/mirrord that runs that build: the one named by the directory's file launcher (e.g.
# an older checkout's, whose launch of the JVMs differs), else this checkout's.
ab_launcher() {
  if [[ -f $1/launcher ]]; then head -n1 "$1/launcher"; else echo "$ROOT/bin/mirrord"; fi
}

ab_env() {
  echo "MIRRORD_JAR_DIR=$1"
  local opts
  if opts=$(bench_cli_opts "$1"); then echo "MIRRORD_CLI_JAVA_OPTS=$opts"; fi
}
