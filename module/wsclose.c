// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose - Winsock close semantics (WSPCloseSocket) for Linux sockets
 *
 * /dev/wsclose creates ordinary AF_INET/AF_INET6 TCP and UDP sockets whose
 * protocol operations pass through this driver, and closes them the way
 * Winsock's closesocket() does:
 *
 *  - SO_DONTLINGER (linger off): return at once, FIN after the queued data;
 *  - SO_LINGER {1, 0}: RST at once;
 *  - SO_LINGER {1, n}: a blocking close waits until every queued byte is
 *    acknowledged (then FIN) or n seconds pass (then RST before returning);
 *    a non-blocking close with data pending fails with EWOULDBLOCK and
 *    changes nothing.
 *
 * Once a close commits, the socket is closed to I/O: calls that were blocked
 * on it return ECANCELED, later calls through other aliases ENOTSOCK.
 *
 * The wrapped operations are copies of the socket's own inet operations with
 * a few entries replaced, as net/tls and espintcp do.  The originals are
 * taken at load time from sockets the driver creates, never by symbol.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>
#include <net/tcp.h>

#include <linux/wsclose.h>
#include <asm/syscall.h>
#include <asm/unistd.h>

#include "wsclose.h"

#define CREATE_TRACE_POINTS
#include "wsclose_trace.h"

/*
 * Per (family, type): the wrapped operations of a wsclose socket, and those
 * of a duplicated handle (wsclose_duplicate), a socket of its own that
 * shares the original's struct sock and forwards every operation to it.
 */
struct wsclose_proto {
	const struct proto_ops *orig;	/* NULL: family unavailable */
	struct proto_ops ops;
	struct proto_ops dup_ops;
};

/*
 * A duplicated handle: its own struct socket and file, holding a reference
 * on the original socket's file so that the socket lives while any handle
 * does.  On wsclose_sock.dups, under wsclose_sock.lock.
 */
struct ws_dup {
	struct list_head node;
	struct socket *sock;	/* the handle's socket (dup_ops) */
	struct file *orig_file;	/* reference on the original socket's file */
	bool closed;		/* closed by wsclose_closesocket() */
};

enum { WS_INET, WS_INET6, WS_NFAMILIES };
enum { WS_STREAM, WS_DGRAM, WS_NTYPES };

/* Written once at load time, read-only afterwards. */
static struct wsclose_proto ws_protos[WS_NFAMILIES][WS_NTYPES] __ro_after_init;

static bool ws_is_ours(const struct socket *sock)
{
	const struct proto_ops *ops = READ_ONCE(sock->ops);
	const struct wsclose_proto *p = &ws_protos[0][0];

	return ops && (void *)ops >= (void *)p &&
	       (void *)ops < (void *)(p + WS_NFAMILIES * WS_NTYPES);
}

/* The table @sock's operations belong to (sock must be ours): no search. */
static const struct wsclose_proto *ws_proto(const struct socket *sock,
					    bool *dup)
{
	const char *ops = (const char *)READ_ONCE(sock->ops);
	const struct wsclose_proto *p = &ws_protos[0][0];

	p += (ops - (const char *)p) / sizeof(*p);
	if (dup)
		*dup = ops == (const char *)&p->dup_ops;
	return p;
}

static const struct proto_ops *ws_orig(const struct socket *sock)
{
	return ws_proto(sock, NULL)->orig;
}

static bool ws_is_dup(const struct socket *sock)
{
	bool dup = false;

	ws_proto(sock, &dup);
	return dup;
}

/*
 * The state is freed only by ->release, which cannot run while the caller
 * holds the socket (through its file, or as the protocol operation itself),
 * so a plain read of the pointer is enough here.
 */
static struct wsclose_sock *ws_of(const struct sock *sk)
{
	uintptr_t p = (uintptr_t)rcu_access_pointer(__sk_user_data(sk));

	return (struct wsclose_sock *)(p & SK_USER_DATA_PTRMASK);
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
	WS_NCOUNTERS
};

struct ws_net {
	atomic_long_t cnt[WS_NCOUNTERS];
};

static unsigned int ws_net_id __read_mostly;

static void ws_count(const struct sock *sk, enum ws_counter c, long delta)
{
	struct ws_net *wn = net_generic(sock_net(sk), ws_net_id);

	atomic_long_add(delta, &wn->cnt[c]);
}

