#!/bin/bash
# Follows the official postgres image's entrypoint, reduced. On an empty
# $PGDATA it runs initdb for POSTGRES_USER (default postgres) with
# POSTGRES_PASSWORD, creates POSTGRES_DB (default: the user) and runs
# /docker-entrypoint-initdb.d/*.sql|*.sh, all on a temporary server that
# listens on the unix socket only, so that a TCP readiness probe
# (`pg_isready -h 127.0.0.1`) passes only once the real server is up.
# A data dir that is already initialised is used as it is.
set -Eeuo pipefail

if [ "${1:0:1}" = - ]; then
	set -- postgres "$@"
fi

# Only a server start initialises anything; `postgres --version` just runs.
server=false
if [ "$1" = postgres ]; then
	server=true
	for arg in "${@:2}"; do
		case "$arg" in -'?' | --help | --describe-config | -V | --version) server=false ;; esac
	done
fi

if $server && [ "$(id -u)" = 0 ]; then
	# A fresh named volume may belong to root; postgres insists on owning it.
	mkdir -p "$PGDATA" /var/run/postgresql
	find "$PGDATA" /var/run/postgresql \! -user postgres -exec chown postgres:postgres '{}' +
	chmod 700 "$PGDATA"
	exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if $server && [ ! -s "$PGDATA/PG_VERSION" ]; then
	: "${POSTGRES_USER:=postgres}"
	: "${POSTGRES_DB:=$POSTGRES_USER}"
	auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
	if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
		echo >&2 'error: database is uninitialized and POSTGRES_PASSWORD is not set'
		echo >&2 '       (set POSTGRES_PASSWORD, or POSTGRES_HOST_AUTH_METHOD=trust)'
		exit 1
	fi

	init() {
		initdb --username="$POSTGRES_USER" --auth-local=trust --auth-host="$auth" \
			--encoding=UTF8 --locale=C.UTF-8 "$@"
	}
	if [ -n "${POSTGRES_PASSWORD:-}" ]; then
		init --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD")
	else
		init
	fi
	printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
	printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

	pg_ctl -D "$PGDATA" -w start -o "-c listen_addresses='' -p 5432"
	export PGUSER=$POSTGRES_USER PGHOST=/var/run/postgresql
	if [ "$POSTGRES_DB" != postgres ]; then
		# psql substitutes :"db" (quoted as an identifier) in stdin, not in -c.
		psql -v ON_ERROR_STOP=1 --dbname=postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
	fi
	for f in /docker-entrypoint-initdb.d/*; do
		# shellcheck source=/dev/null
		case "$f" in
		*.sql) echo "running $f" && psql -v ON_ERROR_STOP=1 --dbname="$POSTGRES_DB" -f "$f" ;;
		*.sh) echo "running $f" && . "$f" ;;
		esac
	done
	pg_ctl -D "$PGDATA" -m fast -w stop
	unset PGUSER PGHOST
	echo 'PostgreSQL init process complete; ready for start up.'
fi

exec "$@"
