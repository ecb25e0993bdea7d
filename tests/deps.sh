#!/bin/sh
# deps.sh - install the Debian packages ciq needs to build, test and run
# its demo, when they are missing. Needs root (or sudo) only if something
# is missing.
set -eu
pkgs="gcc make pkg-config libhiredis-dev libcurl4-openssl-dev libssl-dev
redis-server redis-tools jq scdoc bats bats-support bats-assert
shellcheck python3-yaml python3-jsonschema clang libclang-rt-14-dev
libxml2-utils"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -n "$missing" ] || exit 0
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