static int ws_attach(struct sock *sk)
{
	struct wsclose_sock *ws;
	int err = 0;

	ws = kzalloc(sizeof(*ws), GFP_KERNEL_ACCOUNT);
	if (!ws)
		return -ENOMEM;
	spin_lock_init(&ws->lock);
	ws->state = WS_OPEN;
	INIT_LIST_HEAD(&ws->dups);

	write_lock_bh(&sk->sk_callback_lock);
	if (rcu_access_pointer(__sk_user_data(sk)))
		err = -EBUSY;
	else
		__rcu_assign_sk_user_data_with_flags(sk, ws,
						     SK_USER_DATA_NOCOPY);
	write_unlock_bh(&sk->sk_callback_lock);
	if (err)
		kfree(ws);
	else
		ws_count(sk, WS_CNT_OPEN, 1);
	return err;
}

static void ws_detach(struct sock *sk, struct wsclose_sock *ws)
{
	write_lock_bh(&sk->sk_callback_lock);
	rcu_assign_sk_user_data(sk, NULL);
	write_unlock_bh(&sk->sk_callback_lock);
	kfree(ws);
	ws_count(sk, WS_CNT_OPEN, -1);
}

static bool ws_open(const struct sock *sk)
{
	struct wsclose_sock *ws = ws_of(sk);

	return !ws || READ_ONCE(ws->state) == WS_OPEN;
}

/*
 * The socket behind a handle: itself, or for a duplicated handle the
 * original socket it forwards to.
 */
static struct socket *ws_real(struct socket *sock)
{
	/* a duplicate shares the sock but is not grafted to it */
	return ws_of(sock->sk) ? sock->sk->sk_socket : sock;
}

static struct ws_dup *ws_find_dup(struct wsclose_sock *ws,
				  const struct socket *sock)
{
	struct ws_dup *d;

	lockdep_assert_held(&ws->lock);
	list_for_each_entry(d, &ws->dups, node)
		if (d->sock == sock)
			return d;
	return NULL;
}

/* Whether the handle @sock was closed through wsclose_closesocket(). */
static bool ws_handle_closed(struct wsclose_sock *ws,
			     const struct socket *sock)
{
	struct ws_dup *d;
	bool closed;

	if (sock == sock->sk->sk_socket)
		return READ_ONCE(ws->first_closed);
	spin_lock(&ws->lock);
	d = ws_find_dup(ws, sock);
	closed = !d || d->closed;
	spin_unlock(&ws->lock);
	return closed;
}

/*
 * The error for a call on a socket, or through a handle, already closed.
 * A new call through a remaining alias finds no socket: ENOTSOCK.  But
 * io_uring reissues a pending request once the close wakes it, and that
 * request was aborted: ECANCELED.  The two differ only in who calls: a new
 * call is a system call made on the descriptor; io_uring runs requests from
 * its workers, or as task work (in io_uring_enter(), on the way back to
 * user space, or at the end of whatever system call the task was in, such
 * as the close itself).  So ENOTSOCK goes to the system calls that can name
 * a socket descriptor, ECANCELED to everything else.  (A request submitted
 * through an alias after the close is therefore reported as aborted too.)
 */
static int ws_closed_errno(void)
{
	struct pt_regs *regs = task_pt_regs(current);
	unsigned long args[6];

	if (current->flags & (PF_IO_WORKER | PF_KTHREAD))
		return current->flags & PF_KTHREAD ? -ENOTSOCK : -ECANCELED;
	switch (syscall_get_nr(current, regs)) {
	case __NR_ioctl:
		/* not the task work that runs as our close returns */
		syscall_get_arguments(current, regs, args);
		if (args[1] == WSCLOSE_IOC_CLOSE)
			return -ECANCELED;
		return -ENOTSOCK;
	case __NR_read: case __NR_readv: case __NR_write: case __NR_writev:
	case __NR_recvfrom: case __NR_recvmsg: case __NR_recvmmsg:
	case __NR_sendto: case __NR_sendmsg: case __NR_sendmmsg:
	case __NR_accept: case __NR_accept4: case __NR_connect:
	case __NR_bind: case __NR_listen: case __NR_shutdown:
	case __NR_getsockname: case __NR_getpeername:
	case __NR_setsockopt: case __NR_getsockopt:
	case __NR_splice: case __NR_sendfile:
		return -ENOTSOCK;
	default:
		return -ECANCELED;
	}
}

/* Count an aborted operation. */
static int ws_cancel(const struct sock *sk)
{
	ws_count(sk, WS_CNT_ABORTED, 1);
	return -ECANCELED;
}

/*
 * A call on a socket already closed to I/O, or through a handle already
 * closed, fails (ws_closed_errno()).
 */
