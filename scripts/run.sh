#!/usr/bin/env bash
# Runs idcbootstrap the way a platform engineer does, offline: builds the
# Terraform provider, applies examples/quickstart with the real `terraform`
# (external ID + rendered trust role; no AWS credentials, no network), writes
# the rendered artifacts into a directory, and prints where they are and the
# CloudFormation quick-create link.
#
# Usage: scripts/run.sh [OUTDIR]     (default: target/run)
#
# OUTDIR/quickstart/ keeps the Terraform state, so running again keeps the same
# external ID; delete it to start over. Needs Rust and terraform >= 0.14
# (.tools/terraform/1.11.4/terraform from scripts/setup.sh, else `terraform` on PATH).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=${1:-$ROOT/target/run}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

TF=$ROOT/.tools/terraform/1.11.4/terraform
if [[ ! -x $TF ]]; then
	TF=$(command -v terraform || true)
fi
if [[ -z $TF ]]; then
	echo "run.sh: no terraform: run scripts/setup.sh, or put terraform >= 0.14 on PATH" >&2
	exit 1
fi

echo "==> cargo build --locked -p terraform-provider-idcbootstrap"
cargo build --quiet --locked -p terraform-provider-idcbootstrap
BIN_DIR=${CARGO_TARGET_DIR:-$ROOT/target}/debug
if [[ ! -x $BIN_DIR/terraform-provider-idcbootstrap ]]; then
	echo "run.sh: the build left no $BIN_DIR/terraform-provider-idcbootstrap" >&2
	exit 1
fi

# Terraform's own environment: a private HOME and CLI configuration that loads
# the provider just built (dev_overrides, no registry), and no version check.
TFENV=$(mktemp -d -t idcb-run.XXXXXX)
trap 'rm -rf "$TFENV"' EXIT
mkdir -p "$TFENV/home"
cat >"$TFENV/cli.tfrc" <<EOF
provider_installation {
  dev_overrides {
    "idcbootstrap/idcbootstrap" = "$BIN_DIR"
  }
  direct {}
}
EOF
tf() {
	HOME=$TFENV/home TF_CLI_CONFIG_FILE=$TFENV/cli.tfrc CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 \
		"$TF" "$@" 2> >(grep -v -e 'Provider development overrides are in effect' >&2)
}

WORK=$OUT/quickstart
mkdir -p "$WORK"
cp examples/quickstart/*.tf "$WORK"/
cd "$WORK"
echo "==> terraform apply in $WORK ($(tf version | head -n 1))"
tf apply -input=false -auto-approve -compact-warnings >"$WORK/apply.log" || {
	cat "$WORK/apply.log"
	exit 1
}
grep -E '^(Apply complete|No changes)' "$WORK/apply.log" | sed 's/^/    /'

# The outputs, as the files a user would hand on or commit.
write() { # write FILE OUTPUT
	tf output -raw "$2" >"$OUT/$1"
	printf '    %-26s %s (%s bytes)\n' "$2" "$OUT/$1" "$(stat -c %s "$OUT/$1")"
}
echo "==> rendered artifacts in $OUT:"
write template.yaml cloudformation_yaml
write role.tf terraform_hcl
write trust-policy.json trust_policy_json
write permissions-policy.json permissions_policy_json
write launch-stack-url.txt launch_stack_url
echo "==> role ARN: $(tf output -raw role_arn)"
echo "==> launch stack (the link carries the external ID; share it only with the account's admins):"
echo "    $(cat "$OUT/launch-stack-url.txt")"
