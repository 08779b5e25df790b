// SPDX-License-Identifier: LGPL-2.1-or-later
/* libwsclose: the user-space half of wsclose. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wsclose.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define WSCLOSE_DEVICE "/dev/wsclose"

/*
 * The library keeps no descriptor: the device is opened for the one call
 * that needs it (adoption) and closed again, and every per-socket command
 * is an ioctl on the socket descriptor itself.  So the program's
 * descriptor numbering is its own, and nothing the program closes or
 * reuses can redirect a later call to an unrelated file.
 */

/*
 * A descriptor that is not a wsclose socket: without the module no socket
 * can be one, so report the network subsystem as down, as for every other
 * call.
 */
static int not_ours(void)
{
	return access(WSCLOSE_DEVICE, F_OK) ? ENETDOWN : ENOTSOCK;
}

/*
 * The per-socket commands are ioctls of the driver's own numbers on the
 * socket descriptor, which nothing else interprets: one system call, with
 * no need to look at the descriptor first.  Only when one fails is the
 * descriptor looked at, to tell "not a wsclose socket" from the command's
 * own errors: other files answer an ioctl they do not know with ENOTTY,
 * some socket families with EOPNOTSUPP, some drivers with EINVAL (which
 * the commands also return for bad flags: then the descriptor is looked
 * at).
 */
union ws_sioc_args {
	struct wsclose_close_args close;
	struct wsclose_query_args query;
	struct wsclose_dup_args dup;
};

/* Whether @s is a TCP or UDP socket (of the kinds that can be ours). */
static int tcp_or_udp(int s)
{
	int proto = -1, type = -1;
	socklen_t len = sizeof(proto);

	if (getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &proto, &len))
		return 0;
	len = sizeof(type);
	if (getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &len))
		return 0;
	return (proto == IPPROTO_TCP && type == SOCK_STREAM) ||
	       (proto == IPPROTO_UDP && type == SOCK_DGRAM);
}

static int ws_sioc(int s, unsigned long cmd, union ws_sioc_args *args)
{
	int ret = ioctl(s, cmd, args);

	if (ret < 0 && (errno == ENOTTY || errno == EBADF ||
			errno == EOPNOTSUPP ||
			(errno == EINVAL && !tcp_or_udp(s))))
		errno = not_ours();
	return ret;
}

static int fail(int *err, int errnum)
{
	if (err)
		*err = wsclose_wsa_from_errno(errnum);
	errno = errnum;
	return -1;
}

/* The device: every family and type, and the exact reason for a refusal. */
static int adopt_by_device(int fd)
{
	struct wsclose_adopt_args args = { .fd = (unsigned int)fd };
	int dev, ret, saved;

	dev = open(WSCLOSE_DEVICE, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		/* no device: the module is not loaded */
		if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
			errno = ENETDOWN;
		return -1;
	}
	ret = ioctl(dev, WSCLOSE_IOC_ADOPT, &args);
	saved = errno;
	close(dev);
	errno = saved;
	return ret < 0 ? -1 : 0;
}

/*
 * A TCP socket adopts itself through the module's TCP upper layer
 * protocol, without a path lookup and an open and close of the device.
 * Its refusals are less precise (EEXIST for "already adopted" and "kTLS"
 * alike, ENOPROTOOPT for UDP, ENOENT without the module), so any failure
 * asks the device, which changes nothing either and says exactly why.
 */
static int adopt_by_ulp(int fd)
{
	static const char ulp[] = "wsclose";
	/*
	 * No such ULP: the module is not loaded (and, for a CAP_NET_ADMIN
	 * caller, each try would run modprobe): the device answers from now
	 * on, which works as well once the module is there.
	 */
	static int no_ulp;
	/* the first ULP adoption in this process was seen to take */
	static int ulp_seen;
	char name[sizeof(ulp) + 1] = "";
	socklen_t len = sizeof(name);

	if (__atomic_load_n(&no_ulp, __ATOMIC_RELAXED))
		return -1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_ULP, ulp, sizeof(ulp) - 1)) {
		if (errno == ENOENT)
			__atomic_store_n(&no_ulp, 1, __ATOMIC_RELAXED);
		return -1;
	}
	/*
	 * A seccomp filter may fake success (SECCOMP_RET_ERRNO with 0):
	 * only the socket itself says whether it carries the ULP.  If it
	 * does not, the ULP path is not to be trusted in this process.  It
	 * is asked once: a system call more per socket would cost every
	 * adoption a fifth of its overhead, and sandboxes install their
	 * filters before they run the program.
	 */
	if (__atomic_load_n(&ulp_seen, __ATOMIC_RELAXED))
		return 0;
	if (getsockopt(fd, IPPROTO_TCP, TCP_ULP, name, &len) == 0 &&
	    !strcmp(name, ulp)) {
		__atomic_store_n(&ulp_seen, 1, __ATOMIC_RELAXED);
		return 0;
	}
	__atomic_store_n(&no_ulp, 1, __ATOMIC_RELAXED);
	return -1;
}

