#!/usr/bin/env bash
# bench/lib.sh — shared by the bench/*.sh scripts (source it; not a benchmark itself).
#
# Gives a benchmark: a JDK 25, fresh jars and the e2e test apps (built with Maven if missing or stale), wrk (apt-get
# install if missing), a private netns lab (scripts/lab.sh up, owned by this shell; torn down on exit, also on Ctrl-C)
# plus a "dev" namespace <prefix>-local (loopback only) where mirrord and the local app run, and helpers to start
# processes in namespaces and to wait for their output. Every process a bench starts lives inside the lab's
# namespaces, so the teardown (lab.sh down) kills them all. Traffic stays inside the lab (198.18.0.0/24) or on a
# namespace's loopback.
set -euo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_JAVA_HOME=$("$BENCH_ROOT/scripts/java-home.sh")
BENCH_JAVA="$BENCH_JAVA_HOME/bin/java"
BENCH_LAB=""
BENCH_WORK=""
# The CLI runs through bin/mirrord (its JVM flags and start-up caches, with MIRRORD_JAR_DIR = this run's jar copy);
# CLI_FLAGS replaces its JVM flags (MIRRORD_CLI_JAVA_OPTS), e.g. CLI_FLAGS="-XX:+UseSerialGC -XX:TieredStopAtLevel=1"
# for C1 only; MIRRORD_AOT=off runs without the start-up caches.
BENCH_CLI_FLAGS_TEXT=${CLI_FLAGS:-"bin/mirrord's"}

bench_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bench_die() { bench_log "error: $*"; exit 1; }

# Machine facts for the results (docs/PERFORMANCE.md).
bench_machine() {
  local cpu
  cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
  printf '%s, %s cores, %s GiB RAM, kernel %s, %s' "${cpu:-unknown CPU}" "$(nproc)" \
    "$(awk '/MemTotal/ {printf "%d", $2/1048576}' /proc/meminfo)" "$(uname -r)" \
    "$("$BENCH_JAVA" -version 2>&1 | head -1)"
}

# Builds the three jars and the e2e test classes (the apps) when missing or older than any of their sources.
bench_build() {
  local stamp="$BENCH_ROOT/e2e/target/test-classes/dev/mirrord/jvm/e2e/apps/BulkSinkApp.class" stale="" m
  for m in mirrord-cli mirrord-layer-agent mirrord-pod-agent; do
    [[ -f "$BENCH_ROOT/$m/target/$m.jar" ]] || stale="$m.jar missing"
  done
  [[ -f $stamp ]] || stale=${stale:-"test apps missing"}
  if [[ -z $stale ]]; then
    for m in mirrord-protocol mirrord-cli mirrord-layer-agent mirrord-pod-agent; do
      if [[ -n $(find "$BENCH_ROOT/$m/src/main" -newer "$BENCH_ROOT/$m/target/$m.jar" -print -quit 2>/dev/null) ]] \
        || [[ -n $(find "$BENCH_ROOT/$m/src/main" -newer "$BENCH_ROOT/mirrord-cli/target/mirrord-cli.jar" -print -quit) ]]; then
        stale="$m changed"
      fi
    done
    [[ -n $(find "$BENCH_ROOT/e2e/src/test/java/dev/mirrord/jvm/e2e/apps" -newer "$stamp" -print -quit) ]] && stale="test apps changed"
  fi
  if [[ -n $stale ]]; then
    bench_log "building jars and test apps ($stale; about a minute)"
    (cd "$BENCH_ROOT" && JAVA_HOME="$BENCH_JAVA_HOME" MAVEN_OPTS="--sun-misc-unsafe-memory-access=allow" \
      mvn -B -ntp -q -DskipTests -Dmaven.test.skip.exec=true -pl e2e -am package) >&2
  fi
}

bench_need_wrk() {
  if ! command -v wrk >/dev/null 2>&1; then
    bench_log "installing wrk (apt-get)"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2
  fi
}

bench_need_nghttpx() {
  if ! command -v nghttpx >/dev/null 2>&1; then
    bench_log "installing nghttpx (apt-get nghttp2-proxy)"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-proxy >&2
  fi
}

