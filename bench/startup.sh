#!/usr/bin/env bash
# bench/startup.sh — how long `mirrord exec` makes a developer wait (issue 14's benchmark). Not a test: prints tables.
#
#   sudo bench/startup.sh           RUNS=5 to change the number of runs (medians are printed)
#   AGENT_TTL=60 sudo bench/startup.sh   runs mirrord with --agent-ttl 60: every run after the first reuses the agent
#                                   the first one kept (its start is off the path); the kept agent is not counted as
#                                   a process of the session
#   BASELINE_JARS=DIR sudo bench/startup.sh   also runs the three jars in DIR (e.g. main's build) as "before", the
#                                   way main's bin/mirrord starts them (java -XX:+UseSerialGC -Xshare:auto -jar …),
#                                   alternating with this tree's, so that before and after share the machine's load
#
# Every run happens in the lab's dev namespace <lab>-local (loopback only), against `--target pid/<lab pod>`, through
# bin/mirrord (with MIRRORD_JAR_DIR pointing at this run's copy of the jars), exactly as a user starts it. The same
# command runs plain (`java …`) and under mirrord, alternately, RUNS times each:
#   (a) exit      a class whose main exits with 42 at once: wall time until the command returns, and until every
#                 process of the session (CLI, agent, app, and anything they started) has ended; and the CPU (user +
#                 system) of the processes that ended with it (bash's `times` around the run: each process is waited
#                 for by its parent), beside plain java's and the floor's;
#   (b) listen    ShaHttpServerApp (a JDK HttpServer) on 8080: from the start until a first request from the dev
#                 namespace (curl to 127.0.0.1:8080, every 10 ms) is answered; then SIGTERM and the time until the
#                 command returns / every process has ended; also the median of the bind's wait for its port
#                 subscription (the layer log's "listen port=8080" to "subscribed target port 8080");
#   (c) mirrored  the same server under mirrord while a client in the lab's client namespace sends a request to the
#                 pod (198.18.0.10:8080) every 20 ms: from `mirrord exec` until the first mirrored request is printed
#                 by the app (the plain column is (b)'s time-to-listen: without mirrord nothing is mirrored).
#   (a) floor     in the same loop, the shape's floor (bench/floor/StartFloor.java): the session's JVMs with nothing of
#                 mirrord in them — a launcher with the CLI's flags, a stand-in agent JVM (none with AGENT_TTL) and
#                 Exit42 with an empty -javaagent.
# Also: a per-phase breakdown of the (a) runs, read from the CLI, agent and layer logs (medians); the floor (plain
# `java -version`, the CLI's `--version` with and without its AOT cache); and the RSS of the idle agent and CLI, 1 s
# after (b)'s first answer and, settled, SETTLED_S (default 12) s after it (past two of the JVMs' native-memory trims,
# every 5 s, and the start's JIT arenas: an agent was ~6 MiB above its settled RSS for ~10 s after the start).
# EXTRA_AGENT_OPTS="-Dmirrord.capture.ring.first.mib=64": options appended to this run's copy of agent.jvm.options.
# The first mirrord run of a fresh jar copy builds the AOT caches (MIRRORD_AOT_CACHE_DIR, here a directory of this
# run); it is reported on its own and not counted in the medians.
source "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-5}
POLL_MS=${POLL_MS:-10}
SETTLED_S=${SETTLED_S:-12}
PORT=8080

bench_build
bench_lab_up
bench_extra_agent_options
LOCAL_NS=$(bench_ns local)
POD_NS=$(bench_ns pod)
export MIRRORD_JAR_DIR="$BENCH_WORK/jars"
export MIRRORD_AOT_CACHE_DIR="$BENCH_WORK/aot"
[[ -n ${CLI_FLAGS:-} ]] && export MIRRORD_CLI_JAVA_OPTS="$CLI_FLAGS"

