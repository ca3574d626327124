#!/usr/bin/env bash
# scripts/lab.sh — the network-namespace lab: a tiny fake "cluster" on one Linux machine.
#
# This file is the ONE definition of the lab's topology. The Java fixture
# (e2e/src/test/java/dev/mirrord/jvm/e2e/lab/NetnsLab.java) runs `lab.sh up --prefix P --owner-pid PID` and parses
# the KEY=VALUE lines it prints; humans run `scripts/lab.sh up` for demos.
#
#   namespace   address          what runs there
#   P-br        (none)           Linux bridge br0; one veth per node (v-pod, v-svc, v-dns, v-client)
#   P-pod       198.18.0.10/24   the target "pod": HTTP on :8080 ("hello from pod"), hostname pod, own env
#   P-svc       198.18.0.20/24   a second pod with services: HTTP :8080, TCP echo :9000, UDP echo :9001, TCP sink :9002
#                                (reads to EOF, answers the byte count, closes); with --with-db also PostgreSQL :5432
#                                (database `app`, user postgres, trust auth from the lab's /24 and /64) and Redis :6379
#   P-dns       198.18.0.53/24   dnsmasq, the cluster DNS (cluster.local only, never forwards)
#   P-client    198.18.0.100/24  a caller from outside the pod (curl from here to 198.18.0.10:8080)
#
# Dual stack: every node also has fd00:198:18::<its IPv4 last octet>/64 (a ULA; pod ::10, svc ::20, dns ::53, client
# ::100), added with `nodad` so it is usable at once. No IPv6 route leaves the lab either (only the /64 on eth0). The
# servers of pod and svc listen on both families (one dual-stack socket each; PostgreSQL and Redis on both
# addresses), dnsmasq also on fd00:198:18::53. The cluster names the IPv4 tests use (pod, svc, postgres, redis,
# kube-dns) keep only their A record: glibc (getent, curl) prefers a ULA to IPv4 and the JDK lists every address, so
# an AAAA record there would change what those tests see. IPv6 has names of its own under default.svc.cluster.local:
# svc-v6 and pod-v6 (AAAA only), svc-dual (A and AAAA, as a dual-stack Service).
#
# Each node's interface is eth0 (created straight into its namespace, so nothing ever appears in the root namespace).
# pod/svc/client get /etc/netns/<ns>/{resolv.conf,hosts,hostname}: `ip netns exec` bind-mounts them over /etc, so
# /proc/<pid>/root/etc/resolv.conf of a process started that way is the "pod's" own, as in a real pod.
#
# P is `mjl` + 6 hex digits. Ownership: /run/mirrord-lab/P.pid holds "<pid> <start time>" of the owner (the JVM that
# made the lab, or for `up` without --owner-pid, the pod's server process). Every `up` first sweeps labs whose owner is
# gone: it kills every process inside their namespaces, deletes the namespaces, /etc/netns/P-* and the run files.
#
# --with-db costs about 1-3 s more (initdb + postgres start), so it is opt-in. PostgreSQL runs as user postgres from
# a data dir under the lab's run dir (/run/mirrord-lab/P/pg, deleted with the lab), in its own IPC namespace (a
# SIGKILLed postgres leaves no SysV shared memory behind); Redis keeps nothing on disk. Neither touches the Debian
# services of their packages (those stay stopped; scripts/install-deps.sh makes sure they never start).
#
# Usage:
#   lab.sh up [--prefix P] [--owner-pid PID] [--with-db]
#                                              create a lab; prints KEY=VALUE lines (eval-able), e.g. MIRRORD_LAB_POD_PID
#   lab.sh down [--prefix P | --all]           delete a lab (default: the last one made by `up` without --owner-pid)
#   lab.sh keep --prefix P                     hand a lab to its pod process (it then outlives the JVM that made it)
#   lab.sh status                              list labs, owners, pod pids
#   lab.sh sweep                               delete labs whose owner is gone
#   lab.sh exec NODE [--prefix P] -- CMD...    run CMD in a node (pod|svc|dns|client|br), e.g. exec client -- curl -s pod:8080
# Needs root, iproute2, util-linux (setsid, unshare, flock, setpriv), socat, dnsmasq-base; with --with-db also
# postgresql (initdb, postgres, psql; MIRRORD_LAB_PG_BIN overrides /usr/lib/postgresql/<newest>/bin) and redis-server.
set -euo pipefail