# bench_nghttpx NAME NODE FRONTEND BACKEND: nghttp2's reverse proxy (C, one thread, no TLS, no access log, nothing
# added to the requests) in NODE's namespace; FRONTEND and BACKEND as nghttpx's --frontend/--backend take them
# ("*,8086;no-tls", "unix:/path;;proto=h2", ...). Prints its pid. A proxy that parses and rewrites HTTP with the
# least work per request: the floor of a path that terminates HTTP at a hop, where socat is the floor of one that
# relays bytes.
bench_nghttpx() {
  bench_start "$1" "$2" nghttpx --conf=/dev/null --single-thread --workers=1 --no-via --no-server-rewrite \
    --log-level=WARN --frontend="$3" --backend="$4"
}

# Creates the lab and the dev namespace; sets BENCH_LAB, BENCH_POD_PID, BENCH_WORK; copies the jars into BENCH_WORK
# (a rebuild during the run cannot swap classes under a running CLI or agent).
bench_lab_up() {
  [[ $(id -u) -eq 0 ]] || bench_die "needs root (network namespaces); run with sudo"
  BENCH_LAB="mjl$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
  BENCH_WORK=$(mktemp -d "/tmp/mirrord-bench-$BENCH_LAB.XXXX")
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  "$BENCH_ROOT/scripts/lab.sh" up --prefix "$BENCH_LAB" --owner-pid $$ >"$BENCH_WORK/lab.env" 2>"$BENCH_WORK/lab.log" \
    || bench_die "lab.sh up failed; see $BENCH_WORK/lab.log"
  BENCH_POD_PID=$(sed -n 's/^MIRRORD_LAB_POD_PID=//p' "$BENCH_WORK/lab.env")
  ip netns add "$BENCH_LAB-local"
  ip -n "$BENCH_LAB-local" link set lo up
  mkdir -p "$BENCH_WORK/jars"
  for m in mirrord-cli mirrord-layer-agent mirrord-pod-agent; do cp "$BENCH_ROOT/$m/target/$m.jar" "$BENCH_WORK/jars/"; done
  export MIRRORD_JAR_DIR="$BENCH_WORK/jars" MIRRORD_AOT_CACHE_DIR="$BENCH_WORK/aot"
  [[ -n ${CLI_FLAGS:-} ]] && export MIRRORD_CLI_JAVA_OPTS="$CLI_FLAGS"
  bench_log "lab $BENCH_LAB up (pod pid $BENCH_POD_PID); logs in $BENCH_WORK"
}

# Builds the start-up caches of this run's jar copy (bin/mirrord does it on its first use; here outside any timed
# part). Prints the seconds it took.
bench_prepare_caches() {
  local t0=$SECONDS
  "$BENCH_ROOT/bin/mirrord" --version >/dev/null 2>"$BENCH_WORK/prepare-caches.err" \
    || bench_die "bin/mirrord --version failed; see $BENCH_WORK/prepare-caches.err"
  echo $((SECONDS - t0))
}

bench_cleanup() {
  local rc=$?
  if [[ -n $BENCH_LAB ]]; then
    "$BENCH_ROOT/scripts/lab.sh" down --prefix "$BENCH_LAB" >/dev/null 2>>"$BENCH_WORK/lab.log" || true
    rm -rf "$BENCH_WORK/aot" "$BENCH_WORK/jars"
    bench_log "lab $BENCH_LAB down; logs kept in $BENCH_WORK"
  fi
  exit $rc
}

# bench_ns NODE -> namespace name (pod|svc|dns|client|local)
bench_ns() { printf '%s-%s' "$BENCH_LAB" "$1"; }

# Java command for an e2e app: bench_app_cmd MAIN ARGS... (prints one word per line; use with mapfile)
bench_app_cmd() {
  local main=$1
  shift
  printf '%s\n' "$BENCH_JAVA" -XX:+UseParallelGC -Xshare:auto -cp "$BENCH_ROOT/e2e/target/test-classes" \
    "dev.mirrord.jvm.e2e.apps.$main" "$@"
}

