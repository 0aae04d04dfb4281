#!/bin/bash
# Follows the official mysql and mariadb images' entrypoints, reduced. On an
# empty /var/lib/mysql it initialises the data dir, sets the root password
# (MYSQL_ROOT_PASSWORD or MARIADB_ROOT_PASSWORD; or *_ALLOW_EMPTY_*PASSWORD),
# creates *_DATABASE and *_USER/*_PASSWORD with all rights on it, and runs
# /docker-entrypoint-initdb.d/*.sql|*.sh, all on a temporary server with no
# TCP listener, so a client that gets the MySQL handshake over TCP talks to
# the real server. A data dir that is already initialised is used as it is.
set -Eeuo pipefail

if [ "${1:0:1}" = - ]; then
	set -- mariadbd "$@"
fi

server=false
case "$1" in
mariadbd | mysqld)
	server=true
	for arg in "${@:2}"; do
		case "$arg" in -'?' | --help | -V | --version | --verbose) server=false ;; esac
	done
	;;
esac

if $server && [ "$(id -u)" = 0 ]; then
	# A fresh named volume may belong to root.
	mkdir -p /var/lib/mysql /run/mysqld
	find /var/lib/mysql /run/mysqld \! -user mysql -exec chown mysql:mysql '{}' +
	exec setpriv --reuid=mysql --regid=mysql --init-groups "${BASH_SOURCE[0]}" "$@"
fi

# The mariadb image reads MARIADB_*, falling back to MYSQL_*; the mysql image MYSQL_*.
var() { local m="MARIADB_$1" y="MYSQL_$1"; printf '%s' "${!m:-${!y:-}}"; }

if $server && [ ! -d /var/lib/mysql/mysql ]; then
	root_password=$(var ROOT_PASSWORD)
	allow_empty=$(var ALLOW_EMPTY_ROOT_PASSWORD)
	[ -n "$allow_empty" ] || allow_empty=${MYSQL_ALLOW_EMPTY_PASSWORD:-}
	database=$(var DATABASE) user=$(var USER) password=$(var PASSWORD)
	if [ -z "$root_password" ] && [ -z "$allow_empty" ]; then
		echo >&2 'error: database is uninitialized and no root password is set'
		echo >&2 '       (set MYSQL_ROOT_PASSWORD, or MYSQL_ALLOW_EMPTY_PASSWORD=yes)'
		exit 1
	fi
	if [ "$user" = root ]; then
		echo >&2 'error: MYSQL_USER="root", MYSQL_USER and MYSQL_PASSWORD are for configuring a regular user'
		exit 1
	fi
	echo 'initialising the database'
	mariadb-install-db --datadir=/var/lib/mysql --auth-root-authentication-method=normal \
		--skip-test-db --skip-name-resolve >/dev/null
	"$@" --skip-networking --socket=/run/mysqld/mysqld.sock &
	pid=$!
	sql() { env -u MYSQL_PWD mariadb --protocol=socket --socket=/run/mysqld/mysqld.sock -uroot "$@"; }
	for _ in $(seq 60); do
		sql -e 'SELECT 1' >/dev/null 2>&1 && break
		sleep 0.5
	done
	# Quoting for SQL string literals and identifiers.
	lit() { printf "'%s'" "${1//\'/\'\'}"; }
	ident() { printf '`%s`' "${1//\`/\`\`}"; }
	{
		echo "SET @@SESSION.SQL_LOG_BIN=0;"
		echo "DELETE FROM mysql.user WHERE user NOT IN ('mysql.sys', 'mariadb.sys', 'root') OR host NOT IN ('localhost');"
		echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $(lit "$root_password");"
		echo "CREATE USER 'root'@'%' IDENTIFIED BY $(lit "$root_password");"
		echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
		if [ -n "$database" ]; then
			echo "CREATE DATABASE IF NOT EXISTS $(ident "$database");"
		fi
		if [ -n "$user" ] && [ -n "$password" ]; then
			echo "CREATE USER $(lit "$user")@'%' IDENTIFIED BY $(lit "$password");"
			if [ -n "$database" ]; then
				echo "GRANT ALL ON $(ident "$database").* TO $(lit "$user")@'%';"
			fi
		fi
		echo "FLUSH PRIVILEGES;"
	} | sql
	for f in /docker-entrypoint-initdb.d/*; do
		# shellcheck source=/dev/null
		case "$f" in
		*.sql) echo "running $f" && MYSQL_PWD=$root_password mariadb --protocol=socket \
			--socket=/run/mysqld/mysqld.sock -uroot ${database:+"$database"} <"$f" ;;
		*.sh) echo "running $f" && . "$f" ;;
		esac
	done
	kill "$pid"
	wait "$pid"
	echo 'MariaDB init process done. Ready for start up.'
fi

exec "$@"