RUN_DIR="${MIRRORD_LAB_RUN_DIR:-/run/mirrord-lab}"
ETC_NETNS=/etc/netns
PREFIX_RE='^mjl[0-9a-f]{6}$'

NODES=(pod svc dns client)
declare -A NODE_IP=([pod]=198.18.0.10 [svc]=198.18.0.20 [dns]=198.18.0.53 [client]=198.18.0.100)
NET_BITS=24
declare -A NODE_IP6=([pod]=fd00:198:18::10 [svc]=fd00:198:18::20 [dns]=fd00:198:18::53 [client]=fd00:198:18::100)
NET6_BITS=64
DNS_IP=${NODE_IP[dns]}
SEARCH="default.svc.cluster.local svc.cluster.local cluster.local"
# Cluster DNS records (name -> address). Short names resolve through the search list in resolv.conf.
DNS_RECORDS=(
  "pod.default.svc.cluster.local=${NODE_IP[pod]}"
  "svc.default.svc.cluster.local=${NODE_IP[svc]}"
  "postgres.default.svc.cluster.local=${NODE_IP[svc]}"
  "redis.default.svc.cluster.local=${NODE_IP[svc]}"
  "kube-dns.kube-system.svc.cluster.local=${NODE_IP[dns]}"
  # IPv6 (names of their own: see the header).
  "svc-v6.default.svc.cluster.local=${NODE_IP6[svc]}"
  "svc-dual.default.svc.cluster.local=${NODE_IP[svc]},${NODE_IP6[svc]}"
  "pod-v6.default.svc.cluster.local=${NODE_IP6[pod]}"
)
# A records of many.default.svc.cluster.local (see the dnsmasq arguments below).
MANY_RECORDS=300
POD_HTTP_PORT=8080
SVC_HTTP_PORT=8080
SVC_TCP_ECHO_PORT=9000
SVC_UDP_ECHO_PORT=9001
SVC_SINK_PORT=9002
SVC_POSTGRES_PORT=5432
SVC_POSTGRES_DB=app
SVC_REDIS_PORT=6379
# The pod's server runs with exactly this environment (what the agent reads from /proc/<pid>/environ).
POD_ENV=(
  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  "HOSTNAME=pod"
  "POD_NAME=pod"
  "POD_NAMESPACE=default"
  "GREETING=hello from the pod env"
  "DATABASE_URL=postgres://postgres.default.svc.cluster.local:5432/app"
  "SVC_URL=http://svc.default.svc.cluster.local:8080/"
)

die() { echo "lab.sh: $*" >&2; exit 1; }
log() { [[ -n "${QUIET:-}" ]] || echo "lab.sh: $*" >&2; }
now_ms() { date +%s%3N; }

ns_name() { printf '%s-%s' "$1" "$2"; }              # prefix node -> namespace name
node_names() { printf '%s\n' "${NODES[@]}" br; }

need_root() {
  [[ $(id -u) -eq 0 ]] || die "needs root (network namespaces); try: sudo $0 $*"
  local t
  for t in ip setsid unshare flock socat dnsmasq; do
    command -v "$t" >/dev/null 2>&1 || die "missing '$t'; run scripts/install-deps.sh as root"
  done
}

# Start time (clock ticks since boot) of a pid, field 22 of /proc/PID/stat; empty if the pid is gone.
start_time() {
  local stat rest
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
  rest="${stat##*) }"
  # shellcheck disable=SC2086
  set -- $rest
  printf '%s' "${20}"
}

# True if the owner recorded for prefix $1 is still the same live process (pid reuse is caught by the start time).
owner_alive() {
  local f="$RUN_DIR/$1.pid" pid st
  [[ -r "$f" ]] || return 1
  read -r pid st <"$f" || true
  [[ -n "${pid:-}" && -n "${st:-}" ]] || return 1
  [[ "$(start_time "$pid")" == "$st" ]]
}

write_owner() { # prefix pid
  local st
  st="$(start_time "$2")"
  [[ -n "$st" ]] || die "owner pid $2 is not running"
  printf '%s %s\n' "$2" "$st" >"$RUN_DIR/$1.pid.tmp"
  mv -f "$RUN_DIR/$1.pid.tmp" "$RUN_DIR/$1.pid"
}

