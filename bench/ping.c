/*
 * ping.c - B1's second floor: the least a tool that talks to the server
 * can do. Connect to the unix socket of CIQ_QUEUE (unix://PATH), send one
 * PING, read the answer, exit 0; without arguments (in place of ciq-pop)
 * print a line first, as ciq-pop prints an id. The benchmark puts it in
 * place of each tool in the worker loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	const char *url = getenv("CIQ_QUEUE");
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char buf[64];
	int fd;

	if (url == NULL || strncmp(url, "unix://", 7) != 0 ||
	    strlen(url + 7) >= sizeof a.sun_path)
		return 64;
	strcpy(a.sun_path, url + 7);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&a, sizeof a) == -1 ||
	    write(fd, "PING\r\n", 6) != 6 || read(fd, buf, sizeof buf) <= 0)
		return 69;
	(void)argv;
	if (argc == 1)
		puts("pong");
	return 0;
}
