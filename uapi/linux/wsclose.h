/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * wsclose: Winsock close semantics (WSPCloseSocket) for Linux sockets.
 *
 * A socket becomes a wsclose socket by adoption: the caller makes it with
 * socket(2) or accept(2), so that every check that applies to sockets
 * (seccomp, audit, LSM, namespaces, accounting) has applied, and hands it
 * to the device /dev/wsclose with WSCLOSE_IOC_ADOPT (a TCP socket can
 * also adopt itself with setsockopt(SOL_TCP, TCP_ULP, "wsclose")).  The
 * device creates nothing.  From then on the socket's close and teardown
 * follow the Winsock rules, and the per-socket commands (close, query,
 * duplicate) are ioctls on the socket descriptor itself.  They use this
 * driver's own ioctl numbers, which the socket layer passes to the
 * socket's operations and no other protocol or driver interprets (unlike
 * the SIOCPROTOPRIVATE range, where AX.25 and X.25 sockets set things and
 * raw sockets answer multicast-routing queries): on any descriptor that is
 * not a wsclose socket they change nothing and fail, with ENOTTY from a
 * socket of another kind or most other files (EOPNOTSUPP from some socket
 * families; the library reports ENOTSOCK).
 *
 * Every argument structure has fixed-width, naturally aligned fields, the
 * same for 32-bit and 64-bit callers; padding and unused flag bits must be
 * zero (EINVAL otherwise).  Unreadable or unwritable argument pointers fail
 * with EFAULT; unknown device commands with ENOTTY.
 *
 * Ioctl range: 'W' 0x80-0x8F (0x84 on the device, 0x85-0x87 on sockets).
 */
#ifndef __LINUX_WSCLOSE_H
#define __LINUX_WSCLOSE_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * struct wsclose_adopt_args - WSCLOSE_IOC_ADOPT (on /dev/wsclose)
 * @fd:    a socket descriptor of the caller: AF_INET or AF_INET6, TCP
 *         (SOCK_STREAM, IPPROTO_TCP) or UDP (SOCK_DGRAM, IPPROTO_UDP), in
 *         any state (fresh, bound, listening, connected, with data queued),
 *         blocking or not, possibly in use by other threads.
 * @flags: must be 0.
 *
 * Makes the socket a wsclose socket in place: its descriptor, its aliases
 * (dup(2), fork(2), SCM_RIGHTS) and connections later accepted on it are
 * wsclose sockets, each holding one handle.  Nothing else about the socket
 * changes.  Returns 0.
 *
 * Errors, checked in this order, each with nothing changed: EFAULT, EINVAL
 * (@flags), EBADF (@fd not open), ENOTSOCK (not a socket), EAFNOSUPPORT
 * (family other than AF_INET/AF_INET6), ESOCKTNOSUPPORT (type other than
 * SOCK_STREAM/SOCK_DGRAM), EPROTONOSUPPORT (protocol other than TCP/UDP,
 * e.g. MPTCP, SCTP, UDP-Lite, ICMP), EALREADY (already a wsclose socket),
 * EBUSY (its operations or its user data belong to someone else: TCP_ULP
 * such as kTLS, a sockmap, any sk_user_data), ENETDOWN (the module is being
 * unloaded), ENOMEM.
 */
struct wsclose_adopt_args {
	__u32 fd;
	__u32 flags;
};

/* struct wsclose_close_args.flags: the Winsock blocking mode of the socket */
#define WSCLOSE_AS_BLOCKING		(1U << 0)	/* ignore O_NONBLOCK */
#define WSCLOSE_AS_NONBLOCKING		(1U << 1)	/* as if O_NONBLOCK */
#define WSCLOSE_CLOSE_FLAGS		(WSCLOSE_AS_BLOCKING | \
					 WSCLOSE_AS_NONBLOCKING)

/* struct wsclose_close_args.outcome */
enum wsclose_outcome {
	WSCLOSE_OUTCOME_NONE = 0,		/* not written: the call failed */
	WSCLOSE_OUTCOME_NOT_LAST_HANDLE = 1,	/* descriptor released only */
	WSCLOSE_OUTCOME_GRACEFUL = 2,		/* FIN (after queued data) */
	WSCLOSE_OUTCOME_ABORTIVE = 3,		/* RST at once */
	WSCLOSE_OUTCOME_DRAINED = 4,		/* waited: all data ACKed, FIN */
	WSCLOSE_OUTCOME_TIMED_OUT_RESET = 5,	/* waited l_linger s, then RST */
};

