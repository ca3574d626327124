#!/usr/bin/env bash
# Builds the pod agent's OCI image with podman, with no registry, no Docker and no network during the build:
#   scripts/image.sh [--tag IMAGE] [--oci-archive FILE] [--force] [--print-tag]
# - builds mirrord-pod-agent/Dockerfile itself (so the Dockerfile and this script cannot drift apart), on
#   BUILD_BASE = a Debian bookworm made here by debootstrap from the Debian mirror apt uses (with
#   mirrord-pod-agent/image/packages.txt installed; cached as a tarball under $MIRRORD_IMAGE_CACHE) and
#   JDK_IMAGE = this machine's JDK 25 (scripts/java-home.sh); both exist only during the build;
# - tags it IMAGE (default localhost/mirrord-pod-agent:<version of the agent jar>), labelled with a hash of every
#   input (Dockerfile, image/*, the agent jar, the JDK, the base): an image with the same hash is reused, not rebuilt;
# - with --oci-archive FILE, also writes it as an OCI archive to push to your own registry:
#     skopeo copy oci-archive:FILE docker://registry.example.com/mirrord-pod-agent:<version>
#   (or `podman push IMAGE docker://registry.example.com/mirrord-pod-agent:<version>`).
# Prints the image's size. Needs root, podman (runc), debootstrap, and the agent jar
# (mvn -pl mirrord-pod-agent -am package -DskipTests). Env: MIRRORD_IMAGE_CACHE (default /var/cache/mirrord-jvm/image),
# MIRRORD_IMAGE_MIRROR (default: the first Debian mirror of /etc/apt/sources.list{,.d/*}).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

tag="" archive="" force=0 print_tag=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --tag) tag=$2; shift 2 ;;
    --oci-archive) archive=$2; shift 2 ;;
    --force) force=1; shift ;;
    --print-tag) print_tag=1; shift ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "image.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "image.sh: $*" >&2; }
die() { echo "image.sh: $*" >&2; exit 1; }

jar=$root/mirrord-pod-agent/target/mirrord-pod-agent.jar
[[ -f $jar ]] || die "no agent jar at $jar; build it: mvn -pl mirrord-pod-agent -am package -DskipTests"
java_home=$(scripts/java-home.sh) || exit 1
version=$(cd "$(mktemp -d)" && "$java_home/bin/jar" xf "$jar" META-INF/MANIFEST.MF &&
  sed -n 's/^Implementation-Version: *\([^[:space:]]*\).*/\1/p' META-INF/MANIFEST.MF && rm -rf "$PWD")
[[ -n $version ]] || version=dev
[[ -n $tag ]] || tag=localhost/mirrord-pod-agent:$version
if [[ $print_tag -eq 1 ]]; then echo "$tag"; exit 0; fi

[[ $(id -u) -eq 0 ]] || die "needs root (podman with --privileged containers, debootstrap)"
command -v podman >/dev/null || die "podman is not installed: apt-get install podman runc (or scripts/install-deps.sh)"
command -v debootstrap >/dev/null || die "debootstrap is not installed: apt-get install debootstrap (or scripts/install-deps.sh)"

# The first Debian mirror apt uses, deb822 (.sources) or one-line (.list) format.
mirror() {
  if [[ -n ${MIRRORD_IMAGE_MIRROR:-} ]]; then echo "$MIRRORD_IMAGE_MIRROR"; return; fi
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    uri=$(awk 'BEGIN{IGNORECASE=1} /^URIs:/{u=$2} /^Suites:/ && / bookworm( |$)/{if (u != "") {print u; exit}} /^$/{u=""}' "$f")
    if [[ -n $uri ]]; then echo "$uri"; return; fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    uri=$(awk '$1 == "deb" && $0 ~ / bookworm / {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' "$f")
    if [[ -n $uri ]]; then echo "$uri"; return; fi
  done
  die "no Debian bookworm mirror in /etc/apt/sources.list{,.d}; set MIRRORD_IMAGE_MIRROR=<mirror URL>"
}