# Every prefix that has anything on this machine: namespaces, /etc/netns dirs, run files.
known_prefixes() {
  {
    ip netns list 2>/dev/null | awk '{print $1}' | sed -nE 's/^(mjl[0-9a-f]{6})-.*/\1/p'
    find "$ETC_NETNS" -mindepth 1 -maxdepth 1 -name 'mjl*' -printf '%f\n' 2>/dev/null | sed -nE 's/^(mjl[0-9a-f]{6})-.*/\1/p'
    find "$RUN_DIR" -mindepth 1 -maxdepth 1 -name 'mjl*' -printf '%f\n' 2>/dev/null | sed -nE 's/^(mjl[0-9a-f]{6})(\.pid)?$/\1/p'
  } | sort -u
}

lab_namespaces() { # prefix -> its existing namespaces, bridge last
  ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$1-" | sort | awk '/-br$/ {b=$0; next} {print} END {if (b) print b}'
}

lock() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/.lock"
  flock -w 60 9 || die "could not lock $RUN_DIR/.lock within 60 s"
}
unlock() { flock -u 9 2>/dev/null || true; exec 9>&-; }

# Delete everything of one lab. Safe on partial labs and on labs that are already gone.
teardown() {
  local p="$1" ns pids i
  local -a nss
  mapfile -t nss < <(lab_namespaces "$p")
  # Kill every process inside the lab's namespaces (servers, dnsmasq, test processes, agents entered via nsenter).
  for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    pids=""
    for ns in "${nss[@]}"; do
      pids+=" $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
    done
    [[ -n "${pids// /}" ]] || break
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.05
  done
  for ns in "${nss[@]}"; do
    ip netns del "$ns" 2>/dev/null || log "could not delete namespace $ns"
  done
  rm -rf "$ETC_NETNS/$p"-* "${RUN_DIR:?}/$p" "$RUN_DIR/$p.pid" "$RUN_DIR/$p.pid.tmp"
  if [[ -r "$RUN_DIR/current" && "$(cat "$RUN_DIR/current")" == "$p" ]]; then rm -f "$RUN_DIR/current"; fi
}

sweep_locked() {
  local p probe
  # Probe namespaces of Privileges.canManageNetns() (mjlprobe<pid>) whose JVM died between add and del.
  for probe in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^mjlprobe[0-9]+$' || true); do
    [[ -d "/proc/${probe#mjlprobe}" ]] || ip netns del "$probe" 2>/dev/null || true
  done
  for p in $(known_prefixes); do
    if ! owner_alive "$p"; then
      log "sweeping leftover lab $p (owner gone)"
      teardown "$p"
    fi
  done
}

# Wait (bounded) until something listens on a port in a namespace. $1 ns, $2 t|u, $3 port [$4 seconds, default 5]
wait_listen() {
  local i secs="${4:-5}"
  for ((i = 0; i < secs * 20; i++)); do
    if [[ -n "$(ip netns exec "$1" ss -Hln"$2" "sport = :$3" 2>/dev/null)" ]]; then return 0; fi
    sleep 0.05
  done
  die "nothing listens on $2 port $3 in $1 after $secs s"
}

# The PostgreSQL server binaries: MIRRORD_LAB_PG_BIN, else the newest /usr/lib/postgresql/<version>/bin.
pg_bin() {
  if [[ -n "${MIRRORD_LAB_PG_BIN:-}" ]]; then printf '%s' "$MIRRORD_LAB_PG_BIN"; return 0; fi
  local d
  d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1)
  [[ -n "$d" && -x "$d/postgres" && -x "$d/initdb" ]] || die "no PostgreSQL under /usr/lib/postgresql; run scripts/install-deps.sh as root"
  printf '%s' "$d"
}

