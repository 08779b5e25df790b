/*
 * wsctest.exe: what closesocket does, checked against Windows' documented
 * behaviour (WSPCloseSocket, the linger table, the statuses Windows gives
 * pending operations at close: see wine/README.md for the sources), not
 * against Wine's.  A native Linux peer (wsc-peer, wine/tests/peer.c) on
 * 127.0.0.1:7700 reports what reached the wire.
 *
 *   wsctest.exe [PEERPORT] [FILTER]   all cases (FILTER: run only cases
 *                                      whose name contains it)
 *   wsctest.exe child-exit PEERPORT   (internal: the process-exit case)
 *
 * Each case prints one tab-separated line:
 *   CASE <name> <expected (Windows)> <got> PASS|FAIL
 * and the run ends with "wsctest: N passed, N failed".
 * Timings are generous for a QEMU TCG guest: "at once" is < 1000 ms, the
 * linger time is 2 s, "no freeze" is a server round trip < 1000 ms.
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef STATUS_CONNECTION_ABORTED
#define STATUS_CONNECTION_ABORTED ((DWORD)0xC0000241)
#endif
#ifndef STATUS_LOCAL_DISCONNECT
#define STATUS_LOCAL_DISCONNECT ((DWORD)0xC000013B)
#endif
#ifndef STATUS_CANCELLED
#define STATUS_CANCELLED ((DWORD)0xC0000120)
#endif
#ifndef ERROR_CONNECTION_ABORTED
#define ERROR_CONNECTION_ABORTED 1236
#endif

#define LINGER_S 2
#define AT_ONCE_MS 1000
#define FREEZE_MS 1000

static unsigned short peer_port = 7700;
static const char *filter;
static int npass, nfail, next_id = 1;

/* ---- small helpers --------------------------------------------------- */

static double now_ms(void)
{
	static LARGE_INTEGER f;
	LARGE_INTEGER c;

	if (!f.QuadPart)
		QueryPerformanceFrequency(&f);
	QueryPerformanceCounter(&c);
	return (double)c.QuadPart * 1000.0 / (double)f.QuadPart;
}

static int wanted(const char *name)
{
	return !filter || strstr(name, filter);
}

static void report(const char *name, const char *expected, const char *got, int pass)
{
	printf("CASE\t%s\t%s\t%s\t%s\n", name, expected, got, pass ? "PASS" : "FAIL");
	fflush(stdout);
	if (pass)
		npass++;
	else
		nfail++;
}

/* The byte at stream offset i, and the FNV-1a hash of the first n bytes. */
static unsigned char pattern(unsigned long long i)
{
	return (unsigned char)(i * 131 + (i >> 13));
}

static unsigned int fnv_prefix(unsigned long long n)
{
	unsigned int h = 2166136261u;

	for (unsigned long long i = 0; i < n; i++) {
		h ^= pattern(i);
		h *= 16777619u;
	}
	return h;
}

static struct sockaddr_in loopback(unsigned short port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

static int send_all(SOCKET s, const char *buf, int len)
{
	while (len > 0) {
		int r = send(s, buf, len, 0);

		if (r <= 0)
			return -1;
		buf += r;
		len -= r;
	}
	return 0;
}

/* One command to the peer on a connection of its own; the answer line. */
static int peer_cmd(const char *cmd, char *out, int outlen)
{
	struct sockaddr_in sin = loopback(peer_port);
	SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	int n = 0;

	out[0] = 0;
	if (s == INVALID_SOCKET)
		return -1;
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) || send_all(s, cmd, (int)strlen(cmd))) {
		closesocket(s);
		return -1;
	}
	while (n < outlen - 1) {
		int r = recv(s, out + n, 1, 0);

		if (r <= 0 || out[n] == '\n')
			break;
		n++;
	}
	out[n] = 0;
	closesocket(s);
	return 0;
}

struct peer_result {
	unsigned long long bytes;
	unsigned int sum;
	char end[16];
};

static void peer_result(int id, int wait_ms, struct peer_result *r)
{
	char cmd[64], out[128];

	memset(r, 0, sizeof(*r));
	strcpy(r->end, "NOPEER");
	sprintf(cmd, "RESULT %d %d\n", id, wait_ms);
	if (peer_cmd(cmd, out, sizeof(out)) == 0)
		sscanf(out, "bytes=%llu sum=%x end=%15s", &r->bytes, &r->sum, r->end);
}

static void peer_release(int id)
{
	char cmd[64], out[64];

	sprintf(cmd, "RELEASE %d\n", id);
	peer_cmd(cmd, out, sizeof(out));
}

/* "all+EOF", "N/M+RST", ...: what the peer saw against what was sent. */
static void describe_peer(const struct peer_result *r, unsigned long long sent, char *buf)
{
	int intact = r->sum == fnv_prefix(r->bytes);

	if (r->bytes == sent && intact)
		sprintf(buf, "all+%s", r->end);
	else
		sprintf(buf, "%llu/%llu%s+%s", r->bytes, sent, intact ? "" : "(corrupt)", r->end);
}

static int peer_all_eof(const struct peer_result *r, unsigned long long sent)
{
	return r->bytes == sent && r->sum == fnv_prefix(sent) && !strcmp(r->end, "EOF");
}

static int peer_reset(const struct peer_result *r, unsigned long long sent)
{
	return r->bytes <= sent && r->sum == fnv_prefix(r->bytes) && !strcmp(r->end, "RST");
}

