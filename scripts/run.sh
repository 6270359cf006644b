#!/usr/bin/env bash
# Runs idcbootstrap the way a vendor and a platform engineer do, offline, in one
# command: builds the Terraform provider and the vendor API, starts
# idcbootstrap-server on its embedded database, creates a tenant and its token,
# and applies examples/quickstart with the real `terraform`: the vendor's
# external IDs are read from the API, the trust role is rendered for them and
# registered with the vendor. Prints the role ARN, the registration, the
# CloudFormation quick-create link and how to have the vendor test the role;
# writes the rendered artifacts into a directory; stops the server.
#
# Usage: scripts/run.sh [OUTDIR]     (default: target/run)
#
# OUTDIR keeps the vendor's database (OUTDIR/vendor/) and the Terraform state
# (OUTDIR/quickstart/), so running again keeps the same tenant and external ID;
# delete OUTDIR to start over. Offline there is no AWS account, so the vendor's
# test of the role is off (`test = false`). Needs Rust and terraform >= 0.14
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

echo "==> cargo build --locked -p terraform-provider-idcbootstrap -p idcbootstrap-server"
cargo build --quiet --locked -p terraform-provider-idcbootstrap -p idcbootstrap-server
BIN_DIR=${CARGO_TARGET_DIR:-$ROOT/target}/debug
for bin in terraform-provider-idcbootstrap idcbootstrap-server; do
	if [[ ! -x $BIN_DIR/$bin ]]; then
		echo "run.sh: the build left no $BIN_DIR/$bin" >&2
		exit 1
	fi
done

# The vendor's principal: every rendered role trusts it (the quickstart's default).
VENDOR_PRINCIPAL=arn:aws:iam::111122223333:role/vendor/IdcBootstrapIntegration
VENDOR_DIR=$OUT/vendor
mkdir -p "$VENDOR_DIR"
chmod 700 "$VENDOR_DIR"
server() { # the vendor's CLI, on its own data dir (SQLite and data key, created)
	env -u IDCBOOTSTRAP_API_TOKEN IDCBOOTSTRAP_DATA_DIR="$VENDOR_DIR" IDCBOOTSTRAP_LOG=warn \
		"$BIN_DIR/idcbootstrap-server" "$@"
}

# Terraform's own environment: a private HOME and CLI configuration that loads
# the provider just built (dev_overrides, no registry), and no version check.
TFENV=$(mktemp -d -t idcb-run.XXXXXX)
SERVER_PID=
cleanup() {
	if [[ -n $SERVER_PID ]]; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		echo "==> stopped idcbootstrap-server (its database stays in $VENDOR_DIR)"
	fi
	rm -rf "$TFENV"
}
trap cleanup EXIT

# The vendor's side: a tenant (kept across runs) and a fresh token for it.
if [[ ! -s $VENDOR_DIR/tenant-id ]]; then
	cat /proc/sys/kernel/random/uuid >"$VENDOR_DIR/tenant-id"
fi
TENANT=$(cat "$VENDOR_DIR/tenant-id")
TOKEN=$(server token create --tenant "$TENANT" 2>/dev/null)

echo "==> idcbootstrap-server serve (SQLite in $VENDOR_DIR)"
# Not through server(): $! must be the server's own PID (env execs it), so that
# the EXIT trap stops the server and not a subshell; its output goes to the log,
# so it holds no pipe of ours open.
env -u IDCBOOTSTRAP_API_TOKEN IDCBOOTSTRAP_DATA_DIR="$VENDOR_DIR" "$BIN_DIR/idcbootstrap-server" \
	serve --listen 127.0.0.1:0 --trusted-principal-arn "$VENDOR_PRINCIPAL" --log info \
	>"$VENDOR_DIR/server.log" 2>&1 </dev/null &
SERVER_PID=$!
ADDR=
for _ in $(seq 1 300); do
	ADDR=$(grep -o '"addr":"[^"]*"' "$VENDOR_DIR/server.log" 2>/dev/null | head -n 1 | cut -d'"' -f4 || true)
	[[ -n $ADDR ]] && break
	if ! kill -0 "$SERVER_PID" 2>/dev/null; then
		cat "$VENDOR_DIR/server.log" >&2
		echo "run.sh: idcbootstrap-server exited" >&2
		exit 1
	fi
	sleep 0.1
done
if [[ -z $ADDR ]]; then
	echo "run.sh: idcbootstrap-server logged no listening address in 30 s (see $VENDOR_DIR/server.log)" >&2
	exit 1
fi
API_URL=http://$ADDR
echo "    listening on $API_URL; tenant $TENANT"

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
		IDCBOOTSTRAP_API_URL=$API_URL IDCBOOTSTRAP_TENANT_ID=$TENANT IDCBOOTSTRAP_API_TOKEN=$TOKEN \
		"$TF" "$@" 2> >(grep -v -e 'Provider development overrides are in effect' >&2)
}

WORK=$OUT/quickstart
mkdir -p "$WORK/aws-role"
cp examples/quickstart/*.tf "$WORK"/
cp examples/quickstart/aws-role/*.tf "$WORK/aws-role"/
cd "$WORK"
TF_VERSION=$(tf version) || true
echo "==> terraform apply in $WORK (${TF_VERSION%%$'\n'*})"
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
ROLE_ARN=$(tf output -raw role_arn)
echo "==> role ARN: $ROLE_ARN"
echo "==> registration: the vendor holds this role for tenant $(tf output -raw tenant_id): registered = $(tf output -raw registered)"
echo "    vendor side: GET $API_URL/v1/integrations/aws-identity-center/config -> $(
	curl -s "$API_URL/v1/integrations/aws-identity-center/config" \
		-H "Authorization: Bearer $TOKEN" -H "X-Tenant-ID: $TENANT" || echo unreachable
)"
echo "==> launch stack (the link carries the external ID; share it only with the account's admins):"
echo "    $(cat "$OUT/launch-stack-url.txt")"
cat <<EOF
==> the vendor's test of the role (needs an AWS account; off here, test = false):
    1. create the role: cd $WORK/aws-role && terraform init && terraform apply
       (hashicorp/aws, your AWS credentials), or use the launch-stack link above;
    2. run the vendor API with its AWS credentials (idcbootstrap-server serve, data dir $VENDOR_DIR),
       and in $WORK, with IDCBOOTSTRAP_API_URL, IDCBOOTSTRAP_TENANT_ID, IDCBOOTSTRAP_API_TOKEN set:
       terraform apply -var test=true
       The vendor assumes the role with its own credentials and every external ID, waiting out
       IAM propagation; a role that does not work fails the apply with the vendor's error code.
       (The vendor can run the same test alone: POST /v1/integrations/aws-identity-center/test.)
EOF
