// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose abort selftests: when a close commits, every thread blocked on
 * the socket returns ECANCELED, poll-type waiters see EPOLLERR and never
 * EPOLLIN/HUP/RDHUP, a listener's queued connections are reset, and
 * accepted sockets inherit the listener's linger.
 */
#define _GNU_SOURCE
#include <linux/aio_abi.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define SETTLE_MS	200	/* let a thread reach its blocking call */

enum op { OP_RECV, OP_READ, OP_SEND, OP_WRITE, OP_ACCEPT, OP_CONNECT };

struct blocked {
	enum op op;
	int fd;
	struct sockaddr_storage to;	/* OP_CONNECT */
	socklen_t tolen;
	ssize_t ret;
	int err;
	double returned_at;
};

static void *block(void *arg)
{
	static char big[1 << 20];
	struct blocked *b = arg;
	char buf[64];

	switch (b->op) {
	case OP_RECV:
		b->ret = recv(b->fd, buf, sizeof(buf), 0);
		break;
	case OP_READ:
		b->ret = read(b->fd, buf, sizeof(buf));
		break;
	case OP_SEND:
		b->ret = send(b->fd, big, sizeof(big), MSG_NOSIGNAL);
		break;
	case OP_WRITE:
		b->ret = write(b->fd, big, sizeof(big));
		break;
	case OP_ACCEPT:
		b->ret = accept(b->fd, NULL, NULL);
		break;
	case OP_CONNECT:
		b->ret = connect(b->fd, (struct sockaddr *)&b->to, b->tolen);
		break;
	}
	b->err = errno;
	b->returned_at = now_s();
	return NULL;
}

FIXTURE(blocked) {
	int s, peer;
	struct stream sent;
};

FIXTURE_VARIANT(blocked) {
	enum op op;
	int family;
	int linger_zero;	/* close abortively rather than gracefully */
};

FIXTURE_VARIANT_ADD(blocked, recv_v4) { OP_RECV, AF_INET, 0 };
FIXTURE_VARIANT_ADD(blocked, recv_v6_reset) { OP_RECV, AF_INET6, 1 };
FIXTURE_VARIANT_ADD(blocked, read_v4) { OP_READ, AF_INET, 0 };
FIXTURE_VARIANT_ADD(blocked, send_v4) { OP_SEND, AF_INET, 0 };
FIXTURE_VARIANT_ADD(blocked, send_v6_reset) { OP_SEND, AF_INET6, 1 };
FIXTURE_VARIANT_ADD(blocked, write_v6) { OP_WRITE, AF_INET6, 0 };

FIXTURE_SETUP(blocked)
{
	int v = 8192;

	self->s = wsclose_socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, self->s);
	ASSERT_EQ(0, setsockopt(self->s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	self->peer = connect_peer(self->s, variant->family, 4096);
	ASSERT_LE(0, self->peer);
	if (variant->op == OP_SEND || variant->op == OP_WRITE)
		ASSERT_LT(0, fill_buffers(self->s, &self->sent, 200));
}

FIXTURE_TEARDOWN(blocked)
{
	if (self->s >= 0)
		close(self->s);
	close(self->peer);
}

TEST_F(blocked, returns_ecanceled)
{
	struct blocked b = { .op = variant->op, .fd = self->s };
	int err = 0;
	double t0;
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, block, &b));
	sleep_ms(SETTLE_MS);
	ASSERT_EQ(0, b.returned_at);	/* still blocked */
	if (variant->linger_zero)
		ASSERT_EQ(0, wsclose_set_linger(self->s, 1, 0, &err));
	t0 = now_s();
	ASSERT_EQ(0, wsclose_closesocket(self->s, &err));
	self->s = -1;
	pthread_join(t, NULL);
	EXPECT_EQ(-1, b.ret);
	EXPECT_EQ(ECANCELED, b.err);
	EXPECT_GT(1.0, b.returned_at - t0);
}

