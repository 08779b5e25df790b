/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wsclose internals: the per-socket state, the tables of wrapped
 * operations, and what each file of the driver offers the others (and the
 * KUnit suite).
 *
 *   main.c     module init and exit
 *   adopt.c    adoption: the device, the "wsclose" TCP ULP, the state
 *   ops.c      the wrapped protocol operations and their tables
 *   close.c    the close: decision, commit, abort, release
 *   linger.c   lingering: the wait and the background reset (reapers)
 *   handles.c  duplicated handles: backing socket, record, SIGIO
 *   proc.c     per-namespace counters and /proc/net/wsclose
 *
 * Locking, outermost first:
 *
 *   lock_sock(sk)            the socket lock: adoption, the commit, the
 *                            handle list, the backing socket's graft
 *   sk->sk_callback_lock     sk_user_data (attach, detach), the wrapped
 *                            callbacks (except on a listener's clone that
 *                            nobody else sees yet), the handle of record;
 *                            read-held by the callback wrappers
 *   wsclose_sock.lock        leaf: the close state (see the struct);
 *                            taken inside or outside the socket lock,
 *                            never held across a sleep or a protocol call
 *   wsclose_reapers_lock     leaf: the reaper list (linger.c)
 */
#ifndef _WSCLOSE_INTERNAL_H
#define _WSCLOSE_INTERNAL_H

#include <linux/lockdep.h>
#include <linux/net.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <linux/wsclose.h>

#include "compat.h"

struct inode;
struct wsclose_handle_socks;

enum wsclose_state {
	WSCLOSE_OPEN = WSCLOSE_STATE_OPEN, /* usable */
	WSCLOSE_CLOSING =
		WSCLOSE_STATE_CLOSING, /* committed, linger wait owed */
	WSCLOSE_CLOSED = WSCLOSE_STATE_CLOSED, /* committed and finished */
};

/* The longest linger Winsock can ask for: l_linger is a u_short. */
#define WSCLOSE_MAX_LINGER	65535

/*
 * Per (family, type): the wrapped operations of a handle whose descriptor
 * is usable, and of a handle closed while other handles of its socket
 * remain.  Both run the same wrappers; which table a handle points to is
 * its "closed" bit, so that finding it costs one comparison.  A socket's
 * state names its table (wsclose_sock.table): the wrappers take the
 * protocol's operations from there, never from sock->ops, which a
 * setsockopt(IPV6_ADDRFORM) already under way at the adoption may still
 * replace.  Written once at load time (wsclose_build_table()), read-only
 * afterwards.
 */
struct wsclose_table {
	const struct proto_ops *orig;	/* NULL: family unavailable */
	const struct proto *prot;	/* sk_prot of a plain socket */
	struct proto_ops ops;
	struct proto_ops closed_ops;
};

enum { WSCLOSE_INET, WSCLOSE_INET6, WSCLOSE_NFAMILIES };
enum { WSCLOSE_STREAM, WSCLOSE_DGRAM, WSCLOSE_NTYPES };

extern struct wsclose_table wsclose_tables[WSCLOSE_NFAMILIES][WSCLOSE_NTYPES];

/*
 * Per-socket state, hung off sk->sk_user_data (with SK_USER_DATA_NOCOPY so
 * that accepted children do not inherit it) while the socket carries our
 * operations.
 *
 * Lifetime: from adoption (or accept) to the release of the socket's last
 * handle, which unhooks it under sk_callback_lock and then frees it
 * (wsclose_detach(): kfree, with no grace period), or, if that release
 * never came through us, to the destruction of the sock
 * (wsclose_ulp_release()).  So it may be used by
 *  - a caller that holds a handle: its file, or a call running in one of
 *    its operations (wsclose_sk());
 *  - a caller holding sk_callback_lock, as the callback wrappers do, which
 *    the protocol calls at any time (wsclose_sk_cb(), checked by lockdep);
 *  - the sock's destructor (wsclose_ulp_release()), which nothing else
 *    reaches any more.
 * Nothing reads it under RCU alone.
 */
