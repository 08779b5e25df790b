/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the wsclose selftests and the demo: loopback
 * connections, filling both socket buffers, a checksummed byte stream and
 * a peer that reports exactly what it saw.
 */
#ifndef WSCLOSE_SELFTEST_HELPERS_H
#define WSCLOSE_SELFTEST_HELPERS_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wsclose.h"

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Loopback address of @family on @port (network order). */
static inline socklen_t loop_addr(int family, struct sockaddr_storage *ss,
				  in_port_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = port;
		return sizeof(*a);
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->sin_port = port;
	return sizeof(*a);
}

/* A plain listening TCP socket on an ephemeral loopback port. */
static inline int plain_listener(int family, int rcvbuf, struct sockaddr_storage *ss,
				 socklen_t *len)
{
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	*len = loop_addr(family, ss, 0);
	if (bind(fd, (struct sockaddr *)ss, *len) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)ss, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Connect @client to a fresh plain listener and return the accepted peer.
 * @rcvbuf shrinks the peer's receive buffer (0: default).
 */
static inline int connect_peer(int client, int family, int rcvbuf)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd = plain_listener(family, rcvbuf, &ss, &len);
	int peer = -1;

	if (lfd < 0)
		return -1;
	if (connect(client, (struct sockaddr *)&ss, len) == 0)
		peer = accept(lfd, NULL, NULL);
	close(lfd);
	return peer;
}

static inline int set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* The stream's byte at offset @off, and a checksum over a prefix of it. */
static inline unsigned char stream_byte(uint64_t off)
{
	return (unsigned char)((off * 2654435761u) >> 13);
}

struct stream {
	uint64_t bytes;
	uint64_t sum;
};

static inline void stream_add(struct stream *st, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		st->sum = (st->sum ^ p[i]) * 1099511628211ull;
	st->bytes += n;
}

static inline void stream_fill(uint64_t off, unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = stream_byte(off + i);
}

/*
 * Send the stream without blocking until the send buffer is full (EAGAIN
 * for @quiet_ms).  Returns bytes sent, accumulated into @st.
 */
static inline int64_t fill_buffers(int fd, struct stream *st, int quiet_ms)
{
	unsigned char buf[4096];
	double quiet = 0;
	int64_t total = 0;

	for (;;) {
		ssize_t n;

		stream_fill(st->bytes, buf, sizeof(buf));
		n = send(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			stream_add(st, buf, n);
			total += n;
			quiet = 0;
			continue;
		}
		if (n < 0 && errno != EAGAIN)
			return -1;
		if (quiet == 0)
			quiet = now_s();
		else if (now_s() - quiet > quiet_ms / 1000.0)
			return total;
		sleep_ms(5);
	}
}

/* What a peer saw on its connection. */
struct seen {
	struct stream st;
	uint64_t corrupt;	/* bytes that differ from the stream */
	int eof;		/* ended with an orderly EOF */
	int err;		/* ended with this errno (ECONNRESET, ...), or 0 */
};

static inline void seen_add(struct seen *s, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s->corrupt += p[i] != stream_byte(s->st.bytes + i);
	stream_add(&s->st, p, n);
}

/*
 * Read until EOF, an error, or @timeout_s; report what arrived.  With
 * @until_bytes, stop without waiting for the end once that many bytes are
 * in (s->eof and s->err stay 0).
 */
static inline void peer_read(int fd, struct seen *s, double timeout_s,
			     uint64_t until_bytes)
{
	unsigned char buf[16384];
	double end = now_s() + timeout_s;

	set_nonblock(fd, 1);
	while (now_s() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (until_bytes && s->st.bytes >= until_bytes)
			return;
		poll(&pfd, 1, 50);
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0) {
			seen_add(s, buf, n);
		} else if (n == 0) {
			s->eof = 1;
			return;
		} else if (errno != EAGAIN) {
			s->err = errno;
			return;
		}
	}
	s->err = ETIMEDOUT;
}