static void set_nbio(SOCKET s, u_long on)
{
	ioctlsocket(s, FIONBIO, &on);
}

static int set_linger(SOCKET s, int onoff, int secs)
{
	LINGER l;

	l.l_onoff = (u_short)onoff;
	l.l_linger = (u_short)secs;
	return setsockopt(s, SOL_SOCKET, SO_LINGER, (char *)&l, sizeof(l));
}

static void small_sndbuf(SOCKET s)
{
	int v = 65536;

	setsockopt(s, SOL_SOCKET, SO_SNDBUF, (char *)&v, sizeof(v));
}

/*
 * A connection to the peer, which sinks it: "SINK id delay_ms" (delay -1:
 * hold until released) or "ACKSINK id n".  Returns the socket (blocking).
 */
static SOCKET peer_conn(const char *cmd)
{
	struct sockaddr_in sin = loopback(peer_port);
	SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);

	if (s == INVALID_SOCKET)
		return s;
	small_sndbuf(s);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) || send_all(s, cmd, (int)strlen(cmd))) {
		closesocket(s);
		return INVALID_SOCKET;
	}
	return s;
}

/* Send the pattern from *off until the socket would block (twice, 200 ms apart). */
static unsigned long long fill(SOCKET s, unsigned long long off)
{
	static char buf[65536];
	int blocked = 0;

	set_nbio(s, 1);
	while (blocked < 2 && off < (64ull << 20)) {
		int r;

		for (int i = 0; i < (int)sizeof(buf); i++)
			buf[i] = (char)pattern(off + (unsigned long long)i);
		r = send(s, buf, sizeof(buf), 0);
		if (r > 0) {
			off += (unsigned long long)r;
			continue;
		}
		if (WSAGetLastError() != WSAEWOULDBLOCK)
			break;
		blocked++;
		Sleep(200);
	}
	return off;
}

static int send_pattern(SOCKET s, unsigned long long n)
{
	static char buf[4096];

	for (unsigned long long i = 0; i < n && i < sizeof(buf); i++)
		buf[i] = (char)pattern(i);
	return send_all(s, buf, (int)n);
}

static void apply_linger(SOCKET s, int mode)
{
	if (mode == 0)
		set_linger(s, 0, 0);
	else if (mode == 1)
		set_linger(s, 1, 0);
	else
		set_linger(s, 1, LINGER_S);
}

/* ---- the closesocket matrix ------------------------------------------- */

enum wait_kind { W_ONCE, W_DRAIN, W_EXPIRE };
enum peer_kind { P_ALL_EOF, P_RST };

/*
 * linger: 0 off, 1 {1,0}, 2 {1,LINGER_S}; nbio: FIONBIO non-blocking;
 * pending: data still queued at the close (the peer does not read for
 * peer_delay ms); else everything was acknowledged first.
 */
static void matrix_case(int linger, int nbio, int pending, int peer_delay,
			enum wait_kind wk, enum peer_kind pk)
{
	char name[96], expected[128], got[192], pdesc[64], cmd[64];
	int id = next_id++, ret, err = 0, pass;
	unsigned long long sent;
	struct peer_result pr;
	SOCKET s;
	double t0, dt, tconn = now_ms();

	sprintf(name, "close_linger_%s_%s_%s%s", linger == 0 ? "off" : linger == 1 ? "1_0" : "1_n",
		nbio ? "nonblocking" : "blocking", pending ? "pending" : "idle",
		wk == W_DRAIN ? "_drained" : wk == W_EXPIRE ? "_expired" : "");
	if (!wanted(name))
		return;
	sprintf(expected, "ret=0 %s peer=%s",
		wk == W_ONCE ? "at once" : wk == W_DRAIN ? "waits until drained" : "waits 2s",
		pk == P_ALL_EOF ? "all+EOF" : (wk == W_EXPIRE ? "RST at expiry" : "RST"));
	if (pending) {
		sprintf(cmd, "SINK %d %d\n", id, peer_delay);
		tconn = now_ms();
		s = peer_conn(cmd);
		if (s == INVALID_SOCKET) {
			report(name, expected, "no connection to the peer", 0);
			return;
		}
		sent = fill(s, 0);
	} else {
		char a;

		sent = 4096;
		sprintf(cmd, "ACKSINK %d %llu\n", id, sent);
		s = peer_conn(cmd);
		if (s == INVALID_SOCKET) {
			report(name, expected, "no connection to the peer", 0);
			return;
		}
		send_pattern(s, sent);
		if (recv(s, &a, 1, 0) != 1) {
			report(name, expected, "no ack from the peer", 0);
			closesocket(s);
			return;
		}
	}
	set_nbio(s, (u_long)nbio);
	apply_linger(s, linger);
	t0 = now_ms();
	ret = closesocket(s);
	if (ret)
		err = WSAGetLastError();
	dt = now_ms() - t0;
	if (ret) {
		/* Not closed: let it go abortively so that the next case starts clean. */
		set_linger(s, 1, 0);
		closesocket(s);
	}
	peer_result(id, 15000, &pr);
	describe_peer(&pr, sent, pdesc);
	if (ret)
		sprintf(got, "ret=-1 err=%d after %.0fms peer=%s", err, dt, pdesc);
	else
		sprintf(got, "ret=0 after %.0fms peer=%s", dt, pdesc);
	pass = ret == 0;
	if (wk == W_ONCE)
		pass = pass && dt < AT_ONCE_MS;
	else if (wk == W_DRAIN)
		/* it must have waited for the peer to start reading */
		pass = pass && dt >= peer_delay - (t0 - tconn) - 300 && dt < LINGER_S * 1000 - 50;
	else
		pass = pass && dt >= LINGER_S * 1000 - 300 && dt < LINGER_S * 1000 + 3000;
	pass = pass && (pk == P_ALL_EOF ? peer_all_eof(&pr, sent) : peer_reset(&pr, sent));
	report(name, expected, got, pass);
}

