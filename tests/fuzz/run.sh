#!/bin/sh
# run.sh - build and run the libFuzzer harnesses in tests/fuzz/.
#
#   sh tests/fuzz/run.sh build              build build-fuzz/fuzz_* if out of date
#   sh tests/fuzz/run.sh fuzz [SECONDS]     build, then fuzz each target SECONDS
#                                           (default 20) from a temporary copy of
#                                           its seed corpus; fail on any crash
#   sh tests/fuzz/run.sh replay TARGET      build, then run TARGET once on every
#                                           file of its seed corpus
#
# Targets: idlist (lib/idlist.c), url (lib/url.c), provider (lib/conf.c and
# lib/provider.c), json (lib/json.c), junitxml (lib/junitxml.c and
# lib/cases.c), compress (lib/compress.c); the seed corpus of each is
# tests/fuzz/corpus/TARGET/. Fuzzing never writes into tests/: new inputs
# go to a temporary directory, and a crashing input is saved as
# build-fuzz/crashes/TARGET-crash-SHA1. To keep it, copy it into the
# target's corpus: the replay in tests/fuzz.bats then runs it every time.
#
# Needs clang with libFuzzer (Debian: clang and libclang-rt-14-dev);
# FUZZ_CC names another clang. Exit status: 0 no crash, 1 a crash or a
# failed build, 2 bad usage, 3 clang or libFuzzer missing.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
out=build-fuzz
cc=${FUZZ_CC:-clang}
targets="idlist url provider json junitxml compress"
# Every target links the same few modules: none of them needs Redis.
libsrc="alloc readfile cases compress conf idlist json junitxml number prng provider sha256 url utf8"

die() {
	echo "fuzz: $*" >&2
	exit "${code:-1}"
}

have_toolchain() {
	command -v "$cc" >/dev/null 2>&1 ||
		code=3 die "no '$cc': install the Debian packages clang and libclang-rt-14-dev"
	mkdir -p "$out" || die "cannot create $out/"
	printf '%s\n' 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);' \
		'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' |
		"$cc" -fsanitize=fuzzer -x c -o "$out/.probe" - >/dev/null 2>&1 ||
		code=3 die "'$cc' cannot link -fsanitize=fuzzer: install libclang-rt-14-dev (libFuzzer)"
	rm -f "$out/.probe"
}

# Names of the variables of lib/provider.c and lib/conf.c, as NAME=
# dictionary entries, so the fuzzer need not guess them letter by letter.
provider_dict() {
	grep -ho '"[^"]*"' lib/provider.c lib/conf.c | grep -o '[A-Z][A-Z0-9_]\{3,\}' |
		sort -u | sed 's/.*/"&="/'
	cat <<-'EOF'
	"true"
	"True"
	"false"
	"HEAD"
	"0"
	"1"
	"="
	"${"
	"\x0a"
	EOF
}

up_to_date() {
	[ -f "$out/.stamp" ] || return 1
	for t in $targets; do
		[ -x "$out/fuzz_$t" ] || return 1
	done
	[ -z "$(find lib tests/fuzz -newer "$out/.stamp" \
		\( -name '*.[ch]' -o -name '*.sh' -o -name '*.dict' \) | head -n 1)" ]
}

