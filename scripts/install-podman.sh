#!/usr/bin/env bash
# Installs Podman from Debian for the tests that run gorae against Podman's
# Docker-compatible API (tests/podman.rs), with catatonit, the init process Podman
# runs for `init: true`, and what rootless Podman needs (uidmap, slirp4netns,
# fuse-overlayfs). Then prepares the user the rootless tests run Podman as:
# `gorae-rootless`, with subordinate ids, fuse-overlayfs storage, and /dev/fuse and
# /dev/net/tun open to it (a machine without a login session has no udev rules that
# would). Only installs and prepares: each test process starts its own
# `podman system service` on a socket of its own and stops it afterwards.
#
# Idempotent and quick when done; safe to run from several processes at once.
# Needs root (or sudo) the first time.
set -euo pipefail

user=gorae-rootless
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)

packages_installed() {
  command -v podman >/dev/null && [ -x /usr/libexec/podman/catatonit ] &&
    command -v newuidmap >/dev/null && command -v slirp4netns >/dev/null &&
    command -v fuse-overlayfs >/dev/null
}
user_prepared() {
  id "$user" >/dev/null 2>&1 && grep -q "^$user:" /etc/subuid && grep -q "^$user:" /etc/subgid &&
    [ -f "/home/$user/.config/containers/storage.conf" ] &&
    [ "$(stat -c %a /dev/fuse)" = 666 ] && [ "$(stat -c %a /dev/net/tun)" = 666 ]
}
installed() { packages_installed && user_prepared; }
installed && exit 0

. "$(dirname "$0")/lib/install-from-debian.sh"
if ! packages_installed; then
  # install_from_debian asks `installed` again under its lock: the packages alone.
  installed() { packages_installed; }
  install_from_debian podman podman catatonit uidmap slirp4netns fuse-overlayfs
  installed() { packages_installed && user_prepared; }
fi

exec 8>>"${TMPDIR:-/tmp}/gorae-test-podman-user.lock"
flock -w 600 8
if ! user_prepared; then
  id "$user" >/dev/null 2>&1 || "${sudo[@]}" useradd --create-home --shell /usr/sbin/nologin "$user"
  for ids in /etc/subuid /etc/subgid; do
    grep -q "^$user:" "$ids" 2>/dev/null || echo "$user:300000:65536" | "${sudo[@]}" tee -a "$ids" >/dev/null
  done
  "${sudo[@]}" chmod 0666 /dev/fuse /dev/net/tun
  # The kernel's overlayfs cannot stack on this machine's own root filesystem from
  # a user namespace; fuse-overlayfs can (vfs would copy every image per container).
  conf="/home/$user/.config/containers"
  "${sudo[@]}" runuser -u "$user" -- mkdir -p "$conf"
  printf '[storage]\ndriver = "overlay"\n[storage.options.overlay]\nmount_program = "/usr/bin/fuse-overlayfs"\n' |
    "${sudo[@]}" runuser -u "$user" -- tee "$conf/storage.conf" >/dev/null
fi
installed
