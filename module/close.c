// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose: the close (WSPCloseSocket).
 *
 *  - SO_DONTLINGER (linger off): return at once, FIN after the queued data;
 *  - SO_LINGER {1, 0}: RST at once;
 *  - SO_LINGER {1, n}: a blocking close waits until every queued byte is
 *    acknowledged (then FIN) or n seconds pass (then RST before returning);
 *    a non-blocking close with data pending fails with EWOULDBLOCK and
 *    changes nothing.
 *
 * Once a close commits, the socket is closed to I/O: calls that were
 * pending on it end with ECANCELED, later calls through other handles get
 * ENOTSOCK.  The close is explicit (WSCLOSE_SIOC_CLOSE) or, when the last
 * handle goes without one, implicit (the release).
 */

#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <net/inet_connection_sock.h>
#include <net/inet_hashtables.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "wsclose.h"

#define CREATE_TRACE_POINTS
#include "wsclose_trace.h"

/*
 * Close the socket to I/O so that every waiter gives up: blocked readers
 * see the receive side shut and return, blocked writers and connects see
 * the send side shut or the disconnect count change; the wrappers turn what
 * they return into ECANCELED.  Under the socket lock, so that a thread
 * between the wrapper's check and its sleep sees the change.  A UDP socket
 * also leaves the hash tables, freeing its port at once, as Winsock does,
 * although aliases or requests may still hold the file.
 */
static void wsclose_mark_aborted(struct sock *sk)
{
	sock_owned_by_me(sk);
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown |
		   (wsclose_is_tcp(sk) ? RCV_SHUTDOWN : SHUTDOWN_MASK));
	sk->sk_disconnects++;
	/* for those who read the error directly: io_uring's connect */
	if (sk->sk_state == TCP_CLOSE || !wsclose_is_tcp(sk))
		WRITE_ONCE(sk->sk_err, ECANCELED);
	if (!wsclose_is_tcp(sk))
		sk->sk_prot->unhash(sk);
}

/*
 * A TCP socket left with no connection (a listener stopped, a socket that
 * never connected or was reset) gives its port back now, even when it was
 * bound explicitly, rather than when the last file reference goes.
 */
static void wsclose_release_port(struct sock *sk)
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
void wsclose_wake_aborted(struct sock *sk)
{
	struct socket_wq *wq;

	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		__wake_up(&wq->wait, TASK_NORMAL, 0,
			  poll_to_key(EPOLLERR | POLLFREE));
	rcu_read_unlock();
}

void wsclose_abort_waiters(struct sock *sk)
{
	lock_sock(sk);
	wsclose_mark_aborted(sk);
	release_sock(sk);
	wsclose_wake_aborted(sk);
}

/* Close the handle @sock: its operations become the closed table. */
static void wsclose_mark_handle_closed(struct socket *sock)
{
	const struct wsclose_table *p = wsclose_table_of(sock);

	lockdep_assert_held(&wsclose_sk(sock->sk)->lock);
	/* never over operations that are not ours any more */
	if (cmpxchg(&sock->ops, &p->ops, &p->closed_ops) != &p->ops)
		DEBUG_NET_WARN_ON_ONCE(1);
}

/**
 * wsclose_close_decide() - steps 1-4 of the close
 * @in: the state sampled under wsclose_sock.lock
 *
 * Whether the close may proceed and how (the spec's "The close
 * operation"), as a pure function of its inputs.
 *
 * Return: a &enum wsclose_step, or -ENOTSOCK, -EINPROGRESS or
 * -EWOULDBLOCK, with nothing to change.
 */
VISIBLE_IF_KUNIT int wsclose_close_decide(const struct wsclose_close_in *in)
{
	if (in->state == WSCLOSE_CLOSED || in->handle_closed)
		return -ENOTSOCK;
	if (in->waiting)
		return -EINPROGRESS;
	if (!in->last_handle)
		return WSCLOSE_STEP_RELEASE_ONLY;
	if (in->state == WSCLOSE_CLOSING)
		return in->nonblock && in->fin_unacked && !in->expired ?
		       -EWOULDBLOCK : WSCLOSE_STEP_RESUME;
	if (in->nonblock && in->lingers && in->pending)
		return -EWOULDBLOCK;
	return WSCLOSE_STEP_COMMIT;
}
EXPORT_SYMBOL_IF_KUNIT(wsclose_close_decide);