# The program that exits at once.
mkdir -p "$BENCH_WORK/exit"
printf 'public class Exit42 { public static void main(String[] a) { System.exit(42); } }\n' >"$BENCH_WORK/exit/Exit42.java"
"$BENCH_JAVA_HOME/bin/javac" --release 17 -d "$BENCH_WORK/exit" "$BENCH_WORK/exit/Exit42.java"
EXIT_APP=("$BENCH_JAVA" -XX:+UseParallelGC -Xshare:auto -cp "$BENCH_WORK/exit" Exit42)
mapfile -t SERVER < <(bench_app_cmd ShaHttpServerApp "$PORT" local 600)
MIRRORD=("$BENCH_ROOT/bin/mirrord" exec --target "pid/$BENCH_POD_PID")
AGENT_TTL=${AGENT_TTL:-0}
if ((AGENT_TTL > 0)); then MIRRORD+=(--agent-ttl "$AGENT_TTL"); fi
# The shape's floor (bench/floor/StartFloor.java): the JVMs of a session with nothing of mirrord in them — a launcher
# with the CLI's JVM flags, a stand-in agent (nice 10, in the pod's netns; none with AGENT_TTL, whose runs reuse a
# kept agent) that prints READY and waits for its stdin to end, and the command with an empty -javaagent.
mkdir -p "$BENCH_WORK/floor"
"$BENCH_JAVA_HOME/bin/javac" --release 17 -d "$BENCH_WORK/floor" "$BENCH_ROOT/bench/floor/StartFloor.java"
printf 'Premain-Class: StartFloor\n' >"$BENCH_WORK/floor/manifest.txt"
"$BENCH_JAVA_HOME/bin/jar" --create --file "$BENCH_WORK/floor/agent.jar" --manifest "$BENCH_WORK/floor/manifest.txt" \
  -C "$BENCH_WORK/floor" StartFloor.class
