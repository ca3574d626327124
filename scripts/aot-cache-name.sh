#!/usr/bin/env bash
# Sourced by bin/mirrord: the file name of a start-up (AOT) cache, computed without starting any process (bin/mirrord
# runs before every mirrord command). dev.mirrord.jvm.protocol.jvm.AotCache#file computes the same name in Java for
# the agent's cache; AotCacheTest checks that the two agree.
#
#   mirrord_aot_cache_name CACHE_DIR REAL_JAR_PATH JAR_SIZE JAR_MTIME_SECONDS REAL_JAVA_HOME RUNTIME_VERSION
#     -> REPLY=CACHE_DIR/<jar name without .jar>-<fnv(real jar path)>-<fnv(size|mtime|java home|runtime version)>.aot

# _mirrord_fnv STRING -> REPLY: FNV-1a (32 bit) over the string's code points, 8 hex digits
_mirrord_fnv() {
  local s=$1 i c h=2166136261
  for ((i = 0; i < ${#s}; i++)); do
    printf -v c '%d' "'${s:i:1}"
    h=$(((h ^ c) * 16777619 & 0xffffffff))
  done
  printf -v REPLY '%08x' "$h"
}

mirrord_aot_cache_name() {
  local base=${2##*/} path_key
  base=${base%.jar}
  _mirrord_fnv "$2"
  path_key=$REPLY
  _mirrord_fnv "$3|$4|$5|$6"
  REPLY="$1/$base-$path_key-$REPLY.aot"
}
