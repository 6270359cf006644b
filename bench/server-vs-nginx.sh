#!/usr/bin/env bash
# Side-by-side load test of idcbootstrap-server (release build) on SQLite and on
# PostgreSQL, with nginx serving a static JSON body as the practical limit of
# this machine, all on 127.0.0.1, in the same run. The figures are the ones in
# DESIGN.md's performance targets:
#
#   GET  external-id         >= 50% of nginx's requests/s
#   POST bootstrap-template  >= 5,000 requests/s and p99 <= 5 ms at 8 connections
#
# Load generator: wrk (a Lua script sets the method, body and headers and prints
# exact percentiles), at 1, 8 and 64 connections. Every run is bounded by time
# (IDCB_BENCH_DURATION, default 10 s; --quick: 3 s). `GET /healthz` (no auth, no
# database) is measured too, to split the HTTP stack's cost from the handlers'.
#
# Results go to docs/benchmarks/<date>-<host>-server/: README.md (command,
# versions, machine load), summary.md (the table and the targets) and raw/ (wrk's
# output of every run, JSON lines).
#
# Usage: bench/server-vs-nginx.sh [--quick] [--out DIR]
#   IDCB_SERVER_BIN=path     use this server binary instead of building one
#   IDCB_BENCH_DURATION=10s  length of each run
#   IDCB_BENCH_CONNECTIONS="1 8 64"
#
# Installs nginx and wrk from Debian when missing (as root). PostgreSQL comes
# from scripts/postgres.sh (its own cluster, fsync on for this run).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

QUICK=0
OUT=
while (($#)); do
	case $1 in
	--quick) QUICK=1 ;;
	--out)
		OUT=$2
		shift
		;;
	*)
		echo "usage: $0 [--quick] [--out DIR]" >&2
		exit 64
		;;
	esac
	shift
done

DURATION=${IDCB_BENCH_DURATION:-$([[ $QUICK == 1 ]] && echo 3s || echo 10s)}
CONNECTIONS=${IDCB_BENCH_CONNECTIONS:-1 8 64}
HOST=$(hostname -s 2>/dev/null || hostname)
OUT=${OUT:-docs/benchmarks/$(date -u +%F)-$HOST-server}

say() { printf '==> %s\n' "$*"; }
die() {
	echo "server-vs-nginx: $*" >&2
	exit 1
}

# ------------------------------------------------------------------ tools
apt_install() {
	[[ $(id -u) == 0 ]] && command -v apt-get >/dev/null || die "$* missing: install Debian's $* (as root: apt-get install -y $*)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "$@" >/dev/null ||
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends "$@" >/dev/null; }
}
missing=()
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
	say "installing ${missing[*]} (apt-get)"
	apt_install "${missing[@]}"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
command -v python3 >/dev/null || die "python3 missing"

# ------------------------------------------------------------------ server binary
# What is measured: the commit (and whether server/ or shared/ had changes) as the build starts.
BUILT_FROM="commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- server shared || echo ' with uncommitted changes in server/ or shared/')"
SERVER=${IDCB_SERVER_BIN:-}
if [[ -z $SERVER ]]; then
	say "building idcbootstrap-server (cargo build --release; several minutes on 2 cores)"
	cargo build --release --locked -p idcbootstrap-server
	SERVER=$ROOT/target/release/idcbootstrap-server
fi
[[ -x $SERVER ]] || die "$SERVER is not executable"

WORK=$(mktemp -d -t idcb-bench.XXXXXX)
PIDS=()
export IDCB_PG_DIR=$ROOT/target/pg-bench
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	scripts/postgres.sh stop >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ------------------------------------------------------------------ nginx
TENANT_BODY='{"external_id":"8d4f7c52-3b7e-4f0e-9a51-2c6d1e0b9f33","external_id_pending":null}'
NGINX_PORT=$(free_port)
mkdir -p "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            default_type application/json;
            return 200 '$TENANT_BODY';
        }
    }
}
EOF
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
PIDS+=($!)

