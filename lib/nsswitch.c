/*
 * nsswitch.c - read the "hosts" line of nsswitch.conf.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "nsswitch.h"

/* Whether the sources after "hosts:" are files and dns only; actions
 * such as [NOTFOUND=return] are not sources. */
static int
builtin_sources(const char *p)
{
	while (*p != '\0') {
		size_t n;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '[') {
			p += strcspn(p, "]");
			p += *p == ']';
			continue;
		}
		n = strcspn(p, " \t\r\n[#");
		if (n == 0)
			break;
		if (!(n == 5 && strncmp(p, "files", 5) == 0) && !(n == 3 && strncmp(p, "dns", 3) == 0))
			return 0;
		p += n;
	}
	return 1;
}

int
ciq_nsswitch_builtin_hosts(const char *path)
{
	FILE *f = fopen(path, "re");
	char line[1024], *p;
	int builtin = 1;

	if (f == NULL)
		return 1;
	while (fgets(line, sizeof line, f) != NULL) {
		p = line;
		while (isspace((unsigned char)*p))
			p++;
		/* Any "hosts" line with another source counts, whichever
		 * of several lines glibc would use. */
		if (strncmp(p, "hosts", 5) == 0 && (p[5] == ':' ||
		    (isspace((unsigned char)p[5]) && strchr(p, ':') != NULL))) {
			p = strchr(p, ':') + 1;
			p[strcspn(p, "#")] = '\0';
			builtin &= builtin_sources(p);
		}
	}
	fclose(f);
	return builtin;
}
