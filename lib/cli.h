/*
 * cli.h - what every ciq main does the same way: version and the final
 * check of stdout.
 */
#ifndef CIQ_CLI_H
#define CIQ_CLI_H

#include <stdio.h>

#ifndef CIQ_VERSION
#define CIQ_VERSION "0.0.0"
#endif

/*
 * Flush and close stdout, so a full disk or a closed pipe is not reported
 * as success. Returns 0, or -1 with errno set.
 */
int ciq_cli_close_stdout(void);

#endif
