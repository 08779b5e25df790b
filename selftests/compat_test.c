// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose for 32-bit (ia32) callers (issue 11, item 5): built with -m32
 * against a -m32 libwsclose.a, static, without liburing; it runs in the
 * 64-bit guests through IA32 emulation, as 32-bit Wine does.
 *
 * - blocked calls (recv, send, accept) aborted by closesocket: ECANCELED;
 * - calls through an alias after the close: ENOTSOCK (also ioctl, which is
 *   syscall 54 on ia32 and setsockopt on x86_64);
 * - the device and per-socket ioctls through the compat path: adopt and
 *   its refusal, query, duplicate;
 * - the close table's errors: WSAEWOULDBLOCK (nothing changed, the retry
 *   after SO_LINGER off succeeds), WSAENOTSOCK, WSAEINPROGRESS.
 *
 * Old: ws_closed_errno() compared x86_64 syscall numbers, so a recv
 * through an alias after the close gave ECANCELED in a 32-bit process.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define SETTLE_MS	300
#define FAST_S		1.0

_Static_assert(sizeof(void *) == 4, "compat_test is built with -m32");

struct conn {
	int s, peer;
	struct stream sent;
};

static int conn_open(struct conn *c, int family, int pending)
{
	int v = 8192;

	memset(c, 0, sizeof(*c));
	c->peer = -1;
	c->s = wsclose_socket(family, SOCK_STREAM, 0);
	if (c->s < 0)
		return -1;
	if (pending && setsockopt(c->s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)))
		return -1;
	c->peer = connect_peer(c->s, family, pending ? 4096 : 0);
	if (c->peer < 0)
		return -1;
	if (pending && fill_buffers(c->s, &c->sent, 200) <= 0)
		return -1;
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->s >= 0)
		close(c->s);
	if (c->peer >= 0)
		close(c->peer);
}

enum op { OP_RECV, OP_SEND, OP_ACCEPT };

struct blocked {
	enum op op;
	int fd;
	ssize_t ret;
	int err;
	volatile int done;
};

static void *block(void *arg)
{
	static char big[1 << 20];
	struct blocked *b = arg;
	char c;

	switch (b->op) {
	case OP_RECV:
		b->ret = recv(b->fd, &c, 1, 0);
		break;
	case OP_SEND:
		b->ret = send(b->fd, big, sizeof(big), MSG_NOSIGNAL);
		break;
	case OP_ACCEPT:
		b->ret = accept(b->fd, NULL, NULL);
		break;
	}
	b->err = errno;
	b->done = 1;
	return NULL;
}

FIXTURE(compat) {
	struct conn c;
	int alias;
};

FIXTURE_VARIANT(compat) {
	int family;
};

FIXTURE_VARIANT_ADD(compat, v4) { AF_INET };
FIXTURE_VARIANT_ADD(compat, v6) { AF_INET6 };

FIXTURE_SETUP(compat)
{
	self->c.s = self->c.peer = self->alias = -1;
}

FIXTURE_TEARDOWN(compat)
{
	conn_close(&self->c);
	if (self->alias >= 0)
		close(self->alias);
}

/*
 * @b blocks on *@fd in a thread; the socket is closed under it, which must
 * end the call with ECANCELED.  Returns the seconds from the close to the
 * end of the call.
 */
static double block_then_close(struct __test_metadata *_metadata,
			       struct blocked *b, int *fd)
{
	double t0 = 0;
	pthread_t t;
	int err;

	b->fd = *fd;
	ASSERT_EQ(0, pthread_create(&t, NULL, block, b));
	sleep_ms(SETTLE_MS);
	ASSERT_EQ(0, b->done);
	t0 = now_s();
	ASSERT_EQ(0, wsclose_closesocket(*fd, &err));
	*fd = -1;
	pthread_join(t, NULL);
	EXPECT_EQ(-1, b->ret);
	EXPECT_EQ(ECANCELED, b->err);
	return now_s() - t0;
}

