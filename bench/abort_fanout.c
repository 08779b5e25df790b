// SPDX-License-Identifier: GPL-2.0
/*
 * abort_fanout: time from a committing close to the last CQE of K pending
 * io_uring receives on the socket (K = 1, 64, 1024), median of RUNS runs,
 * and the cost per aborted request (also K = 16 and 256, for the plot).
 *
 *   abort_fanout [RUNS]      (default 7)
 */
#define _GNU_SOURCE
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>

#include "../selftests/helpers.h"

static double run(int k)
{
	static char bufs[1024][16];
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	int s, peer, i, err, cancelled = 0;
	double t0, t;

	if (io_uring_queue_init(k, &ring, 0))
		return -1;
	s = wsclose_socket(AF_INET, SOCK_STREAM, 0);
	peer = connect_peer(s, AF_INET, 0);
	if (s < 0 || peer < 0)
		return -1;
	for (i = 0; i < k; i++)
		io_uring_prep_recv(io_uring_get_sqe(&ring), s, bufs[i], sizeof(bufs[i]), 0);
	if (io_uring_submit(&ring) != k)
		return -1;
	sleep_ms(100 + k / 4);	/* every request armed */
	t0 = now_s();
	if (wsclose_closesocket(s, &err))
		return -1;
	for (i = 0; i < k; i++) {
		if (io_uring_wait_cqe(&ring, &cqe))
			return -1;
		cancelled += cqe->res == -ECANCELED;
		io_uring_cqe_seen(&ring, cqe);
	}
	t = now_s() - t0;
	io_uring_queue_exit(&ring);
	close(peer);
	return cancelled == k ? t : -1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static const int ks[] = { 1, 16, 64, 256, 1024 };
	int runs = argc > 1 ? atoi(argv[1]) : 7;
	double d[64];

	if (runs < 1 || runs > 64)
		runs = 7;
	printf("close -> last CQE of K pending io_uring recvs (all -ECANCELED)\n");
	for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		run(ks[i]);	/* warm up */
		for (int r = 0; r < runs; r++) {
			d[r] = run(ks[i]);
			if (d[r] < 0) {
				fprintf(stderr, "K=%d: run failed\n", ks[i]);
				return 1;
			}
		}
		qsort(d, runs, sizeof(double), cmp);
		printf("K=%-5d median %9.3f ms  min %9.3f ms  max %9.3f ms  per request %7.2f us  (n=%d)\n",
		       ks[i], d[runs / 2] * 1e3, d[0] * 1e3, d[runs - 1] * 1e3,
		       d[runs / 2] * 1e6 / ks[i], runs);
	}
	return 0;
}
