// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose under hostile conditions (issue 11): descriptor numbers reused
 * during a close, io_uring task work taken for a signal, signals during
 * implicit and explicit lingering closes, the deadline after WSAEINTR,
 * ECANCELED versus ENOTSOCK decided by when an operation started, side
 * doors (sendfile, splice), events and ports after the close, reapers,
 * handles closed with close(2), and the counters of a closed socket.
 * One TEST per item of the issue; each says which old behaviour it
 * catches.  Item 9 (rmmod with a reaper armed) is rmmod_test, run last.
 *
 * "Data pending" means the peer does not read and both buffers are full.
 * Time bounds are generous: QEMU without KVM is slow.
 */
#define _GNU_SOURCE
#include <liburing.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define SMALL_SNDBUF	8192
#define SMALL_RCVBUF	4096
#define FAST_S		1.0	/* "returns at once", under emulation */
#define PEER_WAIT_S	20.0	/* reading what a close sent */
#define SETTLE_MS	300	/* let a thread reach its blocking call */

/*
 * A wsclose TCP socket connected to a plain peer; with @pending, small
 * buffers filled until sending has stalled for @pending ms.
 */
static int pending_conn(int family, int pending, int *s, int *peer,
			struct stream *sent)
{
	int v = SMALL_SNDBUF;

	memset(sent, 0, sizeof(*sent));
	*peer = -1;
	*s = wsclose_socket(family, SOCK_STREAM, 0);
	if (*s < 0)
		return -1;
	if (pending && setsockopt(*s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)))
		return -1;
	*peer = connect_peer(*s, family, pending ? SMALL_RCVBUF : 0);
	if (*peer < 0)
		return -1;
	if (pending && fill_buffers(*s, sent, pending) <= 0)
		return -1;
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
}

/* Install @sig's handler without SA_RESTART. */
static int catch_signal(int sig)
{
	struct sigaction sa = { .sa_handler = on_signal };

	return sigaction(sig, &sa, NULL);
}

struct kicker {
	pthread_t target;
	int sig;
	int ms;
};

static void *kick(void *arg)
{
	struct kicker *k = arg;

	sleep_ms(k->ms);
	pthread_kill(k->target, k->sig);
	return NULL;
}

/* A peer that starts reading after @delay_ms. */
struct late_reader {
	int fd;
	int delay_ms;
	struct seen seen;
	double started;
};

static void *late_read(void *arg)
{
	struct late_reader *r = arg;

	sleep_ms(r->delay_ms);
	r->started = now_s();
	peer_read_all(r->fd, &r->seen, PEER_WAIT_S);
	return NULL;
}

