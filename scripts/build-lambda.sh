#!/usr/bin/env bash
# Builds the CloudFormation custom-resource Lambda: `bootstrap` for
# provided.al2023 on x86_64, zipped for AWS::Lambda::Function Code (S3), and
# prints the zip's path and SHA-256.
#
# Uses cargo-lambda from the project venv (scripts/setup.sh installs it; it brings
# zig, which cross-links against Amazon Linux's glibc). Only x86_64: `--arm64`
# needs the aarch64 Rust target, which cannot be fetched on this machine.
#
#   scripts/build-lambda.sh            # -> $CARGO_TARGET_DIR/lambda/bootstrap/bootstrap.zip
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${IDCB_VENV:-$root/.venv}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
export PATH="$venv/bin:$PATH"

if ! command -v cargo-lambda >/dev/null; then
  echo "cargo-lambda not found in $venv/bin: run scripts/setup.sh" >&2
  exit 1
fi

cd "$root"
# AWS_LC_SYS_NO_JITTER_ENTROPY comes from .cargo/config.toml, as for any cargo build here.
cargo lambda build --release --x86-64 --locked \
  --package idcbootstrap-cfn-resource --bin bootstrap \
  --output-format zip --lambda-dir "$target_dir/lambda" >&2

zip="$target_dir/lambda/bootstrap/bootstrap.zip"
test -f "$zip" || { echo "expected $zip" >&2; exit 1; }
echo "zip:    $zip ($(stat -c %s "$zip") bytes)"
echo "sha256: $(sha256sum "$zip" | cut -d' ' -f1)"
