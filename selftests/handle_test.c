// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose handle selftests: wsclose_duplicate() makes counted handles; only
 * the last one closes the socket, in any order; a handle passed to another
 * process keeps the socket alive there; dup(2) and fork(2) copies are
 * aliases of one handle.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "helpers.h"

FIXTURE(handles) {
	int s, peer;
};

FIXTURE_VARIANT(handles) {
	int family;
};

FIXTURE_VARIANT_ADD(handles, v4) { AF_INET };
FIXTURE_VARIANT_ADD(handles, v6) { AF_INET6 };

FIXTURE_SETUP(handles)
{
	self->s = wsclose_socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, self->s);
	self->peer = connect_peer(self->s, variant->family, 0);
	ASSERT_LE(0, self->peer);
}

FIXTURE_TEARDOWN(handles)
{
	close(self->peer);
}

static int closesocket_outcome(int s, int *err)
{
	int outcome = -1;

	if (wsclose_closesocket_outcome(s, 0, &outcome, err))
		return -1;
	return outcome;
}

/* A duplicate is a working socket descriptor of the same connection. */
TEST_F(handles, duplicate_is_the_same_socket)
{
	int d = wsclose_duplicate(self->s), err, on;
	unsigned short secs;
	char buf[8];

	ASSERT_LE(0, d);
	ASSERT_EQ(3, send(d, "abc", 3, 0));
	ASSERT_EQ(3, recv(self->peer, buf, sizeof(buf), 0));
	ASSERT_EQ(2, send(self->peer, "de", 2, 0));
	ASSERT_EQ(2, recv(d, buf, sizeof(buf), 0));
	EXPECT_EQ(WSCLOSE_STATE_OPEN, query_state(d));
	/* the linger setting is the socket's, whichever handle sets it */
	ASSERT_EQ(0, wsclose_set_linger(d, 1, 9, &err));
	ASSERT_EQ(0, wsclose_get_linger(self->s, &on, &secs, &err));
	EXPECT_EQ(1, on);
	EXPECT_EQ(9, secs);
	EXPECT_EQ(WSCLOSE_OUTCOME_NOT_LAST_HANDLE, closesocket_outcome(d, &err));
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, closesocket_outcome(self->s, &err));
}