/* The descriptor was released. */
static int released(int fd)
{
	return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

FIXTURE(hostile) {
	int s, peer;
	struct stream sent;
};

FIXTURE_VARIANT(hostile) {
	int family;
};

FIXTURE_VARIANT_ADD(hostile, v4) { AF_INET };
FIXTURE_VARIANT_ADD(hostile, v6) { AF_INET6 };

FIXTURE_SETUP(hostile)
{
	self->s = self->peer = -1;
}

FIXTURE_TEARDOWN(hostile)
{
	if (self->s >= 0)
		close(self->s);
	if (self->peer >= 0)
		close(self->peer);
}

/* ---- 1: the number is closed and reused while the close waits ---------- */

struct closer {
	int fd;
	unsigned int flags;
	int ret, outcome, err;
	double dt;
};

static void *do_close(void *arg)
{
	struct closer *c = arg;
	double t0 = now_s();

	c->outcome = -1;
	c->ret = wsclose_closesocket_outcome(c->fd, c->flags, &c->outcome, &c->err);
	c->dt = now_s() - t0;
	return NULL;
}

/*
 * Thread A waits in a lingering closesocket; thread B close()s the number
 * and dup2()s a file of its own onto it.  When A's wait ends (timed out:
 * reset) the file is still at that number, untouched.
 * Old: the ioctl ended with close_fd(number) and closed B's file.
 */
TEST_F(hostile, number_reused_during_close)
{
	char path[] = "/tmp/reuse-XXXXXX", buf[32];
	struct closer c = { 0 };
	struct stat st_tmp, st_num;
	struct seen seen;
	pthread_t t;
	int tmp, err;

	ASSERT_EQ(0, pending_conn(variant->family, 200, &self->s, &self->peer, &self->sent));
	ASSERT_EQ(0, wsclose_set_linger(self->s, 1, 2, &err));
	tmp = mkstemp(path);
	ASSERT_LE(0, tmp);
	unlink(path);
	ASSERT_EQ(9, write(tmp, "B's data!", 9));
	ASSERT_EQ(4, lseek(tmp, 4, SEEK_SET));

	c.fd = self->s;
	ASSERT_EQ(0, pthread_create(&t, NULL, do_close, &c));
	sleep_ms(SETTLE_MS);
	EXPECT_EQ(WSCLOSE_STATE_CLOSING, query_state(self->s));
	/* thread B (this one): close the number and reuse it */
	ASSERT_EQ(0, close(self->s));
	ASSERT_EQ(self->s, dup2(tmp, self->s));
	pthread_join(t, NULL);

	EXPECT_EQ(0, c.ret) TH_LOG("err %d", c.err);
	EXPECT_EQ(WSCLOSE_OUTCOME_TIMED_OUT_RESET, c.outcome);
	EXPECT_LE(1.8, c.dt);
	EXPECT_GE(5.0, c.dt);
	/* B's file is still there, at that number, as B left it */
	ASSERT_EQ(0, fstat(tmp, &st_tmp));
	ASSERT_EQ(0, fstat(self->s, &st_num)) TH_LOG("the reused number was closed");
	EXPECT_EQ(st_tmp.st_ino, st_num.st_ino);
	EXPECT_EQ(st_tmp.st_dev, st_num.st_dev);
	EXPECT_EQ(4, lseek(self->s, 0, SEEK_CUR));
	EXPECT_EQ(9, pread(self->s, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "B's data!", 9));
	close(self->s);
	self->s = -1;
	close(tmp);
	peer_read_all(self->peer, &seen, PEER_WAIT_S);
	EXPECT_EQ(ECONNRESET, seen.err);
	EXPECT_EQ(0, seen.corrupt);
}

/* ---- 2: the closer's own io_uring request is no signal ------------------ */

/*
 * The closing thread has its own io_uring RECV pending on the socket (a
 * plain ring, default flags).  The commit completes it, which queues task
 * work on the closer with TWA_SIGNAL.  That is not a signal: the blocking
 * lingering close {1,4} keeps waiting and drains when the peer reads 1 s
 * in.  Old: WSAEINTR after ~10 ms, no signal sent.  And the request's
 * completion is not held back by the wait: an eventfd registered on the
 * ring fires within a second of the close, long before the close returns
 * (the close restarts itself around the task work).
 */
struct efd_watch {
	int efd;
	double fired;	/* seconds since epoch of now_s(), 0 if never */
};

static void *watch_efd(void *arg)
{
	struct efd_watch *w = arg;
	struct pollfd pfd = { .fd = w->efd, .events = POLLIN };

	if (poll(&pfd, 1, 6000) == 1)
		w->fired = now_s();
	return NULL;
}

TEST_F(hostile, own_uring_request_is_not_a_signal)
{
	struct __kernel_timespec ts = { .tv_sec = 5 };
	struct late_reader r = { .delay_ms = 1000 };
	struct efd_watch w = { 0 };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	char rbuf[64];
	int outcome = -1, err = 0, ret;
	pthread_t t, tw;
	double t0, dt;

	ASSERT_EQ(0, pending_conn(variant->family, 200, &self->s, &self->peer, &self->sent));
	ASSERT_EQ(0, wsclose_set_linger(self->s, 1, 4, &err));
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, 0));
	w.efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, w.efd);
	ASSERT_EQ(0, io_uring_register_eventfd(&ring, w.efd));
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_recv(sqe, self->s, rbuf, sizeof(rbuf), 0);
	io_uring_sqe_set_data64(sqe, 7);
	ASSERT_EQ(1, io_uring_submit(&ring));
	sleep_ms(100);
	ASSERT_EQ(-EAGAIN, io_uring_peek_cqe(&ring, &cqe));

	r.fd = self->peer;
	ASSERT_EQ(0, pthread_create(&t, NULL, late_read, &r));
	ASSERT_EQ(0, pthread_create(&tw, NULL, watch_efd, &w));
	t0 = now_s();
	ret = wsclose_closesocket_outcome(self->s, 0, &outcome, &err);
	dt = now_s() - t0;
	pthread_join(t, NULL);
	pthread_join(tw, NULL);
	EXPECT_NE(0, w.fired) TH_LOG("the eventfd never fired");
	EXPECT_GT(0.8, w.fired - t0) TH_LOG("eventfd %.3f s after the close began",
					    w.fired - t0);
	close(w.efd);

	EXPECT_EQ(0, ret) TH_LOG("err %d after %.3f s", err, dt);
	EXPECT_EQ(WSCLOSE_OUTCOME_DRAINED, outcome);
	EXPECT_LE(0.9, dt);
	EXPECT_GE(4.0, dt);
	if (ret == 0) {
		EXPECT_TRUE(released(self->s));
		self->s = -1;
	}
	ASSERT_EQ(0, io_uring_wait_cqe_timeout(&ring, &cqe, &ts));
	EXPECT_EQ(7, cqe->user_data);
	EXPECT_EQ(-ECANCELED, cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
	/* the peer got it all, then the FIN */
	EXPECT_EQ(1, r.seen.eof);
	EXPECT_EQ(0, r.seen.err);
	EXPECT_EQ(0, r.seen.corrupt);
	EXPECT_TRUE(stream_equal(&self->sent, &r.seen.st));
}