struct wsclose_sock {
	/*
	 * @lock protects @state, @waiting, @handles and @files, and orders
	 * the one-time setting of @backing and @first_inode.  A leaf lock:
	 * never held across lock_sock(), a sleep or a protocol call.  @state
	 * is also read locklessly (READ_ONCE) on the I/O paths, where a
	 * stale value only means the call runs into the close and is
	 * aborted.
	 */
	spinlock_t lock;
	enum wsclose_state state;
	bool waiting;			/* a closer sleeps in the linger wait */
	/*
	 * @deadline is written once, under @lock, at the commit; @reaper by
	 * the committing closer before it clears @waiting under @lock.  Both
	 * are read under @lock or by the closer that holds @waiting (a
	 * resumed wait is a later holder), ordered by that hand-off.
	 */
	bool reaper;			/* a reaper keeps the deadline */
	unsigned long deadline;		/* jiffies; set at the commit */
	unsigned int handles;		/* handles not yet closed */
	unsigned int files;		/* handles' sockets not released */
	/* every handle's, once duplicated: written under the socket lock */
	struct wsclose_handle_socks __rcu *socks;
	/*
	 * Set once, under the socket lock and @lock; read locklessly only
	 * with READ_ONCE.
	 */
	struct socket *backing;		/* the sock's socket once duplicated */
	/* held then: its wait queue is the sock's */
	struct inode *first_inode;
	/* constant once attached */
	struct sock *sk;		/* owner, for the ownership check */
	const struct wsclose_table *table;	/* its family and type's */
};

/*
 * The state of a socket whose operations are ours, for a caller that holds
 * one of its handles (see the lifetime rule above: nothing lockdep can
 * check).  Ownership rule: a socket carries our operations only while its
 * sk_user_data is our wsclose_sock.  Adoption installs both under the
 * socket lock after checking that neither belongs to anyone else; an
 * accepted child whose user data someone else set first gets the plain
 * operations back (wsclose_accept_finish()).  So this is called only where
 * the operations say the state is ours, and never interprets anybody
 * else's user data.
 */
static inline struct wsclose_sock *wsclose_sk(const struct sock *sk)
{
	void __rcu **slot = (void __rcu **)&sk->sk_user_data;
	uintptr_t p = (uintptr_t)rcu_dereference_protected(*slot, true);
	struct wsclose_sock *ws = (void *)(p & SK_USER_DATA_PTRMASK);

	DEBUG_NET_WARN_ON_ONCE(ws && ws->sk != sk);
	return ws;
}

/* The same, for a caller that holds sk_callback_lock instead of a handle. */
static inline struct wsclose_sock *wsclose_sk_cb(struct sock *sk)
{
	lockdep_assert_held(&sk->sk_callback_lock);
	return wsclose_sk(sk);
}

/* The table of @sock, a handle of a socket of ours. */
static inline const struct wsclose_table *
wsclose_table_of(const struct socket *sock)
{
	return wsclose_sk(sock->sk)->table;
}

/* The protocol's own operations, which the wrappers call. */
static inline const struct proto_ops *
wsclose_inet_ops(const struct socket *sock)
{
	return wsclose_table_of(sock)->orig;
}

/* Whether @ops are ours: one of the tables' (no search). */
static inline bool wsclose_ops_ours(const struct proto_ops *ops)
{
	const struct wsclose_table *p = &wsclose_tables[0][0];

	return ops && (void *)ops >= (void *)p &&
	       (void *)ops < (void *)(p + WSCLOSE_NFAMILIES * WSCLOSE_NTYPES);
}

static inline bool wsclose_is_ours(const struct socket *sock)
{
	return wsclose_ops_ours(READ_ONCE(sock->ops));
}

/* The table the operations @ops belong to (ours). */
static inline const struct wsclose_table *
wsclose_table_of_ops(const struct proto_ops *ops)
{
	const struct wsclose_table *p = &wsclose_tables[0][0];

	return p + ((const char *)ops - (const char *)p) / sizeof(*p);
}

/*
 * Whether the handle @sock was closed while other handles remained (its
 * operations are the closed table), or lost to a raced IPV6_ADDRFORM.
 */
static inline bool wsclose_handle_closed(const struct socket *sock)
{
	return READ_ONCE(sock->ops) != &wsclose_table_of(sock)->ops;
}