# Java command for an e2e app that needs the e2e module's test dependencies (gRPC-java): bench_grpc_cmd MAIN ARGS...
bench_grpc_cmd() {
  local main=$1
  shift
  printf '%s\n' "$BENCH_JAVA" -XX:+UseParallelGC -Xshare:auto \
    -cp "$BENCH_ROOT/e2e/target/test-classes:$(cat "$BENCH_ROOT/e2e/target/app-classpath.txt")" \
    "dev.mirrord.jvm.e2e.apps.$main" "$@"
}

# bench_median [FORMAT]: the median of the numbers on stdin, one per line (of the middle two for an even count),
# printed with printf FORMAT, or as awk prints a number without one.
bench_median() {
  sort -g | awk -v f="${1:-}" '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    if (f == "") print m; else printf f "\n", m }'
}

# bench_start NAME NODE CMD... : starts CMD in the node's namespace in the background, output to $BENCH_WORK/NAME.{out,err};
# prints the pid (ip netns exec execs, so it is CMD's pid).
bench_start() {
  local name=$1 node=$2
  shift 2
  setsid ip netns exec "$(bench_ns "$node")" "$@" </dev/null >"$BENCH_WORK/$name.out" 2>"$BENCH_WORK/$name.err" &
  local pid=$!
  disown "$pid" 2>/dev/null || true
  echo "$pid"
}

# bench_mirrord NAME FLAGS... -- APPCMD... : bin/mirrord exec in the dev namespace (SIGINT restored for the CLI and
# app); bin/mirrord execs the CLI's JVM, so the pid printed is the CLI's.
bench_mirrord() {
  local name=$1
  shift
  local -a flags=()
  while [[ $1 != -- ]]; do flags+=("$1"); shift; done
  shift
  MIRRORD_LOG_FILE="$BENCH_WORK/$name-mirrord.log" setsid ip netns exec "$(bench_ns local)" \
    perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die "exec: $!"' -- \
    "$BENCH_ROOT/bin/mirrord" exec "${flags[@]}" --target "pid/$BENCH_POD_PID" -- "$@" \
    </dev/null >"$BENCH_WORK/$name.out" 2>"$BENCH_WORK/$name.err" &
  local pid=$!
  disown "$pid" 2>/dev/null || true
  echo "$pid"
}

# bench_running PID: whether the process runs. Not `kill -0`, which also succeeds for a zombie: the processes
# bench_start starts are orphans (their parent, a command substitution's subshell, is gone), and this VM's init
# reaps orphans late, up to ~2 s after they exited.
bench_running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ -n $stat && ${stat:0:1} != Z ]]
}

# bench_stop PID [SIGNAL]: signal (default INT) and wait up to 15 s for the exit, then SIGKILL.
bench_stop() {
  local i
  kill -"${2:-INT}" "$1" 2>/dev/null || return 0
  for ((i = 0; i < 150; i++)); do bench_running "$1" || return 0; sleep 0.1; done
  bench_log "pid $1 did not exit within 15 s of SIG${2:-INT}; killing it"
  kill -KILL "$1" 2>/dev/null || true
}

# bench_wait_line FILE REGEX SECONDS
bench_wait_line() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    if grep -qE "$2" "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  bench_die "no /$2/ in $1 within $3 s"
}

# The agent of a mirrord CLI pid: its descendant running mirrord-pod-agent.jar.
bench_agent_pid() {
  local p
  for p in $(pgrep -P "$1") ; do
    if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q mirrord-pod-agent.jar; then echo "$p"; return 0; fi
  done
  return 1
}

# CPU seconds (user+system) used so far by a pid.
bench_cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}

# wrk output -> "REQUESTS RPS P50_US P99_US ERRORS"
bench_parse_wrk() {
  awk '
    function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return (v + 0) * 1000; if (v ~ /s$/) return (v + 0) * 1000000; return v + 0 }
    / 50%/ { p50 = us($2) } / 99%/ { p99 = us($2) }
    /requests in/ { req = $1 } /Requests\/sec/ { rps = $2 }
    /Socket errors/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 } /Non-2xx/ { err += $5 }
    END { printf "%d %.0f %.0f %.0f %d\n", req, rps, p50, p99, err }'
}