static inline void peer_read_all(int fd, struct seen *s, double timeout_s)
{
	memset(s, 0, sizeof(*s));
	peer_read(fd, s, timeout_s, 0);
}

/* The stream a sender produced matches what the peer saw. */
static inline int stream_equal(const struct stream *a, const struct stream *b)
{
	return a->bytes == b->bytes && a->sum == b->sum;
}

/* Wait until everything sent on @fd is acknowledged (SIOCOUTQ == 0). */
static inline int wait_acked(int fd, double timeout_s)
{
	double end = now_s() + timeout_s;
	int outq = -1;

	while (now_s() < end) {
		if (ioctl(fd, SIOCOUTQ, &outq) == 0 && outq == 0)
			return 0;
		sleep_ms(5);
	}
	return -1;
}

/* Descriptors open in this process. */
static inline int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* less the one opendir() used */
}

/* A number read from a file such as /sys/module/wsclose/refcnt; -1 if none. */
static inline long read_long(const char *path)
{
	char buf[64] = { 0 };
	int fd = open(path, O_RDONLY);
	long v = -1;

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) > 0)
			v = strtol(buf, NULL, 10);
		close(fd);
	}
	return v;
}

/* Seconds until the peer, not reading, sees its connection reset. */
static inline double time_to_reset(int peer, double timeout_s)
{
	double t0 = now_s();
	struct pollfd pfd = { .fd = peer, .events = 0 };
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	while (now_s() - t0 < timeout_s) {
		if (poll(&pfd, 1, 20) == 1 && (pfd.revents & (POLLERR | POLLHUP)))
			break;
	}
	getsockopt(peer, SOL_SOCKET, SO_ERROR, &soerr, &len);
	return soerr == ECONNRESET ? now_s() - t0 : -1;
}

/* Bring up the loopback interface of a new network namespace. */
static inline int lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), ret;

	ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	ret = ret ?: ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return ret;
}

/* A counter of /proc/net/wsclose in this namespace; -1 if none. */
static inline long counter(const char *name)
{
	char line[128], n[64];
	long v, found = -1;
	FILE *f = fopen("/proc/net/wsclose", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld", n, &v) == 2 && !strcmp(n, name))
			found = v;
	if (f)
		fclose(f);
	return found;
}

/* Direct ioctl access for tests of the device ABI. */
static inline int dev_open(void)
{
	return open("/dev/wsclose", O_RDWR | O_CLOEXEC);
}

/* WSCLOSE_IOC_ADOPT through a device opened for the call: 0 or an errno. */
static inline int adopt_errno(int fd, unsigned int flags)
{
	struct wsclose_adopt_args a = { .fd = (unsigned int)fd, .flags = flags };
	int dev = dev_open(), ret, e;

	if (dev < 0)
		return errno;
	ret = ioctl(dev, WSCLOSE_IOC_ADOPT, &a);
	e = errno;
	close(dev);
	return ret < 0 ? e : 0;
}

/* WSCLOSE_SIOC_QUERY on the socket itself: 0 or -errno (ENOTTY: not ours). */
static inline int query(int fd, struct wsclose_query_args *q)
{
	memset(q, 0xa5, sizeof(*q));
	if (ioctl(fd, WSCLOSE_SIOC_QUERY, q) < 0)
		return -errno;
	return 0;
}

/* The WSCLOSE_STATE_* of a wsclose socket, or -errno. */
static inline int query_state(int fd)
{
	struct wsclose_query_args q;
	int ret = query(fd, &q);

	return ret ? ret : (int)q.state;
}

/* The handles a wsclose socket has left, or -errno. */
static inline int query_handles(int fd)
{
	struct wsclose_query_args q;
	int ret = query(fd, &q);

	return ret ? ret : (int)q.handles;
}

#endif /* WSCLOSE_SELFTEST_HELPERS_H */
