#!/usr/bin/env bash
# Test services for one test run, started and stopped by process id.
#
#   tools/test-services.sh start <state-dir>   start everything, write <state-dir>/env
#   tools/test-services.sh stop  <state-dir>   stop exactly what `start` started, clean up
#   tools/test-services.sh env   <state-dir>   print the env file (eval "$(... env dir)")
#
# `start` brings up, all private to <state-dir> (several runs can coexist; the
# system daemon on /var/run/docker.sock is never touched):
#   - dockerd (docker.io 20.10) on unix://<state-dir>/docker.sock, with its own
#     --data-root, --exec-root, --pidfile, config file, and a managed containerd;
#     `--iptables=false --ip-forward=false --bridge=none`; storage driver overlay2,
#     restarted with vfs when overlay2 does not start or cannot run a container
#     (force one with NXAI_DOCKER_STORAGE_DRIVER=vfs|overlay2).
#   - dockerd 26 (Debian 13's docker.io, from tools/install-modern-docker.sh in
#     $NXAI_MODERN_DOCKER_ROOT, default /opt/nxai-docker26) with the containerd
#     image store (`"features": {"containerd-snapshotter": true}`), on
#     unix://<state-dir>/d26/docker.sock with its own data root, exec root,
#     config dir (holding the buildx plugin) and the same network flags; started
#     when that directory holds it (`NXAI_DOCKER26=0` skips it).
#   - a registry (Distribution 2.8) on 127.0.0.1:<free port>, no auth.
#   - a registry on 127.0.0.1:<free port> with htpasswd (bcrypt) auth, random password.
#   - the image busybox:latest, made with `docker import` from Debian's
#     busybox-static binary plus its applet symlinks (nothing can be pulled).
#
# <state-dir>/env holds `export` lines:
#   DOCKER_HOST          unix://<state-dir>/docker.sock
#   DOCKER_CONFIG        <state-dir>/docker-config (isolated docker CLI config/logins)
#   REGISTRY_AUTH_FILE   <state-dir>/containers-auth.json (isolated skopeo logins)
#   NXAI_REGISTRY        127.0.0.1:<port>   (plain HTTP, no auth)
#   NXAI_AUTH_REGISTRY   127.0.0.1:<port>   (plain HTTP, basic auth)
#   NXAI_AUTH_USER, NXAI_AUTH_PASSWORD
#   NXAI_SERVICES_DIR    <state-dir>
#   NXAI_DOCKER_STORAGE_DRIVER  overlay2 or vfs, whichever started
#   NXAI_BUSYBOX_IMAGE   busybox:latest
#   NXAI_DOCKER26_HOST   unix://<state-dir>/d26/docker.sock   (when dockerd 26 runs)
#   NXAI_DOCKER26_CLI    the docker 26 CLI binary
#   NXAI_DOCKER26_CONFIG its DOCKER_CONFIG (cli-plugins/docker-buildx)
#
# Networking with --bridge=none (measured with dockerd 20.10.24):
#   - There is no `bridge` network; only `host` and `none` exist.
#   - `docker run` works without flags (the container gets a loopback-only
#     namespace); `--network=none` and `--network=host` work as well. Use
#     `--network=host` if the container must reach the 127.0.0.1 registries.
#   - `docker build` with the legacy builder (the default of the 20.10 CLI, and
#     the fallback of newer CLIs without buildx) runs RUN steps without flags.
#     With BuildKit (DOCKER_BUILDKIT=1) a RUN step fails with "network bridge
#     not found" unless the build gets `--network=host` or `--network=none`.
#     So always pass `--network=host` (or none) to `docker build`: it works
#     with both builders.
#   - Every run prints "WARNING: IPv4 forwarding is disabled" on stderr (the
#     host has ip_forward=0 and we do not change it); it is harmless.
#   - The daemon treats 127.0.0.0/8 registries as insecure (plain HTTP) by
#     default, so `docker push/pull 127.0.0.1:<port>/...` needs no config.
#     skopeo needs --tls-verify=false (or --src/--dest-tls-verify=false).
set -euo pipefail

