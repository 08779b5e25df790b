// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose: the wrapped protocol operations.  An adopted socket's operations
 * are copies of its own inet operations with entries replaced, as net/tls
 * and espintcp do; the originals are taken at load time from sockets the
 * driver makes for that purpose, never by symbol.  Every wrapper lets a
 * call through to the protocol only while the socket is open and the
 * handle is (wsclose_may_call()); a call that the close cuts short ends
 * with ECANCELED, a call that starts after it with ENOTSOCK.
 *
 * Every handle calls the protocol on its own struct socket, whose ->sk is
 * the shared sock: a duplicated handle's socket lives as long as its file,
 * independently of the first handle's.  Only poll differs
 * (wsclose_poll()).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compat.h>
#include <linux/indirect_call_wrapper.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <net/inet_common.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/udp.h>

#include "wsclose.h"

/* Count an aborted operation. */
int wsclose_cancel(const struct sock *sk)
{
	wsclose_count(sk, WSCLOSE_CNT_ABORTED, 1);
	return -ECANCELED;
}

/*
 * A call that starts on a socket already closed to I/O, or through a
 * handle already closed.  What tells ECANCELED from ENOTSOCK is when the
 * operation started, not which system call the task is in: a call that
 * starts now started after the commit, so it finds no socket (ENOTSOCK).
 * Operations pending at the commit end elsewhere: a call blocked in a
 * wrapper returns through wsclose_call_result(); an io_uring request armed
 * on the socket's wait queue is completed with -ECANCELED by the commit's
 * POLLFREE wake-up (wsclose_wake_aborted()) without being reissued.  Only
 * an io-wq worker cannot say when its request was submitted: it errs
 * towards ECANCELED.
 */
int wsclose_closed_errno(const struct sock *sk)
{
	return current->flags & PF_IO_WORKER ? wsclose_cancel(sk) : -ENOTSOCK;
}

/* A call that failed because the socket was closed under it was aborted. */
static int wsclose_call_result(const struct socket *sock, int ret)
{
	if (ret < 0 && !wsclose_is_open(sock->sk))
		return wsclose_cancel(sock->sk);
	return ret;
}

static int wsclose_bind(struct socket *sock, struct sockaddr *addr, int len)
{
	return wsclose_call_error(sock) ?:
	       wsclose_inet_ops(sock)->bind(sock, addr, len);
}

