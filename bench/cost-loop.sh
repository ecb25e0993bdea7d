# cost-loop.sh - sourced by script-cost.sh and script-instr.sh: one
# worker takes and passes every test of the build, the way $how says:
#
#   pair    while t=$(ciq-pop); do ciq-ack -- "$t"; done
#   next    ciq-pop once, then ciq-ack --next: one tool and call a test
#   loop    one ciq-loop for the whole loop (bench/loop-driver.sh)
#   nK      ciq-pop -n K, then one ciq-ack of the K (batched)
case $how in
pair) while t=$(ciq-pop); do ciq-ack -- "$t"; done ;;
next) t=$(ciq-pop) && while t=$(ciq-ack --next -- "$t"); do :; done ;;
loop)
	# shellcheck source=bench/loop-driver.sh
	. "$here/loop-driver.sh"
	;;
n[0-9]*) while ciq-pop -n "${how#n}" >"$dir/ids"; do xargs ciq-ack -- <"$dir/ids"; done ;;
*) echo "$0: unknown loop '$how': pair, next, loop or nK" >&2; exit 64 ;;
esac
