/*
 * script.c - call the embedded Lua scripts by SHA1, loading on NOSCRIPT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "kept.h"
#include "prng.h"
#include "script.h"

#include "lua/elect.h"
#include "lua/publish.h"
#include "lua/join.h"
#include "lua/pop.h"
#include "lua/ack.h"
#include "lua/next.h"
#include "lua/requeue.h"
#include "lua/release.h"
#include "lua/status.h"
#include "lua/retry.h"
#include "lua/heartbeat.h"
#include "lua/timing.h"
#include "lua/seen.h"
#include "lua/prune.h"
#include "lua/acl.h"
#include "lua/commands.h"

struct script {
	const char *source;
	const char *sha;
	const char *const *keys;
};

#define SCRIPT(n) { ciq_lua_##n, ciq_lua_##n##_sha, ciq_lua_##n##_keys }

static const struct script scripts[CIQ_S_COUNT] = {
	[CIQ_S_ELECT] = SCRIPT(elect),
	[CIQ_S_PUBLISH] = SCRIPT(publish),
	[CIQ_S_JOIN] = SCRIPT(join),
	[CIQ_S_POP] = SCRIPT(pop),
	[CIQ_S_ACK] = SCRIPT(ack),
	[CIQ_S_NEXT] = SCRIPT(next),
	[CIQ_S_REQUEUE] = SCRIPT(requeue),
	[CIQ_S_RELEASE] = SCRIPT(release),
	[CIQ_S_STATUS] = SCRIPT(status),
	[CIQ_S_RETRY] = SCRIPT(retry),
	[CIQ_S_HEARTBEAT] = SCRIPT(heartbeat),
	[CIQ_S_TIMING] = SCRIPT(timing),
	[CIQ_S_SEEN] = SCRIPT(seen),
	[CIQ_S_PRUNE] = SCRIPT(prune),
	[CIQ_S_ACL] = SCRIPT(acl),
};

/*
 * EVALSHA the script with its keys, then pre[0..npre) and argv[0..argc)
 * as ARGV; again as EVAL (which also caches the script) when the server
 * does not know the SHA. A kept reply is made an array (kept.h).
 */
static redisReply *
eval(struct ciq_conn *c, const struct script *sc, int nkeys, const char *const *keys,
    int npre, const char *const *pre, int argc, const char *const *argv, const size_t *lens)
{
	int total = 3 + nkeys + npre + argc, n = 0;
	const char **av = ciq_calloc((size_t)total, sizeof *av);
	size_t *al = ciq_calloc((size_t)total, sizeof *al);
	char nkeys_s[16];
	redisReply *r;

	snprintf(nkeys_s, sizeof nkeys_s, "%d", nkeys);
	av[n++] = "EVALSHA";
	av[n++] = sc->sha;
	av[n++] = nkeys_s;
	for (int i = 0; i < nkeys; i++)
		av[n++] = keys[i];
	for (int i = 0; i < npre; i++)
		av[n++] = pre[i];
	for (int i = 0; i < n; i++)
		al[i] = strlen(av[i]);
	for (int i = 0; i < argc; i++, n++) {
		av[n] = argv[i];
		al[n] = lens != NULL ? lens[i] : strlen(argv[i]);
	}
	r = ciq_conn_command(c, CIQ_REPEAT, total, av, al);
	if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
		/* The server lost or never had the script: EVAL sends and caches it. */
		freeReplyObject(r);
		av[0] = "EVAL";
		av[1] = sc->source;
		al[0] = 4;
		al[1] = strlen(sc->source);
		r = ciq_conn_command(c, CIQ_REPEAT, total, av, al);
	}
	free(av);
	free(al);
	if (r != NULL && r->type == REDIS_REPLY_STRING)
		r = ciq_kept_reply(r, sc == &scripts[CIQ_S_NEXT]);
	return r;
}

redisReply *
ciq_script_run_keys(struct ciq_conn *c, enum ciq_script s, int nkeys, const char **keys,
    int argc, const char **argv, const size_t *lens)
{
	return eval(c, &scripts[s], nkeys, keys, 0, NULL, argc, argv, lens);
}

redisReply *
ciq_script_run(struct ciq_conn *c, const struct ciq_keys *k, enum ciq_script s,
    const char *worker, int argc, const char **argv, const size_t *lens)
{
	static struct ciq_prng rng;
	static int seeded;
	const struct script *sc = &scripts[s];
	int nkeys = 0;
	char **keys, nonce[32];
	const char *pre[2];
	struct timespec ts;
	redisReply *r;

	if (!seeded) {
		ciq_prng_seed_entropy(&rng);
		seeded = 1;
	}
	while (sc->keys[nkeys] != NULL)
		nkeys++;
	keys = ciq_calloc((size_t)nkeys + 1, sizeof *keys);
	for (int i = 0; i < nkeys; i++) {
		size_t kl = strlen(sc->keys[i]);

		/* A name ending in ':' is per worker: "order:" becomes "order:3". */
		if (sc->keys[i][kl - 1] == ':') {
			char *name = ciq_malloc(kl + strlen(worker) + 1);

			sprintf(name, "%s%s", sc->keys[i], worker);
			keys[i] = ciq_key(k, name);
			free(name);
		} else {
			keys[i] = ciq_key(k, sc->keys[i]);
		}
	}
	/* The time first, in fixed width, so that the scripts can tell a
	 * late copy of an older call from a newer one (prelude.lua). */
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(nonce, sizeof nonce, "%016llx%08x",
	    (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000,
	    (unsigned)(ciq_prng_next(&rng) & 0xffffffffu));
	pre[0] = nonce;
	pre[1] = worker;
	r = eval(c, sc, nkeys, (const char *const *)keys, 2, pre, argc, argv, lens);
	for (int i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	return r;
}

void
ciq_script_refused(struct ciq_conn *c, char *out, size_t outlen)
{
	int n = 0;
	size_t len = 0;
	redisReply *r;

	while (ciq_lua_commands[n] != NULL)
		n++;
	out[0] = '\0';
	r = eval(c, &scripts[CIQ_S_ACL], 0, NULL, 0, NULL, n, ciq_lua_commands, NULL);
	for (size_t i = 0; r != NULL && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		const redisReply *e = r->element[i];
		int w;

		if (e->type != REDIS_REPLY_STRING)
			continue;
		w = snprintf(out + len, outlen - len, "%s%s", len > 0 ? ", " : "", e->str);
		if (w < 0 || (size_t)w >= outlen - len) {
			out[len] = '\0';
			break;
		}
		len += (size_t)w;
	}
	if (r != NULL)
		freeReplyObject(r);
}
