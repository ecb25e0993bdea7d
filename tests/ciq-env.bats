#!/usr/bin/env bats
#
# ciq-env: provider inference, precedence, output modes, exit statuses.
# No Redis server is needed: ciq-env never connects.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
# Exit codes by name, generated from lib/exit.h by make.
. "$BATS_TEST_DIRNAME/exit_codes.bash"

setup() {
	CIQ_BIN=${CIQ_BIN:-$BATS_TEST_DIRNAME/../bin}
	FIXTURES=$BATS_TEST_DIRNAME/fixtures/env
	VARS=()
}

# use_env [FIXTURE] [KEY=value | KEY]...: fill VARS, the whole environment
# ciq-env runs in, from a fixture (one KEY=value per line, spaces kept),
# then set KEY=value or drop KEY.
use_env() {
	local arg kept v
	if [[ $# -gt 0 && $1 != *=* ]] && [[ -f $FIXTURES/$1.env ]]; then
		mapfile -t VARS <"$FIXTURES/$1.env"
		shift
	fi
	for arg in "$@"; do
		kept=()
		for v in "${VARS[@]}"; do
			[[ $v == "${arg%%=*}="* ]] || kept+=("$v")
		done
		VARS=("${kept[@]}")
		[[ $arg != *=* ]] || VARS+=("$arg")
	done
}

# ciq_env ARGS...: run ciq-env with only VARS in the environment.
ciq_env() {
	env -i "${VARS[@]}" "$CIQ_BIN/ciq-env" "$@"
}

# assert_field NAME JSON: the field of the JSON object in $output is JSON
# (compared as compact JSON with sorted keys).
assert_field() {
	assert_equal "$(jq -cS --arg k "$1" '.[$k]' <<<"$output")" "$(jq -cS . <<<"$2")"
}

FIELDS='["provider","queue","build","worker","workers","seed","namespace","retry","branch","build_url","timeout","init_timeout","max_requeues","requeue_tolerance","ttl","order","sources"]'

# assert_defaults: the fields no provider touches, at their defaults.
assert_defaults() {
	assert_equal "$(jq -c 'keys_unsorted' <<<"$output")" "$FIELDS"
	assert_field namespace '""'
	assert_field timeout 30
	assert_field init_timeout 60
	assert_field max_requeues 0
	assert_field requeue_tolerance 0
	assert_field ttl 28800
	assert_field order '"timing"'
}

DEFAULT_SOURCES='"namespace":"default","timeout":"default","init_timeout":"default","max_requeues":"default","requeue_tolerance":"default","ttl":"default","order":"default"'

# ---------------------------------------------------------------------------
# Providers, one fixture each

@test "buildkite: build id, 0-based parallel job, commit, retry count 0" {
	use_env buildkite
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field provider '"buildkite"'
	assert_field queue null
	assert_field build '"01890b4e-7a3c-4c8e-9d6f-2f1e8a9b0c1d"'
	assert_field worker '"2"'
	assert_field workers 4
	assert_field seed '"8d2c4e1f0a9b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"'
	assert_field retry false
	assert_field branch '"main"'
	assert_field build_url '"https://buildkite.com/acme-inc/my-project/builds/1514"'
	assert_defaults
	assert_field sources '{"provider":"BUILDKITE","build":"BUILDKITE_BUILD_ID","worker":"BUILDKITE_PARALLEL_JOB","workers":"BUILDKITE_PARALLEL_JOB_COUNT","seed":"BUILDKITE_COMMIT","retry":"BUILDKITE_RETRY_COUNT","branch":"BUILDKITE_BRANCH","build_url":"BUILDKITE_BUILD_URL",'"$DEFAULT_SOURCES"'}'
	assert_equal "$stderr" "ciq-env: no queue: set CIQ_QUEUE, --queue or REDIS_URL"
}

@test "circleci: the workflow id is the build, so a separate report job joins" {
	use_env circleci
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field provider '"circleci"'
	assert_field queue null
	assert_field build '"6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"'
	assert_field worker '"1"'
	assert_field workers 4
	assert_field seed '"5e4f3a2b1c0d9e8f7a6b5c4d8d2c4e1f0a9b7c6d"'
	assert_field retry false
	assert_field branch '"feature/login"'
	assert_field build_url '"https://circleci.com/gh/acme/app/2718"'
	assert_defaults
	assert_field sources '{"provider":"CIRCLECI","build":"CIRCLE_WORKFLOW_ID","worker":"CIRCLE_NODE_INDEX","workers":"CIRCLE_NODE_TOTAL","seed":"CIRCLE_SHA1","retry":"CIRCLECI","branch":"CIRCLE_BRANCH","build_url":"CIRCLE_BUILD_URL",'"$DEFAULT_SOURCES"'}'
	assert_equal "$stderr" "ciq-env: no queue: set CIQ_QUEUE, --queue or REDIS_URL"
}

@test "travis: restarted job is a retry; CI_NODE_INDEX is not Travis's and is ignored" {
	use_env travis
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field provider '"travis"'
	assert_field queue null
	assert_field build '"612345678"'
	assert_field worker null
	assert_field workers null
	assert_field seed '"1c0d9e8f7a6b5c4d8d2c4e1f0a9b7c6d5e4f3a2b"'
	assert_field retry true
	assert_field branch '"main"'
	assert_field build_url '"https://app.travis-ci.com/acme/app/builds/612345678"'
	assert_defaults
	assert_field sources '{"provider":"TRAVIS","build":"TRAVIS_BUILD_ID","seed":"TRAVIS_COMMIT","retry":"TRAVIS_JOB_RESTARTED","branch":"TRAVIS_BRANCH","build_url":"TRAVIS_BUILD_WEB_URL",'"$DEFAULT_SOURCES"'}'
	assert_equal "$stderr" "ciq-env: no queue: set CIQ_QUEUE, --queue or REDIS_URL
ciq-env: no worker: set CIQ_WORKER or --worker (Travis CI has no parallel index: give each job of the build matrix its own CIQ_WORKER=0, 1, ...)"
}

@test "heroku: 0-based CI_NODE_INDEX and the add-on's REDIS_URL make a complete setup" {
	use_env heroku
	run -0 --separate-stderr ciq_env --json
	assert_field provider '"heroku"'
	assert_field queue '"rediss://:***@ec2-3-218-100-42.compute-1.amazonaws.com:12345"'
	assert_field build '"c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"'
	assert_field worker '"1"'
	assert_field workers 4
	assert_field seed '"9e8f7a6b5c4d8d2c4e1f0a9b7c6d5e4f3a2b1c0d"'
	assert_field retry false
	assert_field branch '"main"'
	assert_field build_url null
	assert_defaults
	assert_field sources '{"provider":"HEROKU_TEST_RUN_ID","queue":"REDIS_URL","build":"HEROKU_TEST_RUN_ID","worker":"CI_NODE_INDEX","workers":"CI_NODE_TOTAL","seed":"HEROKU_TEST_RUN_COMMIT_VERSION","retry":"HEROKU_TEST_RUN_ID","branch":"HEROKU_TEST_RUN_BRANCH",'"$DEFAULT_SOURCES"'}'
	assert_equal "$stderr" ""
	refute_output --partial p4ssw0rd
}

@test "semaphore: 1-based job index comes out 0-based; the workflow id survives a rerun" {
	use_env semaphore
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field provider '"semaphore"'
	assert_field queue null
	assert_field build '"b8c9d0e1-f2a3-4b4c-9d5e-6f7a8b9c0d1e"'
	assert_field worker '"2"'
	assert_field workers 4
	assert_field seed '"f7a6b5c4d8d2c4e1f0a9b7c6d5e4f3a2b1c0d9e8"'
	assert_field retry false
	assert_field branch '"feature/login"'
	assert_field build_url null
	assert_defaults
	assert_field sources '{"provider":"SEMAPHORE","build":"SEMAPHORE_WORKFLOW_ID","worker":"SEMAPHORE_JOB_INDEX","workers":"SEMAPHORE_JOB_COUNT","seed":"SEMAPHORE_GIT_SHA","retry":"SEMAPHORE_PIPELINE_RERUN","branch":"SEMAPHORE_GIT_WORKING_BRANCH",'"$DEFAULT_SOURCES"'}'
	assert_equal "$stderr" "ciq-env: no queue: set CIQ_QUEUE, --queue or REDIS_URL"
}

@test "github: run attempt 2 is a retry; the run URL is composed; no parallel index" {
	use_env github
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field provider '"github"'
	assert_field queue null
	assert_field build '"9876543210"'
	assert_field worker null
	assert_field workers null
	assert_field seed '"a6b5c4d8d2c4e1f0a9b7c6d5e4f3a2b1c0d9e8f7"'
	assert_field retry true
	assert_field branch '"main"'
	assert_field build_url '"https://github.com/acme/app/actions/runs/9876543210"'
	assert_defaults
	assert_field sources '{"provider":"GITHUB_ACTIONS","build":"GITHUB_RUN_ID","seed":"GITHUB_SHA","retry":"GITHUB_RUN_ATTEMPT","branch":"GITHUB_REF_NAME","build_url":"${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}",'"$DEFAULT_SOURCES"'}'
	assert_equal "$stderr" 'ciq-env: no queue: set CIQ_QUEUE, --queue or REDIS_URL
ciq-env: no worker: set CIQ_WORKER or --worker (GitHub Actions has no parallel index: export CIQ_WORKER=${{ strategy.job-index }})'
}

@test "gitlab: 1-based CI_NODE_INDEX comes out 0-based" {
	use_env gitlab
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field provider '"gitlab"'
	assert_field queue null
	assert_field build '"1234567890"'
	assert_field worker '"1"'
	assert_field workers 4
	assert_field seed '"b5c4d8d2c4e1f0a9b7c6d5e4f3a2b1c0d9e8f7a6"'
	assert_field retry false
	assert_field branch '"main"'
	assert_field build_url '"https://gitlab.com/acme/app/-/pipelines/1234567890"'
	assert_defaults
	assert_field sources '{"provider":"GITLAB_CI","build":"CI_PIPELINE_ID","worker":"CI_NODE_INDEX","workers":"CI_NODE_TOTAL","seed":"CI_COMMIT_SHA","retry":"GITLAB_CI","branch":"CI_COMMIT_REF_NAME","build_url":"CI_PIPELINE_URL",'"$DEFAULT_SOURCES"'}'
	assert_equal "$stderr" "ciq-env: no queue: set CIQ_QUEUE, --queue or REDIS_URL"
}

@test "bitbucket: 0-based parallel step, first run of the step" {
	use_env bitbucket
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field provider '"bitbucket"'
	assert_field queue null
	assert_field build '"321"'
	assert_field worker '"3"'
	assert_field workers 4
	assert_field seed '"c4d8d2c4e1f0a9b7c6d5e4f3a2b1c0d9e8f7a6b5"'
	assert_field retry false
	assert_field branch '"main"'
	assert_field build_url null
	assert_defaults
	assert_field sources '{"provider":"BITBUCKET_BUILD_NUMBER","build":"BITBUCKET_BUILD_NUMBER","worker":"BITBUCKET_PARALLEL_STEP","workers":"BITBUCKET_PARALLEL_STEP_COUNT","seed":"BITBUCKET_COMMIT","retry":"BITBUCKET_STEP_RUN_NUMBER","branch":"BITBUCKET_BRANCH",'"$DEFAULT_SOURCES"'}'
	assert_equal "$stderr" "ciq-env: no queue: set CIQ_QUEUE, --queue or REDIS_URL"
}

@test "azure: TF_BUILD=True, 1-based job position, job attempt 2 is a retry" {
	use_env azure
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field provider '"azure"'
	assert_field queue null
	assert_field build '"4711"'
	assert_field worker '"3"'
	assert_field workers 4
	assert_field seed '"d8d2c4e1f0a9b7c6d5e4f3a2b1c0d9e8f7a6b5c4"'
	assert_field retry true
	assert_field branch '"login"'
	assert_field build_url '"https://dev.azure.com/acme/app/_build/results?buildId=4711"'
	assert_defaults
	assert_field sources '{"provider":"TF_BUILD","build":"BUILD_BUILDID","worker":"SYSTEM_JOBPOSITIONINPHASE","workers":"SYSTEM_TOTALJOBSINPHASE","seed":"BUILD_SOURCEVERSION","retry":"SYSTEM_JOBATTEMPT","branch":"BUILD_SOURCEBRANCHNAME","build_url":"${SYSTEM_TEAMFOUNDATIONSERVERURI}${SYSTEM_TEAMPROJECT}/_build/results?buildId=${BUILD_BUILDID}",'"$DEFAULT_SOURCES"'}'
	assert_equal "$stderr" "ciq-env: no queue: set CIQ_QUEUE, --queue or REDIS_URL"
}

@test "jenkins: BUILD_TAG is the build; EXECUTOR_NUMBER is no parallel index" {
	use_env jenkins
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field provider '"jenkins"'
	assert_field queue null
	assert_field build '"jenkins-app-main-57"'
	assert_field worker null
	assert_field workers null
	assert_field seed '"e1f0a9b7c6d5e4f3a2b1c0d9e8f7a6b5c4d8d2c4"'
	assert_field retry false
	assert_field branch '"main"'
	assert_field build_url '"https://ci.acme.example/job/app/job/main/57/"'
	assert_defaults
	assert_field sources '{"provider":"JENKINS_URL","build":"BUILD_TAG","seed":"GIT_COMMIT","retry":"JENKINS_URL","branch":"BRANCH_NAME","build_url":"BUILD_URL",'"$DEFAULT_SOURCES"'}'
	assert_equal "$stderr" "ciq-env: no queue: set CIQ_QUEUE, --queue or REDIS_URL
ciq-env: no worker: set CIQ_WORKER or --worker (Jenkins has no parallel index: set it in each parallel branch or matrix cell)"
}

# ---------------------------------------------------------------------------
# Provider details

@test "buildkite: a symbolic HEAD commit gives way to BUILDKITE_COMMIT_RESOLVED" {
	use_env buildkite BUILDKITE_COMMIT=HEAD BUILDKITE_COMMIT_RESOLVED=0123456789abcdef0123456789abcdef01234567
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field seed '"0123456789abcdef0123456789abcdef01234567"'
	assert_equal "$(jq -r .sources.seed <<<"$output")" BUILDKITE_COMMIT_RESOLVED
}

@test "buildkite: a symbolic HEAD commit and nothing resolved: the seed is the build id" {
	use_env buildkite BUILDKITE_COMMIT=HEAD
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field seed '"01890b4e-7a3c-4c8e-9d6f-2f1e8a9b0c1d"'
	assert_equal "$(jq -r .sources.seed <<<"$output")" BUILDKITE_BUILD_ID
}

@test "buildkite: a retried job is a retry" {
	use_env buildkite BUILDKITE_RETRY_COUNT=1
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field retry true
}

@test "the same CI_NODE_INDEX is 0-based on Heroku CI and 1-based on GitLab" {
	use_env heroku CI_NODE_INDEX=3
	run -0 ciq_env --json
	assert_field worker '"3"'
	use_env gitlab CI_NODE_INDEX=3
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field worker '"2"'
}

@test "a 1-based index of 0 is left unset and the message says why" {
	use_env gitlab CI_NODE_INDEX=0 CIQ_QUEUE=redis://localhost
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field worker null
	assert_equal "$stderr" "ciq-env: no worker: set CIQ_WORKER or --worker (CI_NODE_INDEX='0' is not a 1-based index)"
}

@test "an index that is not a number is left unset" {
	use_env buildkite BUILDKITE_PARALLEL_JOB=-1 CIQ_QUEUE=redis://localhost
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field worker null
	assert_equal "$stderr" "ciq-env: no worker: set CIQ_WORKER or --worker (BUILDKITE_PARALLEL_JOB='-1' is not a 0-based index)"
}

@test "a job without parallelism names the variable the provider did not set" {
	use_env circleci CIRCLE_NODE_INDEX CIRCLE_NODE_TOTAL CIQ_QUEUE=redis://localhost
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field worker null
	assert_field workers null
	assert_equal "$stderr" "ciq-env: no worker: set CIQ_WORKER or --worker (CircleCI did not set CIRCLE_NODE_INDEX)"
}

@test "semaphore Classic (no workflow id) is not Semaphore 2" {
	use_env semaphore SEMAPHORE_WORKFLOW_ID
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field provider null
	assert_field worker null
}

@test "TF_BUILD is compared without regard to case" {
	use_env azure TF_BUILD=true
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field provider '"azure"'
	use_env azure TF_BUILD=False
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field provider null
}

# ---------------------------------------------------------------------------
# Precedence

@test "flags override CIQ_* variables, which override the provider" {
	use_env circleci CIQ_QUEUE=redis://localhost CIQ_BUILD=from-env CIQ_WORKER=7
	run -0 --separate-stderr ciq_env --worker 9 --json
	assert_field build '"from-env"'
	assert_field worker '"9"'
	assert_field workers 4
	assert_equal "$(jq -c '.sources | [.build, .worker, .workers]' <<<"$output")" '["CIQ_BUILD","--worker","CIRCLE_NODE_TOTAL"]'
	assert_equal "$stderr" ""
}

@test "plain output names each value's source" {
	use_env circleci CIQ_QUEUE=redis://localhost CIQ_BUILD=from-env
	run -0 --separate-stderr ciq_env --worker 9 --seed 'a b'
	assert_output "CIQ_PROVIDER=circleci  # CIRCLECI
CIQ_QUEUE=redis://localhost  # CIQ_QUEUE
CIQ_BUILD=from-env  # CIQ_BUILD
CIQ_WORKER=9  # --worker
CIQ_WORKERS=4  # CIRCLE_NODE_TOTAL
CIQ_SEED='a b'  # --seed
CIQ_NAMESPACE=''  # default
CIQ_RETRY=false  # CIRCLECI
CIQ_BRANCH=feature/login  # CIRCLE_BRANCH
CIQ_BUILD_URL=https://circleci.com/gh/acme/app/2718  # CIRCLE_BUILD_URL
CIQ_TIMEOUT=30  # default
CIQ_INIT_TIMEOUT=60  # default
CIQ_REPORT_TIMEOUT=3600  # default
CIQ_INACTIVE_TIMEOUT=300  # default
CIQ_MAX_REQUEUES=0  # default
CIQ_REQUEUE_TOLERANCE=0  # default
CIQ_TTL=28800  # default
CIQ_ORDER=timing  # default
CIQ_CONNECT_TIMEOUT=5  # default
CIQ_COMMAND_TIMEOUT=10  # default
CIQ_RECONNECT_TIMEOUT=30  # default
CIQ_HEARTBEAT=1  # default
CIQ_TIMING_TTL=1209600  # default
CIQ_MAX_FAILURES=0  # default
CIQ_MAX_CONSECUTIVE_FAILURES=0  # default
CIQ_MAX_DURATION=0  # default"
	assert_equal "$stderr" ""
}

@test "numbers in --json are numbers, as given" {
	use_env heroku
	run -0 ciq_env --json --timeout 1.5 --ttl 60 --max-requeues 2 --requeue-tolerance 0.05 --workers 8
	assert_field timeout 1.5
	assert_field ttl 60
	assert_field max_requeues 2
	assert_field requeue_tolerance 0.05
	assert_field workers 8
}

# ---------------------------------------------------------------------------
# Outside CI, invalid values

@test "outside CI: prints the defaults, exits 1 and names the variables to set" {
	use_env
	run -"$CIQ_EX_NO" --separate-stderr ciq_env
	assert_output "CIQ_NAMESPACE=''  # default
CIQ_RETRY=false  # default
CIQ_TIMEOUT=30  # default
CIQ_INIT_TIMEOUT=60  # default
CIQ_REPORT_TIMEOUT=3600  # default
CIQ_INACTIVE_TIMEOUT=300  # default
CIQ_MAX_REQUEUES=0  # default
CIQ_REQUEUE_TOLERANCE=0  # default
CIQ_TTL=28800  # default
CIQ_ORDER=timing  # default
CIQ_CONNECT_TIMEOUT=5  # default
CIQ_COMMAND_TIMEOUT=10  # default
CIQ_RECONNECT_TIMEOUT=30  # default
CIQ_HEARTBEAT=1  # default
CIQ_TIMING_TTL=1209600  # default
CIQ_MAX_FAILURES=0  # default
CIQ_MAX_CONSECUTIVE_FAILURES=0  # default
CIQ_MAX_DURATION=0  # default"
	assert_equal "$stderr" "ciq-env: no queue: set CIQ_QUEUE, --queue or REDIS_URL
ciq-env: no build: set CIQ_BUILD or --build (no CI provider detected)
ciq-env: no worker: set CIQ_WORKER or --worker (no CI provider detected)"
}

@test "outside CI: --json says null for what is unknown" {
	use_env
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json
	assert_field provider null
	assert_field queue null
	assert_field build null
	assert_field worker null
	assert_field workers null
	assert_field seed null
	assert_field retry false
	assert_field branch null
	assert_field build_url null
	assert_defaults
	assert_field sources '{"namespace":"default","retry":"default","timeout":"default","init_timeout":"default","max_requeues":"default","requeue_tolerance":"default","ttl":"default","order":"default"}'
}

@test "outside CI: flags alone make a complete setup, and the seed is the build" {
	use_env
	run -0 --separate-stderr ciq_env --json --queue unix:///tmp/r.sock --build b1 --worker w1
	assert_field build '"b1"'
	assert_field worker '"w1"'
	assert_field seed '"b1"'
	assert_equal "$(jq -r .sources.seed <<<"$output")" --build
	assert_equal "$stderr" ""
}

@test "invalid values exit 78, one line per problem, naming the variable or flag" {
	use_env heroku CIQ_TIMEOUT=soon
	run -"$CIQ_EX_CONFIG" --separate-stderr ciq_env --json --workers -3 --retry yes
	assert_field timeout null
	assert_field workers null
	assert_field retry null
	assert_equal "$stderr" "ciq-env: invalid --workers '-3': expected a whole number
ciq-env: invalid --retry 'yes': expected true or false
ciq-env: invalid CIQ_TIMEOUT 'soon': expected seconds"
}

@test "an invalid value wins over a missing one: exit 78" {
	use_env
	run -"$CIQ_EX_CONFIG" --separate-stderr ciq_env --check --build 'has space' --worker 0
	assert_output ""
	assert_equal "$stderr" "ciq-env: no queue: set CIQ_QUEUE, --queue or REDIS_URL
ciq-env: invalid --build 'has space': expected printable ASCII without spaces or braces"
}

@test "a queue URL that does not parse exits 78 without showing the password" {
	use_env heroku REDIS_URL=http://:hunter2@example.com
	run -"$CIQ_EX_CONFIG" --separate-stderr ciq_env --check
	assert_output ""
	assert_equal "$stderr" "ciq-env: invalid REDIS_URL 'http://:***@example.com': unknown scheme: expected redis://, rediss:// or unix://"
}

@test "--check prints nothing and exits 0 when the setup is complete" {
	use_env heroku
	run -0 --separate-stderr ciq_env --check
	assert_output ""
	assert_equal "$stderr" ""
}

# ---------------------------------------------------------------------------
# --export, secrets, JSON strings

@test "--export output evaluated in a subshell gives back the values" {
	use_env gitlab CIQ_QUEUE=redis://localhost:6380/2
	run -0 --separate-stderr ciq_env --export --seed "it's \$HOME \"quoted\" *"
	assert_equal "$stderr" ""
	local script=$output
	run -0 env -i bash -c "$script"'
		printf "%s|" "$CIQ_PROVIDER" "$CIQ_QUEUE" "$CIQ_BUILD" "$CIQ_WORKER" \
		    "$CIQ_WORKERS" "$CIQ_SEED" "$CIQ_NAMESPACE" "$CIQ_RETRY" "$CIQ_TTL"'
	assert_output "gitlab|redis://localhost:6380/2|1234567890|1|4|it's \$HOME \"quoted\" *||false|28800|"
}

@test "--export prints one export statement per value, single-quoted" {
	use_env
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --export --build "a'b" --ttl 60
	assert_output "export CIQ_BUILD='a'\\''b'
export CIQ_SEED='a'\\''b'
export CIQ_NAMESPACE=''
export CIQ_RETRY='false'
export CIQ_TIMEOUT='30'
export CIQ_INIT_TIMEOUT='60'
export CIQ_REPORT_TIMEOUT='3600'
export CIQ_INACTIVE_TIMEOUT='300'
export CIQ_MAX_REQUEUES='0'
export CIQ_REQUEUE_TOLERANCE='0'
export CIQ_TTL='60'
export CIQ_ORDER='timing'
export CIQ_CONNECT_TIMEOUT='5'
export CIQ_COMMAND_TIMEOUT='10'
export CIQ_RECONNECT_TIMEOUT='30'
export CIQ_HEARTBEAT='1'
export CIQ_TIMING_TTL='1209600'
export CIQ_MAX_FAILURES='0'
export CIQ_MAX_CONSECUTIVE_FAILURES='0'
export CIQ_MAX_DURATION='0'"
	assert_equal "$stderr" "ciq-env: no queue: set CIQ_QUEUE, --queue or REDIS_URL
ciq-env: no worker: set CIQ_WORKER or --worker (no CI provider detected)"
}

@test "a password in the queue URL is shown as *** and never exported" {
	use_env heroku CIQ_PASSWORD=hunter2
	run -0 --separate-stderr ciq_env
	assert_line --index 1 "CIQ_QUEUE='rediss://:***@ec2-3-218-100-42.compute-1.amazonaws.com:12345'  # REDIS_URL"
	assert_line "CIQ_PASSWORD='***'  # CIQ_PASSWORD"
	refute_output --partial p4ssw0rd
	refute_output --partial hunter2
	run -0 --separate-stderr ciq_env --export
	assert_line --index 1 "# CIQ_QUEUE is not exported: it holds a password"
	assert_line "# CIQ_PASSWORD is not exported: it holds a password"
	refute_output --partial p4ssw0rd
	refute_output --partial hunter2
	run -0 --separate-stderr ciq_env --json
	assert_field queue '"rediss://:***@ec2-3-218-100-42.compute-1.amazonaws.com:12345"'
	refute_output --partial p4ssw0rd
	refute_output --partial hunter2
}

@test "a password in the query of the URL is hidden too" {
	use_env heroku REDIS_URL='redis://host?password=hunter2&db=1'
	run -0 --separate-stderr ciq_env --json
	assert_field queue '"redis://host?password=***&db=1"'
	refute_output --partial hunter2
}

@test "--json escapes control characters and passes UTF-8 through" {
	use_env
	run -"$CIQ_EX_NO" --separate-stderr ciq_env --json --seed $'tab\there "q" back\\slash \x01 caf\xc3\xa9'
	assert_output --partial '"seed":"tab\there \"q\" back\\slash \u0001 café"'
	assert_equal "$(jq -r .seed <<<"$output")" $'tab\there "q" back\\slash \x01 caf\xc3\xa9'
}

# ---------------------------------------------------------------------------
# Usage

@test "--help prints the usage on stdout and exits 0" {
	run -0 --separate-stderr "$CIQ_BIN/ciq-env" --help
	assert_output "usage: ciq-env [--export | --json] [--check] [options]
  -e, --export         print export lines for eval
  -j, --json           print one JSON object
  -c, --check          print nothing on stdout, only set the exit status
  -h, --help           print this and exit; --version prints the version
  --queue URL  --build ID  --worker ID  --workers N  --seed SEED
  --namespace NS  --retry true|false  --order random|timing|given
  --timeout S  --init-timeout S  --report-timeout S  --inactive-timeout S
  --max-requeues N  --requeue-tolerance R  --ttl S  --timing-ttl S
  --connect-timeout S  --command-timeout S  --reconnect-timeout S
  --heartbeat S  --max-failures N  --max-consecutive-failures K"
	assert_equal "$stderr" ""
}

@test "--version prints the name and version" {
	run -0 --separate-stderr "$CIQ_BIN/ciq-env" --version
	assert_output --regexp '^ciq-env [0-9]+\.[0-9]+\.[0-9]+'
	assert_equal "${#lines[@]}" 1
	assert_equal "$stderr" ""
}

@test "an unknown option exits 64 with the usage on stderr" {
	local usage
	usage=$("$CIQ_BIN/ciq-env" --help)
	run -"$CIQ_EX_USAGE" --separate-stderr ciq_env --bogus
	assert_output ""
	assert_equal "$stderr" "ciq-env: unrecognized option '--bogus'
$usage"
}

@test "an argument exits 64" {
	local usage
	usage=$("$CIQ_BIN/ciq-env" --help)
	run -"$CIQ_EX_USAGE" --separate-stderr "$CIQ_BIN/ciq-env" extra
	assert_output ""
	assert_equal "$stderr" "ciq-env: unexpected argument 'extra'
$usage"
}

@test "--export and --json together exit 64" {
	local usage
	usage=$("$CIQ_BIN/ciq-env" --help)
	run -"$CIQ_EX_USAGE" --separate-stderr "$CIQ_BIN/ciq-env" --export --json
	assert_output ""
	assert_equal "$stderr" "ciq-env: --export and --json exclude each other
$usage"
}

@test "an option without its value exits 64" {
	local usage
	usage=$("$CIQ_BIN/ciq-env" --help)
	run -"$CIQ_EX_USAGE" --separate-stderr ciq_env --queue
	assert_output ""
	assert_equal "$stderr" "ciq-env: option '--queue' requires an argument
$usage"
}

@test "an unknown short option exits 64" {
	local usage
	usage=$("$CIQ_BIN/ciq-env" --help)
	run -"$CIQ_EX_USAGE" --separate-stderr ciq_env -cx
	assert_output ""
	assert_equal "$stderr" "ciq-env: invalid option -- 'x'
$usage"
}

# ---------------------------------------------------------------------------
# Numbers: one form for every setting (lib/number.h)

# invalid VAR VALUE MESSAGE: ciq-env with VAR=VALUE exits 78 saying MESSAGE.
invalid() {
	use_env heroku "$1=$2"
	run -"$CIQ_EX_CONFIG" --separate-stderr ciq_env --check
	assert_output ""
	assert_equal "$stderr" "ciq-env: invalid $1 '$2': expected $3"
}

# valid VAR VALUE FIELD JSON: ciq-env with VAR=VALUE is fine, FIELD is JSON.
valid() {
	use_env heroku "$1=$2"
	run -0 --separate-stderr ciq_env --json
	assert_equal "$stderr" ""
	[ -z "$3" ] || assert_field "$3" "$4"
}

@test "seconds are digits with an optional fraction: no hex, sign, space, exponent, inf or nan" {
	local v
	for v in 0x10 " 5" "5 " " " -1 +1 1e3 1E3 inf nan infinity 1. .5 05 0.5.1 1,5 ５; do
		invalid CIQ_TIMEOUT "$v" seconds
		invalid CIQ_HEARTBEAT "$v" seconds
	done
}

@test "a timeout of 0 is refused: every pop would take every running test" {
	local var
	for var in CIQ_TIMEOUT CIQ_INIT_TIMEOUT CIQ_REPORT_TIMEOUT CIQ_INACTIVE_TIMEOUT \
		CIQ_CONNECT_TIMEOUT CIQ_COMMAND_TIMEOUT CIQ_RECONNECT_TIMEOUT; do
		invalid "$var" 0 "seconds above 0, at most 10000000"
		invalid "$var" 0.000 "seconds above 0, at most 10000000"
	done
	use_env heroku
	run -"$CIQ_EX_CONFIG" --separate-stderr ciq_env --check --timeout 0
	assert_equal "$stderr" "ciq-env: invalid --timeout '0': expected seconds above 0, at most 10000000"
}

@test "fractions of a second are accepted to the millisecond" {
	valid CIQ_TIMEOUT 0.5 timeout 0.5
	valid CIQ_TIMEOUT 0.001 timeout 0.001
	valid CIQ_INIT_TIMEOUT 2.250 init_timeout 2.25
	invalid CIQ_TIMEOUT 0.0005 "seconds with at most 3 decimals"
	invalid CIQ_TIMEOUT 1.0001 "seconds with at most 3 decimals"
}

@test "0 keeps its meaning where it has one: no heartbeat, no requeues, never stop" {
	valid CIQ_HEARTBEAT 0
	valid CIQ_MAX_REQUEUES 0 max_requeues 0
	valid CIQ_MAX_FAILURES 0
	valid CIQ_MAX_CONSECUTIVE_FAILURES 0
	valid CIQ_MAX_DURATION 0
	valid CIQ_REQUEUE_TOLERANCE 0 requeue_tolerance 0
	invalid CIQ_TTL 0 "whole seconds from 1 to 1000000000"
	invalid CIQ_TIMING_TTL 0 "whole seconds from 1 to 1000000000"
}

@test "huge numbers are refused with the maximum, never wrapped" {
	invalid CIQ_TIMEOUT 10000001 "seconds above 0, at most 10000000"
	invalid CIQ_HEARTBEAT 99999999999999999999999999 "seconds from 0 to 10000000"
	invalid CIQ_MAX_REQUEUES 1000000001 "a whole number from 0 to 1000000000"
	invalid CIQ_MAX_FAILURES 99999999999999999999999999 "a whole number from 0 to 1000000000"
	invalid CIQ_TTL 1000000001 "whole seconds from 1 to 1000000000"
	valid CIQ_TIMEOUT 10000000 timeout 10000000
	valid CIQ_MAX_REQUEUES 1000000000 max_requeues 1000000000
}

@test "whole numbers take no point, sign, space or leading zero" {
	local v
	for v in 1.5 1.0 -1 +1 " 1" "1 " 0x10 1e3 01; do
		invalid CIQ_MAX_REQUEUES "$v" "a whole number"
	done
	for v in 1.5 -1 " 60" 1e3 060; do
		invalid CIQ_TTL "$v" "whole seconds from 1 to 1000000000"
	done
}

@test "ratios are from 0 to 1, to the millionth" {
	valid CIQ_REQUEUE_TOLERANCE 1 requeue_tolerance 1
	valid CIQ_REQUEUE_TOLERANCE 0.000001 requeue_tolerance 0.000001
	invalid CIQ_REQUEUE_TOLERANCE 1.000001 "a number from 0 to 1"
	invalid CIQ_REQUEUE_TOLERANCE 0x1 "a number from 0 to 1"
	invalid CIQ_REQUEUE_TOLERANCE " 0.5" "a number from 0 to 1"
	invalid CIQ_REQUEUE_TOLERANCE 1e-1 "a number from 0 to 1"
	invalid CIQ_REQUEUE_TOLERANCE 0.0000001 "a number from 0 to 1 with at most 6 decimals"
}
