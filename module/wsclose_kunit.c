// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for wsclose: the close decision as tables, the ioctl
 * argument checks, the ABI layout, and real in-kernel TCP and UDP sockets
 * over loopback for the graceful, abortive, would-block, timed-out and
 * drained closes (after net/handshake/handshake-test.c).
 *
 * Built against a kernel with CONFIG_KUNIT, loaded after wsclose.ko; the
 * results appear as KTAP in the kernel log.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/socket.h>
#include <linux/stddef.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/inet_connection_sock.h>
#include <net/tcp.h>

#include "wsclose.h"

/* ---- steps 1-4: the spec's rules, in its order, as a first-match table -- */

#define ANY	-1

struct close_rule {
	int state, handle_closed, waiting, last_handle, nonblock, lingers,
	    pending, fin_unacked, expired;
	int result;
};

static const struct close_rule close_rules[] = {
	/* 1. the socket, or this handle, was closed through another alias */
	{ WSCLOSE_CLOSED, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, -ENOTSOCK },
	{ ANY, 1, ANY, ANY, ANY, ANY, ANY, ANY, ANY, -ENOTSOCK },
	/* 2. another close is waiting */
	{ ANY, ANY, 1, ANY, ANY, ANY, ANY, ANY, ANY, -EINPROGRESS },
	/* 3. not the last handle */
	{ ANY, ANY, ANY, 0, ANY, ANY, ANY, ANY, ANY,
	  WSCLOSE_STEP_RELEASE_ONLY },
	/*
	 * an interrupted wait: a non-blocking retry cannot wait for the FIN,
	 * until the deadline has passed: then it completes the reset
	 */
	{ WSCLOSE_CLOSING, ANY, ANY, ANY, 1, ANY, ANY, 1, 0, -EWOULDBLOCK },
	{ WSCLOSE_CLOSING, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY,
	  WSCLOSE_STEP_RESUME },
	/* 4. lingering, non-blocking, data pending */
	{ WSCLOSE_OPEN, ANY, ANY, ANY, 1, 1, 1, ANY, ANY, -EWOULDBLOCK },
	/* 5. commit */
	{ ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, WSCLOSE_STEP_COMMIT },
};

static bool rule_matches(const struct close_rule *r,
			 const struct wsclose_close_in *in)
{
	return (r->state == ANY || r->state == in->state) &&
	       (r->handle_closed == ANY ||
		r->handle_closed == in->handle_closed) &&
	       (r->waiting == ANY || r->waiting == in->waiting) &&
	       (r->last_handle == ANY || r->last_handle == in->last_handle) &&
	       (r->nonblock == ANY || r->nonblock == in->nonblock) &&
	       (r->lingers == ANY || r->lingers == in->lingers) &&
	       (r->pending == ANY || r->pending == in->pending) &&
	       (r->fin_unacked == ANY || r->fin_unacked == in->fin_unacked) &&
	       (r->expired == ANY || r->expired == in->expired);
}

static int rules_expect(const struct wsclose_close_in *in)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(close_rules); i++)
		if (rule_matches(&close_rules[i], in))
			return close_rules[i].result;
	return INT_MIN;
}

/* Every combination of the inputs gives what the rules say. */
static void close_decide_every_combination(struct kunit *test)
{
	static const enum wsclose_state states[] = {
		WSCLOSE_OPEN, WSCLOSE_CLOSING, WSCLOSE_CLOSED
	};
	unsigned int bits, s, n = 0;

	for (s = 0; s < ARRAY_SIZE(states); s++) {
		for (bits = 0; bits < 256; bits++) {
			struct wsclose_close_in in = {
				.state = states[s],
				.waiting = bits & 1,
				.last_handle = bits & 2,
				.nonblock = bits & 4,
				.lingers = bits & 8,
				.pending = bits & 16,
				.fin_unacked = bits & 32,
				.handle_closed = bits & 64,
				.expired = bits & 128,
			};

			KUNIT_EXPECT_EQ_MSG(test, wsclose_close_decide(&in),
					    rules_expect(&in),
					    "state %d bits %#x", states[s],
					    bits);
			n++;
		}
	}
	KUNIT_EXPECT_EQ(test, n, 768u);
}

/* Named rows of the spec's close table. */
struct close_row {
	const char *name;
	struct wsclose_close_in in;
	int result;
};

