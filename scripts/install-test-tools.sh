#!/usr/bin/env bash
# Installs from Debian what the CI-file tests need besides Rust and Docker: Python 3
# with venv (for PyPI's check-jsonschema, which the tests install into a venv of
# their own), git (a fresh clone of the test project) and curl (the generated
# workflow's install step). Idempotent, quick when all is there, safe to run from
# several processes at once; needs root (or sudo) the first time.
set -euo pipefail

ready() {
  command -v git >/dev/null && command -v curl >/dev/null &&
    python3 -c 'import venv, ensurepip' >/dev/null 2>&1
}
ready && exit 0

. "$(dirname "$0")/lib/install-from-debian.sh"
installed() { ready; }
install_from_debian tools --no-install-recommends python3 python3-venv git curl ca-certificates
ready