# bench_status_mib PID KEY... -> each KEY of /proc/PID/status (VmRSS, VmHWM, RssAnon, …) in MiB, "?" for one it
# lacks; all "?" if the process is gone
bench_status_mib() {
  local pid=$1
  shift
  awk -v keys="$*" 'BEGIN { n = split(keys, k, " ") } { sub(/:$/, "", $1); v[$1] = int($2 / 1024) }
    END { for (i = 1; i <= n; i++) printf "%s%s", (k[i] in v ? v[k[i]] : "?"), (i < n ? " " : "\n") }' \
    "/proc/$pid/status" 2>/dev/null || { printf '?%.0s ' "$@" | sed 's/ $//'; echo; }
}

# bench_rss PID -> "RSS_MIB PEAK_MIB" of a live process (VmRSS, VmHWM), "? ?" if it is gone
bench_rss() { bench_status_mib "$1" VmRSS VmHWM; }

# bench_agent_options OPTION... : appends one line per OPTION to the agent.jvm.options of this run's agent jar copy
# (a new jar: its own AOT cache, built by bench_prepare_caches)
bench_agent_options() {
  local opts
  opts=$(mktemp -d "$BENCH_WORK/opts.XXXX")
  mkdir -p "$opts/META-INF/mirrord"
  unzip -p "$BENCH_WORK/jars/mirrord-pod-agent.jar" META-INF/mirrord/agent.jvm.options >"$opts/META-INF/mirrord/agent.jvm.options"
  printf '%s\n' "$@" >>"$opts/META-INF/mirrord/agent.jvm.options"
  (cd "$opts" && "$BENCH_JAVA_HOME/bin/jar" uf "$BENCH_WORK/jars/mirrord-pod-agent.jar" META-INF/mirrord/agent.jvm.options)
}

# bench_bind_wait PORT LAYER_LOG... -> the ms from the layer log's first "listen port=PORT" line (the app's bind is
# done) to the first "subscribed target port PORT" line after it: the bind's wait for its subscription. Prints nothing
# if the logs lack either line.
bench_bind_wait() {
  local port=$1
  shift
  { cat "$@" 2>/dev/null || true; } | awk -v listen=" INFO .*listen port=$port " -v subscribed="subscribed target port $port " '
    function hms(s,   p) { split(s, p, /[:.]/); return ((p[1] * 60 + p[2]) * 60 + p[3]) * 1000 + substr(p[4], 1, 3) }
    $0 ~ listen && !up { up = hms(substr($1, 12, 12)) }
    index($0, subscribed) && up && !done { done = 1; print hms(substr($1, 12, 12)) - up }'
}

# bench_extra_agent_options : bench_agent_options with the words of EXTRA_AGENT_OPTS, if set, and a log line saying so
bench_extra_agent_options() {
  [[ -n ${EXTRA_AGENT_OPTS:-} ]] || return 0
  # shellcheck disable=SC2086 # one option per word on purpose
  bench_agent_options $EXTRA_AGENT_OPTS
  bench_log "agent options appended: $EXTRA_AGENT_OPTS"
}

# bench_default_cli_flags -> bin/mirrord's own CLI JVM flags (its cli_opts default, without MIRRORD_CLI_JAVA_OPTS)
bench_default_cli_flags() {
  sed -n 's/^read -r -a cli_opts <<<"${MIRRORD_CLI_JAVA_OPTS:-\(.*\)}"$/\1/p' "$BENCH_ROOT/bin/mirrord"
}

# bench_cli_opts JAR_DIR -> the CLI's JVM flags of that build, from its file cli.opts (e.g. the flags an older
# bin/mirrord started the CLI with); fails without the file (today's bin/mirrord's own flags then)
bench_cli_opts() { [[ -f $1/cli.opts ]] && cat "$1/cli.opts"; }