# PostgreSQL and Redis in the svc node (lab.sh up --with-db). $1 state dir, $2 svc namespace. Prints nothing.
start_db() {
  local st="$1" ns="$2" bin pg
  bin=$(pg_bin)
  command -v redis-server >/dev/null 2>&1 || die "missing 'redis-server'; run scripts/install-deps.sh as root"
  id postgres >/dev/null 2>&1 || die "no user 'postgres' (the postgresql package makes it); run scripts/install-deps.sh"
  pg="$st/pg"
  mkdir -p "$pg/data" "$pg/sock"
  chown -R postgres:postgres "$pg"
  chmod 0700 "$pg/data"
  # Never the cluster of the Debian service (/var/lib/postgresql): a data dir of this lab only.
  setpriv --reuid=postgres --regid=postgres --init-groups --reset-env "$bin/initdb" -D "$pg/data" -U postgres \
    -A trust -E UTF8 --locale=C --no-sync --no-instructions >"$st/initdb.log" 2>&1 \
    || die "initdb failed; see $st/initdb.log"
  cat >>"$pg/data/postgresql.conf" <<CONF
# mirrord lab: the svc node's address only; socket in the lab's run dir; a throwaway database (no durability).
listen_addresses = '${NODE_IP[svc]},${NODE_IP6[svc]}'
port = $SVC_POSTGRES_PORT
unix_socket_directories = '$pg/sock'
dynamic_shared_memory_type = sysv
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 16MB
max_connections = 20
logging_collector = off
CONF
  printf 'local all all trust\nhost all all %s/%s trust\nhost all all %s/%s trust\n' "${NODE_IP[svc]%.*}.0" "$NET_BITS" \
    "${NODE_IP6[svc]%::*}::" "$NET6_BITS" >"$pg/data/pg_hba.conf"
  # Own IPC namespace: SysV segments die with the lab's processes, even after SIGKILL.
  spawn "$st" svc-postgres "$ns" unshare --ipc -- \
    setpriv --reuid=postgres --regid=postgres --init-groups --reset-env "$bin/postgres" -D "$pg/data" >/dev/null

  mkdir -p "$st/redis"
  spawn "$st" svc-redis "$ns" redis-server --bind "${NODE_IP[svc]}" "${NODE_IP6[svc]}" --port "$SVC_REDIS_PORT" --save '' \
    --appendonly no --protected-mode no --daemonize no --supervised no --dir "$st/redis" --logfile '' >/dev/null

  wait_listen "$ns" t "$SVC_REDIS_PORT"
  wait_listen "$ns" t "$SVC_POSTGRES_PORT" 30
  local i
  for ((i = 0; i < 100; i++)); do
    if ip netns exec "$ns" setpriv --reuid=postgres --regid=postgres --init-groups --reset-env "$bin/psql" \
      -h "$pg/sock" -p "$SVC_POSTGRES_PORT" -U postgres -d postgres -qAtc "CREATE DATABASE $SVC_POSTGRES_DB" \
      >>"$st/createdb.log" 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  die "could not create database $SVC_POSTGRES_DB; see $st/createdb.log and $st/svc-postgres.log"
}

# Start a daemon in a namespace, in its own session (process group), detached from us. Prints its pid.
# Usage: spawn STATE_DIR NAME NS CMD... ; the pid stays the daemon's own: setsid, ip netns exec, unshare and sh exec.
spawn() {
  local state="$1" name="$2" ns="$3"
  shift 3
  setsid ip netns exec "$ns" "$@" </dev/null >>"$state/$name.log" 2>&1 &
  echo $! >"$state/$name.pid"
  echo $!
}

write_http_reply() { # the socat EXEC target: answers one HTTP/1.x request with "hello from <node>: <method> <path>"
  cat >"$1" <<'SH'
#!/bin/sh
set -f
cr=$(printf '\r')
req="" len=0
while IFS= read -r line; do
  line=${line%"$cr"}
  [ -z "$req" ] && { req=$line; continue; }
  [ -z "$line" ] && break
  case "$line" in [Cc]ontent-[Ll]ength:*) len=${line#*:}; len=$(echo $len) ;; esac
done
[ "$len" -gt 0 ] 2>/dev/null && head -c "$len" >/dev/null
set -- $req
body="hello from ${MIRRORD_LAB_NODE:-?}: ${1:-?} ${2:-?}"
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s\n' "$((${#body} + 1))" "$body"
SH
  chmod 0755 "$1"
}

# In a fresh UTS namespace named after the node, with only the given environment: exec socat ...
node_server() { # node -> prefix of a command line for spawn
  printf '%s\0' unshare --uts -- /bin/sh -c 'echo "$0" >/proc/sys/kernel/hostname && exec "$@"' "$1"
}

