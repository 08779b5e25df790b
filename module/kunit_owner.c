// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite wsclose_ownership: the driver never takes or frees what is
 * not its own, and an adoption raced by TCP_ULP or IPV6_ADDRFORM leaves
 * nothing behind.
 */

#include <net/inet_connection_sock.h>

#include "kunit.h"

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
	int i, ret, refs;

	KUNIT_ASSERT_EQ(test, wsclose_create(AF_INET, SOCK_STREAM, &p->ws), 0);
	refs = owner_refs(p->ws->ops->owner);
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
	/* the child that is not ours took no module reference with it */
	KUNIT_EXPECT_EQ(test, owner_refs(p->ws->ops->owner), refs);
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

static struct kunit_case wsclose_ownership_cases[] = {
	KUNIT_CASE(adopt_refuses_foreign_user_data),
	KUNIT_CASE(accept_leaves_foreign_user_data),
	KUNIT_CASE(inflight_tcp_ulp_finds_the_slot_taken),
	KUNIT_CASE(inflight_addrform_leaves_nothing_behind),
	KUNIT_CASE(inflight_addrform_spares_duplicated_handles),
	KUNIT_CASE(close_after_inflight_addrform),
	{}
};

static struct kunit_suite wsclose_ownership_suite = {
	.name = "wsclose_ownership",
	.suite_init = wsclose_lo_up,
	.init = pair_init,
	.exit = pair_exit,
	.test_cases = wsclose_ownership_cases,
};

kunit_test_suite(wsclose_ownership_suite);
