// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose allocation-failure selftests.  Each call that allocates runs with
 * its first allocation failed, then its second, and so on until a run
 * meets no more allocations (fault injection through
 * /proc/thread-self/fail-nth, on a kernel with CONFIG_FAILSLAB).  A run
 * that fails must fail with an out-of-memory errno and leave nothing
 * behind: no descriptor, no socket in the module's count.  A run that
 * absorbs the failure must give a working socket.  kmemleak, run after the
 * suite on the debug kernel, checks that nothing leaked.  Skipped on
 * kernels without fault injection.
 */
#define _GNU_SOURCE
#include <sys/mount.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define MAX_NTH 400
#define FAST_S	1.0	/* "returns at once", under emulation */

static int fail_nth = -1;

/* Fault injection for this thread, failing GFP_KERNEL too; 0 if absent. */
static int injection_ready(void)
{
	static const char *const knobs[][2] = {
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/failslab/verbose", "0" },
	};

	if (fail_nth >= 0)
		return 1;
	fail_nth = open("/proc/thread-self/fail-nth", O_RDWR);
	if (fail_nth < 0)
		return 0;
	mount("none", "/sys/kernel/debug", "debugfs", 0, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(knobs); i++) {
		int fd = open(knobs[i][0], O_WRONLY);

		if (fd < 0 || write(fd, knobs[i][1], 1) != 1) {
			if (fd >= 0)
				close(fd);
			close(fail_nth);
			fail_nth = -1;
			return 0;
		}
		close(fd);
	}
	return 1;
}

/* Fail this thread's @n-th allocation from now on. */
static int arm(int n)
{
	char b[16];
	int len = snprintf(b, sizeof(b), "%d", n);

	return pwrite(fail_nth, b, len, 0) == len ? 0 : -1;
}

/* Whether the armed failure was used; disarms. */
static int fired(void)
{
	char b[16] = { 0 };
	int left = -1;

	if (pread(fail_nth, b, sizeof(b) - 1, 0) > 0)
		left = atoi(b);
	pwrite(fail_nth, "0", 1, 0);
	return left == 0;
}

/* What a socket call may answer when an allocation fails under it. */
static int out_of_memory(int err)
{
	return err == ENOMEM || err == ENOBUFS || err == ENFILE;
}

/*
 * Judge an armed call that makes a socket: either a working wsclose socket
 * (closed again here) or an out-of-memory errno.  Returns 1 if it failed.
 */
static int made_or_oom(struct __test_metadata *_metadata, int fd,
		       int err, int n)
{
	int e;

	if (fd >= 0) {
		EXPECT_EQ(WSCLOSE_STATE_OPEN, query_state(fd));
		EXPECT_EQ(0, wsclose_closesocket(fd, &e));
		return 0;
	}
	EXPECT_TRUE(out_of_memory(err)) TH_LOG("n=%d errno %d", n, err);
	return 1;
}

FIXTURE(enomem) {
	int dev;
	int fds;
	long open;
};

FIXTURE_SETUP(enomem)
{
	int s, err;

	self->dev = -1;
	if (!injection_ready())
		return;		/* each test skips */
	self->dev = dev_open();
	ASSERT_LE(0, self->dev);
	/* one socket made and closed first, so that caches are warm */
	s = wsclose_socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, wsclose_closesocket(s, &err));
	self->fds = count_fds();
	self->open = counter("open");
}

FIXTURE_TEARDOWN(enomem)
{
	if (fail_nth >= 0)
		pwrite(fail_nth, "0", 1, 0);
	if (self->dev >= 0)
		close(self->dev);
}

/* (SKIP in a fixture's setup does not stop the test in every harness.) */
#define NEED_INJECTION() do {						\
	if (fail_nth < 0)						\
		SKIP(return, "no fault injection (CONFIG_FAILSLAB) here");	\
} while (0)

/* Nothing left behind: descriptors and the module's sockets as before. */
#define EXPECT_NOTHING_LEFT() do {				\
	EXPECT_EQ(self->fds, count_fds());			\
	EXPECT_EQ(self->open, counter("open"));			\
} while (0)

TEST_F(enomem, socket)
{
	int n, fd, err, hit, failed = 0;

	NEED_INJECTION();

	for (n = 1; n < MAX_NTH; n++) {
		ASSERT_EQ(0, arm(n));
		fd = wsclose_socket(n & 1 ? AF_INET : AF_INET6, SOCK_STREAM, 0);
		err = errno;
		hit = fired();
		if (made_or_oom(_metadata, fd, err, n))
			failed += err == ENOMEM;
		EXPECT_NOTHING_LEFT();
		if (!hit)
			break;
	}
	EXPECT_GT(MAX_NTH, n);
	EXPECT_LT(0, failed);	/* the module's own allocation among them */
	TH_LOG("%d allocations failed in turn; %d calls gave ENOMEM", n - 1, failed);
}

/*
 * The adoption itself (the device is open already, the socket made): it
 * fails with an out-of-memory errno and leaves the socket a plain, working
 * socket, or it succeeds.
 */