static int ws_gate(const struct socket *sock)
{
	struct wsclose_sock *ws = ws_of(sock->sk);

	if (!ws)
		return 0;
	if (READ_ONCE(ws->state) != WS_OPEN || ws_handle_closed(ws, sock)) {
		int err = ws_closed_errno();

		return err == -ECANCELED ? ws_cancel(sock->sk) : err;
	}
	return 0;
}

/* A call that failed because the socket was closed under it was aborted. */
static int ws_aborted(const struct socket *sock, int ret)
{
	return ret < 0 && !ws_open(sock->sk) ? ws_cancel(sock->sk) : ret;
}

/* ---- wrapped protocol operations ---------------------------------------- */

#include "compat.h"

static int ws_bind(struct socket *sock, struct sockaddr *addr, int len)
{
	return ws_gate(sock) ?: ws_orig(sock)->bind(ws_real(sock), addr, len);
}

static int ws_connect(struct socket *sock, struct sockaddr *addr, int len,
		      int flags)
{
	int ret = ws_gate(sock);

	if (ret)
		return ret;
	ret = ws_orig(sock)->connect(ws_real(sock), addr, len, flags);
	return ws_aborted(sock, ret);
}

/*
 * The child carries our operations already (do_accept copies them from the
 * listener) and its linger setting (sk_clone_lock copies the flags); it
 * needs state of its own.  Without it, ->release simply passes the child to
 * the protocol.
 */
static int ws_accept_finish(struct socket *sock, struct socket *newsock,
			    int ret)
{
	if (ret)
		return ws_aborted(sock, ret);
	/* accepted through a duplicated handle: same owner, plain ops */
	if (ws_is_dup(sock))
		WRITE_ONCE(newsock->ops, &ws_proto(sock, NULL)->ops);
	return ws_attach(newsock->sk);
}

static int ws_getname(struct socket *sock, struct sockaddr *addr, int peer)
{
	return ws_gate(sock) ?: ws_orig(sock)->getname(ws_real(sock), addr, peer);
}

static __poll_t ws_poll(struct file *file, struct socket *sock,
			poll_table *wait)
{
	__poll_t mask;

	/* Closed: report an error only, never EPOLLIN/HUP (no FD_CLOSE). */
	if (ws_gate(sock))
		return EPOLLERR;
	mask = ws_orig(sock)->poll(file, ws_real(sock), wait);
	return ws_open(sock->sk) ? mask : EPOLLERR;
}

static int ws_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)
{
	return ws_gate(sock) ?: ws_orig(sock)->ioctl(ws_real(sock), cmd, arg);
}

#ifdef CONFIG_COMPAT
static int ws_compat_ioctl(struct socket *sock, unsigned int cmd,
			   unsigned long arg)
{
	const struct proto_ops *orig = ws_orig(sock);

	if (!orig->compat_ioctl)
		return -ENOIOCTLCMD;
	return ws_gate(sock) ?: orig->compat_ioctl(ws_real(sock), cmd, arg);
}
#endif

static int ws_listen(struct socket *sock, int backlog)
{
	return ws_gate(sock) ?: ws_orig(sock)->listen(ws_real(sock), backlog);
}

static int ws_shutdown(struct socket *sock, int how)
{
	return ws_gate(sock) ?: ws_orig(sock)->shutdown(ws_real(sock), how);
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
	return ws_orig(sock)->setsockopt(ws_real(sock), level, optname, optval, optlen);
}

static int ws_getsockopt(struct socket *sock, int level, int optname,
			 char __user *optval, int __user *optlen)
{
	return ws_gate(sock) ?:
	       ws_orig(sock)->getsockopt(ws_real(sock), level, optname, optval, optlen);
}

static int ws_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	bool nosignal = msg->msg_flags & MSG_NOSIGNAL;
	int ret = ws_gate(sock);

	if (ret)
		return ret;
	/*
	 * A send aborted by the close must fail with ECANCELED, not raise
	 * SIGPIPE; raise it ourselves for a genuine broken pipe.
	 */
	msg->msg_flags |= MSG_NOSIGNAL;
	ret = ws_orig(sock)->sendmsg(ws_real(sock), msg, len);
	ret = ws_aborted(sock, ret);
	if (ret == -EPIPE && !nosignal)
		send_sig(SIGPIPE, current, 0);
	return ret;
}

static int ws_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		      int flags)
{
	int ret = ws_gate(sock);

	if (ret)
		return ret;
	ret = ws_orig(sock)->recvmsg(ws_real(sock), msg, len, flags);
	/* The close shuts the receive side: an empty read was aborted. */
	if (ret == 0 && len && !ws_open(sock->sk))
		return ws_cancel(sock->sk);
	return ws_aborted(sock, ret);
}