int wsclose_adopt(int fd)
{
	if (adopt_by_ulp(fd) == 0)
		return 0;
	return adopt_by_device(fd);
}

/*
 * What adoption would refuse, checked before a socket is made: the
 * errors of wsclose_socket() stay those of the creation it replaces.
 */
static int socket_args_errno(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (domain != AF_INET && domain != AF_INET6)
		return EAFNOSUPPORT;
	if (base != SOCK_STREAM && base != SOCK_DGRAM)
		return ESOCKTNOSUPPORT;
	if (protocol && protocol != (base == SOCK_STREAM ? IPPROTO_TCP :
							IPPROTO_UDP))
		return EPROTONOSUPPORT;
	return 0;
}

int wsclose_socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	int s, saved = socket_args_errno(domain, type, protocol);

	if (saved) {
		errno = saved;
		return -1;
	}
	s = socket(domain, type, protocol);
	if (s < 0)
		return -1;
	/* a datagram socket goes to the device at once */
	if ((base == SOCK_DGRAM ? adopt_by_device(s) : wsclose_adopt(s)) < 0) {
		saved = errno;
		close(s);
		errno = saved;
		return -1;
	}
	return s;
}

int wsclose_duplicate(int s)
{
	union ws_sioc_args args = { .dup = { 0 } };

	return ws_sioc(s, WSCLOSE_SIOC_DUPLICATE, &args);
}

int wsclose_closesocket_outcome(int s, unsigned int flags, int *outcome,
				int *err)
{
	union ws_sioc_args args = {
		.close = { .fd = (unsigned int)s, .flags = flags },
	};

	if (ws_sioc(s, WSCLOSE_SIOC_CLOSE, &args) < 0)
		return fail(err, errno);
	if (outcome)
		*outcome = (int)args.close.outcome;
	return 0;
}

int wsclose_closesocket_ex(int s, unsigned int flags, int *err)
{
	return wsclose_closesocket_outcome(s, flags, NULL, err);
}

int wsclose_closesocket(int s, int *err)
{
	return wsclose_closesocket_outcome(s, 0, NULL, err);
}

/*
 * SOL_SOCKET options bypass the module, so check first that @s is an open
 * wsclose TCP socket: a closed one is WSAENOTSOCK, UDP has no linger.
 */
static int linger_check(int s, int *err)
{
	union ws_sioc_args args = { .query = { 0 } };
	struct wsclose_query_args *q = &args.query;

	if (ws_sioc(s, WSCLOSE_SIOC_QUERY, &args) < 0)
		return fail(err, errno);
	if (q->state != WSCLOSE_STATE_OPEN)
		return fail(err, ENOTSOCK);
	if (q->type != SOCK_STREAM)
		return fail(err, ENOPROTOOPT);
	return 0;
}

static int linger_read(int s, struct linger *l, int *err)
{
	socklen_t len = sizeof(*l);

	if (linger_check(s, err))
		return -1;
	if (getsockopt(s, SOL_SOCKET, SO_LINGER, l, &len) < 0)
		return fail(err, errno);
	return 0;
}

static int linger_write(int s, const struct linger *l, int *err)
{
	if (setsockopt(s, SOL_SOCKET, SO_LINGER, l, sizeof(*l)) < 0)
		return fail(err, errno);
	return 0;
}

int wsclose_set_linger(int s, int onoff, unsigned short seconds, int *err)
{
	struct linger l = { .l_onoff = !!onoff, .l_linger = seconds };

	if (linger_check(s, err))
		return -1;
	return linger_write(s, &l, err);
}

int wsclose_get_linger(int s, int *onoff, unsigned short *seconds, int *err)
{
	struct linger l;

	if (!onoff || !seconds)
		return fail(err, EFAULT);
	if (linger_read(s, &l, err))
		return -1;
	*onoff = l.l_onoff ? 1 : 0;
	*seconds = (unsigned short)l.l_linger;
	return 0;
}

/* SO_DONTLINGER flips l_onoff only: FALSE brings back the last timeout. */
int wsclose_set_dontlinger(int s, int dontlinger, int *err)
{
	struct linger l;

	if (linger_read(s, &l, err))
		return -1;
	l.l_onoff = !dontlinger;
	return linger_write(s, &l, err);
}

int wsclose_get_dontlinger(int s, int *dontlinger, int *err)
{
	struct linger l;

	if (!dontlinger)
		return fail(err, EFAULT);
	if (linger_read(s, &l, err))
		return -1;
	*dontlinger = !l.l_onoff;
	return 0;
}

