#!/usr/bin/env bash
# Installs what building and testing mirrord-jvm needs on Debian 12, and nothing that is already there.
# Idempotent; safe to run again. Needs root for the apt part (it only reports when not root).
set -euo pipefail
cd "$(dirname "$0")/.."

# Tools the e2e netns lab (scripts/lab.sh) and the pod agent use. postgresql and redis-server are servers of
# `lab.sh up --with-db` (started by hand inside the lab, never as the packages' own services: see below).
PACKAGES=(iproute2 iptables conntrack util-linux socat dnsmasq-base curl procps psmisc netcat-openbsd maven
  postgresql redis-server
  podman runc netavark aardvark-dns debootstrap busybox-static)
# podman + runc (crun refuses hybrid cgroup v1 machines) + netavark/aardvark-dns (container networks with DNS by
# container name), debootstrap (the agent image's base, scripts/image.sh), busybox-static (target containers of the
# container e2e tests): --target container/NAME and the agent image, tested by e2e ContainerE2EIT.
# The Gradle of e2e GradleE2EIT (Debian 12's 4.4.1, which runs on JDK 17): the one Gradle this machine can get, since
# no Gradle distribution is served by Maven Central or Debian otherwise. About 90 packages (~100 s on a fresh machine).
PACKAGES+=(gradle)
# The kernel's system call tables (asm/unistd_64.h, asm-generic/unistd.h), which the pod agent's SyscallsTest checks
# the agent's numbers for x86-64 and aarch64 against.
PACKAGES+=(linux-libc-dev)
# Packages whose Debian service must never run on the host (the lab starts its own servers in its namespaces).
NO_SERVICE=(postgresql redis-server)

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
  # Keep the packages' services from starting during the install: a policy-rc.d that denies every start (as in
  # Docker images), only for the length of the install and only if the machine has none of its own.
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# scripts/install-deps.sh: no service starts during this install\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    own_policy=1
  fi
  rc=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null || rc=$?
  [[ $own_policy -eq 0 ]] || rm -f "$policy"
  [[ $rc -eq 0 ]] || exit $rc
else
  echo "install-deps: packages present (${PACKAGES[*]})"
fi

# The Debian services of the lab's servers stay off: not enabled at boot (where systemd runs) and not running now.
if [[ $(id -u) -eq 0 ]]; then
  for svc in "${NO_SERVICE[@]}"; do
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
      systemctl disable --now "$svc" >/dev/null 2>&1 || true
    elif [[ -x /etc/init.d/$svc ]]; then
      "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
    fi
  done
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