static void close_matrix(void)
{
	for (int nbio = 0; nbio <= 1; nbio++) {
		/* linger off: graceful in the background, never waits */
		matrix_case(0, nbio, 0, 0, W_ONCE, P_ALL_EOF);
		matrix_case(0, nbio, 1, 1500, W_ONCE, P_ALL_EOF);
		/* {1,0}: hard close, RST */
		matrix_case(1, nbio, 0, 0, W_ONCE, P_RST);
		matrix_case(1, nbio, 1, 1000, W_ONCE, P_RST);
		/* {1,n}, nothing pending: graceful, returns at once */
		matrix_case(2, nbio, 0, 0, W_ONCE, P_ALL_EOF);
	}
	/* {1,n}, pending, blocking: waits until drained or the time-out, then RST */
	matrix_case(2, 0, 1, 1200, W_DRAIN, P_ALL_EOF);
	matrix_case(2, 0, 1, 5000, W_EXPIRE, P_RST);
}

/* ---- WSAEWOULDBLOCK and each retry path --------------------------------- */

enum retry { R_NONE, R_LINGER0, R_DONTLINGER, R_SHUTDOWN, R_DRAINED };

static void wouldblock_case(enum retry how)
{
	static const char *names[] = { "close_nonblocking_linger_1_n_pending_wouldblock",
		"close_wouldblock_retry_after_linger_1_0", "close_wouldblock_retry_after_dontlinger",
		"close_wouldblock_retry_after_shutdown", "close_wouldblock_retry_after_drain" };
	static const char *exp[] = {
		"WSAEWOULDBLOCK at once; handle valid; nothing sent to the peer",
		"WSAEWOULDBLOCK; then 0 at once; peer RST",
		"WSAEWOULDBLOCK; then 0 at once; peer all+EOF",
		"WSAEWOULDBLOCK; then 0 at once; peer all+EOF",
		"WSAEWOULDBLOCK until the peer has read all; then 0; peer all+EOF" };
	char cmd[64], got[256], pdesc[64];
	int id = next_id++, ret, err = 0, pass, valid, tries = 0;
	unsigned long long sent;
	struct peer_result pr, before;
	LINGER l;
	int ll = sizeof(l);
	SOCKET s;
	double t0, dt, dt2 = 0;

	if (!wanted(names[how]))
		return;
	sprintf(cmd, "SINK %d -1\n", id);
	s = peer_conn(cmd);
	if (s == INVALID_SOCKET) {
		report(names[how], exp[how], "no connection to the peer", 0);
		return;
	}
	sent = fill(s, 0);
	set_linger(s, 1, LINGER_S);
	t0 = now_ms();
	ret = closesocket(s);
	err = ret ? WSAGetLastError() : 0;
	dt = now_ms() - t0;
	valid = getsockopt(s, SOL_SOCKET, SO_LINGER, (char *)&l, &ll) == 0;
	peer_result(id, 0, &before);
	if (ret != SOCKET_ERROR || err != WSAEWOULDBLOCK) {
		peer_release(id);
		peer_result(id, 15000, &pr);
		describe_peer(&pr, sent, pdesc);
		sprintf(got, "first close: ret=%d err=%d after %.0fms, handle %s; peer=%s", ret, err, dt,
			valid ? "valid" : "gone", pdesc);
		if (!ret && valid) {
			set_linger(s, 1, 0);
			closesocket(s);
		}
		report(names[how], exp[how], got, 0);
		return;
	}
	if (how == R_NONE) {
		pass = dt < AT_ONCE_MS && valid && !strcmp(before.end, "OPEN") && before.bytes == 0;
		sprintf(got, "WSAEWOULDBLOCK after %.0fms, handle %s, peer end=%s", dt,
			valid ? "valid" : "gone", before.end);
		set_linger(s, 1, 0);
		closesocket(s);
		peer_release(id);
		peer_result(id, 15000, &pr);
		report(names[how], exp[how], got, pass);
		return;
	}
	switch (how) {
	case R_LINGER0:
		set_linger(s, 1, 0);
		break;
	case R_DONTLINGER: {
		BOOL t = TRUE;

		setsockopt(s, SOL_SOCKET, SO_DONTLINGER, (char *)&t, sizeof(t));
		break;
	}
	case R_SHUTDOWN:
		shutdown(s, SD_SEND);
		break;
	case R_DRAINED:
		peer_release(id);
		break;
	default:
		break;
	}
	t0 = now_ms();
	do {
		tries++;
		ret = closesocket(s);
		err = ret ? WSAGetLastError() : 0;
		if (ret && err == WSAEWOULDBLOCK && how == R_DRAINED)
			Sleep(50);
	} while (ret && err == WSAEWOULDBLOCK && how == R_DRAINED && now_ms() - t0 < 15000);
	dt2 = now_ms() - t0;
	if (how != R_DRAINED)
		peer_release(id);
	if (ret) {
		set_linger(s, 1, 0);
		closesocket(s);
	}
	peer_result(id, 15000, &pr);
	describe_peer(&pr, sent, pdesc);
	sprintf(got, "WSAEWOULDBLOCK; retry: ret=%d err=%d after %.0fms (%d tries); peer=%s",
		ret, err, dt2, tries, pdesc);
	pass = ret == 0;
	if (how != R_DRAINED)
		pass = pass && dt2 < AT_ONCE_MS;
	pass = pass && (how == R_LINGER0 ? peer_reset(&pr, sent) : peer_all_eof(&pr, sent));
	report(names[how], exp[how], got, pass);
}

