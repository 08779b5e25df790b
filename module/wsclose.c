// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose - Winsock close semantics (WSPCloseSocket) for Linux sockets
 *
 * A caller hands /dev/wsclose an AF_INET/AF_INET6 TCP or UDP socket it
 * made itself (socket(2), accept(2)); the driver adopts it in place, so
 * that its protocol operations pass through this driver, and closes it the
 * way Winsock's closesocket() does:
 *
 *  - SO_DONTLINGER (linger off): return at once, FIN after the queued data;
 *  - SO_LINGER {1, 0}: RST at once;
 *  - SO_LINGER {1, n}: a blocking close waits until every queued byte is
 *    acknowledged (then FIN) or n seconds pass (then RST before returning);
 *    a non-blocking close with data pending fails with EWOULDBLOCK and
 *    changes nothing.
 *
 * Once a close commits, the socket is closed to I/O: calls that were
 * pending on it end with ECANCELED, later calls through other aliases get
 * ENOTSOCK.
 *
 * The wrapped operations are copies of the socket's own inet operations
 * with entries replaced, as net/tls and espintcp do.  The originals are
 * taken at load time from sockets the driver makes for that purpose, never
 * by symbol.  The device itself never creates a socket for anyone.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/indirect_call_wrapper.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/proc_fs.h>
#include <linux/resume_user_mode.h>
#include <linux/seq_file.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/inet_common.h>
#include <net/inet_connection_sock.h>
#include <net/inet_hashtables.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/udp.h>

#include <linux/wsclose.h>

#include "wsclose.h"

#define CREATE_TRACE_POINTS
#include "wsclose_trace.h"

/*
 * Per (family, type): the wrapped operations of a handle whose descriptor
 * is usable, and of a handle closed while other handles of its socket
 * remain.  Both run the same wrappers; which table a handle points to is
 * its "closed" bit, so that finding it costs one comparison.  A socket's
 * state names its table (wsclose_sock.proto): the wrappers take the
 * protocol's operations from there, never from sock->ops, which a
 * setsockopt(IPV6_ADDRFORM) already under way at the adoption may still
 * replace.
 */
struct wsclose_proto {
	const struct proto_ops *orig;	/* NULL: family unavailable */
	const struct proto *prot;	/* sk_prot of a plain socket */
	struct proto_ops ops;
	struct proto_ops closed_ops;
};

enum { WS_INET, WS_INET6, WS_NFAMILIES };
enum { WS_STREAM, WS_DGRAM, WS_NTYPES };

/* Written once at load time, read-only afterwards. */
static struct wsclose_proto ws_protos[WS_NFAMILIES][WS_NTYPES] __ro_after_init;

static bool ws_ops_ours(const struct proto_ops *ops)
{
	const struct wsclose_proto *p = &ws_protos[0][0];

	return ops && (void *)ops >= (void *)p &&
	       (void *)ops < (void *)(p + WS_NFAMILIES * WS_NTYPES);
}

static bool ws_is_ours(const struct socket *sock)
{
	return ws_ops_ours(READ_ONCE(sock->ops));
}

/* The table the operations @ops belong to (ours): no search. */
static const struct wsclose_proto *ws_proto_of(const struct proto_ops *ops)
{
	const struct wsclose_proto *p = &ws_protos[0][0];

	return p + ((const char *)ops - (const char *)p) / sizeof(*p);
}

/*
 * The state of a socket whose operations are ours.  Ownership rule: a
 * socket carries our operations only while its sk_user_data is our
 * wsclose_sock.  Adoption installs both under the socket lock after
 * checking that neither belongs to anyone else; an accepted child whose
 * user data someone else set first gets the plain operations back
 * (ws_accept_finish()).  So this is called only where the operations say
 * the state is ours, and never interprets anybody else's user data.  The
 * state is freed by the release of the socket's last handle, which cannot
 * run while a caller holds a handle's file or runs one of its operations:
 * no RCU is needed to read it.
 */
static struct wsclose_sock *ws_of(const struct sock *sk)
{
	uintptr_t p = (uintptr_t)rcu_access_pointer(__sk_user_data(sk));
	struct wsclose_sock *ws = (struct wsclose_sock *)(p & SK_USER_DATA_PTRMASK);

	DEBUG_NET_WARN_ON_ONCE(ws && ws->sk != sk);
	return ws;
}

/* The table of @sock, a handle of a socket of ours. */
static const struct wsclose_proto *ws_proto(const struct socket *sock)
{
	return ws_of(sock->sk)->proto;
}

static const struct proto_ops *ws_orig(const struct socket *sock)
{
	return ws_proto(sock)->orig;
}

/*
 * Whether the handle @sock was closed while other handles remained (its
 * operations are the closed table), or lost to a raced IPV6_ADDRFORM.
 */
static bool ws_handle_closed(const struct socket *sock)
{
	return READ_ONCE(sock->ops) != &ws_proto(sock)->ops;
}

/* Close the handle @sock: its operations become the closed table. */
static void ws_close_handle(struct socket *sock)
{
	const struct wsclose_proto *p = ws_proto(sock);

	/* never over operations that are not ours any more */
	if (cmpxchg(&sock->ops, &p->ops, &p->closed_ops) != &p->ops)
		DEBUG_NET_WARN_ON_ONCE(1);
}

/*
 * Per-network-namespace counters, read through /proc/net/wsclose.  Plain
 * atomics: they move once per socket or per close, never per byte.
 */
enum ws_counter {
	WS_CNT_OPEN,			/* wsclose sockets open now */
	WS_CNT_OUTCOME,			/* + WSCLOSE_OUTCOME_*: closes by outcome */
	WS_CNT_WOULD_BLOCK = WS_CNT_OUTCOME + WSCLOSE_OUTCOME_TIMED_OUT_RESET + 1,
	WS_CNT_ABORTED,			/* operations aborted (ECANCELED) */
	WS_CNT_REAPERS,			/* sockets a background reset holds now */
	WS_CNT_REAPER_LIMIT,		/* resets done at once: reaper bound hit */
	WS_NCOUNTERS
};

struct ws_net {
	atomic_long_t cnt[WS_NCOUNTERS];
};

static unsigned int ws_net_id __read_mostly;

static atomic_long_t *ws_counter(const struct sock *sk, enum ws_counter c)
{
	struct ws_net *wn = net_generic(sock_net(sk), ws_net_id);

	return &wn->cnt[c];
}

static void ws_count(const struct sock *sk, enum ws_counter c, long delta)
{
	atomic_long_add(delta, ws_counter(sk, c));
}

/* Give @sk our state unless its user data belongs to someone else. */
static int ws_attach(struct sock *sk, struct wsclose_sock *ws)
{
	int err = 0;

	ws->sk = sk;
	write_lock_bh(&sk->sk_callback_lock);
	if (rcu_access_pointer(__sk_user_data(sk)))
		err = -EBUSY;
	else
		__rcu_assign_sk_user_data_with_flags(sk, ws,
						     SK_USER_DATA_NOCOPY);
	write_unlock_bh(&sk->sk_callback_lock);
	if (!err)
		ws_count(sk, WS_CNT_OPEN, 1);
	return err;
}

/* ---- SIGIO for every handle ------------------------------------------- */

/*
 * The socket layer sends SIGIO (sk_wake_async()) to the descriptors that
 * asked for it (O_ASYNC) through the struct socket the sock's wait queue
 * belongs to, the first handle's; a duplicated handle registers on its own
 * struct socket, which the socket layer never looks at.  So from its first
 * duplication on, a socket's wake-up callbacks are wrapped: each calls the
 * protocol's own, then signals every other handle's registrations with the
 * band the protocol would have used (the first handle's too when a
 * duplicate turning O_ASYNC off cleared SOCK_FASYNC for the whole sock).
 * TCP's own direct sk_wake_async() calls (connect done, FIN) follow a state
 * change: the state change wrapper stands for them.
 *
 * The callbacks a plain TCP or UDP socket has, taken at load time from a
 * socket of each type: the wrappers call these, and put them back.
 */
struct ws_callbacks {
	void (*data_ready)(struct sock *sk);
	void (*write_space)(struct sock *sk);
	void (*state_change)(struct sock *sk);
	void (*error_report)(struct sock *sk);
};

static struct ws_callbacks ws_cbs[WS_NTYPES] __ro_after_init;

static const struct ws_callbacks *ws_cbs_of(const struct sock *sk)
{
	return &ws_cbs[sk->sk_type == SOCK_STREAM ? WS_STREAM : WS_DGRAM];
}

/*
 * Every handle's struct socket, for the wrappers; RCU-read.  Entries are
 * added and removed under the socket lock; the array is replaced (and the
 * old one freed after a grace period) only to grow.  A handle's struct
 * socket is freed an RCU grace period after its release, which removes it
 * first, so a reader never sees a freed one.
 */
struct ws_socks {
	struct rcu_head rcu;
	unsigned int n, cap;
	struct socket *sock[];
};