# ------------------------------------------------------------------ servers
TRUSTED=arn:aws:iam::111111111111:role/idcbootstrap-vendor
DATA_KEY=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
say "starting PostgreSQL (scripts/postgres.sh, fsync on)"
PG_URL=$(IDCB_PG_DURABLE=1 scripts/postgres.sh start)
PSQL=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n | tail -n1)/psql
"$PSQL" "$PG_URL" -qc 'CREATE DATABASE idcb_bench' >/dev/null
PG_BENCH_URL=${PG_URL%/*}/idcb_bench

# start_server NAME DATABASE_URL [LOG] -> sets ADDR_<NAME>, TOKEN_<NAME>, TENANT_<NAME>
start_server() {
	local name=$1 url=$2 log=${3:-} dir=$WORK/$1
	mkdir -p "$dir"
	local env=(env -i PATH="$PATH" HOME="$dir" IDCBOOTSTRAP_DATA_DIR="$dir" IDCBOOTSTRAP_DATA_KEY="$DATA_KEY"
		IDCBOOTSTRAP_TRUSTED_PRINCIPAL_ARN="$TRUSTED" IDCBOOTSTRAP_RATE_LIMIT=0
		AWS_ACCESS_KEY_ID=AKIABENCH0000000000 AWS_SECRET_ACCESS_KEY=bench AWS_REGION=eu-west-1 AWS_EC2_METADATA_DISABLED=true)
	[[ -n $url ]] && env+=(IDCBOOTSTRAP_DATABASE_URL="$url")
	[[ -n $log ]] && env+=(IDCBOOTSTRAP_LOG="$log")
	local tenant
	tenant=$(cat /proc/sys/kernel/random/uuid)
	"${env[@]}" "$SERVER" serve --listen 127.0.0.1:0 2>"$dir/server.log" &
	PIDS+=($!)
	local addr= i
	for i in $(seq 1 300); do
		addr=$(sed -n 's/.*"message":"listening".*"addr":"\([0-9.:]*\)".*/\1/p; s/.*"addr":"\([0-9.:]*\)".*"message":"listening".*/\1/p' "$dir/server.log" | head -n1)
		[[ -n $addr ]] && break
		sleep 0.1
	done
	[[ -n $addr ]] || {
		cat "$dir/server.log" >&2
		die "$name server did not log its address"
	}
	local token
	token=$("${env[@]}" "$SERVER" token create --tenant "$tenant" 2>/dev/null)
	printf -v "ADDR_$name" '%s' "$addr"
	printf -v "TOKEN_$name" '%s' "$token"
	printf -v "TENANT_$name" '%s' "$tenant"
}
say "starting idcbootstrap-server on SQLite and on PostgreSQL"
start_server sqlite ""
start_server postgres "$PG_BENCH_URL"
# The same SQLite server with the log at warn: no per-request log line. Shows what
# the default access log (one JSON line per request on stderr) costs.
start_server sqlitewarn "" "warn,idcbootstrap_server::cli=info"

TEMPLATE_BODY='{"aws_account_id":"123456789012","sso_instance_arn":"arn:aws:sso:::instance/ssoins-72230a4f6e7c1d52","region":"eu-west-1"}'

# lua FILE METHOD BODY TOKEN TENANT: a wrk script that sends one request shape and
# prints exact figures as a JSON line at the end.
lua() {
	local file=$1 method=$2 body=$3 token=$4 tenant=$5
	{
		printf 'wrk.method = "%s"\n' "$method"
		if [[ -n $body ]]; then
			printf 'wrk.body = [[%s]]\n' "$body"
			printf 'wrk.headers["Content-Type"] = "application/json"\n'
		fi
		if [[ -n $token ]]; then
			printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$token"
			printf 'wrk.headers["X-Tenant-ID"] = "%s"\n' "$tenant"
		fi
		cat <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"non2xx":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
EOF
	} >"$file"
}

# Warm up: the first template issues the tenant's external ID; check every target answers 200.
for name in sqlite postgres sqlitewarn; do
	addr_var=ADDR_$name token_var=TOKEN_$name tenant_var=TENANT_$name
	for req in "POST /v1/integrations/aws-identity-center/bootstrap-template" "GET /v1/integrations/aws-identity-center/external-id"; do
		code=$(curl -s -o /dev/null -w '%{http_code}' -X "${req%% *}" "http://${!addr_var}${req#* }" \
			-H "Authorization: Bearer ${!token_var}" -H "X-Tenant-ID: ${!tenant_var}" \
			-H 'Content-Type: application/json' $([[ $req == POST* ]] && echo --data "$TEMPLATE_BODY"))
		[[ $code == 200 ]] || die "$name: $req answered $code"
	done
done

