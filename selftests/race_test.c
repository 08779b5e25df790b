// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose race tests: nine threads race a close against everything else
 * that can happen to the same socket, round after round (bounded in rounds
 * and in time), while rmmod is attempted throughout.  Afterwards every
 * socket and every module reference is gone.  What each racer gets back
 * is checked against the set of answers that are correct for it.
 */
#define _GNU_SOURCE
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "helpers.h"

#ifndef ROUNDS
#define ROUNDS		2000
#endif
#define TIME_LIMIT_S	60.0
#define MIN_ROUNDS	50	/* the debug kernel manages ~200 in the time limit */

enum racer {
	R_CLOSE_NONBLOCK, R_CLOSE_BLOCK, R_SEND, R_RECV, R_LINGER,
	R_NONBLOCK, R_IOURING, R_FORK, R_DUPLICATE, R_NRACERS
};

struct race {
	pthread_barrier_t start, end;
	volatile int fd;
	volatile int stop;
	int round;
	int bad[R_NRACERS];	/* unexpected answers, per racer */
	int last_bad_errno[R_NRACERS];
	int rmmod_bad;
};

static void bad(struct race *r, enum racer who, int err)
{
	__atomic_add_fetch(&r->bad[who], 1, __ATOMIC_RELAXED);
	r->last_bad_errno[who] = err;
}

/* Errors that mean "the socket was closed under me / before me". */
static int closed_errno(int e)
{
	return e == ENOTSOCK || e == ECANCELED || e == EBADF;
}

static void race_once(struct race *r, enum racer who, struct io_uring *ring)
{
	int fd = r->fd, err = 0, ret, outcome;
	char buf[256] = { 0 };

	switch (who) {
	case R_CLOSE_NONBLOCK:
	case R_CLOSE_BLOCK:
		ret = wsclose_closesocket_outcome(fd, who == R_CLOSE_BLOCK ?
						  WSCLOSE_AS_BLOCKING :
						  WSCLOSE_AS_NONBLOCKING,
						  &outcome, &err);
		if (ret == 0 && (outcome < WSCLOSE_OUTCOME_NOT_LAST_HANDLE ||
				 outcome > WSCLOSE_OUTCOME_TIMED_OUT_RESET))
			bad(r, who, 0);
		if (ret && err != WSAENOTSOCK && err != WSAEINPROGRESS &&
		    err != WSAEWOULDBLOCK)
			bad(r, who, err);
		break;
	case R_SEND:
		ret = send(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (ret < 0 && !closed_errno(errno) && errno != EAGAIN &&
		    errno != EPIPE && errno != ECONNRESET)
			bad(r, who, errno);
		break;
	case R_RECV:
		ret = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (ret < 0 && !closed_errno(errno) && errno != EAGAIN &&
		    errno != ECONNRESET)
			bad(r, who, errno);
		break;
	case R_LINGER: {
		struct linger l = { r->round & 1, (r->round >> 1) & 1 };

		ret = setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		/* SOL_SOCKET options bypass the module: EBADF only */
		if (ret < 0 && errno != EBADF)
			bad(r, who, errno);
		break;
	}
	case R_NONBLOCK:
		if (set_nonblock(fd, r->round & 4) < 0 && errno != EBADF)
			bad(r, who, errno);
		break;
	case R_IOURING: {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
		struct __kernel_timespec ts = { .tv_sec = 10 };
		struct io_uring_cqe *cqe;

		io_uring_prep_recv(sqe, fd, buf, sizeof(buf), 0);
		if (io_uring_submit(ring) != 1) {
			bad(r, who, errno);
			break;
		}
		/* the round's close must complete it, one way or another */
		ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
		if (ret) {
			bad(r, who, -ret);
			break;
		}
		if (cqe->res < 0 && !closed_errno(-cqe->res) &&
		    cqe->res != -ECONNRESET)
			bad(r, who, -cqe->res);
		io_uring_cqe_seen(ring, cqe);
		break;
	}
	case R_DUPLICATE: {
		int d = wsclose_duplicate(fd);

		if (d < 0) {
			if (!closed_errno(errno))
				bad(r, who, errno);
			break;
		}
		/*
		 * Gone again at once, explicitly or by close(2).  If a closer
		 * released the original handle's descriptor before this one
		 * was installed, the duplicate took its number, and the
		 * closers (which close that number) may close it first: then
		 * it is no socket any more, as a reused Winsock handle value
		 * would be.
		 */
		if (r->round & 32) {
			close(d);
		} else if (wsclose_closesocket_outcome(d, WSCLOSE_AS_NONBLOCKING,
						       &outcome, &err) &&
			   err != WSAEWOULDBLOCK && err != WSAEINPROGRESS &&
			   !(err == WSAENOTSOCK && d == fd)) {
			bad(r, who, err);
		}
		close(d);	/* after WSAEWOULDBLOCK: implicitly */
		break;
	}
	case R_FORK: {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			close(fd);
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || status)
			bad(r, who, errno);
		break;
	}
	default:
		break;
	}
}

