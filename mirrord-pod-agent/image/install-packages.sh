#!/bin/sh
# install-packages.sh: installs the packages of packages.txt that the build stage lacks (apt needs the network only
# then: scripts/image.sh builds on a base that has them all, with no network).
set -eu
missing=""
for p in $(grep -v '^[[:space:]]*#' "$(dirname "$0")/packages.txt"); do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
  rm -rf /var/lib/apt/lists/*
fi
