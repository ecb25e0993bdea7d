/*
 * evalsha.c - call one script N times from one connection, as fast as the
 * server answers: bench/next-lua.sh's driver.
 *
 *   evalsha SOCKET SCRIPT N NKEYS KEY... ARG...
 *
 * Loads SCRIPT (a file), then sends EVALSHA with the keys and arguments
 * given. With FOLLOW=1 in the environment the script is next.lua: the
 * last argument is the test to record, and each reply's reserved test
 * (the second string of pop.lua's part of the kept reply) becomes the
 * next call's; it stops when nothing is reserved. Prints the calls made.
 */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
main(int argc, char **argv)
{
	static char src[1 << 20], nonce[40], id[512];
	redisContext *c;
	redisReply *r;
	FILE *f;
	size_t n, *len;
	const char **av;
	const char *fl = getenv("FOLLOW");
	int calls, nkeys, total, done = 0, follow = fl != NULL && strcmp(fl, "1") == 0;

	if (argc < 5 || (f = fopen(argv[2], "r")) == NULL)
		return 64;
	n = fread(src, 1, sizeof src - 1, f);
	src[n] = '\0';
	calls = atoi(argv[3]);
	nkeys = atoi(argv[4]);
	if ((c = redisConnectUnix(argv[1])) == NULL || c->err)
		return 69;
	r = redisCommand(c, "SCRIPT LOAD %s", src);
	if (r == NULL || r->type != REDIS_REPLY_STRING)
		return 70;
	total = argc - 5 + 3;
	av = calloc((size_t)total, sizeof *av);
	len = calloc((size_t)total, sizeof *len);
	av[0] = "EVALSHA";
	av[1] = strdup(r->str);
	av[2] = argv[4];
	freeReplyObject(r);
	for (int i = 5; i < argc; i++)
		av[i - 2] = argv[i];
	if (follow) {
		snprintf(id, sizeof id, "%s", argv[argc - 1]);
		av[total - 1] = id;
		av[3 + nkeys] = nonce;  /* the first argument is the nonce */
	}
	for (; done < calls; done++) {
		if (follow) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			snprintf(nonce, sizeof nonce, "%016llx%08x",
			    (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000,
			    (unsigned)done);
		}
		for (int i = 0; i < total; i++)
			len[i] = strlen(av[i]);
		if ((r = redisCommandArgv(c, total, av, len)) == NULL || r->type == REDIS_REPLY_ERROR) {
			fprintf(stderr, "evalsha: %s\n", r != NULL ? r->str : c->errstr);
			return 70;
		}
		if (follow) {
			/* As kept: "N", ack.lua's N strings, then pop.lua's, joined by NULs. */
			const char *p = NULL, *end = NULL;
			long skip = 0;

			if (r->type == REDIS_REPLY_STRING) {
				p = r->str;
				end = p + r->len;
				skip = strtol(p, NULL, 10) + 1;
			}
			while (p != NULL && skip-- > 0)
				p = (p = memchr(p, '\0', (size_t)(end - p))) != NULL ? p + 1 : NULL;
			if (p == NULL || strcmp(p, "ok") != 0 || p + 3 > end) {
				freeReplyObject(r);
				done++;
				break;
			}
			snprintf(id, sizeof id, "%s", p + 3);
		}
		freeReplyObject(r);
	}
	printf("%d\n", done);
	return 0;
}