mkdir -p "$OUT/raw"
RAW=$OUT/raw/wrk.jsonl
: >"$RAW"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# run TARGET ENDPOINT CONNS URL LUA
run() {
	local target=$1 endpoint=$2 conns=$3 url=$4 script=$5
	local threads=$((conns < 2 ? 1 : 2))
	local log=$OUT/raw/$target-$endpoint-c$conns.txt
	wrk -t "$threads" -c "$conns" -d "$DURATION" --latency -s "$script" "$url" >"$log" 2>&1 || die "wrk failed: $(cat "$log")"
	local result
	result=$(sed -n 's/^RESULT //p' "$log")
	[[ -n $result ]] || die "no RESULT line in $log"
	printf '{"target":"%s","endpoint":"%s","connections":%d,"threads":%d,"duration":"%s","result":%s}\n' \
		"$target" "$endpoint" "$conns" "$threads" "$DURATION" "$result" >>"$RAW"
	printf '    %-9s %-19s c=%-3s %s\n' "$target" "$endpoint" "$conns" "$result"
}

lua "$WORK/nginx-get.lua" GET "" "" ""
lua "$WORK/nginx-post.lua" POST "$TEMPLATE_BODY" "" ""
for name in sqlite postgres sqlitewarn; do
	token_var=TOKEN_$name tenant_var=TENANT_$name
	lua "$WORK/$name-get.lua" GET "" "${!token_var}" "${!tenant_var}"
	lua "$WORK/$name-post.lua" POST "$TEMPLATE_BODY" "${!token_var}" "${!tenant_var}"
	lua "$WORK/$name-health.lua" GET "" "" ""
done

say "measuring ($DURATION per run, connections: $CONNECTIONS)"
for c in $CONNECTIONS; do
	# Interleaved, so drift in the machine's load touches every target alike.
	run nginx external-id "$c" "http://127.0.0.1:$NGINX_PORT/v1/integrations/aws-identity-center/external-id" "$WORK/nginx-get.lua"
	run sqlite external-id "$c" "http://$ADDR_sqlite/v1/integrations/aws-identity-center/external-id" "$WORK/sqlite-get.lua"
	run postgres external-id "$c" "http://$ADDR_postgres/v1/integrations/aws-identity-center/external-id" "$WORK/postgres-get.lua"
	run nginx bootstrap-template "$c" "http://127.0.0.1:$NGINX_PORT/v1/integrations/aws-identity-center/bootstrap-template" "$WORK/nginx-post.lua"
	run sqlite bootstrap-template "$c" "http://$ADDR_sqlite/v1/integrations/aws-identity-center/bootstrap-template" "$WORK/sqlite-post.lua"
	run postgres bootstrap-template "$c" "http://$ADDR_postgres/v1/integrations/aws-identity-center/bootstrap-template" "$WORK/postgres-post.lua"
	run sqlite healthz "$c" "http://$ADDR_sqlite/healthz" "$WORK/sqlite-health.lua"
	run sqlitewarn external-id "$c" "http://$ADDR_sqlitewarn/v1/integrations/aws-identity-center/external-id" "$WORK/sqlitewarn-get.lua"
	run sqlitewarn bootstrap-template "$c" "http://$ADDR_sqlitewarn/v1/integrations/aws-identity-center/bootstrap-template" "$WORK/sqlitewarn-post.lua"
	run sqlitewarn healthz "$c" "http://$ADDR_sqlitewarn/healthz" "$WORK/sqlitewarn-health.lua"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------------ report
# The servers' logs hold a line per request (hundreds of MB): keep their start and size.
for name in sqlite postgres sqlitewarn; do
	{
		head -n 5 "$WORK/$name/server.log"
		echo "... $(wc -l <"$WORK/$name/server.log") lines, $(wc -c <"$WORK/$name/server.log") bytes in all"
	} >"$OUT/raw/server-$name.log"