/* A blocked recv is aborted: ECANCELED; then every call on an alias: ENOTSOCK. */
TEST_F(compat, blocked_recv_then_alias)
{
	struct blocked b = { .op = OP_RECV };
	int on = 1, n, err;
	char c;

	ASSERT_EQ(0, conn_open(&self->c, variant->family, 0));
	self->alias = dup(self->c.s);
	ASSERT_LE(0, self->alias);
	/* the abort ends the call; the bound only catches a hang */
	EXPECT_GT(10.0, block_then_close(_metadata, &b, &self->c.s));

	/* new calls after the commit (non-blocking: a wrong answer must not hang) */
	ASSERT_EQ(0, set_nonblock(self->alias, 1));
	EXPECT_EQ(-1, recv(self->alias, &c, 1, MSG_DONTWAIT));
	EXPECT_EQ(ENOTSOCK, errno);
	EXPECT_EQ(-1, read(self->alias, &c, 1));
	EXPECT_EQ(ENOTSOCK, errno);
	EXPECT_EQ(-1, send(self->alias, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(ENOTSOCK, errno);
	EXPECT_EQ(-1, ioctl(self->alias, FIONREAD, &n));
	EXPECT_EQ(ENOTSOCK, errno);
	EXPECT_EQ(-1, setsockopt(self->alias, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)));
	EXPECT_EQ(ENOTSOCK, errno);
	EXPECT_EQ(-1, shutdown(self->alias, SHUT_RDWR));
	EXPECT_EQ(ENOTSOCK, errno);
	EXPECT_EQ(WSCLOSE_STATE_CLOSED, query_state(self->alias));
	EXPECT_EQ(-1, wsclose_closesocket(self->alias, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	EXPECT_EQ(0, recv(self->c.peer, &c, 1, 0));	/* graceful: FIN */
}

TEST_F(compat, blocked_send_aborted)
{
	struct blocked b = { .op = OP_SEND };

	ASSERT_EQ(0, conn_open(&self->c, variant->family, 1));
	block_then_close(_metadata, &b, &self->c.s);
}

TEST_F(compat, blocked_accept_aborted)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(variant->family, &ss, 0);
	struct blocked b = { .op = OP_ACCEPT };

	self->c.s = wsclose_socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, self->c.s);
	ASSERT_EQ(0, bind(self->c.s, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, listen(self->c.s, 4));
	self->alias = dup(self->c.s);
	ASSERT_LE(0, self->alias);
	block_then_close(_metadata, &b, &self->c.s);
	ASSERT_EQ(0, set_nonblock(self->alias, 1));
	EXPECT_EQ(-1, accept(self->alias, NULL, NULL));
	EXPECT_EQ(ENOTSOCK, errno);
}

/* The ioctls through the compat path: adopt, query, duplicate. */
TEST(compat_ioctls)
{
	struct wsclose_query_args q;
	int sv[2], s, d, outcome, err;
	char b;

	/* refusals: the same errno as for 64-bit callers, nothing changed */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	errno = 0;
	EXPECT_EQ(-1, wsclose_adopt(sv[0]));
	EXPECT_EQ(EAFNOSUPPORT, errno);
	EXPECT_EQ(EAFNOSUPPORT, adopt_errno(sv[0], 0));
	EXPECT_EQ(EINVAL, adopt_errno(sv[0], 1));
	EXPECT_EQ(-ENOTTY, query_state(sv[0]));
	EXPECT_EQ(1, write(sv[0], "u", 1));
	EXPECT_EQ(1, read(sv[1], &b, 1));
	close(sv[0]);
	close(sv[1]);

	s = socket(AF_INET6, SOCK_STREAM, 0);
	ASSERT_LE(0, s);
	EXPECT_EQ(-ENOTTY, query_state(s));
	ASSERT_EQ(0, wsclose_adopt(s));
	EXPECT_EQ(EALREADY, adopt_errno(s, 0));
	ASSERT_EQ(0, query(s, &q));
	EXPECT_EQ(WSCLOSE_STATE_OPEN, q.state);
	EXPECT_EQ(AF_INET6, q.family);
	EXPECT_EQ(SOCK_STREAM, q.type);
	EXPECT_EQ(1, q.handles);
	EXPECT_EQ(-1, ioctl(s, WSCLOSE_SIOC_QUERY, NULL));
	EXPECT_EQ(EFAULT, errno);

	d = wsclose_duplicate(s);
	ASSERT_LE(0, d);
	EXPECT_EQ(2, query_handles(s));
	ASSERT_EQ(0, wsclose_closesocket_outcome(d, 0, &outcome, &err));
	EXPECT_EQ(WSCLOSE_OUTCOME_NOT_LAST_HANDLE, outcome);
	EXPECT_EQ(1, query_handles(s));
	ASSERT_EQ(0, wsclose_closesocket_outcome(s, 0, &outcome, &err));
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, outcome);
}

/* WSAEWOULDBLOCK: nothing changed; the retry after SO_LINGER off succeeds. */
TEST_F(compat, close_would_block_then_retry)
{
	int outcome = -1, err = 0;
	struct seen seen;
	double t0;
	char c;

	ASSERT_EQ(0, conn_open(&self->c, variant->family, 1));
	ASSERT_EQ(0, wsclose_set_linger(self->c.s, 1, 5, &err));
	ASSERT_EQ(0, set_nonblock(self->c.s, 1));
	t0 = now_s();
	EXPECT_EQ(-1, wsclose_closesocket_outcome(self->c.s, 0, &outcome, &err));
	EXPECT_EQ(WSAEWOULDBLOCK, err);
	EXPECT_EQ(-1, outcome);
	EXPECT_GT(FAST_S, now_s() - t0);
	/* nothing changed: open, one handle, no FIN or RST */
	EXPECT_EQ(0, fcntl(self->c.s, F_GETFD));
	EXPECT_EQ(WSCLOSE_STATE_OPEN, query_state(self->c.s));
	EXPECT_EQ(1, query_handles(self->c.s));
	EXPECT_EQ(-1, send(self->c.s, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, recv(self->c.s, &c, 1, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);

	ASSERT_EQ(0, wsclose_set_linger(self->c.s, 0, 5, &err));
	ASSERT_EQ(0, wsclose_closesocket_outcome(self->c.s, 0, &outcome, &err));
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, outcome);
	self->c.s = -1;
	peer_read_all(self->c.peer, &seen, 20);
	EXPECT_EQ(1, seen.eof);
	EXPECT_EQ(0, seen.corrupt);
	EXPECT_TRUE(stream_equal(&self->c.sent, &seen.st));
}

/* WSAENOTSOCK: a closed alias, a closed number, a plain socket, a pipe. */
TEST(close_not_a_socket)
{
	int s, a, p[2], plain, err = 0;

	s = wsclose_socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, s);
	a = dup(s);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, wsclose_closesocket(s, &err));
	EXPECT_EQ(-1, wsclose_closesocket(a, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	EXPECT_EQ(0, fcntl(a, F_GETFD));	/* the failed close left it open */
	close(a);
	EXPECT_EQ(-1, wsclose_closesocket(s, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	plain = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, plain);
	EXPECT_EQ(-1, wsclose_closesocket(plain, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	EXPECT_EQ(0, fcntl(plain, F_GETFD));
	ASSERT_EQ(0, pipe(p));
	EXPECT_EQ(-1, wsclose_closesocket(p[0], &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	close(p[0]);
	close(p[1]);
	close(plain);
}

struct closer {
	int fd;
	int ret, outcome, err;
};

static void *do_close(void *arg)
{
	struct closer *c = arg;

	c->outcome = -1;
	c->ret = wsclose_closesocket_outcome(c->fd, 0, &c->outcome, &c->err);
	return NULL;
}

/* WSAEINPROGRESS: a second close while a thread waits in a lingering one. */
TEST_F(compat, close_in_progress)
{
	struct closer cl = { 0 };
	int outcome = -1, err = 0;
	struct seen seen;
	pthread_t t;

	ASSERT_EQ(0, conn_open(&self->c, variant->family, 1));
	ASSERT_EQ(0, wsclose_set_linger(self->c.s, 1, 2, &err));
	cl.fd = self->c.s;
	ASSERT_EQ(0, pthread_create(&t, NULL, do_close, &cl));
	sleep_ms(SETTLE_MS);
	EXPECT_EQ(-1, wsclose_closesocket_outcome(self->c.s, 0, &outcome, &err));
	EXPECT_EQ(WSAEINPROGRESS, err);
	EXPECT_EQ(-1, outcome);
	pthread_join(t, NULL);
	EXPECT_EQ(0, cl.ret);
	EXPECT_EQ(WSCLOSE_OUTCOME_TIMED_OUT_RESET, cl.outcome);
	self->c.s = -1;
	peer_read_all(self->c.peer, &seen, 20);
	EXPECT_EQ(ECONNRESET, seen.err);
}

TEST_HARNESS_MAIN
