#!/usr/bin/env bash
# Installs Podman from Debian for the tests that run gorae against Podman's
# Docker-compatible API (tests/podman.rs), with catatonit, the init process Podman
# runs for `init: true`. Only installs: each test process starts its own
# `podman system service` on a socket of its own and stops it afterwards.
#
# Idempotent and quick when installed; safe to run from several processes at once.
# Needs root (or sudo) the first time.
set -euo pipefail

installed() { command -v podman >/dev/null && [ -x /usr/libexec/podman/catatonit ]; }
installed && exit 0

SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)

exec 9>>"${TMPDIR:-/tmp}/gorae-test-podman.lock"
flock -w 600 9
installed && exit 0
echo "install-podman: installing podman and catatonit from Debian" >&2
"${SUDO[@]}" apt-get update -qq >&2
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq podman catatonit >&2
installed