static int ws_socks_add(struct wsclose_sock *ws, struct socket *sock)
{
	struct ws_socks *h, *old;
	unsigned int cap;

	sock_owned_by_me(sock->sk);
	old = rcu_dereference_protected(ws->socks,
					lockdep_sock_is_held(sock->sk));
	if (old && old->n < old->cap) {
		WRITE_ONCE(old->sock[old->n], sock);
		smp_store_release(&old->n, old->n + 1);	/* entry first */
		return 0;
	}
	cap = old ? 2 * old->cap : 4;
	h = kmalloc(struct_size(h, sock, cap), GFP_KERNEL_ACCOUNT);
	if (!h)
		return -ENOMEM;
	h->cap = cap;
	h->n = old ? old->n : 0;
	if (old)
		memcpy(h->sock, old->sock, old->n * sizeof(*h->sock));
	h->sock[h->n++] = sock;
	rcu_assign_pointer(ws->socks, h);
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

static void ws_socks_remove(struct wsclose_sock *ws, struct socket *sock)
{
	struct ws_socks *h;
	unsigned int i;

	sock_owned_by_me(sock->sk);
	h = rcu_dereference_protected(ws->socks,
				      lockdep_sock_is_held(sock->sk));
	for (i = 0; h && i < h->n; i++) {
		if (h->sock[i] != sock)
			continue;
		/* a reader may see the last entry twice, never a gone one */
		WRITE_ONCE(h->sock[i], h->sock[h->n - 1]);
		WRITE_ONCE(h->n, h->n - 1);
		return;
	}
}

static void __ws_signal_handles(struct sock *sk, int band, bool all)
{
	struct socket_wq *skwq;
	struct wsclose_sock *ws;
	struct ws_socks *h;
	unsigned int i;

	rcu_read_lock();
	read_lock_bh(&sk->sk_callback_lock);	/* ws_detach() frees ws */
	ws = ws_of(sk);
	h = ws ? rcu_dereference(ws->socks) : NULL;
	skwq = rcu_dereference(sk->sk_wq);
	/* acquire: pairs with ws_socks_add()'s release, entry before count */
	for (i = 0; h && i < smp_load_acquire(&h->n); i++) {
		struct socket_wq *wq = &READ_ONCE(h->sock[i])->wq;

		/* sk_wake_async() did that one */
		if (!all && wq == skwq && sock_flag(sk, SOCK_FASYNC))
			continue;
		kill_fasync(&wq->fasync_list, SIGIO, band);
	}
	read_unlock_bh(&sk->sk_callback_lock);
	rcu_read_unlock();
}

/*
 * What reads a sock's socket for the process behind it finds the backing
 * socket: it stands for one handle, the handle of record, with that
 * handle's file (the netfilter owner match, SIGURG's owner), inode number
 * (/proc/net/tcp, ss -p) and owner uid (sock_i_uid(), a copy taken when
 * it becomes the record).  Under sk_callback_lock, which sock_i_uid(),
 * sock_i_ino() and the netfilter readers of the file take.  A reader
 * under RCU only (cls_flow's skuid key) may meet a file being released:
 * on 6.12, whose files are SLAB_TYPESAFE_BY_RCU, it may classify one
 * packet by another file's credentials.
 */
static void ws_stand_for(struct socket *backing, struct socket *sock)
{
	struct inode *inode = SOCK_INODE(backing);

	WRITE_ONCE(backing->file, sock ? sock->file : NULL);
	if (sock) {
		inode->i_ino = SOCK_INODE(sock)->i_ino;
		inode->i_uid = SOCK_INODE(sock)->i_uid;
	}
}

/* @sock is going: the next handle becomes the handle of record. */
static void ws_forget_handle(struct wsclose_sock *ws, struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct socket *next = NULL;
	struct ws_socks *h;
	unsigned int i;

	sock_owned_by_me(sk);
	ws_socks_remove(ws, sock);
	if (ws->backing->file != sock->file)
		return;
	h = rcu_dereference_protected(ws->socks, lockdep_sock_is_held(sk));
	for (i = 0; h && i < h->n && !next; i++)
		if (h->sock[i]->file)
			next = h->sock[i];
	write_lock_bh(&sk->sk_callback_lock);
	ws_stand_for(ws->backing, next);
	write_unlock_bh(&sk->sk_callback_lock);
}

/*
 * A new handle, with its file: on the list for SIGIO, and the handle of
 * record if there is none.
 */
static int ws_add_handle(struct wsclose_sock *ws, struct socket *sock)
{
	struct sock *sk = sock->sk;
	int err;

	lock_sock(sk);
	err = ws_socks_add(ws, sock);
	if (!err && !ws->backing->file) {
		write_lock_bh(&sk->sk_callback_lock);
		ws_stand_for(ws->backing, sock);
		write_unlock_bh(&sk->sk_callback_lock);
	}
	release_sock(sk);
	return err;
}

static void ws_signal_handles(struct sock *sk, int band)
{
	__ws_signal_handles(sk, band, false);
}

/* Whether @bit is set in the sock's wait queue flags. */
static bool ws_wq_bit(struct sock *sk, int bit)
{
	struct socket_wq *wq;
	bool set;

	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	set = wq && test_bit(bit, &wq->flags);
	rcu_read_unlock();
	return set;
}

/* Not while a reader waits for the data (SOCK_WAKE_WAITD). */
static void ws_data_ready(struct sock *sk)
{
	bool waiting = ws_wq_bit(sk, SOCKWQ_ASYNC_WAITDATA);

	ws_cbs_of(sk)->data_ready(sk);
	if (!waiting)
		ws_signal_handles(sk, POLL_IN);
}

static bool ws_writeable(struct sock *sk)
{
	if (sk->sk_type != SOCK_STREAM)
		return sock_writeable(sk);
	return __sk_stream_is_writeable(sk, 1) &&
	       !(READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN);
}

/*
 * Only when a send found no room, and now there is (SOCK_WAKE_SPACE).  The
 * protocol clears the no-room bit only when the first handle has
 * registrations: otherwise it is cleared here.
 */
static void ws_write_space(struct sock *sk)
{
	bool nospace = ws_wq_bit(sk, SOCKWQ_ASYNC_NOSPACE);
	bool room, ours = false;
	struct socket_wq *wq;

	ws_cbs_of(sk)->write_space(sk);
	if (!nospace)
		return;
	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	room = wq && !test_bit(SOCKWQ_ASYNC_NOSPACE, &wq->flags);
	if (wq && !room && ws_writeable(sk)) {
		ours = test_and_clear_bit(SOCKWQ_ASYNC_NOSPACE, &wq->flags);
		room = ours;
	}
	rcu_read_unlock();
	/* the bit cleared here is the one the core did not signal for */
	if (room)
		__ws_signal_handles(sk, POLL_OUT, ours);
}

/* TCP's own: connected (POLL_OUT); FIN received (POLL_IN, or POLL_HUP). */
static void ws_state_change(struct sock *sk)
{
	int state = READ_ONCE(sk->sk_state);
	int shut = READ_ONCE(sk->sk_shutdown);

	ws_cbs_of(sk)->state_change(sk);
	if (sk->sk_type != SOCK_STREAM)
		return;
	if (state == TCP_ESTABLISHED && !shut)
		ws_signal_handles(sk, POLL_OUT);
	else if (shut & RCV_SHUTDOWN)
		ws_signal_handles(sk, shut == SHUTDOWN_MASK ||
				  state == TCP_CLOSE ? POLL_HUP : POLL_IN);
}

static void ws_error_report(struct sock *sk)
{
	ws_cbs_of(sk)->error_report(sk);
	ws_signal_handles(sk, POLL_ERR);
}

/*
 * Under sk_callback_lock: wrap the callbacks if they are the protocol's
 * own (nothing else of anyone's is ever wrapped), or put them back.
 */
static void ws_wrap_callbacks(struct sock *sk)
{
	const struct ws_callbacks *cb = ws_cbs_of(sk);

	if (sk->sk_data_ready != cb->data_ready ||
	    sk->sk_write_space != cb->write_space ||
	    sk->sk_state_change != cb->state_change ||
	    sk->sk_error_report != cb->error_report)
		return;
	WRITE_ONCE(sk->sk_data_ready, ws_data_ready);
	WRITE_ONCE(sk->sk_write_space, ws_write_space);
	WRITE_ONCE(sk->sk_state_change, ws_state_change);
	WRITE_ONCE(sk->sk_error_report, ws_error_report);
}

/*
 * One by one: a listener's clone copies the four without a lock, so a
 * child may have some of them wrapped and not the others.
 */
static void ws_unwrap_callbacks(struct sock *sk)
{
	const struct ws_callbacks *cb = ws_cbs_of(sk);

	if (sk->sk_data_ready == ws_data_ready)
		WRITE_ONCE(sk->sk_data_ready, cb->data_ready);
	if (sk->sk_write_space == ws_write_space)
		WRITE_ONCE(sk->sk_write_space, cb->write_space);
	if (sk->sk_state_change == ws_state_change)
		WRITE_ONCE(sk->sk_state_change, cb->state_change);
	if (sk->sk_error_report == ws_error_report)
		WRITE_ONCE(sk->sk_error_report, cb->error_report);
}

static void ws_detach(struct sock *sk, struct wsclose_sock *ws)
{
	struct ws_socks *h = rcu_access_pointer(ws->socks);

	write_lock_bh(&sk->sk_callback_lock);
	ws_unwrap_callbacks(sk);
	rcu_assign_sk_user_data(sk, NULL);
	write_unlock_bh(&sk->sk_callback_lock);
	if (h)
		kfree_rcu(h, rcu);
	kfree(ws);
	ws_count(sk, WS_CNT_OPEN, -1);
}

/*
 * The TCP upper layer protocol "wsclose".  Every TCP socket of ours
 * carries it, from adoption (or accept) to the release of its last handle,
 * so that a setsockopt(TCP_ULP) that was already past our operations when
 * the socket was adopted finds the slot taken (EEXIST under the socket
 * lock) instead of replacing our operations; sockmap refuses a socket
 * with a ULP too.  It is also a way in: setsockopt(fd, SOL_TCP, TCP_ULP,
 * "wsclose") adopts a TCP socket without opening the device (the library's
 * fast path), with the same checks.  Children of a listener do not keep
 * the copy sk_clone_lock() made: an accepted child gets it back when it
 * gets our state (ws_accept_finish()).
 */
static struct tcp_ulp_ops ws_ulp;

/* Under the socket lock, with a module reference of its own. */
static void ws_ulp_set(struct sock *sk)
{
	sock_owned_by_me(sk);
	__module_get(THIS_MODULE);
	WRITE_ONCE(inet_csk(sk)->icsk_ulp_ops, &ws_ulp);
}

/*
 * The release of the last handle: nothing can call setsockopt any more, so
 * the slot is given back and the module no longer pinned by an orphan that
 * TCP keeps until its FIN is acknowledged.
 */
static void ws_ulp_clear(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);

	sock_owned_by_me(sk);
	if (icsk->icsk_ulp_ops != &ws_ulp)
		return;
	WRITE_ONCE(icsk->icsk_ulp_ops, NULL);
	module_put(THIS_MODULE);
}