/* Only the last handle tears down, whichever order they are closed in. */
TEST_F(handles, only_last_handle_closes)
{
	int d1, d2, err;
	char b;

	d1 = wsclose_duplicate(self->s);
	ASSERT_LE(0, d1);
	d2 = wsclose_duplicate(d1);	/* a duplicate of a duplicate */
	ASSERT_LE(0, d2);

	EXPECT_EQ(WSCLOSE_OUTCOME_NOT_LAST_HANDLE, closesocket_outcome(self->s, &err));
	EXPECT_EQ(-1, fcntl(self->s, F_GETFD));	/* the descriptor went */
	/* the connection is untouched: no FIN */
	EXPECT_EQ(-1, recv(self->peer, &b, 1, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(1, send(d2, "x", 1, 0));
	EXPECT_EQ(1, recv(self->peer, &b, 1, 0));

	EXPECT_EQ(WSCLOSE_OUTCOME_NOT_LAST_HANDLE, closesocket_outcome(d2, &err));
	EXPECT_EQ(-1, recv(self->peer, &b, 1, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);

	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, closesocket_outcome(d1, &err));
	EXPECT_EQ(0, recv(self->peer, &b, 1, 0));	/* now the FIN */
}

/* Aliases of a closed handle: WSAENOTSOCK, while other handles work. */
TEST_F(handles, alias_of_a_closed_handle)
{
	int d, a, err = 0, onoff = 0x5a;
	unsigned short secs = 0x5a5a;
	char b;

	d = wsclose_duplicate(self->s);
	ASSERT_LE(0, d);
	a = dup(d);
	ASSERT_LE(0, a);
	EXPECT_EQ(WSCLOSE_OUTCOME_NOT_LAST_HANDLE, closesocket_outcome(d, &err));
	EXPECT_EQ(-1, closesocket_outcome(a, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	EXPECT_EQ(-1, send(a, "x", 1, MSG_DONTWAIT));
	EXPECT_EQ(ENOTSOCK, errno);
	EXPECT_EQ(-1, wsclose_get_linger(a, &onoff, &secs, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	EXPECT_EQ(0x5a, onoff);
	EXPECT_EQ(0x5a5a, secs);
	EXPECT_EQ(-1, wsclose_duplicate(a));
	EXPECT_EQ(ENOTSOCK, errno);
	EXPECT_EQ(WSCLOSE_STATE_CLOSED, query_state(a));
	/* the other handle still works */
	EXPECT_EQ(1, send(self->s, "y", 1, 0));
	EXPECT_EQ(1, recv(self->peer, &b, 1, 0));
	close(a);
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, closesocket_outcome(self->s, &err));
}

struct blocked_accept {
	int fd;
	int ret, err;
	volatile int done;
};

static void *do_accept(void *arg)
{
	struct blocked_accept *b = arg;

	b->ret = accept(b->fd, NULL, NULL);
	b->err = errno;
	b->done = 1;
	return NULL;
}

/* Closing a handle that is not the last aborts nothing. */
TEST_F(handles, pending_accept_waits_for_last_handle)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(variant->family, &ss, 0);
	struct blocked_accept b = { 0 };
	int l, d, err;
	pthread_t t;

	l = wsclose_socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, bind(l, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, listen(l, 4));
	d = wsclose_duplicate(l);
	ASSERT_LE(0, d);
	b.fd = d;	/* blocked through the duplicate */
	ASSERT_EQ(0, pthread_create(&t, NULL, do_accept, &b));
	sleep_ms(200);
	EXPECT_EQ(WSCLOSE_OUTCOME_NOT_LAST_HANDLE, closesocket_outcome(l, &err));
	sleep_ms(300);
	EXPECT_EQ(0, b.done);	/* still pending */
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, closesocket_outcome(d, &err));
	pthread_join(t, NULL);
	EXPECT_EQ(-1, b.ret);
	EXPECT_EQ(ECANCELED, b.err);
}

/* An accepted connection through a duplicate is an ordinary wsclose socket. */
TEST_F(handles, accept_through_duplicate)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(variant->family, &ss, 0);
	int l, d, c, a, err;

	l = wsclose_socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, bind(l, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, getsockname(l, (struct sockaddr *)&ss, &len));
	ASSERT_EQ(0, listen(l, 4));
	d = wsclose_duplicate(l);
	ASSERT_LE(0, d);
	c = socket(variant->family, SOCK_STREAM, 0);
	ASSERT_EQ(0, connect(c, (struct sockaddr *)&ss, len));
	a = accept(d, NULL, NULL);
	ASSERT_LE(0, a);
	EXPECT_EQ(WSCLOSE_STATE_OPEN, query_state(a));
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, closesocket_outcome(a, &err));
	close(c);
	EXPECT_EQ(WSCLOSE_OUTCOME_NOT_LAST_HANDLE, closesocket_outcome(d, &err));
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, closesocket_outcome(l, &err));
}