/* ---- SO_DONTLINGER FALSE keeps the time-out ------------------------------ */

static void dontlinger_case(void)
{
	const char *name = "so_dontlinger_false_keeps_timeout";
	const char *expected = "SO_LINGER reads {1,2}; blocking close waits until drained; peer all+EOF";
	char cmd[64], got[256], pdesc[64];
	int id = next_id++, ret, err = 0, ll;
	BOOL b;
	LINGER l;
	unsigned long long sent;
	struct peer_result pr;
	SOCKET s;
	double t0, dt, tconn;

	if (!wanted(name))
		return;
	sprintf(cmd, "SINK %d 1200\n", id);
	tconn = now_ms();
	s = peer_conn(cmd);
	if (s == INVALID_SOCKET) {
		report(name, expected, "no connection to the peer", 0);
		return;
	}
	set_linger(s, 1, LINGER_S);
	b = TRUE;
	setsockopt(s, SOL_SOCKET, SO_DONTLINGER, (char *)&b, sizeof(b));
	b = FALSE;
	setsockopt(s, SOL_SOCKET, SO_DONTLINGER, (char *)&b, sizeof(b));
	memset(&l, 0xcc, sizeof(l));
	ll = sizeof(l);
	getsockopt(s, SOL_SOCKET, SO_LINGER, (char *)&l, &ll);
	sent = fill(s, 0);
	set_nbio(s, 0);
	t0 = now_ms();
	ret = closesocket(s);
	err = ret ? WSAGetLastError() : 0;
	dt = now_ms() - t0;
	peer_result(id, 15000, &pr);
	describe_peer(&pr, sent, pdesc);
	sprintf(got, "SO_LINGER {%u,%u}; close ret=%d err=%d after %.0fms; peer=%s",
		l.l_onoff, l.l_linger, ret, err, dt, pdesc);
	report(name, expected, got, l.l_onoff == 1 && l.l_linger == LINGER_S && ret == 0 &&
	       dt >= 1200 - (t0 - tconn) - 300 && dt < LINGER_S * 1000 - 50 &&
	       peer_all_eof(&pr, sent));
}

/* ---- pending operations when the socket is closed ------------------------ */

struct waiter {
	SOCKET s;
	HANDLE ready;
	int ret, err;
	double done;
	fd_set rfds;
	WSAPOLLFD pfd;
};

static DWORD WINAPI recv_thread(void *arg)
{
	struct waiter *w = arg;
	char c;

	SetEvent(w->ready);
	w->ret = recv(w->s, &c, 1, 0);
	w->err = w->ret < 0 ? WSAGetLastError() : 0;
	w->done = now_ms();
	return 0;
}

static DWORD WINAPI accept_thread(void *arg)
{
	struct waiter *w = arg;
	SOCKET a;

	SetEvent(w->ready);
	a = accept(w->s, NULL, NULL);
	w->ret = a == INVALID_SOCKET ? -1 : 0;
	w->err = a == INVALID_SOCKET ? WSAGetLastError() : 0;
	w->done = now_ms();
	if (a != INVALID_SOCKET)
		closesocket(a);
	return 0;
}

static DWORD WINAPI select_thread(void *arg)
{
	struct waiter *w = arg;
	struct timeval tv = { 5, 0 };

	FD_ZERO(&w->rfds);
	FD_SET(w->s, &w->rfds);
	SetEvent(w->ready);
	w->ret = select(0, &w->rfds, NULL, NULL, &tv);
	w->err = w->ret < 0 ? WSAGetLastError() : 0;
	w->done = now_ms();
	return 0;
}

static DWORD WINAPI poll_thread(void *arg)
{
	struct waiter *w = arg;

	w->pfd.fd = w->s;
	w->pfd.events = POLLRDNORM | POLLRDBAND;
	w->pfd.revents = 0;
	SetEvent(w->ready);
	w->ret = WSAPoll(&w->pfd, 1, 5000);
	w->err = w->ret < 0 ? WSAGetLastError() : 0;
	w->done = now_ms();
	return 0;
}

/* A connected socket whose peer holds (sends nothing, reads nothing). */
static SOCKET held_conn(int *id)
{
	char cmd[64];

	*id = next_id++;
	sprintf(cmd, "SINK %d -1\n", *id);
	return peer_conn(cmd);
}

static SOCKET listener(unsigned short *port)
{
	struct sockaddr_in sin = loopback(0);
	int len = sizeof(sin);
	SOCKET l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);

	small_sndbuf(l);
	if (bind(l, (struct sockaddr *)&sin, sizeof(sin)) || listen(l, 5) ||
	    getsockname(l, (struct sockaddr *)&sin, &len)) {
		closesocket(l);
		return INVALID_SOCKET;
	}
	*port = ntohs(sin.sin_port);
	return l;
}

