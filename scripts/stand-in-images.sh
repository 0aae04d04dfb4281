#!/usr/bin/env bash
# Builds the stand-in images gorae's real-engine tests use on machines that can
# pull nothing (see "Testing on machines without a registry" in the design doc):
# a Debian rootfs from debootstrap, imported as gorae-test/base, and thin images
# on top of it from tests/stand-in/<name>/. Reached through
# GORAE_IMAGE_PREFIX=gorae-test/, so `redis:7` becomes gorae-test/redis:7.
#
#   stand-in-images.sh [NAME...]   # names of tests/stand-in/ folders;
#                                  # default: redis postgres node python
#
# Only the named stand-ins are built, so a test waits for the images it uses.
# The four default ones come with the debootstrap base; the others install
# their packages in their own `docker build` from gorae-test/base-apt (the base
# plus Debian's package lists), side by side.
#
# Idempotent: when every image carries the current REV label it only inspects
# them and exits. Safe to run from several processes at once. Needs root (or
# sudo) for debootstrap; GORAE_DEBIAN_MIRROR overrides the Debian mirror.
set -euo pipefail

# Bump whenever the package set, the trimming or anything under tests/stand-in/
# changes, so machines that already have the images rebuild them.
REV=1
NS=gorae-test
BASE=$NS/base:bookworm-$REV
APT_BASE=$NS/base-apt:bookworm-$REV
# The tags each stand-in folder is built as. One MariaDB image stands in for
# both mysql and mariadb: its entrypoint reads either's variables.
declare -A TAGS=(
  [redis]="redis:7" [postgres]="postgres:16" [node]="node:20" [python]="python:3.12"
  [mariadb]="mysql:8.4 mariadb:11" [rabbitmq]="rabbitmq:3" [memcached]="memcached:1"
  [nginx]="nginx:1" [golang]="golang:1.22" [ruby]="ruby:3.3" [php]="php:8.3"
)
DEFAULT=(redis postgres node python)
# Folders whose Dockerfile runs apt-get install (built from $APT_BASE).
APT=(mariadb rabbitmq memcached nginx golang ruby php)
LABEL=dev.gorae.stand-in
PACKAGES=redis-server,postgresql,nodejs,python3,tini,ca-certificates,procps
MIRROR=${GORAE_DEBIAN_MIRROR:-http://deb.debian.org/debian}

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=${TMPDIR:-/tmp}

log() { printf 'stand-in-images: [%3ds] %s\n' "$SECONDS" "$*" >&2; }

# Succeeds when every given image exists and carries this REV's label. One
# `docker` call for all of them keeps the warm path fast.
all_current() {
  local out
  out=$(docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$@" 2>/dev/null) || return 1
  [ "$(printf '%s\n' "$out" | grep -cx "$REV")" -eq "$#" ]
}

names=("$@")
[ "${#names[@]}" -gt 0 ] || names=("${DEFAULT[@]}")
uses_apt=false
IMAGES=()
for name in "${names[@]}"; do
  [ -n "${TAGS[$name]:-}" ] || { log "no stand-in named $name (see tests/stand-in/)"; exit 2; }
  for apt in "${APT[@]}"; do [ "$apt" != "$name" ] || uses_apt=true; done
  read -ra tags <<<"${TAGS[$name]}"
  IMAGES+=("${tags[@]/#/$NS/}")
done
ALL=("$BASE" "${IMAGES[@]}")
if $uses_apt; then ALL+=("$APT_BASE"); fi
all_current "${ALL[@]}" && exit 0

# debootstrap, and removing what it wrote, need root.
SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)

# Several test binaries may start at once; the first builds the base, the rest
# wait and then find it current. Each stand-in has a lock of its own below, so
# a process that needs only redis does not wait for rabbitmq.
exec 9>>"$tmp/gorae-stand-in-images.lock"
flock -w 1200 9
all_current "${ALL[@]}" && exit 0
# Fail now rather than after a minute of debootstrap.
docker version >/dev/null || { log "cannot reach the Docker engine"; exit 1; }

work=$(mktemp -d "$tmp/gorae-stand-in.XXXXXX")
cleanup() {
  # A debootstrap that died half-way leaves /proc and /sys mounted in the chroot;
  # unmount them first so rm cannot wander into them.
  awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r m; do "${SUDO[@]}" umount -l "$m" || true; done
  "${SUDO[@]}" rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# Remember the images of an older REV, so that they can be removed afterwards
# instead of piling up as <none> images.
old_ids=$(docker image inspect -f '{{.Id}}' "${IMAGES[@]}" 2>/dev/null || true)
old_bases=$( (docker images --format '{{.Repository}}:{{.Tag}}' "$NS/base"
  docker images --format '{{.Repository}}:{{.Tag}}' "$NS/base-apt") | grep -vx "$BASE\|$APT_BASE" || true)

if ! all_current "$BASE"; then
  if ! command -v debootstrap >/dev/null && [ ! -x /usr/sbin/debootstrap ]; then
    log "installing debootstrap"
    "${SUDO[@]}" apt-get update -qq >&2
    "${SUDO[@]}" apt-get install -y -qq debootstrap >&2
  fi
  log "debootstrap bookworm into a temp dir (about a minute)"
  if ! "${SUDO[@]}" env PATH="/usr/sbin:/sbin:$PATH" debootstrap --variant=minbase \
      --include="$PACKAGES" bookworm "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    log "debootstrap failed; the end of its log is above"
    exit 1
  fi
  # Drop what no test needs: package caches, docs, translations, and the
  # cluster Debian's postinst creates (the postgres entrypoint makes its own).
  # resolv.conf and hostname are the build host's; Docker supplies its own.
  (cd "$work/rootfs" && "${SUDO[@]}" rm -rf var/cache/apt/archives/*.deb var/lib/apt/lists/* \
    usr/share/doc/* usr/share/man/* usr/share/locale/* \
    var/lib/postgresql/*/main etc/postgresql/*/main etc/resolv.conf etc/hostname)
  log "importing $BASE"
  "${SUDO[@]}" tar -C "$work/rootfs" --numeric-owner \
      --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf - . |
    docker import -m "gorae stand-in base, rev $REV" \
      --change "LABEL $LABEL=$REV" \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV LANG=C.UTF-8' \
      --change 'CMD ["bash"]' - "$BASE" >/dev/null
fi

if $uses_apt && ! all_current "$APT_BASE"; then
  log "building $APT_BASE (Debian's package lists)"
  DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$BASE" --build-arg "MIRROR=$MIRROR" \
    --label "$LABEL=$REV" -t "$APT_BASE" "$root_dir/tests/stand-in/apt" >"$work/apt.log" 2>&1 ||
    { cat "$work/apt.log" >&2; log "docker build of $APT_BASE failed"; exit 1; }
fi
# The bases are current: other processes may go on to their own stand-ins.
exec 9>&-

# Builds one stand-in folder under its own lock, unless another process just did.
build() {
  local name=$1 base=$BASE tags=() apt
  read -ra tags <<<"${TAGS[$name]}"
  for apt in "${APT[@]}"; do [ "$apt" != "$name" ] || base=$APT_BASE; done
  exec 8>>"$tmp/gorae-stand-in-$name.lock"
  flock -w 1200 8
  all_current "${tags[@]/#/$NS/}" && return 0
  log "building ${tags[*]/#/$NS/}"
  local started=$SECONDS
  DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$base" --label "$LABEL=$REV" \
    "${tags[@]/#/--tag=$NS/}" "$root_dir/tests/stand-in/$name" >"$work/$name.log" 2>&1 || return 1
  log "built ${tags[*]/#/$NS/} in $((SECONDS - started))s"
}

# Each Dockerfile step costs a container start (seconds on fuse-overlayfs), so
# the images are built side by side. The legacy builder takes the local base
# image without asking a registry.
building=()
for name in "${names[@]}"; do
  read -ra tags <<<"${TAGS[$name]}"
  all_current "${tags[@]/#/$NS/}" && continue
  build "$name" &
  building+=("$!:$name")
done
failed=0
for job in "${building[@]}"; do
  if ! wait "${job%%:*}"; then
    cat "$work/${job#*:}.log" >&2
    failed=1
  fi
done
[ "$failed" -eq 0 ] || { log "docker build failed"; exit 1; }

# Best effort: an old image still used by a container or a gorae-built image stays.
current=$(docker image inspect -f '{{.Id}}' "${ALL[@]}")
for old in $old_ids $old_bases; do
  grep -qx "$old" <<<"$current" || docker image rm "$old" >/dev/null 2>&1 || true
done
log "ready: ${ALL[*]}"
