// SPDX-License-Identifier: LGPL-2.1-or-later
/* libwsclose: the user-space half of wsclose. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wsclose.h"

#define WSCLOSE_DEVICE "/dev/wsclose"

static int dev_fd = -1;

/*
 * The device, opened once per process and kept (close-on-exec).  A missing
 * device means the module is not loaded: the network subsystem is down.
 */
static int wsclose_dev(void)
{
	int fd = __atomic_load_n(&dev_fd, __ATOMIC_ACQUIRE);
	int expected = -1;

	if (fd >= 0)
		return fd;
	fd = open(WSCLOSE_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		errno = ENETDOWN;
		return -1;
	}
	if (!__atomic_compare_exchange_n(&dev_fd, &expected, fd, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		close(fd);
		fd = expected;
	}
	return fd;
}

static int fail(int *err, int errnum)
{
	if (err)
		*err = wsclose_wsa_from_errno(errnum);
	errno = errnum;
	return -1;
}

int wsclose_socket(int domain, int type, int protocol)
{
	struct wsclose_socket_args args = {
		.family = (unsigned int)domain,
		.type = (unsigned int)type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC),
		.protocol = (unsigned int)protocol,
		.flags = ((type & SOCK_NONBLOCK) ? WSCLOSE_SOCKET_NONBLOCK : 0) |
			 ((type & SOCK_CLOEXEC) ? WSCLOSE_SOCKET_CLOEXEC : 0),
	};
	int dev = wsclose_dev();

	if (dev < 0)
		return -1;
	return ioctl(dev, WSCLOSE_IOC_SOCKET, &args);
}

int wsclose_duplicate(int s)
{
	struct wsclose_dup_args args = { .fd = (unsigned int)s };
	int dev = wsclose_dev();

	if (dev < 0)
		return -1;
	return ioctl(dev, WSCLOSE_IOC_DUPLICATE, &args);
}

int wsclose_closesocket_outcome(int s, unsigned int flags, int *outcome,
				int *err)
{
	struct wsclose_close_args args = { .fd = (unsigned int)s, .flags = flags };
	int dev = wsclose_dev();

	if (dev < 0)
		return fail(err, ENETDOWN);
	if (ioctl(dev, WSCLOSE_IOC_CLOSE, &args) < 0)
		return fail(err, errno);
	if (outcome)
		*outcome = (int)args.outcome;
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
	struct wsclose_query_args q = { .fd = (unsigned int)s };
	int dev = wsclose_dev();

	if (dev < 0)
		return fail(err, ENETDOWN);
	if (ioctl(dev, WSCLOSE_IOC_QUERY, &q) < 0)
		return fail(err, errno);
	if (q.state != WSCLOSE_STATE_OPEN)
		return fail(err, ENOTSOCK);
	if (q.type != SOCK_STREAM)
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

	for (i = 0; i < sizeof(errno_map) / sizeof(errno_map[0]); i++)
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

	for (i = 0; i < sizeof(wsa_text) / sizeof(wsa_text[0]); i++)
		if (wsa_text[i].wsa == wsa)
			return wsa_text[i].text;
	return "Unknown Winsock error";
}
