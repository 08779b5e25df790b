// SPDX-License-Identifier: GPL-2.0
/*
 * insns: the guest side of the instruction-count benchmark.  Each section
 * runs between two markers (bench/insns-marker.h) that make the QEMU plugin
 * (bench/insns-plugin.c) record the guest's instruction counts; the host
 * divides the difference by the section's operation count
 * (scripts/insns-bench.sh).  One run measures one variant, so that plain and
 * wsclose boots can alternate: "plain" uses socket(2), setsockopt(SO_LINGER)
 * and close(2); "wsclose" uses wsclose_socket(), wsclose_set_linger() and
 * wsclose_closesocket().  The peers (accepted sockets) are plain either way.
 *
 * Each section ends with a fixed settle sleep, still inside its markers, so
 * that work the kernel defers (RCU frees, softirq) is counted with it; the
 * "idle" section is that sleep alone, which the host subtracts.
 *
 * Prints, for the host:
 *   insns-section NAME OPS SECONDS     one per section, in marker order
 *   insns-markers N                    markers executed
 *
 *   insns plain|wsclose [SCALE]        SCALE multiplies every count (default 1)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../selftests/helpers.h"
#include "insns-marker.h"

#define SETTLE_MS	100

static int ws;			/* the variant: wsclose sockets */
static int markers;
static int failures;
static double scale = 1;

static int mk(int type)
{
	return ws ? wsclose_socket(AF_INET, type, 0) : socket(AF_INET, type, 0);
}