/**
 * struct wsclose_close_args - WSCLOSE_SIOC_CLOSE (on the socket)
 * @fd:      the descriptor the call is made on (or an alias of it: a
 *           descriptor of the same open file).
 * @flags:   0 (use the descriptor's O_NONBLOCK), or exactly one of
 *           WSCLOSE_AS_BLOCKING / WSCLOSE_AS_NONBLOCKING.
 * @outcome: out: enum wsclose_outcome.  WSCLOSE_OUTCOME_NONE is written
 *           first, so that an unwritable field fails with EFAULT before
 *           anything changes; the outcome is written on success.
 * @pad:     must be zero.
 *
 * The Winsock close of the handle the descriptor belongs to.  Returns 0 and
 * releases the descriptor @fd, exactly that file: if the
 * number was closed or reused meanwhile, the file now at that number is
 * left alone.  When other handles of the socket remain, releasing the
 * descriptor is all it does (WSCLOSE_OUTCOME_NOT_LAST_HANDLE).
 *
 * Errors, checked in this order: EFAULT, EINVAL (@flags, @pad), ENOTSOCK
 * (@fd is not a descriptor of the file the call is made on, not a
 * wsclose socket, or already closed through another alias of the handle or
 * another handle), EINPROGRESS (another close of the socket is waiting),
 * EWOULDBLOCK (lingering, non-blocking, data pending: nothing changed),
 * EINTR (a signal interrupted the linger wait: the descriptor stays open,
 * the socket stays closed to I/O, the deadline keeps running; a new call
 * resumes the wait, and after the deadline completes with the timed-out
 * reset).  Only a real signal interrupts the wait, not io_uring task work.
 */
struct wsclose_close_args {
	__u32 fd;
	__u32 flags;
	__u32 outcome;
	__u32 pad;
};

/* struct wsclose_query_args.state */
#define WSCLOSE_STATE_OPEN		0	/* usable */
#define WSCLOSE_STATE_CLOSING		1	/* a lingering close is owed */
#define WSCLOSE_STATE_CLOSED		2	/* closed through another alias */

/**
 * struct wsclose_query_args - WSCLOSE_SIOC_QUERY (on the socket)
 * @state:   out: WSCLOSE_STATE_*.
 * @family:  out: AF_INET or AF_INET6.
 * @type:    out: SOCK_STREAM or SOCK_DGRAM.
 * @handles: out: handles of the socket not yet closed.
 *
 * Tells whether the descriptor is a wsclose socket and in which state.
 * Unlike every other operation on a closed socket it succeeds there, so
 * that the state can be read.  Errors: EFAULT.
 */
struct wsclose_query_args {
	__u32 state;
	__u32 family;
	__u32 type;
	__u32 handles;
};

/* struct wsclose_dup_args.flags */
#define WSCLOSE_DUP_CLOEXEC		(1U << 0)	/* O_CLOEXEC on the new fd */

/**
 * struct wsclose_dup_args - WSCLOSE_SIOC_DUPLICATE (on the socket)
 * @flags: WSCLOSE_DUP_* bits.
 * @pad:   must be zero.
 *
 * Makes a new, counted handle (WSADuplicateSocket) of the socket and
 * returns its descriptor: a socket descriptor of its own, created through
 * the socket layer's own path (LSM hooks), which may be passed to another
 * process.  The socket is torn down only when its last handle is closed;
 * dup(2), fork(2) and SCM_RIGHTS copies are aliases of one handle.  Handles
 * are symmetric: the last descriptor of any handle going away, by
 * WSCLOSE_SIOC_CLOSE, close(2) or exit, closes that handle.
 * Errors: EFAULT, EINVAL (@flags, @pad), ENOTSOCK (closed handle or
 * socket), EMFILE/ENFILE, ENOMEM, and what an LSM says (EACCES, EPERM).
 */
struct wsclose_dup_args {
	__u32 flags;
	__u32 pad;
};

#define WSCLOSE_IOC_ADOPT	_IOW('W', 0x84, struct wsclose_adopt_args)

#define WSCLOSE_SIOC_CLOSE	_IOWR('W', 0x85, struct wsclose_close_args)
#define WSCLOSE_SIOC_QUERY	_IOR('W', 0x86, struct wsclose_query_args)
#define WSCLOSE_SIOC_DUPLICATE	_IOW('W', 0x87, struct wsclose_dup_args)

#endif /* __LINUX_WSCLOSE_H */
