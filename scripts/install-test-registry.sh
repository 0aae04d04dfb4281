#!/usr/bin/env bash
# Installs Debian's `docker-registry` (the reference registry, distribution 2.x)
# for the tests that need a real registry on 127.0.0.1 (see "Testing with a real
# registry" in the design doc). Only installs: each test starts its own
# `docker-registry serve CONFIG` on a port of its own, with a temporary storage
# directory, and stops it afterwards.
#
# Idempotent and quick when installed; safe to run from several processes at once.
# Needs root (or sudo) the first time.
set -euo pipefail

installed() { command -v docker-registry >/dev/null || [ -x /usr/bin/docker-registry ]; }
installed && exit 0

. "$(dirname "$0")/lib/install-from-debian.sh"
# Where systemd runs, the package also enables its own service on port 5000; the
# tests never use it.
install_from_debian registry --no-install-recommends docker-registry
installed