static const struct close_row close_rows[] = {
	{ "closed_alias_enotsock",
	  { .state = WSCLOSE_CLOSED, .last_handle = 1 },
	  -ENOTSOCK },
	{ "closed_handle_enotsock",
	  { .state = WSCLOSE_OPEN, .handle_closed = 1, .last_handle = 1 },
	  -ENOTSOCK },
	{ "closed_handle_not_last_enotsock",
	  { .state = WSCLOSE_OPEN, .handle_closed = 1 },
	  -ENOTSOCK },
	{ "closed_beats_in_progress",
	  { .state = WSCLOSE_CLOSED, .waiting = 1, .last_handle = 1 },
	  -ENOTSOCK },
	{ "waiting_einprogress",
	  { .state = WSCLOSE_CLOSING, .waiting = 1, .last_handle = 1 },
	  -EINPROGRESS },
	{ "not_last_handle_release_only",
	  { .state = WSCLOSE_OPEN, .nonblock = 1, .lingers = 1, .pending = 1 },
	  WSCLOSE_STEP_RELEASE_ONLY },
	{ "dontlinger_nonblocking_pending_commits",
	  { .state = WSCLOSE_OPEN,
	    .last_handle = 1,
	    .nonblock = 1,
	    .pending = 1 },
	  WSCLOSE_STEP_COMMIT },
	{ "linger_nonblocking_pending_ewouldblock",
	  { .state = WSCLOSE_OPEN,
	    .last_handle = 1,
	    .nonblock = 1,
	    .lingers = 1,
	    .pending = 1 },
	  -EWOULDBLOCK },
	{ "linger_nonblocking_nothing_pending_commits",
	  { .state = WSCLOSE_OPEN,
	    .last_handle = 1,
	    .nonblock = 1,
	    .lingers = 1 },
	  WSCLOSE_STEP_COMMIT },
	{ "linger_blocking_pending_commits",
	  { .state = WSCLOSE_OPEN,
	    .last_handle = 1,
	    .lingers = 1,
	    .pending = 1 },
	  WSCLOSE_STEP_COMMIT },
	{ "interrupted_blocking_retry_resumes",
	  { .state = WSCLOSE_CLOSING, .last_handle = 1, .fin_unacked = 1 },
	  WSCLOSE_STEP_RESUME },
	{ "interrupted_nonblocking_retry_ewouldblock",
	  { .state = WSCLOSE_CLOSING,
	    .last_handle = 1,
	    .nonblock = 1,
	    .fin_unacked = 1 },
	  -EWOULDBLOCK },
	{ "interrupted_retry_after_ack_resumes",
	  { .state = WSCLOSE_CLOSING, .last_handle = 1, .nonblock = 1 },
	  WSCLOSE_STEP_RESUME },
	{ "open_plain_commits",
	  { .state = WSCLOSE_OPEN, .last_handle = 1 },
	  WSCLOSE_STEP_COMMIT },
};

static void close_row_desc(const struct close_row *r, char *desc)
{
	strscpy(desc, r->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(close_rows, close_rows, close_row_desc);

static void close_decide_row(struct kunit *test)
{
	const struct close_row *r = test->param_value;

	KUNIT_EXPECT_EQ(test, wsclose_close_decide(&r->in), r->result);
}

/* ---- step 5: what a committing TCP close does --------------------------- */

struct commit_row {
	const char *name;
	struct wsclose_commit_in in;
	int action;
};

static const struct commit_row commit_rows[] = {
	{ "listener_stops",
	  { .listening = 1, .linger = 1 },
	  WSCLOSE_ACT_STOP_LISTENING },
	{ "dontlinger_fin", { .pending = 1 }, WSCLOSE_ACT_FIN },
	{ "dontlinger_unread_resets", { .unread = 1 }, WSCLOSE_ACT_RESET },
	{ "linger_zero_resets",
	  { .linger = 1, .pending = 1 },
	  WSCLOSE_ACT_RESET },
	{ "linger_zero_nothing_pending_resets",
	  { .linger = 1 },
	  WSCLOSE_ACT_RESET },
	{ "linger_blocking_pending_waits",
	  { .linger = 1, .lingertime = 2 * HZ, .pending = 1 },
	  WSCLOSE_ACT_FIN_AND_WAIT },
	{ "linger_nothing_pending_fin",
	  { .linger = 1, .lingertime = 2 * HZ },
	  WSCLOSE_ACT_FIN },
	{ "linger_nonblocking_fin",
	  { .linger = 1, .lingertime = HZ, .pending = 1, .nonblock = 1 },
	  WSCLOSE_ACT_FIN },
	{ "linger_unread_resets",
	  { .linger = 1, .lingertime = HZ, .pending = 1, .unread = 1 },
	  WSCLOSE_ACT_RESET },
};

static void commit_row_desc(const struct commit_row *r, char *desc)
{
	strscpy(desc, r->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(commit_rows, commit_rows, commit_row_desc);

static void commit_decide_row(struct kunit *test)
{
	const struct commit_row *r = test->param_value;

	KUNIT_EXPECT_EQ(test, wsclose_commit_decide(&r->in), r->action);
}

static void commit_decide_every_combination(struct kunit *test)
{
	unsigned int bits;

	for (bits = 0; bits < 64; bits++) {
		struct wsclose_commit_in in = {
			.listening = bits & 1,
			.unread = bits & 2,
			.linger = bits & 4,
			.lingertime = (bits & 8) ? 5 * HZ : 0,
			.pending = bits & 16,
			.nonblock = bits & 32,
		};
		int want;

		if (in.listening)
			want = WSCLOSE_ACT_STOP_LISTENING;
		else if (in.unread || (in.linger && !in.lingertime))
			want = WSCLOSE_ACT_RESET;
		else if (in.linger && in.pending && !in.nonblock)
			want = WSCLOSE_ACT_FIN_AND_WAIT;
		else
			want = WSCLOSE_ACT_FIN;
		KUNIT_EXPECT_EQ_MSG(test, wsclose_commit_decide(&in), want,
				    "bits %#x", bits);
	}
}

/* ---- the ABI ------------------------------------------------------------ */

static void abi_layout(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct wsclose_adopt_args), 8);
	KUNIT_EXPECT_EQ(test, sizeof(struct wsclose_close_args), 16);
	KUNIT_EXPECT_EQ(test, offsetof(struct wsclose_close_args, flags), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct wsclose_close_args, outcome), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct wsclose_close_args, pad), 12);
	KUNIT_EXPECT_EQ(test, sizeof(struct wsclose_query_args), 16);
	KUNIT_EXPECT_EQ(test, offsetof(struct wsclose_query_args, handles), 12);
	KUNIT_EXPECT_EQ(test, sizeof(struct wsclose_dup_args), 8);
	KUNIT_EXPECT_EQ(test, _IOC_TYPE(WSCLOSE_IOC_ADOPT), 'W');
	KUNIT_EXPECT_EQ(test, _IOC_NR(WSCLOSE_IOC_ADOPT), 0x84);
	KUNIT_EXPECT_EQ(test, _IOC_DIR(WSCLOSE_IOC_ADOPT), _IOC_WRITE);
	KUNIT_EXPECT_EQ(test, _IOC_SIZE(WSCLOSE_IOC_ADOPT),
			sizeof(struct wsclose_adopt_args));
	/* the per-socket commands: the driver's own range, sized, directed */
	KUNIT_EXPECT_EQ(test, WSCLOSE_SIOC_CLOSE,
			_IOWR('W', 0x85, struct wsclose_close_args));
	KUNIT_EXPECT_EQ(test, WSCLOSE_SIOC_QUERY,
			_IOR('W', 0x86, struct wsclose_query_args));
	KUNIT_EXPECT_EQ(test, WSCLOSE_SIOC_DUPLICATE,
			_IOW('W', 0x87, struct wsclose_dup_args));
	/* the outcome values are ABI too */
	KUNIT_EXPECT_EQ(test, WSCLOSE_OUTCOME_NOT_LAST_HANDLE, 1);
	KUNIT_EXPECT_EQ(test, WSCLOSE_OUTCOME_TIMED_OUT_RESET, 5);
}

