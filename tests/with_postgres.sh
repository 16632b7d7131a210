#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL: initdb in a temp dir, a free loopback port,
# fsync off, stopped and removed afterwards. DATABASE_URL points the command at it.
set -euo pipefail

bindir=""
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
  bindir=$(pg_config --bindir)
fi
if [ -z "$bindir" ]; then
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && bindir=$d; done
fi
if [ -z "$bindir" ] && command -v initdb >/dev/null 2>&1; then
  bindir=$(dirname "$(command -v initdb)")
fi
if [ -z "$bindir" ]; then
  echo "###########################################################################" >&2
  echo "## No PostgreSQL binaries (initdb, pg_ctl) found: the PostgreSQL run is    ##" >&2
  echo "## SKIPPED. Install them (Debian: apt-get install postgresql) to run it.   ##" >&2
  echo "###########################################################################" >&2
  # CI sets NODETRACK_REQUIRE_POSTGRES=1: there a missing server is a failure, not a skip.
  [ "${NODETRACK_REQUIRE_POSTGRES:-0}" = "1" ] && exit 1
  exit 0
fi

tmp=$(mktemp -d /tmp/nodetrack-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg=()
if [ "$(id -u)" = "0" ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$tmp"
  as_pg=(runuser -u postgres --)
fi

stop() {
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap stop EXIT

"${as_pg[@]}" "$bindir/initdb" -D "$tmp/data" --auth=trust -U postgres -E UTF8 --locale=C >"$tmp/initdb.log" 2>&1 \
  || { cat "$tmp/initdb.log" >&2; exit 1; }
"${as_pg[@]}" "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null

"$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres nodetrack
export DATABASE_URL="postgres://postgres@127.0.0.1:$port/nodetrack"
"$@"
