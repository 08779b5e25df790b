// SPDX-License-Identifier: GPL-2.0
/*
 * datapath: what Winsock close semantics cost on the data path and at
 * open/close, as ratios against a plain socket measured in the same run.
 * Each figure is the median of RUNS repetitions after a warm-up, plain and
 * wsclose runs alternating, with its spread (min..max).
 *
 *   datapath [RUNS]     (default 5)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "../selftests/helpers.h"

static int runs = 5;

static int mk(int wsclose, int family, int type)
{
	return wsclose ? wsclose_socket(family, type, 0) : socket(family, type, 0);
}

/* ---- TCP bulk: 256 MiB one way --------------------------------------- */

#define BULK (256u << 20)

static void *bulk_reader(void *arg)
{
	static char buf[1 << 16];
	int fd = *(int *)arg;
	size_t got = 0;
	ssize_t n;

	while (got < BULK && (n = recv(fd, buf, sizeof(buf), 0)) > 0)
		got += n;
	return NULL;
}

static double tcp_bulk(int ws)	/* MiB/s */
{
	static char buf[1 << 16];
	int s = mk(ws, AF_INET, SOCK_STREAM), peer = connect_peer(s, AF_INET, 0);
	size_t sent = 0;
	pthread_t t;
	double t0;

	pthread_create(&t, NULL, bulk_reader, &peer);
	t0 = now_s();
	while (sent < BULK) {
		ssize_t n = send(s, buf, sizeof(buf), 0);

		if (n <= 0)
			break;
		sent += n;
	}
	pthread_join(t, NULL);
	t0 = now_s() - t0;
	close(s);
	close(peer);
	return (BULK >> 20) / t0;
}

/* ---- TCP ping-pong, 64 bytes ------------------------------------------- */

#define ROUNDS 20000

static void *echo(void *arg)
{
	int fd = *(int *)arg;
	char buf[64];

	for (int i = 0; i < ROUNDS; i++) {
		if (recv(fd, buf, sizeof(buf), MSG_WAITALL) != 64 ||
		    send(fd, buf, 64, 0) != 64)
			break;
	}
	return NULL;
}