/* ---- 3: a signal during an implicit lingering close --------------------- */

/*
 * A blocking close(2) with linger {1,4} and data queued; a signal 0.8 s in
 * (handler without SA_RESTART); the peer starts reading at 2 s.  close(2)
 * cannot fail or be retried: the data may drain until the deadline, so the
 * peer gets every byte and then EOF, no reset.  Old: ws_implicit_close()
 * called tcp_abort() at the signal and the data was lost.
 */
TEST_F(hostile, signal_during_implicit_lingering_close)
{
	struct late_reader r = { .delay_ms = 2000 };
	struct kicker k = { pthread_self(), SIGALRM, 800 };
	pthread_t tr, tk;
	int err, ret;
	double t0;

	ASSERT_EQ(0, pending_conn(variant->family, 200, &self->s, &self->peer, &self->sent));
	ASSERT_EQ(0, wsclose_set_linger(self->s, 1, 4, &err));
	ASSERT_EQ(0, catch_signal(SIGALRM));
	r.fd = self->peer;
	t0 = now_s();
	ASSERT_EQ(0, pthread_create(&tr, NULL, late_read, &r));
	ASSERT_EQ(0, pthread_create(&tk, NULL, kick, &k));
	ret = close(self->s);
	self->s = -1;
	TH_LOG("close(2) returned %d after %.3f s", ret, now_s() - t0);
	EXPECT_EQ(0, ret);
	EXPECT_GE(5.0, now_s() - t0);
	pthread_join(tk, NULL);
	pthread_join(tr, NULL);
	EXPECT_EQ(0, r.seen.err);
	EXPECT_EQ(1, r.seen.eof);
	EXPECT_EQ(0, r.seen.corrupt);
	EXPECT_TRUE(stream_equal(&self->sent, &r.seen.st))
		TH_LOG("sent %llu, the peer got %llu",
		       (unsigned long long)self->sent.bytes,
		       (unsigned long long)r.seen.st.bytes);
}

/* ---- 4: the deadline keeps running after WSAEINTR ----------------------- */

static int interrupted_close(struct __test_metadata *_metadata, int s, double *t0)
{
	struct kicker k = { pthread_self(), SIGUSR1, 300 };
	int outcome = -1, err = 0, ret;
	pthread_t tk;

	EXPECT_EQ(0, wsclose_set_linger(s, 1, 1, &err));
	EXPECT_EQ(0, catch_signal(SIGUSR1));
	EXPECT_EQ(0, pthread_create(&tk, NULL, kick, &k));
	*t0 = now_s();
	ret = wsclose_closesocket_outcome(s, 0, &outcome, &err);
	pthread_join(tk, NULL);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(WSAEINTR, err);
	EXPECT_GT(0.95, now_s() - *t0);
	EXPECT_EQ(WSCLOSE_STATE_CLOSING, query_state(s));
	return ret == -1 && err == WSAEINTR ? 0 : -1;
}

/*
 * Linger {1,1}, interrupted at 0.3 s (WSAEINTR); a non-blocking retry at
 * 2 s, past the deadline, completes with the timed-out reset.
 * Old: the retry answered WSAEWOULDBLOCK, and kept doing so.
 */
TEST_F(hostile, retry_after_deadline_completes)
{
	int outcome = -1, err = 0, ret;
	struct seen seen;
	double t0, t1;

	ASSERT_EQ(0, pending_conn(variant->family, 200, &self->s, &self->peer, &self->sent));
	ASSERT_EQ(0, interrupted_close(_metadata, self->s, &t0));
	while (now_s() - t0 < 2.0)
		sleep_ms(20);
	t1 = now_s();
	ret = wsclose_closesocket_outcome(self->s, WSCLOSE_AS_NONBLOCKING, &outcome, &err);
	EXPECT_GT(FAST_S, now_s() - t1);
	ASSERT_EQ(0, ret) TH_LOG("err %d", err);
	EXPECT_EQ(WSCLOSE_OUTCOME_TIMED_OUT_RESET, outcome);
	EXPECT_TRUE(released(self->s));
	self->s = -1;
	peer_read_all(self->peer, &seen, PEER_WAIT_S);
	EXPECT_EQ(ECONNRESET, seen.err);
}

/*
 * The same, and nobody retries: the connection is reset at the deadline
 * anyway (1 s after the close began; allow 3 s).
 * Old: nothing reset it.
 */