static inline bool wsclose_is_open(const struct sock *sk)
{
	return READ_ONCE(wsclose_sk(sk)->state) == WSCLOSE_OPEN;
}

static inline bool wsclose_is_tcp(const struct sock *sk)
{
	return sk->sk_type == SOCK_STREAM;
}

/* SO_LINGER {1, n > 0} */
static inline bool wsclose_lingers(const struct sock *sk)
{
	return wsclose_is_tcp(sk) && sock_flag(sk, SOCK_LINGER) &&
	       READ_ONCE(sk->sk_lingertime) > 0;
}

/*
 * l_linger in jiffies, at most the Winsock maximum (a u_short of seconds):
 * a raw setsockopt() can ask for MAX_SCHEDULE_TIMEOUT, and nothing may
 * hold a connection or a reaper longer than Winsock itself would.
 */
static inline unsigned long wsclose_lingertime(const struct sock *sk)
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
static inline bool wsclose_pending(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	if (!wsclose_is_tcp(sk))
		return false;
	if (!((1 << READ_ONCE(sk->sk_state)) &
	      (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT)))
		return false;
	if (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN)
		return false;
	return READ_ONCE(tp->snd_una) != READ_ONCE(tp->write_seq);
}

/* Waiting for our FIN to be acknowledged (cf. sk_stream_closing()). */
static inline bool wsclose_tcp_closing(const struct sock *sk)
{
	return wsclose_is_tcp(sk) && (1 << READ_ONCE(sk->sk_state)) &
	       (TCPF_FIN_WAIT1 | TCPF_CLOSING | TCPF_LAST_ACK);
}

/* ---- proc.c: per-network-namespace counters -------------------------- */

/*
 * What /proc/net/wsclose shows, in this order.  Outcomes are counted
 * through wsclose_count_outcome(), which maps each WSCLOSE_OUTCOME_* to its
 * counter by name.
 */
enum wsclose_counter {
	WSCLOSE_CNT_OPEN, /* wsclose sockets open now */
	WSCLOSE_CNT_NOT_LAST_HANDLE, /* closes by outcome ... */
	WSCLOSE_CNT_GRACEFUL,
	WSCLOSE_CNT_ABORTIVE,
	WSCLOSE_CNT_DRAINED,
	WSCLOSE_CNT_TIMED_OUT_RESET, /* ... */
	WSCLOSE_CNT_WOULD_BLOCK, /* explicit closes refused: would block */
	WSCLOSE_CNT_ABORTED, /* operations aborted (ECANCELED) */
	WSCLOSE_CNT_REAPERS, /* sockets a background reset holds now */
	WSCLOSE_CNT_REAPER_LIMIT, /* resets done at once: reaper bound hit */
	WSCLOSE_NCOUNTERS
};

atomic_long_t *wsclose_counter_ptr(const struct sock *sk,
				   enum wsclose_counter c);
void wsclose_count(const struct sock *sk, enum wsclose_counter c, long delta);
void wsclose_count_outcome(const struct sock *sk, int outcome);
int wsclose_proc_init(void);
void wsclose_proc_exit(void);

/* ---- adopt.c: adoption, the device, the ULP, the state ----------------- */

struct wsclose_sock *wsclose_alloc(void);
int wsclose_attach(struct sock *sk, struct wsclose_sock *ws);
void wsclose_detach(struct sock *sk, struct wsclose_sock *ws);
void wsclose_ulp_set(struct sock *sk);
void wsclose_ulp_clear(struct sock *sk);
int wsclose_adopt(struct socket *sock);
int wsclose_adopt_init(void);
void wsclose_adopt_exit(void);

/* ---- ops.c: the wrapped operations ------------------------------------- */

int wsclose_cancel(const struct sock *sk);
int wsclose_closed_errno(const struct sock *sk);
void wsclose_build_table(struct wsclose_table *p, int family, int type);

/*
 * Whether a call through the handle @sock may go on, to (*@pp)->orig: not
 * when the socket is closed to I/O, or the handle is (its operations are
 * the closed table); then it fails (wsclose_closed_errno()).  One read of
 * the operations and one of the state: the I/O path.
 */