/* Accept and connect, on listening and connecting sockets. */
FIXTURE(listener) {
	int l;
	struct sockaddr_storage ss;
	socklen_t len;
};

FIXTURE_VARIANT(listener) {
	int family;
};

FIXTURE_VARIANT_ADD(listener, v4) { AF_INET };
FIXTURE_VARIANT_ADD(listener, v6) { AF_INET6 };

FIXTURE_SETUP(listener)
{
	self->len = loop_addr(variant->family, &self->ss, 0);
	self->l = wsclose_socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, self->l);
	ASSERT_EQ(0, bind(self->l, (struct sockaddr *)&self->ss, self->len));
	ASSERT_EQ(0, getsockname(self->l, (struct sockaddr *)&self->ss, &self->len));
	ASSERT_EQ(0, listen(self->l, 8));
}

FIXTURE_TEARDOWN(listener)
{
	if (self->l >= 0)
		close(self->l);
}

TEST_F(listener, blocked_accept_returns_ecanceled)
{
	struct blocked b = { .op = OP_ACCEPT, .fd = self->l };
	pthread_t t;
	int err;

	ASSERT_EQ(0, pthread_create(&t, NULL, block, &b));
	sleep_ms(SETTLE_MS);
	ASSERT_EQ(0, b.returned_at);
	ASSERT_EQ(0, wsclose_closesocket(self->l, &err));
	self->l = -1;
	pthread_join(t, NULL);
	EXPECT_EQ(-1, b.ret);
	EXPECT_EQ(ECANCELED, b.err);
}

/* Connections queued but not accepted are reset by the close. */
TEST_F(listener, queued_connections_are_reset)
{
	struct seen seen;
	int c, err;

	c = socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, connect(c, (struct sockaddr *)&self->ss, self->len));
	ASSERT_EQ(0, wsclose_closesocket(self->l, &err));
	self->l = -1;
	peer_read_all(c, &seen, 10);
	EXPECT_EQ(ECONNRESET, seen.err);
	close(c);
}

/* Accepted sockets inherit the listener's linger, and are wsclose sockets. */
TEST_F(listener, accepted_inherits_linger)
{
	unsigned short secs = 0;
	int c, a, onoff = 0, err = 0;

	ASSERT_EQ(0, wsclose_set_linger(self->l, 1, 555, &err));
	c = socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, connect(c, (struct sockaddr *)&self->ss, self->len));
	a = accept(self->l, NULL, NULL);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, wsclose_get_linger(a, &onoff, &secs, &err));
	EXPECT_EQ(1, onoff);
	EXPECT_EQ(555, secs);
	EXPECT_EQ(WSCLOSE_STATE_OPEN, query_state(a));
	close(a);
	close(c);
}

/* A connect that cannot complete (the backlog is full) is aborted. */
TEST_F(listener, blocked_connect_returns_ecanceled)
{
	struct blocked b = { .op = OP_CONNECT };
	int fill[16], n = 0, err;
	pthread_t t;
	int plain;
	struct sockaddr_storage ss;
	socklen_t len;

	/* a plain listener with a backlog of 0, made full */
	plain = plain_listener(variant->family, 0, &ss, &len);
	ASSERT_LE(0, plain);
	ASSERT_EQ(0, listen(plain, 0));
	for (n = 0; n < 2; n++) {
		fill[n] = socket(variant->family, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[n], (struct sockaddr *)&ss, len);
	}
	sleep_ms(100);
	b.fd = wsclose_socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, b.fd);
	b.to = ss;
	b.tolen = len;
	ASSERT_EQ(0, pthread_create(&t, NULL, block, &b));
	sleep_ms(SETTLE_MS + 300);
	ASSERT_EQ(0, b.returned_at) TH_LOG("connect returned %zd errno %d", b.ret, b.err);
	ASSERT_EQ(0, wsclose_closesocket(b.fd, &err));
	pthread_join(t, NULL);
	EXPECT_EQ(-1, b.ret);
	EXPECT_EQ(ECANCELED, b.err);
	while (n--)
		close(fill[n]);
	close(plain);
}

