#!/usr/bin/env bash
# Runs idcbootstrap, offline: renders the bootstrap artifacts of the seed
# example request (CloudFormation YAML, Terraform HCL, quick-create link,
# trust and permissions policies) into a directory and lists them.
#
# Usage: scripts/run.sh [OUTDIR]     (default: target/run)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=${1:-$ROOT/target/run}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# ---------------------------------------------------------------------------
# SWITCH POINT: today this renders through the core library's example. Once the
# provider and examples/quickstart exist, replace this block with: build the
# provider (`cargo build --locked -p terraform-provider-idcbootstrap`), write a
# CLI config with a dev_overrides entry for "idcbootstrap/idcbootstrap" pointing
# at the build directory (scripts/TERRAFORM_VERSIONS.md), and run
# `terraform apply -auto-approve` in a copy of examples/quickstart with a temp
# HOME, TF_CLI_CONFIG_FILE set and CHECKPOINT_DISABLE=1 (offline), writing the
# outputs to $OUT.
# ---------------------------------------------------------------------------
if [[ ! -f shared/examples/render.rs ]]; then
	echo "run.sh: shared/examples/render.rs is not in this checkout yet; nothing to run" >&2
	exit 1
fi
MARK=$(mktemp)
trap 'rm -f "$MARK"' EXIT
echo "==> cargo run -p idcbootstrap --example render -- $OUT"
cargo run --quiet --locked -p idcbootstrap --example render -- "$OUT"

echo "==> artifacts in $OUT:"
find "$OUT" -type f -newer "$MARK" -printf '    %p (%s bytes)\n' | sort