usage() { echo "usage: $0 start|stop|env <state-dir>" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
S=$(cd "$2" && pwd)

log() { echo "test-services: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- helpers

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# Is TCP port $1 in LISTEN state on this host (any address)?
port_listening() {
  local hex
  hex=$(printf '%04X' "$1")
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" {found=1} END {exit !found}'
}

# Does process $1 own a listening socket on port $2?
pid_listens_on() {
  local pid=$1 hex inodes inode fds
  hex=$(printf '%04X' "$2")
  inodes=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" {print $10}')
  fds=$(ls -l "/proc/$pid/fd" 2>/dev/null || true)
  for inode in $inodes; do
    case "$fds" in *"socket:[$inode]"*) return 0 ;; esac
  done
  return 1
}

random_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    port_listening "$p" || { echo "$p"; return 0; }
  done
  die "no free port found"
}

# HTTP status of GET http://127.0.0.1:$1/v2/ (bash /dev/tcp, no curl needed).
http_status() {
  local port=$1 line
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf 'GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$port" >&3
  IFS= read -r -t 2 line <&3 || { exec 3>&-; return 1; }
  exec 3>&- 3<&-
  echo "$line" | awk '{print $2}'
}

# Start a detached process (own session, so a Ctrl-C of the test runner does
# not kill it before the runner's teardown stops it cleanly). Prints its pid.
spawn() {
  local logfile=$1; shift
  setsid "$@" >"$logfile" 2>&1 </dev/null &
  echo $!
}

random_secret() { head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24; }

# ---------------------------------------------------------------- registry

# start_registry <name> <auth:yes|no>; sets REG_PORT. Retries on port races.
start_registry() {
  local name=$1 auth=$2 dir="$S/$1" port pid status want=200 tries
  mkdir -p "$dir/storage"
  [ "$auth" = yes ] && want=401
  for tries in 1 2 3 4 5; do
    port=$(random_port)
    {
      echo "version: 0.1"
      echo "log:"
      echo "  level: warn"
      echo "  accesslog:"
      echo "    disabled: true"
      echo "storage:"
      echo "  filesystem:"
      echo "    rootdirectory: $dir/storage"
      echo "  delete:"
      echo "    enabled: true"
      echo "  maintenance:"
      echo "    uploadpurging:"
      echo "      enabled: false"
      echo "http:"
      echo "  addr: 127.0.0.1:$port"
      echo "  secret: $(random_secret)"
      if [ "$auth" = yes ]; then
        echo "auth:"
        echo "  htpasswd:"
        echo "    realm: nxai-test"
        echo "    path: $dir/htpasswd"
      fi
    } >"$dir/config.yml"
    pid=$(spawn "$dir/registry.log" docker-registry serve "$dir/config.yml")
    echo "$pid" >"$dir/pid"
    for _ in $(seq 1 100); do
      pid_alive "$pid" || break
      if pid_listens_on "$pid" "$port"; then
        status=$(http_status "$port" || true)
        if [ "$status" = "$want" ]; then REG_PORT=$port; return 0; fi
      fi
      sleep 0.1
    done
    if pid_alive "$pid"; then
      kill "$pid" 2>/dev/null || true
      die "registry $name on port $port did not answer /v2/ with $want (log: $dir/registry.log): $(tail -3 "$dir/registry.log")"
    fi
    log "registry $name exited on port $port (try $tries), retrying: $(tail -1 "$dir/registry.log")"
  done
  die "registry $name could not start (log: $dir/registry.log)"
}

# ---------------------------------------------------------------- dockerd

# The daemon the helpers below act on: D (its state dir), DOCKERD and DOCKER (its binaries).
D=$S
DOCKERD=dockerd
DOCKER=docker
MODERN_ROOT=${NXAI_MODERN_DOCKER_ROOT:-/opt/nxai-docker26}
use_classic() { D=$S; DOCKERD=dockerd; DOCKER=docker; }
use_modern() { D=$S/d26; DOCKERD=$MODERN_ROOT/usr/sbin/dockerd; DOCKER=$MODERN_ROOT/usr/bin/docker; }
docker_cli() { DOCKER_CONFIG="$D/docker-config" "$DOCKER" -H "unix://$D/docker.sock" "$@"; }

