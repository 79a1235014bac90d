#!/usr/bin/env bash
# pg-down.sh - stop the PostgreSQL cluster scripts/pg-up.sh started, by its pid file
# only: the pid in postmaster.pid is signalled only when /proc/PID/comm is postgres (never
# by name, so another cluster or a reused pid is left alone).
#
#   pg-down.sh          fast shutdown (SIGINT; SIGQUIT after 30 s); remove the env file
#   pg-down.sh --purge  also delete the cluster (data directory, socket, log)
set -euo pipefail

BASE=${FABRICA_PG_DIR:-/var/tmp/fabrica-pg}
ENV_FILE=${FABRICA_PG_ENV_FILE:-/run/fabrica-pg.env}
DATA=$BASE/data

die() { echo "pg-down.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
case "${1:-}" in
  ""|--purge) ;;
  *) echo "usage: pg-down.sh [--purge]" >&2; exit 2 ;;
esac

alive() {  # the pid in postmaster.pid is a running postgres
  local st
  [[ ${pid:-} =~ ^[0-9]+$ ]] || return 1
  st=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
  [[ $st != Z* ]] || return 1
  [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = postgres ]
}

pid=$(head -1 "$DATA/postmaster.pid" 2>/dev/null || true)
if alive; then
  kill -INT "$pid"   # fast shutdown: roll back open transactions, checkpoint, exit
  for _ in $(seq 1 300); do alive || break; sleep 0.1; done
  if alive; then
    kill -QUIT "$pid" 2>/dev/null || true   # immediate shutdown; WAL recovery at next start
    for _ in $(seq 1 50); do alive || break; sleep 0.1; done
    alive && die "postgres ($pid) did not stop"
    echo "pg-down.sh: postgres ($pid) stopped with an immediate shutdown"
  else
    echo "pg-down.sh: stopped postgres ($pid)"
  fi
else
  echo "pg-down.sh: not running${pid:+ (stale pid $pid)}"
fi
rm -f "$ENV_FILE"
if [ "${1:-}" = --purge ]; then
  rm -rf "$BASE"
  echo "pg-down.sh: removed $BASE"
fi
