#!/usr/bin/env bash
# Installs, from Debian 12's packages, the system tools the tests use:
#   docker.io       dockerd 20.10 + docker CLI (engine for e2e tests)
#   docker-registry Distribution 2.8 (local OCI registries for e2e tests)
#   skopeo, umoci   read/copy OCI images and layouts in tests
#   busybox-static  a static busybox, turned into the `busybox:latest` test image
#   apache2-utils   htpasswd (bcrypt users for the auth registry)
#   zstd            zstd-compressed layers
#   git             e2e workspaces are git repositories
#
# Idempotent and quiet: it checks what is installed first, runs `apt-get update`
# at most once and only when something is missing. Needs root (or sudo) only
# when it has to install. It never starts the system docker/registry services
# (tests run their own instances, see tools/test-services.sh).
set -euo pipefail

packages=(docker.io docker-registry skopeo umoci busybox-static apache2-utils zstd git git-lfs ca-certificates)

is_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for p in "${packages[@]}"; do
  is_installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-system-deps: installing ${missing[*]}" >&2

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "install-system-deps: missing packages (${missing[*]}) and not root; run as root" >&2
    exit 1
  fi
fi

# Keep package scripts from starting daemons (system dockerd on
# /var/run/docker.sock, a registry on :5000) while installing: policy-rc.d
# exit 101 = "action forbidden". Only if none exists; removed afterwards.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
  "${sudo_cmd[@]}" chmod 755 "$policy"
  made_policy=1
fi
cleanup() {
  if [ "$made_policy" = 1 ]; then "${sudo_cmd[@]}" rm -f "$policy"; fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# Verify the commands the tests call are really there now.
for c in dockerd docker docker-registry skopeo umoci htpasswd zstd git; do
  command -v "$c" >/dev/null 2>&1 || { echo "install-system-deps: $c still missing after install" >&2; exit 1; }
done
[ -x /bin/busybox ] || { echo "install-system-deps: /bin/busybox missing after install" >&2; exit 1; }
echo "install-system-deps: done" >&2
