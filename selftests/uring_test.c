// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose io_uring selftests: requests pending on a socket when its close
 * commits complete with -ECANCELED, their CQEs are
 * posted and an eventfd registered on the ring fires; nothing stays pending
 * and the ring tears down cleanly.  Also the fan-out: many requests and
 * threads on one socket, one close.
 */
#define _GNU_SOURCE
#include <liburing.h>
#include <pthread.h>
#include <sys/eventfd.h>

#include "kselftest_harness.h"
#include "helpers.h"

enum uop {
	U_RECV, U_RECV_MULTISHOT, U_RECVMSG, U_READ, U_SEND, U_SENDMSG, U_WRITE,
	U_ACCEPT, U_ACCEPT_MULTISHOT, U_CONNECT, U_POLL_ADD,
};

FIXTURE(uring) {
	struct io_uring ring;
	int efd;
	int s;		/* the wsclose socket the request waits on */
	int peer;	/* its plain peer, if connected */
	int plain;	/* a plain listener, for U_CONNECT */
	int fill[2];
	struct stream sent;
	char buf[4096];
	struct iovec iov;
	struct msghdr msg;
	struct sockaddr_storage ss;
	socklen_t len;
};

FIXTURE_VARIANT(uring) {
	enum uop op;
	int family;
};

FIXTURE_VARIANT_ADD(uring, recv) { U_RECV, AF_INET };
FIXTURE_VARIANT_ADD(uring, recv_multishot) { U_RECV_MULTISHOT, AF_INET6 };
FIXTURE_VARIANT_ADD(uring, recvmsg) { U_RECVMSG, AF_INET };
FIXTURE_VARIANT_ADD(uring, read) { U_READ, AF_INET6 };
FIXTURE_VARIANT_ADD(uring, send) { U_SEND, AF_INET };
FIXTURE_VARIANT_ADD(uring, sendmsg) { U_SENDMSG, AF_INET6 };
FIXTURE_VARIANT_ADD(uring, write) { U_WRITE, AF_INET };
FIXTURE_VARIANT_ADD(uring, accept) { U_ACCEPT, AF_INET };
FIXTURE_VARIANT_ADD(uring, accept_multishot) { U_ACCEPT_MULTISHOT, AF_INET6 };
FIXTURE_VARIANT_ADD(uring, connect) { U_CONNECT, AF_INET };
FIXTURE_VARIANT_ADD(uring, poll_add) { U_POLL_ADD, AF_INET6 };

