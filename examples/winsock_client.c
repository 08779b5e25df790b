// SPDX-License-Identifier: GPL-2.0
/*
 * A socket program written the way a Windows one is -- SOCKET, setsockopt
 * SO_LINGER, a non-blocking socket, send, closesocket, and a retry on
 * WSAEWOULDBLOCK -- running on libwsclose.  It talks to a small echo-less
 * sink it starts itself on the loopback address.
 *
 * The few Winsock names below are what a Winsock layer such as Wine maps
 * onto libwsclose.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <wsclose.h>

/* ---- a Winsock layer in a dozen lines ---------------------------------- */
typedef int SOCKET;
#define INVALID_SOCKET	(-1)
#define SOCKET_ERROR	(-1)
static __thread int wsa_last_error;
static int WSAGetLastError(void) { return wsa_last_error; }

/*
 * Wine makes its sockets itself (socket(2) in the server) and hands them
 * to wsclose: wsclose_adopt().  wsclose_socket() does both in one call.
 */
static SOCKET ws_socket(int af, int type, int protocol)
{
	SOCKET s = socket(af, type, protocol);
	int e;

	if (s < 0) {
		wsa_last_error = wsclose_wsa_from_errno(errno);
		return INVALID_SOCKET;
	}
	if (wsclose_adopt(s) < 0) {
		e = errno;
		close(s);
		wsa_last_error = wsclose_wsa_from_errno(e);
		return INVALID_SOCKET;
	}
	return s;
}

static int ws_set_linger(SOCKET s, unsigned short onoff, unsigned short secs)
{
	return wsclose_set_linger(s, onoff, secs, &wsa_last_error) ? SOCKET_ERROR : 0;
}

static int ws_ioctl_fionbio(SOCKET s, unsigned long on)
{
	/* Wine keeps the Unix fd non-blocking and tracks the mode itself */
	return ioctl(s, FIONBIO, &on) ? SOCKET_ERROR : 0;
}

static int closesocket(SOCKET s)
{
	return wsclose_closesocket(s, &wsa_last_error) ? SOCKET_ERROR : 0;
}

/* ---- a sink that reads slowly, so that data stays queued ------------------ */
static int sink_fd;
static long sink_bytes;

static void *sink(void *arg)
{
	char buf[4096];
	ssize_t n;
	int c;

	(void)arg;
	c = accept(sink_fd, NULL, NULL);
	usleep(300 * 1000);	/* not reading yet: the sender's data is pending */
	while ((n = recv(c, buf, sizeof(buf), 0)) > 0)
		sink_bytes += n;
	close(c);
	return NULL;
}

int main(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	static char payload[256 * 1024];
	long sent = 0;
	int tries = 0, small = 4096;
	pthread_t t;
	SOCKET s;

	sink_fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(sink_fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	bind(sink_fd, (struct sockaddr *)&sa, sizeof(sa));
	listen(sink_fd, 1);
	getsockname(sink_fd, (struct sockaddr *)&sa, &len);
	pthread_create(&t, NULL, sink, NULL);

	s = ws_socket(AF_INET, SOCK_STREAM, 0);
	if (s == INVALID_SOCKET) {
		fprintf(stderr, "socket: %s\n", wsclose_strerror(WSAGetLastError()));
		return 1;
	}
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)))
		return 1;
	/* linger for up to 5 s; then non-blocking, as an event-driven program */
	if (ws_set_linger(s, 1, 5) == SOCKET_ERROR || ws_ioctl_fionbio(s, 1))
		return 1;
	while (sent < (long)sizeof(payload)) {
		ssize_t n = send(s, payload + sent, sizeof(payload) - sent, 0);

		if (n <= 0)
			break;	/* WSAEWOULDBLOCK: the buffers are full */
		sent += n;
	}

	/* closesocket on a non-blocking lingering socket with data queued */
	while (closesocket(s) == SOCKET_ERROR) {
		if (WSAGetLastError() != WSAEWOULDBLOCK) {
			fprintf(stderr, "closesocket: %s\n",
				wsclose_strerror(WSAGetLastError()));
			return 1;
		}
		tries++;	/* still valid: try again shortly */
		usleep(20 * 1000);
	}
	pthread_join(t, NULL);
	printf("sent %ld bytes, closesocket said WSAEWOULDBLOCK %d times, "
	       "the peer received %ld bytes\n", sent, tries, sink_bytes);
	return sink_bytes == sent && tries > 0 ? 0 : 1;
}
