// SPDX-License-Identifier: GPL-2.0
/*
 * wsc-peer: the native Linux end of the Windows close tests (wsctest.exe).
 * It runs in the guest beside Wine and tells the Windows program what the
 * wire showed: how many bytes arrived, their FNV-1a hash, and how the
 * stream ended (EOF = FIN, RST = ECONNRESET).
 *
 *   wsc-peer [PORT]          (default 7700; listens on 127.0.0.1)
 *
 * Each connection to PORT starts with one command line:
 *   SINK id delay_ms         this connection is a data sink: wait delay_ms
 *                            (-1: until RELEASE id) without reading, then
 *                            read to the end
 *   ACKSINK id nbytes        read nbytes at once, send one byte 'A' back,
 *                            then read to the end
 *   CONNECT id port delay_ms connect to 127.0.0.1:port, answer "OK", then
 *                            sink that connection as SINK does
 *   RELEASE id               let a held sink start reading; answers "OK"
 *   RESULT id wait_ms        wait up to wait_ms for sink id to end; answers
 *                            "bytes=N sum=XXXXXXXX end=EOF|RST|ERR<errno>|OPEN"
 *   QUIT                     exit
 * Sinks use a 64 KiB receive buffer so that a few hundred KiB fill a
 * connection.  Each sink gives up (end=OPEN) after 60 s.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NSLOT 256
#define RCVBUF 65536

struct slot {
	int used, released, done;
	unsigned long long bytes;
	uint32_t sum;
	char end[32];
};

static struct slot slots[NSLOT];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

static void deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static struct slot *slot_of(int id)
{
	return (id >= 0 && id < NSLOT) ? &slots[id] : NULL;
}

static void reply(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t r = send(fd, s, n, MSG_NOSIGNAL);

		if (r <= 0)
			return;
		s += r;
		n -= (size_t)r;
	}
}

static int read_line(int fd, char *buf, size_t len)
{
	size_t i = 0;

	while (i + 1 < len) {
		char c;
		ssize_t r = recv(fd, &c, 1, 0);

		if (r <= 0)
			return -1;
		if (c == '\n')
			break;
		buf[i++] = c;
	}
	buf[i] = 0;
	return 0;
}

/* Read to the end of the stream; record what arrived in slot id. */
static void sink(int fd, int id, long delay_ms, long ack_after)
{
	struct slot *sl = slot_of(id);
	static __thread char buf[65536];
	unsigned long long bytes = 0;
	uint32_t sum = 2166136261u;
	char end[32] = "OPEN";
	struct timeval tv = { .tv_sec = 60 };

	if (!sl)
		return;
	pthread_mutex_lock(&lock);
	memset(sl, 0, sizeof(*sl));
	sl->used = 1;
	strcpy(sl->end, "OPEN");
	if (delay_ms > 0) {
		struct timespec ts;

		deadline_in(&ts, delay_ms);
		while (!sl->released &&
		       pthread_cond_timedwait(&cond, &lock, &ts) != ETIMEDOUT)
			;
	} else if (delay_ms < 0) {
		struct timespec ts;

		deadline_in(&ts, 60000);
		while (!sl->released &&
		       pthread_cond_timedwait(&cond, &lock, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&lock);

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n > 0) {
			for (ssize_t i = 0; i < n; i++) {
				sum ^= (unsigned char)buf[i];
				sum *= 16777619u;
			}
			if (ack_after > 0 && bytes < (unsigned long long)ack_after &&
			    bytes + (unsigned long long)n >= (unsigned long long)ack_after)
				reply(fd, "A");
			bytes += (unsigned long long)n;
			continue;
		}
		if (n == 0)
			strcpy(end, "EOF");
		else if (errno == ECONNRESET)
			strcpy(end, "RST");
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			strcpy(end, "OPEN");
		else
			snprintf(end, sizeof(end), "ERR%d", errno);
		break;
	}
	pthread_mutex_lock(&lock);
	sl->bytes = bytes;
	sl->sum = sum;
	strcpy(sl->end, end);
	sl->done = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void *conn_thread(void *arg)
{
	int fd = (int)(long)arg;
	char line[256], out[128];
	int id = -1, port;
	long a = 0;

	if (read_line(fd, line, sizeof(line)) < 0)
		goto out;
	if (sscanf(line, "SINK %d %ld", &id, &a) == 2) {
		sink(fd, id, a, 0);
	} else if (sscanf(line, "ACKSINK %d %ld", &id, &a) == 2) {
		sink(fd, id, 0, a);
	} else if (sscanf(line, "CONNECT %d %d %ld", &id, &port, &a) == 3) {
		struct sockaddr_in sin = { .sin_family = AF_INET,
			.sin_port = htons((unsigned short)port),
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int c = socket(AF_INET, SOCK_STREAM, 0), rb = RCVBUF;

		setsockopt(c, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
		if (connect(c, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			snprintf(out, sizeof(out), "ERR%d\n", errno);
			reply(fd, out);
			close(c);
			goto out;
		}
		reply(fd, "OK\n");
		close(fd);
		fd = c;
		sink(fd, id, a, 0);
	} else if (sscanf(line, "RELEASE %d", &id) == 1 && slot_of(id)) {
		pthread_mutex_lock(&lock);
		slots[id].released = 1;
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
		reply(fd, "OK\n");
	} else if (sscanf(line, "RESULT %d %ld", &id, &a) == 2 && slot_of(id)) {
		struct slot *sl = &slots[id];
		struct timespec ts;

		deadline_in(&ts, a);
		pthread_mutex_lock(&lock);
		while (!sl->done &&
		       pthread_cond_timedwait(&cond, &lock, &ts) != ETIMEDOUT)
			;
		snprintf(out, sizeof(out), "bytes=%llu sum=%08x end=%s\n",
			 sl->bytes, sl->sum, sl->used ? sl->end : "NONE");
		pthread_mutex_unlock(&lock);
		reply(fd, out);
	} else if (!strcmp(line, "QUIT")) {
		reply(fd, "OK\n");
		exit(0);
	} else {
		reply(fd, "ERR bad command\n");
	}
out:
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 7700, one = 1, rb = RCVBUF;
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_port = htons((unsigned short)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int l = socket(AF_INET, SOCK_STREAM, 0);

	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(l, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
	if (bind(l, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(l, 128) < 0) {
		perror("wsc-peer: bind/listen");
		return 1;
	}
	fprintf(stderr, "wsc-peer: listening on 127.0.0.1:%d\n", port);
	for (;;) {
		int c = accept(l, NULL, NULL);
		pthread_t t;

		if (c < 0)
			continue;
		if (pthread_create(&t, NULL, conn_thread, (void *)(long)c)) {
			close(c);
			continue;
		}
		pthread_detach(t);
	}
}
