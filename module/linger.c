// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose: lingering.  A close with SO_LINGER {1, n > 0} and data pending
 * waits until the data is acknowledged or the deadline passes, then
 * resets; when nobody can wait (a non-blocking or interrupted close, an
 * exiting task), a reaper keeps the deadline in the background.
 */

#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/resume_user_mode.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "wsclose.h"

/*
 * Received data the application has not read: closing it resets.  This is
 * __tcp_close()'s own test; tcp_inq() would stop at an urgent mark.
 */
bool wsclose_unread(struct sock *sk)
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
static int wsclose_interrupted(bool can_restart)
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
bool wsclose_restart(int ret)
{
	return ret == -ERESTARTNOHAND || ret == -ERESTARTNOINTR;
}

/*
 * Sleep until our FIN (queued behind the data) is acknowledged, the
 * connection dies, @deadline passes or a signal arrives.  Woken by the
 * state change the acknowledgment causes, not by a polling tick.
 */
static int wsclose_linger_wait(struct sock *sk, unsigned long deadline,
			       bool can_restart)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	long timeo;
	int ret = 0;

	add_wait_queue(sk_sleep(sk), &wait);
	while (wsclose_tcp_closing(sk)) {
		timeo = (long)(deadline - jiffies);
		if (timeo <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		ret = wsclose_interrupted(can_restart);
		if (ret)
			break;
		wait_woken(&wait, TASK_INTERRUPTIBLE, timeo);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	return ret;
}

/**
 * wsclose_finish_linger() - the linger wait of a committed close
 * @ws: the socket's state; the caller set @ws->waiting
 * @sk: its sock
 * @implicit: the release's close, which cannot restart
 *
 * Drained, or reset at the deadline (by us, or by the reaper when an
 * earlier wait was interrupted).  A signal leaves the wait owed
 * (wsclose_restart()), with the deadline kept by the reaper; if there is
 * none (it could not be had), the connection is reset now rather than left
 * unwatched.  A fatal signal resets.
 *
 * Return: WSCLOSE_OUTCOME_DRAINED, _ABORTIVE or _TIMED_OUT_RESET, or
 * -ERESTARTNOHAND / -ERESTARTNOINTR.
 */
int wsclose_finish_linger(struct wsclose_sock *ws, struct sock *sk,
			  bool implicit)
{
	int ret = wsclose_linger_wait(sk, ws->deadline, !implicit);

	if (wsclose_restart(ret)) {
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
struct wsclose_reaper {
	struct delayed_work work;
	struct sock *sk;
	unsigned long deadline;
	struct list_head node;	/* on wsclose_reapers; empty once claimed */
};

static unsigned int max_reapers = 1024;
module_param(max_reapers, uint, 0644);
MODULE_PARM_DESC(max_reapers,
		 "background resets one network namespace may have pending");

/*
 * wsclose_reapers_lock protects wsclose_reapers and every reaper's node:
 * whoever takes a reaper off the list (its work when done, or module exit)
 * owns it.  A leaf lock, taken from process context only.
 */
static DEFINE_SPINLOCK(wsclose_reapers_lock);
static LIST_HEAD(wsclose_reapers);
static struct workqueue_struct *wsclose_reaper_wq;

static void wsclose_reaper_free(struct wsclose_reaper *r, bool reset)
{
	if (reset && wsclose_tcp_closing(r->sk))
		tcp_abort(r->sk, ETIMEDOUT);
	wsclose_count(r->sk, WSCLOSE_CNT_REAPERS, -1);
	sock_put(r->sk);
	kfree(r);
}

static void wsclose_reaper_work(struct work_struct *work)
{
	struct wsclose_reaper *r = container_of(to_delayed_work(work),
					   struct wsclose_reaper, work);
	long left = (long)(r->deadline - jiffies);
	bool done = !wsclose_tcp_closing(r->sk);

	spin_lock(&wsclose_reapers_lock);
	if (list_empty(&r->node)) {
		/* module exit claimed it */
		spin_unlock(&wsclose_reapers_lock);
		return;
	}
	if (!done && left > 0) {
		queue_delayed_work(wsclose_reaper_wq, &r->work,
				   min_t(long, left, HZ));
		spin_unlock(&wsclose_reapers_lock);
		return;
	}
	list_del_init(&r->node);
	spin_unlock(&wsclose_reapers_lock);
	wsclose_reaper_free(r, !done);
}

/**
 * wsclose_arm_reaper() - keep a linger deadline in the background
 * @sk: a TCP sock whose FIN may still be unacknowledged at @deadline
 * @deadline: in jiffies
 *
 * Context: process context.
 * Return: true if a reaper watches @sk until @deadline; false if that
 * cannot be promised (the namespace's bound, or no memory).
 */
bool wsclose_arm_reaper(struct sock *sk, unsigned long deadline)
{
	atomic_long_t *n = wsclose_counter_ptr(sk, WSCLOSE_CNT_REAPERS);
	long delay = (long)(deadline - jiffies);
	struct wsclose_reaper *r;

	if (atomic_long_inc_return(n) > READ_ONCE(max_reapers)) {
		atomic_long_dec(n);
		wsclose_count(sk, WSCLOSE_CNT_REAPER_LIMIT, 1);
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
	INIT_DELAYED_WORK(&r->work, wsclose_reaper_work);
	spin_lock(&wsclose_reapers_lock);
	list_add(&r->node, &wsclose_reapers);
	queue_delayed_work(wsclose_reaper_wq, &r->work,
			   clamp_t(long, delay, 0, HZ));
	spin_unlock(&wsclose_reapers_lock);
	return true;
}

int __init wsclose_reapers_init(void)
{
	wsclose_reaper_wq = alloc_workqueue("wsclose", 0, 0);
	return wsclose_reaper_wq ? 0 : -ENOMEM;
}

/* Module exit: reset what is still lingering, now rather than never. */
void wsclose_reapers_exit(void)
{
	struct wsclose_reaper *r;

	for (;;) {
		spin_lock(&wsclose_reapers_lock);
		r = list_first_entry_or_null(&wsclose_reapers,
					     struct wsclose_reaper, node);
		if (r)
			list_del_init(&r->node);
		spin_unlock(&wsclose_reapers_lock);
		if (!r)
			break;
		cancel_delayed_work_sync(&r->work);
		wsclose_reaper_free(r, true);
	}
	destroy_workqueue(wsclose_reaper_wq);
}
