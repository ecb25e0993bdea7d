/*
 * kept.h - a reply that a script kept, made the array it stands for.
 *
 * A script that remembers its reply for a repeated call (prelude.lua:
 * remember) sends it as it keeps it: one string, its strings joined by
 * NULs (none holds one). next.lua's starts with the number of ack.lua's
 * strings; pop.lua's come after them, a list of their own. A string
 * costs the server one reply entry where an array of strings costs one
 * each (bench/RESULTS.md, issue 16).
 */
#ifndef CIQ_KEPT_H
#define CIQ_KEPT_H

#include <hiredis/hiredis.h>

/*
 * The array that the string reply r stands for, its strings in order;
 * with nested (next.lua's), when its first string is a number of strings
 * that leaves one or more for pop.lua, the strings after that count, the
 * last element pop.lua's strings as an array (next.lua's other replies,
 * such as "stale", are flat). Written as RESP for hiredis to read, so the
 * caller frees it with freeReplyObject(); r is freed. (r is returned
 * itself only when hiredis cannot read what was written.)
 */
redisReply *ciq_kept_reply(redisReply *r, int nested);

#endif