/* ---- poll-type waiters -------------------------------------------------- */

struct poller {
	int fd, epfd;
	int ret;
	short revents;
	uint32_t events;
};

static void *do_poll(void *arg)
{
	struct poller *p = arg;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN | POLLRDHUP };

	p->ret = poll(&pfd, 1, 10000);
	p->revents = pfd.revents;
	return NULL;
}

static void *do_epoll(void *arg)
{
	struct poller *p = arg;
	struct epoll_event ev = { 0 };

	p->ret = epoll_wait(p->epfd, &ev, 1, 10000);
	p->events = ev.events;
	return NULL;
}

FIXTURE(pollers) {
	int s, peer;
};

FIXTURE_VARIANT(pollers) {
	int family;
};

FIXTURE_VARIANT_ADD(pollers, v4) { AF_INET };
FIXTURE_VARIANT_ADD(pollers, v6) { AF_INET6 };

FIXTURE_SETUP(pollers)
{
	self->s = wsclose_socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, self->s);
	self->peer = connect_peer(self->s, variant->family, 0);
	ASSERT_LE(0, self->peer);
}

FIXTURE_TEARDOWN(pollers)
{
	close(self->peer);
}

/* poll and epoll wake with EPOLLERR only: no FD_CLOSE after close. */
TEST_F(pollers, wake_with_error_only)
{
	struct pollfd pfd;
	struct poller p = { .ret = -2 };
	struct poller e = { .fd = self->s, .ret = -2 };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET };
	pthread_t tp, te;
	int d, err;

	/*
	 * An alias keeps the file alive past the close.  poll(2) names
	 * descriptors: it polls the alias, since the closed descriptor itself
	 * would read back as POLLNVAL.
	 */
	d = dup(self->s);
	ASSERT_LE(0, d);
	p.fd = d;

	e.epfd = epoll_create1(0);
	ASSERT_LE(0, e.epfd);
	ASSERT_EQ(0, epoll_ctl(e.epfd, EPOLL_CTL_ADD, self->s, &ev));
	ASSERT_EQ(0, pthread_create(&tp, NULL, do_poll, &p));
	ASSERT_EQ(0, pthread_create(&te, NULL, do_epoll, &e));
	sleep_ms(SETTLE_MS);
	ASSERT_EQ(-2, p.ret);
	ASSERT_EQ(-2, e.ret);
	ASSERT_EQ(0, wsclose_closesocket(self->s, &err));
	pthread_join(tp, NULL);
	pthread_join(te, NULL);
	EXPECT_EQ(1, p.ret);
	EXPECT_EQ(POLLERR, p.revents);
	EXPECT_EQ(1, e.ret);
	EXPECT_EQ(EPOLLERR, e.events);

	/* later: still only an error, and nothing once the last fd is gone */
	pfd.fd = d;
	pfd.events = POLLIN | POLLOUT | POLLRDHUP;
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLERR, pfd.revents);
	close(d);
	EXPECT_EQ(0, epoll_wait(e.epfd, &ev, 1, 100));
	close(e.epfd);
}

/* ---- Linux native AIO ----------------------------------------------------- */

struct aio_reader {
	aio_context_t ctx;
	int fd;
	long submitted;
	char buf[64];
};

static void *aio_read(void *arg)
{
	struct aio_reader *a = arg;
	struct iocb cb = {
		.aio_lio_opcode = IOCB_CMD_PREAD,
		.aio_fildes = a->fd,
		.aio_buf = (unsigned long)a->buf,
		.aio_nbytes = sizeof(a->buf),
		.aio_data = 7,
	};
	struct iocb *cbs[1] = { &cb };

	/* a socket read is synchronous: io_submit blocks in it */
	a->submitted = syscall(__NR_io_submit, a->ctx, 1, cbs);
	return NULL;
}