# start_dockerd <driver>: returns 0 when `docker info` answers, 1 when dockerd died.
start_dockerd() {
  local driver=$1 pid
  mkdir -p "$D/data" "$D/exec" "$D/docker-config"
  [ -f "$D/docker-config/config.json" ] || echo '{}' >"$D/docker-config/config.json"
  local storage=(--storage-driver="$driver")
  if [ "$D" = "$S" ]; then
    echo '{}' >"$D/daemon.json"
  else
    # dockerd 26 with the containerd image store (its snapshotter, not a graph driver).
    echo '{"features": {"containerd-snapshotter": true}}' >"$D/daemon.json"
    storage=()
    mkdir -p "$D/docker-config/cli-plugins"
    ln -sf "$MODERN_ROOT/usr/libexec/docker/cli-plugins/docker-buildx" "$D/docker-config/cli-plugins/docker-buildx"
  fi
  pid=$(spawn "$D/dockerd.log" "$DOCKERD" \
    --config-file "$D/daemon.json" \
    --host "unix://$D/docker.sock" \
    --data-root "$D/data" \
    --exec-root "$D/exec" \
    --pidfile "$D/dockerd.pid" \
    --iptables=false --ip-forward=false --ip-masq=false --bridge=none \
    --userland-proxy=false \
    --shutdown-timeout=5 \
    ${storage[@]+"${storage[@]}"})
  echo "$pid" >"$D/dockerd.spawn.pid"
  for _ in $(seq 1 300); do
    pid_alive "$pid" || return 1
    if docker_cli info >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Pids of what `start` started and that still run as ours (checked against
# the command line, so a recycled pid is never killed).
our_pids() {
  local pid cpid p r d
  for d in "$S" "$S/d26"; do
    pid=$(cat "$d/dockerd.spawn.pid" 2>/dev/null || true)
    if pid_alive "$pid" && grep -q "$d/exec" "/proc/$pid/cmdline" 2>/dev/null; then echo "$pid"; fi
    # dockerd stops its managed containerd itself; this is in case it was killed.
    cpid=$(cat "$d/exec/containerd/containerd.pid" 2>/dev/null || true)
    if pid_alive "$cpid" && grep -q "$d/exec" "/proc/$cpid/cmdline" 2>/dev/null; then echo "$cpid"; fi
  done
  our_shims
  [ "${1:-}" = dockerd-only ] && return 0
  for r in registry auth-registry; do
    pid=$(cat "$S/$r/pid" 2>/dev/null || true)
    if pid_alive "$pid" && grep -q "$S/$r/config.yml" "/proc/$pid/cmdline" 2>/dev/null; then echo "$pid"; fi
  done
}

# containerd shims of our containers (their command line names our exec root).
our_shims() {
  local p
  for p in /proc/[0-9]*; do
    case "$(cat "$p/comm" 2>/dev/null)" in containerd-shim*) ;; *) continue ;; esac
    if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q -e "$S/exec/" -e "$S/d26/exec/"; then echo "${p#/proc/}"; fi
  done
}

# Direct children of pid $1.
children_of() {
  awk -v pp="$1" 'FNR == 1 { line = $0; sub(/^.*\) /, "", line); split(line, f, " "); if (f[2] == pp) { split(FILENAME, a, "/"); print a[3] } }' /proc/[0-9]*/stat 2>/dev/null || true
}

# Shims left after the daemons are gone (a container that was being created
# or removed during the stop): kill their processes, then them.
kill_leftover_shims() {
  local shim kid
  for shim in $(our_shims); do
    for kid in $(children_of "$shim"); do kill -KILL "$kid" 2>/dev/null || true; done
    kill -KILL "$shim" 2>/dev/null || true
    wait_gone "$shim" 20 || true
  done
}

# stop_all [dockerd-only]
stop_all() {
  local pids p
  # Kill leftover containers first so dockerd need not wait --shutdown-timeout.
  if [ -S "$S/docker.sock" ]; then
    docker -H "unix://$S/docker.sock" ps -q 2>/dev/null | xargs -r timeout 20 docker -H "unix://$S/docker.sock" kill >/dev/null 2>&1 || true
  fi
  if [ -S "$S/d26/docker.sock" ]; then
    docker -H "unix://$S/d26/docker.sock" ps -q 2>/dev/null | xargs -r timeout 20 docker -H "unix://$S/d26/docker.sock" kill >/dev/null 2>&1 || true
  fi
  pids=$(our_pids "${1:-}")
  for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
  for p in $pids; do
    wait_gone "$p" 200 || { log "pid $p did not stop, killing"; kill -KILL "$p" 2>/dev/null || true; wait_gone "$p" 50 || true; }
  done
  kill_leftover_shims
  unmount_under "$S"
}

