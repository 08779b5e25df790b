/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libwsclose: Winsock closesocket() semantics for Linux sockets.
 *
 * Every call returns 0 (or a descriptor) on success.  On failure the calls
 * with an `err` argument return -1 (SOCKET_ERROR) and store a WSA error code
 * there; wsclose_socket(), wsclose_adopt() and wsclose_duplicate() return -1
 * and set errno
 * (map it with wsclose_wsa_from_errno()).  When the module is not loaded,
 * every call fails with WSAENETDOWN (errno ENETDOWN).
 */
#ifndef WSCLOSE_H
#define WSCLOSE_H

#include <linux/wsclose.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Winsock error codes; a Winsock layer's own definitions win. */
#ifndef WSA_OPERATION_ABORTED
#define WSA_OPERATION_ABORTED	995
#endif
#ifndef WSAEINTR
#define WSAEINTR		10004
#endif
#ifndef WSAEBADF
#define WSAEBADF		10009
#endif
#ifndef WSAEACCES
#define WSAEACCES		10013
#endif
#ifndef WSAEFAULT
#define WSAEFAULT		10014
#endif
#ifndef WSAEINVAL
#define WSAEINVAL		10022
#endif
#ifndef WSAEMFILE
#define WSAEMFILE		10024
#endif
#ifndef WSAEWOULDBLOCK
#define WSAEWOULDBLOCK		10035
#endif
#ifndef WSAEINPROGRESS
#define WSAEINPROGRESS		10036
#endif
#ifndef WSAEALREADY
#define WSAEALREADY		10037
#endif
#ifndef WSAENOTSOCK
#define WSAENOTSOCK		10038
#endif
#ifndef WSAEDESTADDRREQ
#define WSAEDESTADDRREQ		10039
#endif
#ifndef WSAEMSGSIZE
#define WSAEMSGSIZE		10040
#endif
#ifndef WSAEPROTOTYPE
#define WSAEPROTOTYPE		10041
#endif
#ifndef WSAENOPROTOOPT
#define WSAENOPROTOOPT		10042
#endif
#ifndef WSAEPROTONOSUPPORT
#define WSAEPROTONOSUPPORT	10043
#endif
#ifndef WSAESOCKTNOSUPPORT
#define WSAESOCKTNOSUPPORT	10044
#endif
#ifndef WSAEOPNOTSUPP
#define WSAEOPNOTSUPP		10045
#endif
#ifndef WSAEAFNOSUPPORT
#define WSAEAFNOSUPPORT		10047
#endif
#ifndef WSAEADDRINUSE
#define WSAEADDRINUSE		10048
#endif
#ifndef WSAEADDRNOTAVAIL
#define WSAEADDRNOTAVAIL	10049
#endif
#ifndef WSAENETDOWN
#define WSAENETDOWN		10050
#endif
#ifndef WSAENETUNREACH
#define WSAENETUNREACH		10051
#endif
#ifndef WSAENETRESET
#define WSAENETRESET		10052
#endif
#ifndef WSAECONNABORTED
#define WSAECONNABORTED		10053
#endif
#ifndef WSAECONNRESET
#define WSAECONNRESET		10054
#endif
#ifndef WSAENOBUFS
#define WSAENOBUFS		10055
#endif
#ifndef WSAEISCONN
#define WSAEISCONN		10056
#endif
#ifndef WSAENOTCONN
#define WSAENOTCONN		10057
#endif
#ifndef WSAESHUTDOWN
#define WSAESHUTDOWN		10058
#endif
#ifndef WSAETIMEDOUT
#define WSAETIMEDOUT		10060
#endif
#ifndef WSAECONNREFUSED
#define WSAECONNREFUSED		10061
#endif
#ifndef WSAELOOP
#define WSAELOOP		10062
#endif
#ifndef WSAENAMETOOLONG
#define WSAENAMETOOLONG		10063
#endif
#ifndef WSAEHOSTDOWN
#define WSAEHOSTDOWN		10064
#endif
#ifndef WSAEHOSTUNREACH
#define WSAEHOSTUNREACH		10065
#endif

/* The fallback of wsclose_wsa_from_errno() for an errno it does not know. */
#define WSCLOSE_WSA_FALLBACK	WSAEINVAL

/* socket(2), then wsclose_adopt(); -1 and errno on failure. */
int wsclose_socket(int domain, int type, int protocol);
/* Make the socket fd (from socket(2), accept(2), ...) a wsclose socket. */
int wsclose_adopt(int fd);
int wsclose_closesocket(int s, int *err);
/* A new counted handle of s (WSADuplicateSocket); -1 and errno on failure. */
int wsclose_duplicate(int s);
int wsclose_closesocket_ex(int s, unsigned int flags, int *err);
/* As wsclose_closesocket_ex(), also reporting enum wsclose_outcome. */
int wsclose_closesocket_outcome(int s, unsigned int flags, int *outcome,
				int *err);
int wsclose_set_linger(int s, int onoff, unsigned short seconds, int *err);
int wsclose_get_linger(int s, int *onoff, unsigned short *seconds, int *err);
int wsclose_set_dontlinger(int s, int dontlinger, int *err);
int wsclose_get_dontlinger(int s, int *dontlinger, int *err);
int wsclose_wsa_from_errno(int errnum);
const char *wsclose_strerror(int wsa);

#ifdef __cplusplus
}
#endif

#endif /* WSCLOSE_H */