done
python3 - "$RAW" "$OUT/summary.md" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def rps(r): return r["result"]["requests"] / (r["result"]["duration_us"] / 1e6)
def ms(us): return f"{us / 1000:.2f}"
by = {(r["target"], r["endpoint"], r["connections"]): r for r in rows}
conns = sorted({r["connections"] for r in rows})
out = ["| endpoint | connections | nginx req/s | SQLite req/s | SQLite p50 / p99 ms | PostgreSQL req/s | PostgreSQL p50 / p99 ms | SQLite, log=warn req/s | errors |", "|---|---|---|---|---|---|---|---|---|"]
for ep in ["external-id", "bootstrap-template", "healthz"]:
    for c in conns:
        n, s, p, w = (by.get((t, ep, c)) for t in ("nginx", "sqlite", "postgres", "sqlitewarn"))
        if not s:
            continue
        errs = sum(x["result"][k] for x in (n, s, p, w) if x for k in ("non2xx", "connect_errors", "read_errors", "write_errors", "timeouts"))
        cell = lambda x: f"{rps(x):,.0f}" if x else "–"
        lat = lambda x: f"{ms(x['result']['p50_us'])} / {ms(x['result']['p99_us'])}" if x else "–"
        out.append(f"| {'GET /healthz' if ep == 'healthz' else ep} | {c} | {cell(n)} | {cell(s)} | {lat(s)} | {cell(p)} | {lat(p)} | {cell(w)} | {errs} |")
out.append("")
out.append("Targets (DESIGN.md):")
out.append("")
for c in conns:
    n = by.get(("nginx", "external-id", c))
    for db in ("sqlite", "postgres"):
        s = by.get((db, "external-id", c))
        if n and s:
            ratio = rps(s) / rps(n)
            out.append(f"* GET external-id, {db}, {c} connections: {ratio:.0%} of nginx (target ≥ 50%): {'met' if ratio >= 0.5 else 'MISSED'}")
for db in ("sqlite", "postgres"):
    s = by.get((db, "bootstrap-template", 8))
    if s:
        r, p99 = rps(s), s["result"]["p99_us"] / 1000
        ok = r >= 5000 and p99 <= 5
        out.append(f"* bootstrap-template, {db}, 8 connections: {r:,.0f} req/s, p99 {p99:.2f} ms (target ≥ 5,000 req/s and p99 ≤ 5 ms): {'met' if ok else 'MISSED'}")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY

{
	echo "# idcbootstrap-server vs nginx, $(date -u +%F) on $HOST"
	echo
	echo "Command (from the repository root):"
	echo
	echo '```sh'
	echo "${IDCB_SERVER_BIN:+IDCB_SERVER_BIN=<release binary> }bench/server-vs-nginx.sh$([[ $QUICK == 1 ]] && echo ' --quick')"
	echo '```'
	echo
	echo "## Results"
	echo
	cat "$OUT/summary.md"
	echo
	echo "## Versions and machine"
	echo
	echo "* idcbootstrap-server: $("$SERVER" --version 2>/dev/null), $BUILT_FROM, built by \`cargo build --release -p idcbootstrap-server\`${IDCB_SERVER_BIN:+ (given as IDCB_SERVER_BIN)}; $(rustc -V)"
	echo "* $("$NGINX" -v 2>&1), \`worker_processes auto\`, a static JSON body (\`return 200\`), access log off"
	echo "* $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2); threads: 1 at 1 connection, else 2; $DURATION per run; keep-alive"
	echo "* $("$(dirname "$PSQL")/postgres" --version) (scripts/postgres.sh, fsync on); SQLite: the server's default file in its data directory"
	echo "* server settings: defaults, except \`IDCBOOTSTRAP_RATE_LIMIT=0\` (the per-tenant limit, 50/s by default, would cap one tenant's load test at 100 requests)"
	echo "* load average before: $LOAD_BEFORE; after: $LOAD_AFTER"
	echo "* $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1), Linux $(uname -r)"
	echo
	echo "## Method"
	echo
	echo "* Everything on 127.0.0.1: wrk, nginx and both servers share the machine's cores, as they do in every run here;"
	echo "  the figures compare columns within this run."
	echo "* One tenant per server, its external ID issued by a first template call before measuring; every run is one"
	echo "  request shape with keep-alive connections. \`errors\` counts non-2xx answers, socket errors and timeouts."
	echo "* Runs are interleaved per connection count (nginx, SQLite, PostgreSQL) so that drift in the machine's load"
	echo "  touches each target alike. \`GET /healthz\` (no authentication, no database) shows the HTTP stack's own cost;"
	echo "  a third server (SQLite, \`IDCBOOTSTRAP_LOG=warn,idcbootstrap_server::cli=info\`: start-up lines only) shows what the default per-request log line costs."
	echo "* Raw data: \`raw/wrk.jsonl\` (exact percentiles from wrk's Lua \`done\` hook), wrk's text output per run, the servers' logs."
} >"$OUT/README.md"
say "results in $OUT"