/* Step 5: what a committing close of a TCP socket does. */
VISIBLE_IF_KUNIT int wsclose_commit_decide(const struct wsclose_commit_in *in)
{
	if (in->listening)
		return WSCLOSE_ACT_STOP_LISTENING;
	if (in->unread || (in->linger && !in->lingertime))
		return WSCLOSE_ACT_RESET;
	if (in->linger && in->pending && !in->nonblock)
		return WSCLOSE_ACT_FIN_AND_WAIT;
	return WSCLOSE_ACT_FIN;
}
EXPORT_SYMBOL_IF_KUNIT(wsclose_commit_decide);

/*
 * Commit the close of a TCP socket: start the FIN or send the RST, and
 * abort every pending operation.  Returns the outcome, or
 * WSCLOSE_OUTCOME_DRAINED when the caller owes a linger wait; then a
 * reaper keeps the deadline if the wait is cut short (@ws->reaper).
 */
static int wsclose_commit_tcp(struct socket *sock, struct wsclose_sock *ws,
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
	in.unread = wsclose_unread(sk);
	in.pending = wsclose_pending(sk);
	in.linger = sock_flag(sk, SOCK_LINGER);
	in.lingertime = sk->sk_lingertime;
	act = wsclose_commit_decide(&in);
	/*
	 * Lingering with data pending, yet not waiting: a send queued data
	 * after step 4 looked (or the close cannot wait).  The deadline still
	 * holds: a reaper keeps it, or the connection is reset now.
	 */
	if (act == WSCLOSE_ACT_FIN && in.linger && in.lingertime &&
	    in.pending && !wsclose_arm_reaper(sk, ws->deadline))
		act = WSCLOSE_ACT_RESET;
	if (act == WSCLOSE_ACT_FIN && !connected) {
		/* Nothing to send (never connected, or already reset). */
		wsclose_mark_aborted(sk);
		if (inet_csk(sk)->icsk_bind_hash)
			inet_put_port(sk);
		release_sock(sk);
		wsclose_wake_aborted(sk);
		return outcome;
	}
	release_sock(sk);

	/*
	 * Abort first: the protocol's own wake-ups below (the state change
	 * of shutdown() and tcp_abort()) carry no key, and an io_uring
	 * request they woke first would be issued again rather than
	 * cancelled.
	 */
	wsclose_abort_waiters(sk);
	switch (act) {
	case WSCLOSE_ACT_STOP_LISTENING:
		/* Stops listening and resets every connection not accepted. */
		tcp_abort(sk, ECONNABORTED);
		break;
	case WSCLOSE_ACT_RESET:
		tcp_abort(sk, ECONNRESET);
		outcome = WSCLOSE_OUTCOME_ABORTIVE;
		break;
	case WSCLOSE_ACT_FIN_AND_WAIT:
		outcome = WSCLOSE_OUTCOME_DRAINED;
		ws->reaper = wsclose_arm_reaper(sk, ws->deadline);
		fallthrough;
	case WSCLOSE_ACT_FIN:
		/* FIN behind the queued data */
		if (connected)
			wsclose_inet_ops(sock)->shutdown(sock, SHUT_WR);
		break;
	}
	wsclose_release_port(sk);
	return outcome;
}

/*
 * The close of the handle @sock (@implicit: the close the socket's last
 * handle owes when it went without an explicit close).  Returns the
 * outcome, or a negative errno with nothing changed (ENOTSOCK,
 * EINPROGRESS, EWOULDBLOCK), or -ERESTARTNOHAND / -ERESTARTNOINTR with the
 * socket committed and a linger wait still owed.
 */