struct close_args_row {
	const char *name;
	struct wsclose_close_args a;
	int err;
};

static const struct close_args_row close_args_rows[] = {
	{ "no_flags", { 3, 0, 0, 0 }, 0 },
	{ "as_blocking", { 3, WSCLOSE_AS_BLOCKING, 0, 0 }, 0 },
	{ "as_nonblocking", { 3, WSCLOSE_AS_NONBLOCKING, 0, 0 }, 0 },
	{ "outcome_is_output_only", { 3, 0, 77, 0 }, 0 },
	{ "both_modes", { 3, WSCLOSE_CLOSE_FLAGS, 0, 0 }, -EINVAL },
	{ "unknown_flag", { 3, 4, 0, 0 }, -EINVAL },
	{ "nonzero_pad", { 3, 0, 0, 1 }, -EINVAL },
};

static void close_args_desc(const struct close_args_row *r, char *desc)
{
	strscpy(desc, r->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(close_args, close_args_rows, close_args_desc);

static void close_args_check(struct kunit *test)
{
	const struct close_args_row *r = test->param_value;

	KUNIT_EXPECT_EQ(test, wsclose_check_close_args(&r->a), r->err);
}

/* ---- real sockets over loopback ----------------------------------------- */

struct pair {
	struct socket *ws;	/* the wsclose socket */
	struct socket *peer;	/* the plain end it connected to */
	u64 sent;		/* bytes ws sent */
};

static int pair_init(struct kunit *test)
{
	test->priv = kunit_kzalloc(test, sizeof(struct pair), GFP_KERNEL);
	return test->priv ? 0 : -ENOMEM;
}

static void pair_exit(struct kunit *test)
{
	struct pair *p = test->priv;

	if (p->ws)
		sock_release(p->ws);
	if (p->peer)
		sock_release(p->peer);
}

/* What wsclose_socket() does: socket(2), then adopt. */
static int wsclose_create(int family, int type, struct socket **res)
{
	int err = sock_create(family, type, 0, res);

	if (err)
		return err;
	err = wsclose_adopt(*res);
	if (err) {
		sock_release(*res);
		*res = NULL;
	}
	return err;
}

static void set_user_data(struct sock *sk, void *data)
{
	write_lock_bh(&sk->sk_callback_lock);
	rcu_assign_sk_user_data(sk, data);
	write_unlock_bh(&sk->sk_callback_lock);
}

static void set_linger(struct socket *sock, bool on, int secs)
{
	struct sock *sk = sock->sk;

	lock_sock(sk);
	if (on)
		sock_set_flag(sk, SOCK_LINGER);
	else
		sock_reset_flag(sk, SOCK_LINGER);
	WRITE_ONCE(sk->sk_lingertime, secs * HZ);
	release_sock(sk);
}

/* What setsockopt(SO_SNDBUF) does (6.1 has no sock_set_sndbuf()). */
static void set_sndbuf(struct sock *sk, int val)
{
	lock_sock(sk);
	sk->sk_userlocks |= SOCK_SNDBUF_LOCK;
	WRITE_ONCE(sk->sk_sndbuf, max_t(int, val * 2, SOCK_MIN_SNDBUF));
	release_sock(sk);
}

static int send_some(struct socket *sock, size_t len, int flags)
{
	static const char buf[4096];
	struct kvec vec = { (void *)buf, min(len, sizeof(buf)) };
	struct msghdr msg = { .msg_flags = flags | MSG_NOSIGNAL };

	return kernel_sendmsg(sock, &msg, &vec, 1, vec.iov_len);
}

/* Connect a new wsclose TCP socket to a plain peer; @small fills up fast. */
static void pair_connect(struct kunit *test, struct pair *p, bool small)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct socket *lsock;
	int ret;

	ret = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &lsock);
	KUNIT_ASSERT_EQ(test, ret, 0);
	if (small)
		sock_set_rcvbuf(lsock->sk, 4096);
	ret = kernel_bind(lsock, (struct sockaddr *)&addr, sizeof(addr));
	if (!ret)
		ret = kernel_listen(lsock, 4);
	if (!ret)
		ret = kernel_getsockname(lsock, (struct sockaddr *)&addr) < 0;
	if (!ret)
		ret = wsclose_create(AF_INET, SOCK_STREAM, &p->ws);
	if (!ret && small)
		set_sndbuf(p->ws->sk, 8192);
	if (!ret)
		ret = kernel_connect(p->ws, (struct sockaddr *)&addr,
				     sizeof(addr), 0);
	if (!ret)
		ret = kernel_accept(lsock, &p->peer, 0);
	sock_release(lsock);
	KUNIT_ASSERT_EQ(test, ret, 0);
}