static ssize_t ws_splice_read(struct socket *sock, loff_t *ppos,
			      struct pipe_inode_info *pipe, size_t len,
			      unsigned int flags)
{
	ssize_t ret = ws_gate(sock);

	if (ret)
		return ret;
	ret = ws_orig(sock)->splice_read(ws_real(sock), ppos, pipe, len, flags);
	return ret < 0 && !ws_open(sock->sk) ? ws_cancel(sock->sk) : ret;
}

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
 * between the wrapper's check and its sleep sees the change.
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
}

/* Wake every waiter on a socket marked aborted; the wake-up says EPOLLERR. */
static void ws_wake_aborted(struct sock *sk)
{
	struct socket_wq *wq;

	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		__wake_up(&wq->wait, TASK_INTERRUPTIBLE, 0,
			  poll_to_key(EPOLLERR));
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
 * Sleep until our FIN (queued behind the data) is acknowledged, the
 * connection dies, @deadline passes or a signal arrives.  Woken by the
 * state change the acknowledgment causes, not by a polling tick.
 */
static int ws_linger_wait(struct sock *sk, unsigned long deadline)
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
		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		wait_woken(&wait, TASK_INTERRUPTIBLE, timeo);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	return ret;
}

/* Mark a handle (NULL: the socket's own, handle 1) closed. */
static void ws_close_handle(struct wsclose_sock *ws, struct ws_dup *dup)
{
	lockdep_assert_held(&ws->lock);
	if (dup)
		dup->closed = true;
	else
		WRITE_ONCE(ws->first_closed, true);
}

/* Handles not yet closed: the socket's own, and its duplicates. */
static unsigned int ws_open_handles(struct wsclose_sock *ws)
{
	unsigned int n = !ws->first_closed;
	struct ws_dup *d;

	lockdep_assert_held(&ws->lock);
	list_for_each_entry(d, &ws->dups, node)
		n += !d->closed;
	return n;
}

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
		return in->nonblock && in->fin_unacked ? -EWOULDBLOCK :
							 WS_STEP_RESUME;
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
 * WSCLOSE_OUTCOME_DRAINED when the caller owes a linger wait.
 */
static int ws_commit_tcp(struct socket *sock, bool nonblock)
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
	if (act == WS_ACT_FIN && !connected) {
		/* Nothing to send (never connected, or already reset). */
		ws_mark_aborted(sk);
		release_sock(sk);
		ws_wake_aborted(sk);
		return outcome;
	}
	release_sock(sk);

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
		fallthrough;
	case WS_ACT_FIN:
		/* FIN behind the queued data */
		if (connected)
			ws_orig(sock)->shutdown(ws_real(sock), SHUT_WR);
		break;
	}
	ws_abort_waiters(sk);
	return outcome;
}

/* Finish a lingering close: drained, or reset at the deadline. */
static int ws_finish_linger(struct wsclose_sock *ws, struct sock *sk)
{
	int ret = ws_linger_wait(sk, ws->deadline);

	if (ret == -EINTR && !fatal_signal_pending(current))
		return -EINTR;
	if (ret) {
		tcp_abort(sk, ETIMEDOUT);
		return ret == -EINTR ? -EINTR : WSCLOSE_OUTCOME_TIMED_OUT_RESET;
	}
	if (READ_ONCE(sk->sk_state) == TCP_CLOSE && READ_ONCE(sk->sk_err))
		return WSCLOSE_OUTCOME_ABORTIVE;
	return WSCLOSE_OUTCOME_DRAINED;
}