read -r -a floor_cli_flags <<<"$(bench_default_cli_flags)"
((${#floor_cli_flags[@]})) || bench_die "could not read the CLI's flags from bin/mirrord"
FLOOR=("$BENCH_JAVA" "${floor_cli_flags[@]}" -Dfloor.javaagent="$BENCH_WORK/floor/agent.jar" -cp "$BENCH_WORK/floor"
  StartFloor launch)
((AGENT_TTL > 0)) || FLOOR+=(nsenter --net="/proc/$BENCH_POD_PID/ns/net" nice -n 10 "$BENCH_JAVA" -XX:+UseSerialGC
  -cp "$BENCH_WORK/floor" StartFloor agent)
FLOOR+=(--)
BASE=()
if [[ -n ${BASELINE_JARS:-} ]]; then
  mkdir -p "$BENCH_WORK/base-jars"
  cp "$BASELINE_JARS"/mirrord-{cli,layer-agent,pod-agent}.jar "$BENCH_WORK/base-jars/"
  BASE=("$BENCH_JAVA" -XX:+UseSerialGC -Xshare:auto -Dmirrord.layer.jar="$BENCH_WORK/base-jars/mirrord-layer-agent.jar"
    -Dmirrord.agent.jar="$BENCH_WORK/base-jars/mirrord-pod-agent.jar" -jar "$BENCH_WORK/base-jars/mirrord-cli.jar"
    exec --target "pid/$BENCH_POD_PID")
fi

now_ms() { local t=$EPOCHREALTIME; echo $((${t/./} / 1000)); }
# ms of the local day, for log lines stamped HH:MM:SS.mmm (the CLI's and agent's) — same clock as now_ms
TZ_OFFSET_MS=$(($(date +%z | sed -E 's/^([+-])0?([0-9]{1,2})([0-9]{2})$/\1(\2*60+\3)/') * 60000))
day_ms() { echo $((($1 + TZ_OFFSET_MS) % 86400000)); }

# Pids in the pod namespace before any session: the lab's own server. A session has ended when nothing else runs
# there and nothing runs in the dev namespace.
# With AGENT_TTL, an agent kept for the next session (its socket is under mirrord-agents/) does not count.
pod_pids() {
  local p
  for p in $(ip netns pids "$POD_NS"); do
    if ((AGENT_TTL > 0)) && grep -q mirrord-agents "/proc/$p/cmdline" 2>/dev/null; then continue; fi
    echo "$p"
  done | sort | tr '\n' ' '
}
POD_BASELINE=$(pod_pids)
session_gone() {
  [[ -z $(ip netns pids "$LOCAL_NS") ]] && [[ $(pod_pids) == "$POD_BASELINE" ]]
}
# wait_gone -> ms when every process of the session had ended (polled; bounded at 30 s)
wait_gone() {
  local i
  for ((i = 0; i < 3000; i++)); do
    if session_gone; then now_ms; return 0; fi
    sleep 0.01
  done
  bench_log "processes still running 30 s after the command returned: local [$(ip netns pids "$LOCAL_NS" | tr '\n' ' ')]"
  ip netns pids "$LOCAL_NS" | xargs -r kill -KILL
  now_ms
}

# run_exit LABEL CMD... -> "RETURN_MS GONE_MS RC CPU_MS"
run_exit() {
  local label=$1 t0 t1 t2 rc=0 c0 c1
  shift
  children_cpu_ms c0 "$label"
  t0=$(now_ms)
  MIRRORD_LOG_FILE="$BENCH_WORK/$label-mirrord.log" ip netns exec "$LOCAL_NS" "$@" </dev/null \
    >"$BENCH_WORK/$label.out" 2>"$BENCH_WORK/$label.err" || rc=$?
  t1=$(now_ms)
  children_cpu_ms c1 "$label"
  t2=$(wait_gone)
  echo "$t0" >"$BENCH_WORK/$label.t0"
  echo "$((t1 - t0)) $((t2 - t0)) $rc $((c1 - c0))"
}

# children_cpu_ms VAR LABEL: VAR = the user + system CPU ms of the processes this shell has waited for so far (bash's
# `times`, its second line; never in a command substitution, whose subshell would report its own). Every process a
# session starts is waited for by its parent (the CLI waits for the agent and the command), so the difference around
# a run is the CPU of all of its processes that ended with it.
children_cpu_ms() {
  local f="$BENCH_WORK/$2.times" u s
  times >"$f"
  { read -r _ _; read -r u s; } <"$f"
  printf -v "$1" '%d' $(($(cpu_ms "$u") + $(cpu_ms "$s")))
}
# cpu_ms 1m2.345s -> 62345
cpu_ms() {
  local m=${1%%m*} sec=${1#*m}
  sec=${sec%s}
  echo $((10#$m * 60000 + 10#${sec%.*} * 1000 + 10#${sec#*.}))
}

# curl_until_ok NODE URL SECONDS -> ms when the first answer came (or "" after SECONDS)
curl_until_ok() {
  local end=$(($(now_ms) + $3 * 1000))
  while (($(now_ms) < end)); do
    if ip netns exec "$(bench_ns "$1")" curl -s -o /dev/null -m 5 "$2" 2>/dev/null; then now_ms; return 0; fi
    sleep "0.0$POLL_MS"
  done
}

# The agent of the session of CLI pid $1: its child, or with AGENT_TTL the kept agent of the lab's pod (started by an
# earlier session, so no child of this CLI).
session_agent_pid() {
  if ((AGENT_TTL > 0)); then
    pgrep -n -f "mirrord-pod-agent.jar.*--target-pid $BENCH_POD_PID .*--idle-timeout" || true
  else
    bench_agent_pid "$1"
  fi
}

# run_listen LABEL CMD... -> "LISTEN_MS STOP_RETURN_MS STOP_GONE_MS [AGENT_RSS CLI_RSS AGENT_RSS_SETTLED CLI_RSS_SETTLED]"
run_listen() {
  local label=$1 t0 t1 pid rss="" t2 t3
  shift
  t0=$(now_ms)
  pid=$(bench_start "$label" local env MIRRORD_LOG_FILE="$BENCH_WORK/$label-mirrord.log" "$@")
  t1=$(curl_until_ok local "http://127.0.0.1:$PORT/" 60)
  [[ -n $t1 ]] || bench_die "$label: nothing answered on $PORT within 60 s; see $BENCH_WORK/$label.{out,err}"
  if [[ $1 == "$BENCH_ROOT/bin/mirrord" || $* == *mirrord-cli.jar* ]]; then
    sleep 1 # idle: the pid is the CLI's JVM (env, setsid, ip netns exec and bin/mirrord all exec)
    rss="$(rss_of "$(session_agent_pid "$pid")") $(rss_of "$pid")"
    # settled: past two of the JVMs' native-memory trims (every 5 s) and the start's JIT arenas
    sleep $((SETTLED_S - 1))
    rss+=" $(rss_of "$(session_agent_pid "$pid")") $(rss_of "$pid")"
  fi
  t2=$(now_ms)
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 3000; i++)); do bench_running "$pid" || break; sleep 0.01; done
  t3=$(now_ms)
  echo "$((t1 - t0)) $((t3 - t2)) $(($(wait_gone) - t2)) $rss"
}

rss_of() { [[ -n $1 ]] && awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }

# run_mirrored LABEL MIRRORD... -> "FIRST_MIRRORED_MS"
run_mirrored() {
  local label=$1 t0 stop i first="" pid
  shift
  stop="$BENCH_WORK/$label.stop"
  : >"$BENCH_WORK/$label.out"
  rm -f "$stop"
  # a bounded request loop from the lab's client namespace to the pod: at most 60 s, until told to stop
  ip netns exec "$(bench_ns client)" bash -c "for ((i = 0; i < 3000; i++)); do [[ -e $stop ]] && exit 0;
    curl -s -o /dev/null -m 1 http://198.18.0.10:$PORT/ || true; sleep 0.02; done" &
  local loop=$!
  t0=$(now_ms)
  pid=$(bench_start "$label" local env MIRRORD_LOG_FILE="$BENCH_WORK/$label-mirrord.log" "$@" -- "${SERVER[@]}")
  for ((i = 0; i < 6000; i++)); do
    if grep -q '^sha-http.req ' "$BENCH_WORK/$label.out" 2>/dev/null; then first=$(now_ms); break; fi
    sleep "0.0$POLL_MS"
  done
  touch "$stop"
  wait "$loop" 2>/dev/null || true
  bench_stop "$pid" TERM
  wait_gone >/dev/null
  [[ -n $first ]] || bench_die "$label: no mirrored request reached the app within 60 s; see $BENCH_WORK/$label.{out,err}"
  echo "$((first - t0))"
}

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "?"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.0f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$1" '{ print $c }'; }

# The bind's wait for its subscription in one mirrord run of (b): from the layer log's "listen port=8080" line (the
# bind itself is done) to its "subscribed target port 8080" line. Prints the ms, or nothing if the log lacks either.
bind_wait() {
  local cli="$BENCH_WORK/$1-mirrord.log" session layer
  session=$(sed -n 's/.*ExecSession - session \([0-9a-f]*\) in .*/\1/p' "$cli" 2>/dev/null | head -1)
  layer="$BENCH_WORK/mirrord-$session-layer.log"
  [[ -n $session && -f $layer ]] || return 0
  bench_bind_wait "$PORT" "$layer"
}

# Per-phase breakdown of one mirrord run of (a), from its logs. Prints "NAME MS" lines.
phases() {
  local label=$1 t0 t_ret t_gone cli agent layer
  t0=$(day_ms "$(cat "$BENCH_WORK/$label.t0")")
  read -r t_ret t_gone _ <<<"$2"
  cli="$BENCH_WORK/$label-mirrord.log"
  local session
  session=$(sed -n 's/.*ExecSession - session \([0-9a-f]*\) in .*/\1/p' "$cli" | head -1)
  agent="$BENCH_WORK/mirrord-$session-agent.log"
  layer="$BENCH_WORK/mirrord-$session-layer.log"
  local files=()
  [[ -f $layer ]] && files+=("$layer")
  [[ -f $agent ]] && files+=("$agent") # none when the session reused a kept agent (AGENT_TTL)
  files+=("$cli")
  awk -v t0="$t0" -v ret="$t_ret" -v gone="$t_gone" -v tz="$TZ_OFFSET_MS" '
    function hms(s,   p) { split(s, p, /[:.]/); return ((p[1] * 60 + p[2]) * 60 + p[3]) * 1000 + substr(p[4], 1, 3) }
    FILENAME ~ /-layer\.log$/ {
      # 2026-12-04T05:26:25.895468889Z: UTC
      t = (hms(substr($1, 12, 12)) + tz + 86400000) % 86400000
      if ($0 ~ / layer [^ ]+ starting: /) layer_start = t
      if ($0 ~ /layer ready in /) {
        layer_ready = t; match($0, /ready in [0-9]+/); layer_ms = substr($0, RSTART + 9, RLENGTH - 9)
        # since the layer build of 2026-12-06: "(N ms since premain)", from the entry of premain, before the session file and
        # the bootstrap classes, which come before the "starting" line
        if (match($0, /\([0-9]+ ms since premain/)) since_premain = substr($0, RSTART + 1, RLENGTH - 18)
      }
      next
    }
    FILENAME ~ /-agent\.log$/ { t = hms($1); if (!agent_first) agent_first = t; next }
    {
      t = hms($1)
      if ($0 ~ /ExecSession - session [0-9a-f]+ in /) session = t
      if ($0 ~ /starting agent:/) agent_start = t
      if ($0 ~ / ready at /) agent_ready = t
      if ($0 ~ /reusing agent pid /) { agent_ready = t; reused = 1 }
      if ($0 ~ /agent handshake ok/) handshake = t
      if ($0 ~ /imported [0-9]+ of|environment import disabled/) env = t
      if ($0 ~ /waits for the agent.s handshake/ && !held) held = t
      if ($0 ~ /ChildProcess - started /) child = t
      if ($0 ~ /ChildProcess - .* exited with/) child_exit = t
      if ($0 ~ /session [0-9a-f]+ cleaned up/) cleaned = t
    }
    END {
      printf "cli_start %d\n", session - t0
      if (agent_start && agent_first) printf "agent_jvm %d\n", agent_first - agent_start
      if (agent_start) printf "agent_ready %d\n", agent_ready - agent_start
      if (reused) printf "agent_reuse %d\n", agent_ready - session
      printf "handshake %d\n", handshake - agent_ready
      # since 2026-12-06 22:00 a JVM command of a pid/N target starts beside the agent: the CLI reads the environment
      # from /proc/N before the agent is up, and the layer Hello waits for the agent handshake
      if (env < handshake) printf "target_env_local %d\n", env - session
      else printf "target_env %d\n", env - handshake
      printf "child_spawn %d\n", child - env
      # (parenthesised: a bare ">" in a printf argument list is an output redirection in awk)
      printf "layer_held %d\n", ((held && handshake > held) ? handshake - held : 0)
      if (since_premain != "") {
        printf "app_jvm %d\n", layer_ready - since_premain - child
        printf "layer_premain %d\n", since_premain
      } else {
        printf "app_jvm %d\n", layer_start - child
      }
      printf "layer_attach %d\n", layer_ms
      printf "app_to_exit %d\n", child_exit - layer_ready
      printf "teardown_cleanup %d\n", cleaned - child_exit
      printf "teardown_return %d\n", ret - (child_exit - t0)
      printf "teardown_all %d\n", gone - (child_exit - t0)
      printf "total_return %d\n", ret
    }' "${files[@]}"
}

# Floor: the JVM's own start, and the CLI jar with and without its AOT cache.
floor_version=()
floor_cli_aot=()
floor_cli_plain=()
for ((i = 0; i < RUNS; i++)); do
  t=$(now_ms); "$BENCH_JAVA" -Xshare:auto -version >/dev/null 2>&1; floor_version+=($(($(now_ms) - t)))
done

PREPARE_S=$(bench_prepare_caches)
bench_log "start-up caches of this jar copy built in $PREPARE_S s; first mirrord run"
FIRST=$(run_exit first "${MIRRORD[@]}" -- "${EXIT_APP[@]}")
bench_log "first run: $FIRST (return_ms gone_ms rc cpu_ms)"
read -r _ _ rc _ <<<"$FIRST"
[[ $rc -eq 42 ]] || bench_die "mirrord exec of Exit42 exited with $rc; see $BENCH_WORK/first.{out,err}"
if ((AGENT_TTL > 0)); then
  # The first run trained the caches, so its agent ran without them and is another agent than the runs' (the AOT
  # cache is part of a kept agent's identity): this run starts the agent that every measured run then reuses.
  r=$(run_exit kept-agent-start "${MIRRORD[@]}" -- "${EXIT_APP[@]}")
  bench_log "run that starts the kept agent: $r (return_ms gone_ms rc; not in the medians)"
fi

for ((i = 0; i < RUNS; i++)); do
  t=$(now_ms); MIRRORD_AOT=off "$BENCH_ROOT/bin/mirrord" --version >/dev/null 2>&1; floor_cli_plain+=($(($(now_ms) - t)))
  t=$(now_ms); "$BENCH_ROOT/bin/mirrord" --version >/dev/null 2>&1; floor_cli_aot+=($(($(now_ms) - t)))
done

declare -a A_PLAIN A_MIRRORD A_FLOOR A_BASE B_PLAIN B_MIRRORD B_BASE C_MIRRORD C_BASE
# the last element, or "-" for an empty array (no BASELINE_JARS)
last() { if (($#)); then echo "${@: -1}"; else echo -; fi; }
PHASES=""
BASE_PHASES=""
for ((i = 1; i <= RUNS; i++)); do
  r=$(run_exit "a-plain-$i" "${EXIT_APP[@]}")
  A_PLAIN+=("$r")
  r=$(run_exit "a-mirrord-$i" "${MIRRORD[@]}" -- "${EXIT_APP[@]}")
  A_MIRRORD+=("$r")
  read -r _ _ rc _ <<<"$r"
  [[ $rc -eq 42 ]] || bench_die "a-mirrord-$i exited with $rc; see $BENCH_WORK/a-mirrord-$i.{out,err}"
  PHASES+=$(phases "a-mirrord-$i" "$r")$'\n'
  r=$(run_exit "a-floor-$i" "${FLOOR[@]}" "${EXIT_APP[@]}")
  A_FLOOR+=("$r")
  read -r _ _ rc _ <<<"$r"
  [[ $rc -eq 42 ]] || bench_die "a-floor-$i exited with $rc; see $BENCH_WORK/a-floor-$i.{out,err}"
  if [[ ${#BASE[@]} -gt 0 ]]; then
    r=$(run_exit "a-base-$i" "${BASE[@]}" -- "${EXIT_APP[@]}")
    A_BASE+=("$r")
    BASE_PHASES+=$(phases "a-base-$i" "$r")$'\n'
  fi
  bench_log "(a) run $i: plain ${A_PLAIN[-1]}, mirrord ${A_MIRRORD[-1]}, floor ${A_FLOOR[-1]}, before $(last "${A_BASE[@]}") (return_ms gone_ms rc cpu_ms)"
done
for ((i = 1; i <= RUNS; i++)); do
  B_PLAIN+=("$(run_listen "b-plain-$i" "${SERVER[@]}")")
  B_MIRRORD+=("$(run_listen "b-mirrord-$i" "${MIRRORD[@]}" -- "${SERVER[@]}")")
  C_MIRRORD+=("$(run_mirrored "c-mirrord-$i" "${MIRRORD[@]}")")
  if [[ ${#BASE[@]} -gt 0 ]]; then
    B_BASE+=("$(run_listen "b-base-$i" "${BASE[@]}" -- "${SERVER[@]}")")
    C_BASE+=("$(run_mirrored "c-base-$i" "${BASE[@]}")")
  fi
  bench_log "(b)/(c) run $i: plain ${B_PLAIN[-1]}, mirrord ${B_MIRRORD[-1]} (listen stop_return stop_gone [agent_rss cli_rss, then settled]); first mirrored ${C_MIRRORD[-1]} ms; before $(last "${B_BASE[@]}"), $(last "${C_BASE[@]}") ms"
done

m() { printf '%s\n' "${@:3}" | col "$1" | median; }
row() { # LABEL PLAIN MIRRORD [BEFORE]
  if [[ ${#BASE[@]} -gt 0 ]]; then
    if [[ -z $4 ]]; then
      printf '| %-58s | %7s | %7s | %+7d | %7s | %7s |\n' "$1" "$2" "$3" "$(($3 - $2))" "" ""
    else
      printf '| %-58s | %7s | %7s | %+7d | %7s | %+7d |\n' "$1" "$2" "$3" "$(($3 - $2))" "$4" "$(($4 - $2))"
    fi
  else
    printf '| %-58s | %7s | %7s | %+7d |\n' "$1" "$2" "$3" "$(($3 - $2))"
  fi
}
echo
echo "## bench/startup.sh — $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(bench_machine); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
((AGENT_TTL > 0)) && echo "mirrord runs with --agent-ttl $AGENT_TTL: each run after the first reused the agent kept by the first"
echo "CLI JVM flags: $BENCH_CLI_FLAGS_TEXT; apps: -XX:+UseParallelGC -Xshare:auto; $RUNS runs each, medians, ms"
echo
if [[ ${#BASE[@]} -gt 0 ]]; then
  echo "| what                                                       |   plain | mirrord |   added |  before |   added |"
  echo "|------------------------------------------------------------|---------|---------|---------|---------|---------|"
else
  echo "| what                                                       |   plain | mirrord |   added |"
  echo "|------------------------------------------------------------|---------|---------|---------|"
fi
row "(a) Exit42: until the command returns" "$(m 1 x "${A_PLAIN[@]}")" "$(m 1 x "${A_MIRRORD[@]}")" "$(m 1 x "${A_BASE[@]}")"
row "(a) Exit42: until every process of the session has ended" "$(m 2 x "${A_PLAIN[@]}")" "$(m 2 x "${A_MIRRORD[@]}")" "$(m 2 x "${A_BASE[@]}")"
row "(a) floor: the JVMs alone (bench/floor), until it returns" "$(m 1 x "${A_PLAIN[@]}")" "$(m 1 x "${A_FLOOR[@]}")" ""
row "(a) floor: until every process has ended" "$(m 2 x "${A_PLAIN[@]}")" "$(m 2 x "${A_FLOOR[@]}")" ""
row "(a) Exit42: CPU of its processes (user + system)" "$(m 4 x "${A_PLAIN[@]}")" "$(m 4 x "${A_MIRRORD[@]}")" "$(m 4 x "${A_BASE[@]}")"
row "(a) floor: CPU of its processes" "$(m 4 x "${A_PLAIN[@]}")" "$(m 4 x "${A_FLOOR[@]}")" ""
row "(b) HTTP server: until the first request is answered" "$(m 1 x "${B_PLAIN[@]}")" "$(m 1 x "${B_MIRRORD[@]}")" "$(m 1 x "${B_BASE[@]}")"
row "(b) after SIGTERM: until the command returns" "$(m 2 x "${B_PLAIN[@]}")" "$(m 2 x "${B_MIRRORD[@]}")" "$(m 2 x "${B_BASE[@]}")"
row "(b) after SIGTERM: until every process has ended" "$(m 3 x "${B_PLAIN[@]}")" "$(m 3 x "${B_MIRRORD[@]}")" "$(m 3 x "${B_BASE[@]}")"
row "(c) until the first mirrored request reaches the app" "$(m 1 x "${B_PLAIN[@]}")" "$(m 1 x "${C_MIRRORD[@]}")" "$(m 1 x "${C_BASE[@]}")"
read -r f_ret f_gone _ <<<"$FIRST"
echo
echo "start-up caches of this jar copy: built in $PREPARE_S s (once per build: bin/mirrord's training session); then the first run returned after $f_ret ms, all processes ended after $f_gone ms (not in the medians)"
echo "floor: java -version $(printf '%s\n' "${floor_version[@]}" | median) ms; bin/mirrord --version $(printf '%s\n' "${floor_cli_aot[@]}" | median) ms with the AOT cache, $(printf '%s\n' "${floor_cli_plain[@]}" | median) ms without (MIRRORD_AOT=off)"
before_rss=""
if [[ ${#BASE[@]} -gt 0 ]]; then
  before_rss="; before: agent $(m 4 x "${B_BASE[@]}") MiB, CLI $(m 5 x "${B_BASE[@]}") MiB, $SETTLED_S s after: agent $(m 6 x "${B_BASE[@]}") MiB, CLI $(m 7 x "${B_BASE[@]}") MiB"
fi
echo "(b) the bind's wait for its subscription (layer log: listen -> subscribed), median: $(for ((i = 1; i <= RUNS; i++)); do bind_wait "b-mirrord-$i"; done | median) ms"
echo "idle RSS 1 s after the first answer of (b): agent $(m 4 x "${B_MIRRORD[@]}") MiB, CLI $(m 5 x "${B_MIRRORD[@]}") MiB; settled, $SETTLED_S s after it: agent $(m 6 x "${B_MIRRORD[@]}") MiB, CLI $(m 7 x "${B_MIRRORD[@]}") MiB (goals: agent <= 64, CLI <= 96)$before_rss"
echo
echo "(a) under mirrord, per phase (medians of the runs; from the CLI, agent and layer logs):"
echo
if [[ ${#BASE[@]} -gt 0 ]]; then
  echo "| phase                                                           |    ms | before |"
  echo "|-----------------------------------------------------------------|-------|--------|"
else
  echo "| phase                                                           |    ms |"
  echo "|-----------------------------------------------------------------|-------|"
fi
phase_row() {
  local now before=""
  now=$(awk -v k="$1" '$1 == k { print $2 }' <<<"$PHASES" | median)
  if [[ ${#BASE[@]} -gt 0 ]]; then
    before=$(awk -v k="$1" '$1 == k { print $2 }' <<<"$BASE_PHASES" | median)
    [[ $now == "?" && $before == "?" ]] && return 0 # a phase neither build's logs show
    printf '| %-63s | %5s | %6s |\n' "$2" "$now" "$before"
  else
    [[ $now == "?" ]] && return 0
    printf '| %-63s | %5s |\n' "$2" "$now"
  fi
}
phase_row cli_start "CLI start: bin/mirrord, JVM, picocli, config, log (to its first line)"
phase_row agent_jvm "agent JVM start under nsenter (to the agent's first log line)"
phase_row agent_ready "agent start, until its READY line"
((AGENT_TTL == 0)) || phase_row agent_reuse "kept agent found and taken (from the session's first line)"
phase_row handshake "agent connection + handshake"
phase_row target_env "target info + environment import (after the handshake)"
phase_row target_env_local "environment + resolver files from /proc/N (beside the agent)"
phase_row child_spawn "session file, command started"
phase_row layer_held "the layer's Hello held until the agent's handshake"
phase_row app_jvm "the app's JVM start until the layer's premain"
phase_row layer_premain "the layer's premain until ready (\"… ms since premain\")"
phase_row layer_attach "layer attach (the layer log's \"layer ready in\")"
phase_row app_to_exit "the app's main, until the CLI sees it exit"
phase_row teardown_cleanup "tear-down: child exit until the CLI's \"cleaned up\""
phase_row teardown_return "tear-down: child exit until mirrord exec returns"
phase_row teardown_all "tear-down: child exit until every process has ended"
phase_row total_return "total, until mirrord exec returns"
echo
echo "goals (issue 14): (a) added <= +500 ms both ways; layer attach <= 150 ms; agent RSS <= 64 MiB; CLI RSS <= 96 MiB"