static int send_fd(int unix_sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { "h", 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(unix_sock, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int unix_sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c;
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	int fd;

	if (recvmsg(unix_sock, &m, 0) != 1 || !CMSG_FIRSTHDR(&m))
		return -1;
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
	return fd;
}

/* A handle passed to another process keeps the socket alive there. */
TEST_F(handles, passed_to_another_process)
{
	int sv[2], d, err, status;
	char buf[16];
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int h, e, o = -1;

		close(sv[0]);
		h = recv_fd(sv[1]);
		/* wait until the parent has closed its handle */
		if (h < 0 || read(sv[1], buf, 1) != 1)
			_exit(1);
		if (send(h, "child", 5, MSG_NOSIGNAL) != 5)
			_exit(2);
		if (wsclose_closesocket_outcome(h, 0, &o, &e) || o != WSCLOSE_OUTCOME_GRACEFUL)
			_exit(3);
		_exit(0);
	}
	close(sv[1]);
	d = wsclose_duplicate(self->s);
	ASSERT_LE(0, d);
	ASSERT_EQ(0, send_fd(sv[0], d));
	close(d);	/* our alias of the passed handle */
	EXPECT_EQ(WSCLOSE_OUTCOME_NOT_LAST_HANDLE, closesocket_outcome(self->s, &err));
	ASSERT_EQ(1, write(sv[0], "go", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(5, recv(self->peer, buf, sizeof(buf), MSG_WAITALL));
	EXPECT_EQ(0, recv(self->peer, buf, sizeof(buf), 0));
	close(sv[0]);
}

/* dup(2) and fork(2) copies are aliases: closing one closes the handle. */
TEST_F(handles, dup_and_fork_are_aliases)
{
	int a = dup(self->s), err, status;
	pid_t pid;
	char b;

	ASSERT_LE(0, a);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int e;

		/* the child's copy is the same handle: its close is the last */
		_exit(wsclose_closesocket(self->s, &e) ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, recv(self->peer, &b, 1, 0));	/* FIN */
	EXPECT_EQ(-1, wsclose_closesocket(a, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	close(a);
	close(self->s);
}

/* Implicit close of the last handle by close(2): the usual table. */
TEST_F(handles, implicit_close_of_last_duplicate)
{
	int d = wsclose_duplicate(self->s), err;
	char b;

	ASSERT_LE(0, d);
	ASSERT_EQ(0, wsclose_set_linger(d, 1, 0, &err));
	EXPECT_EQ(WSCLOSE_OUTCOME_NOT_LAST_HANDLE, closesocket_outcome(self->s, &err));
	EXPECT_EQ(0, close(d));
	EXPECT_EQ(-1, recv(self->peer, &b, 1, 0));
	EXPECT_EQ(ECONNRESET, errno);
}

/* ---- SIGIO on every handle ------------------------------------------------ */

/* O_ASYNC on @fd, signalled with SIGRTMIN (queued, carries si_fd). */
static int async_on(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETOWN, getpid()) ||
	    fcntl(fd, F_SETSIG, SIGRTMIN))
		return -1;
	return fcntl(fd, F_SETFL, on ? fl | O_ASYNC : fl & ~O_ASYNC);
}

/*
 * The descriptors among @a and @b (bit 1, bit 2) that got SIGRTMIN within
 * @ms, with POLLIN in the band; stops early once both did.
 */
static int sigio_seen(int a, int b, int ms)
{
	double end = now_s() + ms / 1000.0;
	int seen = 0;
	sigset_t set;
	siginfo_t si;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	while (seen != 3) {
		double left = end - now_s();
		struct timespec ts;

		if (left <= 0)
			break;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
		if (sigtimedwait(&set, &si, &ts) < 0)
			break;
		if (!(si.si_band & POLLIN))
			continue;
		if (si.si_fd == a)
			seen |= 1;
		if (si.si_fd == b)
			seen |= 2;
	}
	return seen;
}

/*
 * SIGIO (here its F_SETSIG form, to see which descriptor was signalled)
 * reaches every handle that asked for it, and turning O_ASYNC off on one
 * handle leaves the others signalled.  Old main signalled only the first
 * handle's descriptors, and a duplicate turning O_ASYNC off silenced the
 * first handle too (SOCK_FASYNC is the sock's).
 */
TEST_F(handles, sigio_on_every_handle)
{
	int d = wsclose_duplicate(self->s), err;
	sigset_t set;
	char buf[8];

	ASSERT_LE(0, d);
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));

	/* the duplicate alone */
	ASSERT_EQ(0, async_on(d, 1));
	ASSERT_EQ(1, send(self->peer, "a", 1, 0));
	EXPECT_EQ(2, sigio_seen(self->s, d, 3000));
	ASSERT_EQ(1, recv(d, buf, sizeof(buf), 0));

	/* both handles */
	ASSERT_EQ(0, async_on(self->s, 1));
	ASSERT_EQ(1, send(self->peer, "b", 1, 0));
	EXPECT_EQ(3, sigio_seen(self->s, d, 3000));
	ASSERT_EQ(1, recv(self->s, buf, sizeof(buf), 0));

	/* the duplicate stops asking: the first handle still gets it */
	ASSERT_EQ(0, async_on(d, 0));
	sigio_seen(-2, -2, 200);	/* drain */
	ASSERT_EQ(1, send(self->peer, "c", 1, 0));
	EXPECT_EQ(1, sigio_seen(self->s, d, 1500));
	ASSERT_EQ(1, recv(self->s, buf, sizeof(buf), 0));

	EXPECT_EQ(WSCLOSE_OUTCOME_NOT_LAST_HANDLE, closesocket_outcome(d, &err));
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, closesocket_outcome(self->s, &err));
}

/* ---- the handle of record ------------------------------------------------- */

/*
 * The inode number /proc/net/tcp{,6} gives the connection whose local port
 * is @port (what ss -p and lsof match against /proc/PID/fd), or 0.
 */
static unsigned long proc_net_inode(int family, unsigned int port)
{
	FILE *f = fopen(family == AF_INET ? "/proc/net/tcp" : "/proc/net/tcp6",
			"r");
	char line[512], local[64];
	unsigned long ino = 0, found = 0;
	unsigned int lport;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *colon;

		if (sscanf(line, " %*d: %63s %*s %*x %*s %*s %*s %*u %*u %lu",
			   local, &ino) != 2)
			continue;
		colon = strrchr(local, ':');
		if (colon && sscanf(colon + 1, "%x", &lport) == 1 &&
		    lport == port) {
			found = ino;
			break;
		}
	}
	fclose(f);
	return found;
}

