/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wsclose internals shared by the driver and its KUnit suite.  With
 * CONFIG_KUNIT the functions below are exported for the suite; otherwise
 * they are static to the driver.
 */
#ifndef _WSCLOSE_INTERNAL_H
#define _WSCLOSE_INTERNAL_H

#include <linux/kconfig.h>
#include <linux/net.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wsclose.h>

struct ws_socks;
struct wsclose_proto;

/* <kunit/visibility.h> arrived in 6.2; these are its two macros. */
#undef VISIBLE_IF_KUNIT
#undef EXPORT_SYMBOL_IF_KUNIT
#if IS_ENABLED(CONFIG_KUNIT)
#define VISIBLE_IF_KUNIT
#define EXPORT_SYMBOL_IF_KUNIT(symbol) EXPORT_SYMBOL_GPL(symbol)
#else
#define VISIBLE_IF_KUNIT static
#define EXPORT_SYMBOL_IF_KUNIT(symbol)
#endif

enum wsclose_state {
	WS_OPEN = WSCLOSE_STATE_OPEN,		/* usable */
	WS_CLOSING = WSCLOSE_STATE_CLOSING,	/* committed, linger wait owed */
	WS_CLOSED = WSCLOSE_STATE_CLOSED,	/* committed and finished */
};

/* The longest linger Winsock can ask for: l_linger is a u_short. */
#define WSCLOSE_MAX_LINGER	65535

/*
 * Per-socket state, hung off sk->sk_user_data (with SK_USER_DATA_NOCOPY so
 * that accepted children do not inherit it) while the socket carries our
 * operations.  It lives from adoption (or accept) to the release of the
 * socket's last handle, so any caller holding a handle's file, or running
 * one of its operations, may use it without further locking.
 */
struct wsclose_sock {
	/*
	 * @lock protects everything below.  It is a leaf lock: never held
	 * across lock_sock(), a sleep or a protocol call.  @state is also
	 * read locklessly (READ_ONCE) on the I/O paths, where a stale value
	 * only means the call runs into the close and is aborted.
	 */
	spinlock_t lock;
	enum wsclose_state state;
	bool waiting;			/* a closer sleeps in the linger wait */
	bool reaper;			/* a reaper keeps the deadline */
	unsigned long deadline;		/* jiffies; set when the close commits */
	unsigned int handles;		/* handles not yet closed */
	unsigned int files;		/* handles' struct sockets not released */
	struct ws_socks __rcu *socks;	/* every handle's, once duplicated */
	struct socket *backing;		/* the sock's socket once duplicated */
	struct inode *first_inode;	/* held then: its wait queue is the sock's */
	struct sock *sk;		/* owner, for the ownership check */
	const struct wsclose_proto *proto;	/* its family and type's table */
};

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
	WS_STEP_COMMIT,		/* the close commits now */
	WS_STEP_RESUME,		/* resume an interrupted linger wait */
	WS_STEP_RELEASE_ONLY,	/* not the last handle */
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
	WS_ACT_FIN,		/* graceful: FIN after the queued data */
	WS_ACT_FIN_AND_WAIT,	/* graceful, then wait for the ACK */
	WS_ACT_RESET,		/* abortive: RST now */
	WS_ACT_STOP_LISTENING,	/* reset the queued connections */
};

#if IS_ENABLED(CONFIG_KUNIT)
int wsclose_close_decide(const struct wsclose_close_in *in);
int wsclose_commit_decide(const struct wsclose_commit_in *in);
int wsclose_check_close_args(const struct wsclose_close_args *a);
int wsclose_adopt(struct socket *sock);
int wsclose_close(struct socket *sock, bool nonblock);
int wsclose_duplicate(struct socket *sock, struct socket **res);
#endif

#endif /* _WSCLOSE_INTERNAL_H */
