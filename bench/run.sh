#!/usr/bin/env bash
# Measures Kopilka's point-of-sale path against PostgreSQL's own pgbench on
# the same database server, at the same concurrency:
#
#   1. kopilka serve on a fresh PostgreSQL database, driven by kopilka bench;
#   2. pgbench's TPC-B-like script on a separate database of the same server;
#   3. kopilka serve on a fresh SQLite file, driven by the same kopilka bench;
#
# and prints confirmed purchases per second, pgbench's transactions per
# second and their ratio. Run it from anywhere:
#
#   bench/run.sh                 # C=16 clients, D=30 seconds each
#   C=8 D=10 bench/run.sh        # a short smoke run
#
# Settings (environment):
#   C          concurrent tills and pgbench clients (16)
#   D          seconds each measurement runs (30; "30s" works too)
#   WARMUP     kopilka bench warm-up before measuring (3s)
#   MEMBERS    members kopilka bench creates (1000)
#   SCALE      pgbench scale factor (16)
#   PGHOST PGPORT PGUSER   the PostgreSQL server (127.0.0.1, 5432, postgres)
#   PGADMINDB  database to connect to for CREATE/DROP DATABASE (postgres)
#   MAX_CONNS  kopilka's PostgreSQL pool size (the server's default: 32)
#   SERVER_LOG where the servers log each request (default: files in the work
#              directory; /dev/null saves the cost of writing them)
#   KEEP=1     keep the benchmark databases and the work directory
#   GO         the go command (go, else /usr/local/go/bin/go)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
C=${C:-16}
D=${D:-30}
D=${D%s}
WARMUP=${WARMUP:-3s}
MEMBERS=${MEMBERS:-1000}
SCALE=${SCALE:-16}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
PGADMINDB=${PGADMINDB:-postgres}
KDB=kopilka_bench
PGBDB=kopilka_pgbench

die() { echo "run.sh: $*" >&2; exit 1; }
[[ $C =~ ^[1-9][0-9]*$ ]] || die "C must be a positive integer, not '$C'"
[[ $D =~ ^[1-9][0-9]*$ ]] || die "D must be whole seconds (30 or 30s), not '$D'"
for cmd in psql pgbench curl awk; do
	command -v "$cmd" >/dev/null || die "$cmd is not on PATH"
done
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[[ -x $GO ]] || die "no go command (set GO=/path/to/go)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kopilka-bench.XXXXXX")
BIN=$WORK/kopilka
KEY=bench-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
SERVER_PID=

# show prints a command line exactly as it runs, then runs it.
show() {
	printf '+' >&2
	printf ' %q' "$@" >&2
	printf '\n' >&2
	"$@"
}

psql_admin() {
	show psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$PGADMINDB" -c "$1"
}

stop_server() {
	if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	SERVER_PID=
}