cmd_up() {
  local p="" owner="" with_db="" t0 node ns dir st out
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --prefix) p="$2"; shift 2 ;;
      --owner-pid) owner="$2"; shift 2 ;;
      --with-db) with_db=1; shift ;;
      --quiet) QUIET=1; shift ;;
      *) die "up: unknown argument $1" ;;
    esac
  done
  need_root up
  [[ -n "$p" ]] || p="mjl$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
  [[ "$p" =~ $PREFIX_RE ]] || die "prefix must match $PREFIX_RE: $p"
  t0=$(now_ms)

  lock
  sweep_locked
  [[ -z "$(lab_namespaces "$p")" && ! -e "$RUN_DIR/$p.pid" ]] || { unlock; die "lab $p already exists"; }
  # Ownership is recorded before anything is created, so a concurrent sweep never takes a lab under construction.
  write_owner "$p" "${owner:-$$}"
  unlock

  UP_PREFIX="$p"
  trap 'rc=$?; if [[ -n "${UP_PREFIX:-}" ]]; then echo "lab.sh: up failed, removing partial lab $UP_PREFIX" >&2; teardown "$UP_PREFIX"; fi; exit $rc' EXIT

  st="$RUN_DIR/$p"
  mkdir -p "$st"
  write_http_reply "$st/http-reply.sh"

  local br
  br=$(ns_name "$p" br)
  ip netns add "$br"
  ip -n "$br" link set lo up
  ip -n "$br" link add br0 type bridge
  ip -n "$br" link set br0 up
  for node in "${NODES[@]}"; do
    ns=$(ns_name "$p" "$node")
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$br" link add "v-$node" type veth peer name eth0 netns "$ns"
    ip -n "$br" link set "v-$node" master br0 up
    ip -n "$ns" addr add "${NODE_IP[$node]}/$NET_BITS" dev eth0
    ip -n "$ns" -6 addr add "${NODE_IP6[$node]}/$NET6_BITS" dev eth0 nodad
    ip -n "$ns" link set eth0 up
  done

  for node in pod svc client; do
    dir="$ETC_NETNS/$(ns_name "$p" "$node")"
    mkdir -p "$dir"
    printf 'nameserver %s\nsearch %s\noptions ndots:5\n' "$DNS_IP" "$SEARCH" >"$dir/resolv.conf"
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n' "${NODE_IP[$node]}" "$node" >"$dir/hosts"
    printf '%s\n' "$node" >"$dir/hostname"
  done

  # Cluster DNS.
  local -a dns_args=(dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts --user=root
    --listen-address="$DNS_IP" --listen-address="${NODE_IP6[dns]}" --bind-interfaces --port=53
    --domain=cluster.local --local=/cluster.local/ --server=/#/ --log-queries --log-facility=-)
  local r
  for r in "${DNS_RECORDS[@]}"; do dns_args+=("--host-record=${r%%=*},${r#*=}"); done
  # For resolvers of the app's own (issue 13): a Kubernetes-style SRV record of redis, and a name with
  # $MANY_RECORDS A records (198.19.1.x, never connected to) whose answer does not fit a UDP datagram
  # (512 bytes, or EDNS's 1232-4096): the server sets TC and the client must ask again over TCP.
  dns_args+=("--srv-host=_redis._tcp.redis.default.svc.cluster.local,redis.default.svc.cluster.local,6379")
  local i
  for ((i = 1; i <= MANY_RECORDS; i++)); do
    printf '198.19.%d.%d\tmany.default.svc.cluster.local\n' $((i / 250 + 1)) $((i % 250 + 1))
  done >"$st/many-hosts"
  dns_args+=("--addn-hosts=$st/many-hosts")
  spawn "$st" dnsmasq "$(ns_name "$p" dns)" "${dns_args[@]}" >/dev/null

  # Services of the second pod.
  local -a srv
  mapfile -d '' -t srv < <(node_server svc)
  spawn "$st" svc-http "$(ns_name "$p" svc)" "${srv[@]}" env -i MIRRORD_LAB_NODE=svc PATH=/usr/bin:/bin \
    socat -T 10 "TCP6-LISTEN:$SVC_HTTP_PORT,ipv6only=0,fork,reuseaddr" "EXEC:$st/http-reply.sh" >/dev/null
  spawn "$st" svc-tcp-echo "$(ns_name "$p" svc)" socat -T 30 "TCP6-LISTEN:$SVC_TCP_ECHO_PORT,ipv6only=0,fork,reuseaddr,backlog=128" PIPE >/dev/null
  spawn "$st" svc-udp-echo "$(ns_name "$p" svc)" socat -T 5 "UDP6-RECVFROM:$SVC_UDP_ECHO_PORT,ipv6only=0,fork" PIPE >/dev/null
  # Bulk sink: reads each connection to EOF (the client's half-close), answers the byte count ("N\n"), closes.
  spawn "$st" svc-sink "$(ns_name "$p" svc)" socat -b 262144 -t 5 -T 60 \
    "TCP6-LISTEN:$SVC_SINK_PORT,ipv6only=0,fork,reuseaddr,backlog=64" "SYSTEM:exec wc -c" >/dev/null
  if [[ -n "$with_db" ]]; then start_db "$st" "$(ns_name "$p" svc)"; fi

  # The target pod's server: the long-running process whose pid the agent targets.
  local pod_pid
  mapfile -d '' -t srv < <(node_server pod)
  pod_pid=$(spawn "$st" pod-http "$(ns_name "$p" pod)" "${srv[@]}" env -i "${POD_ENV[@]}" MIRRORD_LAB_NODE=pod \
    socat -T 10 "TCP6-LISTEN:$POD_HTTP_PORT,ipv6only=0,fork,reuseaddr" "EXEC:$st/http-reply.sh")

  wait_listen "$(ns_name "$p" dns)" u 53
  wait_listen "$(ns_name "$p" svc)" t "$SVC_HTTP_PORT"
  wait_listen "$(ns_name "$p" svc)" t "$SVC_TCP_ECHO_PORT"
  wait_listen "$(ns_name "$p" svc)" u "$SVC_UDP_ECHO_PORT"
  wait_listen "$(ns_name "$p" svc)" t "$SVC_SINK_PORT"
  wait_listen "$(ns_name "$p" pod)" t "$POD_HTTP_PORT"
  kill -0 "$pod_pid" 2>/dev/null || die "pod server died; see $st/pod-http.log"

  if [[ -z "$owner" ]]; then
    # A lab for humans lives as long as its pod process (or until `lab.sh down`).
    write_owner "$p" "$pod_pid"
    echo "$p" >"$RUN_DIR/current"
  fi
  UP_PREFIX=""
  trap - EXIT

  out="MIRRORD_LAB_PREFIX=$p
MIRRORD_LAB_STATE_DIR=$st
MIRRORD_LAB_POD_PID=$pod_pid
MIRRORD_LAB_POD_HTTP_PORT=$POD_HTTP_PORT
MIRRORD_LAB_SVC_HTTP_PORT=$SVC_HTTP_PORT
MIRRORD_LAB_SVC_TCP_ECHO_PORT=$SVC_TCP_ECHO_PORT
MIRRORD_LAB_SVC_UDP_ECHO_PORT=$SVC_UDP_ECHO_PORT
MIRRORD_LAB_SVC_SINK_PORT=$SVC_SINK_PORT
MIRRORD_LAB_SVC_SINK_ADDR=${NODE_IP[svc]}:$SVC_SINK_PORT
MIRRORD_LAB_NS_BR=$br"
  if [[ -n "$with_db" ]]; then
    out+="
MIRRORD_LAB_SVC_POSTGRES_PORT=$SVC_POSTGRES_PORT
MIRRORD_LAB_SVC_POSTGRES_ADDR=${NODE_IP[svc]}:$SVC_POSTGRES_PORT
MIRRORD_LAB_SVC_POSTGRES_DB=$SVC_POSTGRES_DB
MIRRORD_LAB_SVC_POSTGRES_USER=postgres
MIRRORD_LAB_SVC_POSTGRES_DATA=$st/pg/data
MIRRORD_LAB_SVC_REDIS_PORT=$SVC_REDIS_PORT
MIRRORD_LAB_SVC_REDIS_ADDR=${NODE_IP[svc]}:$SVC_REDIS_PORT"
  fi
  for node in "${NODES[@]}"; do
    out+="
MIRRORD_LAB_NS_${node^^}=$(ns_name "$p" "$node")
MIRRORD_LAB_IP_${node^^}=${NODE_IP[$node]}"
  done
  for node in "${NODES[@]}"; do
    out+="
MIRRORD_LAB_IP6_${node^^}=${NODE_IP6[$node]}"
  done
  echo "$out" | tee "$st/lab.env"
  log "lab $p up in $(($(now_ms) - t0)) ms; pod pid $pod_pid (ns $(ns_name "$p" pod), http://${NODE_IP[pod]}:$POD_HTTP_PORT)"
  log "delete with: $0 down --prefix $p"
}

