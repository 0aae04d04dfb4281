#!/usr/bin/env bash
# Builds the stand-in images gorae's real-engine tests use on machines that can
# pull nothing (see "Testing on machines without a registry" in the design doc):
# a Debian rootfs from debootstrap, imported as gorae-test/base, and thin images
# on top of it from tests/stand-in/<name>/. Reached through
# GORAE_IMAGE_PREFIX=gorae-test/, so `redis:7` becomes gorae-test/redis:7.
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
IMAGES=(redis:7 postgres:16 node:20 python:3.12)
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

ALL=("$BASE" "${IMAGES[@]/#/$NS/}")
all_current "${ALL[@]}" && exit 0

# debootstrap, and removing what it wrote, need root.
SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)

# Several test binaries may start at once; the first builds, the rest wait and
# then find the images current.
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
old_ids=$(docker image inspect -f '{{.Id}}' "${IMAGES[@]/#/$NS/}" 2>/dev/null || true)
old_bases=$(docker images --format '{{.Repository}}:{{.Tag}}' "$NS/base" | grep -vx "$BASE" || true)

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

# Each Dockerfile step costs a container start (seconds on fuse-overlayfs), so
# the images are built side by side. The legacy builder takes the local base
# image without asking a registry.
building=()
for image in "${IMAGES[@]}"; do
  all_current "$NS/$image" && continue
  log "building $NS/$image"
  name=${image%%:*}
  DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$BASE" --label "$LABEL=$REV" \
    -t "$NS/$image" "$root_dir/tests/stand-in/$name" >"$work/$name.log" 2>&1 &
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