static struct wsclose_sock *ws_alloc(void)
{
	struct wsclose_sock *ws = kzalloc(sizeof(*ws), GFP_KERNEL_ACCOUNT);

	if (ws) {
		spin_lock_init(&ws->lock);
		ws->state = WS_OPEN;
		ws->handles = 1;
		ws->files = 1;
	}
	return ws;
}

static bool ws_open(const struct sock *sk)
{
	return READ_ONCE(ws_of(sk)->state) == WS_OPEN;
}

/* Count an aborted operation. */
static int ws_cancel(const struct sock *sk)
{
	ws_count(sk, WS_CNT_ABORTED, 1);
	return -ECANCELED;
}

/*
 * A call that starts on a socket already closed to I/O, or through a
 * handle already closed.  What tells ECANCELED from ENOTSOCK is when the
 * operation started, not which system call the task is in: a call that
 * starts now started after the commit, so it finds no socket (ENOTSOCK).
 * Operations pending at the commit end elsewhere: a call blocked in a
 * wrapper returns through ws_aborted(); an io_uring request armed on the
 * socket's wait queue is completed with -ECANCELED by the commit's
 * POLLFREE wake-up (ws_wake_aborted()) without being reissued.  Only an
 * io-wq worker cannot say when its request was submitted: it errs towards
 * ECANCELED.
 */
static int ws_closed_errno(const struct sock *sk)
{
	return current->flags & PF_IO_WORKER ? ws_cancel(sk) : -ENOTSOCK;
}

/*
 * Whether a call through the handle @sock may go on, to (*@pp)->orig: not
 * when the socket is closed to I/O, or the handle is (its operations are
 * the closed table); then it fails (ws_closed_errno()).  One read of the
 * operations and one of the state: the I/O path.
 */
static __always_inline bool ws_enter(const struct socket *sock,
				     const struct wsclose_proto **pp)
{
	const struct wsclose_sock *ws = ws_of(sock->sk);

	*pp = ws->proto;
	return likely(READ_ONCE(sock->ops) == &ws->proto->ops &&
		      READ_ONCE(ws->state) == WS_OPEN);
}

/* 0, or why a call through @sock fails. */
static __always_inline int ws_gate(const struct socket *sock)
{
	const struct wsclose_proto *p;

	return ws_enter(sock, &p) ? 0 : ws_closed_errno(sock->sk);
}

/* A call that failed because the socket was closed under it was aborted. */
static int ws_aborted(const struct socket *sock, int ret)
{
	return ret < 0 && !ws_open(sock->sk) ? ws_cancel(sock->sk) : ret;
}

/* ---- wrapped protocol operations ---------------------------------------- */

/*
 * Every handle calls the protocol on its own struct socket, whose ->sk is
 * the shared sock: a duplicated handle's socket lives as long as its file,
 * independently of the first handle's.  Only poll differs (ws_poll()).
 */

static int ws_bind(struct socket *sock, struct sockaddr *addr, int len)
{
	return ws_gate(sock) ?: ws_orig(sock)->bind(sock, addr, len);
}

static int ws_connect(struct socket *sock, struct sockaddr *addr, int len,
		      int flags)
{
	int ret = ws_gate(sock);

	if (ret)
		return ret;
	ret = ws_orig(sock)->connect(sock, addr, len, flags);
	return ws_aborted(sock, ret);
}

/*
 * The child carries our operations already (do_accept() copies them from
 * the listener before it calls us) and its linger setting (sk_clone_lock()
 * copies the flags); it needs state of its own.  If something else owns
 * the child first (a sock_ops BPF program put it in a sockmap as the
 * connection was established), the child stays a plain socket: the
 * listener's owner never sees it as a wsclose socket, and nothing of the
 * other owner is touched.  kernel_accept() installs the operations only
 * after we return, so there the child that cannot be ours is closed
 * instead: ours must never run without our state.
 */
static int ws_accept_finish(struct socket *sock, struct socket *newsock,
			    int ret)
{
	const struct wsclose_proto *p = ws_proto(sock);
	struct sock *newsk = newsock->sk;
	struct wsclose_sock *ws;

	if (ret)
		return ws_aborted(sock, ret);
	/* adopted while accept(2) ran: the child was given the plain ops */
	if (newsock->ops && newsock->ops != &p->ops)
		return 0;
	ws = ws_alloc();
	if (ws) {
		ws->proto = p;
		lock_sock(newsk);
		ret = -EBUSY;
		if (READ_ONCE(newsk->sk_prot) == p->prot &&
		    !inet_csk(newsk)->icsk_ulp_ops)
			ret = ws_attach(newsk, ws);
		if (!ret)
			ws_ulp_set(newsk);
		release_sock(newsk);
		if (!ret)
			return 0;
	}

	ret = ws ? -EBUSY : -ENOMEM;
	kfree(ws);
	if (!newsock->ops) {
		p->orig->release(newsock);
		return ret;
	}
	__module_get(p->orig->owner);
	WRITE_ONCE(newsock->ops, p->orig);
	module_put(THIS_MODULE);
	return ret == -ENOMEM ? ret : 0;
}

static int ws_getname(struct socket *sock, struct sockaddr *addr, int peer)
{
	return ws_gate(sock) ?: ws_orig(sock)->getname(sock, addr, peer);
}

static void ws_wake_aborted(struct sock *sk);

/*
 * Closed: report an error only, never EPOLLIN/HUP (no FD_CLOSE), and count
 * nothing: polling is not an operation that was aborted.  A duplicated
 * handle waits where the socket's wake-ups go, the first handle's queue.
 */
static __poll_t ws_poll(struct file *file, struct socket *sock,
			poll_table *wait)
{
	const struct wsclose_proto *p;
	struct sock *sk = sock->sk;
	__poll_t mask;

	if (unlikely(!ws_enter(sock, &p)))
		return EPOLLERR;
	if (sock != sk->sk_socket) {
		poll_wait(file, sk_sleep(sk), wait);
		/* pairs with the waker's barrier, as sock_poll_wait() does */
		smp_mb();
		wait = NULL;
	}
	mask = INDIRECT_CALL_2(p->orig->poll, tcp_poll, udp_poll, file, sock,
			       wait);
	if (ws_open(sk))
		return mask;
	/* registered after the commit's wake-up: detach it the same way */
	ws_wake_aborted(sk);
	return EPOLLERR;
}

static int ws_private_ioctl(struct socket *sock, unsigned int cmd,
			    void __user *argp);

/* The driver's own numbers: no other protocol or driver interprets them. */
static bool ws_private_cmd(unsigned int cmd)
{
	return _IOC_TYPE(cmd) == _IOC_TYPE(WSCLOSE_SIOC_CLOSE);
}

static int ws_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)
{
	if (ws_private_cmd(cmd))
		return ws_private_ioctl(sock, cmd, (void __user *)arg);
	return ws_gate(sock) ?: ws_orig(sock)->ioctl(sock, cmd, arg);
}

#ifdef CONFIG_COMPAT
static int ws_compat_ioctl(struct socket *sock, unsigned int cmd,
			   unsigned long arg)
{
	const struct proto_ops *orig = ws_orig(sock);

	/* The argument structures are the same for 32-bit callers. */
	if (ws_private_cmd(cmd))
		return ws_private_ioctl(sock, cmd, compat_ptr(arg));
	if (!orig->compat_ioctl)
		return -ENOIOCTLCMD;
	return ws_gate(sock) ?: orig->compat_ioctl(sock, cmd, arg);
}
#endif

static int ws_gettstamp(struct socket *sock, void __user *userstamp,
			bool timeval, bool time32)
{
	return ws_gate(sock) ?:
	       ws_orig(sock)->gettstamp(sock, userstamp, timeval, time32);
}

static int ws_listen(struct socket *sock, int backlog)
{
	return ws_gate(sock) ?: ws_orig(sock)->listen(sock, backlog);
}

static int ws_shutdown(struct socket *sock, int how)
{
	return ws_gate(sock) ?: ws_orig(sock)->shutdown(sock, how);
}

static int ws_setsockopt(struct socket *sock, int level, int optname,
			 sockptr_t optval, unsigned int optlen)
{
	int ret = ws_gate(sock);

	if (ret)
		return ret;
	/* Both would replace our operations underneath us. */
	if ((level == SOL_TCP && optname == TCP_ULP) ||
	    (level == SOL_IPV6 && optname == IPV6_ADDRFORM))
		return -EOPNOTSUPP;
	return ws_orig(sock)->setsockopt(sock, level, optname, optval, optlen);
}

static int ws_getsockopt(struct socket *sock, int level, int optname,
			 char __user *optval, int __user *optlen)
{
	return ws_gate(sock) ?:
	       ws_orig(sock)->getsockopt(sock, level, optname, optval, optlen);
}

/* A send aborted by the close fails with ECANCELED and raises no SIGPIPE. */
static int ws_send_result(struct socket *sock, int ret, bool nosignal)
{
	ret = ws_aborted(sock, ret);
	if (ret == -EPIPE && !nosignal)
		send_sig(SIGPIPE, current, 0);
	return ret;
}

/*
 * The data path calls the protocol directly where it can: inet_sendmsg()
 * and inet_recvmsg() serve IPv4 TCP and UDP (IPv6's are not exported).
 */
static int ws_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	bool nosignal = msg->msg_flags & MSG_NOSIGNAL;
	const struct wsclose_proto *p;
	int ret;

	if (unlikely(!ws_enter(sock, &p)))
		return ws_closed_errno(sock->sk);
	msg->msg_flags |= MSG_NOSIGNAL;
	ret = INDIRECT_CALL_1(p->orig->sendmsg, inet_sendmsg, sock, msg, len);
	return ws_send_result(sock, ret, nosignal);
}