cmd_down() {
  local p="" all="" x
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --prefix) p="$2"; shift 2 ;;
      --all) all=1; shift ;;
      --quiet) QUIET=1; shift ;;
      *) die "down: unknown argument $1" ;;
    esac
  done
  need_root down
  lock
  if [[ -n "$all" ]]; then
    for x in $(known_prefixes); do log "deleting lab $x"; teardown "$x"; done
  else
    if [[ -z "$p" ]]; then
      [[ -r "$RUN_DIR/current" ]] || { unlock; die "down: no --prefix given and no current lab; see: $0 status"; }
      p="$(cat "$RUN_DIR/current")"
    fi
    [[ "$p" =~ $PREFIX_RE ]] || { unlock; die "prefix must match $PREFIX_RE: $p"; }
    local t0
    t0=$(now_ms)
    teardown "$p"
    log "lab $p deleted in $(($(now_ms) - t0)) ms"
  fi
  unlock
}

cmd_keep() {
  local p=""
  [[ "${1:-}" == --prefix ]] && p="${2:-}"
  [[ "$p" =~ $PREFIX_RE ]] || die "keep: --prefix mjlXXXXXX needed"
  need_root keep
  local pid
  pid="$(cat "$RUN_DIR/$p/pod-http.pid" 2>/dev/null)" || die "keep: lab $p has no pod process"
  lock
  write_owner "$p" "$pid"
  unlock
  log "lab $p now lives as long as its pod process $pid; delete with: $0 down --prefix $p"
}

