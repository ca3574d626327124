#!/usr/bin/env bash
# scripts/demo.sh — mirrord for the JVM in two minutes, on one Debian machine, as root; no cluster, no Docker.
#
#   1. installs what is missing (scripts/install-deps.sh) and builds the jars (bin/mirrord --version builds them);
#   2. makes a lab (scripts/lab.sh up): a "pod" in its own network namespace serving HTTP on :8080, and a "client"
#      namespace that calls it;
#   3. runs demo/DemoApp.java — a plain JDK HttpServer on :8080 — under
#        bin/mirrord exec --target pid/<pod pid> -- java demo/DemoApp.java
#      and shows: what the app sees (it runs here, but its layer talks to an agent inside the pod's namespace),
#      a client request mirrored to it (the pod still answers), the same request stolen with --tcp-steal (the local
#      JVM answers), and that after mirrord exits the pod answers again and no iptables rule is left;
#   4. tears everything down, whatever happens (trap on EXIT). Logs stay in /tmp/mirrord-demo.*/.
#
# Every wait is bounded. Exit status: 0 when every check passed, 1 otherwise.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$root"

if [[ $(id -u) -ne 0 ]]; then
  echo "demo.sh: needs root (network namespaces, iptables); run: sudo $0" >&2
  exit 1
fi