static int set_linger(int s, int onoff, int secs)
{
	struct linger l = { onoff, secs };
	int err;

	if (ws)
		return wsclose_set_linger(s, onoff, secs, &err);
	return setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

static int close_sock(int s)
{
	int err;

	return ws ? wsclose_closesocket(s, &err) : close(s);
}

static void fail(const char *what)
{
	if (failures++ < 10)
		fprintf(stderr, "insns: %s: %s\n", what, strerror(errno));
}

/* ---- sections ------------------------------------------------------------ */

struct section {
	const char *name;
	double t0;
};

static void begin(struct section *sec, const char *name)
{
	sleep_ms(SETTLE_MS);	/* the previous section's leftovers, uncounted */
	sec->name = name;
	markers++;
	insns_marker();
	sec->t0 = now_s();
}

static void end(struct section *sec, long ops)
{
	double t;

	sleep_ms(SETTLE_MS);
	t = now_s() - sec->t0;
	markers++;
	insns_marker();
	printf("insns-section %s %ld %.6f\n", sec->name, ops, t);
}

static long scaled(long n)
{
	long v = n * scale;

	return v < 1 ? 1 : v;
}

/* ---- data path ------------------------------------------------------------ */

struct echo {
	int fd;
	long rounds;
};

static void *echo_loop(void *arg)
{
	struct echo *e = arg;
	char buf[64];

	for (long i = 0; i < e->rounds; i++) {
		if (recv(e->fd, buf, sizeof(buf), MSG_WAITALL) != 64 ||
		    send(e->fd, buf, 64, 0) != 64)
			break;
	}
	return NULL;
}

/* 64-byte TCP ping-pong: one round trip per operation. */
static void tcp_pingpong(long rounds, int measure)
{
	int s = mk(SOCK_STREAM), peer = connect_peer(s, AF_INET, 0), one = 1;
	struct echo e = { peer, rounds };
	struct section sec;
	char buf[64] = { 0 };
	pthread_t t;

	if (s < 0 || peer < 0) {
		fail("ping-pong connect");
		return;
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(peer, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	pthread_create(&t, NULL, echo_loop, &e);
	if (measure)
		begin(&sec, "tcp_pingpong_64B");
	for (long i = 0; i < rounds; i++) {
		if (send(s, buf, 64, 0) != 64 ||
		    recv(s, buf, sizeof(buf), MSG_WAITALL) != 64) {
			fail("ping-pong");
			break;
		}
	}
	pthread_join(t, NULL);
	if (measure)
		end(&sec, rounds);
	close_sock(s);
	close(peer);
}

/* 64-byte UDP datagram: one send and its recv per operation. */
static void udp_sendrecv(long n, int measure)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(AF_INET, &ss, 0);
	int r = mk(SOCK_DGRAM), s = mk(SOCK_DGRAM);
	struct section sec;
	char buf[64] = { 0 };

	if (r < 0 || s < 0 || bind(r, (struct sockaddr *)&ss, len) ||
	    getsockname(r, (struct sockaddr *)&ss, &len) ||
	    connect(s, (struct sockaddr *)&ss, len)) {
		fail("udp setup");
		return;
	}
	if (measure)
		begin(&sec, "udp_64B_send_recv");
	for (long i = 0; i < n; i++) {
		if (send(s, buf, sizeof(buf), 0) != 64 ||
		    recv(r, buf, sizeof(buf), 0) != 64) {
			fail("udp");
			break;
		}
	}
	if (measure)
		end(&sec, n);
	close_sock(s);
	close_sock(r);
}

struct bulk {
	int fd;
	size_t bytes;
};

static void *bulk_reader(void *arg)
{
	static char buf[1 << 16];
	struct bulk *b = arg;
	size_t got = 0;
	ssize_t n;

	while (got < b->bytes && (n = recv(b->fd, buf, sizeof(buf), 0)) > 0)
		got += n;
	return NULL;
}

/* TCP bulk, one way, 64 KiB sends to a plain reader: per MiB. */
static void tcp_bulk(long mib, int measure)
{
	static char buf[1 << 16];
	int s = mk(SOCK_STREAM), peer = connect_peer(s, AF_INET, 0);
	struct bulk b = { peer, (size_t)mib << 20 };
	struct section sec;
	size_t sent = 0;
	pthread_t t;

	if (s < 0 || peer < 0) {
		fail("bulk connect");
		return;
	}
	pthread_create(&t, NULL, bulk_reader, &b);
	if (measure)
		begin(&sec, "tcp_bulk_per_MiB");
	while (sent < b.bytes) {
		ssize_t n = send(s, buf, sizeof(buf), 0);

		if (n <= 0) {
			fail("bulk send");
			break;
		}
		sent += n;
	}
	pthread_join(t, NULL);
	if (measure)
		end(&sec, mib);
	close_sock(s);
	close(peer);
}

/* ---- life cycle: socket + connect + accept + close ---------------------- */

/*
 * The lingering outcomes read the data at the peer and half-close it before
 * the final close: Linux delays its ACK of a FIN (tcp_fin() enters
 * pingpong mode), and a plain lingering close(2), which waits for that ACK,
 * would otherwise spend some 40 ms per socket asleep on the delayed-ACK
 * timer; its instruction count would follow that timer, not the close.
 */
enum outcome { DONTLINGER, ABORTIVE, DRAINED, WOULDBLOCK };

static const char *const outcome_name[] = {
	"lifecycle_linger_off", "lifecycle_linger_1_0",
	"lifecycle_linger_1_5_drained", "lifecycle_nonblock_wouldblock_retry",
};

static long wouldblock_first, wouldblock_retries;

static void recv_all(int fd, size_t n)
{
	char buf[4096];

	while (n) {
		ssize_t r = recv(fd, buf, n < sizeof(buf) ? n : sizeof(buf), 0);

		if (r <= 0) {
			fail("peer recv");
			return;
		}
		n -= r;
	}
}

static void one_life(int l, struct sockaddr_storage *ss, socklen_t len,
		     enum outcome o)
{
	static char data[16384];
	int s = mk(SOCK_STREAM), a, err;
	ssize_t n = 0;

	if (s < 0) {
		fail("socket");
		return;
	}
	if (o == ABORTIVE)
		set_linger(s, 1, 0);
	else if (o == DRAINED || o == WOULDBLOCK)
		set_linger(s, 1, 5);
	if (connect(s, (struct sockaddr *)ss, len))
		fail("connect");
	a = accept(l, NULL, NULL);
	if (a < 0)
		fail("accept");
	switch (o) {
	case DONTLINGER:
	case ABORTIVE:
		close_sock(s);
		break;
	case DRAINED:		/* acknowledged at once on loopback */
		if (send(s, data, 64, 0) != 64)
			fail("send");
		recv_all(a, 64);
		shutdown(a, SHUT_WR);
		close_sock(s);
		break;
	case WOULDBLOCK:	/* the peer's small window keeps data queued */
		set_nonblock(s, 1);
		n = send(s, data, sizeof(data), MSG_DONTWAIT);
		if (n <= 0) {
			fail("send");
			n = 0;
		}
		if (!ws) {
			recv_all(a, n);
			shutdown(a, SHUT_WR);
			close(s);
			break;
		}
		if (!wsclose_closesocket_ex(s, WSCLOSE_AS_NONBLOCKING, &err) ||
		    err != WSAEWOULDBLOCK) {
			/* closed (or failed) on the first try: nothing to retry */
			recv_all(a, n);
			break;
		}
		wouldblock_first++;
		recv_all(a, n);
		shutdown(a, SHUT_WR);
		while (wsclose_closesocket_ex(s, WSCLOSE_AS_NONBLOCKING, &err)) {
			wouldblock_retries++;
			if (err != WSAEWOULDBLOCK) {
				fail("closesocket retry");
				break;
			}
			sched_yield();
		}
		break;
	}
	close(a);
}

static void lifecycle(enum outcome o, long n, int measure)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int l = plain_listener(AF_INET, o == WOULDBLOCK ? 2048 : 0, &ss, &len);
	struct section sec;

	if (l < 0) {
		fail("listener");
		return;
	}
	if (measure)
		begin(&sec, outcome_name[o]);
	for (long i = 0; i < n; i++)
		one_life(l, &ss, len, o);
	if (measure)
		end(&sec, n);
	close(l);
}

/* ---- the close alone, of connected sockets ---------------------------------- */

static int *fds, *peers;

/*
 * Connect n sockets, then close them between the markers: with close(2)
 * whatever the variant (explicit = 0), or with the variant's own close.
 */
static void close_only(long n, int explicit, int measure)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int l = plain_listener(AF_INET, 0, &ss, &len);
	struct section sec;
	long i;

	if (l < 0) {
		fail("listener");
		return;
	}
	for (i = 0; i < n; i++) {
		fds[i] = mk(SOCK_STREAM);
		if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&ss, len))
			fail("connect");
		peers[i] = accept(l, NULL, NULL);
	}
	if (measure)
		begin(&sec, explicit ? "close_connected_variant_close" :
				       "close_connected_close2");
	for (i = 0; i < n; i++) {
		if (explicit ? close_sock(fds[i]) : close(fds[i]))
			fail("close");
	}
	if (measure)
		end(&sec, n);
	for (i = 0; i < n; i++)
		close(peers[i]);
	close(l);
}