static const struct {
	int errnum;
	int wsa;
} errno_map[] = {
	{ EWOULDBLOCK, WSAEWOULDBLOCK },
	{ EINPROGRESS, WSAEINPROGRESS },
	{ ENOTSOCK, WSAENOTSOCK },
	{ EBADF, WSAENOTSOCK },
	{ ENETDOWN, WSAENETDOWN },
	{ ECANCELED, WSA_OPERATION_ABORTED },
	{ EINTR, WSAEINTR },
	{ EFAULT, WSAEFAULT },
	{ EINVAL, WSAEINVAL },
	{ ENOPROTOOPT, WSAENOPROTOOPT },
	{ ECONNABORTED, WSAECONNABORTED },
	{ ECONNRESET, WSAECONNRESET },
	{ EPIPE, WSAECONNRESET },
	{ ENOBUFS, WSAENOBUFS },
	{ ENOMEM, WSAENOBUFS },
	{ ENOTCONN, WSAENOTCONN },
	{ ESHUTDOWN, WSAESHUTDOWN },
	{ ETIMEDOUT, WSAETIMEDOUT },
	{ EACCES, WSAEACCES },
	{ EPERM, WSAEACCES },
	{ EMFILE, WSAEMFILE },
	{ ENFILE, WSAEMFILE },
	{ EALREADY, WSAEALREADY },
	{ EDESTADDRREQ, WSAEDESTADDRREQ },
	{ EMSGSIZE, WSAEMSGSIZE },
	{ EPROTOTYPE, WSAEPROTOTYPE },
	{ EPROTONOSUPPORT, WSAEPROTONOSUPPORT },
	{ ESOCKTNOSUPPORT, WSAESOCKTNOSUPPORT },
	{ EOPNOTSUPP, WSAEOPNOTSUPP },
	{ EAFNOSUPPORT, WSAEAFNOSUPPORT },
	{ EADDRINUSE, WSAEADDRINUSE },
	{ EADDRNOTAVAIL, WSAEADDRNOTAVAIL },
	{ ENETUNREACH, WSAENETUNREACH },
	{ ENETRESET, WSAENETRESET },
	{ EISCONN, WSAEISCONN },
	{ ECONNREFUSED, WSAECONNREFUSED },
	{ ELOOP, WSAELOOP },
	{ ENAMETOOLONG, WSAENAMETOOLONG },
	{ EHOSTDOWN, WSAEHOSTDOWN },
	{ EHOSTUNREACH, WSAEHOSTUNREACH },
};

int wsclose_wsa_from_errno(int errnum)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(errno_map); i++)
		if (errno_map[i].errnum == errnum)
			return errno_map[i].wsa;
	return WSCLOSE_WSA_FALLBACK;
}

static const struct {
	int wsa;
	const char *text;
} wsa_text[] = {
	{ WSA_OPERATION_ABORTED, "The overlapped operation has been canceled" },
	{ WSAEINTR, "A blocking operation was interrupted" },
	{ WSAEBADF, "The file handle supplied is not valid" },
	{ WSAEACCES, "Permission denied" },
	{ WSAEFAULT, "Bad address" },
	{ WSAEINVAL, "Invalid argument" },
	{ WSAEMFILE, "Too many open sockets" },
	{ WSAEWOULDBLOCK, "Resource temporarily unavailable" },
	{ WSAEINPROGRESS, "Operation now in progress" },
	{ WSAEALREADY, "Operation already in progress" },
	{ WSAENOTSOCK, "Socket operation on nonsocket" },
	{ WSAEDESTADDRREQ, "Destination address required" },
	{ WSAEMSGSIZE, "Message too long" },
	{ WSAEPROTOTYPE, "Protocol wrong type for socket" },
	{ WSAENOPROTOOPT, "Bad protocol option" },
	{ WSAEPROTONOSUPPORT, "Protocol not supported" },
	{ WSAESOCKTNOSUPPORT, "Socket type not supported" },
	{ WSAEOPNOTSUPP, "Operation not supported" },
	{ WSAEAFNOSUPPORT, "Address family not supported by protocol family" },
	{ WSAEADDRINUSE, "Address already in use" },
	{ WSAEADDRNOTAVAIL, "Cannot assign requested address" },
	{ WSAENETDOWN, "Network is down" },
	{ WSAENETUNREACH, "Network is unreachable" },
	{ WSAENETRESET, "Network dropped connection on reset" },
	{ WSAECONNABORTED, "Software caused connection abort" },
	{ WSAECONNRESET, "Connection reset by peer" },
	{ WSAENOBUFS, "No buffer space available" },
	{ WSAEISCONN, "Socket is already connected" },
	{ WSAENOTCONN, "Socket is not connected" },
	{ WSAESHUTDOWN, "Cannot send after socket shutdown" },
	{ WSAETIMEDOUT, "Connection timed out" },
	{ WSAECONNREFUSED, "Connection refused" },
	{ WSAELOOP, "Cannot translate name" },
	{ WSAENAMETOOLONG, "Name too long" },
	{ WSAEHOSTDOWN, "Host is down" },
	{ WSAEHOSTUNREACH, "No route to host" },
};

const char *wsclose_strerror(int wsa)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(wsa_text); i++)
		if (wsa_text[i].wsa == wsa)
			return wsa_text[i].text;
	return "Unknown Winsock error";
}
