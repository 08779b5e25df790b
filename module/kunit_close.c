// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite wsclose_close: real in-kernel TCP and UDP sockets over
 * loopback for the graceful, abortive, would-block, timed-out and drained
 * closes, checking what the peer sees.
 */

#include <linux/workqueue.h>

#include "kunit.h"

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

	pair_backlog(test, p, 0);
	KUNIT_EXPECT_EQ(test, wsclose_close(p->ws, true),
			WSCLOSE_OUTCOME_ABORTIVE);
	KUNIT_EXPECT_EQ(test, peer_drain(p->peer, &got, 10 * HZ), -ECONNRESET);
	KUNIT_EXPECT_LT(test, got, p->sent);
}

static void tcp_would_block_changes_nothing(struct kunit *test)
{
	struct pair *p = test->priv;
	u64 got = 0;

	pair_backlog(test, p, 1);
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

	pair_backlog(test, p, 1);
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

	pair_backlog(test, p, 5);
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
	KUNIT_ASSERT_FALSE(test,
			   skb_queue_empty_lockless(&p->ws->sk->sk_receive_queue));
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

static struct kunit_case wsclose_close_cases[] = {
	KUNIT_CASE(state_transitions),
	KUNIT_CASE(tcp_graceful_delivers_everything),
	KUNIT_CASE(tcp_linger_zero_resets),
	KUNIT_CASE(tcp_would_block_changes_nothing),
	KUNIT_CASE(tcp_linger_times_out_and_resets),
	KUNIT_CASE(tcp_drained_when_peer_reads),
	KUNIT_CASE(tcp_unread_data_resets),
	KUNIT_CASE(udp_close_is_immediate),
	KUNIT_CASE(udp_connected_close_is_immediate),
	{}
};

static struct kunit_suite wsclose_close_suite = {
	.name = "wsclose_close",
	.suite_init = wsclose_lo_up,
	.init = pair_init,
	.exit = pair_exit,
	.test_cases = wsclose_close_cases,
};

kunit_test_suite(wsclose_close_suite);
