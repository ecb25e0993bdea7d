#!/usr/bin/env bats
#
# The GitLab template run by a real runner: gitlab-ci-local (installed by
# tests/deps.sh into build/npm) runs ci-templates/gitlab/gitlab-ci.yml and
# its include, with the shell executor, in a temporary git repository that
# holds them, tests.txt and ci/run-test, against this file's Redis. The
# build job really builds ciq from a clone of this checkout's committed
# HEAD; the worker and report jobs get the tools as its artifact. Every
# job has the same $HOME, as on a shell runner where jobs share a machine.

load test_helper

GCL=$CIQ_ROOT/build/npm/node_modules/gitlab-ci-local/dist/index.js
# gitlab-ci-local uses Set methods that Node 20 lacks.
POLYFILL=$BATS_TEST_DIRNAME/templates/set-methods.mjs

setup_file() {
	redis_start
	RUNNER_SKIP=""
	if [[ $CIQ_BIN == */bin-san ]]; then
		# The pipeline builds its own ciq from the checkout: the sanitized
		# tools are not what it runs, and the plain pass ran it already.
		RUNNER_SKIP="the pipeline builds its own ciq; the plain pass ran it"
	elif ! command -v node >/dev/null; then
		RUNNER_SKIP="no node"
	elif [ ! -f "$GCL" ]; then
		RUNNER_SKIP="no gitlab-ci-local in build/npm (tests/deps.sh: npm or the registry was unavailable)"
	elif ! command -v rsync >/dev/null; then
		RUNNER_SKIP="no rsync (gitlab-ci-local's shell isolation needs it)"
	fi
	export RUNNER_SKIP
	[ -z "$RUNNER_SKIP" ] || return 0
	# One repository for the whole file: the build job's artifact, made by
	# the first test, serves the later ones (they run only the worker and
	# report jobs).
	REPO=$(mktemp -d /tmp/ciq-gcl.XXXXXX)
	export REPO
	mkdir -p "$REPO/repo/.gitlab" "$REPO/repo/ci" "$REPO/home" "$REPO/barrier"
	cp "$CIQ_ROOT/ci-templates/gitlab/gitlab-ci.yml" "$REPO/repo/.gitlab-ci.yml"
	cp "$CIQ_ROOT/ci-templates/gitlab/ciq.gitlab-ci.yml" "$REPO/repo/.gitlab/"
	printf 't%02d\n' $(seq 10) >"$REPO/repo/tests.txt"
	# The first test of each worker waits (bounded) until all 3 workers
	# have one: passing proves the 3 jobs ran at once. With RED set, t07
	# fails.
	cat >"$REPO/repo/ci/run-test" <<-'EOF'
		#!/bin/sh
		: >"$BARRIER/$CI_NODE_INDEX"
		i=0
		while [ "$(ls "$BARRIER" | wc -l)" -lt 3 ] && [ "$i" -lt 400 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		[ "$(ls "$BARRIER" | wc -l)" -ge 3 ] || { echo "$1: the 3 workers did not run at once"; exit 1; }
		if [ "$1" = t07 ] && [ -n "${RED:-}" ]; then
			echo "t07: expected 42, got 41"
			exit 1
		fi
		echo "$1: ok"
	EOF
	chmod +x "$REPO/repo/ci/run-test"
	# ciq as the build job clones it: this checkout's HEAD as a branch of
	# a bare repository (HEAD may be detached, as in a CI checkout).
	git init -q --bare "$REPO/ciq.git"
	git -C "$REPO/ciq.git" fetch -q "$CIQ_ROOT" +HEAD:refs/heads/ciq-test
	git -C "$REPO/repo" init -q
	git -C "$REPO/repo" remote add origin https://gitlab.example/acme/app.git
	git -C "$REPO/repo" add -A
	git -C "$REPO/repo" -c user.email=ci@example -c user.name=ci commit -qm suite
}

teardown_file() {
	redis_stop
	[ -z "${REPO:-}" ] || rm -rf "$REPO"
}

setup() {
	[ -z "$RUNNER_SKIP" ] || skip "$RUNNER_SKIP"
	ciq_setup
	rm -f "$REPO"/barrier/*
}

# gcl [--variable NAME=VALUE]... [JOB...]: gitlab-ci-local on the
# repository with the shell executor (the template's image: needs docker),
# each job in its own copy of the repository (as a runner's build dirs),
# GITLAB_CI=true, the queue as the CI/CD variable CIQ_QUEUE, ciq from a
# clone of this checkout's HEAD, and only a plain PATH and the shared HOME: the
# jobs find ciq only where the template puts it.
gcl() {
	cd "$REPO/repo"
	run env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$REPO/home" LANG=C.UTF-8 \
		timeout 120 node --import "$POLYFILL" "$GCL" \
		--force-shell-executor --shell-isolation --no-color \
		--ignore-predefined-vars GITLAB_CI --variable GITLAB_CI=true \
		--variable "CIQ_QUEUE=unix://$REDIS_SOCK" \
		--variable "CIQ_GIT=file://$REPO/ciq.git" --variable CIQ_REF=ciq-test \
		--variable "BARRIER=$REPO/barrier" "$@"
}

# built: the build job's artifact is there (the first test made it, unless
# it was filtered out).
built() {
	[ -d "$REPO/repo/.gitlab-ci-local/artifacts/ciq-build/.ciq" ] || gcl ciq-build
}

# verdict JOB: PASS or FAIL N, from the job's "finished in" line.
verdict() {
	local line
	line=$(printf '%s\n' "$output" | grep -E "^$1 +finished in " | tail -n 1)
	case $line in
	*" FAIL "*) echo "FAIL ${line##* FAIL }" | sed 's/ *$//' ;;
	"") echo "did not run" ;;
	*) echo PASS ;;
	esac
}

@test "gitlab-ci-local: the build job builds ciq once; 3 workers at once and the report pass a green suite" {
	gcl
	assert_equal "$(verdict ciq-build)" PASS
	assert_equal "$(verdict 'ciq-worker: \[1/3\]')" PASS
	assert_equal "$(verdict 'ciq-worker: \[2/3\]')" PASS
	assert_equal "$(verdict 'ciq-worker: \[3/3\]')" PASS
	assert_equal "$(verdict ciq-report)" PASS
	assert_line --regexp '^ciq-report +> ciq: build [0-9]+: 10 tests, 10 with a result, 3 workers$'
	assert_line --regexp '^ciq-report +> PASSED: 10 tests, 10 passed, 0 skipped$'
	# All 3 reached the barrier in ci/run-test: they ran at the same time.
	assert_equal "$(ls "$REPO/barrier" | wc -l)" 3
	# Nothing was installed into the shared HOME.
	assert_equal "$(ls -A "$REPO/home" | grep -vx .gitlab-ci-local)" ""
}

@test "gitlab-ci-local: a failing test fails its worker job, and the report job exits 1" {
	built
	gcl --variable RED=1 ciq-worker ciq-report
	assert_equal "$(verdict ciq-report)" "FAIL 1"
	assert_line --regexp '^ciq-report +> FAILED: 1 of 10 tests failed$'
	# The worker that recorded the failure fails (exit 1), the others pass.
	local results failers=0 w
	results=$(rcli --scan --pattern 'ciq:*:results')
	for w in 1 2 3; do
		if rcli HVALS "$results" | grep -q "^f [0-9]* $((w - 1))\$"; then
			assert_equal "$(verdict "ciq-worker: \\[$w/3\\]")" "FAIL 1"
			failers=$((failers + 1))
		else
			assert_equal "$(verdict "ciq-worker: \\[$w/3\\]")" PASS
		fi
	done
	assert_equal "$failers" 1
}

@test "gitlab-ci-local: a failing ciq-populate fails the worker job (a bad tests.txt, an unreachable queue)" {
	# A list without an id: ciq-populate refuses it.
	built
	: >"$REPO/repo/tests.txt"
	git -C "$REPO/repo" -c user.email=ci@example -c user.name=ci commit -qam 'a bad list'
	gcl --variable CIQ_INIT_TIMEOUT=2 ciq-worker
	git -C "$REPO/repo" -c user.email=ci@example -c user.name=ci revert --no-edit HEAD >/dev/null
	local w
	for w in 1 2 3; do
		assert_equal "$(verdict "ciq-worker: \\[$w/3\\]")" "FAIL $CIQ_EX_DATAERR"
	done
	gcl --variable CIQ_QUEUE=unix:///nonexistent/sock ciq-worker
	for w in 1 2 3; do
		assert_equal "$(verdict "ciq-worker: \\[$w/3\\]")" "FAIL $CIQ_EX_UNAVAILABLE"
	done
}

@test "gitlab-ci-local: the shape the template avoids: 'ciq-populate && ciq-worker.sh' before another line hides the failure" {
	# Why the worker's script has one command a line (and why
	# templates/pipeline.py check rejects an && list that is not a
	# block's last command): GitLab's set -e spares the left side of &&.
	built
	sed -i -e 's|^    - ciq-populate tests.txt$|    - ciq-populate tests.txt \&\& ciq-worker.sh ./ci/run-test|' \
		-e 's|^    - ciq-worker.sh ./ci/run-test$|    - echo a later line|' "$REPO/repo/.gitlab-ci.yml"
	git -C "$REPO/repo" -c user.email=ci@example -c user.name=ci commit -qam 'the && shape'
	gcl --variable CIQ_QUEUE=unix:///nonexistent/sock ciq-worker
	git -C "$REPO/repo" -c user.email=ci@example -c user.name=ci revert --no-edit HEAD >/dev/null
	assert_line --regexp '^ciq-worker: \[1/3\] +> ciq-populate: cannot connect to '
	assert_equal "$(verdict 'ciq-worker: \[1/3\]')" PASS
}