TEST_F(hostile, no_retry_reset_at_deadline)
{
	double t0, dt;

	ASSERT_EQ(0, pending_conn(variant->family, 200, &self->s, &self->peer, &self->sent));
	ASSERT_EQ(0, interrupted_close(_metadata, self->s, &t0));
	dt = time_to_reset(self->peer, 6);
	ASSERT_LE(0, dt) TH_LOG("the peer saw no reset");
	dt = now_s() - t0;
	TH_LOG("reset %.3f s after the close began", dt);
	EXPECT_LE(0.9, dt);
	EXPECT_GE(3.0, dt);
}

/* ---- 5: ECANCELED or ENOTSOCK by when the operation started ------------ */

struct pipe_blocker {
	int fd;
	int delay_ms;
	int target;	/* closes this wsclose socket, then writes to fd */
	int ret, err;
};

static void *close_then_wake(void *arg)
{
	struct pipe_blocker *p = arg;

	sleep_ms(p->delay_ms);
	p->ret = wsclose_closesocket(p->target, &p->err);
	sleep_ms(p->delay_ms);
	if (write(p->fd, "w", 1) != 1)
		p->ret = -2;
	return NULL;
}

/*
 * This task submitted an io_uring RECV and then blocks in read() on a
 * pipe; another thread closes the socket.  The RECV is reissued as task
 * work inside that read(); it was pending at the commit: -ECANCELED.  A
 * recv through a dup() alias after the close is a new call: ENOTSOCK.
 * Old: the reissued RECV completed with -ENOTSOCK (the errno was guessed
 * from the syscall this task happened to be in).
 */
TEST_F(hostile, uring_request_reissued_in_other_syscall)
{
	struct __kernel_timespec ts = { .tv_sec = 5 };
	struct pipe_blocker pb = { .delay_ms = SETTLE_MS };
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	char rbuf[64], c;
	int p[2], alias;
	pthread_t t;

	ASSERT_EQ(0, pending_conn(variant->family, 0, &self->s, &self->peer, &self->sent));
	alias = dup(self->s);
	ASSERT_LE(0, alias);
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, 0));
	io_uring_prep_recv(io_uring_get_sqe(&ring), self->s, rbuf, sizeof(rbuf), 0);
	ASSERT_EQ(1, io_uring_submit(&ring));

	pb.fd = p[1];
	pb.target = self->s;
	ASSERT_EQ(0, pthread_create(&t, NULL, close_then_wake, &pb));
	EXPECT_EQ(1, read(p[0], &c, 1));	/* blocked here during the close */
	pthread_join(t, NULL);
	EXPECT_EQ(0, pb.ret);
	self->s = -1;

	ASSERT_EQ(0, io_uring_wait_cqe_timeout(&ring, &cqe, &ts));
	EXPECT_EQ(-ECANCELED, cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);

	EXPECT_EQ(-1, recv(alias, rbuf, sizeof(rbuf), MSG_DONTWAIT));
	EXPECT_EQ(ENOTSOCK, errno);
	ASSERT_EQ(0, set_nonblock(alias, 1));	/* a wrong answer must not hang */
	EXPECT_EQ(-1, read(alias, rbuf, sizeof(rbuf)));
	EXPECT_EQ(ENOTSOCK, errno);
	close(alias);
	close(p[0]);
	close(p[1]);
}

/* ---- 6: side doors: sendfile and splice --------------------------------- */

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

#define FILE_BYTES (4 << 20)

static int big_file(void)
{
	char path[] = "/tmp/sendfile-XXXXXX";
	static unsigned char chunk[65536];
	int fd = mkstemp(path), i;

	if (fd < 0)
		return -1;
	unlink(path);
	stream_fill(0, chunk, sizeof(chunk));
	for (i = 0; i < FILE_BYTES / (int)sizeof(chunk); i++)
		if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk))
			return -1;
	return fd;
}

enum side_op { SIDE_SENDFILE, SIDE_SPLICE_FROM_SOCKET };

struct side {
	enum side_op op;
	int s, file, pipe_w;
	ssize_t ret;
	int err;
	volatile int done;
};

static void *side_run(void *arg)
{
	struct side *d = arg;
	off_t off = 0;

	if (d->op == SIDE_SENDFILE)
		d->ret = sendfile(d->s, d->file, &off, FILE_BYTES);
	else
		d->ret = splice(d->s, NULL, d->pipe_w, NULL, 4096, 0);
	d->err = errno;
	d->done = 1;
	return NULL;
}

/*
 * sendfile() blocked on a full socket when another thread closes it:
 * -1 ECANCELED and no SIGPIPE; sendfile through an alias afterwards:
 * ENOTSOCK.  Old (6.1): ->sendpage was not wrapped: EPIPE plus SIGPIPE,
 * and ECANCELED through the alias.
 */
