// SPDX-License-Identifier: GPL-2.0
/*
 * linger_delay: how long after the final ACK a drained lingering close
 * returns.
 *
 * A wsclose socket with a full send queue and linger {1,5} is closed
 * (blocking) while the peer starts reading 200-300 ms later.  A packet socket
 * on lo timestamps every segment the peer sends; the last one before the
 * close returns is the ACK of our FIN, which is what ends the wait.  The
 * figure is close-return time minus that ACK's kernel timestamp.
 *
 * The reference is what a user-space emulation does (ReactOS msafd polls
 * every 100 ms): shutdown(SHUT_WR) on a plain socket, then poll TCP_INFO
 * until the FIN is acknowledged, sleeping 100 ms between looks.
 *
 *   linger_delay [RUNS]      (default 20; IPv4 loopback)
 */
#define _GNU_SOURCE
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "../selftests/helpers.h"

struct capture {
	int fd;
	in_port_t peer_port;	/* network order */
	volatile int stop;
	double last_ts;		/* CLOCK_REALTIME of the last peer segment */
	pthread_mutex_t lock;
	double cutoff;		/* ignore segments after this (0: none) */
};

static double real_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *capture_loop(void *arg)
{
	struct capture *c = arg;
	unsigned char frame[256];
	char cbuf[256];

	while (!c->stop) {
		struct iovec iov = { frame, sizeof(frame) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct pollfd pfd = { c->fd, POLLIN, 0 };
		struct cmsghdr *cm;
		struct iphdr *ip;
		double ts = 0;
		ssize_t n;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = recvmsg(c->fd, &m, MSG_DONTWAIT);
		if (n < (ssize_t)(14 + sizeof(*ip) + 20))
			continue;
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec t;

				memcpy(&t, CMSG_DATA(cm), sizeof(t));
				ts = t.tv_sec + t.tv_nsec / 1e9;
			}
		ip = (struct iphdr *)(frame + 14);
		if (ip->protocol != IPPROTO_TCP)
			continue;
		/* TCP source port: the first two bytes of the TCP header */
		if (memcmp(frame + 14 + ip->ihl * 4, &c->peer_port, 2))
			continue;
		pthread_mutex_lock(&c->lock);
		if (!c->cutoff || ts <= c->cutoff)
			c->last_ts = ts;
		pthread_mutex_unlock(&c->lock);
	}
	return NULL;
}

struct reader {
	int fd;
	int delay_ms;
	struct seen seen;
};

static void *late_reader(void *arg)
{
	struct reader *r = arg;

	sleep_ms(r->delay_ms);
	peer_read_all(r->fd, &r->seen, 30);
	return NULL;
}

static int fin_acked(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return 1;
	return ti.tcpi_state != TCP_FIN_WAIT1 && ti.tcpi_state != TCP_CLOSING &&
	       ti.tcpi_state != TCP_LAST_ACK;
}

/* One run: returns the delay in seconds, or -1. */
static double run(int wsclose, int capfd)
{
	struct capture cap = { .fd = capfd, .lock = PTHREAD_MUTEX_INITIALIZER };
	/* a start that is not in phase with the reference's 100 ms ticks */
	struct reader r = { .delay_ms = 200 + rand() % 100 };
	struct sockaddr_storage ss;
	struct stream sent = { 0, 0 };
	struct linger l = { 1, 5 };
	socklen_t len = sizeof(ss);
	pthread_t tc, tr;
	int s, v = 8192, err, outcome = -1, ok;
	double t_ret;

	s = wsclose ? wsclose_socket(AF_INET, SOCK_STREAM, 0) : socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	r.fd = connect_peer(s, AF_INET, 4096);
	if (r.fd < 0 || getsockname(r.fd, (struct sockaddr *)&ss, &len))
		return -1;
	cap.peer_port = ((struct sockaddr_in *)&ss)->sin_port;
	fill_buffers(s, &sent, 200);
	setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof(l));

	pthread_create(&tc, NULL, capture_loop, &cap);
	pthread_create(&tr, NULL, late_reader, &r);
	if (wsclose) {
		ok = wsclose_closesocket_outcome(s, 0, &outcome, &err) == 0 &&
		     outcome == WSCLOSE_OUTCOME_DRAINED;
	} else {
		shutdown(s, SHUT_WR);
		while (!fin_acked(s))
			sleep_ms(100);
		ok = 1;
	}
	t_ret = real_s();
	pthread_mutex_lock(&cap.lock);
	cap.cutoff = t_ret;
	pthread_mutex_unlock(&cap.lock);
	pthread_join(tr, NULL);
	cap.stop = 1;
	pthread_join(tc, NULL);
	if (!wsclose)
		close(s);
	close(r.fd);
	if (!ok || !r.seen.eof || !stream_equal(&sent, &r.seen.st) || !cap.last_ts)
		return -1;
	return t_ret - cap.last_ts;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report(const char *name, double *d, int n)
{
	qsort(d, n, sizeof(*d), cmp);
	printf("%-34s median %9.3f ms   min %9.3f ms   max %9.3f ms   (n=%d)\n",
	       name, d[n / 2] * 1e3, d[0] * 1e3, d[n - 1] * 1e3, n);
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 20;
	double *w = calloc(runs, sizeof(double)), *p = calloc(runs, sizeof(double));
	int one = 1, capfd, i;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_IP) };

	capfd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
	if (capfd < 0 || !w || !p) {
		perror("packet socket");
		return 1;
	}
	sll.sll_ifindex = if_nametoindex("lo");
	if (bind(capfd, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(capfd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one))) {
		perror("bind lo");
		return 1;
	}
	srand(1);
	/* warm up */
	run(1, capfd);
	run(0, capfd);
	for (i = 0; i < runs; i++) {
		w[i] = run(1, capfd);
		p[i] = run(0, capfd);
		if (w[i] < 0 || p[i] < 0) {
			fprintf(stderr, "run %d failed\n", i);
			return 1;
		}
	}
	printf("drained lingering close: final ACK -> close returns\n");
	report("wsclose (event-driven wait)", w, runs);
	report("reference: 100 ms polling loop", p, runs);
	return 0;
}
