#!/bin/sh
# Behaves like the official redis image's entrypoint: flags alone mean
# `redis-server FLAGS`; started as root, it fixes the ownership of /data (a
# fresh volume may belong to root) and re-runs itself as the redis user.
set -eu

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

if [ "$1" = redis-server ]; then
	if [ "$(id -u)" = 0 ]; then
		find /data \! -user redis -exec chown redis:redis '{}' +
		exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
	fi
	# The official binary is patched to default to protected mode off; Debian's
	# is not. Without a config file, put the image defaults before the user's
	# flags so that theirs still win. Bind address and RDB save points keep
	# redis' built-in defaults (all interfaces; saved on SIGTERM).
	shift
	case "${1:-}" in
	-v | --version | -h | --help | --test-memory | --check-system) ;;
	'' | -*) set -- --protected-mode no --dir /data "$@" ;;
	esac
	set -- redis-server "$@"
fi

exec "$@"