static int ws_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		      int flags)
{
	const struct wsclose_proto *p;
	int ret;

	if (unlikely(!ws_enter(sock, &p)))
		return ws_closed_errno(sock->sk);
	ret = INDIRECT_CALL_1(p->orig->recvmsg, inet_recvmsg, sock, msg, len,
			      flags);
	/* The close shuts the receive side: an empty read was aborted. */
	if (ret == 0 && len && !ws_open(sock->sk))
		return ws_cancel(sock->sk);
	return ws_aborted(sock, ret);
}

static int ws_mmap(struct file *file, struct socket *sock,
		   struct vm_area_struct *vma)
{
	return ws_gate(sock) ?: ws_orig(sock)->mmap(file, sock, vma);
}

static ssize_t ws_splice_read(struct socket *sock, loff_t *ppos,
			      struct pipe_inode_info *pipe, size_t len,
			      unsigned int flags)
{
	ssize_t ret = ws_gate(sock);

	if (ret)
		return ret;
	ret = ws_orig(sock)->splice_read(sock, ppos, pipe, len, flags);
	return ret < 0 && !ws_open(sock->sk) ? ws_cancel(sock->sk) : ret;
}

static void ws_splice_eof(struct socket *sock)
{
	if (!ws_gate(sock))
		ws_orig(sock)->splice_eof(sock);
}

static int ws_peek_len(struct socket *sock)
{
	return ws_gate(sock) ?: ws_orig(sock)->peek_len(sock);
}

#include "compat.h"

/* ---- the close ---------------------------------------------------------- */

static bool ws_is_tcp(const struct sock *sk)
{
	return sk->sk_type == SOCK_STREAM;
}

/* SO_LINGER {1, n > 0} */
static bool ws_lingers(const struct sock *sk)
{
	return ws_is_tcp(sk) && sock_flag(sk, SOCK_LINGER) &&
	       READ_ONCE(sk->sk_lingertime) > 0;
}

/*
 * l_linger in jiffies, at most the Winsock maximum (a u_short of seconds):
 * a raw setsockopt() can ask for MAX_SCHEDULE_TIMEOUT, and nothing may
 * hold a connection or a reaper longer than Winsock itself would.
 */
static unsigned long ws_lingertime(const struct sock *sk)
{
	return min_t(unsigned long, READ_ONCE(sk->sk_lingertime),
		     WSCLOSE_MAX_LINGER * HZ);
}

/*
 * Queued data not yet sent or not yet acknowledged.  After shutdown(SHUT_WR)
 * nothing is pending any more: the FIN is queued and the graceful close
 * completes in the background, as on Windows.  Only TCP has any: a
 * connected UDP socket is TCP_ESTABLISHED too, but has no tcp_sock to read.
 */
static bool ws_pending(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	if (!ws_is_tcp(sk))
		return false;
	if (!((1 << READ_ONCE(sk->sk_state)) &
	      (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT)))
		return false;
	if (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN)
		return false;
	return READ_ONCE(tp->snd_una) != READ_ONCE(tp->write_seq);
}

/*
 * Received data the application has not read: closing it resets.  This is
 * __tcp_close()'s own test; tcp_inq() would stop at an urgent mark.
 */
static bool ws_unread(struct sock *sk)
{
	struct sk_buff *skb;
	u32 len = 0;

	sock_owned_by_me(sk);
	skb_queue_walk(&sk->sk_receive_queue, skb) {
		len += TCP_SKB_CB(skb)->end_seq - TCP_SKB_CB(skb)->seq;
		if (TCP_SKB_CB(skb)->tcp_flags & TCPHDR_FIN)
			len--;
	}
	return len;
}

/* Waiting for our FIN to be acknowledged (cf. sk_stream_closing()). */
static bool ws_tcp_closing(const struct sock *sk)
{
	return ws_is_tcp(sk) && (1 << READ_ONCE(sk->sk_state)) &
	       (TCPF_FIN_WAIT1 | TCPF_CLOSING | TCPF_LAST_ACK);
}

/*
 * Close the socket to I/O so that every waiter gives up: blocked readers
 * see the receive side shut and return, blocked writers and connects see
 * the send side shut or the disconnect count change; the wrappers turn what
 * they return into ECANCELED.  Under the socket lock, so that a thread
 * between the wrapper's check and its sleep sees the change.  A UDP socket
 * also leaves the hash tables, freeing its port at once, as Winsock does,
 * although aliases or requests may still hold the file.
 */
static void ws_mark_aborted(struct sock *sk)
{
	sock_owned_by_me(sk);
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown |
		   (ws_is_tcp(sk) ? RCV_SHUTDOWN : SHUTDOWN_MASK));
	sk->sk_disconnects++;
	/* for those who read the error directly: io_uring's connect */
	if (sk->sk_state == TCP_CLOSE || !ws_is_tcp(sk))
		WRITE_ONCE(sk->sk_err, ECANCELED);
	if (!ws_is_tcp(sk))
		sk->sk_prot->unhash(sk);
}

/*
 * A TCP socket left with no connection (a listener stopped, a socket that
 * never connected or was reset) gives its port back now, even when it was
 * bound explicitly, rather than when the last file reference goes.
 */
static void ws_release_port(struct sock *sk)
{
	lock_sock(sk);
	if (sk->sk_state == TCP_CLOSE && inet_csk(sk)->icsk_bind_hash)
		inet_put_port(sk);
	release_sock(sk);
}

/*
 * Wake every waiter on a socket marked aborted, with a key of EPOLLERR and
 * POLLFREE: threads, poll(2) and epoll see the error; epoll and io_uring
 * also detach their entries from the queue, as for a queue that goes
 * away, so that nothing is reported for the socket afterwards (a multishot
 * request ends) and every io_uring request armed on the socket (RECV,
 * SEND, ACCEPT, CONNECT, POLL_ADD, multishot or not) completes with
 * -ECANCELED at once, without being issued again.  The queue itself stays:
 * threads and poll tables leave it themselves.
 */
static void ws_wake_aborted(struct sock *sk)
{
	struct socket_wq *wq;

	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		__wake_up(&wq->wait, TASK_NORMAL, 0,
			  poll_to_key(EPOLLERR | POLLFREE));
	rcu_read_unlock();
}

static void ws_abort_waiters(struct sock *sk)
{
	lock_sock(sk);
	ws_mark_aborted(sk);
	release_sock(sk);
	ws_wake_aborted(sk);
}

/*
 * What ends a linger wait early.  A real signal: -ERESTARTNOHAND, so that
 * the caller sees EINTR only when a handler ran; job control, a ptrace
 * interrupt or the freezer set TIF_SIGPENDING with nothing to deliver, and
 * then the call restarts by itself toward the same deadline.  io_uring's
 * task work (queued with TWA_SIGNAL, as when the commit completes the
 * closer's own requests) only sets TIF_NOTIFY_SIGNAL and is no signal: an
 * explicit close returns -ERESTARTNOINTR, so that the work runs at once
 * and the call restarts unseen; an implicit close cannot restart, so the
 * work is left for the return to user space (TIF_NOTIFY_RESUME runs task
 * work too) and the wait goes on.
 */
static int ws_interrupted(bool can_restart)
{
	if (task_sigpending(current))
		return -ERESTARTNOHAND;
	if (test_thread_flag(TIF_NOTIFY_SIGNAL)) {
		if (can_restart)
			return -ERESTARTNOINTR;
		clear_notify_signal();
		set_notify_resume(current);
	}
	return 0;
}

/* The wait was cut short and is still owed. */
static bool ws_restart(int ret)
{
	return ret == -ERESTARTNOHAND || ret == -ERESTARTNOINTR;
}

/*
 * Sleep until our FIN (queued behind the data) is acknowledged, the
 * connection dies, @deadline passes or a signal arrives.  Woken by the
 * state change the acknowledgment causes, not by a polling tick.
 */
static int ws_linger_wait(struct sock *sk, unsigned long deadline,
			  bool can_restart)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	long timeo;
	int ret = 0;

	add_wait_queue(sk_sleep(sk), &wait);
	while (ws_tcp_closing(sk)) {
		timeo = (long)(deadline - jiffies);
		if (timeo <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		ret = ws_interrupted(can_restart);
		if (ret)
			break;
		wait_woken(&wait, TASK_INTERRUPTIBLE, timeo);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	return ret;
}

/* ---- reapers: the reset at the deadline that nobody waits for ------------ */

/*
 * A lingering close whose deadline must be kept without a waiting caller
 * (the close was interrupted, or could not wait): reset the connection if
 * it has not drained by the deadline.  A reaper holds a reference on the
 * sock; it looks every second whether there is still anything to reset and
 * lets go as soon as there is not (drained, or reset by the peer), so a
 * long l_linger pins nothing once TCP is done with the connection.  Its
 * memory is charged to the caller, and a network namespace has at most
 * max_reapers of them: past that the connection is reset at once.  Module
 * exit resets the connections still watched: no connection is left
 * lingering past its deadline.
 */
struct ws_reaper {
	struct delayed_work work;
	struct sock *sk;
	unsigned long deadline;
	struct list_head node;	/* on ws_reapers; empty once claimed */
};

static unsigned int max_reapers = 1024;
module_param(max_reapers, uint, 0644);
MODULE_PARM_DESC(max_reapers,
		 "background resets one network namespace may have pending");

/*
 * ws_reapers_lock protects ws_reapers and every reaper's node: whoever
 * takes a reaper off the list (its work when done, or module exit) owns
 * it.  Taken from process context only.
 */
static DEFINE_SPINLOCK(ws_reapers_lock);
static LIST_HEAD(ws_reapers);
static struct workqueue_struct *ws_wq;

static void ws_reaper_free(struct ws_reaper *r, bool reset)
{
	if (reset && ws_tcp_closing(r->sk))
		tcp_abort(r->sk, ETIMEDOUT);
	ws_count(r->sk, WS_CNT_REAPERS, -1);
	sock_put(r->sk);
	kfree(r);
}

static void ws_reap(struct work_struct *work)
{
	struct ws_reaper *r = container_of(to_delayed_work(work),
					   struct ws_reaper, work);
	long left = (long)(r->deadline - jiffies);
	bool done = !ws_tcp_closing(r->sk);

	spin_lock(&ws_reapers_lock);
	if (list_empty(&r->node)) {
		/* module exit claimed it */
		spin_unlock(&ws_reapers_lock);
		return;
	}
	if (!done && left > 0) {
		queue_delayed_work(ws_wq, &r->work, min_t(long, left, HZ));
		spin_unlock(&ws_reapers_lock);
		return;
	}
	list_del_init(&r->node);
	spin_unlock(&ws_reapers_lock);
	ws_reaper_free(r, !done);
}

/* Watch @sk until @deadline; false if that cannot be promised. */
static bool ws_arm_reaper(struct sock *sk, unsigned long deadline)
{
	atomic_long_t *n = ws_counter(sk, WS_CNT_REAPERS);
	long delay = (long)(deadline - jiffies);
	struct ws_reaper *r;

	if (atomic_long_inc_return(n) > READ_ONCE(max_reapers)) {
		atomic_long_dec(n);
		ws_count(sk, WS_CNT_REAPER_LIMIT, 1);
		return false;
	}
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r) {
		atomic_long_dec(n);
		return false;
	}
	sock_hold(sk);
	r->sk = sk;
	r->deadline = deadline;
	INIT_DELAYED_WORK(&r->work, ws_reap);
	spin_lock(&ws_reapers_lock);
	list_add(&r->node, &ws_reapers);
	queue_delayed_work(ws_wq, &r->work, clamp_t(long, delay, 0, HZ));
	spin_unlock(&ws_reapers_lock);
	return true;
}

