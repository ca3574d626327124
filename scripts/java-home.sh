#!/usr/bin/env bash
# Prints the home of a JDK 25+ (the default `java` on our machines is 17).
# Order: $JAVA_HOME if it is 25 or newer, then /usr/lib/jvm/*25* (newest name first).
# Use: JAVA_HOME="$(scripts/java-home.sh)" || exit 1   or: source scripts/java-home.sh (exports JAVA_HOME)
#      or: source scripts/java-home.sh --find (sets REPLY, exports nothing)
# On failure prints one line on stderr and returns 1.

_mirrord_jdk_major() { # $1 = JDK home; sets REPLY to its feature version, or to "" (no subshell: bin/mirrord runs this on every start)
  local rel="$1/release" line
  REPLY=""
  [[ -x "$1/bin/java" && -x "$1/bin/javac" ]] || return 0
  if [[ -r "$rel" ]]; then
    while IFS= read -r line; do
      if [[ $line =~ ^JAVA_VERSION=\"([0-9]+) ]]; then REPLY=${BASH_REMATCH[1]} && break; fi
    done <"$rel"
  fi
  if [[ -z "$REPLY" ]]; then
    REPLY="$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')"
  fi
}

_mirrord_find_jdk25() { # sets REPLY to the home of a JDK 25+; else prints why on stderr and returns 1
  local homes i
  if [[ -n "${JAVA_HOME:-}" ]]; then
    _mirrord_jdk_major "$JAVA_HOME"
    if [[ -n "$REPLY" && "$REPLY" -ge 25 ]]; then REPLY=$JAVA_HOME; return 0; fi
  fi
  homes=(/usr/lib/jvm/*25*) # sorted by the glob; newest name first below
  for ((i = ${#homes[@]} - 1; i >= 0; i--)); do
    [[ -d ${homes[i]} ]] || continue
    _mirrord_jdk_major "${homes[i]}"
    if [[ -n "$REPLY" && "$REPLY" -ge 25 ]]; then REPLY=${homes[i]}; return 0; fi
  done
  REPLY=""
  echo "java-home.sh: no JDK 25 found (JAVA_HOME=${JAVA_HOME:-unset}, nothing in /usr/lib/jvm/*25*); run scripts/install-deps.sh as root or point JAVA_HOME at a JDK 25" >&2
  return 1
}

if [[ "${BASH_SOURCE[0]}" != "$0" && ${1:-} == --find ]]; then
  # Sourced with --find (bin/mirrord): REPLY is the JDK's home; nothing is exported.
  _mirrord_find_jdk25
elif [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  # Sourced: export JAVA_HOME for the caller.
  if _mirrord_find_jdk25; then
    export JAVA_HOME="$REPLY"
    export PATH="$JAVA_HOME/bin:$PATH"
  else
    return 1
  fi
else
  set -euo pipefail
  _mirrord_find_jdk25
  printf '%s\n' "$REPLY"
fi