/* Start fn on w, close w->s 300 ms later, wait up to 3 s for fn to end. */
static int close_under(LPTHREAD_START_ROUTINE fn, struct waiter *w, double *woke)
{
	HANDLE th;
	double t0;
	DWORD r;

	w->ready = CreateEventA(NULL, TRUE, FALSE, NULL);
	w->done = 0;
	th = CreateThread(NULL, 0, fn, w, 0, NULL);
	WaitForSingleObject(w->ready, 5000);
	Sleep(300);
	t0 = now_ms();
	closesocket(w->s);
	r = WaitForSingleObject(th, 3000);
	if (r != WAIT_OBJECT_0)
		TerminateThread(th, 1);
	CloseHandle(th);
	CloseHandle(w->ready);
	*woke = r == WAIT_OBJECT_0 ? w->done - t0 : -1;
	return r == WAIT_OBJECT_0;
}

static void waiter_cases(void)
{
	struct waiter w;
	char got[192];
	double woke;
	int id, ok;
	unsigned short port;

	if (wanted("abort_blocked_recv")) {
		memset(&w, 0, sizeof(w));
		w.s = held_conn(&id);
		ok = close_under(recv_thread, &w, &woke);
		if (ok)
			sprintf(got, "ret=%d err=%d after %.0fms", w.ret, w.err, woke);
		else
			strcpy(got, "still blocked 3 s after the close");
		report("abort_blocked_recv", "recv fails with WSAECONNABORTED (10053) at once", got,
		       ok && w.ret == SOCKET_ERROR && w.err == WSAECONNABORTED && woke < AT_ONCE_MS);
		peer_release(id);
	}
	if (wanted("abort_blocked_accept")) {
		memset(&w, 0, sizeof(w));
		w.s = listener(&port);
		ok = close_under(accept_thread, &w, &woke);
		if (ok)
			sprintf(got, "ret=%d err=%d after %.0fms", w.ret, w.err, woke);
		else
			strcpy(got, "still blocked 3 s after the close");
		report("abort_blocked_accept", "accept fails with WSAEINTR (10004) at once", got,
		       ok && w.ret == -1 && w.err == WSAEINTR && woke < AT_ONCE_MS);
	}
	if (wanted("abort_select_waiter")) {
		memset(&w, 0, sizeof(w));
		w.s = held_conn(&id);
		ok = close_under(select_thread, &w, &woke);
		if (ok)
			sprintf(got, "ret=%d err=%d readable=%d after %.0fms", w.ret, w.err,
				w.ret > 0 && w.rfds.fd_count == 1, woke);
		else
			strcpy(got, "still waiting 3 s after the close");
		report("abort_select_waiter", "select returns 1, socket readable, at once", got,
		       ok && w.ret == 1 && w.rfds.fd_count == 1 && woke < AT_ONCE_MS);
		peer_release(id);
	}
	if (wanted("abort_wsapoll_waiter")) {
		memset(&w, 0, sizeof(w));
		w.s = held_conn(&id);
		ok = close_under(poll_thread, &w, &woke);
		if (ok)
			sprintf(got, "ret=%d revents=%#x after %.0fms", w.ret, w.pfd.revents, woke);
		else
			strcpy(got, "still waiting 3 s after the close");
		report("abort_wsapoll_waiter", "WSAPoll returns 1 with POLLNVAL (0x4) at once", got,
		       ok && w.ret == 1 && w.pfd.revents == POLLNVAL && woke < AT_ONCE_MS);
		peer_release(id);
	}
}