build() {
	up_to_date && return 0
	have_toolchain
	# A private directory, then a rename: two builds at once do not mix.
	tmp=$(mktemp -d "$out/tmp.XXXXXX") || die "cannot create a directory in $out/"
	# Stamped before compiling: a source changed meanwhile is rebuilt next time.
	touch "$tmp/.stamp"
	san="-fsanitize=address,undefined -fno-sanitize-recover=all"
	flags="-std=c11 -g -O1 -fno-omit-frame-pointer -Wall -Wextra -D_GNU_SOURCE -Ilib -I build"
	libs="-lm -lz"
	pids=""
	for m in $libsrc; do
		# shellcheck disable=SC2086
		"$cc" $flags $san -fsanitize=fuzzer-no-link -c -o "$tmp/$m.o" "lib/$m.c" &
		pids="$pids $!"
	done
	for t in $targets; do
		# shellcheck disable=SC2086
		"$cc" $flags $san -fsanitize=fuzzer -c -o "$tmp/fuzz_$t.o" "tests/fuzz/fuzz_$t.c" &
		pids="$pids $!"
	done
	failed=0
	for p in $pids; do
		wait "$p" || failed=1
	done
	[ "$failed" -eq 0 ] || { rm -rf "$tmp"; die "build failed"; }
	provider_dict >"$tmp/provider.dict"
	objs=""
	for m in $libsrc; do
		objs="$objs $tmp/$m.o"
	done
	for t in $targets; do
		# shellcheck disable=SC2086
		"$cc" $san -fsanitize=fuzzer -o "$tmp/fuzz_$t" "$tmp/fuzz_$t.o" $objs $libs ||
			{ rm -rf "$tmp"; die "cannot link fuzz_$t"; }
	done
	for f in provider.dict $(for t in $targets; do echo "fuzz_$t"; done) .stamp; do
		mv -f "$tmp/$f" "$out/$f"
	done
	rm -rf "$tmp"
}

# Options per target: dictionaries, and room for the longest id.
options() {
	case $1 in
	idlist) echo "-dict=tests/fuzz/idlist.dict -max_len=140000" ;;
	url) echo "-dict=tests/fuzz/url.dict" ;;
	junitxml) echo "-dict=tests/fuzz/junitxml.dict -max_len=65536" ;;
	provider) echo "-dict=$out/provider.dict" ;;
	json) echo "" ;;
	compress) echo "-max_len=70000" ;;
	esac
}

fuzz() {
	secs=$1
	build
	mkdir -p "$out/crashes"
	work=$(mktemp -d /tmp/ciq-fuzz.XXXXXX) || die "cannot create a temporary directory"
	crashed=""
	for t in $targets; do
		cp -R "tests/fuzz/corpus/$t" "$work/$t"
		n0=$(find "$work/$t" -type f | wc -l)
		echo "fuzz: fuzz_$t for ${secs}s from $n0 seed inputs"
		# shellcheck disable=SC2046
		"$out/fuzz_$t" $(options "$t") -max_total_time="$secs" -timeout=10 \
			-print_final_stats=1 -artifact_prefix="$out/crashes/$t-" \
			"$work/$t" >"$work/$t.log" 2>&1
		rc=$?
		n1=$(find "$work/$t" -type f | wc -l)
		# The last status line has the coverage reached; Done has the runs.
		grep -E '^#[0-9]+.*cov: ' "$work/$t.log" | tail -n 1 | sed "s/^/fuzz: fuzz_$t: /"
		grep -E '^Done [0-9]+ runs|^stat::number_of_executed_units|^stat::peak_rss_mb' \
			"$work/$t.log" | sed "s/^/fuzz: fuzz_$t: /"
		echo "fuzz: fuzz_$t: corpus $n0 -> $n1 inputs (the new ones are not kept)"
		if [ "$rc" -ne 0 ]; then
			crashed="$crashed $t"
			echo "fuzz: fuzz_$t FAILED (exit $rc):"
			tail -n 60 "$work/$t.log"
		fi
	done
	rm -rf "$work"
	if [ -n "$crashed" ]; then
		echo "fuzz: crashed:$crashed; inputs in $out/crashes/ (copy each into" \
			"tests/fuzz/corpus/TARGET/ as a regression test)"
		exit 1
	fi
	echo "fuzz: no crash in $targets"
}

# build loops over $t: the target gets a name of its own.
replay() {
	target=$1
	[ -d "tests/fuzz/corpus/$target" ] || code=2 die "no target '$target'"
	build
	# Files, not the directory: libFuzzer runs each once and writes nothing.
	# shellcheck disable=SC2046
	"$out/fuzz_$target" -timeout=10 $(find "tests/fuzz/corpus/$target" -type f | sort)
}

case ${1:-} in
build) build ;;
fuzz) fuzz "${2:-20}" ;;
replay) [ $# -eq 2 ] || code=2 die "usage: run.sh replay TARGET"; replay "$2" ;;
*) code=2 die "usage: run.sh build | fuzz [SECONDS] | replay TARGET" ;;
esac
