#!/usr/bin/env bash
# rustc wrapper of the fuzz build (scripts/fuzz.sh sets RUSTC_WRAPPER to it).
#
# cargo-afl puts its flags in RUSTFLAGS, so every crate is instrumented and
# optimised alike. Only the code under test needs coverage: the project's crates
# and the parsers they feed the input to keep cargo-afl's flags; every other crate
# loses the coverage instrumentation, and the network stack the targets link but
# never run (AWS SDK, gRPC, HTTP, TLS) is built at opt-level 0. On two cores this
# halves the build.
set -euo pipefail
rustc=$1
shift
case ${CARGO_PKG_NAME:-} in
idcbootstrap | idcbootstrap-* | terraform-provider-idcbootstrap | rmp | rmpv | serde_json | aws_lambda_events)
	exec "$rustc" "$@"
	;;
aws-* | tonic* | h2 | hyper* | rustls* | tokio-rustls | tower* | prost* | protox* | reqwest | rcgen | ring | webpki* | lambda_runtime*)
	opt=0
	;;
*) opt= ;;
esac
args=()
while (($#)); do
	a=$1
	shift
	if [[ $a == -C && $# -gt 0 ]]; then
		case $1 in
		passes=sancov-module | llvm-args=-sanitizer-coverage-*)
			shift
			continue
			;;
		opt-level=*)
			if [[ -n $opt ]]; then
				shift
				args+=(-C "opt-level=$opt")
				continue
			fi
			;;
		esac
	fi
	args+=("$a")
done
exec "$rustc" "${args[@]}"