TEST_F(pollers, aio_read_completes_with_ecanceled)
{
	struct aio_reader a = { .fd = self->s };
	struct io_event ev = { 0 };
	struct timespec ts = { 5, 0 };
	pthread_t t;
	int err;

	ASSERT_EQ(0, syscall(__NR_io_setup, 4, &a.ctx));
	ASSERT_EQ(0, pthread_create(&t, NULL, aio_read, &a));
	sleep_ms(SETTLE_MS);
	ASSERT_EQ(0, wsclose_closesocket(self->s, &err));
	pthread_join(t, NULL);
	ASSERT_EQ(1, a.submitted);
	ASSERT_EQ(1, syscall(__NR_io_getevents, a.ctx, 1, 1, &ev, &ts));
	EXPECT_EQ(7, ev.data);
	EXPECT_EQ(-ECANCELED, ev.res);
	syscall(__NR_io_destroy, a.ctx);
}

/* Every operation through a remaining alias finds no socket. */
TEST_F(pollers, every_operation_on_an_alias_fails)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct pollfd pfd;
	int d = dup(self->s), v = 1, err;
	char b;

	ASSERT_LE(0, d);
	ASSERT_EQ(0, wsclose_closesocket(self->s, &err));
#define GONE(call) do { errno = 0; EXPECT_EQ(-1, (call)); EXPECT_EQ(ENOTSOCK, errno); } while (0)
	GONE(send(d, "x", 1, MSG_DONTWAIT));
	GONE(recv(d, &b, 1, MSG_DONTWAIT));
	GONE((int)write(d, "x", 1));
	GONE((int)read(d, &b, 1));
	GONE(accept(d, NULL, NULL));
	GONE(connect(d, (struct sockaddr *)&ss, loop_addr(AF_INET, &ss, 9)));
	GONE(bind(d, (struct sockaddr *)&ss, loop_addr(AF_INET, &ss, 0)));
	GONE(listen(d, 1));
	GONE(shutdown(d, SHUT_RDWR));
	GONE(getsockname(d, (struct sockaddr *)&ss, &len));
	GONE(getpeername(d, (struct sockaddr *)&ss, &len));
	GONE(ioctl(d, FIONREAD, &v));
	GONE(setsockopt(d, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)));
	len = sizeof(v);
	GONE(getsockopt(d, IPPROTO_TCP, TCP_NODELAY, &v, &len));
#undef GONE
	pfd = (struct pollfd){ .fd = d, .events = POLLIN | POLLOUT };
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLERR, pfd.revents);
	close(d);
}

/* ---- many waiters ------------------------------------------------------- */

#define FANOUT 64

TEST(fanout_64_blocked_threads)
{
	struct blocked b[FANOUT];
	pthread_t t[FANOUT];
	int s, peer, i, err, cancelled = 0;
	double t0, last = 0;

	s = wsclose_socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, s);
	peer = connect_peer(s, AF_INET, 0);
	ASSERT_LE(0, peer);
	for (i = 0; i < FANOUT; i++) {
		b[i] = (struct blocked){ .op = i & 1 ? OP_READ : OP_RECV, .fd = s };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, block, &b[i]));
	}
	sleep_ms(SETTLE_MS * 3);
	t0 = now_s();
	ASSERT_EQ(0, wsclose_closesocket(s, &err));
	for (i = 0; i < FANOUT; i++) {
		pthread_join(t[i], NULL);
		cancelled += b[i].ret == -1 && b[i].err == ECANCELED;
		if (b[i].returned_at > last)
			last = b[i].returned_at;
	}
	EXPECT_EQ(FANOUT, cancelled);
	EXPECT_GT(5.0, last - t0);
	close(peer);
}

TEST_HARNESS_MAIN
