#!/usr/bin/env bash
# Prints the home of a JDK 25+ (the default `java` on our machines is 17).
# Order: $JAVA_HOME if it is 25 or newer, then /usr/lib/jvm/*25* (newest name first).
# Use: JAVA_HOME="$(scripts/java-home.sh)" || exit 1     or: source scripts/java-home.sh (exports JAVA_HOME)
# On failure prints one line on stderr and returns 1.

_mirrord_jdk_major() { # $1 = JDK home; prints the feature version, or nothing
  local rel="$1/release" v=""
  [[ -x "$1/bin/java" && -x "$1/bin/javac" ]] || return 0
  if [[ -r "$rel" ]]; then
    local line
    while IFS= read -r line; do
      if [[ $line =~ ^JAVA_VERSION=\"([0-9]+) ]]; then v=${BASH_REMATCH[1]} && break; fi
    done <"$rel"
  fi
  if [[ -z "$v" ]]; then
    v="$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')"
  fi
  printf '%s' "$v"
}

_mirrord_find_jdk25() {
  local cand v
  if [[ -n "${JAVA_HOME:-}" ]]; then
    v="$(_mirrord_jdk_major "$JAVA_HOME")"
    if [[ -n "$v" && "$v" -ge 25 ]]; then printf '%s\n' "$JAVA_HOME"; return 0; fi
  fi
  for cand in $(ls -d /usr/lib/jvm/*25* 2>/dev/null | sort -r); do
    v="$(_mirrord_jdk_major "$cand")"
    if [[ -n "$v" && "$v" -ge 25 ]]; then printf '%s\n' "$cand"; return 0; fi
  done
  echo "java-home.sh: no JDK 25 found (JAVA_HOME=${JAVA_HOME:-unset}, nothing in /usr/lib/jvm/*25*); run scripts/install-deps.sh as root or point JAVA_HOME at a JDK 25" >&2
  return 1
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  # Sourced: export JAVA_HOME for the caller.
  if _mirrord_jdk25_home="$(_mirrord_find_jdk25)"; then
    export JAVA_HOME="$_mirrord_jdk25_home"
    export PATH="$JAVA_HOME/bin:$PATH"
    unset _mirrord_jdk25_home
  else
    unset _mirrord_jdk25_home
    return 1
  fi
else
  set -euo pipefail
  _mirrord_find_jdk25
fi