/* Fill the send queue and the peer's receive buffer. */
static void pair_fill(struct kunit *test, struct pair *p)
{
	int quiet = 0, ret;

	while (quiet < 5) {
		ret = send_some(p->ws, 4096, MSG_DONTWAIT);
		if (ret > 0) {
			p->sent += ret;
			quiet = 0;
			continue;
		}
		KUNIT_ASSERT_EQ(test, ret, -EAGAIN);
		quiet++;
		msleep(20);
	}
	KUNIT_ASSERT_GT(test, p->sent, 0ull);
}

/* Read on the peer until EOF or an error; returns 0 (EOF) or -errno. */
static int peer_drain(struct socket *peer, u64 *bytes, unsigned long timeout)
{
	static char buf[8192];
	unsigned long end = jiffies + timeout;
	int ret;

	while (time_before(jiffies, end)) {
		struct kvec vec = { buf, sizeof(buf) };
		struct msghdr msg = {};

		ret = kernel_recvmsg(peer, &msg, &vec, 1, sizeof(buf),
				     MSG_DONTWAIT);
		if (ret == 0 || (ret < 0 && ret != -EAGAIN))
			return ret;
		if (ret > 0)
			*bytes += ret;
		else
			usleep_range(2000, 5000);
	}
	return -ETIMEDOUT;
}

static void state_transitions(struct kunit *test)
{
	struct pair *p = test->priv;
	struct wsclose_sock *ws;

	KUNIT_ASSERT_EQ(test, wsclose_create(AF_INET6, SOCK_STREAM, &p->ws), 0);
	ws = rcu_access_pointer(__sk_user_data(p->ws->sk));
	ws = (void *)((uintptr_t)ws & SK_USER_DATA_PTRMASK);
	KUNIT_ASSERT_NOT_NULL(test, ws);
	KUNIT_EXPECT_EQ(test, ws->state, WSCLOSE_OPEN);
	KUNIT_EXPECT_FALSE(test, ws->waiting);
	KUNIT_EXPECT_EQ(test, wsclose_close(p->ws, false),
			WSCLOSE_OUTCOME_GRACEFUL);
	KUNIT_EXPECT_EQ(test, ws->state, WSCLOSE_CLOSED);
	KUNIT_EXPECT_FALSE(test, ws->waiting);
	/* a second close of the same socket: not a socket any more */
	KUNIT_EXPECT_EQ(test, wsclose_close(p->ws, false), -ENOTSOCK);
	KUNIT_EXPECT_EQ(test, wsclose_close(p->ws, true), -ENOTSOCK);
	/* and closed to I/O */
	KUNIT_EXPECT_EQ(test, send_some(p->ws, 10, MSG_DONTWAIT), -ENOTSOCK);
}

static void tcp_graceful_delivers_everything(struct kunit *test)
{
	struct pair *p = test->priv;
	u64 got = 0;

	pair_connect(test, p, true);
	pair_fill(test, p);
	KUNIT_EXPECT_EQ(test, wsclose_close(p->ws, false),
			WSCLOSE_OUTCOME_GRACEFUL);
	KUNIT_EXPECT_EQ(test, peer_drain(p->peer, &got, 10 * HZ), 0);
	KUNIT_EXPECT_EQ(test, got, p->sent);
}

