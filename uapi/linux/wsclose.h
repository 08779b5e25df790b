/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * wsclose: Winsock close semantics (WSPCloseSocket) for Linux sockets.
 *
 * The device /dev/wsclose creates sockets whose close and teardown follow
 * the Winsock rules, and closes them.  Every argument structure has
 * fixed-width, naturally aligned fields; padding and unused flag bits must
 * be zero (EINVAL otherwise).  Unknown commands fail with ENOTTY, unreadable
 * or unwritable argument pointers with EFAULT.
 *
 * ioctl range: 'W' 0x80-0x8F.
 */
#ifndef __LINUX_WSCLOSE_H
#define __LINUX_WSCLOSE_H

#include <linux/types.h>

/* struct wsclose_socket_args.flags */
#define WSCLOSE_SOCKET_NONBLOCK		(1U << 0)	/* O_NONBLOCK on the new fd */
#define WSCLOSE_SOCKET_CLOEXEC		(1U << 1)	/* O_CLOEXEC on the new fd */
#define WSCLOSE_SOCKET_FLAGS		(WSCLOSE_SOCKET_NONBLOCK | \
					 WSCLOSE_SOCKET_CLOEXEC)

/**
 * struct wsclose_socket_args - WSCLOSE_IOC_SOCKET
 * @family:   AF_INET or AF_INET6.
 * @type:     SOCK_STREAM or SOCK_DGRAM, without SOCK_* flag bits.
 * @protocol: 0, or IPPROTO_TCP for SOCK_STREAM / IPPROTO_UDP for SOCK_DGRAM.
 * @flags:    WSCLOSE_SOCKET_* bits.
 *
 * Returns the new socket descriptor.  Errors: EINVAL (bad flags),
 * EAFNOSUPPORT (family), ESOCKTNOSUPPORT (type), EPROTONOSUPPORT
 * (protocol), EFAULT, EMFILE/ENFILE, ENOMEM, and whatever socket(2) returns
 * for the same arguments (EACCES from an LSM, ...).
 */
struct wsclose_socket_args {
	__u32 family;
	__u32 type;
	__u32 protocol;
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
 * struct wsclose_close_args - WSCLOSE_IOC_CLOSE
 * @fd:      the socket descriptor to close (a wsclose socket).
 * @flags:   0 (use the descriptor's O_NONBLOCK), or exactly one of
 *           WSCLOSE_AS_BLOCKING / WSCLOSE_AS_NONBLOCKING.
 * @outcome: out: enum wsclose_outcome, written on success only.
 * @pad:     must be zero.
 *
 * Returns 0 and releases @fd; when other handles of the socket remain, that
 * is all it does (WSCLOSE_OUTCOME_NOT_LAST_HANDLE).  Errors, checked in this
 * order: EFAULT,
 * EINVAL (flags or pad), ENOTSOCK (not open, not a wsclose socket, or
 * already closed through another alias of the handle), EINPROGRESS (another close of the
 * socket is waiting), EWOULDBLOCK (lingering, non-blocking, data pending:
 * nothing changed), EINTR (a signal interrupted the linger wait: @fd stays
 * open, the socket stays closed to I/O, a new call resumes the wait).
 */
struct wsclose_close_args {
	__u32 fd;
	__u32 flags;
	__u32 outcome;
	__u32 pad;
};

/* struct wsclose_query_args.state */
#define WSCLOSE_STATE_OPEN		0	/* usable */
#define WSCLOSE_STATE_CLOSING		1	/* a lingering close is waiting */
#define WSCLOSE_STATE_CLOSED		2	/* closed through another alias */

/**
 * struct wsclose_query_args - WSCLOSE_IOC_QUERY
 * @fd:      in: a descriptor.
 * @state:   out: WSCLOSE_STATE_*.
 * @family:  out: AF_INET or AF_INET6.
 * @type:    out: SOCK_STREAM or SOCK_DGRAM.
 * @pad:     must be zero.
 *
 * Tells whether @fd is a wsclose socket and in which state.  Errors:
 * EFAULT, EINVAL (pad), ENOTSOCK (not a wsclose socket).
 */
struct wsclose_query_args {
	__u32 fd;
	__u32 state;
	__u32 family;
	__u32 type;
	__u32 pad[2];
};

/* struct wsclose_dup_args.flags */
#define WSCLOSE_DUP_CLOEXEC		(1U << 0)	/* O_CLOEXEC on the new fd */

/**
 * struct wsclose_dup_args - WSCLOSE_IOC_DUPLICATE
 * @fd:    a handle of an open wsclose socket.
 * @flags: WSCLOSE_DUP_* bits.
 *
 * Makes a new, counted handle (WSADuplicateSocket) of the socket and returns
 * its descriptor: a socket descriptor of its own, which may be passed to
 * another process.  The socket is torn down only when its last handle is
 * closed; dup(2), fork(2) and SCM_RIGHTS copies are aliases of one handle.
 * Errors: EFAULT, EINVAL (flags), ENOTSOCK (not an open wsclose socket, or
 * a closed handle), EMFILE/ENFILE, ENOMEM.
 */
struct wsclose_dup_args {
	__u32 fd;
	__u32 flags;
};

#define WSCLOSE_IOC_SOCKET	_IOW('W', 0x80, struct wsclose_socket_args)
#define WSCLOSE_IOC_CLOSE	_IOWR('W', 0x81, struct wsclose_close_args)
#define WSCLOSE_IOC_QUERY	_IOWR('W', 0x82, struct wsclose_query_args)
#define WSCLOSE_IOC_DUPLICATE	_IOW('W', 0x83, struct wsclose_dup_args)

#endif /* __LINUX_WSCLOSE_H */
