#!/bin/bash
# Follows the official rabbitmq image's entrypoint, reduced: started as root it
# fixes the ownership of /var/lib/rabbitmq (a fresh volume may belong to root)
# and re-runs itself as the rabbitmq user; the server's config gets the
# RABBITMQ_DEFAULT_USER/PASS/VHOST the official image understands, and, as
# there, the default user may connect from other hosts.
set -Eeuo pipefail

if [ "$1" = rabbitmq-server ] && [ "$(id -u)" = 0 ]; then
	mkdir -p /var/lib/rabbitmq
	find /var/lib/rabbitmq /etc/rabbitmq \! -user rabbitmq -exec chown rabbitmq:rabbitmq '{}' +
	exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = rabbitmq-server ]; then
	{
		echo 'loopback_users.guest = false'
		echo 'listeners.tcp.default = 5672'
		[ -z "${RABBITMQ_DEFAULT_USER:-}" ] || echo "default_user = $RABBITMQ_DEFAULT_USER"
		[ -z "${RABBITMQ_DEFAULT_PASS:-}" ] || echo "default_pass = $RABBITMQ_DEFAULT_PASS"
		[ -z "${RABBITMQ_DEFAULT_VHOST:-}" ] || echo "default_vhost = $RABBITMQ_DEFAULT_VHOST"
	} >/etc/rabbitmq/rabbitmq.conf
	# The server reads these names itself too; they are in the config file now.
	unset RABBITMQ_DEFAULT_USER RABBITMQ_DEFAULT_PASS RABBITMQ_DEFAULT_VHOST
fi

exec "$@"