static void tcp_linger_zero_resets(struct kunit *test)
{
	struct pair *p = test->priv;
	u64 got = 0;

	pair_connect(test, p, true);
	pair_fill(test, p);
	set_linger(p->ws, true, 0);
	KUNIT_EXPECT_EQ(test, wsclose_close(p->ws, true),
			WSCLOSE_OUTCOME_ABORTIVE);
	KUNIT_EXPECT_EQ(test, peer_drain(p->peer, &got, 10 * HZ), -ECONNRESET);
	KUNIT_EXPECT_LT(test, got, p->sent);
}

static void tcp_would_block_changes_nothing(struct kunit *test)
{
	struct pair *p = test->priv;
	u64 got = 0;

	pair_connect(test, p, true);
	pair_fill(test, p);
	set_linger(p->ws, true, 1);
	KUNIT_EXPECT_EQ(test, wsclose_close(p->ws, true), -EWOULDBLOCK);
	KUNIT_EXPECT_EQ(test, wsclose_close(p->ws, true), -EWOULDBLOCK);
	/* still open, nothing shut: no FIN went out, data keeps flowing */
	KUNIT_EXPECT_EQ(test, p->ws->sk->sk_state, TCP_ESTABLISHED);
	KUNIT_EXPECT_EQ(test, READ_ONCE(p->ws->sk->sk_shutdown), 0);
	KUNIT_EXPECT_EQ(test, peer_drain(p->peer, &got, HZ / 2), -ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, got, p->sent);
	KUNIT_EXPECT_EQ(test, send_some(p->ws, 100, MSG_DONTWAIT), 100);
	p->sent += 100;
	/* the retry path: linger {1,0} */
	set_linger(p->ws, true, 0);
	KUNIT_EXPECT_EQ(test, wsclose_close(p->ws, true),
			WSCLOSE_OUTCOME_ABORTIVE);
}

static void tcp_linger_times_out_and_resets(struct kunit *test)
{
	struct pair *p = test->priv;
	unsigned long t0;
	u64 got = 0;

	pair_connect(test, p, true);
	pair_fill(test, p);
	set_linger(p->ws, true, 1);
	t0 = jiffies;
	KUNIT_EXPECT_EQ(test, wsclose_close(p->ws, false),
			WSCLOSE_OUTCOME_TIMED_OUT_RESET);
	KUNIT_EXPECT_GE(test, jiffies - t0, (unsigned long)HZ - 1);
	KUNIT_EXPECT_LT(test, jiffies - t0, 5ul * HZ);
	KUNIT_EXPECT_EQ(test, p->ws->sk->sk_state, TCP_CLOSE);
	KUNIT_EXPECT_EQ(test, peer_drain(p->peer, &got, 10 * HZ), -ECONNRESET);
}

struct late_reader {
	struct delayed_work work;
	struct socket *peer;
	u64 got;
	int ret;
};

static void late_read(struct work_struct *work)
{
	struct late_reader *r = container_of(to_delayed_work(work),
					     struct late_reader, work);

	r->ret = peer_drain(r->peer, &r->got, 10 * HZ);
}

static void tcp_drained_when_peer_reads(struct kunit *test)
{
	struct pair *p = test->priv;
	struct late_reader r = {};
	unsigned long t0;

	pair_connect(test, p, true);
	pair_fill(test, p);
	set_linger(p->ws, true, 5);
	r.peer = p->peer;
	INIT_DELAYED_WORK_ONSTACK(&r.work, late_read);
	schedule_delayed_work(&r.work, HZ / 5);
	t0 = jiffies;
	KUNIT_EXPECT_EQ(test, wsclose_close(p->ws, false),
			WSCLOSE_OUTCOME_DRAINED);
	KUNIT_EXPECT_LT(test, jiffies - t0, 4ul * HZ);
	flush_delayed_work(&r.work);
	destroy_delayed_work_on_stack(&r.work);
	KUNIT_EXPECT_EQ(test, r.ret, 0);
	KUNIT_EXPECT_EQ(test, r.got, p->sent);
}

static void tcp_unread_data_resets(struct kunit *test)
{
	struct pair *p = test->priv;
	int i;
	u64 got = 0;

	pair_connect(test, p, false);
	KUNIT_ASSERT_EQ(test, send_some(p->peer, 10, 0), 10);
	for (i = 0; i < 50 &&
	     skb_queue_empty_lockless(&p->ws->sk->sk_receive_queue); i++)
		msleep(20);
	KUNIT_EXPECT_EQ(test, wsclose_close(p->ws, false),
			WSCLOSE_OUTCOME_ABORTIVE);
	KUNIT_EXPECT_EQ(test, peer_drain(p->peer, &got, 10 * HZ), -ECONNRESET);
}

static void udp_close_is_immediate(struct kunit *test)
{
	struct pair *p = test->priv;

	KUNIT_ASSERT_EQ(test, wsclose_create(AF_INET, SOCK_DGRAM, &p->ws), 0);
	set_linger(p->ws, true, 5);	/* ignored for UDP */
	KUNIT_EXPECT_EQ(test, wsclose_close(p->ws, false),
			WSCLOSE_OUTCOME_GRACEFUL);
	KUNIT_EXPECT_EQ(test, send_some(p->ws, 10, MSG_DONTWAIT), -ENOTSOCK);
}