/* Module exit: reset what is still lingering, now rather than never. */
static void ws_stop_reapers(void)
{
	struct ws_reaper *r;

	for (;;) {
		spin_lock(&ws_reapers_lock);
		r = list_first_entry_or_null(&ws_reapers, struct ws_reaper,
					     node);
		if (r)
			list_del_init(&r->node);
		spin_unlock(&ws_reapers_lock);
		if (!r)
			break;
		cancel_delayed_work_sync(&r->work);
		ws_reaper_free(r, true);
	}
	destroy_workqueue(ws_wq);
}

/* ---- the close decision ------------------------------------------------- */

/*
 * Steps 1-4 of the close (spec "The close operation"): whether it may
 * proceed and how, from the state sampled under ws->lock.
 */
VISIBLE_IF_KUNIT int wsclose_close_decide(const struct wsclose_close_in *in)
{
	if (in->state == WS_CLOSED || in->handle_closed)
		return -ENOTSOCK;
	if (in->waiting)
		return -EINPROGRESS;
	if (!in->last_handle)
		return WS_STEP_RELEASE_ONLY;
	if (in->state == WS_CLOSING)
		return in->nonblock && in->fin_unacked && !in->expired ?
		       -EWOULDBLOCK : WS_STEP_RESUME;
	if (in->nonblock && in->lingers && in->pending)
		return -EWOULDBLOCK;
	return WS_STEP_COMMIT;
}
EXPORT_SYMBOL_IF_KUNIT(wsclose_close_decide);

/* Step 5: what a committing close of a TCP socket does. */
VISIBLE_IF_KUNIT int wsclose_commit_decide(const struct wsclose_commit_in *in)
{
	if (in->listening)
		return WS_ACT_STOP_LISTENING;
	if (in->unread || (in->linger && !in->lingertime))
		return WS_ACT_RESET;
	if (in->linger && in->pending && !in->nonblock)
		return WS_ACT_FIN_AND_WAIT;
	return WS_ACT_FIN;
}
EXPORT_SYMBOL_IF_KUNIT(wsclose_commit_decide);

/*
 * Commit the close of a TCP socket: start the FIN or send the RST, and
 * abort every pending operation.  Returns the outcome, or
 * WSCLOSE_OUTCOME_DRAINED when the caller owes a linger wait; then a
 * reaper keeps the deadline if the wait is cut short (@ws->reaper).
 */
static int ws_commit_tcp(struct socket *sock, struct wsclose_sock *ws,
			 bool nonblock)
{
	struct sock *sk = sock->sk;
	struct wsclose_commit_in in = { .nonblock = nonblock };
	int outcome = WSCLOSE_OUTCOME_GRACEFUL;
	bool connected;
	int act;

	lock_sock(sk);
	connected = sk->sk_state != TCP_CLOSE;
	in.listening = sk->sk_state == TCP_LISTEN;
	in.unread = ws_unread(sk);
	in.pending = ws_pending(sk);
	in.linger = sock_flag(sk, SOCK_LINGER);
	in.lingertime = sk->sk_lingertime;
	act = wsclose_commit_decide(&in);
	/*
	 * Lingering with data pending, yet not waiting: a send queued data
	 * after step 4 looked (or the close cannot wait).  The deadline still
	 * holds: a reaper keeps it, or the connection is reset now.
	 */
	if (act == WS_ACT_FIN && in.linger && in.lingertime && in.pending &&
	    !ws_arm_reaper(sk, ws->deadline))
		act = WS_ACT_RESET;
	if (act == WS_ACT_FIN && !connected) {
		/* Nothing to send (never connected, or already reset). */
		ws_mark_aborted(sk);
		if (inet_csk(sk)->icsk_bind_hash)
			inet_put_port(sk);
		release_sock(sk);
		ws_wake_aborted(sk);
		return outcome;
	}
	release_sock(sk);

	/*
	 * Abort first: the protocol's own wake-ups below (the state change
	 * of shutdown() and tcp_abort()) carry no key, and an io_uring
	 * request they woke first would be issued again rather than
	 * cancelled.
	 */
	ws_abort_waiters(sk);
	switch (act) {
	case WS_ACT_STOP_LISTENING:
		/* Stops listening and resets every connection not accepted. */
		tcp_abort(sk, ECONNABORTED);
		break;
	case WS_ACT_RESET:
		tcp_abort(sk, ECONNRESET);
		outcome = WSCLOSE_OUTCOME_ABORTIVE;
		break;
	case WS_ACT_FIN_AND_WAIT:
		outcome = WSCLOSE_OUTCOME_DRAINED;
		ws->reaper = ws_arm_reaper(sk, ws->deadline);
		fallthrough;
	case WS_ACT_FIN:
		/* FIN behind the queued data */
		if (connected)
			ws_orig(sock)->shutdown(sock, SHUT_WR);
		break;
	}
	ws_release_port(sk);
	return outcome;
}

/*
 * Finish a lingering close: drained, or reset at the deadline (by us, or by
 * the reaper when an earlier wait was interrupted).  A signal leaves the
 * wait owed (ws_restart()), with the deadline kept by the reaper; if there
 * is none (it could not be had), the connection is reset now rather than
 * left unwatched.  A fatal signal resets.
 */
static int ws_finish_linger(struct wsclose_sock *ws, struct sock *sk,
			    bool implicit)
{
	int ret = ws_linger_wait(sk, ws->deadline, !implicit);

	if (ws_restart(ret)) {
		if (fatal_signal_pending(current) ||
		    (ret == -ERESTARTNOHAND && !ws->reaper))
			tcp_abort(sk, ETIMEDOUT);
		return ret;
	}
	if (ret == -ETIMEDOUT) {
		tcp_abort(sk, ETIMEDOUT);
		return WSCLOSE_OUTCOME_TIMED_OUT_RESET;
	}
	if (READ_ONCE(sk->sk_state) == TCP_CLOSE) {
		int err = READ_ONCE(sk->sk_err);

		if (err == ETIMEDOUT)
			return WSCLOSE_OUTCOME_TIMED_OUT_RESET;
		if (err)
			return WSCLOSE_OUTCOME_ABORTIVE;
	}
	return WSCLOSE_OUTCOME_DRAINED;
}

/*
 * The close of the handle @sock (@implicit: the close the socket's last
 * handle owes when it went without an explicit close).  Returns the
 * outcome, or a negative errno with nothing changed (ENOTSOCK,
 * EINPROGRESS, EWOULDBLOCK), or -ERESTARTNOHAND / -ERESTARTNOINTR with the
 * socket committed and a linger wait still owed.
 */
static int __ws_close(struct socket *sock, bool nonblock, bool implicit)
{
	struct sock *sk = sock->sk;
	struct wsclose_sock *ws = ws_of(sk);
	struct wsclose_close_in in = { .nonblock = nonblock };
	int step, ret;

	spin_lock(&ws->lock);
	in.state = ws->state;
	in.handle_closed = !implicit && ws_handle_closed(sock);
	in.last_handle = implicit || ws->handles == 1;
	in.waiting = ws->waiting;
	in.lingers = ws_lingers(sk);
	in.pending = ws_pending(sk);
	in.fin_unacked = ws_tcp_closing(sk);
	in.expired = ws->state == WS_CLOSING &&
		     time_after_eq(jiffies, ws->deadline);
	step = wsclose_close_decide(&in);
	if (step == WS_STEP_RELEASE_ONLY) {
		ws->handles--;
		ws_close_handle(sock);
		spin_unlock(&ws->lock);
		return WSCLOSE_OUTCOME_NOT_LAST_HANDLE;
	}
	if (step < 0) {
		spin_unlock(&ws->lock);
		return step;
	}
	if (step == WS_STEP_COMMIT) {
		ws->state = WS_CLOSING;
		ws->deadline = jiffies + ws_lingertime(sk);
	}
	ws->waiting = true;
	spin_unlock(&ws->lock);

	if (step == WS_STEP_RESUME) {
		ret = WSCLOSE_OUTCOME_DRAINED;
	} else if (ws_is_tcp(sk)) {
		ret = ws_commit_tcp(sock, ws, nonblock);
	} else {
		ws_abort_waiters(sk);
		ret = WSCLOSE_OUTCOME_GRACEFUL;
	}
	if (ret == WSCLOSE_OUTCOME_DRAINED)
		ret = ws_finish_linger(ws, sk, implicit);

	spin_lock(&ws->lock);
	ws->waiting = false;
	if (!ws_restart(ret) || implicit || fatal_signal_pending(current))
		ws->state = WS_CLOSED;
	if (ret >= 0 && !implicit) {
		ws->handles--;
		ws_close_handle(sock);
	}
	spin_unlock(&ws->lock);
	return ret;
}

