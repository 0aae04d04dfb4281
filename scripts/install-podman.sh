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

. "$(dirname "$0")/lib/install-from-debian.sh"
install_from_debian podman podman catatonit
installed
