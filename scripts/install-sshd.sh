#!/usr/bin/env bash
# Installs Debian's openssh-server for the test that reaches the engine over
# ssh:// (tests/remote_engine.rs). Only installs: the test starts its own sshd on
# 127.0.0.1 and a port of its own, with keys of its own, and stops it afterwards.
#
# Idempotent and quick when installed; safe to run from several processes at once.
# Needs root (or sudo) the first time.
set -euo pipefail

installed() { [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null; }
installed && exit 0

SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)

exec 9>>"${TMPDIR:-/tmp}/gorae-test-sshd.lock"
flock -w 600 9
installed && exit 0
echo "install-sshd: installing openssh-server from Debian" >&2
"${SUDO[@]}" apt-get update -qq >&2
# Where systemd runs, the package also starts its own sshd on port 22; the test
# never uses it.
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends openssh-server openssh-client >&2
installed