# The podman flags every container of ours needs on machines whose hard limits are below podman's defaults
# (runc fails on setrlimit otherwise): this process's own limits.
ulimits=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=4096:4096")

packages=$(grep -v '^[[:space:]]*#' mirrord-pod-agent/image/packages.txt | xargs | tr ' ' ',')
src=$(mirror)
base_key=$(printf 'bookworm minbase %s %s' "$src" "$packages" | sha256sum | cut -c1-16)
# The jar by its entries' contents: a rebuild with the same sources changes only its timestamps.
jar_digest=$("$java_home/bin/java" scripts/JarDigest.java "$jar")
inputs=$( (cat mirrord-pod-agent/Dockerfile mirrord-pod-agent/image/* "$java_home/release" .dockerignore
  echo "$jar_digest $base_key") | sha256sum | cut -c1-32)

if [[ $force -eq 0 ]] &&
  [[ $(podman image inspect -f '{{index .Labels "dev.mirrord.jvm.image.inputs"}}' "$tag" 2>/dev/null) == "$inputs" ]]; then
  say "$tag is up to date (inputs $inputs), $(($(podman image inspect -f '{{.Size}}' "$tag") / 1048576)) MiB"
  [[ -z $archive ]] || { podman save --format oci-archive -o "$archive" "$tag" && say "wrote $archive"; }
  exit 0
fi

cache=${MIRRORD_IMAGE_CACHE:-/var/cache/mirrord-jvm/image}
mkdir -p "$cache"
base_tar=$cache/bookworm-minbase-$base_key.tar
start=$(date +%s)
if [[ ! -s $base_tar ]]; then
  say "debootstrap bookworm (minbase + $packages) from $src into $cache (once; about a minute) ..."
  dir=$(mktemp -d "$cache/debootstrap.XXXXXX")
  trap 'rm -rf "$dir"' EXIT
  debootstrap --variant=minbase --include="$packages" bookworm "$dir" "$src" >"$dir.log" 2>&1 ||
    die "debootstrap failed; see $dir.log"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -cf "$base_tar.tmp" . && mv "$base_tar.tmp" "$base_tar"
  rm -rf "$dir" "$dir.log"
  trap - EXIT
fi

# The base and the JDK as images of their own, only for the build (removed below, whatever happens).
run_id=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
base_image=localhost/mirrord-image-base-$run_id:build
jdk_image=localhost/mirrord-image-jdk-$run_id:build
cleanup() { podman rmi -f "$base_image" "$jdk_image" >/dev/null 2>&1 || true; }
trap cleanup EXIT
podman import -q "$base_tar" "$base_image" >/dev/null
tar -C "$java_home" -ch --transform 's,^\.,opt/java/openjdk,' . | podman import -q - "$jdk_image" >/dev/null

old_id=$(podman image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
say "building $tag from mirrord-pod-agent/Dockerfile (no network) ..."
log=$cache/build-$run_id.log
podman build --network=none --pull=never --layers=false --force-rm "${ulimits[@]}" \
  --build-arg BUILD_BASE="$base_image" --build-arg JDK_IMAGE="$jdk_image" \
  --label dev.mirrord.jvm.image.inputs="$inputs" --label org.opencontainers.image.version="$version" \
  -f mirrord-pod-agent/Dockerfile -t "$tag" . >"$log" 2>&1 || die "podman build failed; see $log"
rm -f "$log"
cleanup
trap - EXIT
# the image this tag named before is no longer wanted (kept if a container still uses it)
if [[ -n $old_id && $old_id != "$(podman image inspect -f '{{.Id}}' "$tag")" ]]; then
  podman rmi "$old_id" >/dev/null 2>&1 || true
fi

size=$(podman image inspect -f '{{.Size}}' "$tag")
say "built $tag in $(($(date +%s) - start)) s: $((size / 1048576)) MiB uncompressed"
if [[ -n $archive ]]; then
  podman save --format oci-archive -o "$archive" "$tag"
  say "wrote $archive ($(($(stat -c %s "$archive") / 1048576)) MiB); push it: skopeo copy oci-archive:$archive docker://<registry>/mirrord-pod-agent:$version"
fi
