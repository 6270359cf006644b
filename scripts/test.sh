#!/usr/bin/env bash
# The project's test command (README, CI): installs the peers, builds the whole
# workspace once, runs every test against real peers, then the lint checks.
#
#   1. scripts/setup.sh                 venv, Terraform matrix, null provider
#   2. terraform matrix check          every Terraform CLI loads a local provider
#                                       (runs in the background during the build)
#   3. cargo build --all-targets       one build, shared by every later stage
#   4. cargo test                      unit, doc and e2e tests (the e2e tests
#                                       run the binaries built in 3; the server's
#                                       get a PostgreSQL from scripts/postgres.sh)
#   5. cargo fmt --check, cargo clippy -D warnings (the workspace and fuzz/)
#   6. scripts/fuzz.sh --ci             every fuzz target for 20 s (AFL++ via
#                                       cargo-afl, its own instrumented build)
#
# Every stage after the build runs even if an earlier one failed, so one run
# shows everything that is wrong; the exit code is non-zero if any stage failed.
# The last lines are cargo's test summary.
#
# Arguments are passed to `cargo test` after `--` (a filter, e.g. `terraform::`).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if [[ ${CI:-} == true ]]; then
	# A one-off build gains nothing from incremental artifacts, and they cost time.
	export CARGO_INCREMENTAL=0
fi
export CARGO_TERM_PROGRESS_WHEN=never
# A failing test's panic location is worth the few lines.
export RUST_BACKTRACE=${RUST_BACKTRACE:-1}

LOGS=$(mktemp -d -t idcb-test.XXXXXX)
# The server's PostgreSQL tests get a throwaway cluster (scripts/postgres.sh),
# started before `cargo test` unless IDCB_TEST_POSTGRES_URL names one, and
# stopped on exit.
PG_STARTED=0
stop_postgres() { if ((PG_STARTED)); then scripts/postgres.sh stop || true; fi; }
trap 'stop_postgres; rm -rf "$LOGS"' EXIT

FAILED=()
TIMES=()
stage() { printf '\n==> [%s] %s\n' "$1" "$2"; }
finish() {
	local name=$1 rc=$2 started=$3
	TIMES+=("$(printf '%-28s %4ds  %s' "$name" $((SECONDS - started)) "$([[ $rc == 0 ]] && echo ok || echo "FAILED (exit $rc)")")")
	if [[ $rc != 0 ]]; then FAILED+=("$name"); fi
}

# run NAME CMD...: one stage, recorded, never aborting the script.
run() {
	local name=$1 started=$SECONDS rc=0
	shift
	"$@" || rc=$?
	finish "$name" "$rc" "$started"
	return "$rc"
}

summary() {
	printf '\n==> summary\n'
	printf '    %s\n' "${TIMES[@]}"
	if [[ -s $LOGS/test.log ]]; then
		printf '\n==> cargo test results\n'
		grep -E '^(test result:|---- |error: )' "$LOGS/test.log" || true
		# The closing line of the whole run, in the form every runner uses.
		awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;/) p += $i; if ($(i+1) ~ /^failed;/) f += $i; if ($(i+1) ~ /^ignored;/) s += $i } }
			END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$LOGS/test.log"
	fi
	if ((${#FAILED[@]})); then
		printf '\nFAILED stages: %s\n' "${FAILED[*]}"
		exit 1
	fi
}

# Everything runs from inside main(): bash reads a script as it goes, and this
# one runs long enough for a `git pull` to change it underneath.
main() {
	START=$SECONDS
	stage 1/6 "setup (scripts/setup.sh)"
	run setup scripts/setup.sh || {
		summary
		exit 1
	}

	stage 2/6 "terraform matrix check with hashicorp/null (background, log shown after the build)"
	matrix_started=$SECONDS
	scripts/terraform-matrix-check.sh >"$LOGS/matrix.log" 2>&1 &
	MATRIX_PID=$!

	stage 3/6 "cargo build --workspace --all-targets --locked"
	if ! run build cargo build --workspace --all-targets --locked; then
		wait "$MATRIX_PID" || true
		summary
		exit 1
	fi

	rc=0
	wait "$MATRIX_PID" || rc=$?
	cat "$LOGS/matrix.log"
	finish terraform-matrix "$rc" "$matrix_started"

	stage 4/6 "cargo test --workspace --locked --no-fail-fast"
	started=$SECONDS
	if [[ -z ${IDCB_TEST_POSTGRES_URL:-} ]]; then
		if IDCB_TEST_POSTGRES_URL=$(scripts/postgres.sh start); then
			PG_STARTED=1
			export IDCB_TEST_POSTGRES_URL
			echo "PostgreSQL for the server tests: $IDCB_TEST_POSTGRES_URL"
		else
			echo "scripts/postgres.sh start failed: the server's PostgreSQL tests fail under CI=true" >&2
		fi
	fi
	rc=0
	cargo test --workspace --locked --no-fail-fast -- "$@" 2>&1 | tee "$LOGS/test.log" || rc=$?
	finish test "$rc" "$started"

	stage 5/6 "cargo fmt --check; cargo clippy -D warnings"
	run fmt cargo fmt --all --check || true
	# fuzz/ is a workspace of its own (scripts/fuzz.sh); its files keep the same style.
	run fmt-fuzz rustfmt --check --edition 2024 $(git ls-files 'fuzz/*.rs') || true
	run clippy cargo clippy --workspace --all-targets --locked -- -D warnings || true
	# fuzz/'s lock file is not committed: as scripts/fuzz.sh does, it starts as the
	# project's, so the product's dependencies are the locked ones and cargo adds only
	# afl's (hence no --locked). Its own target directory: other features than the
	# workspace's, so sharing one would make the two invalidate each other's results.
	cp Cargo.lock fuzz/Cargo.lock
	run clippy-fuzz env CARGO_TARGET_DIR="$ROOT/target/fuzz-clippy" \
		cargo clippy --manifest-path fuzz/Cargo.toml --all-targets -- -D warnings || true

	stage 6/6 "fuzz targets, 20 s each (scripts/fuzz.sh --ci)"
	run fuzz scripts/fuzz.sh --ci || true

	printf '\n==> total %ds\n' $((SECONDS - START))
	summary
}

main "$@"
exit
