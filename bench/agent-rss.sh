#!/usr/bin/env bash
# bench/agent-rss.sh — the pod agent's memory in a steal session (issue 14's goal: RSS <= 64 MiB idle and after the
# wrk steal load), and the CLI's (<= 96 MiB). Not a test: prints one row per session and the medians.
#
#   sudo bench/agent-rss.sh          SESSIONS=3 IDLE=3 LOAD=10 CONNECTIONS=16 SETTLE="1 11"
#   EXTRA_AGENT_OPTS="-XX:CompileThresholdScaling=1" sudo bench/agent-rss.sh    (options appended to this run's copy
#                                    of the agent jar's agent.jvm.options, e.g. to compare with a flag undone)
#
# Each session: `mirrord exec --tcp-steal` of ShaHttpServerApp (the e2e's JDK HttpServer) in the lab's dev namespace
# against the lab's pod, through bin/mirrord; IDLE seconds after the app listens, the agent's VmRSS ("idle"); then
# LOAD seconds of `wrk -t1 -cCONNECTIONS` from the lab's client namespace to the pod's stolen :8080, and the agent's
# VmRSS again SETTLE seconds after the load ended (one column per value: the JIT's arenas and glibc's freed memory,
# trimmed every 5 s, are part of the first values and gone from the later ones), and its peak (VmHWM) over the session.
# RssAnon / RssFile of the last sample too: the AOT cache and libjvm.so are file-backed pages that agents of one
# build share. The CLI's VmRSS idle and at the last sample, and its peak, in the last columns (CLI_FLAGS replaces its
# JVM flags, bench/lib.sh).
source "$(dirname "$0")/lib.sh"

SESSIONS=${SESSIONS:-3}
IDLE=${IDLE:-3}
LOAD=${LOAD:-10}
CONNECTIONS=${CONNECTIONS:-16}
SETTLE=${SETTLE:-1 11}
PORT=8080

bench_build
bench_need_wrk
bench_lab_up
bench_extra_agent_options
bench_log "start-up caches built in $(bench_prepare_caches) s"
mapfile -t SERVER < <(bench_app_cmd ShaHttpServerApp "$PORT" local 3600 quiet)

ROWS="$BENCH_WORK/rows"
: >"$ROWS"
for ((i = 1; i <= SESSIONS; i++)); do
  cli=$(bench_mirrord "s$i" --tcp-steal -- "${SERVER[@]}")
  bench_wait_line "$BENCH_WORK/s$i.out" '^sha-http.listening' 60
  sleep "$IDLE"
  agent=$(bench_agent_pid "$cli") || bench_die "session $i: no agent"
  row="$(bench_status_mib "$agent" VmRSS)"
  cli_idle=$(bench_status_mib "$cli" VmRSS)
  ip netns exec "$(bench_ns client)" wrk -t1 -c"$CONNECTIONS" -d"${LOAD}s" "http://198.18.0.10:$PORT/" \
    >"$BENCH_WORK/wrk-$i.txt" 2>&1 || true
  slept=0
  for s in $SETTLE; do
    sleep $((s - slept))
    slept=$s
    row+=" $(bench_status_mib "$agent" VmRSS)"
  done
  row+=" $(bench_status_mib "$agent" VmHWM RssAnon RssFile) $(bench_parse_wrk <"$BENCH_WORK/wrk-$i.txt" | awk '{print $2}')"
  row+=" $cli_idle $(bench_status_mib "$cli" VmRSS VmHWM)"
  echo "$row" >>"$ROWS"
  bench_log "session $i: $row (agent: idle, after the load +${SETTLE// /s, +}s, peak, anon, file MiB; req/s; CLI: idle, last, peak MiB)"
  bench_stop "$cli"
  sleep 1
done

echo
echo "## bench/agent-rss.sh — $(date -u +%Y-%m-%dT%H:%MZ)"
bench_machine; echo
echo "steal session of ShaHttpServerApp; $SESSIONS sessions; ${LOAD}s of wrk -t1 -c$CONNECTIONS; agent options appended: ${EXTRA_AGENT_OPTS:-none}"
echo
header="| agent idle"
for s in $SETTLE; do header+=" | after the load, +${s} s"; done
echo "$header | peak (VmHWM) | anon / file, last | wrk req/s | CLI idle / last / peak |"
echo "|$(printf -- '---|%.0s' $(seq $(($(wc -w <<<"$SETTLE") + 5))))"
ncols=$(($(wc -w <<<"$SETTLE") + 8))
med=""
for ((c = 1; c <= ncols; c++)); do
  med+="$(awk -v c="$c" '{ print $c }' "$ROWS" | bench_median) "
done
read -r -a m <<<"$med"
line="| ${m[0]} MiB"
for ((c = 1; c <= $(wc -w <<<"$SETTLE"); c++)); do line+=" | ${m[$c]} MiB"; done
c=$(($(wc -w <<<"$SETTLE") + 1))
echo "$line | ${m[$c]} MiB | ${m[$((c + 1))]} / ${m[$((c + 2))]} MiB | ${m[$((c + 3))]} | ${m[$((c + 4))]} / ${m[$((c + 5))]} / ${m[$((c + 6))]} MiB |"
echo "(medians of $SESSIONS sessions; each session's row is in the log above)"