/* Traced and counted here. */
static int ws_close(struct socket *sock, bool nonblock, bool implicit)
{
	struct sock *sk = sock->sk;
	int ret = __ws_close(sock, nonblock, implicit);

	trace_wsclose_close(sk, nonblock, implicit, ret);
	if (ret >= 0)
		ws_count(sk, WS_CNT_OUTCOME + ret, 1);
	else if (ret == -EWOULDBLOCK && !implicit)
		ws_count(sk, WS_CNT_WOULD_BLOCK, 1);
	return ret;
}

/*
 * The Winsock close of the handle @sock.  Returns the outcome, or a
 * negative errno with nothing changed (ENOTSOCK, EINPROGRESS, EWOULDBLOCK),
 * or -ERESTARTNOHAND / -ERESTARTNOINTR with the socket committed and a
 * linger wait still owed (unless the signal was fatal: then it was reset):
 * the system call returns EINTR if a handler ran, else restarts.
 */
VISIBLE_IF_KUNIT int wsclose_close(struct socket *sock, bool nonblock)
{
	return ws_close(sock, nonblock, false);
}
EXPORT_SYMBOL_IF_KUNIT(wsclose_close);

/*
 * The last handle of the socket went without an explicit close (close(2)
 * or exit): the same table, but it never fails and never blocks a
 * non-blocking descriptor or an exiting task.  A lingering close that
 * cannot wait, or whose wait a signal cut short, goes on in the
 * background and is reset by a reaper at the deadline.
 */
static void ws_implicit_close(struct socket *sock, bool nonblock)
{
	struct sock *sk = sock->sk;
	struct wsclose_sock *ws = ws_of(sk);

	if (ws_close(sock, nonblock, true) != -EWOULDBLOCK)
		return;
	spin_lock(&ws->lock);
	ws->state = WS_CLOSED;
	spin_unlock(&ws->lock);
	ws_abort_waiters(sk);
	ws_orig(sock)->shutdown(sock, SHUT_WR);
	if (!ws_arm_reaper(sk, jiffies + ws_lingertime(sk)))
		tcp_abort(sk, ETIMEDOUT);	/* rather than linger on */
	ws_count(sk, WS_CNT_OUTCOME + WSCLOSE_OUTCOME_GRACEFUL, 1);
}

/* Whether an implicit close through @file may wait. */
static bool ws_implicit_nonblock(const struct file *file)
{
	return !file || (file->f_flags & O_NONBLOCK) ||
	       (current->flags & (PF_EXITING | PF_KTHREAD));
}

/*
 * The last reference to a handle's file is gone.  The handle closes if it
 * was open (handles are symmetric: the first one and duplicates alike);
 * if it was the socket's last handle, that is the socket's implicit close.
 * The struct socket that goes last takes the sock to the protocol's
 * release: its own, or, once the socket was duplicated, the backing
 * socket's (ws_graft_backing()), whose operations are the ones a raced
 * IPV6_ADDRFORM may have changed.  The first handle's inode, whose wait
 * queue is the sock's, is kept until then.
 */
static int ws_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct wsclose_sock *ws = sk ? ws_of(sk) : NULL;
	const struct proto_ops *orig;
	struct socket *backing;
	struct inode *inode;
	bool last, final;
	int ret;

	/* an accepted socket whose accept failed has no sock */
	if (!ws)
		return ws_proto_of(sock->ops)->orig->release(sock);
	orig = ws->proto->orig;

	spin_lock(&ws->lock);
	last = false;
	if (!ws_handle_closed(sock)) {
		ws->handles--;
		last = !ws->handles && ws->state == WS_OPEN;
	}
	spin_unlock(&ws->lock);
	if (last)
		ws_implicit_close(sock, ws_implicit_nonblock(sock->file));

	if (READ_ONCE(ws->backing)) {
		lock_sock(sk);
		ws_forget_handle(ws, sock);
		release_sock(sk);
	}
	spin_lock(&ws->lock);
	final = !--ws->files;
	backing = ws->backing;
	inode = ws->first_inode;
	spin_unlock(&ws->lock);
	if (!final)
		return 0;	/* __sock_release() clears sock->sk */

	/*
	 * The committed close did the protocol's work: do not linger again.
	 * Nobody can call setsockopt(TCP_ULP) any more: the ULP goes.
	 */
	if (ws_is_tcp(sk)) {
		lock_sock(sk);
		sock_reset_flag(sk, SOCK_LINGER);
		/*
		 * Before the ULP goes, which narrows (the listener stopped at
		 * the commit: no clone is expected) a clone without the ULP
		 * keeping the wrappers.
		 */
		if (backing) {
			write_lock_bh(&sk->sk_callback_lock);
			ws_unwrap_callbacks(sk);
			write_unlock_bh(&sk->sk_callback_lock);
		}
		ws_ulp_clear(sk);
		release_sock(sk);
	}
	ws_detach(sk, ws);
	if (backing) {
		WRITE_ONCE(backing->file, NULL);	/* not the backing's own */
		sock_release(backing);
		ret = 0;
	} else {
		ret = orig->release(sock);
	}
	if (inode)
		iput(inode);
	return ret;
}

/* ---- per-socket commands: ioctls on the socket itself ------------------- */

/*
 * Release the descriptor @fd if it still refers to @file, and nothing
 * otherwise: while a lingering close waited, another thread may have
 * closed the number and opened something else there.  close_fd() would
 * close whatever is there now, and there is no exported "close @fd if it
 * is @file", so the slot is emptied under the table's lock the way
 * pick_file() does it, and the number given back with put_unused_fd(), as
 * for a number reserved but never installed.
 */
static void ws_close_fd(unsigned int fd, struct file *file)
{
	struct files_struct *files = current->files;
	struct fdtable *fdt;
	bool found = false;

	spin_lock(&files->file_lock);
	fdt = files_fdtable(files);
	if (fd < fdt->max_fds && files_lookup_fd_locked(files, fd) == file) {
		rcu_assign_pointer(fdt->fd[fd], NULL);
		found = true;
	}
	spin_unlock(&files->file_lock);
	if (found) {
		put_unused_fd(fd);
		filp_close(file, files);
	}
}

