#!/usr/bin/env bash
# pg-up.sh - start a private PostgreSQL cluster for the pg state backend's tests
# (planner/states/pg): Debian's postgresql package, a cluster of its own (initdb as user
# postgres, trust authentication), listening on 127.0.0.1 and a unix socket on a fixed
# non-default port, and a database fabrica_test.
#
# Idempotent and fast when already up: installs postgresql only if no initdb is found
# (apt-get update first), runs initdb only if the data directory is empty, starts the
# server only if the pid in postmaster.pid is not a running postgres, creates the
# database only if missing. Run as root. Stop with scripts/pg-down.sh.
#
#   pg-up.sh            start (or check) the cluster and write the env file
#   pg-up.sh restart    restart the running server (pg_ctl restart -m fast), as the
#                       tests do to check that a restart during an apply is survived
#
# Knobs (environment):
#   FABRICA_PG_PORT=55432          the port (TCP on 127.0.0.1 and the socket's name)
#   FABRICA_PG_DIR=/var/tmp/fabrica-pg   data directory, socket and log live here
#   FABRICA_PG_ENV_FILE=/run/fabrica-pg.env
#
# Writes FABRICA_PG_ENV_FILE (read by the tests), shell syntax:
#   FABRICA_PG_TEST_CONN          postgres://postgres@127.0.0.1:PORT/fabrica_test?sslmode=disable
#   FABRICA_PG_TEST_SOCKET_CONN   the same database over the unix socket (keyword form)
#   FABRICA_PG_UP, FABRICA_PG_DOWN these scripts (the restart test runs "$FABRICA_PG_UP restart")
set -euo pipefail

PORT=${FABRICA_PG_PORT:-55432}
BASE=${FABRICA_PG_DIR:-/var/tmp/fabrica-pg}
ENV_FILE=${FABRICA_PG_ENV_FILE:-/run/fabrica-pg.env}
DATA=$BASE/data
SOCK=$BASE/run
LOG=$BASE/postgres.log
DB=fabrica_test
HERE=$(cd "$(dirname "$0")" && pwd)

die() { echo "pg-up.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and runs the server as user postgres)"
[[ $PORT =~ ^[1-9][0-9]*$ ]] || die "FABRICA_PG_PORT must be a number, not '$PORT'"
T0=$(date +%s%N)
say() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '[pg-up %3d.%01ds] %s\n' $((ms / 1000)) $((ms % 1000 / 100)) "$*"; }

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

# ---------- package ----------
BIN=$(find_bin)
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  say "installing postgresql (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  # Do not let the package create and start its own cluster on port 5432.
  mkdir -p /etc/postgresql-common
  [ -e /etc/postgresql-common/createcluster.conf ] || echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
  apt-get -o DPkg::Lock::Timeout=600 update -qq || die "apt-get update failed"
  apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confold install -y -qq --no-install-recommends postgresql >/dev/null \
    || die "apt-get install postgresql failed"
  BIN=$(find_bin)
  [ -n "$BIN" ] && [ -x "$BIN/initdb" ] || die "postgresql installed but no initdb under /usr/lib/postgresql/*/bin"
  say "installed $("$BIN/postgres" --version)"
fi
id postgres >/dev/null 2>&1 || die "there is no user postgres (the postgresql package creates it)"
as_pg() { runuser -u postgres -- "$@"; }

# alive: the pid in postmaster.pid is a running postgres (not a reused pid, not a zombie).
alive() {
  local pid st
  pid=$(head -1 "$DATA/postmaster.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  st=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
  [[ $st != Z* ]] || return 1
  [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = postgres ]
}
log_tail() { echo "--- last lines of $LOG:" >&2; tail -n 30 "$LOG" >&2 2>/dev/null || true; }

if [ "${1:-}" = restart ]; then
  alive || die "not running (start it with pg-up.sh)"
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -m fast -w -t 60 restart >/dev/null || { log_tail; die "pg_ctl restart failed"; }
  say "restarted (pid $(head -1 "$DATA/postmaster.pid"))"
  exit 0
elif [ -n "${1:-}" ]; then
  echo "usage: pg-up.sh [restart]" >&2; exit 2
fi

# ---------- cluster ----------
mkdir -p "$BASE" "$SOCK"
chown postgres:postgres "$BASE" "$SOCK"
chmod 0755 "$BASE" "$SOCK"
if [ ! -s "$DATA/PG_VERSION" ]; then
  rm -rf "$DATA"
  install -d -o postgres -g postgres -m 0700 "$DATA"
  as_pg "$BIN/initdb" -D "$DATA" -A trust -U postgres -E UTF8 --locale=C.UTF-8 -N >"$BASE/initdb.log" 2>&1 \
    || { cat "$BASE/initdb.log" >&2; die "initdb failed"; }
  say "initdb $DATA"
fi
# Settings live in the data directory, so pg_ctl restart (and a plain start) reuse them.
CONF=$(cat <<EOF
# written by fabrica scripts/pg-up.sh - a private test cluster
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCK'
max_connections = 200
shared_buffers = 128MB
fsync = on
synchronous_commit = on
logging_collector = off
log_min_messages = warning
EOF
)
if [ "$(cat "$DATA/fabrica.conf" 2>/dev/null)" != "$CONF" ]; then
  printf '%s\n' "$CONF" > "$DATA/fabrica.conf"
  chown postgres:postgres "$DATA/fabrica.conf"
  grep -q "^include_if_exists = 'fabrica.conf'" "$DATA/postgresql.conf" \
    || echo "include_if_exists = 'fabrica.conf'" >> "$DATA/postgresql.conf"
  if alive; then
    as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null || die "pg_ctl stop (to apply new settings) failed"
    say "stopped to apply new settings"
  fi
fi

# ---------- server ----------
if ! alive; then
  touch "$LOG"; chown postgres:postgres "$LOG"
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null || { log_tail; die "pg_ctl start failed"; }
  say "started (pid $(head -1 "$DATA/postmaster.pid"), port $PORT, socket $SOCK)"
fi
psql_pg() { as_pg "$BIN/psql" -h "$SOCK" -p "$PORT" -U postgres -X -v ON_ERROR_STOP=1 -tA "$@"; }
ready=0
for _ in $(seq 1 100); do
  if psql_pg -d postgres -c 'SELECT 1' >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.1
done
[ "$ready" = 1 ] || { log_tail; die "the server does not answer on $SOCK port $PORT"; }
if [ "$(psql_pg -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
  psql_pg -d postgres -c "CREATE DATABASE $DB" >/dev/null || die "CREATE DATABASE $DB failed"
  say "created database $DB"
fi
# Check the TCP address the tests use, too.
as_pg "$BIN/psql" "postgres://postgres@127.0.0.1:$PORT/$DB?sslmode=disable" -X -tAc 'SELECT 1' >/dev/null \
  || die "cannot connect over TCP to 127.0.0.1:$PORT"

mkdir -p "$(dirname "$ENV_FILE")"
cat > "$ENV_FILE.tmp" <<EOF
FABRICA_PG_TEST_CONN='postgres://postgres@127.0.0.1:$PORT/$DB?sslmode=disable'
FABRICA_PG_TEST_SOCKET_CONN='host=$SOCK port=$PORT user=postgres dbname=$DB sslmode=disable'
FABRICA_PG_UP='$HERE/pg-up.sh'
FABRICA_PG_DOWN='$HERE/pg-down.sh'
EOF
mv "$ENV_FILE.tmp" "$ENV_FILE"
say "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') up on 127.0.0.1:$PORT; env in $ENV_FILE"
