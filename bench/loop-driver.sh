# loop-driver.sh - sourced by sh: a worker loop that passes each test,
# through one ciq-loop (a coprocess on two fifos). A test is a no-op, or
# the command LOOP_TEST (words) with the id, when it is set (its status
# is not looked at).
d=$(mktemp -d)
mkfifo "$d/in" "$d/out"
ciq-loop <"$d/in" >"$d/out" &
exec 3>"$d/in" 4<"$d/out"
echo next >&3
# "ATTEMPT ORIGIN ID", then after each result its held line and the next.
while IFS= read -r line <&4; do
	t=${line#* } t=${t#* }
	# shellcheck disable=SC2086 # a command and its arguments
	[ -z "${LOOP_TEST:-}" ] || $LOOP_TEST "$t" 3>&- 4<&-
	printf 'pass\t\t%s\n' "$t" >&3
	IFS= read -r _ <&4 || break
done
exec 3>&- 4<&-
wait $! || [ $? -eq 1 ]
rm -rf "$d"
