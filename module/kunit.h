/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the wsclose KUnit suites that use real sockets share: a wsclose
 * socket connected over loopback to a plain one (after
 * net/handshake/handshake-test.c), and what it holds.
 */
#ifndef _WSCLOSE_KUNIT_H
#define _WSCLOSE_KUNIT_H

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
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "wsclose.h"

/*
 * The loopback sockets need lo up: user space brings it up before the
 * suites are loaded as a module, nobody does before built-in suites run.
 */
static inline int wsclose_lo_up(struct kunit_suite *suite)
{
	struct net_device *lo = init_net.loopback_dev;
	int err = 0;

	rtnl_lock();
	if (!(lo->flags & IFF_UP))
		err = dev_open(lo, NULL);
	rtnl_unlock();
	return err;
}

struct pair {
	struct socket *ws;	/* the wsclose socket */
	struct socket *peer;	/* the plain end it connected to */
	u64 sent;		/* bytes ws sent */
};

static inline int pair_init(struct kunit *test)
{
	test->priv = kunit_kzalloc(test, sizeof(struct pair), GFP_KERNEL);
	return test->priv ? 0 : -ENOMEM;
}

static inline void pair_exit(struct kunit *test)
{
	struct pair *p = test->priv;

	if (p->ws)
		sock_release(p->ws);
	if (p->peer)
		sock_release(p->peer);
}

/* What wsclose_socket() does: socket(2), then adopt. */
static inline int wsclose_create(int family, int type, struct socket **res)
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

static inline void set_user_data(struct sock *sk, void *data)
{
	write_lock_bh(&sk->sk_callback_lock);
	rcu_assign_sk_user_data(sk, data);
	write_unlock_bh(&sk->sk_callback_lock);
}

static inline void set_linger(struct socket *sock, bool on, int secs)
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
static inline void set_sndbuf(struct sock *sk, int val)
{
	lock_sock(sk);
	sk->sk_userlocks |= SOCK_SNDBUF_LOCK;
	WRITE_ONCE(sk->sk_sndbuf, max_t(int, val * 2, SOCK_MIN_SNDBUF));
	release_sock(sk);
}

static inline int send_some(struct socket *sock, size_t len, int flags)
{
	static const char buf[4096];
	struct kvec vec = { (void *)buf, min(len, sizeof(buf)) };
	struct msghdr msg = { .msg_flags = flags | MSG_NOSIGNAL };

	return kernel_sendmsg(sock, &msg, &vec, 1, vec.iov_len);
}

/* Connect a new wsclose TCP socket to a plain peer; @small fills up fast. */
static inline void pair_connect(struct kunit *test, struct pair *p, bool small)
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
static inline void pair_fill(struct kunit *test, struct pair *p)
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

/* Connected, a full queue behind a small buffer, SO_LINGER {1, @secs}. */
static inline void pair_backlog(struct kunit *test, struct pair *p, int secs)
{
	pair_connect(test, p, true);
	pair_fill(test, p);
	set_linger(p->ws, true, secs);
}

/* Read on the peer until EOF or an error; returns 0 (EOF) or -errno. */
static inline int peer_drain(struct socket *peer, u64 *bytes,
			     unsigned long timeout)
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

static inline int owner_refs(struct module *owner)
{
#ifdef CONFIG_MODULE_UNLOAD
	if (owner)
		return module_refcount(owner);
#endif
	return 0;
}

static inline void held_take(struct held *h, struct socket *sock)
{
	h->owner = sock->ops->owner;
	h->refs = owner_refs(h->owner);
	h->open = wsclose_counter_ptr(sock->sk, WSCLOSE_CNT_OPEN);
	h->opened = atomic_long_read(h->open);
}

/* Wait (up to 10 s) until the sock is destroyed and all is given back. */
static inline void held_given_back(struct kunit *test, const struct held *h)
{
	int refs = h->owner ? h->refs - 2 : 0;
	long open = h->opened - 1;
	int i;

	for (i = 0; i < 500; i++) {
		if (owner_refs(h->owner) == refs &&
		    atomic_long_read(h->open) == open)
			break;
		msleep(20);
	}
	KUNIT_EXPECT_EQ(test, owner_refs(h->owner), refs);
	KUNIT_EXPECT_EQ(test, atomic_long_read(h->open), h->opened - 1);
}

#endif /* _WSCLOSE_KUNIT_H */