static int wsclose_close_steps(struct socket *sock, bool nonblock,
			       bool implicit)
{
	struct sock *sk = sock->sk;
	struct wsclose_sock *ws = wsclose_sk(sk);
	struct wsclose_close_in in = { .nonblock = nonblock };
	int step, ret;

	spin_lock(&ws->lock);
	in.state = ws->state;
	in.handle_closed = !implicit && wsclose_handle_closed(sock);
	in.last_handle = implicit || ws->handles == 1;
	in.waiting = ws->waiting;
	in.lingers = wsclose_lingers(sk);
	in.pending = wsclose_pending(sk);
	in.fin_unacked = wsclose_tcp_closing(sk);
	in.expired = ws->state == WSCLOSE_CLOSING &&
		     time_after_eq(jiffies, ws->deadline);
	step = wsclose_close_decide(&in);
	if (step == WSCLOSE_STEP_RELEASE_ONLY) {
		ws->handles--;
		wsclose_mark_handle_closed(sock);
		spin_unlock(&ws->lock);
		return WSCLOSE_OUTCOME_NOT_LAST_HANDLE;
	}
	if (step < 0) {
		spin_unlock(&ws->lock);
		return step;
	}
	if (step == WSCLOSE_STEP_COMMIT) {
		WRITE_ONCE(ws->state, WSCLOSE_CLOSING);
		ws->deadline = jiffies + wsclose_lingertime(sk);
	}
	ws->waiting = true;
	spin_unlock(&ws->lock);

	if (step == WSCLOSE_STEP_RESUME) {
		ret = WSCLOSE_OUTCOME_DRAINED;
	} else if (wsclose_is_tcp(sk)) {
		ret = wsclose_commit_tcp(sock, ws, nonblock);
	} else {
		wsclose_abort_waiters(sk);
		ret = WSCLOSE_OUTCOME_GRACEFUL;
	}
	if (ret == WSCLOSE_OUTCOME_DRAINED)
		ret = wsclose_finish_linger(ws, sk, implicit);

	spin_lock(&ws->lock);
	ws->waiting = false;
	if (!wsclose_restart(ret) || implicit || fatal_signal_pending(current))
		WRITE_ONCE(ws->state, WSCLOSE_CLOSED);
	if (ret >= 0 && !implicit) {
		ws->handles--;
		wsclose_mark_handle_closed(sock);
	}
	spin_unlock(&ws->lock);
	return ret;
}

/* Traced and counted here. */
static int wsclose_close_counted(struct socket *sock, bool nonblock,
				 bool implicit)
{
	struct sock *sk = sock->sk;
	int ret = wsclose_close_steps(sock, nonblock, implicit);

	trace_wsclose_close(sk, nonblock, implicit, ret);
	if (ret >= 0)
		wsclose_count_outcome(sk, ret);
	else if (ret == -EWOULDBLOCK && !implicit)
		wsclose_count(sk, WSCLOSE_CNT_WOULD_BLOCK, 1);
	return ret;
}

/**
 * wsclose_close() - the Winsock close of a handle
 * @sock: a handle of a wsclose socket
 * @nonblock: the caller's blocking mode
 *
 * Context: process context; may sleep in a linger wait.
 * Return: a WSCLOSE_OUTCOME_*; or, with nothing changed, -ENOTSOCK,
 * -EINPROGRESS or -EWOULDBLOCK; or -ERESTARTNOHAND / -ERESTARTNOINTR with
 * the socket committed and a linger wait still owed (unless the signal was
 * fatal: then it was reset): the system call returns EINTR if a handler
 * ran, else restarts.
 */
int wsclose_close(struct socket *sock, bool nonblock)
{
	return wsclose_close_counted(sock, nonblock, false);
}
EXPORT_SYMBOL_IF_KUNIT(wsclose_close);

/*
 * The last handle of the socket went without an explicit close (close(2)
 * or exit): the same table, but it never fails and never blocks a
 * non-blocking descriptor or an exiting task.  A lingering close that
 * cannot wait, or whose wait a signal cut short, goes on in the
 * background and is reset by a reaper at the deadline.
 */
static void wsclose_close_implicit(struct socket *sock, bool nonblock)
{
	struct sock *sk = sock->sk;
	struct wsclose_sock *ws = wsclose_sk(sk);

	if (wsclose_close_counted(sock, nonblock, true) != -EWOULDBLOCK)
		return;
	spin_lock(&ws->lock);
	WRITE_ONCE(ws->state, WSCLOSE_CLOSED);
	spin_unlock(&ws->lock);
	wsclose_abort_waiters(sk);
	wsclose_inet_ops(sock)->shutdown(sock, SHUT_WR);
	if (!wsclose_arm_reaper(sk, jiffies + wsclose_lingertime(sk)))
		tcp_abort(sk, ETIMEDOUT);	/* rather than linger on */
	wsclose_count_outcome(sk, WSCLOSE_OUTCOME_GRACEFUL);
}

/* Whether an implicit close through @file may wait. */
static bool wsclose_implicit_nonblock(const struct file *file)
{
	return !file || (file->f_flags & O_NONBLOCK) ||
	       (current->flags & (PF_EXITING | PF_KTHREAD));
}