cleanup() {
	local rc=$?
	stop_server
	if [[ ${KEEP:-0} != 1 ]]; then
		psql -X -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$PGADMINDB" \
			-c "DROP DATABASE IF EXISTS $KDB" -c "DROP DATABASE IF EXISTS $PGBDB" >/dev/null 2>&1 || true
		rm -f "$BIN" "$WORK"/*.db "$WORK"/*.db-*
		if [[ -z ${SERVER_LOG:-} || $rc -ne 0 ]]; then
			echo "logs are in $WORK" >&2
		else
			rm -rf "$WORK"
		fi
	else
		echo "kept: databases $KDB and $PGBDB, work directory $WORK" >&2
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 12000)) # below the usual ephemeral range (32768-60999)
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "found no free port"
}

# start_server NAME DATABASE_URL: runs kopilka serve and waits until it is ready.
start_server() {
	local name=$1 dburl=$2 log=${SERVER_LOG:-$WORK/serve-$1.log}
	PORT=$(free_port)
	local envs=(KOPILKA_DATABASE_URL="$dburl" KOPILKA_ADDR="127.0.0.1:$PORT" KOPILKA_BOOTSTRAP_KEY="$KEY"
		KOPILKA_LOG_FORMAT=text KOPILKA_JOB_INTERVAL=0 KOPILKA_RATE_LIMIT=0)
	[[ -n ${MAX_CONNS:-} ]] && envs+=(KOPILKA_MAX_CONNS="$MAX_CONNS")
	printf '+' >&2
	printf ' %q' "${envs[@]}" "$BIN" serve >&2
	printf ' >%q 2>&1 &\n' "$log" >&2
	env "${envs[@]}" "$BIN" serve >"$log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 300); do
		if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null; then
			echo "kopilka serve ($name) is ready on port $PORT, pid $SERVER_PID, logging to $log" >&2
			return
		fi
		kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$log" >&2; die "kopilka serve ($name) exited"; }
		sleep 0.2
	done
	tail -20 "$log" >&2
	die "kopilka serve ($name) was not ready within 60 s"
}

# run_bench NAME: drives the running server; sets BENCH_JSON.
run_bench() {
	local out=$WORK/bench-$1.json
	show "$BIN" bench -url "http://127.0.0.1:$PORT" -key "$KEY" -members "$MEMBERS" -tills "$C" \
		-duration "${D}s" -warmup "$WARMUP" -json >"$out"
	BENCH_JSON=$(tail -1 "$out")
	echo "$BENCH_JSON" >&2
	# A server that went away mid-run (killed from outside) makes the figures
	# meaningless: the tills saw refused connections, not purchases.
	kill -0 "$SERVER_PID" 2>/dev/null || die "kopilka serve ($1) exited during the benchmark; see its log"
	if [[ $BENCH_JSON != *'"errors":{}'* ]]; then
		echo "run.sh: WARNING: kopilka bench ($1) saw errors; see the report above" >&2
	fi
}

# field JSON NAME: a number from the bench's JSON line.
field() { sed -n "s/.*\"$2\":\([-0-9.eE+]*\).*/\1/p" <<<"$1"; }

echo "== kopilka bench: C=$C tills, D=${D}s, $MEMBERS members, warm-up $WARMUP; PostgreSQL at $PGHOST:$PGPORT" >&2
echo "== building" >&2
(cd "$ROOT" && show "$GO" build -o "$BIN" ./cmd/kopilka)
show "$BIN" version

echo "== kopilka on PostgreSQL" >&2
psql_admin "DROP DATABASE IF EXISTS $KDB"
psql_admin "CREATE DATABASE $KDB"
PGURL="postgres://$PGUSER@$PGHOST:$PGPORT/$KDB?sslmode=disable"
start_server postgres "$PGURL"
run_bench postgres
PG_JSON=$BENCH_JSON
stop_server
show env KOPILKA_DATABASE_URL="$PGURL" "$BIN" verify | tail -1

echo "== pgbench (TPC-B-like) on the same server" >&2
psql_admin "DROP DATABASE IF EXISTS $PGBDB"
psql_admin "CREATE DATABASE $PGBDB"
show pgbench -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -i -s "$SCALE" -q "$PGBDB" 2>&1 | tail -1
J=$((C < 2 ? C : 2))
PGB_OUT=$WORK/pgbench.out
show pgbench -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -c "$C" -j "$J" -T "$D" -M prepared "$PGBDB" >"$PGB_OUT" 2>&1 ||
	{ cat "$PGB_OUT" >&2; die "pgbench failed"; }
grep -E '^(number of transactions actually processed|number of failed|latency average|tps)' "$PGB_OUT" >&2 || true
TPS=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$PGB_OUT" | head -1)
[[ -n $TPS ]] || { cat "$PGB_OUT" >&2; die "no tps in pgbench's output"; }

echo "== kopilka on SQLite" >&2
SQLURL="sqlite://$WORK/kopilka-bench.db"
start_server sqlite "$SQLURL"
run_bench sqlite
SQ_JSON=$BENCH_JSON
stop_server
show env KOPILKA_DATABASE_URL="$SQLURL" "$BIN" verify | tail -1

line() { # line LABEL JSON
	local rate
	rate=$(field "$2" purchases_per_sec)
	awk -v l="$1" -v r="$rate" -v n="$(field "$2" confirmed)" -v p50="$(field "$2" p50_ms)" \
		-v p99="$(field "$2" p99_ms)" -v t="$TPS" 'BEGIN {
		printf "%-24s %10.1f purchases/s  (%d confirmed; p50 %.2f ms, p99 %.2f ms)  ratio to pgbench %.3f\n",
			l, r, n, p50, p99, (t > 0 ? r / t : 0) }'
}
echo
echo "== summary: C=$C concurrent clients, D=${D}s each, PostgreSQL at $PGHOST:$PGPORT ($(nproc 2>/dev/null || echo '?') CPUs here)"
awk -v t="$TPS" -v s="$SCALE" 'BEGIN { printf "%-24s %10.1f tps (TPC-B-like, scale %d, -M prepared)\n", "pgbench", t, s }'
line "kopilka on PostgreSQL" "$PG_JSON"
line "kopilka on SQLite" "$SQ_JSON"
echo "(ratio = kopilka confirmed purchases per second ÷ pgbench transactions per second)"
