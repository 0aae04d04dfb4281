#!/usr/bin/env bash
# Puts Compose v2 (the `docker-compose` Go binary, which also runs standalone) at
# DEST, for the tests that check `gorae export compose` with the real Compose:
# Debian bookworm ships only Compose v1, so the binary is taken from the
# docker-compose package of Debian's next release (trixie), downloaded into a
# temporary directory with its own package lists; the system's apt configuration
# and packages are left as they are. Prints the binary's path.
#
# Usage: scripts/install-compose-v2.sh DEST   (a file path, e.g. target/tools/compose)
# Idempotent and quick when DEST exists; safe to run from several processes at once.
set -euo pipefail

dest=${1:?usage: install-compose-v2.sh DEST}
works() { [ -x "$dest" ] && "$dest" version 2>/dev/null | grep -Eq 'version v?2\.'; }
works && { echo "$dest"; exit 0; }

mkdir -p "$(dirname "$dest")"
exec 9>>"$dest.lock"
flock -w 600 9
works && { echo "$dest"; exit 0; }

echo "install-compose-v2: fetching Compose v2 from Debian trixie's docker-compose" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'deb http://deb.debian.org/debian trixie main\n' >"$tmp/sources.list"
mkdir -p "$tmp/lists/partial" "$tmp/archives/partial"
apt=(apt-get -qq
  -o Dir::Etc::SourceList="$tmp/sources.list" -o Dir::Etc::SourceParts=-
  -o Dir::State::Lists="$tmp/lists" -o Dir::Cache::Archives="$tmp/archives"
  -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
  -o APT::Sandbox::User=root)
"${apt[@]}" update >&2
(cd "$tmp" && "${apt[@]}" download docker-compose >&2)
dpkg-deb --fsys-tarfile "$tmp"/docker-compose_*.deb |
  tar -x -C "$tmp" ./usr/libexec/docker/cli-plugins/docker-compose
install -m 0755 "$tmp/usr/libexec/docker/cli-plugins/docker-compose" "$dest.new"
mv "$dest.new" "$dest"
works
echo "$dest"