struct racer_arg {
	struct race *r;
	enum racer who;
};

static void *racer(void *arg)
{
	struct racer_arg *a = arg;
	struct io_uring ring;

	if (a->who == R_IOURING && io_uring_queue_init(8, &ring, 0))
		bad(a->r, a->who, errno);
	for (;;) {
		pthread_barrier_wait(&a->r->start);
		if (a->r->stop)
			break;
		race_once(a->r, a->who, &ring);
		pthread_barrier_wait(&a->r->end);
	}
	if (a->who == R_IOURING)
		io_uring_queue_exit(&ring);
	return NULL;
}

static void *rmmod_loop(void *arg)
{
	struct race *r = arg;

	while (!r->stop) {
		/* our pin socket exists throughout: refused */
		if (syscall(__NR_delete_module, "wsclose", O_NONBLOCK) == 0 ||
		    errno != EWOULDBLOCK)
			r->rmmod_bad++;
		sleep_ms(2);
	}
	return NULL;
}

/* "TCP: inuse N orphan N ..." and "UDP: inuse N" of /proc/net/sockstat */
static void sockstat(long *tcp_inuse, long *tcp_orphan)
{
	char line[256];
	FILE *f = fopen("/proc/net/sockstat", "r");

	*tcp_inuse = *tcp_orphan = -1;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		sscanf(line, "TCP: inuse %ld orphan %ld", tcp_inuse, tcp_orphan);
	fclose(f);
}

FIXTURE(race) {
};

FIXTURE_SETUP(race)
{
}

FIXTURE_TEARDOWN(race)
{
}

TEST_F_TIMEOUT(race, racers_against_close, 180)
{
	struct racer_arg args[R_NRACERS];
	pthread_t threads[R_NRACERS], rm;
	long inuse0, orphan0, inuse, orphan, ref0, ref;
	struct race r = { 0 };
	double t0, end;
	int i, s, peer, err, pin;

	/*
	 * A wsclose socket of our own pins the module for the whole test
	 * (the library holds no descriptor that would): rmmod is refused
	 * throughout, also between rounds.
	 */
	s = wsclose_socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, wsclose_closesocket(s, &err));
	pin = wsclose_socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, pin);
	sockstat(&inuse0, &orphan0);
	ref0 = read_long("/sys/module/wsclose/refcnt");
	ASSERT_LE(1, ref0);

	ASSERT_EQ(0, pthread_barrier_init(&r.start, NULL, R_NRACERS + 1));
	ASSERT_EQ(0, pthread_barrier_init(&r.end, NULL, R_NRACERS + 1));
	for (i = 0; i < R_NRACERS; i++) {
		args[i] = (struct racer_arg){ &r, i };
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, racer, &args[i]));
	}
	ASSERT_EQ(0, pthread_create(&rm, NULL, rmmod_loop, &r));

	t0 = now_s();
	end = t0 + TIME_LIMIT_S;
	for (r.round = 0; r.round < ROUNDS && now_s() < end; r.round++) {
		s = wsclose_socket(r.round & 8 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
		ASSERT_LE(0, s);
		peer = connect_peer(s, r.round & 8 ? AF_INET6 : AF_INET, 0);
		ASSERT_LE(0, peer);
		send(s, "hello", 5, MSG_NOSIGNAL);
		send(peer, "x", r.round & 16 ? 1 : 0, MSG_NOSIGNAL);
		r.fd = s;
		pthread_barrier_wait(&r.start);
		pthread_barrier_wait(&r.end);
		close(s);	/* EBADF unless every closer failed */
		close(peer);
	}
	r.stop = 1;
	pthread_barrier_wait(&r.start);
	for (i = 0; i < R_NRACERS; i++)
		pthread_join(threads[i], NULL);
	pthread_join(rm, NULL);
	TH_LOG("%d rounds in %.1f s", r.round, now_s() - t0);

	EXPECT_LE(MIN_ROUNDS, r.round);
	for (i = 0; i < R_NRACERS; i++) {
		EXPECT_EQ(0, r.bad[i]) TH_LOG("racer %d: last errno %d", i,
					      r.last_bad_errno[i]);
	}
	EXPECT_EQ(0, r.rmmod_bad);

	/* every socket and every module reference is gone again */
	for (i = 0; i < 500; i++) {
		sockstat(&inuse, &orphan);
		ref = read_long("/sys/module/wsclose/refcnt");
		if (inuse == inuse0 && ref == ref0)
			break;
		sleep_ms(20);
	}
	EXPECT_EQ(inuse0, inuse);
	EXPECT_EQ(ref0, ref);
	EXPECT_EQ(0, wsclose_closesocket(pin, &err));
}

TEST_HARNESS_MAIN
