#!/usr/bin/env bash
# Installs what building and testing mirrord-jvm needs on Debian 12, and nothing that is already there.
# Idempotent; safe to run again. Needs root for the apt part (it only reports when not root).
set -euo pipefail
cd "$(dirname "$0")/.."

# Tools the e2e netns lab (scripts/lab.sh) and the pod agent use.
PACKAGES=(iproute2 iptables conntrack util-linux socat dnsmasq-base curl procps psmisc netcat-openbsd maven)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
    missing+=("$p")
  fi
done

apt_updated=0
apt_update_once() {
  if [[ $apt_updated -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
}

if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages (${missing[*]}); run this script as root to install them" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
else
  echo "install-deps: packages present (${PACKAGES[*]})"
fi

# JDK 25: JAVA_HOME if 25+, else /usr/lib/jvm/*25*; else temurin-25-jdk if apt knows it.
if jdk="$(scripts/java-home.sh 2>/dev/null)"; then
  echo "install-deps: JDK 25 at $jdk"
else
  if [[ $(id -u) -eq 0 ]]; then
    apt_update_once
    if apt-cache show temurin-25-jdk >/dev/null 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends temurin-25-jdk </dev/null
    fi
  fi
  if jdk="$(scripts/java-home.sh 2>/dev/null)"; then
    echo "install-deps: JDK 25 at $jdk"
  else
    echo "install-deps: no JDK 25 and apt has no temurin-25-jdk: install a JDK 25 under /usr/lib/jvm (e.g. Temurin 25) or set JAVA_HOME to one" >&2
    exit 1
  fi
fi