FIXTURE_SETUP(uring)
{
	int v = 8192;

	self->peer = self->plain = self->fill[0] = self->fill[1] = -1;
	ASSERT_EQ(0, io_uring_queue_init(64, &self->ring, 0));
	self->efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
	ASSERT_EQ(0, io_uring_register_eventfd(&self->ring, self->efd));

	self->s = wsclose_socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, self->s);
	switch (variant->op) {
	case U_ACCEPT:
	case U_ACCEPT_MULTISHOT:
		self->len = loop_addr(variant->family, &self->ss, 0);
		ASSERT_EQ(0, bind(self->s, (struct sockaddr *)&self->ss, self->len));
		ASSERT_EQ(0, listen(self->s, 4));
		break;
	case U_CONNECT:
		/* a listener with a full backlog: the SYN goes unanswered */
		self->plain = plain_listener(variant->family, 0, &self->ss, &self->len);
		ASSERT_LE(0, self->plain);
		ASSERT_EQ(0, listen(self->plain, 0));
		for (int i = 0; i < 2; i++) {
			self->fill[i] = socket(variant->family, SOCK_STREAM | SOCK_NONBLOCK, 0);
			connect(self->fill[i], (struct sockaddr *)&self->ss, self->len);
		}
		sleep_ms(100);
		break;
	default:
		ASSERT_EQ(0, setsockopt(self->s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
		self->peer = connect_peer(self->s, variant->family, 4096);
		ASSERT_LE(0, self->peer);
		if (variant->op == U_SEND || variant->op == U_SENDMSG ||
		    variant->op == U_WRITE)
			ASSERT_LT(0, fill_buffers(self->s, &self->sent, 200));
		break;
	}
}

FIXTURE_TEARDOWN(uring)
{
	io_uring_queue_exit(&self->ring);
	close(self->efd);
	if (self->s >= 0)
		close(self->s);
	if (self->peer >= 0)
		close(self->peer);
	if (self->plain >= 0)
		close(self->plain);
	for (int i = 0; i < 2; i++)
		if (self->fill[i] >= 0)
			close(self->fill[i]);
}

static void prep(FIXTURE_DATA(uring) *self, enum uop op, struct io_uring_sqe *sqe)
{
	self->iov = (struct iovec){ self->buf, sizeof(self->buf) };
	self->msg = (struct msghdr){ .msg_iov = &self->iov, .msg_iovlen = 1 };
	switch (op) {
	case U_RECV:
		io_uring_prep_recv(sqe, self->s, self->buf, sizeof(self->buf), 0);
		break;
	case U_RECV_MULTISHOT:
		/* multishot receive needs provided buffers: register a group */
		io_uring_prep_recv_multishot(sqe, self->s, NULL, 0, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = 7;
		break;
	case U_RECVMSG:
		io_uring_prep_recvmsg(sqe, self->s, &self->msg, 0);
		break;
	case U_READ:
		io_uring_prep_read(sqe, self->s, self->buf, sizeof(self->buf), 0);
		break;
	case U_SEND:
		io_uring_prep_send(sqe, self->s, self->buf, sizeof(self->buf), MSG_NOSIGNAL);
		break;
	case U_SENDMSG:
		io_uring_prep_sendmsg(sqe, self->s, &self->msg, MSG_NOSIGNAL);
		break;
	case U_WRITE:
		io_uring_prep_write(sqe, self->s, self->buf, sizeof(self->buf), 0);
		break;
	case U_ACCEPT:
		io_uring_prep_accept(sqe, self->s, NULL, NULL, 0);
		break;
	case U_ACCEPT_MULTISHOT:
		io_uring_prep_multishot_accept(sqe, self->s, NULL, NULL, 0);
		break;
	case U_CONNECT:
		io_uring_prep_connect(sqe, self->s, (struct sockaddr *)&self->ss, self->len);
		break;
	case U_POLL_ADD:
		io_uring_prep_poll_add(sqe, self->s, POLLIN | POLLRDHUP);
		break;
	}
	io_uring_sqe_set_data64(sqe, 42);
}

TEST_F(uring, pending_request_is_cancelled)
{
	struct __kernel_timespec ts = { .tv_sec = 5 };
	struct io_uring_cqe *cqe;
	uint64_t events = 0;
	int err, ret, n = 0;
	double t0;

	if (variant->op == U_RECV_MULTISHOT) {
		static char pool[4][256];
		struct io_uring_sqe *sqe = io_uring_get_sqe(&self->ring);

		io_uring_prep_provide_buffers(sqe, pool, 256, 4, 7, 0);
		ASSERT_EQ(1, io_uring_submit(&self->ring));
		ASSERT_EQ(0, io_uring_wait_cqe(&self->ring, &cqe));
		ASSERT_EQ(0, cqe->res);
		io_uring_cqe_seen(&self->ring, cqe);
		read(self->efd, &events, sizeof(events));
	}
	prep(self, variant->op, io_uring_get_sqe(&self->ring));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	sleep_ms(200);
	/* still pending */
	ASSERT_EQ(-EAGAIN, io_uring_peek_cqe(&self->ring, &cqe))
		TH_LOG("completed early: res %d", cqe->res);

	t0 = now_s();
	ASSERT_EQ(0, wsclose_closesocket(self->s, &err));
	self->s = -1;
	/* every CQE the request posts; the last one ends it */
	for (;;) {
		ret = io_uring_wait_cqe_timeout(&self->ring, &cqe, &ts);
		ASSERT_EQ(0, ret);
		ASSERT_EQ(42, cqe->user_data);
		n++;
		if (!(cqe->flags & IORING_CQE_F_MORE))
			break;
		io_uring_cqe_seen(&self->ring, cqe);
	}
	EXPECT_GT(2.0, now_s() - t0);
	/*
	 * The commit's POLLFREE wake-up completes every armed request,
	 * POLL_ADD and multishot ones included, with -ECANCELED.
	 */
	EXPECT_EQ(-ECANCELED, cqe->res);
	io_uring_cqe_seen(&self->ring, cqe);
	EXPECT_EQ(1, n);
	/* the eventfd fired, and nothing else is left */
	EXPECT_EQ(sizeof(events), read(self->efd, &events, sizeof(events)));
	EXPECT_LE(1, events);
	EXPECT_EQ(-EAGAIN, io_uring_peek_cqe(&self->ring, &cqe));
}

/* 64 blocked threads and 256 io_uring requests; one close ends them all. */
#define THREADS 64
#define REQUESTS 256

struct blocked_reader {
	int fd, ret, err;
};

static void *blocked_recv(void *arg)
{
	struct blocked_reader *b = arg;
	char c;

	b->ret = recv(b->fd, &c, 1, 0);
	b->err = errno;
	return NULL;
}

TEST(fanout_threads_and_requests)
{
	static char bufs[REQUESTS][16];
	struct blocked_reader b[THREADS];
	struct __kernel_timespec ts = { .tv_sec = 20 };
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	pthread_t t[THREADS];
	int s, peer, i, err, cancelled = 0, threads_cancelled = 0;
	double t0;

	ASSERT_EQ(0, io_uring_queue_init(REQUESTS, &ring, 0));
	s = wsclose_socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, s);
	peer = connect_peer(s, AF_INET, 0);
	ASSERT_LE(0, peer);
	for (i = 0; i < REQUESTS; i++)
		io_uring_prep_recv(io_uring_get_sqe(&ring), s, bufs[i], sizeof(bufs[i]), 0);
	ASSERT_EQ(REQUESTS, io_uring_submit(&ring));
	for (i = 0; i < THREADS; i++) {
		b[i] = (struct blocked_reader){ .fd = s };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, blocked_recv, &b[i]));
	}
	sleep_ms(1000);
	t0 = now_s();
	ASSERT_EQ(0, wsclose_closesocket(s, &err));
	for (i = 0; i < REQUESTS; i++) {
		ASSERT_EQ(0, io_uring_wait_cqe_timeout(&ring, &cqe, &ts));
		cancelled += cqe->res == -ECANCELED;
		io_uring_cqe_seen(&ring, cqe);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		threads_cancelled += b[i].ret == -1 && b[i].err == ECANCELED;
	}
	TH_LOG("all done %.3f s after the close", now_s() - t0);
	EXPECT_EQ(REQUESTS, cancelled);
	EXPECT_EQ(THREADS, threads_cancelled);
	EXPECT_GT(15.0, now_s() - t0);
	io_uring_queue_exit(&ring);
	close(peer);
}

TEST_HARNESS_MAIN