static int __ws_close(struct socket *sock, bool nonblock, bool implicit)
{
	struct sock *sk = sock->sk;
	struct wsclose_sock *ws = ws_of(sk);
	struct wsclose_close_in in = { .nonblock = nonblock };
	struct ws_dup *dup = NULL;
	int step, ret;

	spin_lock(&ws->lock);
	if (implicit) {
		/* the socket's release: every handle is gone */
		in.last_handle = true;
	} else if (sock == sk->sk_socket) {
		in.handle_closed = ws->first_closed;
		in.last_handle = ws_open_handles(ws) == 1;
	} else {
		dup = ws_find_dup(ws, sock);
		in.handle_closed = !dup || dup->closed;
		in.last_handle = ws_open_handles(ws) == 1;
	}
	in.state = ws->state;
	in.waiting = ws->waiting;
	in.lingers = ws_lingers(sk);
	in.pending = ws_pending(sk);
	in.fin_unacked = ws_tcp_closing(sk);
	step = wsclose_close_decide(&in);
	if (step == WS_STEP_RELEASE_ONLY) {
		ws_close_handle(ws, dup);
		spin_unlock(&ws->lock);
		return WSCLOSE_OUTCOME_NOT_LAST_HANDLE;
	}
	if (step < 0) {
		spin_unlock(&ws->lock);
		return step;
	}
	ws->state = WS_CLOSING;
	ws->waiting = true;
	spin_unlock(&ws->lock);

	/* The protocol work is done on the socket itself. */
	sock = sk->sk_socket;
	if (step == WS_STEP_RESUME) {
		ret = WSCLOSE_OUTCOME_DRAINED;
	} else if (ws_is_tcp(sk)) {
		ws->deadline = jiffies + READ_ONCE(sk->sk_lingertime);
		ret = ws_commit_tcp(sock, nonblock);
	} else {
		ws_abort_waiters(sk);
		ret = WSCLOSE_OUTCOME_GRACEFUL;
	}
	if (ret == WSCLOSE_OUTCOME_DRAINED)
		ret = ws_finish_linger(ws, sk);

	spin_lock(&ws->lock);
	ws->waiting = false;
	if (ret != -EINTR || fatal_signal_pending(current)) {
		ws->state = WS_CLOSED;
		if (!implicit)
			ws_close_handle(ws, dup);
	}
	spin_unlock(&ws->lock);
	return ret;
}

/*
 * The close of the handle @sock, or with @implicit the close that the
 * socket's release owes when no explicit close committed.  Traced and
 * counted here.
 */
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
 * or -EINTR with the socket committed and a linger wait still owed (unless
 * the signal was fatal: then it was reset).
 */
VISIBLE_IF_KUNIT int wsclose_close(struct socket *sock, bool nonblock)
{
	return ws_close(sock, nonblock, false);
}
EXPORT_SYMBOL_IF_KUNIT(wsclose_close);

/*
 * An implicit close that could not wait: reset the connection if it has
 * not drained when l_linger runs out.  Each reaper holds a reference on
 * the (by then orphaned) sock; module exit cancels those still pending.
 */
struct ws_reaper {
	struct delayed_work work;
	struct sock *sk;
	struct list_head node;	/* on ws_reapers, under ws_reapers_lock */
};

/* ws_reapers_lock protects ws_reapers; taken from process context only. */
static DEFINE_SPINLOCK(ws_reapers_lock);
static LIST_HEAD(ws_reapers);
static struct workqueue_struct *ws_wq;

static void ws_reap(struct work_struct *work)
{
	struct ws_reaper *r = container_of(to_delayed_work(work),
					   struct ws_reaper, work);

	spin_lock(&ws_reapers_lock);
	list_del(&r->node);
	spin_unlock(&ws_reapers_lock);
	if (ws_tcp_closing(r->sk))
		tcp_abort(r->sk, ETIMEDOUT);
	sock_put(r->sk);
	kfree(r);
}

static void ws_arm_reaper(struct sock *sk, unsigned long deadline)
{
	struct ws_reaper *r = kzalloc(sizeof(*r), GFP_KERNEL);
	long delay = (long)(deadline - jiffies);

	if (!r) {
		/* Cannot keep the promise: reset now rather than linger on. */
		tcp_abort(sk, ENOMEM);
		return;
	}
	sock_hold(sk);
	r->sk = sk;
	INIT_DELAYED_WORK(&r->work, ws_reap);
	spin_lock(&ws_reapers_lock);
	list_add(&r->node, &ws_reapers);
	queue_delayed_work(ws_wq, &r->work, max(delay, 0L));
	spin_unlock(&ws_reapers_lock);
}

static void ws_cancel_reapers(void)
{
	struct ws_reaper *r, *tmp;
	LIST_HEAD(cancelled);

	spin_lock(&ws_reapers_lock);
	list_for_each_entry_safe(r, tmp, &ws_reapers, node)
		if (cancel_delayed_work(&r->work))
			list_move(&r->node, &cancelled);
	spin_unlock(&ws_reapers_lock);
	list_for_each_entry_safe(r, tmp, &cancelled, node) {
		sock_put(r->sk);
		kfree(r);
	}
	/* waits for the reapers already running */
	destroy_workqueue(ws_wq);
}

/*
 * The last reference to the socket's file is gone.  If no explicit close
 * committed, this is the implicit close (close(2) or exit): same table, but
 * it never fails and never blocks a non-blocking descriptor or an exiting
 * task.
 */
