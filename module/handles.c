// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose: duplicated handles (WSCLOSE_SIOC_DUPLICATE, WSADuplicateSocket).
 * A duplicate is a struct socket of its own sharing the sock.  The first
 * duplication grafts the sock onto a backing socket of the driver's own,
 * which stands for one handle, the handle of record; from then on the
 * sock's wake-up callbacks are wrapped so that SIGIO reaches every handle.
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/sock.h>

#include "wsclose.h"

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
struct wsclose_callbacks {
	void (*data_ready)(struct sock *sk);
	void (*write_space)(struct sock *sk);
	void (*state_change)(struct sock *sk);
	void (*error_report)(struct sock *sk);
};

static struct wsclose_callbacks wsclose_plain_callbacks[WSCLOSE_NTYPES]
	__ro_after_init;

/* Load time: @sk is a plain socket of its type. */
void __init wsclose_save_callbacks(const struct sock *sk)
{
	int type = sk->sk_type == SOCK_STREAM ? WSCLOSE_STREAM : WSCLOSE_DGRAM;
	struct wsclose_callbacks *cb = &wsclose_plain_callbacks[type];

	if (cb->data_ready)
		return;
	cb->data_ready = sk->sk_data_ready;
	cb->write_space = sk->sk_write_space;
	cb->state_change = sk->sk_state_change;
	cb->error_report = sk->sk_error_report;
}

static const struct wsclose_callbacks *
wsclose_callbacks_of(const struct sock *sk)
{
	int type = sk->sk_type == SOCK_STREAM ? WSCLOSE_STREAM : WSCLOSE_DGRAM;

	return &wsclose_plain_callbacks[type];
}

/*
 * Every handle's struct socket, for the wrappers; RCU-read.  Entries are
 * added and removed under the socket lock; the array is replaced (and the
 * old one freed after a grace period) only to grow.  A handle's struct
 * socket is freed an RCU grace period after its release, which removes it
 * first, so a reader never sees a freed one.
 */
struct wsclose_handle_socks {
	struct rcu_head rcu;
	unsigned int n, cap;
	struct socket *sock[];
};

/* The release of the last handle: no wrapper can reach @ws->socks now. */
void wsclose_free_handle_socks(struct wsclose_sock *ws)
{
	struct wsclose_handle_socks *h = rcu_access_pointer(ws->socks);

	if (h)
		kfree_rcu(h, rcu);
}