stop_dockerd() { stop_all dockerd-only; }

# wait_gone <pid> <tenths of a second>
wait_gone() {
  local i
  for ((i = 0; i < $2; i++)); do pid_alive "$1" || return 0; sleep 0.1; done
  ! pid_alive "$1"
}

# Unmount everything mounted below $1 (deepest first): overlay layers, shm,
# netns files that dockerd leaves behind.
unmount_under() {
  local m
  awk -v pre="$1/" 'index($5, pre) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
  done
}

# ---------------------------------------------------------------- busybox image

import_busybox() {
  local root="$S/busybox-rootfs" p bb
  bb=$(command -v busybox || true)
  [ -x /bin/busybox ] && bb=/bin/busybox
  [ -n "$bb" ] || die "busybox not found (apt-get install busybox-static)"
  if ! file_is_static "$bb"; then die "$bb is not statically linked (install busybox-static)"; fi
  rm -rf "$root"
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/root" "$root/proc" "$root/sys" "$root/dev"
  chmod 1777 "$root/tmp"
  cp "$bb" "$root/bin/busybox"
  # Applet symlinks at their usual paths, pointing at /bin/busybox (absolute
  # links resolve inside the container's root). `busybox --install -s` would
  # point them at the host path of the binary, so we make them ourselves.
  for p in $("$bb" --list-full); do
    mkdir -p "$root/$(dirname "$p")"
    [ -e "$root/$p" ] || [ -L "$root/$p" ] || ln -s /bin/busybox "$root/$p"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  tar -C "$root" --numeric-owner --owner=0 --group=0 -cf - . |
    docker_cli import \
      -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      -c 'CMD ["sh"]' - busybox:latest >/dev/null
  rm -rf "$root"
}

file_is_static() {
  # ELF without a PT_INTERP program header = static. Avoid needing `file`.
  ! LC_ALL=C grep -q -a '/lib64/ld-linux' "$1" && ! LC_ALL=C grep -q -a '/lib/ld-linux' "$1"
}

smoke_run() {
  docker_cli run --rm --network=none busybox:latest sh -c 'echo ok' 2>/dev/null | grep -q '^ok$'
}

# ---------------------------------------------------------------- commands