/*
 * A connected UDP socket is TCP_ESTABLISHED as well: its close must not
 * look for TCP state it does not have (KASAN reads the answer).
 */
static void udp_connected_close_is_immediate(struct kunit *test)
{
	struct sockaddr_in6 addr = {
		.sin6_family = AF_INET6,
		.sin6_addr = IN6ADDR_LOOPBACK_INIT,
	};
	struct pair *p = test->priv;
	int ret;

	ret = sock_create_kern(&init_net, AF_INET6, SOCK_DGRAM, IPPROTO_UDP,
			       &p->peer);
	KUNIT_ASSERT_EQ(test, ret, 0);
	ret = kernel_bind(p->peer, (struct sockaddr *)&addr, sizeof(addr));
	KUNIT_ASSERT_EQ(test, ret, 0);
	ret = kernel_getsockname(p->peer, (struct sockaddr *)&addr);
	KUNIT_ASSERT_EQ(test, ret, (int)sizeof(addr));
	KUNIT_ASSERT_EQ(test, wsclose_create(AF_INET6, SOCK_DGRAM, &p->ws), 0);
	ret = kernel_connect(p->ws, (struct sockaddr *)&addr, sizeof(addr), 0);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_EQ(test, send_some(p->ws, 10, MSG_DONTWAIT), 10);
	set_linger(p->ws, true, 5);	/* ignored for UDP */
	KUNIT_EXPECT_EQ(test, wsclose_close(p->ws, true),
			WSCLOSE_OUTCOME_GRACEFUL);
	KUNIT_EXPECT_EQ(test, send_some(p->ws, 10, MSG_DONTWAIT), -ENOTSOCK);
}

/*
 * What a socket of ours holds that must all be given back when its sock is
 * destroyed: its state (counted as open in /proc/net/wsclose) and, when
 * the driver is a module, two module references (the operations' and the
 * ULP's; built in, there are none).
 */
struct held {
	struct module *owner;
	int refs;
	atomic_long_t *open;
	long opened;
};

static int owner_refs(struct module *owner)
{
#ifdef CONFIG_MODULE_UNLOAD
	if (owner)
		return module_refcount(owner);
#endif
	return 0;
}

static void held_take(struct held *h, struct socket *sock)
{
	h->owner = sock->ops->owner;
	h->refs = owner_refs(h->owner);
	h->open = wsclose_counter_ptr(sock->sk, WSCLOSE_CNT_OPEN);
	h->opened = atomic_long_read(h->open);
}

/* Wait until the sock is destroyed and everything is given back. */
static void held_given_back(struct kunit *test, const struct held *h)
{
	int refs = h->owner ? h->refs - 2 : 0;
	int i;

	for (i = 0; i < 100 && (owner_refs(h->owner) != refs ||
				atomic_long_read(h->open) != h->opened - 1); i++)
		msleep(20);
	KUNIT_EXPECT_EQ(test, owner_refs(h->owner), refs);
	KUNIT_EXPECT_EQ(test, atomic_long_read(h->open), h->opened - 1);
}

/* ---- ownership: the module never takes or frees what is not its own ---- */

static void adopt_refuses_foreign_user_data(struct kunit *test)
{
	struct pair *p = test->priv;
	const struct proto_ops *ops;
	static int foreign;

	KUNIT_ASSERT_EQ(test, sock_create(AF_INET, SOCK_STREAM, 0, &p->peer),
			0);
	ops = p->peer->ops;
	set_user_data(p->peer->sk, &foreign);
	KUNIT_EXPECT_EQ(test, wsclose_adopt(p->peer), -EBUSY);
	/* nothing changed: the operations and the user data are as they were */
	KUNIT_EXPECT_PTR_EQ(test, p->peer->ops, ops);
	KUNIT_EXPECT_PTR_EQ(test,
			    rcu_access_pointer(__sk_user_data(p->peer->sk)),
			    (void *)&foreign);
	set_user_data(p->peer->sk, NULL);
	/* and once free, the socket can be adopted, once */
	KUNIT_EXPECT_EQ(test, wsclose_adopt(p->peer), 0);
	KUNIT_EXPECT_EQ(test, wsclose_adopt(p->peer), -EALREADY);
}

/*
 * A connection accepted on a wsclose listener, whose user data someone
 * else set before the accept path ran (as a sock_ops BPF program adding
 * passive-established sockets to a sockhash does): the module neither
 * takes nor frees the other owner's data.  kernel_accept() installs the
 * listener's operations after the protocol's accept, so the child cannot
 * be handed back as a plain socket there: the accept fails with EBUSY and
 * the child is closed (accept(2) gives a plain socket; the selftests show
 * it).  kmemleak checks that nothing is left behind.
 */
