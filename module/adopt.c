// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose: adoption.  A caller hands the driver a TCP or UDP socket it made
 * itself, through the device (WSCLOSE_IOC_ADOPT on /dev/wsclose) or, for
 * TCP, by setting the "wsclose" ULP on it; the socket is adopted in place:
 * it gets our state (struct wsclose_sock, in sk_user_data) and our
 * operations.  The device itself never creates a socket for anyone.
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/inet_connection_sock.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "wsclose.h"

/* Give @sk our state unless its user data belongs to someone else. */
int wsclose_attach(struct sock *sk, struct wsclose_sock *ws)
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
		wsclose_count(sk, WSCLOSE_CNT_OPEN, 1);
	return err;
}

void wsclose_detach(struct sock *sk, struct wsclose_sock *ws)
{
	write_lock_bh(&sk->sk_callback_lock);
	wsclose_unwrap_callbacks(sk);
	rcu_assign_sk_user_data(sk, NULL);
	write_unlock_bh(&sk->sk_callback_lock);
	/* nobody can reach @ws now: see the lifetime rule in wsclose.h */
	wsclose_free_handle_socks(ws);
	kfree(ws);
	wsclose_count(sk, WSCLOSE_CNT_OPEN, -1);
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
 * gets our state (wsclose_accept_finish()).
 */
static struct tcp_ulp_ops wsclose_ulp;

/* Under the socket lock, with a module reference of its own. */
void wsclose_ulp_set(struct sock *sk)
{
	sock_owned_by_me(sk);
	__module_get(THIS_MODULE);
	WRITE_ONCE(inet_csk(sk)->icsk_ulp_ops, &wsclose_ulp);
}

/*
 * The release of the last handle: nothing can call setsockopt any more, so
 * the slot is given back and the module no longer pinned by an orphan that
 * TCP keeps until its FIN is acknowledged.
 */
void wsclose_ulp_clear(struct sock *sk)
{
	struct inet_connection_sock *icsk = inet_csk(sk);

	sock_owned_by_me(sk);
	if (icsk->icsk_ulp_ops != &wsclose_ulp)
		return;
	WRITE_ONCE(icsk->icsk_ulp_ops, NULL);
	module_put(THIS_MODULE);
}

struct wsclose_sock *wsclose_alloc(void)
{
	struct wsclose_sock *ws = kzalloc(sizeof(*ws), GFP_KERNEL_ACCOUNT);

	if (ws) {
		spin_lock_init(&ws->lock);
		ws->state = WSCLOSE_OPEN;
		ws->handles = 1;
		ws->files = 1;
	}
	return ws;
}

static int wsclose_family_index(int family)
{
	switch (family) {
	case AF_INET:
		return WSCLOSE_INET;
	case AF_INET6:
		return WSCLOSE_INET6;
	default:
		return -EAFNOSUPPORT;
	}
}

static int wsclose_type_index(int type)
{
	switch (type) {
	case SOCK_STREAM:
		return WSCLOSE_STREAM;
	case SOCK_DGRAM:
		return WSCLOSE_DGRAM;
	default:
		return -ESOCKTNOSUPPORT;
	}
}

/* Whether @sock's operations and user data are free to take. */
static int wsclose_adopt_check(const struct socket *sock,
			       const struct wsclose_table *p, int type)
{
	const struct sock *sk = sock->sk;

	if (wsclose_is_ours(sock))
		return -EALREADY;
	if (READ_ONCE(sock->ops) != p->orig ||
	    READ_ONCE(sk->sk_prot) != p->prot ||
	    (type == WSCLOSE_STREAM && inet_csk(sk)->icsk_ulp_ops) ||
	    rcu_access_pointer(__sk_user_data(sk)))
		return -EBUSY;
	return 0;
}

/*
 * Checks, state and operations, under the socket lock: both ways in.  The
 * new operations take a module reference, and the one the replaced
 * operations held is put.  On a refusal @ws is freed, nothing changed.
 */
static int wsclose_adopt_locked(struct socket *sock,
				const struct wsclose_table *p, int type,
				struct wsclose_sock *ws)
{
	const struct proto_ops *old = sock->ops;
	struct sock *sk = sock->sk;
	int err;

	sock_owned_by_me(sk);
	ws->table = p;
	err = wsclose_adopt_check(sock, p, type) ?: wsclose_attach(sk, ws);
	if (err) {
		kfree(ws);
		return err;
	}
	__module_get(THIS_MODULE);
	WRITE_ONCE(sock->ops, &p->ops);
	module_put(old->owner);
	return 0;
}

/* Family and type of @sock as a table, or why it cannot be ours. */
static const struct wsclose_table *wsclose_table_for(const struct socket *sock,
						     int *type)
{
	const struct wsclose_table *p;
	const struct sock *sk;
	int fam;

	if (!sock || !sock->sk)
		return ERR_PTR(-ENOTSOCK);
	sk = sock->sk;
	fam = wsclose_family_index(sk->sk_family);
	if (fam < 0)
		return ERR_PTR(fam);
	*type = wsclose_type_index(sock->type);
	if (*type < 0)
		return ERR_PTR(*type);
	if (sk->sk_protocol !=
	    (*type == WSCLOSE_STREAM ? IPPROTO_TCP : IPPROTO_UDP))
		return ERR_PTR(-EPROTONOSUPPORT);
	p = &wsclose_tables[fam][*type];
	return p->orig ? p : ERR_PTR(-EAFNOSUPPORT);
}

/**
 * wsclose_adopt() - make a socket a wsclose socket in place
 * @sock: an AF_INET or AF_INET6 TCP or UDP socket, in any state, possibly
 *        in use by other threads
 *
 * Operations already running when the operations are swapped finish as
 * plain ones.  The checks and the swap happen under the socket lock, which
 * TCP_ULP and sockmap attachment take too, and the user data is claimed
 * under sk_callback_lock, as its other owners do.
 *
 * Context: process context; takes the socket lock.
 * Return: 0, or, with nothing changed, -ENOTSOCK, -EAFNOSUPPORT,
 * -ESOCKTNOSUPPORT, -EPROTONOSUPPORT, -EALREADY (ours already), -EBUSY
 * (its operations or user data belong to someone else), -ENETDOWN (the
 * module is going) or -ENOMEM.
 */
int wsclose_adopt(struct socket *sock)
{
	const struct wsclose_table *p;
	struct sock *sk = sock->sk;
	struct wsclose_sock *ws;
	int type, err;

	p = wsclose_table_for(sock, &type);
	if (IS_ERR(p))
		return PTR_ERR(p);
	/* checked again under the lock below, in the documented order */
	err = wsclose_adopt_check(sock, p, type);
	if (err)
		return err;
	if (!try_module_get(THIS_MODULE))
		return -ENETDOWN;
	ws = wsclose_alloc();
	if (!ws) {
		module_put(THIS_MODULE);
		return -ENOMEM;
	}

	lock_sock(sk);
	err = wsclose_adopt_locked(sock, p, type, ws);
	if (!err && type == WSCLOSE_STREAM)
		wsclose_ulp_set(sk);
	release_sock(sk);

	/* the operations and the ULP took references of their own */
	module_put(THIS_MODULE);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(wsclose_adopt);

/*
 * setsockopt(TCP_ULP, "wsclose"): adoption, under the socket lock, with the
 * ULP's module reference taken by tcp_set_ulp(), which installs the ULP
 * when this returns 0.  It cleared SOCK_SUPPORT_ZC first, which TCP sets
 * on every socket and nothing of ours needs cleared.
 */
static int wsclose_ulp_init(struct sock *sk)
{
	struct socket *sock = sk->sk_socket;
	const struct wsclose_table *p;
	struct wsclose_sock *ws;
	int type;

	p = wsclose_table_for(sock, &type);
	if (IS_ERR(p))
		return PTR_ERR(p);
	/*
	 * Refused or not, the socket keeps what it had: TCP sets the flag
	 * on every socket of its own protocol (sockmap's clears it).
	 */
	if (READ_ONCE(sk->sk_prot) == p->prot)
		set_bit(SOCK_SUPPORT_ZC, &sock->flags);
	ws = wsclose_alloc();
	if (!ws)
		return -ENOMEM;
	return wsclose_adopt_locked(sock, p, type, ws);
}

/*
 * Only an accepted child gets our ULP, with our state: the copy
 * sk_clone_lock() made of the listener's is dropped (no reference was
 * taken for it).
 */
static void wsclose_ulp_clone(const struct request_sock *req,
			      struct sock *newsk, const gfp_t priority)
{
	inet_csk(newsk)->icsk_ulp_ops = NULL;
	/* nor the callbacks of a duplicated listener */
	wsclose_unwrap_callbacks(newsk);
}

/*
 * The sock is destroyed with our ULP still set: the release of its last
 * handle never came through us, because a setsockopt(IPV6_ADDRFORM) that
 * was past our operations when the socket was adopted replaced them.  Free
 * the state it left behind and the module reference those operations held.
 */
static void wsclose_ulp_release(struct sock *sk)
{
	/* the sock is being destroyed: nothing else reaches the state */
	struct wsclose_sock *ws = wsclose_sk(sk);

	if (!ws)
		return;
	wsclose_detach(sk, ws);
	module_put(THIS_MODULE);
}

static struct tcp_ulp_ops wsclose_ulp = {
	.name		= "wsclose",
	.owner		= THIS_MODULE,
	.init		= wsclose_ulp_init,
	.clone		= wsclose_ulp_clone,
	.release	= wsclose_ulp_release,
};

static long wsclose_ioctl_adopt(struct wsclose_adopt_args __user *uargs)
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

static long wsclose_dev_ioctl(struct file *file, unsigned int cmd,
			      unsigned long parm)
{
	switch (cmd) {
	case WSCLOSE_IOC_ADOPT:
		return wsclose_ioctl_adopt((void __user *)parm);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations wsclose_dev_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
	.unlocked_ioctl	= wsclose_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice wsclose_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "wsclose",
	.fops	= &wsclose_dev_fops,
	.mode	= 0666,
};

int __init wsclose_adopt_init(void)
{
	int err = tcp_register_ulp(&wsclose_ulp);

	if (err)
		return err;
	err = misc_register(&wsclose_misc);
	if (err)
		tcp_unregister_ulp(&wsclose_ulp);
	return err;
}

/*
 * Unregistering the ULP waits an RCU grace period, which also waits out a
 * softirq (or any section with bottom halves off) still in one of the
 * callback wrappers it loaded before a final release put the protocol's
 * back.  A process-context caller (sock_wfree() from a task) is not
 * covered by it: without full preemption (Debian's default, unless booted
 * with preempt=full) it cannot be preempted between the load and the call.
 */
void wsclose_adopt_exit(void)
{
	misc_deregister(&wsclose_misc);
	tcp_unregister_ulp(&wsclose_ulp);
}