/**
 * wsclose_release() - proto_ops.release of every handle
 * @sock: the handle whose file's last reference is gone
 *
 * The handle closes if it
 * was open (handles are symmetric: the first one and duplicates alike);
 * if it was the socket's last handle, that is the socket's implicit close.
 * The struct socket that goes last takes the sock to the protocol's
 * release: its own, or, once the socket was duplicated, the backing
 * socket's (wsclose_graft_backing()), whose operations are the ones a raced
 * IPV6_ADDRFORM may have changed.  The first handle's inode, whose wait
 * queue is the sock's, is kept until then.
 *
 * Context: process context.
 * Return: 0, or what the protocol's release returns.
 */
int wsclose_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct wsclose_sock *ws = sk ? wsclose_sk(sk) : NULL;
	const struct proto_ops *orig;
	struct socket *backing;
	struct inode *inode;
	bool last, final;
	int ret;

	/* an accepted socket whose accept failed has no sock */
	if (!ws)
		return wsclose_table_of_ops(sock->ops)->orig->release(sock);
	orig = ws->table->orig;

	spin_lock(&ws->lock);
	last = false;
	if (!wsclose_handle_closed(sock)) {
		ws->handles--;
		last = !ws->handles && ws->state == WSCLOSE_OPEN;
	}
	spin_unlock(&ws->lock);
	if (last)
		wsclose_close_implicit(sock,
				       wsclose_implicit_nonblock(sock->file));

	if (READ_ONCE(ws->backing)) {
		lock_sock(sk);
		wsclose_forget_handle(ws, sock);
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
	if (wsclose_is_tcp(sk)) {
		lock_sock(sk);
		sock_reset_flag(sk, SOCK_LINGER);
		/*
		 * Before the ULP goes, which narrows (the listener stopped at
		 * the commit: no clone is expected) a clone without the ULP
		 * keeping the wrappers.
		 */
		if (backing) {
			write_lock_bh(&sk->sk_callback_lock);
			wsclose_unwrap_callbacks(sk);
			write_unlock_bh(&sk->sk_callback_lock);
		}
		wsclose_ulp_clear(sk);
		release_sock(sk);
	}
	wsclose_detach(sk, ws);
	if (backing) {
		/* not the backing's own */
		WRITE_ONCE(backing->file, NULL);
		sock_release(backing);
		ret = 0;
	} else {
		ret = orig->release(sock);
	}
	if (inode)
		iput(inode);
	return ret;
}

/*
 * Release the descriptor @fd if it still refers to @file, and nothing
 * otherwise: while a lingering close waited, another thread may have
 * closed the number and opened something else there.  close_fd() would
 * close whatever is there now, and there is no exported "close @fd if it
 * is @file", so the slot is emptied under the table's lock the way
 * pick_file() does it, and the number given back with put_unused_fd(), as
 * for a number reserved but never installed.
 */
static void wsclose_close_fd(unsigned int fd, struct file *file)
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

VISIBLE_IF_KUNIT int
wsclose_check_close_args(const struct wsclose_close_args *a)
{
	if (a->pad || (a->flags & ~WSCLOSE_CLOSE_FLAGS) ||
	    (a->flags & WSCLOSE_CLOSE_FLAGS) == WSCLOSE_CLOSE_FLAGS)
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(wsclose_check_close_args);

int wsclose_ioctl_close(struct socket *sock,
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
	if (ret >= 0 || (wsclose_restart(ret) && fatal_signal_pending(current)))
		wsclose_close_fd(args.fd, file);
	if (ret >= 0)
		ret = put_user(ret, &uargs->outcome) ? -EFAULT : 0;
	fput(named);
	return ret;
}

int wsclose_ioctl_query(struct socket *sock,
			struct wsclose_query_args __user *uargs)
{
	struct sock *sk = sock->sk;
	struct wsclose_sock *ws = wsclose_sk(sk);
	struct wsclose_query_args args = {
		.family = sk->sk_family,
		.type = sk->sk_type,
	};

	spin_lock(&ws->lock);
	args.state = wsclose_handle_closed(sock) ? WSCLOSE_CLOSED : ws->state;
	args.handles = ws->handles;
	spin_unlock(&ws->lock);
	return copy_to_user(uargs, &args, sizeof(args)) ? -EFAULT : 0;
}
