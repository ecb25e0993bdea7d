/*
 * cli.c - shared main plumbing.
 */
#include <errno.h>
#include <stdio.h>

#include "cli.h"

int
ciq_cli_close_stdout(void)
{
	int bad = ferror(stdout);

	if (fclose(stdout) != 0 || bad) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}