static void overlapped_cases(void)
{
	char got[192], data[64];
	WSABUF buf = { sizeof(data), data };
	DWORD bytes, flags;
	int id, r;

	if (wanted("abort_overlapped_wsarecv_iocp")) {
		WSAOVERLAPPED ovl, *povl = NULL;
		ULONG_PTR key = 0;
		HANDLE port;
		SOCKET s = held_conn(&id);
		BOOL ok;
		DWORD e;

		memset(&ovl, 0, sizeof(ovl));
		port = CreateIoCompletionPort((HANDLE)s, NULL, 0x1234, 0);
		flags = 0;
		r = WSARecv(s, &buf, 1, &bytes, &flags, &ovl, NULL);
		e = WSAGetLastError();
		Sleep(200);
		closesocket(s);
		SetLastError(0xdeadbeef);
		bytes = 0xdeadbeef;
		ok = GetQueuedCompletionStatus(port, &bytes, &key, &povl, 3000);
		e = GetLastError();
		if (r != SOCKET_ERROR)
			sprintf(got, "WSARecv did not pend (ret %d)", r);
		else if (!povl)
			sprintf(got, "no completion within 3 s (error %lu)", e);
		else
			sprintf(got, "GQCS=%d error=%lu Internal=%#lx bytes=%lu", ok, ok ? 0 : e,
				(unsigned long)ovl.Internal, bytes);
		report("abort_overlapped_wsarecv_iocp",
		       "completion: FALSE, ERROR_CONNECTION_ABORTED (1236), Internal STATUS_CONNECTION_ABORTED (0xc0000241)",
		       got, r == SOCKET_ERROR && povl == &ovl && !ok &&
		       (e == ERROR_CONNECTION_ABORTED || e == ERROR_NETNAME_DELETED) &&
		       ((DWORD)ovl.Internal == STATUS_CONNECTION_ABORTED ||
			(DWORD)ovl.Internal == STATUS_LOCAL_DISCONNECT));
		CloseHandle(port);
		peer_release(id);
	}
	if (wanted("abort_overlapped_wsarecv_event")) {
		WSAOVERLAPPED ovl;
		SOCKET s = held_conn(&id);
		DWORD w, e;
		BOOL ok;

		memset(&ovl, 0, sizeof(ovl));
		ovl.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
		flags = 0;
		r = WSARecv(s, &buf, 1, &bytes, &flags, &ovl, NULL);
		Sleep(200);
		closesocket(s);
		w = WaitForSingleObject(ovl.hEvent, 3000);
		SetLastError(0xdeadbeef);
		ok = GetOverlappedResult((HANDLE)s, &ovl, &bytes, FALSE);
		e = GetLastError();
		if (r != SOCKET_ERROR)
			sprintf(got, "WSARecv did not pend (ret %d)", r);
		else if (w != WAIT_OBJECT_0)
			sprintf(got, "event not signalled within 3 s");
		else
			sprintf(got, "GetOverlappedResult=%d error=%lu Internal=%#lx", ok, ok ? 0 : e,
				(unsigned long)ovl.Internal);
		report("abort_overlapped_wsarecv_event",
		       "event set; FALSE, ERROR_CONNECTION_ABORTED (1236), Internal STATUS_CONNECTION_ABORTED",
		       got, r == SOCKET_ERROR && w == WAIT_OBJECT_0 && !ok &&
		       (e == ERROR_CONNECTION_ABORTED || e == ERROR_NETNAME_DELETED) &&
		       ((DWORD)ovl.Internal == STATUS_CONNECTION_ABORTED ||
			(DWORD)ovl.Internal == STATUS_LOCAL_DISCONNECT));
		CloseHandle(ovl.hEvent);
		peer_release(id);
	}
	if (wanted("abort_overlapped_acceptex")) {
		LPFN_ACCEPTEX pAcceptEx = NULL;
		GUID guid = WSAID_ACCEPTEX;
		WSAOVERLAPPED ovl;
		unsigned short port;
		SOCKET l = listener(&port), a = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
		char abuf[2 * (sizeof(struct sockaddr_in) + 16)];
		DWORD w, e, n;
		BOOL ok, bret;

		WSAIoctl(l, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof(guid), &pAcceptEx,
			 sizeof(pAcceptEx), &n, NULL, NULL);
		memset(&ovl, 0, sizeof(ovl));
		ovl.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
		bret = pAcceptEx && pAcceptEx(l, a, abuf, 0, sizeof(struct sockaddr_in) + 16,
					      sizeof(struct sockaddr_in) + 16, &n, &ovl);
		e = WSAGetLastError();
		Sleep(200);
		closesocket(l);
		w = WaitForSingleObject(ovl.hEvent, 3000);
		SetLastError(0xdeadbeef);
		ok = GetOverlappedResult((HANDLE)l, &ovl, &n, FALSE);
		e = GetLastError();
		if (bret || !pAcceptEx)
			sprintf(got, "AcceptEx did not pend");
		else if (w != WAIT_OBJECT_0)
			sprintf(got, "event not signalled within 3 s");
		else
			sprintf(got, "GetOverlappedResult=%d error=%lu Internal=%#lx", ok, ok ? 0 : e,
				(unsigned long)ovl.Internal);
		report("abort_overlapped_acceptex",
		       "event set; FALSE, ERROR_OPERATION_ABORTED (995), Internal STATUS_CANCELLED",
		       got, !bret && w == WAIT_OBJECT_0 && !ok && e == ERROR_OPERATION_ABORTED &&
		       (DWORD)ovl.Internal == STATUS_CANCELLED);
		closesocket(a);
		CloseHandle(ovl.hEvent);
	}
}

/* ---- linger options that must not change ---------------------------------- */

static int CALLBACK defer_condition(LPWSABUF a, LPWSABUF b, LPQOS c, LPQOS d, LPWSABUF e,
				   LPWSABUF f, GROUP *g, DWORD_PTR h)
{
	(void)a; (void)b; (void)c; (void)d; (void)e; (void)f; (void)g; (void)h;
	return CF_DEFER;
}

/*
 * WSAAccept's CF_DEFER keeps the connection for the next accept (Wine's
 * test_AcceptEx, "CF_DEFER & AcceptEx", checked on Windows): the AcceptEx
 * posted next gets the first client's connection, a later accept() the
 * second's, and closing that one leaves the first alone.
 */
