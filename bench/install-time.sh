#!/bin/sh
# install-time.sh [RUNS] - what installing ciq costs one GitLab worker job,
# before and after ciq was built once per pipeline, side by side, run by
# gitlab-ci-local (tests/deps.sh installs it into build/npm) on this
# machine with the shell executor, against a private redis-server.
#
#   before  the template of HEAD~ (git show <rev>:ci-templates/gitlab/
#           gitlab-ci.yml, BEFORE_REV, default: the last commit whose
#           template has no build job): every worker job runs apt-get
#           update and install, clones ciq and builds it
#   after   this checkout's template: the build job once, then each
#           worker job gets the tools as its artifact
#
# Each job runs the same 10-test suite (about 0.2 s). apt-get runs for
# real in "before" (as root, Debian's archive must be reachable); the
# clone is of this checkout (file://), so the network's share of a real
# clone is not counted. Prints one line per run and job: "before|after
# JOB SECONDS".
set -eu
runs=${1:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
gcl=$root/build/npm/node_modules/gitlab-ci-local/dist/index.js
polyfill=$root/tests/templates/set-methods.mjs
[ -f "$gcl" ] || { echo "install-time.sh: no gitlab-ci-local: run tests/deps.sh" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "install-time.sh: the old template runs apt-get: run as root" >&2; exit 1; }
rev=${BEFORE_REV:-$(git -C "$root" log --format=%H -1 -- ci-templates/gitlab/gitlab-ci.yml)}
# The newest commit whose template still builds in every job.
while git -C "$root" show "$rev:ci-templates/gitlab/gitlab-ci.yml" | grep -q 'ciq-build'; do
	rev=$(git -C "$root" rev-parse "$rev~")
done
tmp=$(mktemp -d /tmp/ciq-install-time.XXXXXX)
# ciq to clone: this checkout's HEAD as a branch (HEAD may be detached).
git init -q --bare "$tmp/ciq.git"
git -C "$tmp/ciq.git" fetch -q "$root" +HEAD:refs/heads/ciq-bench
redis-server --port 0 --unixsocket "$tmp/sock" --save '' --appendonly no \
	--daemonize yes --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log" --dir "$tmp"
stop() {
	pid=$(cat "$tmp/redis.pid")
	kill "$pid"
	i=0
	while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	rm -rf "$tmp"
}
trap stop EXIT
i=0
while ! redis-cli -s "$tmp/sock" ping >/dev/null 2>&1 && [ "$i" -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done

# repo NAME: a project with the suite; the caller adds .gitlab-ci.yml.
repo() {
	mkdir -p "$tmp/$1/ci" "$tmp/$1/.gitlab" "$tmp/$1.home"
	printf 't%02d\n' $(seq 10) >"$tmp/$1/tests.txt"
	# shellcheck disable=SC2016 # $1 is the test script's
	printf '#!/bin/sh\necho "$1: ok"\n' >"$tmp/$1/ci/run-test"
	chmod +x "$tmp/$1/ci/run-test"
}

# gcl NAME JOB...: run JOBs of project NAME; print "JOB SECONDS" for each
# job's "finished in" line.
gcl() {
	name=$1
	shift
	(cd "$tmp/$name" && git init -q . && git add -A &&
		git -c user.email=b@example -c user.name=b commit -qm run --allow-empty &&
		env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME="$tmp/$name.home" LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
			node --import "$polyfill" "$gcl" --force-shell-executor --shell-isolation \
			--no-color --ignore-predefined-vars GITLAB_CI --variable GITLAB_CI=true \
			--variable "CIQ_QUEUE=unix://$tmp/sock" --variable "CIQ_GIT=file://$tmp/ciq.git" \
			--variable CIQ_REF=ciq-bench "$@") >"$tmp/$name.log" 2>&1 ||
		{ cat "$tmp/$name.log" >&2; exit 1; }
	sed -n 's/^\(.*[^ ]\) *finished in \([0-9.]*\) \(m\{0,1\}s\).*/\1|\2|\3/p' "$tmp/$name.log" |
		awk -F'|' '/^ciq-/ { s = $3 == "ms" ? $2 / 1000 : $2; printf "%s %.2f\n", $1, s }'
}

echo "# before: $(git -C "$root" log --format='%h %s' -1 "$rev" | cut -c1-60)"
echo "# after:  this checkout's ci-templates/gitlab"
n=1
while [ "$n" -le "$runs" ]; do
	# before: one worker job (parallel: 1, its own HOME: the old
	# template clones into $HOME/.ciq and parallel jobs would collide).
	rm -rf "$tmp/before" "$tmp/before.home"
	repo before
	git -C "$root" show "$rev:ci-templates/gitlab/gitlab-ci.yml" |
		sed 's/^  parallel: 3 .*$//' >"$tmp/before/.gitlab-ci.yml"
	gcl before ciq-worker | sed 's/^/before /'
	# after: the build job, then 3 worker jobs with its artifact.
	rm -rf "$tmp/after" "$tmp/after.home"
	repo after
	cp "$root/ci-templates/gitlab/gitlab-ci.yml" "$tmp/after/.gitlab-ci.yml"
	cp "$root/ci-templates/gitlab/ciq.gitlab-ci.yml" "$tmp/after/.gitlab/"
	gcl after ciq-build ciq-worker | sed 's/^/after /'
	n=$((n + 1))
done