static void ws_implicit_close(struct sock *sk, bool nonblock)
{
	struct wsclose_sock *ws = ws_of(sk);
	struct socket *sock = sk->sk_socket;
	int ret = -ENOTSOCK;

	if (READ_ONCE(ws->state) == WS_OPEN)
		ret = ws_close(sock, nonblock, true);
	if (ret == -EWOULDBLOCK) {
		/*
		 * Cannot wait: close gracefully in the background and reset
		 * when l_linger runs out.
		 */
		spin_lock(&ws->lock);
		ws->state = WS_CLOSED;
		spin_unlock(&ws->lock);
		ws_orig(sock)->shutdown(sock, SHUT_WR);
		ws_abort_waiters(sk);
		ws_arm_reaper(sk, jiffies + READ_ONCE(sk->sk_lingertime));
		ws_count(sk, WS_CNT_OUTCOME + WSCLOSE_OUTCOME_GRACEFUL, 1);
		return;
	}
	/* An interrupted lingering close that nobody retried: reset. */
	if (READ_ONCE(ws->state) == WS_CLOSING) {
		tcp_abort(sk, ETIMEDOUT);
		spin_lock(&ws->lock);
		ws->state = WS_CLOSED;
		spin_unlock(&ws->lock);
	}
}

/* Whether an implicit close through @file may wait. */
static bool ws_implicit_nonblock(const struct file *file)
{
	return !file || (file->f_flags & O_NONBLOCK) ||
	       (current->flags & PF_EXITING);
}

static int ws_release(struct socket *sock)
{
	const struct proto_ops *orig = ws_orig(sock);
	struct sock *sk = sock->sk;
	struct wsclose_sock *ws = sk ? ws_of(sk) : NULL;

	if (!ws)
		return orig->release(sock);

	ws_implicit_close(sk, ws_implicit_nonblock(sock->file));

	/* The committed close did the protocol's work: do not linger again. */
	if (sock_flag(sk, SOCK_LINGER)) {
		lock_sock(sk);
		sock_reset_flag(sk, SOCK_LINGER);
		release_sock(sk);
	}
	ws_detach(sk, ws);
	return orig->release(sock);
}

/*
 * The last reference to a duplicated handle's file is gone: the handle
 * goes, and with it its reference on the socket's own file.  If it was the
 * last handle, this is the socket's implicit close, done now rather than
 * when the socket's own file goes, which io_uring requests may delay.
 */
static int ws_dup_release(struct socket *sock)
{
	struct wsclose_sock *ws = sock->sk ? ws_of(sock->sk) : NULL;
	struct ws_dup *d = NULL;
	bool last = false;

	if (ws) {
		spin_lock(&ws->lock);
		d = ws_find_dup(ws, sock);
		if (d) {
			list_del(&d->node);
			if (!d->closed)
				last = ws_open_handles(ws) == 0;
		}
		spin_unlock(&ws->lock);
	}
	if (last)
		ws_implicit_close(sock->sk, ws_implicit_nonblock(sock->file));
	sock->sk = NULL;
	if (d) {
		fput(d->orig_file);
		kfree(d);
	}
	return 0;
}

/* ---- the device --------------------------------------------------------- */

static int ws_family_index(u32 family)
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

static int ws_type_index(u32 type)
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

