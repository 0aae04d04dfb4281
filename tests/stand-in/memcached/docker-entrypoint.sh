#!/bin/sh
# As the official memcached image's entrypoint: flags alone mean `memcached FLAGS`.
set -e
if [ "${1#-}" != "$1" ]; then
	set -- memcached "$@"
fi
exec "$@"
