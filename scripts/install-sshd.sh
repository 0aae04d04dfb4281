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

. "$(dirname "$0")/lib/install-from-debian.sh"
# Where systemd runs, the package also starts its own sshd on port 22; the test
# never uses it.
install_from_debian sshd --no-install-recommends openssh-server openssh-client
installed