TEST_F(hostile, sendfile_blocked_and_after)
{
	struct sigaction sa = { .sa_handler = on_sigpipe };
	struct side d = { .op = SIDE_SENDFILE };
	int file, alias, err;
	off_t off = 0;
	pthread_t t;

	ASSERT_EQ(0, sigaction(SIGPIPE, &sa, NULL));
	sigpipes = 0;
	file = big_file();
	ASSERT_LE(0, file);
	ASSERT_EQ(0, pending_conn(variant->family, 200, &self->s, &self->peer, &self->sent));
	alias = dup(self->s);
	ASSERT_LE(0, alias);
	d.s = self->s;
	d.file = file;
	ASSERT_EQ(0, pthread_create(&t, NULL, side_run, &d));
	sleep_ms(SETTLE_MS);
	ASSERT_EQ(0, d.done) TH_LOG("sendfile did not block: %zd", d.ret);
	ASSERT_EQ(0, wsclose_closesocket(self->s, &err));
	self->s = -1;
	pthread_join(t, NULL);
	EXPECT_EQ(-1, d.ret);
	EXPECT_EQ(ECANCELED, d.err);

	EXPECT_EQ(-1, sendfile(alias, file, &off, 100));
	EXPECT_EQ(ENOTSOCK, errno);
	sleep_ms(50);
	EXPECT_EQ(0, sigpipes);
	close(alias);
	close(file);
}

/*
 * Connected IPv4/IPv6 UDP: sendfile through an alias after the close is
 * ENOTSOCK and nothing is sent.  Old: udp_sendpage ignored the close.
 */
TEST_F(hostile, udp_sendfile_after_close)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(variant->family, &ss, 0);
	int u, rx, alias, file, err;
	off_t off = 0;
	char buf[256];

	file = big_file();
	ASSERT_LE(0, file);
	rx = socket(variant->family, SOCK_DGRAM, 0);
	ASSERT_LE(0, rx);
	ASSERT_EQ(0, bind(rx, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, getsockname(rx, (struct sockaddr *)&ss, &len));
	u = wsclose_socket(variant->family, SOCK_DGRAM, 0);
	ASSERT_LE(0, u);
	ASSERT_EQ(0, connect(u, (struct sockaddr *)&ss, len));
	EXPECT_EQ(100, sendfile(u, file, &off, 100));	/* it works before */
	EXPECT_EQ(100, recv(rx, buf, sizeof(buf), 0));
	alias = dup(u);
	ASSERT_LE(0, alias);
	ASSERT_EQ(0, wsclose_closesocket(u, &err));
	EXPECT_EQ(-1, sendfile(alias, file, &off, 100));
	EXPECT_EQ(ENOTSOCK, errno);
	EXPECT_EQ(-1, send(alias, "x", 1, 0));
	EXPECT_EQ(ENOTSOCK, errno);
	sleep_ms(100);
	EXPECT_EQ(-1, recv(rx, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	close(alias);
	close(rx);
	close(file);
}

/* A splice() blocked reading from the socket: ECANCELED at the close. */
TEST_F(hostile, splice_from_socket_blocked)
{
	struct side d = { .op = SIDE_SPLICE_FROM_SOCKET };
	int p[2], err;
	pthread_t t;

	ASSERT_EQ(0, pending_conn(variant->family, 0, &self->s, &self->peer, &self->sent));
	ASSERT_EQ(0, pipe(p));
	d.s = self->s;
	d.pipe_w = p[1];
	ASSERT_EQ(0, pthread_create(&t, NULL, side_run, &d));
	sleep_ms(SETTLE_MS);
	ASSERT_EQ(0, d.done);
	ASSERT_EQ(0, wsclose_closesocket(self->s, &err));
	self->s = -1;
	pthread_join(t, NULL);
	EXPECT_EQ(-1, d.ret);
	EXPECT_EQ(ECANCELED, d.err);
	close(p[0]);
	close(p[1]);
}

/* ---- 7: no events after the close; ports released at once -------------- */

/*
 * A multishot POLL_ADD on a UDP socket (a dup alias keeps the file): the
 * close ends it (last CQE without IORING_CQE_F_MORE), later datagrams to
 * the port produce no CQE, and a new socket binds the port at once.
 * Old: the request stayed armed, reported later datagrams, and held the
 * port.
 */
TEST_F(hostile, multishot_poll_ends_and_udp_port_freed)
{
	struct __kernel_timespec ts = { .tv_sec = 3 };
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(variant->family, &ss, 0);
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int u, alias, tx, nu, err, more = 1, n = 0;
	unsigned int last_res = 0;
	char buf[16];

	u = wsclose_socket(variant->family, SOCK_DGRAM, 0);
	ASSERT_LE(0, u);
	ASSERT_EQ(0, bind(u, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, getsockname(u, (struct sockaddr *)&ss, &len));
	alias = dup(u);
	ASSERT_LE(0, alias);
	tx = socket(variant->family, SOCK_DGRAM, 0);
	ASSERT_LE(0, tx);
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, 0));
	io_uring_prep_poll_multishot(io_uring_get_sqe(&ring), u, POLLIN);
	ASSERT_EQ(1, io_uring_submit(&ring));

	/* armed and working: one datagram, one CQE with F_MORE */
	ASSERT_EQ(3, sendto(tx, "one", 3, 0, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, io_uring_wait_cqe_timeout(&ring, &cqe, &ts));
	EXPECT_TRUE(cqe->res & POLLIN);
	EXPECT_TRUE(cqe->flags & IORING_CQE_F_MORE);
	io_uring_cqe_seen(&ring, cqe);
	ASSERT_EQ(3, recv(u, buf, sizeof(buf), 0));

	ASSERT_EQ(0, wsclose_closesocket(u, &err));
	while (more) {
		ASSERT_EQ(0, io_uring_wait_cqe_timeout(&ring, &cqe, &ts))
			TH_LOG("the multishot poll is still armed after the close");
		more = !!(cqe->flags & IORING_CQE_F_MORE);
		last_res = (unsigned int)cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		ASSERT_GT(10, ++n);
	}
	TH_LOG("%d CQE(s) at the close, last res 0x%x", n, last_res);
	/* the close reports no EPOLLIN/HUP/RDHUP (it may end with -ECANCELED) */
	if ((int)last_res >= 0)
		EXPECT_FALSE(last_res & (POLLIN | POLLHUP | POLLRDHUP));

	/* the port is free at once, though the alias holds the file */
	nu = socket(variant->family, SOCK_DGRAM, 0);
	ASSERT_LE(0, nu);
	EXPECT_EQ(0, bind(nu, (struct sockaddr *)&ss, len)) TH_LOG("errno %d", errno);
	/* datagrams to it reach the new socket and no CQE on the old request */
	ASSERT_EQ(3, sendto(tx, "two", 3, 0, (struct sockaddr *)&ss, len));
	EXPECT_EQ(3, recv(nu, buf, sizeof(buf), 0));
	sleep_ms(200);
	EXPECT_EQ(-EAGAIN, io_uring_peek_cqe(&ring, &cqe));
	EXPECT_EQ(-1, recv(alias, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(ENOTSOCK, errno);
	io_uring_queue_exit(&ring);
	close(nu);
	close(tx);
	close(alias);
}

/*
 * mmap() of a TCP socket (zerocopy receive) is an operation of the socket
 * too: after the close, through an alias, ENOTSOCK.  (Old: ->mmap was not
 * wrapped and mapped the closed socket.)
 */
TEST_F(hostile, mmap_after_close)
{
	int s, peer, alias, err;
	void *p;

	s = wsclose_socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, s);
	peer = connect_peer(s, variant->family, 0);
	ASSERT_LE(0, peer);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, s, 0);
	ASSERT_NE(MAP_FAILED, p);	/* what a plain TCP socket allows */
	munmap(p, 4096);
	alias = dup(s);
	ASSERT_LE(0, alias);
	ASSERT_EQ(0, wsclose_closesocket(s, &err));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, alias, 0));
	EXPECT_EQ(ENOTSOCK, errno);
	close(alias);
	close(peer);
}

