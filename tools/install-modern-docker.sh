#!/usr/bin/env bash
# The modern Docker engine beside Debian 12's 20.10, from Debian's own packages
# (no other source): Debian 13 (trixie) docker.io 26.1.5 (dockerd), docker-cli
# 26.1.5 and docker-buildx 0.13.1, unpacked with `dpkg -x` into one directory
# (default /opt/nxai-docker26, or $NXAI_MODERN_DOCKER_ROOT), never installed
# over the system's packages. They need only libc6 >= 2.34 and Debian 12's
# containerd and runc, which install-system-deps.sh provides.
#
#   tools/install-modern-docker.sh          install when missing (idempotent, quiet when present)
#
# The download uses a private apt state (its own sources list with the trixie
# suite, lists and cache under <root>.apt), so the system's apt sources and
# package lists are untouched. tools/test-services.sh starts the daemon.
set -euo pipefail

ROOT=${NXAI_MODERN_DOCKER_ROOT:-/opt/nxai-docker26}
VERSION_PREFIX=26.
PACKAGES=(docker.io docker-cli docker-buildx)

present() {
  [ -x "$ROOT/usr/sbin/dockerd" ] && [ -x "$ROOT/usr/bin/docker" ] && [ -x "$ROOT/usr/libexec/docker/cli-plugins/docker-buildx" ] &&
    "$ROOT/usr/sbin/dockerd" --version 2>/dev/null | grep -q "version $VERSION_PREFIX"
}
present && exit 0
[ "$(id -u)" -eq 0 ] || { echo "install-modern-docker: $ROOT is missing and this is not root; run as root" >&2; exit 1; }

echo "install-modern-docker: downloading ${PACKAGES[*]} from Debian trixie into $ROOT" >&2
APT="$ROOT.apt"
rm -rf "$APT"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/debs"
echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main' >"$APT/sources.list"
opts=(
  -o "Dir::Etc::SourceList=$APT/sources.list" -o "Dir::Etc::SourceParts=$APT/none"
  -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache" -o APT::Sandbox::User=root -q
)
apt-get "${opts[@]}" update >/dev/null
(cd "$APT/debs" && apt-get "${opts[@]}" download "${PACKAGES[@]}" >/dev/null)

# Unpack next to the target, then move it into place: never a half-unpacked root.
tmp="$ROOT.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
for deb in "$APT"/debs/*.deb; do dpkg -x "$deb" "$tmp"; done
rm -rf "$ROOT"
mv "$tmp" "$ROOT"
rm -rf "$APT"
present || { echo "install-modern-docker: $ROOT/usr/sbin/dockerd is not Docker $VERSION_PREFIX* after unpacking" >&2; exit 1; }
echo "install-modern-docker: $("$ROOT/usr/sbin/dockerd" --version), $("$ROOT/usr/libexec/docker/cli-plugins/docker-buildx" version)" >&2