cmd_status() {
  local p owner alive podpid nss
  local -a list
  mapfile -t list < <(known_prefixes)
  if [[ ${#list[@]} -eq 0 ]]; then echo "no labs"; return 0; fi
  printf '%-10s %-8s %-6s %-8s %s\n' PREFIX OWNER STATE POD_PID NAMESPACES
  for p in "${list[@]}"; do
    owner="$(awk '{print $1}' "$RUN_DIR/$p.pid" 2>/dev/null || true)"
    if owner_alive "$p"; then alive=alive; else alive=DEAD; fi
    podpid="$(cat "$RUN_DIR/$p/pod-http.pid" 2>/dev/null || echo -)"
    nss="$(lab_namespaces "$p" | sed "s/^$p-//" | tr '\n' ' ')"
    printf '%-10s %-8s %-6s %-8s %s\n' "$p" "${owner:--}" "$alive" "$podpid" "${nss:-(none)}"
  done
  if [[ -r "$RUN_DIR/current" ]]; then echo "current: $(cat "$RUN_DIR/current")"; fi
}

cmd_exec() {
  local node="${1:-}" p=""
  shift || true
  while [[ $# -gt 0 && "$1" != "--" ]]; do
    case "$1" in
      --prefix) p="$2"; shift 2 ;;
      *) die "exec: unknown argument $1" ;;
    esac
  done
  [[ "${1:-}" == "--" ]] && shift
  [[ $# -gt 0 ]] || die "usage: $0 exec NODE [--prefix P] -- CMD..."
  [[ -n "$p" ]] || p="$(cat "$RUN_DIR/current" 2>/dev/null)" || die "exec: no --prefix and no current lab"
  exec ip netns exec "$(ns_name "$p" "$node")" "$@"
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  keep) shift; cmd_keep "$@" ;;
  status) shift; cmd_status "$@" ;;
  sweep) shift; need_root sweep; lock; sweep_locked; unlock ;;
  exec) shift; cmd_exec "$@" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
