#!/usr/bin/env bash
# Proves every Terraform CLI of the matrix (.tools/terraform/matrix.tsv, made by
# scripts/setup.sh) behaves like terraform and loads a local provider the way
# scripts/TERRAFORM_VERSIONS.md says: with hashicorp/null 2.1.2 from .tools/null
# it runs init (where needed), plan, apply, output and destroy offline, and a
# broken config fails with the error on stderr and a non-zero exit code.
#
# Usage: scripts/terraform-matrix-check.sh [VERSION...]   (default: the whole matrix)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${IDCB_TOOLS:-$ROOT/.tools}
MATRIX=$TOOLS/terraform/matrix.tsv
NULL_DIR=$TOOLS/null
[[ -f $MATRIX && -f $NULL_DIR/.stamp ]] || {
	echo "terraform-matrix-check: $MATRIX or $NULL_DIR missing: run scripts/setup.sh first" >&2
	exit 1
}

# The matrix must not shrink silently: every version scripts/terraform-versions.tsv
# pins must be in it (a failed or skipped install drops its row). Under CI=true a
# missing one fails; elsewhere it is reported. Versions named on the command line
# narrow the run on purpose, and the rest are reported as not run.
missing=()
while IFS=$'\t' read -r version _; do
	[[ -z $version || $version == \#* ]] && continue
	grep -q "^$version"$'\t' "$MATRIX" || missing+=("$version")
done <"$ROOT/scripts/terraform-versions.tsv"
if ((${#missing[@]})); then
	if [[ ${CI:-} == true ]]; then
		echo "terraform-matrix-check: pinned versions missing from $MATRIX: ${missing[*]} (rerun scripts/setup.sh)" >&2
		exit 1
	fi
	echo "terraform-matrix-check: note: pinned versions missing from the matrix, not checked: ${missing[*]}" >&2
fi
if (($#)); then
	echo "terraform-matrix-check: note: narrowed to $* by the command line" >&2
	for version in "$@"; do
		grep -q "^$version"$'\t' "$MATRIX" || {
			echo "terraform-matrix-check: $version is not in $MATRIX, so it cannot be checked" >&2
			exit 1
		}
	done
fi

WORK=$(mktemp -d -t idcb-tfcheck.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0
failures=()

# check_version VERSION CLI LOADER: runs in a subshell; prints the failing step.
check_version() {
	local version=$1 cli=$2 loader=$3
	local dir=$WORK/$version
	mkdir -p "$dir/home" "$dir/cfg"
	export HOME=$dir/home TF_CLI_CONFIG_FILE=$dir/cli.tfrc CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
	unset TF_LOG TF_LOG_PATH
	cd "$dir/cfg"
	local source init_args=()
	case $loader in
	plugin-dir)
		# 0.12: no provider_installation block; init -plugin-dir skips discovery.
		: >"$TF_CLI_CONFIG_FILE"
		source=hashicorp/null
		init_args=(-plugin-dir="$NULL_DIR")
		;;
	filesystem-mirror)
		cat >"$TF_CLI_CONFIG_FILE" <<EOF
provider_installation {
  filesystem_mirror {
    path = "$NULL_DIR/mirror"
  }
}
EOF
		source=local.test/hashicorp/null
		;;
	dev-overrides)
		cat >"$TF_CLI_CONFIG_FILE" <<EOF
provider_installation {
  dev_overrides {
    "hashicorp/null" = "$NULL_DIR"
  }
  direct {}
}
EOF
		source=hashicorp/null
		;;
	esac
	cat >main.tf <<EOF
terraform {
  required_providers {
    null = {
      source = "$source"
    }
  }
}

data "null_data_source" "greeting" {
  inputs = {
    text = "hello-$version"
  }
}

resource "null_resource" "r" {
  triggers = {
    text = data.null_data_source.greeting.outputs["text"]
  }
}

output "text" {
  value = null_resource.r.triggers["text"]
}
EOF
	local step
	run() {
		step=$1
		shift
		"$cli" "$@" >"$dir/$step.out" 2>"$dir/$step.err" || {
			echo "  $version: '$step' exited $?; stderr:" >&2
			tail -n 15 "$dir/$step.err" | sed 's/^/    /' >&2
			return 1
		}
	}
	if [[ $loader != dev-overrides ]]; then
		run init init -input=false -no-color "${init_args[@]}" || return 1
	fi
	run plan plan -input=false -no-color || return 1
	grep -q "1 to add" "$dir/plan.out" || {
		echo "  $version: plan output lacks '1 to add'" >&2
		return 1
	}
	run apply apply -input=false -no-color -auto-approve || return 1
	run output output -json text || return 1
	[[ $(tr -d '[:space:]' <"$dir/output.out") == "\"hello-$version\"" ]] || {
		echo "  $version: output -json text printed '$(cat "$dir/output.out")'" >&2
		return 1
	}
	run destroy destroy -input=false -no-color -auto-approve || return 1

	# A broken config: the error must be on stderr, stdout must stay clean of it,
	# and the exit code must say so. A syntax error, because the cloudrail
	# builds (0.12-0.14) skip Terraform's own schema checks: an unknown
	# argument passes and a mistyped value becomes unknown.
	echo 'resource "null_resource" "broken" { no_such_argument = }' >broken.tf
	if "$cli" validate -no-color >"$dir/broken.out" 2>"$dir/broken.err"; then
		echo "  $version: validate of a broken config exited 0" >&2
		return 1
	fi
	grep -q 'broken.tf' "$dir/broken.err" && ! grep -q 'Error' "$dir/broken.out" || {
		echo "  $version: validate error not on stderr (stdout: $(head -c 200 "$dir/broken.out"))" >&2
		return 1
	}
}

while IFS=$'\t' read -r version cli loader; do
	[[ -z $version || $version == \#* ]] && continue
	if (($#)) && [[ " $* " != *" $version "* ]]; then continue; fi
	if [[ ! -x $cli ]]; then
		printf 'terraform %-8s %-18s FAILED (%s is missing)\n' "$version" "$loader" "$cli"
		failed=$((failed + 1))
		failures+=("$version")
		continue
	fi
	start=$(date +%s.%N)
	if (check_version "$version" "$cli" "$loader"); then
		printf 'terraform %-8s %-18s init/plan/apply/output/destroy/validate ok (%.1fs)\n' \
			"$version" "$loader" "$(echo "$(date +%s.%N) - $start" | bc)"
		passed=$((passed + 1))
	else
		printf 'terraform %-8s %-18s FAILED\n' "$version" "$loader"
		failed=$((failed + 1))
		failures+=("$version")
	fi
done <"$MATRIX"

echo "terraform matrix: $passed passed, $failed failed"
((failed == 0)) || {
	echo "failing versions: ${failures[*]} (rerun one: scripts/terraform-matrix-check.sh VERSION)" >&2
	exit 1
}
