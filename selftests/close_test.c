// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose close selftests: the SO_LINGER / SO_DONTLINGER matrix of
 * WSPCloseSocket, its error cases and retry paths, with what the peer saw.
 *
 * "Data pending" means the peer does not read and both buffers are full.
 * Time bounds are generous: QEMU without KVM is slow.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define SMALL_SNDBUF	8192
#define SMALL_RCVBUF	4096
#define FAST_S		1.0	/* "returns at once", under emulation */
#define PEER_WAIT_S	20.0	/* reading what a graceful close sent */

/* A wsclose TCP socket @s connected to a plain peer. */
struct conn {
	int s, peer;
	struct stream sent;
};

/*
 * Connect, then either fill both buffers (@pending) or send a little and
 * wait until it is acknowledged, so that nothing is pending.
 */
static void conn_setup(struct __test_metadata *_metadata, struct conn *c,
		       int family, int pending)
{
	unsigned char buf[1000];
	int v = SMALL_SNDBUF;

	memset(c, 0, sizeof(*c));
	c->s = wsclose_socket(family, SOCK_STREAM, 0);
	ASSERT_LE(0, c->s);
	if (pending)
		ASSERT_EQ(0, setsockopt(c->s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	c->peer = connect_peer(c->s, family, pending ? SMALL_RCVBUF : 0);
	ASSERT_LE(0, c->peer);
	if (pending) {
		ASSERT_LT(0, fill_buffers(c->s, &c->sent, 200));
	} else {
		stream_fill(0, buf, sizeof(buf));
		ASSERT_EQ((ssize_t)sizeof(buf), send(c->s, buf, sizeof(buf), 0));
		stream_add(&c->sent, buf, sizeof(buf));
		ASSERT_EQ(0, wait_acked(c->s, 10));
	}
}

static void conn_teardown(struct conn *c)
{
	if (c->s >= 0)
		close(c->s);
	if (c->peer >= 0)
		close(c->peer);
}

/* The descriptor was released by a successful close. */
static int released(int fd)
{
	return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

static int closesocket_timed(int s, unsigned int flags, int *outcome, int *err,
			     double *elapsed)
{
	double t0 = now_s();
	int ret;

	*outcome = -1;
	*err = 0;
	ret = wsclose_closesocket_outcome(s, flags, outcome, err);
	*elapsed = now_s() - t0;
	return ret;
}

/* ---- the close table ---------------------------------------------------- */

FIXTURE(matrix) {
	struct conn c;
};

FIXTURE_VARIANT(matrix) {
	int family;
	int onoff;
	int secs;
	int nonblock;
	int pending;
};

#define M(name, fam, on, secs, nb, pend) \
	FIXTURE_VARIANT_ADD(matrix, name) { fam, on, secs, nb, pend }
#define M_LINGER(lname, on, secs) \
	M(lname##_block_none_v4,     AF_INET,  on, secs, 0, 0); \
	M(lname##_block_pending_v4,  AF_INET,  on, secs, 0, 1); \
	M(lname##_nblock_none_v4,    AF_INET,  on, secs, 1, 0); \
	M(lname##_nblock_pending_v4, AF_INET,  on, secs, 1, 1); \
	M(lname##_block_none_v6,     AF_INET6, on, secs, 0, 0); \
	M(lname##_block_pending_v6,  AF_INET6, on, secs, 0, 1); \
	M(lname##_nblock_none_v6,    AF_INET6, on, secs, 1, 0); \
	M(lname##_nblock_pending_v6, AF_INET6, on, secs, 1, 1)

M_LINGER(off, 0, 0);
M_LINGER(off5, 0, 5);	/* SO_DONTLINGER keeps a timeout it does not use */
M_LINGER(l0, 1, 0);
M_LINGER(l1, 1, 1);
M_LINGER(l2, 1, 2);

FIXTURE_SETUP(matrix)
{
	int err = 0;

	conn_setup(_metadata, &self->c, variant->family, variant->pending);
	ASSERT_EQ(0, wsclose_set_linger(self->c.s, variant->onoff,
					variant->secs, &err));
	ASSERT_EQ(0, set_nonblock(self->c.s, variant->nonblock));
}

FIXTURE_TEARDOWN(matrix)
{
	conn_teardown(&self->c);
}

TEST_F(matrix, closesocket)
{
	int lingering = variant->onoff && variant->secs > 0;
	int outcome, err, ret, state, dev;
	struct seen seen;
	double dt;

	ret = closesocket_timed(self->c.s, 0, &outcome, &err, &dt);

	if (lingering && variant->nonblock && variant->pending) {
		/* WSAEWOULDBLOCK, and nothing changed */
		ASSERT_EQ(-1, ret);
		EXPECT_EQ(WSAEWOULDBLOCK, err);
		EXPECT_EQ(-1, outcome);
		EXPECT_GT(FAST_S, dt);
		EXPECT_EQ(0, fcntl(self->c.s, F_GETFD));
		state = query_state(self->c.s);
		EXPECT_EQ(WSCLOSE_STATE_OPEN, state);
		/* the buffer is still full: the socket works and says so */
		EXPECT_EQ(-1, send(self->c.s, "x", 1, MSG_DONTWAIT));
		EXPECT_EQ(EAGAIN, errno);

		/* queued data keeps flowing, and no FIN went out */
		memset(&seen, 0, sizeof(seen));
		peer_read(self->c.peer, &seen, PEER_WAIT_S, self->c.sent.bytes);
		EXPECT_TRUE(stream_equal(&self->c.sent, &seen.st));
		EXPECT_EQ(0, seen.corrupt);
		sleep_ms(100);
		EXPECT_EQ(-1, recv(self->c.peer, &dev, 1, MSG_DONTWAIT));
		EXPECT_EQ(EAGAIN, errno);

		/* once all is acknowledged, the retry closes gracefully */
		ASSERT_EQ(0, wait_acked(self->c.s, 10));
		ret = closesocket_timed(self->c.s, 0, &outcome, &err, &dt);
		ASSERT_EQ(0, ret);
		EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, outcome);
		EXPECT_TRUE(released(self->c.s));
		self->c.s = -1;
		EXPECT_EQ(0, recv(self->c.peer, &dev, 1, 0));
		return;
	}

	ASSERT_EQ(0, ret);
	EXPECT_TRUE(released(self->c.s));
	self->c.s = -1;
	peer_read_all(self->c.peer, &seen, PEER_WAIT_S);
	EXPECT_EQ(0, seen.corrupt);

	if (variant->onoff && variant->secs == 0) {
		/* abortive: RST at once, unsent data discarded */
		EXPECT_EQ(WSCLOSE_OUTCOME_ABORTIVE, outcome);
		EXPECT_GT(FAST_S, dt);
		EXPECT_EQ(ECONNRESET, seen.err);
		EXPECT_GE(self->c.sent.bytes, seen.st.bytes);
		if (variant->pending)
			EXPECT_GT(self->c.sent.bytes, seen.st.bytes);
	} else if (lingering && variant->pending) {
		/* blocking: waited l_linger seconds, then RST before returning */
		EXPECT_EQ(WSCLOSE_OUTCOME_TIMED_OUT_RESET, outcome);
		EXPECT_LE(variant->secs - 0.1, dt);
		EXPECT_GE(variant->secs + 3.0, dt);
		EXPECT_EQ(ECONNRESET, seen.err);
		EXPECT_GT(self->c.sent.bytes, seen.st.bytes);
	} else {
		/* graceful: at once, every byte then EOF */
		EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, outcome);
		EXPECT_GT(FAST_S, dt);
		EXPECT_EQ(0, seen.err);
		EXPECT_EQ(1, seen.eof);
		EXPECT_TRUE(stream_equal(&self->c.sent, &seen.st));
	}
}

/* ---- retry paths after WSAEWOULDBLOCK ----------------------------------- */

FIXTURE(retry) {
	struct conn c;
};

FIXTURE_VARIANT(retry) {
	int family;
	/* 0: linger off, 1: linger {1,0}, 2: shutdown(SHUT_WR), 3: SO_DONTLINGER=TRUE */
	int how;
};

FIXTURE_VARIANT_ADD(retry, linger_off_v4) { AF_INET, 0 };
FIXTURE_VARIANT_ADD(retry, linger_zero_v4) { AF_INET, 1 };
FIXTURE_VARIANT_ADD(retry, shutdown_wr_v4) { AF_INET, 2 };
FIXTURE_VARIANT_ADD(retry, dontlinger_v4) { AF_INET, 3 };
FIXTURE_VARIANT_ADD(retry, linger_off_v6) { AF_INET6, 0 };
FIXTURE_VARIANT_ADD(retry, linger_zero_v6) { AF_INET6, 1 };
FIXTURE_VARIANT_ADD(retry, shutdown_wr_v6) { AF_INET6, 2 };
FIXTURE_VARIANT_ADD(retry, dontlinger_v6) { AF_INET6, 3 };

FIXTURE_SETUP(retry)
{
	int err = 0;

	conn_setup(_metadata, &self->c, variant->family, 1);
	ASSERT_EQ(0, wsclose_set_linger(self->c.s, 1, 2, &err));
	ASSERT_EQ(0, set_nonblock(self->c.s, 1));
}

FIXTURE_TEARDOWN(retry)
{
	conn_teardown(&self->c);
}

TEST_F(retry, succeeds_at_once)
{
	int outcome, err = 0, ret;
	struct seen seen;
	double dt;

	ret = closesocket_timed(self->c.s, 0, &outcome, &err, &dt);
	ASSERT_EQ(-1, ret);
	ASSERT_EQ(WSAEWOULDBLOCK, err);

	switch (variant->how) {
	case 0:
		ASSERT_EQ(0, wsclose_set_linger(self->c.s, 0, 2, &err));
		break;
	case 1:
		ASSERT_EQ(0, wsclose_set_linger(self->c.s, 1, 0, &err));
		break;
	case 2:
		ASSERT_EQ(0, shutdown(self->c.s, SHUT_WR));
		break;
	case 3:
		ASSERT_EQ(0, wsclose_set_dontlinger(self->c.s, 1, &err));
		break;
	}
	ret = closesocket_timed(self->c.s, 0, &outcome, &err, &dt);
	ASSERT_EQ(0, ret);
	EXPECT_GT(FAST_S, dt);
	EXPECT_TRUE(released(self->c.s));
	self->c.s = -1;
	peer_read_all(self->c.peer, &seen, PEER_WAIT_S);
	EXPECT_EQ(0, seen.corrupt);
	if (variant->how == 1) {
		EXPECT_EQ(WSCLOSE_OUTCOME_ABORTIVE, outcome);
		EXPECT_EQ(ECONNRESET, seen.err);
	} else {
		EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, outcome);
		EXPECT_EQ(1, seen.eof);
		EXPECT_TRUE(stream_equal(&self->c.sent, &seen.st));
	}
}

/* ---- the lingering wait ------------------------------------------------- */

FIXTURE(wait) {
	struct conn c;
	struct seen seen;
	pthread_t thread;
	int outcome, err, ret;
	double dt;
};

FIXTURE_VARIANT(wait) {
	int family;
};

FIXTURE_VARIANT_ADD(wait, v4) { AF_INET };
FIXTURE_VARIANT_ADD(wait, v6) { AF_INET6 };

FIXTURE_SETUP(wait)
{
	int err = 0;

	conn_setup(_metadata, &self->c, variant->family, 1);
	ASSERT_EQ(0, wsclose_set_linger(self->c.s, 1, 2, &err));
}

FIXTURE_TEARDOWN(wait)
{
	conn_teardown(&self->c);
}

static void *late_reader(void *arg)
{
	FIXTURE_DATA(wait) *self = arg;

	sleep_ms(300);
	peer_read_all(self->c.peer, &self->seen, PEER_WAIT_S);
	return NULL;
}

/* The peer starts reading 300 ms in: drained, FIN, well before 2 s. */
TEST_F(wait, drains_when_peer_reads)
{
	int outcome, err, ret;
	double dt;

	ASSERT_EQ(0, pthread_create(&self->thread, NULL, late_reader, self));
	ret = closesocket_timed(self->c.s, 0, &outcome, &err, &dt);
	pthread_join(self->thread, NULL);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(WSCLOSE_OUTCOME_DRAINED, outcome);
	EXPECT_LE(0.25, dt);
	EXPECT_GE(1.7, dt);
	EXPECT_TRUE(released(self->c.s));
	self->c.s = -1;
	EXPECT_EQ(1, self->seen.eof);
	EXPECT_EQ(0, self->seen.err);
	EXPECT_EQ(0, self->seen.corrupt);
	EXPECT_TRUE(stream_equal(&self->c.sent, &self->seen.st));
}

static void *closer(void *arg)
{
	FIXTURE_DATA(wait) *self = arg;

	self->ret = closesocket_timed(self->c.s, 0, &self->outcome, &self->err,
				      &self->dt);
	return NULL;
}

/* One thread waits in the close; a second close gets WSAEINPROGRESS. */
TEST_F(wait, second_close_in_progress)
{
	int outcome, err, ret;
	struct seen seen;
	double dt;

	ASSERT_EQ(0, pthread_create(&self->thread, NULL, closer, self));
	sleep_ms(300);
	ret = closesocket_timed(self->c.s, 0, &outcome, &err, &dt);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(WSAEINPROGRESS, err);
	EXPECT_GT(FAST_S, dt);
	pthread_join(self->thread, NULL);
	ASSERT_EQ(0, self->ret);
	EXPECT_EQ(WSCLOSE_OUTCOME_TIMED_OUT_RESET, self->outcome);
	self->c.s = -1;
	peer_read_all(self->c.peer, &seen, PEER_WAIT_S);
	EXPECT_EQ(ECONNRESET, seen.err);
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

struct kicker {
	pthread_t target;
	int ms;
};

static void *kick(void *arg)
{
	struct kicker *k = arg;

	sleep_ms(k->ms);
	pthread_kill(k->target, SIGUSR1);
	return NULL;
}

/*
 * A signal interrupts the wait: WSAEINTR, descriptor open but closed to
 * I/O; the retry resumes toward the same deadline.
 */
TEST_F(wait, signal_interrupts_then_retry_resumes)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };	/* no SA_RESTART */
	struct kicker k = { pthread_self(), 300 };
	int outcome, err, ret;
	struct seen seen;
	pthread_t t;
	double t0 = now_s(), dt;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, pthread_create(&t, NULL, kick, &k));
	ret = closesocket_timed(self->c.s, 0, &outcome, &err, &dt);
	pthread_join(t, NULL);
	ASSERT_EQ(-1, ret);
	EXPECT_EQ(WSAEINTR, err);
	EXPECT_GT(1.5, dt);

	EXPECT_EQ(0, fcntl(self->c.s, F_GETFD));
	EXPECT_EQ(-1, send(self->c.s, "x", 1, MSG_DONTWAIT));
	EXPECT_EQ(ENOTSOCK, errno);
	EXPECT_EQ(WSCLOSE_STATE_CLOSING, query_state(self->c.s));

	ret = closesocket_timed(self->c.s, 0, &outcome, &err, &dt);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(WSCLOSE_OUTCOME_TIMED_OUT_RESET, outcome);
	dt = now_s() - t0;
	EXPECT_LE(1.9, dt);
	EXPECT_GE(4.5, dt);
	EXPECT_TRUE(released(self->c.s));
	self->c.s = -1;
	peer_read_all(self->c.peer, &seen, PEER_WAIT_S);
	EXPECT_EQ(ECONNRESET, seen.err);
}

/* A fatal signal during the wait resets the connection and exits at once. */
TEST_F(wait, fatal_signal_resets)
{
	struct seen seen;
	int status;
	double t0;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int err;

		wsclose_closesocket(self->c.s, &err);
		_exit(3);	/* not reached: killed in the wait */
	}
	sleep_ms(300);
	t0 = now_s();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_GT(1.0, now_s() - t0);
	EXPECT_TRUE(WIFSIGNALED(status));
	/* the child's close committed: our alias is closed, the peer reset */
	EXPECT_EQ(-1, send(self->c.s, "x", 1, MSG_DONTWAIT));
	EXPECT_EQ(ENOTSOCK, errno);
	peer_read_all(self->c.peer, &seen, PEER_WAIT_S);
	EXPECT_EQ(ECONNRESET, seen.err);
}

/* The caller's Winsock blocking mode overrides O_NONBLOCK, both ways. */
TEST_F(wait, as_blocking_overrides_o_nonblock)
{
	int outcome, err, ret;
	double dt;

	ASSERT_EQ(0, set_nonblock(self->c.s, 1));
	ret = closesocket_timed(self->c.s, WSCLOSE_AS_BLOCKING, &outcome, &err, &dt);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(WSCLOSE_OUTCOME_TIMED_OUT_RESET, outcome);
	EXPECT_LE(1.9, dt);
	self->c.s = -1;
}

TEST_F(wait, as_nonblocking_overrides_blocking)
{
	int outcome, err, ret;
	double dt;

	ASSERT_EQ(0, set_nonblock(self->c.s, 0));
	ret = closesocket_timed(self->c.s, WSCLOSE_AS_NONBLOCKING, &outcome, &err, &dt);
	ASSERT_EQ(-1, ret);
	EXPECT_EQ(WSAEWOULDBLOCK, err);
	EXPECT_GT(FAST_S, dt);
	EXPECT_EQ(0, fcntl(self->c.s, F_GETFD));
}

/* ---- implicit close: close(2) or exit, no library call ----------------- */

FIXTURE(implicit) {
	struct conn c;
};

FIXTURE_VARIANT(implicit) {
	int family;
};

FIXTURE_VARIANT_ADD(implicit, v4) { AF_INET };
FIXTURE_VARIANT_ADD(implicit, v6) { AF_INET6 };

FIXTURE_SETUP(implicit)
{
	int err = 0;

	conn_setup(_metadata, &self->c, variant->family, 1);
	ASSERT_EQ(0, wsclose_set_linger(self->c.s, 1, 1, &err));
}

FIXTURE_TEARDOWN(implicit)
{
	conn_teardown(&self->c);
}

/* Non-blocking: close(2) returns at once, the reset comes at l_linger. */
TEST_F(implicit, nonblocking_close_resets_at_deadline)
{
	double t0, dt;

	ASSERT_EQ(0, set_nonblock(self->c.s, 1));
	t0 = now_s();
	ASSERT_EQ(0, close(self->c.s));
	self->c.s = -1;
	EXPECT_GT(FAST_S, now_s() - t0);
	dt = time_to_reset(self->c.peer, 10);
	EXPECT_LE(0.5, dt);
	EXPECT_GE(4.0, dt);
}

/* Blocking: close(2) waits l_linger, then resets before returning. */
TEST_F(implicit, blocking_close_waits_then_resets)
{
	double t0 = now_s(), dt;

	ASSERT_EQ(0, close(self->c.s));
	self->c.s = -1;
	dt = now_s() - t0;
	EXPECT_LE(0.9, dt);
	EXPECT_GE(4.0, dt);
	EXPECT_LE(0, time_to_reset(self->c.peer, 1));
}

/* A killed process exits at once; its lingering socket is reset later. */
TEST_F(implicit, killed_process_exits_at_once)
{
	int status;
	double t0, dt;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	close(self->c.s);	/* the child holds the last descriptor */
	self->c.s = -1;
	sleep_ms(100);
	t0 = now_s();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_GT(FAST_S, now_s() - t0);
	dt = time_to_reset(self->c.peer, 10);
	EXPECT_LE(0.3, dt);
	EXPECT_GE(4.0, dt);
}

/* A graceful implicit close delivers every byte. */
TEST_F(implicit, dontlinger_close_delivers_everything)
{
	struct seen seen;
	int err = 0;

	ASSERT_EQ(0, wsclose_set_dontlinger(self->c.s, 1, &err));
	ASSERT_EQ(0, close(self->c.s));
	self->c.s = -1;
	peer_read_all(self->c.peer, &seen, PEER_WAIT_S);
	EXPECT_EQ(1, seen.eof);
	EXPECT_EQ(0, seen.corrupt);
	EXPECT_TRUE(stream_equal(&self->c.sent, &seen.st));
}

/* ---- other close rules -------------------------------------------------- */

FIXTURE(misc) {
	int family;
};

FIXTURE_VARIANT(misc) {
	int family;
};

FIXTURE_VARIANT_ADD(misc, v4) { AF_INET };
FIXTURE_VARIANT_ADD(misc, v6) { AF_INET6 };

FIXTURE_SETUP(misc)
{
	self->family = variant->family;
}

FIXTURE_TEARDOWN(misc)
{
}

/* Unread received data makes even a graceful close abortive. */
TEST_F(misc, unread_data_resets)
{
	struct pollfd pfd;
	struct conn c;
	struct seen seen;
	int outcome, err;
	double dt;

	conn_setup(_metadata, &c, self->family, 0);
	ASSERT_EQ(5, send(c.peer, "hello", 5, 0));
	pfd = (struct pollfd){ .fd = c.s, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, 5000));
	ASSERT_EQ(0, closesocket_timed(c.s, 0, &outcome, &err, &dt));
	EXPECT_EQ(WSCLOSE_OUTCOME_ABORTIVE, outcome);
	EXPECT_GT(FAST_S, dt);
	c.s = -1;
	peer_read_all(c.peer, &seen, PEER_WAIT_S);
	EXPECT_EQ(ECONNRESET, seen.err);
	conn_teardown(&c);
}

/* Closed through one alias: the others see a closed socket. */
TEST_F(misc, alias_after_close_is_not_a_socket)
{
	unsigned short secs = 0xbeef;
	int onoff = 0x5a5a, err = 0, d;
	char b, big[1024];
	struct conn c;

	conn_setup(_metadata, &c, self->family, 0);
	d = dup(c.s);
	ASSERT_LE(0, d);
	ASSERT_EQ(0, wsclose_closesocket(c.s, &err));
	c.s = -1;

	EXPECT_EQ(-1, wsclose_closesocket(d, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	EXPECT_EQ(-1, send(d, "x", 1, 0));
	EXPECT_EQ(ENOTSOCK, errno);
	EXPECT_EQ(-1, recv(d, &b, 1, MSG_DONTWAIT));
	EXPECT_EQ(ENOTSOCK, errno);
	EXPECT_EQ(-1, shutdown(d, SHUT_RDWR));
	EXPECT_EQ(ENOTSOCK, errno);
	EXPECT_EQ(-1, wsclose_get_linger(d, &onoff, &secs, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	EXPECT_EQ(0x5a5a, onoff);
	EXPECT_EQ(0xbeef, secs);
	EXPECT_EQ(-1, wsclose_set_linger(d, 1, 5, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	EXPECT_EQ(WSCLOSE_STATE_CLOSED, query_state(d));
	/* the peer got the graceful close */
	EXPECT_EQ(1000, recv(c.peer, big, sizeof(big), MSG_WAITALL));
	EXPECT_EQ(0, recv(c.peer, &b, 1, 0));
	close(d);
	conn_teardown(&c);
}

struct blocked {
	int fd;
	int ret;
	int err;
};

static void *blocked_recv(void *arg)
{
	struct blocked *b = arg;
	char buf[16];

	b->ret = recv(b->fd, buf, sizeof(buf), 0);
	b->err = errno;
	return NULL;
}

/* A thread blocked in recv returns ECANCELED when the close commits. */
TEST_F(misc, blocked_recv_is_aborted)
{
	struct blocked b = { .ret = 1 };
	struct conn c;
	pthread_t t;
	int err;

	conn_setup(_metadata, &c, self->family, 0);
	b.fd = c.s;
	ASSERT_EQ(0, pthread_create(&t, NULL, blocked_recv, &b));
	sleep_ms(200);
	ASSERT_EQ(0, wsclose_closesocket(c.s, &err));
	c.s = -1;
	pthread_join(t, NULL);
	EXPECT_EQ(-1, b.ret);
	EXPECT_EQ(ECANCELED, b.err);
	conn_teardown(&c);
}

/* UDP: closing is immediate, linger does not apply, receives abort. */
TEST_F(misc, udp)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(self->family, &ss, 0);
	struct blocked b = { .ret = 1 };
	int s, err = 0, outcome, onoff, dl;
	unsigned short secs;
	pthread_t t;
	double dt;

	s = wsclose_socket(self->family, SOCK_DGRAM, 0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, bind(s, (struct sockaddr *)&ss, len));
	EXPECT_EQ(-1, wsclose_set_linger(s, 1, 5, &err));
	EXPECT_EQ(WSAENOPROTOOPT, err);
	EXPECT_EQ(-1, wsclose_get_linger(s, &onoff, &secs, &err));
	EXPECT_EQ(WSAENOPROTOOPT, err);
	EXPECT_EQ(-1, wsclose_get_dontlinger(s, &dl, &err));
	EXPECT_EQ(WSAENOPROTOOPT, err);

	b.fd = s;
	ASSERT_EQ(0, pthread_create(&t, NULL, blocked_recv, &b));
	sleep_ms(200);
	ASSERT_EQ(0, closesocket_timed(s, WSCLOSE_AS_NONBLOCKING, &outcome, &err, &dt));
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, outcome);
	EXPECT_GT(FAST_S, dt);
	pthread_join(t, NULL);
	EXPECT_EQ(-1, b.ret);
	EXPECT_EQ(ECANCELED, b.err);
}

/* The Winsock views of SO_LINGER. */
TEST_F(misc, linger_options)
{
	int s = wsclose_socket(self->family, SOCK_STREAM, 0);
	int onoff = -1, dl = -1, err = 0;
	unsigned short secs = 1;

	ASSERT_LE(0, s);
	/* default: SO_DONTLINGER */
	ASSERT_EQ(0, wsclose_get_linger(s, &onoff, &secs, &err));
	EXPECT_EQ(0, onoff);
	EXPECT_EQ(0, secs);
	ASSERT_EQ(0, wsclose_get_dontlinger(s, &dl, &err));
	EXPECT_EQ(1, dl);

	ASSERT_EQ(0, wsclose_set_linger(s, 1, 73, &err));
	ASSERT_EQ(0, wsclose_get_linger(s, &onoff, &secs, &err));
	EXPECT_EQ(1, onoff);
	EXPECT_EQ(73, secs);
	/* SO_DONTLINGER=TRUE keeps the timeout, FALSE brings it back */
	ASSERT_EQ(0, wsclose_set_dontlinger(s, 1, &err));
	ASSERT_EQ(0, wsclose_get_linger(s, &onoff, &secs, &err));
	EXPECT_EQ(0, onoff);
	EXPECT_EQ(73, secs);
	ASSERT_EQ(0, wsclose_set_dontlinger(s, 0, &err));
	ASSERT_EQ(0, wsclose_get_linger(s, &onoff, &secs, &err));
	EXPECT_EQ(1, onoff);
	EXPECT_EQ(73, secs);
	ASSERT_EQ(0, wsclose_get_dontlinger(s, &dl, &err));
	EXPECT_EQ(0, dl);

	ASSERT_EQ(0, wsclose_set_linger(s, 7, 65535, &err));
	ASSERT_EQ(0, wsclose_get_linger(s, &onoff, &secs, &err));
	EXPECT_EQ(1, onoff);
	EXPECT_EQ(65535, secs);

	EXPECT_EQ(-1, wsclose_get_linger(s, NULL, &secs, &err));
	EXPECT_EQ(WSAEFAULT, err);
	EXPECT_EQ(-1, wsclose_get_dontlinger(s, NULL, &err));
	EXPECT_EQ(WSAEFAULT, err);
	close(s);
}

TEST_HARNESS_MAIN
