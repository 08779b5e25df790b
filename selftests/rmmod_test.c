// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose unload selftest (issue 11, item 9), run last: a background reset
 * armed by a non-blocking lingering close(2) survives no unload.  With no
 * wsclose socket left, `rmmod wsclose` succeeds, and the connection the
 * reaper watched is reset at once (not left connected).  The module is
 * loaded again afterwards, whatever happened.
 * Old: rmmod cancelled the reaper; 6 s later the peer was still connected.
 */
#define _GNU_SOURCE
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "helpers.h"

static int module_loaded(void)
{
	return access("/dev/wsclose", F_OK) == 0;
}

static int load_module(void)
{
	int ko = open("/wsclose.ko", O_RDONLY | O_CLOEXEC), ret;

	if (ko < 0)
		return -1;
	ret = (int)syscall(__NR_finit_module, ko, "", 0);
	close(ko);
	return ret;
}

FIXTURE(unload) {
	int peer;
};

FIXTURE_SETUP(unload)
{
	self->peer = -1;
	ASSERT_TRUE(module_loaded());
}

FIXTURE_TEARDOWN(unload)
{
	if (self->peer >= 0)
		close(self->peer);
	if (!module_loaded())
		load_module();
}

TEST_F_TIMEOUT(unload, rmmod_resets_armed_reaper, 60)
{
	struct stream sent = { 0, 0 };
	int s, v = 8192, err, ret = -1, e = 0, fd;
	double t_close, t_rm, dt;

	s = wsclose_socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	self->peer = connect_peer(s, AF_INET, 4096);
	ASSERT_LE(0, self->peer);
	ASSERT_LT(0, fill_buffers(s, &sent, 200));
	ASSERT_EQ(0, wsclose_set_linger(s, 1, 3, &err));
	ASSERT_EQ(0, set_nonblock(s, 1));
	t_close = now_s();
	ASSERT_EQ(0, close(s));
	ASSERT_GT(1.0, now_s() - t_close);

	/* no wsclose socket is left: the unload succeeds (allow a moment) */
	while (now_s() - t_close < 1.0) {
		ret = (int)syscall(__NR_delete_module, "wsclose", O_NONBLOCK);
		e = errno;
		if (ret == 0 || (e != EWOULDBLOCK && e != EBUSY))
			break;
		sleep_ms(20);
	}
	t_rm = now_s();
	ASSERT_EQ(0, ret) TH_LOG("rmmod: errno %d", e);
	EXPECT_FALSE(module_loaded());

	/* and the connection is reset at once, well before its deadline */
	dt = time_to_reset(self->peer, 6);
	TH_LOG("rmmod %.3f s after the close; reset %.3f s after rmmod",
	       t_rm - t_close, dt);
	ASSERT_LE(0, dt) TH_LOG("the peer saw no reset");
	EXPECT_GE(1.0, dt);

	ASSERT_EQ(0, load_module());
	ASSERT_TRUE(module_loaded());
	fd = wsclose_socket(AF_INET6, SOCK_DGRAM, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(WSCLOSE_STATE_OPEN, query_state(fd));
	close(fd);
}

TEST_HARNESS_MAIN
