// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose observability selftests: the per-network-namespace counters of
 * /proc/net/wsclose match the closes a test makes in a namespace of its
 * own, other namespaces do not see them, and the wsclose_close tracepoint
 * fires for each close.
 */
#define _GNU_SOURCE
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "helpers.h"

static void *reader(void *arg)
{
	char c;

	return (void *)(long)recv(*(int *)arg, &c, 1, 0);
}

TEST(counters_follow_the_closes_of_a_namespace)
{
	struct stream sent = { 0, 0 };
	int s, d, peer, err, v = 8192;
	long outer_graceful = counter("graceful");
	pthread_t t;

	ASSERT_LE(0, outer_graceful);
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, lo_up());
	EXPECT_EQ(0, counter("open"));
	EXPECT_EQ(0, counter("graceful"));

	/* two graceful closes, one with a blocked reader aborted */
	s = wsclose_socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, s);
	EXPECT_EQ(1, counter("open"));
	peer = connect_peer(s, AF_INET, 0);
	ASSERT_LE(0, peer);
	ASSERT_EQ(0, pthread_create(&t, NULL, reader, &s));
	sleep_ms(200);
	ASSERT_EQ(0, wsclose_closesocket(s, &err));
	pthread_join(t, NULL);
	EXPECT_EQ(1, counter("aborted"));
	close(peer);
	s = wsclose_socket(AF_INET6, SOCK_DGRAM, 0);
	ASSERT_EQ(0, wsclose_closesocket(s, &err));

	/* an abortive close */
	s = wsclose_socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_EQ(0, wsclose_set_linger(s, 1, 0, &err));
	ASSERT_EQ(0, wsclose_closesocket(s, &err));

	/* would-block, then a close that is not the last handle, then the last */
	s = wsclose_socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_EQ(0, setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	peer = connect_peer(s, AF_INET, 4096);
	ASSERT_LE(0, peer);
	ASSERT_LT(0, fill_buffers(s, &sent, 200));
	ASSERT_EQ(0, wsclose_set_linger(s, 1, 5, &err));
	EXPECT_EQ(-1, wsclose_closesocket_ex(s, WSCLOSE_AS_NONBLOCKING, &err));
	EXPECT_EQ(WSAEWOULDBLOCK, err);
	d = wsclose_duplicate(s);
	ASSERT_LE(0, d);
	EXPECT_EQ(1, counter("open"));	/* a handle is not another socket */
	ASSERT_EQ(0, wsclose_closesocket(d, &err));
	ASSERT_EQ(0, wsclose_set_linger(s, 1, 1, &err));
	ASSERT_EQ(0, wsclose_closesocket(s, &err));	/* times out: reset */
	close(peer);

	EXPECT_EQ(0, counter("open"));
	EXPECT_EQ(2, counter("graceful"));
	EXPECT_EQ(1, counter("abortive"));
	EXPECT_EQ(1, counter("would_block"));
	EXPECT_EQ(1, counter("not_last_handle"));
	EXPECT_EQ(1, counter("timed_out_reset"));
	EXPECT_EQ(0, counter("drained"));
	EXPECT_EQ(1, counter("aborted"));
}

/* Another namespace's closes do not show in ours. */
TEST(namespaces_are_separate)
{
	long before = counter("graceful");
	int status, err;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		int s;

		if (unshare(CLONE_NEWNET))
			_exit(1);
		s = wsclose_socket(AF_INET, SOCK_DGRAM, 0);
		_exit(s >= 0 && !wsclose_closesocket(s, &err) &&
		      counter("graceful") == 1 ? 0 : 2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(before, counter("graceful"));
}

TEST(tracepoint_fires)
{
	const char *t = "/sys/kernel/tracing";
	char path[128], buf[8192];
	int s, err, fd, n;

	if (access("/sys/kernel/tracing/trace", F_OK))
		ASSERT_EQ(0, system("mount -t tracefs nodev /sys/kernel/tracing"));
	snprintf(path, sizeof(path), "%s/events/wsclose/wsclose_close/enable", t);
	fd = open(path, O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "1", 1));
	close(fd);
	snprintf(path, sizeof(path), "%s/trace", t);
	fd = open(path, O_WRONLY | O_TRUNC);
	close(fd);

	s = wsclose_socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_EQ(0, wsclose_set_linger(s, 1, 0, &err));
	ASSERT_EQ(0, wsclose_closesocket(s, &err));

	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_LT(0, n);
	buf[n] = 0;
	EXPECT_NE(NULL, strstr(buf, "wsclose_close:"));
	EXPECT_NE(NULL, strstr(buf, "linger=1/0 nonblock=0 implicit=0 result=3"));
	snprintf(path, sizeof(path), "%s/events/wsclose/wsclose_close/enable", t);
	fd = open(path, O_WRONLY);
	write(fd, "0", 1);
	close(fd);
}

TEST_HARNESS_MAIN