/* Argument checks of WSCLOSE_IOC_SOCKET, in the order documented. */
VISIBLE_IF_KUNIT int wsclose_check_socket_args(const struct wsclose_socket_args *a)
{
	int fam, type;

	if (a->flags & ~WSCLOSE_SOCKET_FLAGS)
		return -EINVAL;
	fam = ws_family_index(a->family);
	if (fam < 0)
		return fam;
	type = ws_type_index(a->type);
	if (type < 0)
		return type;
	if (a->protocol &&
	    a->protocol != (type == WS_STREAM ? IPPROTO_TCP : IPPROTO_UDP))
		return -EPROTONOSUPPORT;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(wsclose_check_socket_args);

VISIBLE_IF_KUNIT int wsclose_check_close_args(const struct wsclose_close_args *a)
{
	if (a->pad || (a->flags & ~WSCLOSE_CLOSE_FLAGS) ||
	    (a->flags & WSCLOSE_CLOSE_FLAGS) == WSCLOSE_CLOSE_FLAGS)
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(wsclose_check_close_args);

VISIBLE_IF_KUNIT int wsclose_check_query_args(const struct wsclose_query_args *a)
{
	return a->pad[0] || a->pad[1] ? -EINVAL : 0;
}
EXPORT_SYMBOL_IF_KUNIT(wsclose_check_query_args);

/*
 * Create a wsclose socket (checked arguments) in the caller's network
 * namespace with the caller's credentials, through the normal creation
 * path (LSM hooks, accounting), and give it our operations.
 */
VISIBLE_IF_KUNIT int wsclose_create(int family, int type, int protocol,
				    struct socket **res)
{
	struct wsclose_proto *proto;
	const struct proto_ops *old;
	struct socket *sock;
	int err;

	proto = &ws_protos[ws_family_index(family)][ws_type_index(type)];
	if (!proto->orig)
		return -EAFNOSUPPORT;
	err = sock_create(family, type, protocol, &sock);
	if (err)
		return err;
	old = sock->ops;
	if (old != proto->orig) {
		sock_release(sock);
		return -EAFNOSUPPORT;
	}
	err = ws_attach(sock->sk);
	if (err) {
		sock_release(sock);
		return err;
	}
	/* From here on ->release is ours and frees the state. */
	__module_get(THIS_MODULE);
	WRITE_ONCE(sock->ops, &proto->ops);
	module_put(old->owner);
	*res = sock;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(wsclose_create);

static long ws_ioctl_socket(struct wsclose_socket_args __user *uargs)
{
	struct wsclose_socket_args args;
	struct socket *sock;
	struct file *file;
	int fd, err;

	if (copy_from_user(&args, uargs, sizeof(args)))
		return -EFAULT;
	err = wsclose_check_socket_args(&args);
	if (err)
		return err;
	err = wsclose_create(args.family, args.type, args.protocol, &sock);
	if (err)
		return err;

	fd = get_unused_fd_flags(args.flags & WSCLOSE_SOCKET_CLOEXEC ?
				 O_CLOEXEC : 0);
	if (fd < 0) {
		sock_release(sock);
		return fd;
	}
	file = sock_alloc_file(sock, args.flags & WSCLOSE_SOCKET_NONBLOCK ?
			       O_NONBLOCK : 0, NULL);
	if (IS_ERR(file)) {
		/* sock_alloc_file() released the socket. */
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	fd_install(fd, file);
	return fd;
}

/* The wsclose socket behind @fd, with a reference on its file in @filep. */
static struct socket *ws_lookup(u32 fd, struct file **filep)
{
	struct socket *sock;
	struct file *file;

	file = fget(fd);
	if (!file)
		return NULL;
	sock = sock_from_file(file);
	if (!sock || !ws_is_ours(sock) || !sock->sk || !ws_of(sock->sk)) {
		fput(file);
		return NULL;
	}
	*filep = file;
	return sock;
}

static long ws_ioctl_close(struct wsclose_close_args __user *uargs)
{
	struct wsclose_close_args args;
	struct socket *sock;
	struct file *file;
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

	sock = ws_lookup(args.fd, &file);
	if (!sock)
		return -ENOTSOCK;
	if (args.flags & WSCLOSE_AS_BLOCKING)
		nonblock = false;
	else if (args.flags & WSCLOSE_AS_NONBLOCKING)
		nonblock = true;
	else
		nonblock = file->f_flags & O_NONBLOCK;

	ret = wsclose_close(sock, nonblock);
	if (ret == -EINTR && fatal_signal_pending(current))
		close_fd(args.fd);
	if (ret >= 0) {
		/*
		 * Release the descriptor; the socket itself goes when the
		 * last reference (ours, aliases, io_uring) is dropped.
		 */
		close_fd(args.fd);
		if (put_user(ret, &uargs->outcome))
			ret = -EFAULT;
		else
			ret = 0;
	}
	fput(file);
	return ret;
}

static long ws_ioctl_query(struct wsclose_query_args __user *uargs)
{
	struct wsclose_query_args args;
	struct socket *sock;
	struct file *file;

	if (copy_from_user(&args, uargs, sizeof(args)))
		return -EFAULT;
	if (wsclose_check_query_args(&args))
		return -EINVAL;
	sock = ws_lookup(args.fd, &file);
	if (!sock)
		return -ENOTSOCK;
	args.state = ws_handle_closed(ws_of(sock->sk), sock) ? WS_CLOSED :
		     READ_ONCE(ws_of(sock->sk)->state);
	args.family = sock->sk->sk_family;
	args.type = sock->sk->sk_type;
	fput(file);
	return copy_to_user(uargs, &args, sizeof(args)) ? -EFAULT : 0;
}

static long ws_ioctl_duplicate(struct wsclose_dup_args __user *uargs)
{
	struct wsclose_dup_args args;
	struct socket *sock, *dsock;
	struct wsclose_sock *ws;
	struct file *file, *dfile;
	struct ws_dup *d;
	int fd, err;

	if (copy_from_user(&args, uargs, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~WSCLOSE_DUP_CLOEXEC)
		return -EINVAL;
	sock = ws_lookup(args.fd, &file);
	if (!sock)
		return -ENOTSOCK;
	err = -ENOTSOCK;
	if (ws_gate(sock))
		goto out;
	ws = ws_of(sock->sk);

	err = -ENOMEM;
	d = kzalloc(sizeof(*d), GFP_KERNEL_ACCOUNT);
	dsock = d ? sock_alloc() : NULL;
	if (!dsock) {
		kfree(d);
		goto out;
	}
	/* A socket of its own sharing the original's sock; see ws_dup. */
	dsock->type = sock->type;
	__module_get(THIS_MODULE);
	dsock->ops = &ws_proto(sock, NULL)->dup_ops;
	dsock->sk = sock->sk;
	d->sock = dsock;
	d->orig_file = get_file(sock->sk->sk_socket->file);

	err = -ENOTSOCK;
	spin_lock(&ws->lock);
	if (ws->state == WS_OPEN) {
		list_add(&d->node, &ws->dups);
		err = 0;
	}
	spin_unlock(&ws->lock);
	if (err) {
		/* closed meanwhile: ws_dup_release() finds no entry */
		fput(d->orig_file);
		kfree(d);
		sock_release(dsock);
		goto out;
	}

	/* From here on, releasing dsock undoes all of the above. */
	fd = get_unused_fd_flags(args.flags & WSCLOSE_DUP_CLOEXEC ?
				 O_CLOEXEC : 0);
	if (fd < 0) {
		sock_release(dsock);
		err = fd;
		goto out;
	}
	dfile = sock_alloc_file(dsock, file->f_flags & O_NONBLOCK, NULL);
	if (IS_ERR(dfile)) {
		put_unused_fd(fd);
		err = PTR_ERR(dfile);
		goto out;
	}
	fd_install(fd, dfile);
	err = fd;
out:
	fput(file);
	return err;
}

static long ws_dev_ioctl(struct file *file, unsigned int cmd,
			 unsigned long parm)
{
	void __user *argp = (void __user *)parm;

	switch (cmd) {
	case WSCLOSE_IOC_SOCKET:
		return ws_ioctl_socket(argp);
	case WSCLOSE_IOC_CLOSE:
		return ws_ioctl_close(argp);
	case WSCLOSE_IOC_QUERY:
		return ws_ioctl_query(argp);
	case WSCLOSE_IOC_DUPLICATE:
		return ws_ioctl_duplicate(argp);
	default:
		return -ENOIOCTLCMD;
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

/* Build the wrapper for one (family, type) from a socket of that kind. */
static void __init ws_build_proto(struct wsclose_proto *p, int family, int type)
{
	struct proto_ops *ops = &p->ops;
	struct socket *sock;

	if (sock_create_kern(&init_net, family, type, 0, &sock)) {
		pr_info("family %d type %d unavailable\n", family, type);
		return;
	}
	p->orig = sock->ops;
	sock_release(sock);

	*ops = *p->orig;
	ops->owner = THIS_MODULE;
	ops->release = ws_release;
	ops->bind = ws_bind;
	ops->connect = ws_connect;
	ops->accept = ws_accept;
	ops->getname = ws_getname;
	ops->poll = ws_poll;
	ops->ioctl = ws_ioctl;
#ifdef CONFIG_COMPAT
	ops->compat_ioctl = ws_compat_ioctl;
#endif
	ops->listen = ws_listen;
	ops->shutdown = ws_shutdown;
	ops->setsockopt = ws_setsockopt;
	ops->getsockopt = ws_getsockopt;
	ops->sendmsg = ws_sendmsg;
	ops->recvmsg = ws_recvmsg;
	if (ops->splice_read)
		ops->splice_read = ws_splice_read;

	p->dup_ops = *ops;
	p->dup_ops.release = ws_dup_release;
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
	err = misc_register(&ws_misc);
	if (err)
		goto unregister;
	return 0;

unregister:
	unregister_pernet_subsys(&ws_net_ops);
free_wq:
	destroy_workqueue(ws_wq);
	return err;
}

static void __exit wsclose_exit(void)
{
	misc_deregister(&ws_misc);
	ws_cancel_reapers();
	unregister_pernet_subsys(&ws_net_ops);
}

module_init(wsclose_init);
module_exit(wsclose_exit);

MODULE_AUTHOR("The wsclose developers");
MODULE_DESCRIPTION("Winsock close semantics (WSPCloseSocket) for Linux sockets");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1");