static void defer_case(void)
{
	const char *name = "cf_defer_then_acceptex";
	LPFN_ACCEPTEX pAcceptEx = NULL;
	GUID guid = WSAID_ACCEPTEX;
	unsigned short port;
	SOCKET l = listener(&port), acc = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	SOCKET c1 = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP), c2 = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP), a2;
	struct sockaddr_in sin = loopback(port);
	char buf[2 * (sizeof(struct sockaddr_in) + 16)], got[192];
	WSAOVERLAPPED ovl;
	fd_set fs;
	struct timeval tv = { 3, 0 };
	int deferr, r, rerr;
	DWORD n;
	BOOL ok;

	if (!wanted(name))
		return;
	WSAIoctl(l, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof(guid), &pAcceptEx,
		 sizeof(pAcceptEx), &n, NULL, NULL);
	set_nbio(c1, 1);
	set_nbio(c2, 1);
	connect(c1, (struct sockaddr *)&sin, sizeof(sin));
	FD_ZERO(&fs);
	FD_SET(l, &fs);
	select(0, &fs, NULL, NULL, &tv);
	a2 = WSAAccept(l, NULL, NULL, defer_condition, 0);
	deferr = a2 == INVALID_SOCKET ? WSAGetLastError() : 0;
	memset(&ovl, 0, sizeof(ovl));
	ovl.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
	pAcceptEx(l, acc, buf, 0, sizeof(struct sockaddr_in) + 16, sizeof(struct sockaddr_in) + 16, &n, &ovl);
	FD_ZERO(&fs);
	FD_SET(c1, &fs);
	select(0, NULL, &fs, NULL, &tv);
	send(c1, "1", 1, 0);
	connect(c2, (struct sockaddr *)&sin, sizeof(sin));
	FD_ZERO(&fs);
	FD_SET(l, &fs);
	select(0, &fs, NULL, NULL, &tv);
	a2 = accept(l, NULL, NULL);
	closesocket(a2);
	FD_ZERO(&fs);
	FD_SET(c2, &fs);
	select(0, NULL, &fs, NULL, &tv);
	send(c2, "2", 1, 0);
	WaitForSingleObject(ovl.hEvent, 3000);
	ok = GetOverlappedResult((HANDLE)l, &ovl, &n, FALSE);
	set_nbio(acc, 0);
	buf[0] = 0;
	r = recv(acc, buf, 1, 0);
	rerr = r < 0 ? WSAGetLastError() : 0;
	sprintf(got, "WSAAccept err=%d; AcceptEx %s (Internal %#lx); recv %d err=%d '%c'", deferr,
		ok ? "done" : "failed", (unsigned long)ovl.Internal, r, rerr, r == 1 ? buf[0] : '-');
	report(name, "WSATRY_AGAIN; AcceptEx done; it holds the first client ('1')", got,
	       deferr == WSATRY_AGAIN && ok && r == 1 && buf[0] == '1');
	CloseHandle(ovl.hEvent);
	closesocket(acc);
	closesocket(c1);
	closesocket(c2);
	closesocket(l);
}

static void option_cases(void)
{
	char got[160];

	if (wanted("accepted_socket_inherits_linger")) {
		unsigned short port;
		SOCKET l = listener(&port), c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP), a;
		struct sockaddr_in sin = loopback(port);
		LINGER lg;
		int len = sizeof(lg), r;

		set_linger(l, 1, 555);
		connect(c, (struct sockaddr *)&sin, sizeof(sin));
		a = accept(l, NULL, NULL);
		memset(&lg, 0xcc, sizeof(lg));
		r = getsockopt(a, SOL_SOCKET, SO_LINGER, (char *)&lg, &len);
		sprintf(got, "ret=%d SO_LINGER {%u,%u}", r, lg.l_onoff, lg.l_linger);
		report("accepted_socket_inherits_linger", "SO_LINGER {1,555} as set on the listener", got,
		       r == 0 && lg.l_onoff == 1 && lg.l_linger == 555);
		set_linger(a, 1, 0);
		closesocket(a);
		closesocket(c);
		closesocket(l);
	}
	if (wanted("udp_so_linger_noprotoopt")) {
		SOCKET u = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
		LINGER lg;
		int len = sizeof(lg), r, e;

		r = getsockopt(u, SOL_SOCKET, SO_LINGER, (char *)&lg, &len);
		e = r ? WSAGetLastError() : 0;
		sprintf(got, "ret=%d err=%d", r, e);
		report("udp_so_linger_noprotoopt", "getsockopt(SO_LINGER) on UDP: WSAENOPROTOOPT (10042)",
		       got, r == SOCKET_ERROR && e == WSAENOPROTOOPT);
		closesocket(u);
	}
}

/* ---- the wineserver must not freeze while a lingering socket closes ----- */

struct rtt {
	volatile LONG stop;
	HANDLE ev, started;
	double max;
	long count;
};

/* Each ResetEvent is one wineserver round trip under Wine. */
static DWORD WINAPI rtt_thread(void *arg)
{
	struct rtt *r = arg;

	SetEvent(r->started);
	while (!r->stop) {
		double t0 = now_ms(), dt;

		ResetEvent(r->ev);
		dt = now_ms() - t0;
		if (dt > r->max)
			r->max = dt;
		r->count++;
		Sleep(1);
	}
	return 0;
}

static HANDLE rtt_start(struct rtt *r)
{
	HANDLE th;

	memset((void *)r, 0, sizeof(*r));
	r->ev = CreateEventA(NULL, TRUE, FALSE, NULL);
	r->started = CreateEventA(NULL, TRUE, FALSE, NULL);
	th = CreateThread(NULL, 0, rtt_thread, r, 0, NULL);
	WaitForSingleObject(r->started, 5000);
	return th;
}

static void rtt_stop(struct rtt *r, HANDLE th)
{
	InterlockedExchange(&r->stop, 1);
	WaitForSingleObject(th, 5000);
	CloseHandle(th);
	CloseHandle(r->ev);
	CloseHandle(r->started);
}

/* An accepted connection from the peer, which does not read for delay ms. */
static SOCKET accepted_from_peer(int id, int delay)
{
	unsigned short port;
	SOCKET l = listener(&port), a;
	char cmd[64], out[64];

	if (l == INVALID_SOCKET)
		return INVALID_SOCKET;
	sprintf(cmd, "CONNECT %d %u %d\n", id, port, delay);
	if (peer_cmd(cmd, out, sizeof(out)) || strcmp(out, "OK")) {
		closesocket(l);
		return INVALID_SOCKET;
	}
	a = accept(l, NULL, NULL);
	closesocket(l);
	if (a != INVALID_SOCKET)
		small_sndbuf(a);
	return a;
}