VISIBLE_IF_KUNIT int wsclose_check_close_args(const struct wsclose_close_args *a)
{
	if (a->pad || (a->flags & ~WSCLOSE_CLOSE_FLAGS) ||
	    (a->flags & WSCLOSE_CLOSE_FLAGS) == WSCLOSE_CLOSE_FLAGS)
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(wsclose_check_close_args);

static int ws_ioctl_close(struct socket *sock,
			  struct wsclose_close_args __user *uargs)
{
	struct file *file = sock->file;
	struct wsclose_close_args args;
	struct file *named;
	bool nonblock;
	int ret;

	if (copy_from_user(&args, uargs, sizeof(args)))
		return -EFAULT;
	ret = wsclose_check_close_args(&args);
	if (ret)
		return ret;
	/* Fail on an unwritable result before anything changes. */
	if (put_user(WSCLOSE_OUTCOME_NONE, &uargs->outcome))
		return -EFAULT;
	/*
	 * @fd must name the descriptor the call is made on.  If it does not
	 * (any more: another thread may have closed the number and reused
	 * it), there is no such handle to close.
	 */
	named = fget_raw(args.fd);
	if (named != file) {
		if (named)
			fput(named);
		return -ENOTSOCK;
	}

	if (args.flags & WSCLOSE_AS_BLOCKING)
		nonblock = false;
	else if (args.flags & WSCLOSE_AS_NONBLOCKING)
		nonblock = true;
	else
		nonblock = file->f_flags & O_NONBLOCK;

	ret = wsclose_close(sock, nonblock);
	if (ret >= 0 || (ws_restart(ret) && fatal_signal_pending(current)))
		ws_close_fd(args.fd, file);
	if (ret >= 0)
		ret = put_user(ret, &uargs->outcome) ? -EFAULT : 0;
	fput(named);
	return ret;
}

static int ws_ioctl_query(struct socket *sock,
			  struct wsclose_query_args __user *uargs)
{
	struct sock *sk = sock->sk;
	struct wsclose_sock *ws = ws_of(sk);
	struct wsclose_query_args args = {
		.family = sk->sk_family,
		.type = sk->sk_type,
	};

	spin_lock(&ws->lock);
	args.state = ws_handle_closed(sock) ? WS_CLOSED : ws->state;
	args.handles = ws->handles;
	spin_unlock(&ws->lock);
	return copy_to_user(uargs, &args, sizeof(args)) ? -EFAULT : 0;
}

/*
 * The first duplication of a socket grafts its sock to a socket of the
 * driver's own, made here, which no descriptor refers to and which lives
 * until the last handle is released.  From then on every handle is a
 * socket alike that merely shares the sock: none of them is what
 * sk->sk_socket names, so no handle's release can take the sock with it,
 * and a setsockopt(IPV6_ADDRFORM) that was already under way when the
 * socket was adopted, and replaces the operations of sk->sk_socket, changes
 * those of the backing socket, which only its final release uses, and not
 * a handle's.  The sock's wait queue stays the first handle's (its waiters
 * stay where they are): that handle's inode is held until the end.
 */
static int ws_graft_backing(struct socket *sock, struct wsclose_sock *ws)
{
	struct sock *sk = sock->sk;
	struct socket *backing;
	int err;

	err = sock_create_lite(sk->sk_family, sock->type, sk->sk_protocol,
			       &backing);
	if (err)
		return err;
	lock_sock(sk);
	err = 0;
	if (ws->backing)
		goto out;	/* another duplication made it first */
	/* the operations were replaced under us: not ours any more */
	err = -ENOTSOCK;
	if (READ_ONCE(sk->sk_socket) != sock ||
	    READ_ONCE(sock->ops) != &ws->proto->ops)
		goto out;
	err = ws_socks_add(ws, sock);
	if (err)
		goto out;
	__module_get(ws->proto->orig->owner);
	backing->ops = ws->proto->orig;
	backing->sk = sk;
	backing->state = sock->state;
	ihold(SOCK_INODE(sock));
	write_lock_bh(&sk->sk_callback_lock);
	backing->flags = READ_ONCE(sock->flags);
	ws_stand_for(backing, sock);
	WRITE_ONCE(sk->sk_socket, backing);
	ws_wrap_callbacks(sk);
	write_unlock_bh(&sk->sk_callback_lock);
	/*
	 * A tcp_poll() that found no room after the flags were copied set
	 * SOCK_NOSPACE on @sock, where TCP no longer looks: a spurious
	 * write-space call costs nothing, a missed one leaves a writer
	 * waiting.
	 */
	if (ws_is_tcp(sk))
		set_bit(SOCK_NOSPACE, &backing->flags);
	spin_lock(&ws->lock);
	ws->backing = backing;
	ws->first_inode = SOCK_INODE(sock);
	spin_unlock(&ws->lock);
	backing = NULL;
	err = 0;
out:
	release_sock(sk);
	if (backing)
		sock_release(backing);
	return err;
}

/*
 * A new handle: a socket of its own, made through the socket layer
 * (sock_create_lite(): the LSM hooks label it), sharing the sock.
 */
VISIBLE_IF_KUNIT int wsclose_duplicate(struct socket *sock,
				       struct socket **res)
{
	struct sock *sk = sock->sk;
	struct wsclose_sock *ws = ws_of(sk);
	struct socket *dsock;
	int err;

	if (ws_gate(sock))
		return -ENOTSOCK;
	if (!READ_ONCE(ws->backing)) {
		err = ws_graft_backing(sock, ws);
		if (err)
			return err;
	}
	err = sock_create_lite(sk->sk_family, sock->type, sk->sk_protocol,
			       &dsock);
	if (err)
		return err;

	err = -ENOTSOCK;
	spin_lock(&ws->lock);
	if (ws->state == WS_OPEN && !ws_handle_closed(sock)) {
		ws->handles++;
		ws->files++;
		err = 0;
	}
	spin_unlock(&ws->lock);
	if (err) {
		sock_release(dsock);
		return err;
	}
	/* From here on, releasing dsock undoes all of the above. */
	dsock->state = READ_ONCE(sock->state);
	if (test_bit(SOCK_SUPPORT_ZC, &sock->flags))
		set_bit(SOCK_SUPPORT_ZC, &dsock->flags);
	dsock->sk = sk;
	__module_get(THIS_MODULE);
	WRITE_ONCE(dsock->ops, &ws->proto->ops);
	*res = dsock;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(wsclose_duplicate);

static int ws_ioctl_duplicate(struct socket *sock,
			      struct wsclose_dup_args __user *uargs)
{
	struct wsclose_dup_args args;
	struct socket *dsock;
	struct file *dfile;
	int fd, err;

	if (copy_from_user(&args, uargs, sizeof(args)))
		return -EFAULT;
	if (args.pad || (args.flags & ~WSCLOSE_DUP_CLOEXEC))
		return -EINVAL;
	/* no free number (EMFILE) must not graft a backing socket first */
	fd = get_unused_fd_flags(args.flags & WSCLOSE_DUP_CLOEXEC ?
				 O_CLOEXEC : 0);
	if (fd < 0)
		return fd;
	err = wsclose_duplicate(sock, &dsock);
	if (err) {
		put_unused_fd(fd);
		return err;
	}
	dfile = sock_alloc_file(dsock, sock->file->f_flags & O_NONBLOCK, NULL);
	if (IS_ERR(dfile)) {
		/* sock_alloc_file() released dsock */
		put_unused_fd(fd);
		return PTR_ERR(dfile);
	}
	/* listed only with its file: a handle of record needs one */
	err = ws_add_handle(ws_of(sock->sk), dsock);
	if (err) {
		put_unused_fd(fd);
		fput(dfile);
		return err;
	}
	fd_install(fd, dfile);
	return fd;
}

/*
 * The per-socket commands, which the socket layer passes to the socket's
 * own operations.  They work on closed sockets and handles too, to say so.
 */
static int ws_private_ioctl(struct socket *sock, unsigned int cmd,
			    void __user *argp)
{
	switch (cmd) {
	case WSCLOSE_SIOC_CLOSE:
		return ws_ioctl_close(sock, argp);
	case WSCLOSE_SIOC_QUERY:
		return ws_ioctl_query(sock, argp);
	case WSCLOSE_SIOC_DUPLICATE:
		return ws_ioctl_duplicate(sock, argp);
	default:
		return -ENOTTY;
	}
}

/* ---- the device: adoption ------------------------------------------------ */

static int ws_family_index(int family)
{
	switch (family) {
	case AF_INET:
		return WS_INET;
	case AF_INET6:
		return WS_INET6;
	default:
		return -EAFNOSUPPORT;
	}
}

static int ws_type_index(int type)
{
	switch (type) {
	case SOCK_STREAM:
		return WS_STREAM;
	case SOCK_DGRAM:
		return WS_DGRAM;
	default:
		return -ESOCKTNOSUPPORT;
	}
}

/* Whether @sock's operations and user data are free to take. */
static int ws_adopt_check(const struct socket *sock,
			  const struct wsclose_proto *p, int type)
{
	const struct sock *sk = sock->sk;

	if (ws_is_ours(sock))
		return -EALREADY;
	if (READ_ONCE(sock->ops) != p->orig ||
	    READ_ONCE(sk->sk_prot) != p->prot ||
	    (type == WS_STREAM && inet_csk(sk)->icsk_ulp_ops) ||
	    rcu_access_pointer(__sk_user_data(sk)))
		return -EBUSY;
	return 0;
}

/*
 * Checks, state and operations, under the socket lock.  Takes the module
 * reference the operations hold; the caller puts the one the replaced
 * operations held.
 */
static int ws_adopt_locked(struct socket *sock, const struct wsclose_proto *p,
			   int type, struct wsclose_sock *ws)
{
	struct sock *sk = sock->sk;
	int err;

	sock_owned_by_me(sk);
	ws->proto = p;
	err = ws_adopt_check(sock, p, type) ?: ws_attach(sk, ws);
	if (err)
		return err;
	__module_get(THIS_MODULE);
	WRITE_ONCE(sock->ops, &p->ops);
	return 0;
}

/* Family and type of @sock as a table, or why it cannot be ours. */
static const struct wsclose_proto *ws_proto_for(const struct socket *sock,
						int *type)
{
	const struct wsclose_proto *p;
	const struct sock *sk = sock->sk;
	int fam;

	fam = ws_family_index(sk->sk_family);
	if (fam < 0)
		return ERR_PTR(fam);
	*type = ws_type_index(sock->type);
	if (*type < 0)
		return ERR_PTR(*type);
	if (sk->sk_protocol != (*type == WS_STREAM ? IPPROTO_TCP : IPPROTO_UDP))
		return ERR_PTR(-EPROTONOSUPPORT);
	p = &ws_protos[fam][*type];
	return p->orig ? p : ERR_PTR(-EAFNOSUPPORT);
}

/*
 * Make @sock a wsclose socket in place, in whatever state it is and while
 * other threads use it, or refuse with nothing changed.  Operations already
 * running when the operations are swapped finish as plain ones.  The
 * checks and the swap happen under the socket lock, which TCP_ULP and
 * sockmap attachment take too, and the user data is claimed under
 * sk_callback_lock, as its other owners do.
 */
VISIBLE_IF_KUNIT int wsclose_adopt(struct socket *sock)
{
	const struct wsclose_proto *p;
	const struct proto_ops *old;
	struct sock *sk = sock->sk;
	struct wsclose_sock *ws;
	int type, err;

	if (!sk)
		return -ENOTSOCK;
	p = ws_proto_for(sock, &type);
	if (IS_ERR(p))
		return PTR_ERR(p);
	/* the checks made again under the lock below, in the documented order */
	err = ws_adopt_check(sock, p, type);
	if (err)
		return err;
	if (!try_module_get(THIS_MODULE))
		return -ENETDOWN;
	ws = ws_alloc();
	if (!ws) {
		module_put(THIS_MODULE);
		return -ENOMEM;
	}

	lock_sock(sk);
	old = sock->ops;
	err = ws_adopt_locked(sock, p, type, ws);
	if (!err && type == WS_STREAM)
		ws_ulp_set(sk);
	release_sock(sk);

	/* the operations and the ULP took references of their own */
	module_put(THIS_MODULE);
	if (err) {
		kfree(ws);
		return err;
	}
	module_put(old->owner);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(wsclose_adopt);

/*
 * setsockopt(TCP_ULP, "wsclose"): adoption, under the socket lock, with the
 * ULP's module reference taken by tcp_set_ulp(), which installs the ULP
 * when this returns 0.  It cleared SOCK_SUPPORT_ZC first, which TCP sets
 * on every socket and nothing of ours needs cleared.
 */
static int ws_ulp_init(struct sock *sk)
{
	struct socket *sock = sk->sk_socket;
	const struct wsclose_proto *p;
	const struct proto_ops *old;
	struct wsclose_sock *ws;
	int type, err;

	if (!sock)
		return -ENOTSOCK;
	p = ws_proto_for(sock, &type);
	if (IS_ERR(p))
		return PTR_ERR(p);
	/*
	 * Refused or not, the socket keeps what it had: TCP sets the flag
	 * on every socket of its own protocol (sockmap's clears it).
	 */
	if (READ_ONCE(sk->sk_prot) == p->prot)
		set_bit(SOCK_SUPPORT_ZC, &sock->flags);
	ws = ws_alloc();
	if (!ws)
		return -ENOMEM;
	old = sock->ops;
	err = ws_adopt_locked(sock, p, type, ws);
	if (err) {
		kfree(ws);
		return err;
	}
	module_put(old->owner);
	return 0;
}

/*
 * Only an accepted child gets our ULP, with our state: the copy
 * sk_clone_lock() made of the listener's is dropped (no reference was
 * taken for it).
 */
static void ws_ulp_clone(const struct request_sock *req, struct sock *newsk,
			 const gfp_t priority)
{
	inet_csk(newsk)->icsk_ulp_ops = NULL;
	/* nor the callbacks of a duplicated listener */
	ws_unwrap_callbacks(newsk);
}

/*
 * The sock is destroyed with our ULP still set: the release of its last
 * handle never came through us, because a setsockopt(IPV6_ADDRFORM) that
 * was past our operations when the socket was adopted replaced them.  Free
 * the state it left behind and the module reference those operations held.
 */
static void ws_ulp_release(struct sock *sk)
{
	struct wsclose_sock *ws = ws_of(sk);

	if (!ws)
		return;
	ws_detach(sk, ws);
	module_put(THIS_MODULE);
}

static struct tcp_ulp_ops ws_ulp = {
	.name		= "wsclose",
	.owner		= THIS_MODULE,
	.init		= ws_ulp_init,
	.clone		= ws_ulp_clone,
	.release	= ws_ulp_release,
};

static long ws_ioctl_adopt(struct wsclose_adopt_args __user *uargs)
{
	struct wsclose_adopt_args args;
	struct socket *sock;
	struct file *file;
	int err;

	if (copy_from_user(&args, uargs, sizeof(args)))
		return -EFAULT;
	if (args.flags)
		return -EINVAL;
	file = fget(args.fd);
	if (!file)
		return -EBADF;
	sock = sock_from_file(file);
	err = sock ? wsclose_adopt(sock) : -ENOTSOCK;
	fput(file);
	return err;
}

static long ws_dev_ioctl(struct file *file, unsigned int cmd,
			 unsigned long parm)
{
	switch (cmd) {
	case WSCLOSE_IOC_ADOPT:
		return ws_ioctl_adopt((void __user *)parm);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations ws_dev_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
	.unlocked_ioctl	= ws_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice ws_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "wsclose",
	.fops	= &ws_dev_fops,
	.mode	= 0666,
};

/* ---- /proc/net/wsclose ---------------------------------------------------- */

static const char *const ws_counter_names[WS_NCOUNTERS] = {
	[WS_CNT_OPEN] = "open",
	[WS_CNT_OUTCOME + WSCLOSE_OUTCOME_NOT_LAST_HANDLE] = "not_last_handle",
	[WS_CNT_OUTCOME + WSCLOSE_OUTCOME_GRACEFUL] = "graceful",
	[WS_CNT_OUTCOME + WSCLOSE_OUTCOME_ABORTIVE] = "abortive",
	[WS_CNT_OUTCOME + WSCLOSE_OUTCOME_DRAINED] = "drained",
	[WS_CNT_OUTCOME + WSCLOSE_OUTCOME_TIMED_OUT_RESET] = "timed_out_reset",
	[WS_CNT_WOULD_BLOCK] = "would_block",
	[WS_CNT_ABORTED] = "aborted",
	[WS_CNT_REAPERS] = "reapers",
	[WS_CNT_REAPER_LIMIT] = "reaper_limit",
};

static int ws_proc_show(struct seq_file *seq, void *v)
{
	struct ws_net *wn = net_generic(seq_file_single_net(seq), ws_net_id);
	int i;

	for (i = 0; i < WS_NCOUNTERS; i++)
		if (ws_counter_names[i])
			seq_printf(seq, "%s %ld\n", ws_counter_names[i],
				   atomic_long_read(&wn->cnt[i]));
	return 0;
}

static int __net_init ws_net_init(struct net *net)
{
	if (!proc_create_net_single("wsclose", 0444, net->proc_net,
				    ws_proc_show, NULL))
		return -ENOMEM;
	return 0;
}

static void __net_exit ws_net_exit(struct net *net)
{
	remove_proc_entry("wsclose", net->proc_net);
}

static struct pernet_operations ws_net_ops = {
	.init = ws_net_init,
	.exit = ws_net_exit,
	.id = &ws_net_id,
	.size = sizeof(struct ws_net),
};

/*
 * Build the wrapper for one (family, type) from a socket of that kind.
 * Every member of struct proto_ops is decided here, one by one (compat.h
 * fails the build when a kernel adds one): wrapped, or passed through
 * with the reason.
 */
static void __init ws_build_proto(struct wsclose_proto *p, int family, int type)
{
	struct proto_ops *ops = &p->ops;
	const struct proto_ops *o;
	struct socket *sock;

	if (sock_create_kern(&init_net, family, type, 0, &sock)) {
		pr_info("family %d type %d unavailable\n", family, type);
		return;
	}
	o = sock->ops;
	p->orig = o;
	p->prot = sock->sk->sk_prot;
	if (!ws_cbs[type == SOCK_STREAM ? WS_STREAM : WS_DGRAM].data_ready) {
		struct ws_callbacks *cb =
			&ws_cbs[type == SOCK_STREAM ? WS_STREAM : WS_DGRAM];

		cb->data_ready = sock->sk->sk_data_ready;
		cb->write_space = sock->sk->sk_write_space;
		cb->state_change = sock->sk->sk_state_change;
		cb->error_report = sock->sk->sk_error_report;
	}
	sock_release(sock);

	memset(ops, 0, sizeof(*ops));
	ops->family = o->family;
	ops->owner = THIS_MODULE;
	ops->release = ws_release;
	ops->bind = ws_bind;
	ops->connect = ws_connect;
	ops->socketpair = o->socketpair;	/* sock_no_socketpair */
	ops->accept = ws_accept;
	ops->getname = ws_getname;
	ops->poll = ws_poll;
	ops->ioctl = ws_ioctl;
#ifdef CONFIG_COMPAT
	ops->compat_ioctl = ws_compat_ioctl;
#endif
	ops->gettstamp = o->gettstamp ? ws_gettstamp : NULL;
	ops->listen = ws_listen;
	ops->shutdown = ws_shutdown;
	ops->setsockopt = ws_setsockopt;
	ops->getsockopt = ws_getsockopt;
	ops->show_fdinfo = o->show_fdinfo;	/* reads nothing of the connection */
	ops->sendmsg = ws_sendmsg;
	ops->recvmsg = ws_recvmsg;
	ops->mmap = o->mmap ? ws_mmap : NULL;	/* TCP zerocopy receive */
	ops->splice_read = o->splice_read ? ws_splice_read : NULL;
	ops->splice_eof = o->splice_eof ? ws_splice_eof : NULL;
	/* SO_PEEK_OFF and SO_RCVLOWAT: SOL_SOCKET options, see the spec */
	ops->set_peek_off = o->set_peek_off;
	ops->set_rcvlowat = o->set_rcvlowat;
	ops->peek_len = o->peek_len ? ws_peek_len : NULL;
	/*
	 * Called only by in-kernel users that attach to a socket (kTLS,
	 * strparser, sockmap, espintcp), which adoption refuses and the
	 * wrapped setsockopt keeps out.
	 */
	ops->read_sock = o->read_sock;
	ops->read_skb = o->read_skb;
	ops->sendmsg_locked = o->sendmsg_locked;
	ws_build_compat_ops(ops, o);

	p->closed_ops = *ops;
}

static int __init wsclose_init(void)
{
	int err;

	ws_build_proto(&ws_protos[WS_INET][WS_STREAM], AF_INET, SOCK_STREAM);
	ws_build_proto(&ws_protos[WS_INET][WS_DGRAM], AF_INET, SOCK_DGRAM);
	ws_build_proto(&ws_protos[WS_INET6][WS_STREAM], AF_INET6, SOCK_STREAM);
	ws_build_proto(&ws_protos[WS_INET6][WS_DGRAM], AF_INET6, SOCK_DGRAM);

	if (!ws_protos[WS_INET][WS_STREAM].orig)
		return -EAFNOSUPPORT;
	ws_wq = alloc_workqueue("wsclose", 0, 0);
	if (!ws_wq)
		return -ENOMEM;
	err = register_pernet_subsys(&ws_net_ops);
	if (err)
		goto free_wq;
	err = tcp_register_ulp(&ws_ulp);
	if (err)
		goto unregister;
	err = misc_register(&ws_misc);
	if (err)
		goto unregister_ulp;
	return 0;

unregister_ulp:
	tcp_unregister_ulp(&ws_ulp);
unregister:
	unregister_pernet_subsys(&ws_net_ops);
free_wq:
	destroy_workqueue(ws_wq);
	return err;
}

static void __exit wsclose_exit(void)
{
	misc_deregister(&ws_misc);
	/*
	 * Its grace period also waits out a softirq (or any section with
	 * bottom halves off) still in one of the callback wrappers it loaded
	 * before a final release put the protocol's back.  A process-context
	 * caller (sock_wfree() from a task) is not covered by it: without
	 * full preemption (Debian's default, unless booted with
	 * preempt=full) it cannot be preempted between the load and the
	 * call.
	 */
	tcp_unregister_ulp(&ws_ulp);
	ws_stop_reapers();
	unregister_pernet_subsys(&ws_net_ops);
}

module_init(wsclose_init);
module_exit(wsclose_exit);

MODULE_AUTHOR("The wsclose developers");
MODULE_DESCRIPTION("Winsock close semantics (WSPCloseSocket) for Linux sockets");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1");
MODULE_ALIAS_TCP_ULP("wsclose");