/* A free port, bound explicitly afterwards (which keeps it bound). */
static in_port_t free_port(int family)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(family, &ss, 0);
	int s = socket(family, SOCK_STREAM, 0);
	in_port_t port = 0;

	if (s >= 0 && !bind(s, (struct sockaddr *)&ss, len) &&
	    !getsockname(s, (struct sockaddr *)&ss, &len))
		port = family == AF_INET6 ?
		       ((struct sockaddr_in6 *)&ss)->sin6_port :
		       ((struct sockaddr_in *)&ss)->sin_port;
	close(s);
	return port;
}

/*
 * The same port release for a listening TCP socket held by an alias, and
 * for one that was only bound, each on a port bound explicitly (which the
 * kernel keeps until the last file reference goes).
 */
TEST_F(hostile, bound_tcp_socket_never_connected_frees_port)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(variant->family, &ss, free_port(variant->family));
	int s, alias, ns, err;

	s = wsclose_socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, bind(s, (struct sockaddr *)&ss, len));
	alias = dup(s);
	ASSERT_LE(0, alias);
	ASSERT_EQ(0, wsclose_closesocket(s, &err));
	ns = socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, ns);
	EXPECT_EQ(0, bind(ns, (struct sockaddr *)&ss, len)) TH_LOG("errno %d", errno);
	close(ns);
	close(alias);
}

