# Sourced by the scripts/install-*.sh that put test tools on a machine.
#
# install_from_debian NAME APT-ARGUMENTS...
#   Installs with apt-get (through sudo unless root), after taking a lock named
#   NAME so that test processes starting at once install only once. The caller
#   defines `installed`, which says whether the work is done: it is asked again
#   under the lock, and the caller asks it once more at the end.

install_from_debian() {
  local name=$1
  shift
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  exec 9>>"${TMPDIR:-/tmp}/gorae-test-$name.lock"
  flock -w 600 9
  installed && return 0
  echo "install-$name: installing $* from Debian" >&2
  "${sudo[@]}" apt-get update -qq >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}