static void accept_leaves_foreign_user_data(struct kunit *test)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct pair *p = test->priv;
	struct request_sock_queue *q;
	struct socket *child = NULL;
	struct sock *csk = NULL;
	static int foreign;
	int i, ret;

	KUNIT_ASSERT_EQ(test, wsclose_create(AF_INET, SOCK_STREAM, &p->ws), 0);
	ret = kernel_bind(p->ws, (struct sockaddr *)&addr, sizeof(addr));
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_EQ(test, kernel_listen(p->ws, 4), 0);
	ret = kernel_getsockname(p->ws, (struct sockaddr *)&addr);
	KUNIT_ASSERT_EQ(test, ret, (int)sizeof(addr));
	ret = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &p->peer);
	KUNIT_ASSERT_EQ(test, ret, 0);
	ret = kernel_connect(p->peer, (struct sockaddr *)&addr, sizeof(addr),
			     0);
	KUNIT_ASSERT_EQ(test, ret, 0);

	/* the child, queued and not yet accepted, gets an owner first */
	q = &inet_csk(p->ws->sk)->icsk_accept_queue;
	for (i = 0; i < 100 && !csk; i++) {
		spin_lock_bh(&q->rskq_lock);
		if (q->rskq_accept_head) {
			csk = q->rskq_accept_head->sk;
			set_user_data(csk, &foreign);
		}
		spin_unlock_bh(&q->rskq_lock);
		if (!csk)
			msleep(20);
	}
	KUNIT_ASSERT_NOT_NULL(test, csk);

	sock_hold(csk);
	KUNIT_EXPECT_EQ(test, kernel_accept(p->ws, &child, 0), -EBUSY);
	KUNIT_EXPECT_NULL(test, child);
	KUNIT_EXPECT_PTR_EQ(test, rcu_access_pointer(__sk_user_data(csk)),
			    (void *)&foreign);
	KUNIT_EXPECT_TRUE(test, sock_flag(csk, SOCK_DEAD));
	set_user_data(csk, NULL);
	sock_put(csk);
	/* the module's references are balanced: it can still be pinned */
	if (p->ws->ops->owner)
		KUNIT_EXPECT_GT(test, owner_refs(p->ws->ops->owner), 0);
}

/*
 * A setsockopt() that was already past the socket's operations when the
 * socket was adopted reaches the protocol itself: TCP_ULP then finds our
 * ULP in the slot (EEXIST) instead of replacing our operations.  Old main
 * had no ULP: "wsclose" was unknown (ENOENT), and a real ULP such as kTLS
 * swapped the operations and leaked the state.
 */
static void inflight_tcp_ulp_finds_the_slot_taken(struct kunit *test)
{
	char name[] = "wsclose";
	struct pair *p = test->priv;
	const struct proto_ops *ops;
	struct sock *sk;
	int ret;

	KUNIT_ASSERT_EQ(test, wsclose_create(AF_INET, SOCK_STREAM, &p->ws), 0);
	sk = p->ws->sk;
	ops = p->ws->ops;
	ret = sk->sk_prot->setsockopt(sk, SOL_TCP, TCP_ULP,
				      KERNEL_SOCKPTR(name), strlen(name));
	KUNIT_EXPECT_EQ(test, ret, -EEXIST);
	KUNIT_EXPECT_PTR_EQ(test, p->ws->ops, ops);
	KUNIT_EXPECT_STREQ(test, inet_csk(sk)->icsk_ulp_ops->name, "wsclose");
}

/* A wsclose IPv6 TCP socket connected to a v4-mapped plain listener. */
static void mapped_connect(struct kunit *test, struct pair *p)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct sockaddr_in6 mapped = {
		.sin6_family = AF_INET6,
		.sin6_addr.s6_addr32 = { 0, 0, htonl(0xffff),
					 htonl(INADDR_LOOPBACK) },
	};
	int ret;

	ret = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &p->peer);
	KUNIT_ASSERT_EQ(test, ret, 0);
	ret = kernel_bind(p->peer, (struct sockaddr *)&addr, sizeof(addr));
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_EQ(test, kernel_listen(p->peer, 4), 0);
	ret = kernel_getsockname(p->peer, (struct sockaddr *)&addr);
	KUNIT_ASSERT_EQ(test, ret, (int)sizeof(addr));
	mapped.sin6_port = addr.sin_port;

	KUNIT_ASSERT_EQ(test, wsclose_create(AF_INET6, SOCK_STREAM, &p->ws), 0);
	ret = kernel_connect(p->ws, (struct sockaddr *)&mapped,
			     sizeof(mapped), 0);
	KUNIT_ASSERT_EQ(test, ret, 0);
}

/* What a setsockopt(IPV6_ADDRFORM) past our operations does. */
static int addrform(struct sock *sk)
{
	int val = AF_INET;

	return sk->sk_prot->setsockopt(sk, SOL_IPV6, IPV6_ADDRFORM,
				       KERNEL_SOCKPTR(&val), sizeof(val));
}

/*
 * The same for IPV6_ADDRFORM, which TCP allows on a connection to a
 * v4-mapped address and which swaps the operations of the socket for
 * inet_stream_ops: the socket's release then never comes through us.  The
 * ULP's release, when the sock is destroyed, frees the state and puts the
 * module reference the replaced operations held.  Old main leaked both.
 */