do_start() {
  local t0 driver reg_port auth_port user password
  t0=$(date +%s%N)
  for c in dockerd docker containerd runc docker-registry htpasswd setsid; do
    command -v "$c" >/dev/null 2>&1 || die "$c not found; run tools/install-system-deps.sh"
  done
  [ "$(id -u)" -eq 0 ] || die "dockerd needs root (run the tests as root)"
  [ ! -e "$S/started" ] || die "$S already holds running services (stop them first)"
  [ ${#S} -le 80 ] || die "state dir path too long for unix sockets (${#S} > 80 chars): $S"
  touch "$S/started"
  rm -f "$S/env"
  # Whatever fails from here on: stop what was started so far.
  trap 'rc=$?; if [ ! -f "$S/env" ]; then do_stop_quiet; fi; exit $rc' EXIT

  # Registries first (fast, independent of dockerd), dockerd next.
  start_registry registry no
  reg_port=$REG_PORT

  user=nxai
  password=$(random_secret)
  mkdir -p "$S/auth-registry"
  htpasswd -Bbn "$user" "$password" >"$S/auth-registry/htpasswd" 2>/dev/null
  start_registry auth-registry yes
  auth_port=$REG_PORT

  driver=${NXAI_DOCKER_STORAGE_DRIVER:-overlay2}
  local ok=0
  if start_dockerd "$driver"; then
    import_busybox
    if smoke_run; then ok=1; else log "dockerd with $driver cannot run a container"; fi
  else
    log "dockerd with $driver did not start: $(grep -m1 -E 'level=(error|fatal)|failed to start' "$S/dockerd.log" || tail -1 "$S/dockerd.log")"
  fi
  if [ $ok = 0 ] && [ "$driver" = overlay2 ] && [ -z "${NXAI_DOCKER_STORAGE_DRIVER:-}" ]; then
    log "falling back to the vfs storage driver"
    stop_dockerd
    mv "$S/dockerd.log" "$S/dockerd.overlay2.log"
    rm -rf "$S/data" "$S/exec"
    driver=vfs
    if start_dockerd "$driver"; then
      import_busybox
      smoke_run && ok=1
    fi
  fi
  if [ $ok = 0 ]; then
    local why
    why=$(grep -E 'level=(error|fatal)' "$S/dockerd.log" | tail -3 || true)
    do_stop_quiet
    die "dockerd ($driver) did not start or cannot run containers. Log $S/dockerd.log: ${why:-$(tail -3 "$S/dockerd.log" 2>/dev/null)}"
  fi

  # dockerd 26 with the containerd image store, beside it (no storage-driver fallback: overlayfs snapshotter).
  local modern=0
  if [ "${NXAI_DOCKER26:-1}" != 0 ] && [ -x "$MODERN_ROOT/usr/sbin/dockerd" ]; then
    use_modern
    if start_dockerd overlayfs && import_busybox && smoke_run; then
      modern=1
    else
      local why26
      why26=$(grep -E 'level=(error|fatal)' "$D/dockerd.log" | tail -3 || true)
      do_stop_quiet
      die "dockerd 26 did not start or cannot run containers. Log $D/dockerd.log: ${why26:-$(tail -3 "$D/dockerd.log" 2>/dev/null)}"
    fi
    use_classic
  fi

  mkdir -p "$S/docker-config"
  echo '{}' >"$S/docker-config/config.json"
  umask 077
  {
    echo "export DOCKER_HOST='unix://$S/docker.sock'"
    echo "export DOCKER_CONFIG='$S/docker-config'"
    echo "export REGISTRY_AUTH_FILE='$S/containers-auth.json'"
    echo "export NXAI_REGISTRY='127.0.0.1:$reg_port'"
    echo "export NXAI_AUTH_REGISTRY='127.0.0.1:$auth_port'"
    echo "export NXAI_AUTH_USER='$user'"
    echo "export NXAI_AUTH_PASSWORD='$password'"
    echo "export NXAI_SERVICES_DIR='$S'"
    echo "export NXAI_DOCKER_STORAGE_DRIVER='$driver'"
    echo "export NXAI_BUSYBOX_IMAGE='busybox:latest'"
    if [ $modern = 1 ]; then
      echo "export NXAI_DOCKER26_HOST='unix://$S/d26/docker.sock'"
      echo "export NXAI_DOCKER26_CLI='$MODERN_ROOT/usr/bin/docker'"
      echo "export NXAI_DOCKER26_CONFIG='$S/d26/docker-config'"
    fi
  } >"$S/env.tmp"
  mv "$S/env.tmp" "$S/env"
  log "started in $(( ($(date +%s%N) - t0) / 1000000 )) ms: dockerd ($driver) unix://$S/docker.sock$([ $modern = 1 ] && echo ", dockerd 26 (containerd store) unix://$S/d26/docker.sock"), registry 127.0.0.1:$reg_port, auth registry 127.0.0.1:$auth_port"
}

do_stop_quiet() {
  stop_all
  # Remove the bulky state (images, blobs); keep logs and the env file out of
  # the way so a stale env cannot be reused.
  rm -rf "$S/d26/data" "$S/d26/exec" "$S/d26/docker.sock"
  rm -rf "$S/data" "$S/exec" "$S/registry/storage" "$S/auth-registry/storage" "$S/busybox-rootfs" "$S/env" "$S/docker.sock"
  rm -f "$S/started"
}

do_stop() {
  [ -e "$S/started" ] || [ -e "$S/dockerd.spawn.pid" ] || { log "nothing started in $S"; return 0; }
  do_stop_quiet
  log "stopped services in $S"
}

case "$cmd" in
  start) do_start ;;
  stop) do_stop ;;
  env) [ -f "$S/env" ] || die "no env file in $S (services not started?)"; cat "$S/env" ;;
  *) usage ;;
esac
