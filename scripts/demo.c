// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose-demo: what `make run` shows.  Closes a loopback TCP connection
 * once per row of the Winsock close table and prints what the call
 * returned, how long it took and what the peer saw.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "../selftests/helpers.h"

static const char *outcome_name(int o)
{
	switch (o) {
	case WSCLOSE_OUTCOME_NOT_LAST_HANDLE: return "not-last-handle";
	case WSCLOSE_OUTCOME_GRACEFUL: return "graceful";
	case WSCLOSE_OUTCOME_ABORTIVE: return "abortive";
	case WSCLOSE_OUTCOME_DRAINED: return "drained";
	case WSCLOSE_OUTCOME_TIMED_OUT_RESET: return "timed-out-reset";
	default: return "-";
	}
}

static const char *wsa_name(int e)
{
	switch (e) {
	case 0: return "-";
	case WSAEWOULDBLOCK: return "WSAEWOULDBLOCK";
	case WSAEINPROGRESS: return "WSAEINPROGRESS";
	case WSAENOTSOCK: return "WSAENOTSOCK";
	case WSAENETDOWN: return "WSAENETDOWN";
	case WSAEINTR: return "WSAEINTR";
	default: return "other";
	}
}

static int row(int onoff, int secs, int nonblock, int pending)
{
	unsigned char buf[1000];
	struct stream sent = { 0, 0 };
	struct seen seen;
	int s, peer, v = 8192, err = 0, outcome = 0, ret;
	char linger[16], saw[64];
	double t0, dt;

	s = wsclose_socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0) {
		perror("wsclose_socket");
		return -1;
	}
	if (pending)
		setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	peer = connect_peer(s, AF_INET, pending ? 4096 : 0);
	if (peer < 0)
		return -1;
	if (pending) {
		fill_buffers(s, &sent, 200);
	} else {
		stream_fill(0, buf, sizeof(buf));
		stream_add(&sent, buf, send(s, buf, sizeof(buf), 0));
		wait_acked(s, 10);
	}
	wsclose_set_linger(s, onoff, (unsigned short)secs, &err);
	set_nonblock(s, nonblock);

	t0 = now_s();
	ret = wsclose_closesocket_outcome(s, 0, &outcome, &err);
	dt = now_s() - t0;
	if (ret == 0)
		err = 0;

	memset(&seen, 0, sizeof(seen));
	if (ret == 0) {
		peer_read(peer, &seen, 20, 0);
	} else {
		/* WSAEWOULDBLOCK: the handle is still valid; read, then retry */
		peer_read(peer, &seen, 20, sent.bytes);
		wait_acked(s, 10);
		wsclose_closesocket(s, &v);
		peer_read(peer, &seen, 20, 0);
	}
	if (seen.err)
		snprintf(saw, sizeof(saw), "%llu/%llu bytes, %s",
			 (unsigned long long)seen.st.bytes,
			 (unsigned long long)sent.bytes,
			 seen.err == ECONNRESET ? "ECONNRESET" : "error");
	else
		snprintf(saw, sizeof(saw), "%llu/%llu bytes%s, EOF",
			 (unsigned long long)seen.st.bytes,
			 (unsigned long long)sent.bytes,
			 stream_equal(&sent, &seen.st) && !seen.corrupt ? " intact" : " DAMAGED");
	if (onoff)
		snprintf(linger, sizeof(linger), "{1,%d}", secs);
	else
		snprintf(linger, sizeof(linger), "off");
	printf("%-8s %-12s %-8s | %3d %-15s %-16s %7.3fs | %s%s\n", linger,
	       nonblock ? "non-blocking" : "blocking", pending ? "yes" : "no",
	       ret, wsa_name(err), outcome_name(ret == 0 ? outcome : -1), dt, saw,
	       ret ? " (after retry)" : "");
	close(peer);
	return 0;
}

int main(void)
{
	static const int linger[][2] = { { 0, 0 }, { 1, 0 }, { 1, 1 }, { 1, 2 } };

	setvbuf(stdout, NULL, _IONBF, 0);
	printf("wsclose: closesocket() outcomes on IPv4 loopback TCP\n\n");
	printf("%-8s %-12s %-8s | %3s %-15s %-16s %8s | %s\n", "linger", "mode",
	       "pending", "ret", "WSA error", "outcome", "time", "peer saw");
	printf("%.*s\n", 110, "----------------------------------------------------------------------------------------------------------------");
	for (size_t i = 0; i < sizeof(linger) / sizeof(linger[0]); i++)
		for (int nb = 0; nb < 2; nb++)
			for (int p = 0; p < 2; p++)
				if (row(linger[i][0], linger[i][1], nb, p))
					return 1;
	return 0;
}
