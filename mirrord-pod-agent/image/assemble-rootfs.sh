#!/bin/bash
# assemble-rootfs.sh JDK_HOME AGENT_JAR OUT
# Runs in the build stage of mirrord-pod-agent/Dockerfile (a Debian bookworm with packages.txt installed) and writes
# the agent image's whole root file system to OUT: a jlinked runtime of jdk-modules.txt at /opt/java, the agent
# jar and its JVM options (META-INF/mirrord/agent.jvm.options of the jar) as jvm.options at /opt/mirrord, the files of files.txt with every symlink hop and the shared libraries of
# every ELF file (ldd), /tmp, and a passwd/group with root only. Nothing else: no shell but dash, no apt, no dpkg.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jdk=$1 jar=$2 out=$3

list() { grep -v '^[[:space:]]*#' "$1" | sed 's/[[:space:]]*$//' | grep -v '^$'; }

mkdir -p "$out"
# merged /usr (bookworm): /bin, /sbin, /lib, /lib64 are symlinks into /usr
for l in bin sbin lib lib64; do
  if [[ -L /$l ]]; then cp -a "/$l" "$out/$l"; fi
done

declare -A seen=()
add() { # $1: an absolute path in this file system
  local p=$1 dir real
  [[ -n ${seen[$p]:-} ]] && return 0
  seen[$p]=1
  if [[ ! -e $p && ! -L $p ]]; then echo "assemble-rootfs: $p does not exist in the build stage" >&2; return 1; fi
  dir=$(readlink -f "$(dirname "$p")")
  mkdir -p "$out$dir"
  cp -a "$p" "$out$dir/"
  if [[ -L $p ]]; then
    real=$(readlink "$p")
    [[ $real == /* ]] || real="$dir/$real"
    add "$real"
  elif [[ -d $p ]]; then
    local f
    for f in "$p"/*; do add "$f"; done
  elif head -c 4 "$p" | grep -q 'ELF'; then
    libs "$p"
  fi
}
libs() { # the shared libraries of ELF file $1
  local lib
  for lib in $(ldd "$1" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) (0x.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p'); do
    add "$lib"
  done
}

while read -r pattern; do
  matched=0
  for p in $pattern; do
    if [[ -e $p || -L $p ]]; then add "$p"; matched=1; fi
  done
  if [[ $matched -eq 0 ]]; then echo "assemble-rootfs: nothing matches $pattern (files.txt)" >&2; exit 1; fi
done < <(list "$here/files.txt")

modules=$(list "$here/jdk-modules.txt" | paste -sd, -)
"$jdk/bin/jlink" --add-modules "$modules" --strip-java-debug-attributes --no-header-files --no-man-pages --compress zip-6 \
  --output "$out/opt/java"
for f in "$out"/opt/java/bin/* $(find "$out/opt/java/lib" -name '*.so'); do libs "$f"; done

mkdir -p "$out/opt/mirrord"
cp "$jar" "$out/opt/mirrord/mirrord-pod-agent.jar"
# the agent's JVM options: the one file every start of the agent uses, from the jar (AgentJvmOptions.RESOURCE)
opts=$(mktemp -d)
(cd "$opts" && "$jdk/bin/jar" xf "$(realpath "$jar")" META-INF/mirrord/agent.jvm.options)
cp "$opts/META-INF/mirrord/agent.jvm.options" "$out/opt/mirrord/jvm.options"
rm -rf "$opts"
mkdir -p "$out/tmp" "$out/etc" "$out/root" "$out/proc" "$out/sys" "$out/dev" "$out/run"
chmod 1777 "$out/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$out/etc/passwd"
printf 'root:x:0:\n' > "$out/etc/group"
echo "assemble-rootfs: $(du -sh "$out" | cut -f1) in $out"