/* ---- many sockets: n opened, then all closed -------------------------------- */

static void many(long n, int measure)
{
	struct section sec;
	long i;

	if (measure)
		begin(&sec, "many_sockets_open_then_close");
	for (i = 0; i < n; i++) {
		fds[i] = mk(SOCK_STREAM);
		if (fds[i] < 0) {
			fail("socket");
			n = i;
			break;
		}
	}
	for (i = 0; i < n; i++) {
		if (close_sock(fds[i]))
			fail("close");
	}
	if (measure)
		end(&sec, n);
}

static void idle(void)
{
	struct section sec;

	begin(&sec, "idle");
	end(&sec, 1);
}

int main(int argc, char **argv)
{
	long n_pp, n_udp, n_bulk, n_life, n_linger, n_close, n_many;
	struct rlimit rl;
	int s;

	if (argc < 2 || (strcmp(argv[1], "plain") && strcmp(argv[1], "wsclose"))) {
		fprintf(stderr, "usage: insns plain|wsclose [SCALE]\n");
		return 2;
	}
	ws = !strcmp(argv[1], "wsclose");
	if (argc > 2)
		scale = atof(argv[2]);
	if (!(scale > 0))
		scale = 1;
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* About 15 s of guest time per boot. */
	n_pp = scaled(2000);
	n_udp = scaled(5000);
	n_bulk = scaled(16);
	n_life = scaled(1000);
	n_linger = scaled(1000);
	n_close = scaled(1000);
	n_many = scaled(100000);

	rl.rlim_cur = rl.rlim_max = n_many + 2 * n_close + 100;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		perror("RLIMIT_NOFILE");
	fds = calloc(n_many + n_close, sizeof(*fds));
	peers = calloc(n_close, sizeof(*peers));
	if (!fds || !peers)
		return 1;
	memset(fds, 0xff, (n_many + n_close) * sizeof(*fds));	/* touch the pages */
	memset(peers, 0xff, n_close * sizeof(*peers));

	/* The library opens /dev/wsclose once; not part of any section. */
	s = mk(SOCK_STREAM);
	if (s < 0) {
		perror(ws ? "wsclose_socket" : "socket");
		return 1;
	}
	close_sock(s);

	/* A short warm-up of each section, then the measured runs. */
#define WARM(n) (measure ? (n) : (n) / 10 + 1)
	for (int measure = 0; measure < 2; measure++) {
		wouldblock_first = 0;
		wouldblock_retries = 0;
		if (measure)
			idle();
		tcp_pingpong(WARM(n_pp), measure);
		udp_sendrecv(WARM(n_udp), measure);
		tcp_bulk(WARM(n_bulk), measure);
		lifecycle(DONTLINGER, WARM(n_life), measure);
		lifecycle(ABORTIVE, WARM(n_life), measure);
		lifecycle(DRAINED, WARM(n_linger), measure);
		lifecycle(WOULDBLOCK, WARM(n_linger), measure);
		close_only(WARM(n_close), 0, measure);
		close_only(WARM(n_close), 1, measure);
		many(WARM(n_many), measure);
	}
	if (ws)
		printf("insns-note non-blocking lingering close: %ld of %ld %s, %ld %s\n",
		       wouldblock_first, n_linger, "first tries WSAEWOULDBLOCK",
		       wouldblock_retries, "retries WSAEWOULDBLOCK again");
	printf("insns-markers %d\n", markers);
	if (failures)
		fprintf(stderr, "insns: %d failures\n", failures);
	return failures ? 1 : 0;
}