TEST_F(enomem, adopt)
{
	struct wsclose_adopt_args a = { 0 };
	int n, s, ret, err, hit, failed = 0, e;

	NEED_INJECTION();
	for (n = 1; n < MAX_NTH; n++) {
		s = socket(n & 1 ? AF_INET : AF_INET6, SOCK_STREAM, 0);
		ASSERT_LE(0, s);
		a.fd = (unsigned int)s;
		ASSERT_EQ(0, arm(n));
		ret = ioctl(self->dev, WSCLOSE_IOC_ADOPT, &a);
		err = errno;
		hit = fired();
		if (ret == 0) {
			EXPECT_EQ(WSCLOSE_STATE_OPEN, query_state(s));
			EXPECT_EQ(0, wsclose_closesocket(s, &e));
		} else {
			EXPECT_TRUE(out_of_memory(err)) TH_LOG("n=%d errno %d", n, err);
			/* nothing changed: still a plain socket */
			EXPECT_EQ(-ENOTTY, query_state(s));
			EXPECT_EQ(0, listen(s, 1));
			close(s);
			failed++;
		}
		EXPECT_NOTHING_LEFT();
		if (!hit)
			break;
	}
	EXPECT_GT(MAX_NTH, n);
	EXPECT_LT(0, failed);	/* the module's own allocation among them */
	TH_LOG("%d allocations failed in turn; %d calls failed", n - 1, failed);
}

TEST_F(enomem, duplicate)
{
	int s, n, d, err, hit, failed = 0, outcome, e;

	NEED_INJECTION();
	s = wsclose_socket(AF_INET, SOCK_STREAM, 0);

	ASSERT_LE(0, s);
	self->fds++;
	self->open++;
	for (n = 1; n < MAX_NTH; n++) {
		ASSERT_EQ(0, arm(n));
		d = wsclose_duplicate(s);
		err = errno;
		hit = fired();
		if (d >= 0) {
			EXPECT_EQ(0, wsclose_closesocket_outcome(d, 0, &outcome, &e));
			EXPECT_EQ(WSCLOSE_OUTCOME_NOT_LAST_HANDLE, outcome);
		} else {
			EXPECT_TRUE(out_of_memory(err)) TH_LOG("n=%d errno %d", n, err);
			failed++;
		}
		/* the original handle is untouched and still the last one */
		EXPECT_EQ(WSCLOSE_STATE_OPEN, query_state(s));
		EXPECT_NOTHING_LEFT();
		if (!hit)
			break;
	}
	EXPECT_GT(MAX_NTH, n);
	EXPECT_LT(0, failed);
	TH_LOG("%d allocations failed in turn; %d calls failed", n - 1, failed);
	EXPECT_EQ(0, wsclose_closesocket_outcome(s, 0, &outcome, &e));
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, outcome);
}

TEST_F(enomem, accept)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(AF_INET, &ss, 0);
	int l, n, c, a, err, hit, failed = 0, e;

	NEED_INJECTION();
	l = wsclose_socket(AF_INET, SOCK_STREAM, 0);

	ASSERT_LE(0, l);
	ASSERT_EQ(0, bind(l, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, getsockname(l, (struct sockaddr *)&ss, &len));
	ASSERT_EQ(0, listen(l, 4));
	self->fds++;
	self->open++;
	for (n = 1; n < MAX_NTH; n++) {
		c = socket(AF_INET, SOCK_STREAM, 0);
		ASSERT_LE(0, c);
		ASSERT_EQ(0, connect(c, (struct sockaddr *)&ss, len));
		ASSERT_EQ(0, arm(n));
		a = accept(l, NULL, NULL);
		err = errno;
		hit = fired();
		failed += made_or_oom(_metadata, a, err, n);
		close(c);
		/* a connection a failed accept left queued is taken now */
		if (a < 0 && set_nonblock(l, 1) == 0) {
			a = accept(l, NULL, NULL);
			if (a >= 0)
				close(a);
			set_nonblock(l, 0);
		}
		EXPECT_NOTHING_LEFT();
		if (!hit)
			break;
	}
	EXPECT_GT(MAX_NTH, n);
	EXPECT_LT(0, failed);
	TH_LOG("%d allocations failed in turn; %d calls failed", n - 1, failed);
	EXPECT_EQ(0, wsclose_closesocket(l, &e));
}

/*
 * A non-blocking close(2) of a lingering socket with data pending goes on
 * in the background and arms a reset at l_linger.  If that cannot be
 * armed, the connection is reset at once: either way the peer sees the
 * reset within the linger time, and the close itself never fails.
 */
TEST_F(enomem, implicit_close_resets_within_linger)
{
	int n, s, peer, hit, err, early = 0;
	struct stream sent = { 0 };
	double t0, dt;

	NEED_INJECTION();

	for (n = 1; n < MAX_NTH; n++) {
		s = wsclose_socket(AF_INET, SOCK_STREAM, 0);
		ASSERT_LE(0, s);
		err = 8192;
		ASSERT_EQ(0, setsockopt(s, SOL_SOCKET, SO_SNDBUF, &err, sizeof(err)));
		peer = connect_peer(s, AF_INET, 4096);
		ASSERT_LE(0, peer);
		ASSERT_LT(0, fill_buffers(s, &sent, 200));
		ASSERT_EQ(0, wsclose_set_linger(s, 1, 1, &err));
		ASSERT_EQ(0, set_nonblock(s, 1));
		t0 = now_s();
		ASSERT_EQ(0, arm(n));
		EXPECT_EQ(0, close(s));
		hit = fired();
		EXPECT_GT(FAST_S, now_s() - t0);
		dt = time_to_reset(peer, 10);
		EXPECT_LE(0, dt) TH_LOG("n=%d: the peer saw no reset", n);
		EXPECT_GE(4.0, dt);
		close(peer);
		EXPECT_NOTHING_LEFT();
		if (!hit)
			break;
		early += dt >= 0 && dt < 0.5;
	}
	EXPECT_GT(MAX_NTH, n);
	TH_LOG("%d allocations failed in turn; %d resets came at once", n - 1, early);
}

TEST_HARNESS_MAIN