TEST_F(hostile, listener_port_freed_at_close)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(variant->family, &ss, free_port(variant->family));
	int l, alias, nl, c, err;

	l = wsclose_socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, bind(l, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, listen(l, 4));
	alias = dup(l);
	ASSERT_LE(0, alias);
	ASSERT_EQ(0, set_nonblock(alias, 1));	/* a wrong answer must not hang */
	ASSERT_EQ(0, wsclose_closesocket(l, &err));
	nl = socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, nl);
	EXPECT_EQ(0, bind(nl, (struct sockaddr *)&ss, len)) TH_LOG("errno %d", errno);
	EXPECT_EQ(0, listen(nl, 4));
	c = socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, c);
	EXPECT_EQ(0, connect(c, (struct sockaddr *)&ss, len));
	EXPECT_EQ(-1, accept(alias, NULL, NULL));
	EXPECT_EQ(ENOTSOCK, errno);
	close(c);
	close(nl);
	close(alias);
}

/* ---- 8: reapers ------------------------------------------------------------ */

/*
 * A lingering close(2) {1,@secs} with data pending that cannot wait (the
 * descriptor is non-blocking).  Fails if the close took FAST_S or more.
 */
static int background_close(int family, unsigned short secs, int *peer)
{
	struct stream sent;
	int s = -1, err, ret;
	double t0;

	/* a quick fill: any unacknowledged byte will do */
	if (pending_conn(family, 20, &s, peer, &sent) ||
	    wsclose_set_linger(s, 1, secs, &err) || set_nonblock(s, 1))
		return -1;
	t0 = now_s();
	ret = close(s);
	return ret || now_s() - t0 >= FAST_S ? -1 : 0;
}

/* Which of @n peers see their connection reset within @timeout_s. */
static int resets_within(const int *peer, int n, double timeout_s, int *reset)
{
	double end = now_s() + timeout_s;
	int i, count = 0;

	memset(reset, 0, n * sizeof(*reset));
	while (now_s() < end && count < n) {
		for (i = 0; i < n; i++) {
			struct pollfd pfd = { .fd = peer[i], .events = 0 };
			int soerr = 0;
			socklen_t len = sizeof(soerr);

			if (reset[i] || poll(&pfd, 1, 0) != 1 ||
			    !(pfd.revents & (POLLERR | POLLHUP)))
				continue;
			getsockopt(peer[i], SOL_SOCKET, SO_ERROR, &soerr, &len);
			reset[i] = soerr == ECONNRESET ? 1 : -1;
			count++;
		}
		sleep_ms(10);
	}
	for (i = 0, count = 0; i < n; i++)
		count += reset[i] == 1;
	return count;
}

static void abort_close(int fd)
{
	struct linger l = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

#define REAPED 64

/*
 * 64 non-blocking lingering close(2)s, l_linger 3000 s, data pending: each
 * arms a background reset.  Each peer then resets its connection: TCP has
 * destroyed it, so within 3 s nothing is held any more.  In a network
 * namespace of its own, so that the count starts at 0.
 * Old: the reaper held the sock until its deadline; no `reapers` line.
 */
/* A fixture only for its timeout: the debug kernel is slow. */
FIXTURE(slow) {
	int unused;
};

FIXTURE_SETUP(slow)
{
}

FIXTURE_TEARDOWN(slow)
{
}

TEST_F_TIMEOUT(slow, reapers_let_go_when_tcp_is_done, 180)
{
	int peer[REAPED], i, armed;
	double t0;
	long r;

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, lo_up());
	ASSERT_EQ(0, counter("reapers")) TH_LOG("no `reapers` line in /proc/net/wsclose");
	for (i = 0; i < REAPED; i++)
		ASSERT_EQ(0, background_close(i & 1 ? AF_INET6 : AF_INET, 3000, &peer[i]));
	armed = (int)counter("reapers");
	EXPECT_EQ(REAPED, armed);
	for (i = 0; i < REAPED; i++)
		abort_close(peer[i]);
	t0 = now_s();
	while ((r = counter("reapers")) != 0 && now_s() - t0 < 3.0)
		sleep_ms(50);
	TH_LOG("%d armed; %ld left after %.2f s", armed, r, now_s() - t0);
	EXPECT_EQ(0, r);
}

#define OVER 16
#define LIMIT 8

/*
 * max_reapers lowered to 8: of 16 such closes, 8 arm a background reset,
 * the other 8 reset at once (their peers see ECONNRESET within 1 s).
 * Old: no bound, no `reapers` counter, no parameter.
 */