static double tcp_pingpong(int ws)	/* round trips per second */
{
	int s = mk(ws, AF_INET, SOCK_STREAM), peer = connect_peer(s, AF_INET, 0), one = 1;
	char buf[64] = { 0 };
	pthread_t t;
	double t0;

	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(peer, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	pthread_create(&t, NULL, echo, &peer);
	t0 = now_s();
	for (int i = 0; i < ROUNDS; i++) {
		if (send(s, buf, 64, 0) != 64 ||
		    recv(s, buf, sizeof(buf), MSG_WAITALL) != 64)
			break;
	}
	t0 = now_s() - t0;
	pthread_join(t, NULL);
	close(s);
	close(peer);
	return ROUNDS / t0;
}

/* ---- UDP, 64-byte datagrams -------------------------------------------- */

#define DGRAMS 200000

static double udp_pps(int ws)	/* datagrams sent per second */
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(AF_INET, &ss, 0);
	int r = socket(AF_INET, SOCK_DGRAM, 0), s = mk(ws, AF_INET, SOCK_DGRAM);
	int big = 1 << 22;
	char buf[64] = { 0 };
	double t0;

	setsockopt(r, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	bind(r, (struct sockaddr *)&ss, len);
	getsockname(r, (struct sockaddr *)&ss, &len);
	connect(s, (struct sockaddr *)&ss, len);
	t0 = now_s();
	for (int i = 0; i < DGRAMS; i++) {
		send(s, buf, sizeof(buf), 0);
		if ((i & 255) == 255)	/* keep the receiver from overflowing */
			while (recv(r, buf, sizeof(buf), MSG_DONTWAIT) > 0)
				;
	}
	t0 = now_s() - t0;
	close(s);
	close(r);
	return DGRAMS / t0;
}

/* ---- open + connect + close, per pair ----------------------------------- */

#define PAIRS 300

static double open_close(int ws, int abortive)	/* microseconds per pair */
{
	struct sockaddr_storage ss;
	socklen_t len;
	int l = plain_listener(AF_INET, 0, &ss, &len), err;
	struct linger lz = { 1, 0 };
	double t0 = now_s();

	for (int i = 0; i < PAIRS; i++) {
		int s = mk(ws, AF_INET, SOCK_STREAM), a;

		if (abortive)
			setsockopt(s, SOL_SOCKET, SO_LINGER, &lz, sizeof(lz));
		connect(s, (struct sockaddr *)&ss, len);
		a = accept(l, NULL, NULL);
		if (ws)
			wsclose_closesocket(s, &err);
		else
			close(s);
		close(a);
	}
	t0 = now_s() - t0;
	close(l);
	return t0 * 1e6 / PAIRS;
}

/* ---- memory and scale --------------------------------------------------- */

static long slab_kib(void)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %ld kB", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

#define MANY 100000

static int fds[MANY];

/* Open n TCP sockets; return slab growth in bytes per socket. */
static double mem_per_socket(int ws, int n)
{
	long before, after;
	int i;

	sleep_ms(300);
	before = slab_kib();
	for (i = 0; i < n; i++)
		fds[i] = mk(ws, AF_INET, SOCK_STREAM);
	sleep_ms(300);
	after = slab_kib();
	for (i = 0; i < n; i++)
		close(fds[i]);
	return (after - before) * 1024.0 / n;
}

static double many_open_close(int ws)	/* seconds for MANY sockets */
{
	double t0 = now_s();
	int i, err;

	for (i = 0; i < MANY; i++) {
		fds[i] = mk(ws, AF_INET, SOCK_STREAM);
		if (fds[i] < 0)
			return -1;
	}
	for (i = 0; i < MANY; i++) {
		if (ws)
			wsclose_closesocket(fds[i], &err);
		else
			close(fds[i]);
	}
	return now_s() - t0;
}

/* ---- the table ------------------------------------------------------------ */

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct fig {
	double med, min, max;
};

static struct fig summarize(double *v)
{
	struct fig f;

	qsort(v, runs, sizeof(double), cmp);
	f.med = v[runs / 2];
	f.min = v[0];
	f.max = v[runs - 1];
	return f;
}

/*
 * Plain and wsclose runs alternate, plain first in even rounds and wsclose
 * first in odd ones, so that drift in the guest (slab growth, RCU callbacks
 * still freeing the previous round's sockets, the host's own load) falls on
 * both alike.
 */
static void measure(double (*fn)(int, int), int arg, struct fig *p,
		    struct fig *w, struct fig *r)
{
	double vp[16], vw[16], vr[16];

	fn(0, arg);	/* warm up */
	fn(1, arg);
	for (int i = 0; i < runs; i++) {
		if (i & 1) {
			vw[i] = fn(1, arg);
			vp[i] = fn(0, arg);
		} else {
			vp[i] = fn(0, arg);
			vw[i] = fn(1, arg);
		}
	}
	for (int i = 0; i < runs; i++)
		vr[i] = vw[i] / vp[i];
	*p = summarize(vp);
	*w = summarize(vw);
	if (r)
		*r = summarize(vr);
}

static double bulk2(int ws, int a) { (void)a; return tcp_bulk(ws); }
static double pp2(int ws, int a) { (void)a; return tcp_pingpong(ws); }
static double udp2(int ws, int a) { (void)a; return udp_pps(ws); }
static double oc2(int ws, int a) { return open_close(ws, a); }
static double mem2(int ws, int a) { return mem_per_socket(ws, a); }
static double many2(int ws, int a) { (void)a; return many_open_close(ws); }

/*
 * The ratio is the median of the rounds' own ratios: each compares a plain
 * and a wsclose run taken back to back, under the same conditions.
 */
static void row(const char *name, const char *unit, double (*fn)(int, int),
		int arg, int higher_better, double target)
{
	struct fig p, w, r;
	int ok;

	measure(fn, arg, &p, &w, &r);
	ok = higher_better ? r.med >= target : r.med <= target;
	printf("%-38s %10.1f %10.1f %-8s %6.3f  %s%.2f  %-6s (plain %.1f..%.1f, wsclose %.1f..%.1f, ratio %.3f..%.3f)\n",
	       name, p.med, w.med, unit, r.med, higher_better ? ">=" : "<=",
	       target, ok ? "met" : "MISSED", p.min, p.max, w.min, w.max,
	       r.min, r.max);
}

int main(int argc, char **argv)
{
	struct rlimit rl = { MANY + 100, MANY + 100 };
	struct fig pm, wm;

	if (argc > 1)
		runs = atoi(argv[1]);
	if (runs < 1 || runs > 15)
		runs = 5;
	setvbuf(stdout, NULL, _IONBF, 0);
	if (setrlimit(RLIMIT_NOFILE, &rl))
		perror("RLIMIT_NOFILE");

	printf("%-38s %10s %10s %-8s %6s  %s\n", "figure (median of runs)", "plain",
	       "wsclose", "unit", "ratio", "target");
	row("TCP bulk, 1 stream, 256 MiB", "MiB/s", bulk2, 0, 1, 0.98);
	row("TCP ping-pong, 64 B", "rt/s", pp2, 0, 1, 0.97);
	row("UDP 64 B datagrams", "dgram/s", udp2, 0, 1, 0.97);
	row("open+connect+close, DONTLINGER", "us/pair", oc2, 0, 0, 1.25);
	row("open+connect+close, linger {1,0}", "us/pair", oc2, 1, 0, 1.25);
	row("100000 sockets opened then closed", "s", many2, 0, 0, 1.25);

	measure(mem2, 20000, &pm, &wm, NULL);
	printf("%-38s %10.1f %10.1f %-8s %+6.0f  <=+128 B  %s   (slab growth per socket, 20000 sockets)\n",
	       "kernel memory per open socket", pm.med, wm.med, "B",
	       wm.med - pm.med, wm.med - pm.med <= 128 ? "met" : "MISSED");
	return 0;
}
