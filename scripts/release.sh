#!/usr/bin/env bash
# Builds the release artifacts, in the layout the Terraform Registry (and any
# provider mirror) reads, into dist/:
#
#   terraform-provider-idcbootstrap_VERSION_linux_amd64.zip
#       holds terraform-provider-idcbootstrap_vVERSION (release build, stripped)
#   terraform-provider-idcbootstrap_VERSION_manifest.json
#   terraform-registry-manifest.json          (same content: protocol 5.0)
#   terraform-provider-idcbootstrap_VERSION_SHA256SUMS
#   terraform-provider-idcbootstrap_VERSION_SHA256SUMS.sig  (only with GPG_FINGERPRINT set)
#   idcbootstrap-cfn-resource_VERSION_x86_64.zip + .sha256  (the Lambda, via
#       scripts/build-lambda.sh when it exists)
#
# VERSION is the workspace version in Cargo.toml ([workspace.package]); there
# is no other place to bump. The zip is reproducible: fixed timestamps and
# modes, so the same binary always gives the same checksum.
#
# Usage: scripts/release.sh [--out DIR] [--provider-bin PATH] [--no-lambda]
#   --out DIR            where to write (default: dist/)
#   --provider-bin PATH  package this binary instead of building --release
#                        (the e2e test packages the debug build to stay cheap)
#   --no-lambda          leave out the Lambda zip
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

OUT=$ROOT/dist
BIN=
LAMBDA=1
while (($#)); do
	case $1 in
	--out)
		OUT=$2
		shift
		;;
	--provider-bin)
		BIN=$2
		shift
		;;
	--no-lambda) LAMBDA=0 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "release.sh: unknown argument $1 (see --help)" >&2
		exit 2
		;;
	esac
	shift
done

NAME=terraform-provider-idcbootstrap
# The one version: [workspace.package] in the root Cargo.toml.
VERSION=$(awk '/^\[/{s=($0=="[workspace.package]")} s && /^version *=/{gsub(/[" ]/,"",$0); sub(/^version=/,"",$0); print; exit}' Cargo.toml)
if [[ ! $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]]; then
	echo "release.sh: no version in [workspace.package] of Cargo.toml (got '$VERSION')" >&2
	exit 1
fi
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

if [[ -z $BIN ]]; then
	# AWS_LC_SYS_NO_JITTER_ENTROPY comes from .cargo/config.toml, as for any cargo build here.
	echo "==> cargo build --release --locked -p $NAME" >&2
	cargo build --release --locked -p "$NAME" >&2
	BIN=$TARGET_DIR/release/$NAME
fi
if [[ ! -x $BIN ]]; then
	echo "release.sh: provider binary $BIN is missing or not executable" >&2
	exit 1
fi

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
STAGE=$(mktemp -d -t idcb-release.XXXXXX)
trap 'rm -rf "$STAGE"' EXIT

ZIP=${NAME}_${VERSION}_linux_amd64.zip
MANIFEST=${NAME}_${VERSION}_manifest.json
SUMS=${NAME}_${VERSION}_SHA256SUMS

# zip(1) stamps the current time into the archive; Python's zipfile lets us fix
# timestamps and modes, so rebuilding the same binary gives the same SHA-256.
zip_one() { # zip_one ZIP SOURCE NAME_IN_ZIP
	python3 - "$1" "$2" "$3" <<'PY'
import sys, zipfile
out, src, name = sys.argv[1:]
info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
info.external_attr = 0o100755 << 16
info.compress_type = zipfile.ZIP_DEFLATED
info.create_system = 3  # Unix, so the mode above is honoured on unzip
with open(src, "rb") as f, zipfile.ZipFile(out, "w") as z:
    z.writestr(info, f.read())
PY
}

echo "==> $ZIP" >&2
zip_one "$STAGE/$ZIP" "$BIN" "${NAME}_v${VERSION}"
printf '{"version":1,"metadata":{"protocol_versions":["5.0"]}}\n' >"$STAGE/$MANIFEST"
cp "$STAGE/$MANIFEST" "$STAGE/terraform-registry-manifest.json"
(cd "$STAGE" && sha256sum "$ZIP" "$MANIFEST" >"$SUMS")

if [[ -n ${GPG_FINGERPRINT:-} ]]; then
	# The registry verifies this detached signature against the key you uploaded.
	gpg --batch --yes --local-user "$GPG_FINGERPRINT" --output "$STAGE/$SUMS.sig" --detach-sign "$STAGE/$SUMS"
else
	echo "    (GPG_FINGERPRINT not set: $SUMS is not signed; the public registry needs $SUMS.sig)" >&2
fi

if ((LAMBDA)); then
	if [[ -x scripts/build-lambda.sh ]]; then
		echo "==> Lambda (scripts/build-lambda.sh)" >&2
		# build-lambda.sh prints `zip:    PATH (N bytes)` and `sha256: HEX`.
		LAMBDA_ZIP=$(scripts/build-lambda.sh | sed -n 's/^zip: *\(.*\) ([0-9]* bytes)$/\1/p')
		if [[ ! -f $LAMBDA_ZIP ]]; then
			LAMBDA_ZIP=$TARGET_DIR/lambda/bootstrap/bootstrap.zip
		fi
		if [[ ! -f $LAMBDA_ZIP ]]; then
			echo "release.sh: scripts/build-lambda.sh did not leave a zip (looked for '$LAMBDA_ZIP')" >&2
			exit 1
		fi
		LZ=idcbootstrap-cfn-resource_${VERSION}_x86_64.zip
		cp "$LAMBDA_ZIP" "$STAGE/$LZ"
		(cd "$STAGE" && sha256sum "$LZ" >"$LZ.sha256")
	else
		echo "    (scripts/build-lambda.sh not in this checkout: no Lambda zip)" >&2
	fi
fi

MADE=("$STAGE"/*)
mv "${MADE[@]}" "$OUT"/
echo "==> release $VERSION in $OUT:" >&2
for f in "${MADE[@]}"; do
	f=$OUT/$(basename "$f")
	printf '    %s (%s bytes)\n' "$f" "$(stat -c %s "$f")" >&2
done
cat "$OUT/$SUMS"