static int wsclose_connect(struct socket *sock, struct sockaddr *addr, int len,
			   int flags)
{
	int ret = wsclose_call_error(sock);

	if (ret)
		return ret;
	ret = wsclose_inet_ops(sock)->connect(sock, addr, len, flags);
	return wsclose_call_result(sock, ret);
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
static int wsclose_accept_finish(struct socket *sock, struct socket *newsock,
				 int ret)
{
	const struct wsclose_table *p = wsclose_table_of(sock);
	struct sock *newsk = newsock->sk;
	struct wsclose_sock *ws;

	if (ret)
		return wsclose_call_result(sock, ret);
	/* adopted while accept(2) ran: the child was given the plain ops */
	if (newsock->ops && newsock->ops != &p->ops)
		return 0;
	ws = wsclose_alloc();
	if (ws) {
		ws->table = p;
		lock_sock(newsk);
		ret = -EBUSY;
		if (READ_ONCE(newsk->sk_prot) == p->prot &&
		    !inet_csk(newsk)->icsk_ulp_ops)
			ret = wsclose_attach(newsk, ws);
		if (!ret)
			wsclose_ulp_set(newsk);
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

#if WSCLOSE_NEW_ACCEPT
static int wsclose_accept(struct socket *sock, struct socket *newsock,
			  struct proto_accept_arg *arg)
{
	int ret = wsclose_call_error(sock);

	if (ret)
		return ret;
	ret = wsclose_inet_ops(sock)->accept(sock, newsock, arg);
	return wsclose_accept_finish(sock, newsock, ret);
}
#else
static int wsclose_accept(struct socket *sock, struct socket *newsock,
			  int flags, bool kern)
{
	int ret = wsclose_call_error(sock);

	if (ret)
		return ret;
	ret = wsclose_inet_ops(sock)->accept(sock, newsock, flags, kern);
	return wsclose_accept_finish(sock, newsock, ret);
}
#endif

static int wsclose_getname(struct socket *sock, struct sockaddr *addr, int peer)
{
	return wsclose_call_error(sock) ?:
	       wsclose_inet_ops(sock)->getname(sock, addr, peer);
}

/*
 * Closed: report an error only, never EPOLLIN/HUP (no FD_CLOSE), and count
 * nothing: polling is not an operation that was aborted.  A duplicated
 * handle waits where the socket's wake-ups go, the first handle's queue.
 */
static __poll_t wsclose_poll(struct file *file, struct socket *sock,
			     poll_table *wait)
{
	const struct wsclose_table *p;
	struct sock *sk = sock->sk;
	__poll_t mask;

	if (unlikely(!wsclose_may_call(sock, &p)))
		return EPOLLERR;
	if (sock != sk->sk_socket) {
		poll_wait(file, sk_sleep(sk), wait);
		/* pairs with the waker's barrier, as sock_poll_wait() does */
		smp_mb();
		wait = NULL;
	}
	mask = INDIRECT_CALL_2(p->orig->poll, tcp_poll, udp_poll, file, sock,
			       wait);
	if (wsclose_is_open(sk))
		return mask;
	/* registered after the commit's wake-up: detach it the same way */
	wsclose_wake_aborted(sk);
	return EPOLLERR;
}

/* The driver's own numbers: no other protocol or driver interprets them. */
static bool wsclose_private_cmd(unsigned int cmd)
{
	return _IOC_TYPE(cmd) == _IOC_TYPE(WSCLOSE_SIOC_CLOSE);
}

/*
 * The per-socket commands, which the socket layer passes to the socket's
 * own operations.  They work on closed sockets and handles too, to say so.
 */
static int wsclose_private_ioctl(struct socket *sock, unsigned int cmd,
				 void __user *argp)
{
	switch (cmd) {
	case WSCLOSE_SIOC_CLOSE:
		return wsclose_ioctl_close(sock, argp);
	case WSCLOSE_SIOC_QUERY:
		return wsclose_ioctl_query(sock, argp);
	case WSCLOSE_SIOC_DUPLICATE:
		return wsclose_ioctl_duplicate(sock, argp);
	default:
		return -ENOTTY;
	}
}

static int wsclose_ioctl(struct socket *sock, unsigned int cmd,
			 unsigned long arg)
{
	if (wsclose_private_cmd(cmd))
		return wsclose_private_ioctl(sock, cmd, (void __user *)arg);
	return wsclose_call_error(sock) ?:
	       wsclose_inet_ops(sock)->ioctl(sock, cmd, arg);
}

#ifdef CONFIG_COMPAT
static int wsclose_compat_ioctl(struct socket *sock, unsigned int cmd,
				unsigned long arg)
{
	const struct proto_ops *orig = wsclose_inet_ops(sock);

	/* The argument structures are the same for 32-bit callers. */
	if (wsclose_private_cmd(cmd))
		return wsclose_private_ioctl(sock, cmd, compat_ptr(arg));
	if (!orig->compat_ioctl)
		return -ENOIOCTLCMD;
	return wsclose_call_error(sock) ?: orig->compat_ioctl(sock, cmd, arg);
}
#endif

static int wsclose_gettstamp(struct socket *sock, void __user *userstamp,
			     bool timeval, bool time32)
{
	return wsclose_call_error(sock) ?:
	       wsclose_inet_ops(sock)->gettstamp(sock, userstamp,
						 timeval, time32);
}

static int wsclose_listen(struct socket *sock, int backlog)
{
	return wsclose_call_error(sock) ?:
	       wsclose_inet_ops(sock)->listen(sock, backlog);
}

static int wsclose_shutdown(struct socket *sock, int how)
{
	return wsclose_call_error(sock) ?:
	       wsclose_inet_ops(sock)->shutdown(sock, how);
}

static int wsclose_setsockopt(struct socket *sock, int level, int optname,
			      sockptr_t optval, unsigned int optlen)
{
	int ret = wsclose_call_error(sock);

	if (ret)
		return ret;
	/* Both would replace our operations underneath us. */
	if ((level == SOL_TCP && optname == TCP_ULP) ||
	    (level == SOL_IPV6 && optname == IPV6_ADDRFORM))
		return -EOPNOTSUPP;
	return wsclose_inet_ops(sock)->setsockopt(sock, level, optname, optval,
						  optlen);
}

static int wsclose_getsockopt(struct socket *sock, int level, int optname,
			      char __user *optval, int __user *optlen)
{
	return wsclose_call_error(sock) ?:
	       wsclose_inet_ops(sock)->getsockopt(sock, level, optname,
						  optval, optlen);
}

/* A send aborted by the close fails with ECANCELED and raises no SIGPIPE. */
static int wsclose_send_result(struct socket *sock, int ret, bool nosignal)
{
	ret = wsclose_call_result(sock, ret);
	if (ret == -EPIPE && !nosignal)
		send_sig(SIGPIPE, current, 0);
	return ret;
}

/*
 * The data path calls the protocol directly where it can: inet_sendmsg()
 * and inet_recvmsg() serve IPv4 TCP and UDP (IPv6's are not exported).
 */
static int wsclose_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	bool nosignal = msg->msg_flags & MSG_NOSIGNAL;
	const struct wsclose_table *p;
	int ret;

	if (unlikely(!wsclose_may_call(sock, &p)))
		return wsclose_closed_errno(sock->sk);
	msg->msg_flags |= MSG_NOSIGNAL;
	ret = INDIRECT_CALL_1(p->orig->sendmsg, inet_sendmsg, sock, msg, len);
	return wsclose_send_result(sock, ret, nosignal);
}

static int wsclose_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
			   int flags)
{
	const struct wsclose_table *p;
	int ret;

	if (unlikely(!wsclose_may_call(sock, &p)))
		return wsclose_closed_errno(sock->sk);
	ret = INDIRECT_CALL_1(p->orig->recvmsg, inet_recvmsg, sock, msg, len,
			      flags);
	/* The close shuts the receive side: an empty read was aborted. */
	if (ret == 0 && len && !wsclose_is_open(sock->sk))
		return wsclose_cancel(sock->sk);
	return wsclose_call_result(sock, ret);
}

static int wsclose_mmap(struct file *file, struct socket *sock,
			struct vm_area_struct *vma)
{
	return wsclose_call_error(sock) ?:
	       wsclose_inet_ops(sock)->mmap(file, sock, vma);
}

static ssize_t wsclose_splice_read(struct socket *sock, loff_t *ppos,
				   struct pipe_inode_info *pipe, size_t len,
				   unsigned int flags)
{
	ssize_t ret = wsclose_call_error(sock);

	if (ret)
		return ret;
	ret = wsclose_inet_ops(sock)->splice_read(sock, ppos, pipe, len, flags);
	/* as for recvmsg: an empty read the close cut short was aborted */
	if ((ret < 0 || (ret == 0 && len)) && !wsclose_is_open(sock->sk))
		return wsclose_cancel(sock->sk);
	return ret;
}

static void wsclose_splice_eof(struct socket *sock)
{
	if (!wsclose_call_error(sock))
		wsclose_inet_ops(sock)->splice_eof(sock);
}

static int wsclose_peek_len(struct socket *sock)
{
	return wsclose_call_error(sock) ?:
	       wsclose_inet_ops(sock)->peek_len(sock);
}

#if WSCLOSE_SENDPAGE
/* sendfile(2) and splice(2) into a socket, before 6.5 */
static ssize_t wsclose_sendpage(struct socket *sock, struct page *page,
				int offset, size_t size, int flags)
{
	ssize_t ret = wsclose_call_error(sock);

	if (ret)
		return ret;
	ret = wsclose_inet_ops(sock)->sendpage(sock, page, offset, size,
					       flags | MSG_NOSIGNAL);
	return wsclose_send_result(sock, ret, flags & MSG_NOSIGNAL);
}
#endif

#if WSCLOSE_GETSOCKOPT_ITER
static int wsclose_getsockopt_iter(struct socket *sock, int level,
				   int optname, sockopt_t *opt)
{
	return wsclose_call_error(sock) ?:
	       wsclose_inet_ops(sock)->getsockopt_iter(sock, level, optname,
						       opt);
}
#endif

/*
 * Build the wrapper for one (family, type) from a socket of that kind.
 * Every member of struct proto_ops is decided here, one by one: wrapped,
 * or passed through with the reason.
 */
void __init wsclose_build_table(struct wsclose_table *p, int family,
				int type)
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
	wsclose_save_callbacks(sock->sk);
	sock_release(sock);

	memset(ops, 0, sizeof(*ops));
	ops->family = o->family;
	ops->owner = THIS_MODULE;
	ops->release = wsclose_release;
	ops->bind = wsclose_bind;
	ops->connect = wsclose_connect;
	ops->socketpair = o->socketpair;	/* sock_no_socketpair */
	ops->accept = wsclose_accept;
	ops->getname = wsclose_getname;
	ops->poll = wsclose_poll;
	ops->ioctl = wsclose_ioctl;
#ifdef CONFIG_COMPAT
	ops->compat_ioctl = wsclose_compat_ioctl;
#endif
	ops->gettstamp = o->gettstamp ? wsclose_gettstamp : NULL;
	ops->listen = wsclose_listen;
	ops->shutdown = wsclose_shutdown;
	ops->setsockopt = wsclose_setsockopt;
	ops->getsockopt = wsclose_getsockopt;
	/* reads nothing of the connection */
	ops->show_fdinfo = o->show_fdinfo;
	ops->sendmsg = wsclose_sendmsg;
	ops->recvmsg = wsclose_recvmsg;
	/* TCP zerocopy receive */
	ops->mmap = o->mmap ? wsclose_mmap : NULL;
	ops->splice_read = o->splice_read ? wsclose_splice_read : NULL;
	ops->splice_eof = o->splice_eof ? wsclose_splice_eof : NULL;
	/* SO_PEEK_OFF and SO_RCVLOWAT: SOL_SOCKET options, see the spec */
	ops->set_peek_off = o->set_peek_off;
	ops->set_rcvlowat = o->set_rcvlowat;
	ops->peek_len = o->peek_len ? wsclose_peek_len : NULL;
	/*
	 * Called only by in-kernel users that attach to a socket (kTLS,
	 * strparser, sockmap, espintcp), which adoption refuses and the
	 * wrapped setsockopt keeps out.
	 */
	ops->read_sock = o->read_sock;
	ops->read_skb = o->read_skb;
	ops->sendmsg_locked = o->sendmsg_locked;
#if WSCLOSE_SENDPAGE
	ops->sendpage = o->sendpage ? wsclose_sendpage : NULL;
	/* in-kernel users only, like read_sock */
	ops->sendpage_locked = o->sendpage_locked;
#endif
#if WSCLOSE_GETSOCKOPT_ITER
	ops->getsockopt_iter = o->getsockopt_iter ? wsclose_getsockopt_iter :
						    NULL;
#endif

	p->closed_ops = *ops;
}
