// SPDX-License-Identifier: GPL-2.0
/*
 * sockets: open N unconnected TCP sockets, then close them all; the
 * workload scripts/profile-close.sh traces.
 *
 *   sockets plain|wsclose N
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../selftests/helpers.h"

int main(int argc, char **argv)
{
	struct rlimit rl;
	int ws, n, i, err, *fds;

	if (argc != 3 || (strcmp(argv[1], "plain") && strcmp(argv[1], "wsclose")) ||
	    (n = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: sockets plain|wsclose N\n");
		return 2;
	}
	ws = !strcmp(argv[1], "wsclose");
	rl.rlim_cur = rl.rlim_max = n + 100;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		perror("RLIMIT_NOFILE");
	fds = calloc(n, sizeof(*fds));
	if (!fds)
		return 1;
	for (i = 0; i < n; i++) {
		fds[i] = ws ? wsclose_socket(AF_INET, SOCK_STREAM, 0) :
			      socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0) {
			perror("socket");
			return 1;
		}
	}
	for (i = 0; i < n; i++) {
		if (ws ? wsclose_closesocket(fds[i], &err) : close(fds[i])) {
			perror("close");
			return 1;
		}
	}
	free(fds);
	return 0;
}