static unsigned int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	return ntohs(ss.ss_family == AF_INET ?
		     ((struct sockaddr_in *)&ss)->sin_port :
		     ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static unsigned long fd_inode(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/*
 * Once a socket has been duplicated, what the kernel reports about the
 * process behind a connection (its socket's inode number in /proc/net/tcp,
 * which ss -p and lsof use; its file, which the netfilter owner match
 * uses) is still a handle's: the first one's, then, when it is closed, a
 * remaining one's.  (Before: the driver's own socket, with no file and an
 * inode no descriptor has, which a uid-based firewall rule did not match.)
 */
TEST_F(handles, duplicated_socket_keeps_a_handle_of_record)
{
	unsigned int port = local_port(self->s);
	int d = wsclose_duplicate(self->s), err;

	ASSERT_LE(0, d);
	ASSERT_NE(0, port);
	EXPECT_EQ(fd_inode(self->s), proc_net_inode(variant->family, port));
	EXPECT_EQ(WSCLOSE_OUTCOME_NOT_LAST_HANDLE,
		  closesocket_outcome(self->s, &err));
	EXPECT_EQ(fd_inode(d), proc_net_inode(variant->family, port));
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, closesocket_outcome(d, &err));
}

/*
 * No free descriptor number: EMFILE, and nothing changed (no handle, the
 * connection as it was).  The number is reserved before anything else.
 */
TEST_F(handles, duplicate_without_free_number)
{
	int lowest = dup(0), err;
	struct rlimit rl, low;
	char buf[4];

	ASSERT_LE(0, lowest);
	close(lowest);
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	low = rl;
	low.rlim_cur = (rlim_t)lowest;	/* every number below it is taken */
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &low));
	errno = 0;
	EXPECT_EQ(-1, wsclose_duplicate(self->s));
	EXPECT_EQ(EMFILE, errno);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	EXPECT_EQ(1, query_handles(self->s));
	ASSERT_EQ(2, send(self->s, "ok", 2, 0));
	ASSERT_EQ(2, recv(self->peer, buf, sizeof(buf), 0));
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, closesocket_outcome(self->s, &err));
}

TEST(bad_duplicate_arguments)
{
	struct wsclose_dup_args a;
	int s, p[2], plain, d;

	s = wsclose_socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, s);
	plain = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, plain);
	ASSERT_EQ(0, pipe(p));
	a = (struct wsclose_dup_args){ .flags = 2 };
	EXPECT_EQ(-1, ioctl(s, WSCLOSE_SIOC_DUPLICATE, &a));
	EXPECT_EQ(EINVAL, errno);
	a = (struct wsclose_dup_args){ .pad = 1 };
	EXPECT_EQ(-1, ioctl(s, WSCLOSE_SIOC_DUPLICATE, &a));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(s, WSCLOSE_SIOC_DUPLICATE, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(1, query_handles(s));	/* none of that made a handle */
	/* not a wsclose socket: the socket layer does not know the command */
	a = (struct wsclose_dup_args){ 0 };
	EXPECT_EQ(-1, ioctl(plain, WSCLOSE_SIOC_DUPLICATE, &a));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(p[0], WSCLOSE_SIOC_DUPLICATE, &a));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, wsclose_duplicate(plain));
	EXPECT_EQ(ENOTSOCK, errno);
	EXPECT_EQ(-1, wsclose_duplicate(p[0]));
	EXPECT_EQ(ENOTSOCK, errno);

	a = (struct wsclose_dup_args){ .flags = WSCLOSE_DUP_CLOEXEC };
	d = ioctl(s, WSCLOSE_SIOC_DUPLICATE, &a);
	ASSERT_LE(0, d);
	EXPECT_EQ(FD_CLOEXEC, fcntl(d, F_GETFD));
	EXPECT_EQ(2, query_handles(s));
	EXPECT_EQ(2, query_handles(d));
	close(d);
	EXPECT_EQ(1, query_handles(s));
	d = wsclose_duplicate(s);
	ASSERT_LE(0, d);
	EXPECT_EQ(0, fcntl(d, F_GETFD));
	close(d);
	close(p[0]);
	close(p[1]);
	close(plain);
	close(s);
}

TEST_HARNESS_MAIN
