#!/usr/bin/env bash
# Coverage-guided fuzzing of idcbootstrap with AFL++, through cargo-afl, on the
# stable toolchain. The targets are in fuzz/ (its own workspace; see
# fuzz/README.md), their seed corpora in fuzz/seeds/<target>/.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   fuzz each target for SECONDS (default 300)
#   scripts/fuzz.sh --ci                    the test stage: 20 s per target
#   scripts/fuzz.sh --build                 install and build only
#   scripts/fuzz.sh --list                  the target names
#
# 1. Installs cargo-afl (pinned, `cargo install` into cargo's own bin directory) and
#    builds its AFL++ (`cargo afl config --build`, into cargo-afl's data directory)
#    when missing: about a minute, once per machine.
# 2. Builds every target once, instrumented, into target/fuzz-build/
#    (IDCB_FUZZ_TARGET_DIR). fuzz/ is its own
#    workspace; its Cargo.lock (not committed) starts as a copy of the project's, so
#    the product's dependencies are the locked ones, and cargo adds only afl's.
# 3. Runs the targets, IDCB_FUZZ_JOBS at a time (default: the number of cores), each
#    from its seeds into target/fuzz-afl/<target>/.
#
# Any crash fails the run: the crashing inputs stay in
# target/fuzz-afl/<target>/default/crashes/, and are printed (base64) with the
# command that reproduces one, so a CI log is enough.
# Hangs (over IDCB_FUZZ_TIMEOUT_MS, default 2000 ms for one input) are reported
# and kept in .../hangs/, and fail the run too.
#
# Environment: IDCB_FUZZ_TARGET_DIR, IDCB_FUZZ_JOBS, IDCB_FUZZ_TIMEOUT_MS, IDCB_FUZZ_OPT_LEVEL (the
# instrumented build's -C opt-level, default 1: quick to build on two cores).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FUZZ=$ROOT/fuzz
# The instrumented build has its own target directory inside the clone (other
# compiler flags than the product's). IDCB_FUZZ_TARGET_DIR puts it elsewhere, e.g.
# one directory shared by several checkouts, so that after the first build (a few
# minutes on two cores, mostly the AWS SDK the provider links) only the project's
# crates are rebuilt.
export CARGO_TARGET_DIR=${IDCB_FUZZ_TARGET_DIR:-$ROOT/target/fuzz-build}
OUT=$ROOT/target/fuzz-afl
CARGO_AFL_VERSION=0.18.2
TARGETS=(value_msgpack value_json upgrade_state attr_path external_id_parse render cfn_event cfn_response external_id_sequence)

say() { printf '==> %s\n' "$*"; }
die() {
	printf 'fuzz.sh: error: %s\n' "$*" >&2
	exit 1
}

SECONDS_EACH=300
MODE=run
case ${1:-} in
--ci)
	SECONDS_EACH=20
	shift
	;;
--build)
	MODE=build
	shift
	;;
--list)
	printf '%s\n' "${TARGETS[@]}"
	exit 0
	;;
'' | *[!0-9]*) ;;
*)
	SECONDS_EACH=$1
	shift
	;;