static void freeze_case(void)
{
	const char *name = "no_server_freeze_lingering_accepted_close";
	const char *name2 = "close_accepted_linger_1_n_blocking_pending_expired";
	char got[192], pdesc[64];
	int id = next_id++, ret, err;
	unsigned long long sent;
	struct peer_result pr;
	struct rtt r;
	HANDLE th;
	SOCKET a;
	double t0, dt;

	if (!wanted(name))
		return;
	a = accepted_from_peer(id, 5000);
	if (a == INVALID_SOCKET) {
		report(name, "max server round trip < 1000 ms", "no accepted connection", 0);
		return;
	}
	sent = fill(a, 0);
	set_nbio(a, 0);
	set_linger(a, 1, LINGER_S);
	th = rtt_start(&r);
	Sleep(100);
	t0 = now_ms();
	ret = closesocket(a);
	err = ret ? WSAGetLastError() : 0;
	dt = now_ms() - t0;
	Sleep(300);
	rtt_stop(&r, th);
	sprintf(got, "max round trip %.0fms over %ld calls (close took %.0fms)", r.max, r.count, dt);
	report(name, "another thread's server round trip stays < 1000 ms", got, r.max < FREEZE_MS);
	peer_result(id, 15000, &pr);
	describe_peer(&pr, sent, pdesc);
	sprintf(got, "ret=%d err=%d after %.0fms peer=%s", ret, err, dt, pdesc);
	report(name2, "ret=0 waits 2s peer=RST at expiry", got,
	       ret == 0 && dt >= LINGER_S * 1000 - 300 && dt < LINGER_S * 1000 + 3000 &&
	       peer_reset(&pr, sent));
}

/* ---- a process that exits holding a lingering socket --------------------- */

static int child_exit(void)
{
	int id = 200;
	SOCKET a = accepted_from_peer(id, 5000);
	HANDLE ev = OpenEventA(EVENT_MODIFY_STATE, FALSE, "wsctest-child-ready");

	if (a == INVALID_SOCKET)
		return 2;
	fill(a, 0);
	set_nbio(a, 0);
	set_linger(a, 1, LINGER_S);
	SetEvent(ev);
	Sleep(200);
	ExitProcess(0); /* holding the socket */
	return 0;
}

static void exit_case(const char *self)
{
	const char *name = "no_server_freeze_process_exit_lingering";
	char cmdline[MAX_PATH + 64], got[256];
	STARTUPINFOA si;
	PROCESS_INFORMATION pi;
	HANDLE ready, th;
	struct peer_result pr;
	struct rtt r;
	DWORD w;
	double t0, dt = -1;

	if (!wanted(name))
		return;
	ready = CreateEventA(NULL, TRUE, FALSE, "wsctest-child-ready");
	sprintf(cmdline, "\"%s\" child-exit %u", self, peer_port);
	memset(&si, 0, sizeof(si));
	si.cb = sizeof(si);
	if (!CreateProcessA(NULL, cmdline, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
		report(name, "max server round trip < 1000 ms", "CreateProcess failed", 0);
		return;
	}
	w = WaitForMultipleObjects(2, (HANDLE[]){ ready, pi.hProcess }, FALSE, 300000);
	if (w != WAIT_OBJECT_0) {
		report(name, "max server round trip < 1000 ms", "the child did not get ready", 0);
		return;
	}
	th = rtt_start(&r);
	t0 = now_ms();
	if (WaitForSingleObject(pi.hProcess, 30000) == WAIT_OBJECT_0)
		dt = now_ms() - t0;
	Sleep(LINGER_S * 1000 + 1000);
	rtt_stop(&r, th);
	peer_result(200, 15000, &pr);
	sprintf(got, "max round trip %.0fms over %ld calls; child gone after %.0fms; peer bytes=%llu end=%s",
		r.max, r.count, dt, pr.bytes, pr.end);
	report(name, "another thread's server round trip stays < 1000 ms", got, r.max < FREEZE_MS);
	CloseHandle(pi.hProcess);
	CloseHandle(pi.hThread);
	CloseHandle(ready);
}

int main(int argc, char **argv)
{
	WSADATA wsa;
	char self[MAX_PATH], out[64];

	setvbuf(stdout, NULL, _IONBF, 0);
	if (WSAStartup(MAKEWORD(2, 2), &wsa)) {
		printf("wsctest: WSAStartup failed\n");
		return 1;
	}
	if (argc > 2 && !strcmp(argv[1], "child-exit")) {
		peer_port = (unsigned short)atoi(argv[2]);
		return child_exit();
	}
	if (argc > 1)
		peer_port = (unsigned short)atoi(argv[1]);
	if (argc > 2)
		filter = argv[2];
	if (peer_cmd("RESULT 0 0\n", out, sizeof(out))) {
		printf("wsctest: no peer on 127.0.0.1:%u\n", peer_port);
		return 1;
	}
	GetModuleFileNameA(NULL, self, sizeof(self));

	close_matrix();
	for (int how = R_NONE; how <= R_DRAINED; how++)
		wouldblock_case((enum retry)how);
	dontlinger_case();
	option_cases();
	defer_case();
	waiter_cases();
	overlapped_cases();
	freeze_case();
	exit_case(self);

	printf("wsctest: %d passed, %d failed\n", npass, nfail);
	WSACleanup();
	return nfail ? 1 : 0;
}