if [[ -t 1 ]]; then B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' D=$'\e[2m' N=$'\e[0m'; else B="" G="" R="" D="" N=""; fi
heading() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
say() { printf '   %s\n' "$*"; }
show() { sed "s/^/     ${D}│${N} /"; }             # indent captured output
FAILED=0
check() { # check <description> <command...>: one ✓/✗ line
  local what=$1; shift
  if "$@"; then printf '   %s✓%s %s\n' "$G" "$N" "$what"; else printf '   %s✗ %s%s\n' "$R" "$what" "$N"; FAILED=$((FAILED + 1)); fi
}
die() { printf '%sdemo.sh: %s%s\n' "$R" "$*" "$N" >&2; exit 1; }

WORK=$(mktemp -d /tmp/mirrord-demo.XXXXXX)
LAB_PREFIX=""
MIRRORD_PID=""
APP_LOG=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_mirrord quiet || true
  if [[ -n $LAB_PREFIX ]]; then
    scripts/lab.sh down --prefix "$LAB_PREFIX" >>"$WORK/lab.log" 2>&1 || echo "demo.sh: could not delete lab $LAB_PREFIX; run: scripts/lab.sh down --prefix $LAB_PREFIX" >&2
  fi
  printf '\n%slogs: %s%s\n' "$D" "$WORK" "$N"
  exit "$rc"
}
trap cleanup EXIT
trap 'echo; echo "demo.sh: interrupted" >&2; exit 130' INT TERM

# wait_for FILE REGEX SECONDS [PID]: until a line of FILE matches REGEX; fails early if PID exits.
wait_for() {
  local file=$1 regex=$2 pid=${4:-} deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    grep -Eq -- "$regex" "$file" 2>/dev/null && return 0
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      grep -Eq -- "$regex" "$file" 2>/dev/null && return 0
      return 2
    fi
    sleep 0.2
  done
  return 1
}

in_ns() { local ns=$1; shift; timeout 20 ip netns exec "$ns" "$@"; }
client_get() { in_ns "$MIRRORD_LAB_NS_CLIENT" curl -sS --max-time 5 "http://$MIRRORD_LAB_IP_POD:$MIRRORD_LAB_POD_HTTP_PORT$1" 2>&1 || true; }
agents_for_pod() { pgrep -f -- "mirrord-pod-agent\.jar --target-pid $MIRRORD_LAB_POD_PID( |\$)" || true; }
mirrord_rules() { in_ns "$MIRRORD_LAB_NS_POD" iptables-save 2>/dev/null | grep -ci mirrord || true; }

# start_mirrord NAME [flags...]: bin/mirrord exec ... -- java demo/DemoApp.java in the background, until it listens.
start_mirrord() {
  local name=$1; shift
  APP_LOG="$WORK/$name.out"
  local shown="bin/mirrord exec --target pid/$MIRRORD_LAB_POD_PID${*:+ $*} -- java demo/DemoApp.java${APP_PORT_ARG:+ $APP_PORT_ARG} &"
  say "\$ $shown"
  # Background jobs of a script ignore SIGINT, so mirrord is stopped with SIGTERM (it forwards that to the app).
  bin/mirrord exec --target "pid/$MIRRORD_LAB_POD_PID" --log-file "$WORK/$name-mirrord.log" "$@" \
    -- "$APP_JAVA" demo/DemoApp.java $APP_PORT_ARG >"$APP_LOG" 2>&1 &
  MIRRORD_PID=$!
  local rc=0
  wait_for "$APP_LOG" '^DemoApp: listening on port' 90 "$MIRRORD_PID" || rc=$?
  if ((rc != 0)); then
    say "mirrord/DemoApp did not come up ($([[ $rc == 2 ]] && echo "mirrord exited" || echo "no 'listening' line within 90 s")):"
    tail -n 20 "$APP_LOG" | show
    return 1
  fi
  # The layer subscribes the port as the app binds it; the CLI logs it once the agent confirmed.
  wait_for "$WORK/$name-mirrord.log" "(mirroring|stealing) target port $MIRRORD_LAB_POD_HTTP_PORT" 10 "$MIRRORD_PID" || true
}

# stop_mirrord [quiet]: SIGTERM to mirrord (forwarded to the app), bounded; then SIGKILL.
stop_mirrord() {
  [[ -n $MIRRORD_PID ]] || return 0
  local pid=$MIRRORD_PID rc=0 deadline=$((SECONDS + 15))
  MIRRORD_PID=""
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    [[ ${1:-} == quiet ]] || say "mirrord did not stop within 15 s after SIGTERM; killed it"
  fi
  wait "$pid" 2>/dev/null || rc=$?
  [[ ${1:-} == quiet ]] || say "mirrord exited with $rc (the app's own status: 143 = stopped by SIGTERM)"
}

app_lines() { grep '^DemoApp: ' "$APP_LOG" | sed 's/^DemoApp: //' | show; }

# ---------------------------------------------------------------------------------------------------------------
heading "1/6  Dependencies (scripts/install-deps.sh)"
if scripts/install-deps.sh >"$WORK/install-deps.log" 2>&1; then
  show <"$WORK/install-deps.log"
else
  show <"$WORK/install-deps.log"
  die "scripts/install-deps.sh failed"
fi

heading "2/6  Build (bin/mirrord builds the jars on first use, about a minute)"
bin/mirrord --version 2>&1 | show
APP_JAVA=$(command -v java || true)
[[ -n $APP_JAVA ]] || APP_JAVA="$(scripts/java-home.sh)/bin/java"
say "the demo app runs on: $("$APP_JAVA" -version 2>&1 | head -n 1) ($APP_JAVA)"

heading "3/6  A lab: a 'pod' in its own network namespace, and a client that calls it"
lab_out=$(scripts/lab.sh up --owner-pid $$ 2>"$WORK/lab.log") || { show <"$WORK/lab.log"; die "scripts/lab.sh up failed"; }
eval "$(grep -E '^MIRRORD_LAB_[A-Z0-9_]+=[A-Za-z0-9_./:-]*$' <<<"$lab_out" || true)"
[[ -n ${MIRRORD_LAB_PREFIX:-} && -n ${MIRRORD_LAB_POD_PID:-} ]] || { show <"$WORK/lab.log"; die "scripts/lab.sh up printed no lab"; }
LAB_PREFIX=$MIRRORD_LAB_PREFIX
POD_NETNS=$(stat -L -c %i "/proc/$MIRRORD_LAB_POD_PID/ns/net")
say "pod: pid $MIRRORD_LAB_POD_PID (a socat HTTP server), $MIRRORD_LAB_IP_POD:$MIRRORD_LAB_POD_HTTP_PORT, netns $POD_NETNS ($MIRRORD_LAB_NS_POD)"
say "client: $MIRRORD_LAB_IP_CLIENT ($MIRRORD_LAB_NS_CLIENT); this shell: netns $(stat -L -c %i /proc/self/ns/net)"
say "\$ curl http://$MIRRORD_LAB_IP_POD:$MIRRORD_LAB_POD_HTTP_PORT/   (from the client)"
client_get / | show

# The app listens on 8080 on this machine; if something here already does, use another local port mapped to 8080.
APP_PORT_ARG=""
PORT_MAP=()
if ss -Hltn "sport = :$MIRRORD_LAB_POD_HTTP_PORT" 2>/dev/null | grep -q .; then
  APP_PORT_ARG=18080
  PORT_MAP=(--port-map "18080:$MIRRORD_LAB_POD_HTTP_PORT")
  say "(port $MIRRORD_LAB_POD_HTTP_PORT is taken on this machine: the app listens on 18080, mapped with ${PORT_MAP[*]})"
fi

# ---------------------------------------------------------------------------------------------------------------
heading "4/6  mirrord exec (mirror mode, the default): the app's view, and a mirrored request"
if start_mirrord mirror "${PORT_MAP[@]}"; then
  say "what DemoApp printed (it runs here, in this shell's namespace):"
  app_lines
  check "the layer is connected" grep -q 'mirrord.layer.connected = true' "$APP_LOG"
  check "the agent answers from the pod's netns (inode $POD_NETNS)" grep -q "mirrord.target.netns    = $POD_NETNS " "$APP_LOG"
  check "the app got the pod's environment (POD_NAME)" grep -q 'env POD_NAME            = pod ' "$APP_LOG"
  check "the app reached svc:8080 by its cluster name, through the pod (outgoing + DNS)" \
    grep -q 'outgoing GET http://svc:8080/from-local-app -> 200 hello from svc' "$APP_LOG"
  say ""
  say "\$ curl http://$MIRRORD_LAB_IP_POD:$MIRRORD_LAB_POD_HTTP_PORT/mirrored   (from the client)"
  answer=$(client_get /mirrored)
  show <<<"$answer"
  check "the client got the pod's answer (mirroring does not touch the real traffic)" grep -q '^hello from pod: GET /mirrored' <<<"$answer"
  wait_for "$APP_LOG" '^DemoApp: received GET /mirrored' 10 || true
  say "DemoApp's log:"
  grep '^DemoApp: received' "$APP_LOG" | sed 's/^DemoApp: //' | show || say "     (nothing received)"
  check "the local app received a copy of the request" grep -q '^DemoApp: received GET /mirrored' "$APP_LOG"
  stop_mirrord
else
  check "mirrord exec started the app" false
fi

# ---------------------------------------------------------------------------------------------------------------
heading "5/6  mirrord exec --tcp-steal: the local JVM answers the pod's clients"
if start_mirrord steal --tcp-steal "${PORT_MAP[@]}"; then
  say "\$ curl http://$MIRRORD_LAB_IP_POD:$MIRRORD_LAB_POD_HTTP_PORT/stolen   (from the client, to the pod's address)"
  answer=$(client_get /stolen)
  show <<<"$answer"
  check "the client got the local JVM's answer" grep -q '^hello from your local JVM' <<<"$answer"
  wait_for "$APP_LOG" '^DemoApp: received GET /stolen' 5 || true
  grep '^DemoApp: received' "$APP_LOG" | sed 's/^DemoApp: //' | show || true
  say "iptables in the pod's netns while stealing: $(mirrord_rules) line(s) mentioning MIRRORD"
  stop_mirrord
else
  check "mirrord exec --tcp-steal started the app" false
fi

# ---------------------------------------------------------------------------------------------------------------
heading "6/6  After mirrord: the pod is untouched"
say "\$ curl http://$MIRRORD_LAB_IP_POD:$MIRRORD_LAB_POD_HTTP_PORT/after   (from the client)"
answer=$(client_get /after)
show <<<"$answer"
check "the pod answers again" grep -q '^hello from pod: GET /after' <<<"$answer"
deadline=$((SECONDS + 5))
while [[ -n $(agents_for_pod) ]] && ((SECONDS < deadline)); do sleep 0.2; done
check "no mirrord agent left running" test -z "$(agents_for_pod)"
check "no iptables rule mentioning MIRRORD in the pod's netns" test "$(mirrord_rules)" = 0

heading "Done"
if ((FAILED == 0)); then
  say "${G}all checks passed${N}; tearing the lab down"
else
  say "${R}$FAILED check(s) failed${N}; see the logs below; tearing the lab down"
  exit 1
fi