esac
if (($#)); then
	for t in "$@"; do
		[[ " ${TARGETS[*]} " == *" $t "* ]] || die "no target $t (scripts/fuzz.sh --list)"
	done
	TARGETS=("$@")
fi

# ------------------------------------------------------------------ 1. AFL++
install_afl() {
	local started=$SECONDS
	if [[ $(cargo afl --version 2>/dev/null) != *"$CARGO_AFL_VERSION"* ]]; then
		say "installing cargo-afl $CARGO_AFL_VERSION (cargo install)"
		cargo install --locked --quiet cargo-afl --version "$CARGO_AFL_VERSION"
	fi
	# `config --build` refuses to run again once AFL++ is built for this rustc.
	if ! cargo afl config --build >"$OUT/afl-config.log" 2>&1 &&
		! grep -q 'already built' "$OUT/afl-config.log"; then
		cat "$OUT/afl-config.log" >&2
		die "cargo afl config --build failed"
	fi
	say "cargo-afl and AFL++ ready ($((SECONDS - started))s)"
}

# ------------------------------------------------------------------ 2. build
build() {
	local started=$SECONDS
	say "building ${#TARGETS[@]} fuzz targets (instrumented, in $CARGO_TARGET_DIR)"
	cp "$ROOT/Cargo.lock" "$FUZZ/Cargo.lock"
	# cargo-afl asks for one codegen unit; 16 builds the AWS SDK crates the provider
	# links several times faster and links fine with this toolchain.
	# fuzz/rustc-wrapper.sh keeps the instrumentation to the code under test.
	(cd "$FUZZ" && AFL_OPT_LEVEL=${IDCB_FUZZ_OPT_LEVEL:-1} RUSTFLAGS="${RUSTFLAGS:-} -C codegen-units=16" \
		RUSTC_WRAPPER="$FUZZ/rustc-wrapper.sh" cargo afl build --release --bins)
	say "built ($((SECONDS - started))s)"
}

# ------------------------------------------------------------------ 3. run
# run_one TARGET: fuzz it; prints one summary line; returns 1 on a crash or hang.
run_one() {
	local t=$1 dir=$OUT/$1 bin=$CARGO_TARGET_DIR/release/$1 rc=0
	rm -rf "$dir"
	mkdir -p "$dir"
	AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
		AFL_FAST_CAL=1 AFL_NO_WARN_INSTABILITY=1 AFL_FORKSRV_INIT_TMOUT=60000 \
		timeout --kill-after=10 $((SECONDS_EACH + 120)) \
		cargo afl fuzz -i "$FUZZ/seeds/$t" -o "$dir" -V "$SECONDS_EACH" -t "${IDCB_FUZZ_TIMEOUT_MS:-2000}" \
		-- "$bin" >"$dir/afl.log" 2>&1 || rc=$?
	local stats=$dir/default/fuzzer_stats execs=? paths=?
	if [[ -f $stats ]]; then
		execs=$(awk -F': *' '$1 ~ /^execs_done/ { print $2 }' "$stats")
		paths=$(awk -F': *' '$1 ~ /^corpus_count/ { print $2 }' "$stats")
	fi
	local crashes=() hangs=()
	shopt -s nullglob
	crashes=("$dir"/default/crashes/id:*)
	hangs=("$dir"/default/hangs/id:*)
	shopt -u nullglob
	if ((rc != 0)); then
		printf '%-22s afl-fuzz exited %d (a seed that crashes stops it at start):\n' "$t" "$rc"
		tail -n 25 "$dir/afl.log" | sed 's/^/    /'
		local seed
		for seed in "$FUZZ/seeds/$t"/*; do
			if ! "$bin" <"$seed" >/dev/null 2>&1; then
				printf '    seed %s crashes: %s < %s\n' "${seed##*/}" "$bin" "$seed"
			fi
		done
		return 1
	fi
	printf '%-22s %4ss  %10s execs  %4s corpus  %d crashes  %d hangs\n' \
		"$t" "$SECONDS_EACH" "$execs" "$paths" "${#crashes[@]}" "${#hangs[@]}"
	if ((${#crashes[@]} + ${#hangs[@]})); then
		local f
		# The first few; the rest are in the same directory.
		for f in "${crashes[@]:0:5}" "${hangs[@]:0:5}"; do
			printf '    %s\n      reproduce: %s < %q\n      base64: %s\n' "$f" "$bin" "$f" "$(head -c 4096 "$f" | base64 -w0)"
			(timeout 10 "$bin" <"$f" 2>&1 || true) 2>&1 | grep -m1 -A1 'panicked' | sed 's/^/      /' || true
		done
		return 1
	fi
}

main() {
	local started=$SECONDS
	mkdir -p "$OUT"
	install_afl
	build
	if [[ $MODE == build ]]; then return 0; fi
	local jobs=${IDCB_FUZZ_JOBS:-$(nproc)} failed=() pids=() names=() i
	say "fuzzing ${#TARGETS[@]} targets for ${SECONDS_EACH}s each, $jobs at a time"
	for t in "${TARGETS[@]}"; do
		while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
		run_one "$t" >"$OUT/$t.summary" 2>&1 &
		pids+=($!)
		names+=("$t")
	done
	for i in "${!pids[@]}"; do
		if ! wait "${pids[$i]}"; then failed+=("${names[$i]}"); fi
		cat "$OUT/${names[$i]}.summary"
	done
	say "fuzzing done ($((SECONDS - started))s in all)"
	if ((${#failed[@]})); then
		printf 'fuzz.sh: FAILED targets: %s\n' "${failed[*]}" >&2
		return 1
	fi
}

main
# Not past main: bash reads a script as it runs, and a checkout may change under it.
exit