TEST_F_TIMEOUT(slow, reapers_bounded, 120)
{
	const char *param = "/sys/module/wsclose/parameters/max_reapers";
	int peer[OVER], reset[OVER], i, fd, early, armed;
	char old[32] = { 0 }, lim[8];
	long r;
	double t0;

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, lo_up());
	ASSERT_EQ(0, counter("reapers"));
	fd = open(param, O_RDWR);
	ASSERT_LE(0, fd) TH_LOG("no %s", param);
	ASSERT_LT(0, read(fd, old, sizeof(old) - 1));
	snprintf(lim, sizeof(lim), "%d", LIMIT);
	ASSERT_LT(0, pwrite(fd, lim, strlen(lim), 0));

	for (i = 0; i < OVER; i++)
		EXPECT_EQ(0, background_close(AF_INET, 3000, &peer[i]));
	pwrite(fd, old, strlen(old), 0);	/* restore at once */
	close(fd);
	armed = (int)counter("reapers");
	early = resets_within(peer, OVER, 1.0, reset);
	TH_LOG("%d armed, %d reset at once", armed, early);
	EXPECT_EQ(LIMIT, armed);
	EXPECT_EQ(OVER - LIMIT, early);
	/* the armed ones are still connected */
	for (i = 0; i < OVER; i++)
		EXPECT_NE(-1, reset[i]);

	for (i = 0; i < OVER; i++)
		abort_close(peer[i]);
	t0 = now_s();
	while ((r = counter("reapers")) != 0 && now_s() - t0 < 3.0)
		sleep_ms(50);
	EXPECT_EQ(0, r);
}

/* ---- 10: the handle closed with close(2) counts --------------------------- */

/*
 * d = wsclose_duplicate(s); close(s): d is now the last handle, so its
 * non-blocking lingering close with data pending is WSAEWOULDBLOCK.
 * Old: 0 (the release path ran: the duplicate pinned handle 1's file and
 * handle 1 was never counted as closed).
 */
TEST_F(hostile, handle_closed_by_close2_counts)
{
	int d, err, outcome, i;

	ASSERT_EQ(0, pending_conn(variant->family, 200, &self->s, &self->peer, &self->sent));
	ASSERT_EQ(0, wsclose_set_linger(self->s, 1, 5, &err));
	for (i = 0; i < 2; i++) {
		/* i == 0: close the original; i == 1: the mirror case */
		int gone, last;

		d = wsclose_duplicate(self->s);
		ASSERT_LE(0, d);
		EXPECT_EQ(2, query_handles(self->s));
		EXPECT_EQ(2, query_handles(d));
		gone = i ? d : self->s;
		last = i ? self->s : d;
		ASSERT_EQ(0, close(gone));
		EXPECT_EQ(1, query_handles(last));
		outcome = -1;
		EXPECT_EQ(-1, wsclose_closesocket_outcome(last, WSCLOSE_AS_NONBLOCKING,
							  &outcome, &err))
			TH_LOG("case %d: outcome %d", i, outcome);
		EXPECT_EQ(WSAEWOULDBLOCK, err);
		/* nothing changed */
		EXPECT_EQ(WSCLOSE_STATE_OPEN, query_state(last));
		EXPECT_EQ(1, query_handles(last));
		self->s = last;
		if (outcome != -1)	/* it closed: nothing left to test */
			break;
	}
	if (outcome == -1) {
		ASSERT_EQ(0, wsclose_set_linger(self->s, 1, 0, &err));
		EXPECT_EQ(0, wsclose_closesocket_outcome(self->s, 0, &outcome, &err));
		EXPECT_EQ(WSCLOSE_OUTCOME_ABORTIVE, outcome);
	}
	self->s = -1;
}

/* ---- 11: polling a closed socket aborts nothing ------------------------- */

static void *blocked_recv(void *arg)
{
	char c;

	return (void *)(long)recv(*(int *)arg, &c, 1, 0);
}

/*
 * Ten polls and epoll_waits on a closed socket (through an alias) leave the
 * `aborted` counter alone; the one recv that was blocked at the close is
 * the one abort counted.  Old: each poll added one.
 */
TEST(polling_closed_socket_counts_nothing)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int s, peer, alias, ep, err, i;
	struct stream sent;
	long before, after;
	pthread_t t;

	ASSERT_EQ(0, pending_conn(AF_INET, 0, &s, &peer, &sent));
	alias = dup(s);
	ASSERT_LE(0, alias);
	before = counter("aborted");
	ASSERT_LE(0, before);
	ASSERT_EQ(0, pthread_create(&t, NULL, blocked_recv, &alias));
	sleep_ms(SETTLE_MS);
	ASSERT_EQ(0, wsclose_closesocket(s, &err));
	pthread_join(t, NULL);
	after = counter("aborted");
	EXPECT_EQ(before + 1, after);

	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ev.data.fd = alias;
	epoll_ctl(ep, EPOLL_CTL_ADD, alias, &ev);	/* may fail: ENOTSOCK */
	for (i = 0; i < 10; i++) {
		struct pollfd pfd = { .fd = alias, .events = POLLIN | POLLOUT };

		EXPECT_LE(0, poll(&pfd, 1, 0));
		epoll_wait(ep, &out, 1, 0);
	}
	EXPECT_EQ(after, counter("aborted"));
	close(ep);
	close(alias);
	close(peer);
}

TEST_HARNESS_MAIN
