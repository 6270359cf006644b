#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests and benchmarks of idcbootstrap-server:
# its own cluster, on 127.0.0.1 on a free port, with its data under target/pg/
# of this clone. No system service is used or touched.
#
#   scripts/postgres.sh start   initdb a fresh cluster, start it, print its URL
#   scripts/postgres.sh url     print the URL of the running cluster
#   scripts/postgres.sh stop    stop it (fast shutdown) and delete its data
#   scripts/postgres.sh status  exit 0 when it runs
#
# `start` on a running cluster prints its URL and leaves it alone. The URL is
# postgres://postgres@127.0.0.1:PORT/postgres (trust authentication, loopback
# only); the tests create a database of their own in it for each server they start.
#
# PostgreSQL refuses to run as root. As root, the cluster runs as the
# unprivileged user `idcb-pg` (created with useradd when missing) through
# runuser; as any other user, as that user.
#
# The binaries come from Debian's `postgresql` package (scripts/setup.sh installs
# it); PG_BINDIR overrides where they are looked for.
#
# Environment:
#   IDCB_PG_DIR      state directory (default: target/pg under the clone)
#   IDCB_PG_DURABLE  1 to keep fsync on (benchmarks); the default turns fsync
#                    off, which only matters if the machine itself crashes, and
#                    no test does that (killing a client or the server is fine)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${IDCB_PG_DIR:-$ROOT/target/pg}
PG_USER=idcb-pg

die() {
	echo "postgres.sh: $*" >&2
	exit 1
}

bindir() {
	if [[ -n ${PG_BINDIR:-} ]]; then
		echo "$PG_BINDIR"
		return
	fi
	local d
	# Newest major version first.
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
		if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
			echo "$d"
			return
		fi
	done
	if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
		dirname "$(command -v pg_ctl)"
		return
	fi
	die "PostgreSQL binaries not found (initdb, pg_ctl): run scripts/setup.sh (installs Debian's postgresql) or set PG_BINDIR"
}

# as_pg CMD...: runs CMD as the cluster's owner. The lock (fd 9) stays here: a
# postmaster that inherited it would hold it for as long as it runs.
as_pg() {
	if [[ $(id -u) == 0 ]]; then
		runuser -u "$PG_USER" -- "$@" 9>&-
	else
		"$@" 9>&-
	fi
}

ensure_user() {
	[[ $(id -u) == 0 ]] || return 0
	if ! id -u "$PG_USER" >/dev/null 2>&1; then
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_USER" ||
			die "useradd $PG_USER failed"
	fi
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The data directory: $STATE/data when the cluster's user can reach it, else a
# directory under /tmp (a clone inside a 0700 directory is out of its reach).
data_dir() {
	if [[ -f $STATE/datadir ]]; then
		cat "$STATE/datadir"
		return
	fi
	local d=$STATE/data
	mkdir -p "$d"
	if [[ $(id -u) == 0 ]]; then
		chown "$PG_USER" "$d"
		if ! runuser -u "$PG_USER" -- test -w "$d"; then
			rmdir "$d"
			d=$(mktemp -d /tmp/idcb-pg.XXXXXX)
			chown "$PG_USER" "$d"
		fi
	fi
	echo "$d" >"$STATE/datadir"
	echo "$d"
}

running() {
	[[ -f $STATE/datadir && -f $STATE/url ]] || return 1
	local d
	d=$(cat "$STATE/datadir")
	[[ -f $d/postmaster.pid ]] || return 1
	as_pg "$(bindir)/pg_ctl" -D "$d" status >/dev/null 2>&1
}

cleanup_data() {
	if [[ -f $STATE/datadir ]]; then
		local d
		d=$(cat "$STATE/datadir")
		[[ -n $d && $d != / ]] && rm -rf "$d"
	fi
	rm -f "$STATE/datadir" "$STATE/url" "$STATE/port"
}

start() {
	mkdir -p "$STATE"
	exec 9>"$STATE/.lock"
	flock 9
	if running; then
		cat "$STATE/url"
		return 0
	fi
	local bin
	bin=$(bindir)
	ensure_user
	cleanup_data
	local d
	d=$(data_dir)
	as_pg "$bin/initdb" -D "$d" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync --no-instructions \
		>"$STATE/initdb.log" 2>&1 || {
		cat "$STATE/initdb.log" >&2
		die "initdb failed"
	}
	local fsync=off
	[[ ${IDCB_PG_DURABLE:-0} == 1 ]] && fsync=on
	local attempt port
	for attempt in 1 2 3; do
		port=$(free_port)
		if as_pg "$bin/pg_ctl" -D "$d" -l "$d/server.log" -w -t 60 \
			-o "-k $d -p $port -c listen_addresses=127.0.0.1 -c fsync=$fsync -c max_connections=200" \
			start >/dev/null 2>&1; then
			echo "$port" >"$STATE/port"
			echo "postgres://postgres@127.0.0.1:$port/postgres" >"$STATE/url"
			cat "$STATE/url"
			return 0
		fi
		echo "postgres.sh: start on port $port failed (attempt $attempt); last log lines:" >&2
		tail -n 5 "$d/server.log" >&2 || true
	done
	die "PostgreSQL did not start; see $d/server.log"
}

stop() {
	mkdir -p "$STATE"
	exec 9>"$STATE/.lock"
	flock 9
	if [[ -f $STATE/datadir ]]; then
		local d
		d=$(cat "$STATE/datadir")
		if [[ -f $d/postmaster.pid ]]; then
			as_pg "$(bindir)/pg_ctl" -D "$d" -m fast -w -t 60 stop >/dev/null 2>&1 || true
		fi
	fi
	cleanup_data
}

case ${1:-} in
start) start ;;
stop) stop ;;
url)
	running || die "not running: scripts/postgres.sh start"
	cat "$STATE/url"
	;;
status) running ;;
*)
	echo "usage: $0 start|stop|url|status" >&2
	exit 64
	;;
esac