static int wsclose_socks_add(struct wsclose_sock *ws, struct socket *sock)
{
	struct wsclose_handle_socks *h, *old;
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

static void wsclose_socks_remove(struct wsclose_sock *ws, struct socket *sock)
{
	struct wsclose_handle_socks *h;
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

static void wsclose_signal(struct sock *sk, int band, bool all)
{
	struct socket_wq *skwq;
	struct wsclose_sock *ws;
	struct wsclose_handle_socks *h;
	unsigned int i;

	rcu_read_lock();
	read_lock_bh(&sk->sk_callback_lock);	/* wsclose_detach() frees ws */
	ws = wsclose_sk_cb(sk);
	h = ws ? rcu_dereference(ws->socks) : NULL;
	skwq = rcu_dereference(sk->sk_wq);
	/* pairs with wsclose_socks_add()'s release: entry, then count */
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
static void wsclose_stand_for(struct socket *backing, struct socket *sock)
{
	struct inode *inode = SOCK_INODE(backing);

	WRITE_ONCE(backing->file, sock ? sock->file : NULL);
	if (sock) {
		inode->i_ino = SOCK_INODE(sock)->i_ino;
		inode->i_uid = SOCK_INODE(sock)->i_uid;
	}
}

/* @sock is going: the next handle becomes the handle of record. */
void wsclose_forget_handle(struct wsclose_sock *ws, struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct socket *next = NULL;
	struct wsclose_handle_socks *h;
	unsigned int i;

	sock_owned_by_me(sk);
	wsclose_socks_remove(ws, sock);
	if (ws->backing->file != sock->file)
		return;
	h = rcu_dereference_protected(ws->socks, lockdep_sock_is_held(sk));
	for (i = 0; h && i < h->n && !next; i++)
		if (h->sock[i]->file)
			next = h->sock[i];
	write_lock_bh(&sk->sk_callback_lock);
	wsclose_stand_for(ws->backing, next);
	write_unlock_bh(&sk->sk_callback_lock);
}

/*
 * A new handle, with its file: on the list for SIGIO, and the handle of
 * record if there is none.
 */
static int wsclose_add_handle(struct wsclose_sock *ws, struct socket *sock)
{
	struct sock *sk = sock->sk;
	int err;

	lock_sock(sk);
	err = wsclose_socks_add(ws, sock);
	if (!err && !ws->backing->file) {
		write_lock_bh(&sk->sk_callback_lock);
		wsclose_stand_for(ws->backing, sock);
		write_unlock_bh(&sk->sk_callback_lock);
	}
	release_sock(sk);
	return err;
}

static void wsclose_signal_others(struct sock *sk, int band)
{
	wsclose_signal(sk, band, false);
}

/* Whether @bit is set in the sock's wait queue flags. */
static bool wsclose_wq_bit(struct sock *sk, int bit)
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
static void wsclose_data_ready(struct sock *sk)
{
	bool waiting = wsclose_wq_bit(sk, SOCKWQ_ASYNC_WAITDATA);

	wsclose_callbacks_of(sk)->data_ready(sk);
	if (!waiting)
		wsclose_signal_others(sk, POLL_IN);
}

static bool wsclose_writeable(struct sock *sk)
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
static void wsclose_write_space(struct sock *sk)
{
	bool nospace = wsclose_wq_bit(sk, SOCKWQ_ASYNC_NOSPACE);
	bool room, ours = false;
	struct socket_wq *wq;

	wsclose_callbacks_of(sk)->write_space(sk);
	if (!nospace)
		return;
	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	room = wq && !test_bit(SOCKWQ_ASYNC_NOSPACE, &wq->flags);
	if (wq && !room && wsclose_writeable(sk)) {
		ours = test_and_clear_bit(SOCKWQ_ASYNC_NOSPACE, &wq->flags);
		room = ours;
	}
	rcu_read_unlock();
	/* the bit cleared here is the one the core did not signal for */
	if (room)
		wsclose_signal(sk, POLL_OUT, ours);
}

/* TCP's own: connected (POLL_OUT); FIN received (POLL_IN, or POLL_HUP). */
static void wsclose_state_change(struct sock *sk)
{
	int state = READ_ONCE(sk->sk_state);
	int shut = READ_ONCE(sk->sk_shutdown);

	wsclose_callbacks_of(sk)->state_change(sk);
	if (sk->sk_type != SOCK_STREAM)
		return;
	if (state == TCP_ESTABLISHED && !shut)
		wsclose_signal_others(sk, POLL_OUT);
	else if (shut & RCV_SHUTDOWN)
		wsclose_signal_others(sk, shut == SHUTDOWN_MASK ||
				      state == TCP_CLOSE ? POLL_HUP : POLL_IN);
}

static void wsclose_error_report(struct sock *sk)
{
	wsclose_callbacks_of(sk)->error_report(sk);
	wsclose_signal_others(sk, POLL_ERR);
}

/*
 * Under sk_callback_lock: wrap the callbacks if they are the protocol's
 * own (nothing else of anyone's is ever wrapped), or put them back.
 */
static void wsclose_wrap_callbacks(struct sock *sk)
{
	const struct wsclose_callbacks *cb = wsclose_callbacks_of(sk);

	if (sk->sk_data_ready != cb->data_ready ||
	    sk->sk_write_space != cb->write_space ||
	    sk->sk_state_change != cb->state_change ||
	    sk->sk_error_report != cb->error_report)
		return;
	WRITE_ONCE(sk->sk_data_ready, wsclose_data_ready);
	WRITE_ONCE(sk->sk_write_space, wsclose_write_space);
	WRITE_ONCE(sk->sk_state_change, wsclose_state_change);
	WRITE_ONCE(sk->sk_error_report, wsclose_error_report);
}

/*
 * One by one: a listener's clone copies the four without a lock, so a
 * child may have some of them wrapped and not the others.
 */
void wsclose_unwrap_callbacks(struct sock *sk)
{
	const struct wsclose_callbacks *cb = wsclose_callbacks_of(sk);

	if (sk->sk_data_ready == wsclose_data_ready)
		WRITE_ONCE(sk->sk_data_ready, cb->data_ready);
	if (sk->sk_write_space == wsclose_write_space)
		WRITE_ONCE(sk->sk_write_space, cb->write_space);
	if (sk->sk_state_change == wsclose_state_change)
		WRITE_ONCE(sk->sk_state_change, cb->state_change);
	if (sk->sk_error_report == wsclose_error_report)
		WRITE_ONCE(sk->sk_error_report, cb->error_report);
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
static int wsclose_graft_backing(struct socket *sock, struct wsclose_sock *ws)
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
	    READ_ONCE(sock->ops) != &ws->table->ops)
		goto out;
	err = wsclose_socks_add(ws, sock);
	if (err)
		goto out;
	__module_get(ws->table->orig->owner);
	backing->ops = ws->table->orig;
	backing->sk = sk;
	backing->state = sock->state;
	ihold(SOCK_INODE(sock));
	write_lock_bh(&sk->sk_callback_lock);
	backing->flags = READ_ONCE(sock->flags);
	wsclose_stand_for(backing, sock);
	WRITE_ONCE(sk->sk_socket, backing);
	wsclose_wrap_callbacks(sk);
	write_unlock_bh(&sk->sk_callback_lock);
	/*
	 * A tcp_poll() that found no room after the flags were copied set
	 * SOCK_NOSPACE on @sock, where TCP no longer looks: a spurious
	 * write-space call costs nothing, a missed one leaves a writer
	 * waiting.
	 */
	if (wsclose_is_tcp(sk))
		set_bit(SOCK_NOSPACE, &backing->flags);
	spin_lock(&ws->lock);
	WRITE_ONCE(ws->backing, backing);
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

/**
 * wsclose_duplicate() - a new handle of a wsclose socket
 * @sock: an open handle
 * @res: the new handle, a socket of its own sharing the sock
 *
 * The new handle is made through the socket layer (sock_create_lite():
 * the LSM hooks label it).  Releasing it undoes everything.  The first
 * duplication grafts the sock onto a backing socket.
 *
 * Context: process context; takes the socket lock.
 * Return: 0, or -ENOTSOCK (the socket or @sock is closed, or no longer
 * ours), or what sock_create_lite() returns.
 */
int wsclose_duplicate(struct socket *sock, struct socket **res)
{
	struct sock *sk = sock->sk;
	struct wsclose_sock *ws = wsclose_sk(sk);
	struct socket *dsock;
	int err;

	if (wsclose_call_error(sock))
		return -ENOTSOCK;
	if (!READ_ONCE(ws->backing)) {
		err = wsclose_graft_backing(sock, ws);
		if (err)
			return err;
	}
	err = sock_create_lite(sk->sk_family, sock->type, sk->sk_protocol,
			       &dsock);
	if (err)
		return err;

	err = -ENOTSOCK;
	spin_lock(&ws->lock);
	if (ws->state == WSCLOSE_OPEN && !wsclose_handle_closed(sock)) {
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
	WRITE_ONCE(dsock->ops, &ws->table->ops);
	*res = dsock;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(wsclose_duplicate);

int wsclose_ioctl_duplicate(struct socket *sock,
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
	/*
	 * Bad arguments and no free number (EMFILE) change nothing.  A later
	 * failure (no memory, no file) keeps the graft of a first
	 * duplication: nothing a caller can see, the sock merely stays on
	 * its backing socket until its last handle goes.
	 */
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
	err = wsclose_add_handle(wsclose_sk(sock->sk), dsock);
	if (err) {
		put_unused_fd(fd);
		fput(dfile);
		return err;
	}
	fd_install(fd, dfile);
	return fd;
}