static __always_inline bool wsclose_may_call(const struct socket *sock,
					     const struct wsclose_table **pp)
{
	const struct wsclose_sock *ws = wsclose_sk(sock->sk);

	*pp = ws->table;
	return likely(READ_ONCE(sock->ops) == &ws->table->ops &&
		      READ_ONCE(ws->state) == WSCLOSE_OPEN);
}

/* 0, or why a call through @sock fails. */
static __always_inline int wsclose_call_error(const struct socket *sock)
{
	const struct wsclose_table *p;

	return wsclose_may_call(sock, &p) ? 0 : wsclose_closed_errno(sock->sk);
}

/* ---- close.c: the close ---------------------------------------------- */

/* What steps 1-4 of the close look at. */
struct wsclose_close_in {
	enum wsclose_state state;
	bool handle_closed;	/* this handle was closed through an alias */
	bool waiting;		/* another close waits in the linger wait */
	bool last_handle;
	bool nonblock;		/* O_NONBLOCK, or the caller's Winsock mode */
	bool lingers;		/* TCP with SO_LINGER {1, n > 0} */
	bool pending;		/* data not yet sent or not yet acknowledged */
	bool fin_unacked;	/* an earlier commit's FIN is still in flight */
	bool expired;		/* an earlier commit's deadline has passed */
};

/* Non-negative results of wsclose_close_decide(); errors are -errno. */
enum wsclose_step {
	WSCLOSE_STEP_COMMIT,		/* the close commits now */
	WSCLOSE_STEP_RESUME,		/* resume an interrupted linger wait */
	WSCLOSE_STEP_RELEASE_ONLY,	/* not the last handle */
};

/* What step 5 looks at, for TCP. */
struct wsclose_commit_in {
	bool listening;
	bool unread;		/* received data the application never read */
	bool linger;		/* SO_LINGER on */
	unsigned long lingertime;	/* its l_linger, in jiffies */
	bool pending;
	bool nonblock;
};

enum wsclose_action {
	WSCLOSE_ACT_FIN, /* graceful: FIN after the queued data */
	WSCLOSE_ACT_FIN_AND_WAIT, /* graceful, then wait for the ACK */
	WSCLOSE_ACT_RESET, /* abortive: RST now */
	WSCLOSE_ACT_STOP_LISTENING, /* reset the queued connections */
};

#if IS_ENABLED(CONFIG_KUNIT)
/* static (VISIBLE_IF_KUNIT) unless KUnit is there to test them */
int wsclose_close_decide(const struct wsclose_close_in *in);
int wsclose_commit_decide(const struct wsclose_commit_in *in);
int wsclose_check_close_args(const struct wsclose_close_args *a);
#endif
int wsclose_close(struct socket *sock, bool nonblock);
int wsclose_release(struct socket *sock);
int wsclose_ioctl_close(struct socket *sock,
			struct wsclose_close_args __user *uargs);
int wsclose_ioctl_query(struct socket *sock,
			struct wsclose_query_args __user *uargs);
void wsclose_wake_aborted(struct sock *sk);
void wsclose_abort_waiters(struct sock *sk);

/* ---- linger.c: the linger wait and the reapers -------------------------- */

bool wsclose_unread(struct sock *sk);
bool wsclose_restart(int ret);
int wsclose_finish_linger(struct wsclose_sock *ws, struct sock *sk,
			  bool implicit);
bool wsclose_arm_reaper(struct sock *sk, unsigned long deadline);
int wsclose_reapers_init(void);
void wsclose_reapers_exit(void);

/* ---- handles.c: duplicated handles ------------------------------------- */

void wsclose_save_callbacks(const struct sock *sk);
void wsclose_unwrap_callbacks(struct sock *sk);
void wsclose_free_handle_socks(struct wsclose_sock *ws);
void wsclose_forget_handle(struct wsclose_sock *ws, struct socket *sock);
int wsclose_duplicate(struct socket *sock, struct socket **res);
int wsclose_ioctl_duplicate(struct socket *sock,
			    struct wsclose_dup_args __user *uargs);

#endif /* _WSCLOSE_INTERNAL_H */