static void inflight_addrform_leaves_nothing_behind(struct kunit *test)
{
	struct pair *p = test->priv;
	const struct proto_ops *ops;
	struct held h;

	mapped_connect(test, p);
	ops = p->ws->ops;
	held_take(&h, p->ws);
	KUNIT_ASSERT_EQ(test, addrform(p->ws->sk), 0);
	KUNIT_EXPECT_PTR_NE(test, p->ws->ops, ops);

	set_linger(p->ws, true, 0);	/* destroyed at once, by the reset */
	sock_release(p->ws);
	p->ws = NULL;
	held_given_back(test, &h);
}

/*
 * The same once the socket was duplicated: the operations replaced are
 * the backing socket's, no handle's.  The first handle goes first; the
 * duplicate still carries data and takes the sock with it at the end.
 * Old main replaced the first handle's operations: its release freed the
 * sock under the duplicate (KASAN: use-after-free).
 */
static void inflight_addrform_spares_duplicated_handles(struct kunit *test)
{
	struct pair *p = test->priv;
	const struct proto_ops *ops;
	struct socket *dup = NULL;
	struct held h;

	mapped_connect(test, p);
	ops = p->ws->ops;
	held_take(&h, p->ws);
	KUNIT_ASSERT_EQ(test, wsclose_duplicate(p->ws, &dup), 0);
	KUNIT_ASSERT_EQ(test, addrform(p->ws->sk), 0);
	KUNIT_EXPECT_PTR_EQ(test, p->ws->ops, ops);
	KUNIT_EXPECT_PTR_EQ(test, dup->ops, ops);

	sock_release(p->ws);
	p->ws = NULL;
	KUNIT_EXPECT_EQ(test, send_some(dup, 10, MSG_DONTWAIT), 10);
	set_linger(dup, true, 0);
	sock_release(dup);
	held_given_back(test, &h);
}

/*
 * A close already under way when a raced IPV6_ADDRFORM replaces the
 * handle's operations takes the protocol's from the socket's state, never
 * from what the handle points to now: the handle is not ours any more
 * (ENOTSOCK), and its new operations are left alone.  Old main computed a
 * table from the replaced operations and called through it.
 */
static void close_after_inflight_addrform(struct kunit *test)
{
	struct pair *p = test->priv;
	const struct proto_ops *ops;
	struct held h;

	mapped_connect(test, p);
	held_take(&h, p->ws);
	KUNIT_ASSERT_EQ(test, addrform(p->ws->sk), 0);
	ops = p->ws->ops;
	KUNIT_EXPECT_EQ(test, wsclose_close(p->ws, true), -ENOTSOCK);
	KUNIT_EXPECT_PTR_EQ(test, p->ws->ops, ops);

	set_linger(p->ws, true, 0);
	sock_release(p->ws);
	p->ws = NULL;
	held_given_back(test, &h);
}

static struct kunit_case wsclose_cases[] = {
	KUNIT_CASE(close_decide_every_combination),
	KUNIT_CASE_PARAM(close_decide_row, close_rows_gen_params),
	KUNIT_CASE(commit_decide_every_combination),
	KUNIT_CASE_PARAM(commit_decide_row, commit_rows_gen_params),
	KUNIT_CASE(abi_layout),
	KUNIT_CASE_PARAM(close_args_check, close_args_gen_params),
	KUNIT_CASE(state_transitions),
	KUNIT_CASE(tcp_graceful_delivers_everything),
	KUNIT_CASE(tcp_linger_zero_resets),
	KUNIT_CASE(tcp_would_block_changes_nothing),
	KUNIT_CASE(tcp_linger_times_out_and_resets),
	KUNIT_CASE(tcp_drained_when_peer_reads),
	KUNIT_CASE(tcp_unread_data_resets),
	KUNIT_CASE(udp_close_is_immediate),
	KUNIT_CASE(udp_connected_close_is_immediate),
	KUNIT_CASE(adopt_refuses_foreign_user_data),
	KUNIT_CASE(accept_leaves_foreign_user_data),
	KUNIT_CASE(inflight_tcp_ulp_finds_the_slot_taken),
	KUNIT_CASE(inflight_addrform_leaves_nothing_behind),
	KUNIT_CASE(inflight_addrform_spares_duplicated_handles),
	KUNIT_CASE(close_after_inflight_addrform),
	{}
};

/*
 * The loopback sockets need lo up: user space brings it up before the
 * suite is loaded as a module, nobody does before a built-in suite runs.
 */
static int wsclose_suite_init(struct kunit_suite *suite)
{
	struct net_device *lo = init_net.loopback_dev;
	int err = 0;

	rtnl_lock();
	if (!(lo->flags & IFF_UP))
		err = dev_open(lo, NULL);
	rtnl_unlock();
	return err;
}

static struct kunit_suite wsclose_suite = {
	.name = "wsclose",
	.suite_init = wsclose_suite_init,
	.init = pair_init,
	.exit = pair_exit,
	.test_cases = wsclose_cases,
};

kunit_test_suite(wsclose_suite);

MODULE_DESCRIPTION("KUnit tests for wsclose");
MODULE_LICENSE("GPL");
MODULE_INFO(test, "Y");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
