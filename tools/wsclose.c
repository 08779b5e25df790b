// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose: tell whether the wsclose module is active, and print its version
 * and the counters of the caller's network namespace (/proc/net/wsclose).
 *
 *   wsclose            status, version and counters
 *   wsclose -q         exit status only: 0 when the module is usable
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f || !fgets(buf, (int)len, f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

int main(int argc, char **argv)
{
	int quiet = argc > 1 && !strcmp(argv[1], "-q");
	char version[64] = "unknown", line[128];
	int fd = open("/dev/wsclose", O_RDWR | O_CLOEXEC);
	FILE *f;

	if (fd < 0) {
		if (!quiet)
			fprintf(stderr, "wsclose: /dev/wsclose: %s: the module is %s\n",
				strerror(errno), errno == ENOENT ? "not loaded" :
				"loaded but not usable by you (device permissions?)");
		return 1;
	}
	close(fd);
	if (quiet)
		return 0;
	read_line("/sys/module/wsclose/version", version, sizeof(version));
	printf("wsclose %s: active, /dev/wsclose usable\n", version);
	f = fopen("/proc/net/wsclose", "r");
	if (!f) {
		perror("/proc/net/wsclose");
		return 1;
	}
	printf("counters of this network namespace:\n");
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		long v;

		if (sscanf(line, "%63s %ld", name, &v) == 2)
			printf("  %-16s %ld\n", name, v);
	}
	fclose(f);
	return 0;
}
