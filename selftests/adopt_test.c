// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose adoption selftests (issue 10, "Adopt, don't create").
 *
 * A socket becomes a wsclose socket by WSCLOSE_IOC_ADOPT on /dev/wsclose:
 * - every refusal, each with its documented errno, and nothing changed
 *   afterwards (the socket still works as a plain socket, and
 *   WSCLOSE_SIOC_QUERY on it is still unknown: ENOTTY);
 * - adoption in every state: fresh, bound, listening with connections
 *   already queued, connected with data in flight, non-blocking, and while
 *   other threads do I/O on the socket;
 * - a seccomp filter that denies socket(2) denies wsclose sockets too;
 * - the library keeps no descriptor of its own.
 *
 * Old main (before issue 10) fails every test here: it had no
 * WSCLOSE_IOC_ADOPT (ENOTTY) and no per-socket ioctls.  The old behaviour
 * each test catches beyond that is named at the test.
 */
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "helpers.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef TCP_ULP
#define TCP_ULP 31
#endif

/* ---- nothing changed ------------------------------------------------------ */

/*
 * @fd is still a plain descriptor: WSCLOSE_SIOC_QUERY fails.  (ENOTTY on
 * TCP, UDP and unix sockets; other protocols may answer their own errno to
 * an ioctl they do not know.)
 */
static int not_adopted(int fd)
{
	struct wsclose_query_args q;
	int ret = query(fd, &q);

	return ret < 0 && ret != -EFAULT;
}

/* A plain TCP connection @a <-> @b still carries bytes both ways. */
static int still_talks(int a, int b)
{
	char buf[8];

	if (send(a, "ping", 4, MSG_NOSIGNAL) != 4 ||
	    recv(b, buf, 4, MSG_WAITALL) != 4 || memcmp(buf, "ping", 4))
		return 0;
	if (send(b, "pong", 4, MSG_NOSIGNAL) != 4 ||
	    recv(a, buf, 4, MSG_WAITALL) != 4 || memcmp(buf, "pong", 4))
		return 0;
	return 1;
}

/* A connected plain TCP pair on loopback. */
static int tcp_pair(int family, int *a, int *b)
{
	*a = socket(family, SOCK_STREAM, 0);
	if (*a < 0)
		return -1;
	*b = connect_peer(*a, family, 0);
	return *b < 0 ? -1 : 0;
}

/* ---- refusals ------------------------------------------------------------ */

/*
 * Old main: no adoption at all; wsclose_socket() made the socket inside an
 * ioctl, so none of these refusals existed.
 */
TEST(refuses_descriptor_not_open)
{
	int fds = count_fds(), fd;

	EXPECT_EQ(EBADF, adopt_errno(100000, 0));
	EXPECT_EQ(EBADF, adopt_errno(-1, 0));
	EXPECT_EQ(EBADF, adopt_errno(0x7fffffff, 0));
	/* a number that was open a moment ago (above the lowest free one) */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(500, dup2(fd, 500));
	close(fd);
	close(500);
	fd = 500;
	EXPECT_EQ(EBADF, adopt_errno(fd, 0));
	errno = 0;
	EXPECT_EQ(-1, wsclose_adopt(fd));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(fds, count_fds());
}

TEST(refuses_non_sockets)
{
	char path[] = "/tmp/adopt-XXXXXX", buf[16] = { 0 };
	int p[2], reg, devnull, dev, fds;

	ASSERT_EQ(0, pipe(p));
	reg = mkstemp(path);
	ASSERT_LE(0, reg);
	ASSERT_EQ(6, write(reg, "intact", 6));
	devnull = open("/dev/null", O_RDWR);
	ASSERT_LE(0, devnull);
	dev = dev_open();
	ASSERT_LE(0, dev);
	fds = count_fds();

	EXPECT_EQ(ENOTSOCK, adopt_errno(p[0], 0));
	EXPECT_EQ(ENOTSOCK, adopt_errno(p[1], 0));
	EXPECT_EQ(ENOTSOCK, adopt_errno(reg, 0));
	EXPECT_EQ(ENOTSOCK, adopt_errno(devnull, 0));
	EXPECT_EQ(ENOTSOCK, adopt_errno(dev, 0));
	errno = 0;
	EXPECT_EQ(-1, wsclose_adopt(p[0]));
	EXPECT_EQ(ENOTSOCK, errno);

	/* nothing changed */
	EXPECT_EQ(fds, count_fds());
	EXPECT_EQ(1, write(p[1], "x", 1));
	EXPECT_EQ(1, read(p[0], buf, 1));
	EXPECT_EQ(6, lseek(reg, 0, SEEK_CUR));
	EXPECT_EQ(6, pread(reg, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "intact", 6));
	close(p[0]);
	close(p[1]);
	close(reg);
	unlink(path);
	close(devnull);
	close(dev);
}

TEST(refuses_other_families)
{
	int sv[2], nl, pk;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_EQ(EAFNOSUPPORT, adopt_errno(sv[0], 0));
	errno = 0;
	EXPECT_EQ(-1, wsclose_adopt(sv[1]));
	EXPECT_EQ(EAFNOSUPPORT, errno);
	EXPECT_EQ(-ENOTTY, query_state(sv[0]));
	EXPECT_TRUE(still_talks(sv[0], sv[1]));
	close(sv[0]);
	close(sv[1]);

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	EXPECT_EQ(EAFNOSUPPORT, adopt_errno(sv[0], 0));
	EXPECT_TRUE(not_adopted(sv[0]));
	close(sv[0]);
	close(sv[1]);

	nl = socket(AF_NETLINK, SOCK_DGRAM, 0);
	ASSERT_LE(0, nl);
	EXPECT_EQ(EAFNOSUPPORT, adopt_errno(nl, 0));
	close(nl);
	pk = socket(AF_PACKET, SOCK_DGRAM, 0);	/* root in the guest */
	if (pk >= 0) {
		EXPECT_EQ(EAFNOSUPPORT, adopt_errno(pk, 0));
		close(pk);
	}
}

TEST(refuses_raw_sockets)
{
	int v4 = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	int v6 = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);

	if (v4 < 0 || v6 < 0)
		SKIP(return, "no raw sockets here (not root?)");
	EXPECT_EQ(ESOCKTNOSUPPORT, adopt_errno(v4, 0));
	EXPECT_EQ(ESOCKTNOSUPPORT, adopt_errno(v6, 0));
	EXPECT_TRUE(not_adopted(v4)) TH_LOG("query: %d", query_state(v4));
	EXPECT_TRUE(not_adopted(v6)) TH_LOG("query: %d", query_state(v6));
	close(v4);
	close(v6);
}

/* MPTCP: a SOCK_STREAM socket of AF_INET that is not TCP. */
TEST(refuses_mptcp)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(AF_INET, &ss, 0);
	int s = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);

	if (s < 0)
		SKIP(return, "no MPTCP here (errno %d)", errno);
	EXPECT_EQ(EPROTONOSUPPORT, adopt_errno(s, 0));
	EXPECT_TRUE(not_adopted(s));
	/* still an ordinary MPTCP socket */
	EXPECT_EQ(0, bind(s, (struct sockaddr *)&ss, len));
	EXPECT_EQ(0, listen(s, 1));
	close(s);
}

TEST(refuses_udplite)
{
	int v4 = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
	int v6 = socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDPLITE);

	if (v4 < 0 || v6 < 0)
		SKIP(return, "no UDP-Lite here");
	EXPECT_EQ(EPROTONOSUPPORT, adopt_errno(v4, 0));
	EXPECT_EQ(EPROTONOSUPPORT, adopt_errno(v6, 0));
	EXPECT_TRUE(not_adopted(v4));
	EXPECT_TRUE(not_adopted(v6));
	close(v4);
	close(v6);
}

/* ICMP "ping" sockets are SOCK_DGRAM of AF_INET/AF_INET6, not UDP. */
TEST(refuses_ping_sockets)
{
	const char *knob = "/proc/sys/net/ipv4/ping_group_range";
	char old[64] = { 0 };
	int fd, v4, v6;

	fd = open(knob, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, read(fd, old, sizeof(old) - 1));
	ASSERT_EQ(3, pwrite(fd, "0 0", 3, 0));
	v4 = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	v6 = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
	pwrite(fd, old, strlen(old), 0);
	close(fd);
	if (v4 < 0)
		SKIP(return, "no ping sockets here (errno %d)", errno);
	EXPECT_EQ(EPROTONOSUPPORT, adopt_errno(v4, 0));
	EXPECT_TRUE(not_adopted(v4));
	close(v4);
	if (v6 >= 0) {
		EXPECT_EQ(EPROTONOSUPPORT, adopt_errno(v6, 0));
		EXPECT_TRUE(not_adopted(v6));
		close(v6);
	}
}

/* A wsclose socket, its aliases, handles and accepted children: EALREADY. */
TEST(refuses_second_adoption)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(AF_INET6, &ss, 0);
	int s, a, d, c, acc, err, outcome;

	s = wsclose_socket(AF_INET6, SOCK_STREAM, 0);
	ASSERT_LE(0, s);
	EXPECT_EQ(EALREADY, adopt_errno(s, 0));
	errno = 0;
	EXPECT_EQ(-1, wsclose_adopt(s));
	EXPECT_EQ(EALREADY, errno);
	a = dup(s);
	ASSERT_LE(0, a);
	EXPECT_EQ(EALREADY, adopt_errno(a, 0));
	d = wsclose_duplicate(s);
	ASSERT_LE(0, d);
	EXPECT_EQ(EALREADY, adopt_errno(d, 0));
	EXPECT_EQ(2, query_handles(s));	/* no handle was added */

	ASSERT_EQ(0, bind(s, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, getsockname(s, (struct sockaddr *)&ss, &len));
	ASSERT_EQ(0, listen(s, 4));
	c = socket(AF_INET6, SOCK_STREAM, 0);
	ASSERT_EQ(0, connect(c, (struct sockaddr *)&ss, len));
	acc = accept(s, NULL, NULL);
	ASSERT_LE(0, acc);
	EXPECT_EQ(EALREADY, adopt_errno(acc, 0));
	EXPECT_EQ(1, query_handles(acc));
	EXPECT_TRUE(still_talks(acc, c));
	EXPECT_EQ(0, wsclose_closesocket_outcome(acc, 0, &outcome, &err));
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, outcome);
	close(c);
	close(a);
	EXPECT_EQ(0, wsclose_closesocket_outcome(d, 0, &outcome, &err));
	EXPECT_EQ(WSCLOSE_OUTCOME_NOT_LAST_HANDLE, outcome);
	EXPECT_EQ(0, wsclose_closesocket_outcome(s, 0, &outcome, &err));
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, outcome);
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int sockmap_create(void)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_SOCKMAP;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 2;
	return (int)sys_bpf(BPF_MAP_CREATE, &attr);
}

static int sockmap_put(int map, __u32 key, __u32 fd)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (__u32)map;
	attr.key = (__u64)(unsigned long)&key;
	attr.value = (__u64)(unsigned long)&fd;
	attr.flags = BPF_ANY;
	return (int)sys_bpf(BPF_MAP_UPDATE_ELEM, &attr);
}

/*
 * A socket in a BPF sockmap has a psock in sk_user_data: not ours.
 * Old main: ws_of() took any sk_user_data for its own state (and the
 * release path freed a psock as if it were a wsclose_sock).
 */
TEST(refuses_socket_in_sockmap)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(AF_INET, &ss, 0);
	int map, a, b, u, u2;
	char buf[4];

	map = sockmap_create();
	if (map < 0)
		SKIP(return, "no sockmap here (errno %d)", errno);
	ASSERT_EQ(0, tcp_pair(AF_INET, &a, &b));
	ASSERT_EQ(0, sockmap_put(map, 0, (__u32)a)) TH_LOG("errno %d", errno);
	EXPECT_EQ(EBUSY, adopt_errno(a, 0));
	errno = 0;
	EXPECT_EQ(-1, wsclose_adopt(a));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(-ENOTTY, query_state(a));
	EXPECT_TRUE(still_talks(a, b));

	/* a bound UDP socket in a sockmap, where the kernel allows it */
	u = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, u);
	ASSERT_EQ(0, bind(u, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, getsockname(u, (struct sockaddr *)&ss, &len));
	if (sockmap_put(map, 1, (__u32)u) == 0) {
		EXPECT_EQ(EBUSY, adopt_errno(u, 0));
		EXPECT_TRUE(not_adopted(u));
		u2 = socket(AF_INET, SOCK_DGRAM, 0);
		ASSERT_LE(0, u2);
		EXPECT_EQ(3, sendto(u2, "udp", 3, 0, (struct sockaddr *)&ss, len));
		EXPECT_EQ(3, recv(u, buf, sizeof(buf), 0));
		close(u2);
	} else {
		TH_LOG("UDP sockets cannot go into a sockmap here (errno %d)", errno);
	}
	close(u);
	close(map);
	close(a);
	close(b);
}

/*
 * kTLS: TCP_ULP "tls" replaces the socket's protocol operations.  Skipped
 * where the tls module cannot be loaded (the QEMU guest has no modules).
 */
TEST(refuses_ktls)
{
	int a, b;

	ASSERT_EQ(0, tcp_pair(AF_INET, &a, &b));
	if (setsockopt(a, SOL_TCP, TCP_ULP, "tls", sizeof("tls"))) {
		int e = errno;

		close(a);
		close(b);
		if (e == ENOENT)
			SKIP(return, "tls ULP not available (module not loaded)");
		ASSERT_EQ(0, e);
	}
	EXPECT_EQ(EBUSY, adopt_errno(a, 0));
	EXPECT_TRUE(not_adopted(a));
	EXPECT_TRUE(still_talks(a, b));
	close(a);
	close(b);
}

TEST(refuses_flags)
{
	struct linger l = { 1, 3 }, got;
	socklen_t len = sizeof(got);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), i;

	ASSERT_LE(0, s);
	ASSERT_EQ(0, setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof(l)));
	for (i = 0; i < 32; i++)
		EXPECT_EQ(EINVAL, adopt_errno(s, 1u << i));
	EXPECT_EQ(EINVAL, adopt_errno(s, 0xffffffffu));
	/* flags are checked before the descriptor */
	EXPECT_EQ(EINVAL, adopt_errno(100000, 1));
	EXPECT_EQ(-ENOTTY, query_state(s));
	ASSERT_EQ(0, getsockopt(s, SOL_SOCKET, SO_LINGER, &got, &len));
	EXPECT_EQ(1, got.l_onoff);
	EXPECT_EQ(3, got.l_linger);
	EXPECT_EQ(O_NONBLOCK, fcntl(s, F_GETFL) & O_NONBLOCK);
	/* and the same socket adopts fine with flags 0 */
	EXPECT_EQ(0, adopt_errno(s, 0));
	EXPECT_EQ(WSCLOSE_STATE_OPEN, query_state(s));
	close(s);
}

TEST(refuses_bad_pointers)
{
	int dev = dev_open(), s = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned char *page;

	ASSERT_LE(0, dev);
	ASSERT_LE(0, s);
	page = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	ASSERT_EQ(0, munmap(page + 4096, 4096));
	/* a valid descriptor in the readable half of a split argument */
	memcpy(page + 4096 - 4, &s, 4);

	EXPECT_EQ(-1, ioctl(dev, WSCLOSE_IOC_ADOPT, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(dev, WSCLOSE_IOC_ADOPT, page + 4096));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(dev, WSCLOSE_IOC_ADOPT, page + 4096 - 4));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(dev, WSCLOSE_IOC_ADOPT, (void *)0xffff888000000000ull));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-ENOTTY, query_state(s));
	munmap(page, 4096);
	close(s);
	close(dev);
}

/* ---- adoption in every state ---------------------------------------------- */

FIXTURE(state) {
	int s, peer;
};

FIXTURE_VARIANT(state) {
	int family;
};

FIXTURE_VARIANT_ADD(state, v4) { AF_INET };
FIXTURE_VARIANT_ADD(state, v6) { AF_INET6 };

FIXTURE_SETUP(state)
{
	self->s = self->peer = -1;
}

FIXTURE_TEARDOWN(state)
{
	if (self->s >= 0)
		close(self->s);
	if (self->peer >= 0)
		close(self->peer);
}

static void expect_adopted(struct __test_metadata *_metadata, int fd,
			   int family, int type)
{
	struct wsclose_query_args q;

	ASSERT_EQ(0, query(fd, &q));
	EXPECT_EQ(WSCLOSE_STATE_OPEN, q.state);
	EXPECT_EQ((unsigned int)family, q.family);
	EXPECT_EQ((unsigned int)type, q.type);
	EXPECT_EQ(1u, q.handles);
}

TEST_F(state, fresh)
{
	int types[2] = { SOCK_STREAM, SOCK_DGRAM }, i, outcome, err, fd;
	char b;

	for (i = 0; i < 2; i++) {
		fd = socket(variant->family, types[i], 0);
		ASSERT_LE(0, fd);
		EXPECT_EQ(0, wsclose_adopt(fd));
		expect_adopted(_metadata, fd, variant->family, types[i]);
		ASSERT_EQ(0, wsclose_closesocket_outcome(fd, 0, &outcome, &err));
		EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, outcome);
	}
	/* a fresh TCP socket adopted, then connected */
	self->s = socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, self->s);
	ASSERT_EQ(0, wsclose_adopt(self->s));
	self->peer = connect_peer(self->s, variant->family, 0);
	ASSERT_LE(0, self->peer);
	EXPECT_TRUE(still_talks(self->s, self->peer));
	ASSERT_EQ(0, wsclose_closesocket_outcome(self->s, 0, &outcome, &err));
	self->s = -1;
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, outcome);
	EXPECT_EQ(0, recv(self->peer, &b, 1, 0));
}

TEST_F(state, bound_udp)
{
	struct sockaddr_storage ss, ss2;
	socklen_t len = loop_addr(variant->family, &ss, 0), len2 = sizeof(ss2);
	int c, outcome, err;
	char buf[8];

	self->s = socket(variant->family, SOCK_DGRAM, 0);
	ASSERT_LE(0, self->s);
	ASSERT_EQ(0, bind(self->s, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, getsockname(self->s, (struct sockaddr *)&ss, &len));
	c = socket(variant->family, SOCK_DGRAM, 0);
	ASSERT_LE(0, c);
	/* a datagram queued before the adoption, one after */
	ASSERT_EQ(6, sendto(c, "before", 6, 0, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, wsclose_adopt(self->s));
	expect_adopted(_metadata, self->s, variant->family, SOCK_DGRAM);
	ASSERT_EQ(0, getsockname(self->s, (struct sockaddr *)&ss2, &len2));
	EXPECT_EQ(len, len2);
	EXPECT_EQ(0, memcmp(&ss, &ss2, len));
	ASSERT_EQ(5, sendto(c, "after", 5, 0, (struct sockaddr *)&ss, len));
	EXPECT_EQ(6, recv(self->s, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "before", 6));
	EXPECT_EQ(5, recv(self->s, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "after", 5));
	ASSERT_EQ(0, wsclose_closesocket_outcome(self->s, 0, &outcome, &err));
	self->s = -1;
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, outcome);
	/* the port went with the close */
	c = socket(variant->family, SOCK_DGRAM, 0);
	ASSERT_LE(0, c);
	EXPECT_EQ(0, bind(c, (struct sockaddr *)&ss, len));
	close(c);
}

TEST_F(state, bound_tcp_then_listen)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(variant->family, &ss, 0);
	int c, a;

	self->s = socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, self->s);
	ASSERT_EQ(0, bind(self->s, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, getsockname(self->s, (struct sockaddr *)&ss, &len));
	ASSERT_EQ(0, wsclose_adopt(self->s));
	ASSERT_EQ(0, listen(self->s, 4));
	c = socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, connect(c, (struct sockaddr *)&ss, len));
	a = accept(self->s, NULL, NULL);
	ASSERT_LE(0, a);
	expect_adopted(_metadata, a, variant->family, SOCK_STREAM);
	EXPECT_TRUE(still_talks(a, c));
	close(a);
	close(c);
}

/*
 * A plain listener with connections already queued is adopted: each is
 * accepted as a wsclose socket with the listener's linger, and a blocked
 * accept is then aborted by the close like any wsclose listener's.
 */
#define QUEUED 3
TEST_F(state, listening_with_queued_connections)
{
	struct sockaddr_storage ss;
	struct linger l = { 1, 7 };
	socklen_t len;
	int c[QUEUED + 1], a, i, onoff, err, outcome;
	unsigned short secs;
	char b;

	self->s = plain_listener(variant->family, 0, &ss, &len);
	ASSERT_LE(0, self->s);
	ASSERT_EQ(0, setsockopt(self->s, SOL_SOCKET, SO_LINGER, &l, sizeof(l)));
	for (i = 0; i < QUEUED; i++) {
		c[i] = socket(variant->family, SOCK_STREAM, 0);
		ASSERT_LE(0, c[i]);
		ASSERT_EQ(0, connect(c[i], (struct sockaddr *)&ss, len));
		ASSERT_EQ(1, send(c[i], "q", 1, 0));	/* data queued too */
	}
	sleep_ms(100);
	ASSERT_EQ(0, wsclose_adopt(self->s));
	expect_adopted(_metadata, self->s, variant->family, SOCK_STREAM);
	/* one more arrives after the adoption */
	c[QUEUED] = socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, c[QUEUED]);
	ASSERT_EQ(0, connect(c[QUEUED], (struct sockaddr *)&ss, len));
	ASSERT_EQ(1, send(c[QUEUED], "q", 1, 0));

	for (i = 0; i <= QUEUED; i++) {
		a = accept(self->s, NULL, NULL);
		ASSERT_LE(0, a);
		expect_adopted(_metadata, a, variant->family, SOCK_STREAM);
		onoff = 0;
		secs = 0;
		ASSERT_EQ(0, wsclose_get_linger(a, &onoff, &secs, &err));
		EXPECT_EQ(1, onoff);
		EXPECT_EQ(7, secs);
		EXPECT_EQ(1, recv(a, &b, 1, 0));
		EXPECT_EQ('q', b);
		/* nothing pending: the lingering close is graceful at once */
		ASSERT_EQ(0, wsclose_closesocket_outcome(a, 0, &outcome, &err));
		EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, outcome);
	}
	for (i = 0; i <= QUEUED; i++) {
		/* the order of accepts need not be the order of connects */
		struct pollfd pfd = { .fd = c[i], .events = POLLIN };

		EXPECT_EQ(1, poll(&pfd, 1, 5000));
		EXPECT_EQ(0, recv(c[i], &b, 1, 0));	/* FIN */
		close(c[i]);
	}
	ASSERT_EQ(0, wsclose_closesocket(self->s, &err));
	self->s = -1;
}

/*
 * A connected socket with data in flight (the peer not reading, both
 * buffers full) is adopted; more data follows; a graceful closesocket;
 * every byte arrives, in order, then EOF.
 */
TEST_F(state, connected_with_data_in_flight)
{
	struct stream sent = { 0, 0 };
	struct seen seen;
	int v = 8192, outcome, err;
	double t0;

	self->s = socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, self->s);
	ASSERT_EQ(0, setsockopt(self->s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	self->peer = connect_peer(self->s, variant->family, 4096);
	ASSERT_LE(0, self->peer);
	ASSERT_LT(0, fill_buffers(self->s, &sent, 200));
	ASSERT_EQ(0, wsclose_adopt(self->s));
	expect_adopted(_metadata, self->s, variant->family, SOCK_STREAM);

	memset(&seen, 0, sizeof(seen));
	peer_read(self->peer, &seen, 20, sent.bytes / 2);
	ASSERT_LE(sent.bytes / 2, seen.st.bytes);
	ASSERT_LT(0, fill_buffers(self->s, &sent, 200));	/* after adoption */
	t0 = now_s();
	ASSERT_EQ(0, wsclose_closesocket_outcome(self->s, 0, &outcome, &err));
	EXPECT_GT(1.0, now_s() - t0);
	self->s = -1;
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, outcome);
	peer_read(self->peer, &seen, 20, 0);
	EXPECT_EQ(1, seen.eof);
	EXPECT_EQ(0, seen.err);
	EXPECT_EQ(0, seen.corrupt);
	EXPECT_TRUE(stream_equal(&sent, &seen.st));
	TH_LOG("%llu bytes, all arrived", (unsigned long long)sent.bytes);
}

/*
 * A non-blocking socket stays non-blocking: its lingering close with data
 * pending is WSAEWOULDBLOCK, and succeeds once the peer has read it all.
 */
TEST_F(state, nonblocking)
{
	struct stream sent = { 0, 0 };
	struct seen seen;
	int v = 8192, outcome, err;

	self->s = socket(variant->family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ASSERT_LE(0, self->s);
	ASSERT_EQ(0, setsockopt(self->s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	set_nonblock(self->s, 0);
	self->peer = connect_peer(self->s, variant->family, 4096);
	ASSERT_LE(0, self->peer);
	set_nonblock(self->s, 1);
	ASSERT_LT(0, fill_buffers(self->s, &sent, 200));
	ASSERT_EQ(0, wsclose_adopt(self->s));
	EXPECT_EQ(O_NONBLOCK, fcntl(self->s, F_GETFL) & O_NONBLOCK);
	ASSERT_EQ(0, wsclose_set_linger(self->s, 1, 5, &err));
	EXPECT_EQ(-1, wsclose_closesocket_outcome(self->s, 0, &outcome, &err));
	EXPECT_EQ(WSAEWOULDBLOCK, err);
	EXPECT_EQ(WSCLOSE_STATE_OPEN, query_state(self->s));
	memset(&seen, 0, sizeof(seen));
	peer_read(self->peer, &seen, 20, sent.bytes);
	ASSERT_EQ(0, wait_acked(self->s, 10));
	ASSERT_EQ(0, wsclose_closesocket_outcome(self->s, 0, &outcome, &err));
	self->s = -1;
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, outcome);
	peer_read(self->peer, &seen, 20, 0);
	EXPECT_EQ(1, seen.eof);
	EXPECT_EQ(0, seen.corrupt);
	EXPECT_TRUE(stream_equal(&sent, &seen.st));
}

/*
 * A thread already blocked in recv() on the plain socket when it is
 * adopted: adoption disturbs it not at all, and the close still ends its
 * wait at once.  It entered the plain operations, so it finishes as a
 * plain call does when its socket is disconnected under it: EPIPE, not
 * the ECANCELED of calls made through the wrapped operations (the
 * documented rule for operations in flight at adoption).
 */
struct blocked_recv {
	int fd;
	ssize_t ret;
	int err;
	volatile int done;
};

static void *do_blocked_recv(void *arg)
{
	struct blocked_recv *b = arg;
	char c;

	b->ret = recv(b->fd, &c, 1, 0);
	b->err = errno;
	b->done = 1;
	return NULL;
}

TEST_F(state, blocked_reader_before_adoption)
{
	struct blocked_recv b = { 0 };
	pthread_t t;
	int err;
	double t0;

	ASSERT_EQ(0, tcp_pair(variant->family, &self->s, &self->peer));
	b.fd = self->s;
	ASSERT_EQ(0, pthread_create(&t, NULL, do_blocked_recv, &b));
	sleep_ms(200);
	ASSERT_EQ(0, wsclose_adopt(self->s));
	sleep_ms(100);
	EXPECT_EQ(0, b.done);	/* adoption disturbs no one */
	t0 = now_s();
	ASSERT_EQ(0, wsclose_closesocket(self->s, &err));
	self->s = -1;
	while (!b.done && now_s() - t0 < 5)
		sleep_ms(5);
	ASSERT_EQ(1, b.done) {
		pthread_cancel(t);
	}
	pthread_join(t, NULL);
	EXPECT_EQ(-1, b.ret);
	EXPECT_EQ(EPIPE, b.err);
	EXPECT_GT(2.0, now_s() - t0);
}

/* ---- adoption under concurrent I/O ------------------------------------------ */

/*
 * Four threads stream both ways over a plain connection (a writer and a
 * reader on each end); the main thread adopts one end while they run.
 * Every byte arrives in order, each stream ends as it should.  Repeated
 * with the adoption at different moments; every thread has socket time
 * outs, so nothing can hang.
 */
#define STREAM_BYTES	(512 * 1024)
#define ROUNDS		6

struct pump {
	int fd;
	int write;		/* writer or reader */
	struct stream st;	/* sent or received */
	uint64_t corrupt;
	int err;
};

static void *pump_run(void *arg)
{
	struct pump *p = arg;
	unsigned char buf[3000];

	while (p->st.bytes < STREAM_BYTES) {
		size_t n = sizeof(buf);
		ssize_t r;

		if (n > STREAM_BYTES - p->st.bytes)
			n = STREAM_BYTES - p->st.bytes;
		if (p->write) {
			stream_fill(p->st.bytes, buf, n);
			r = send(p->fd, buf, n, MSG_NOSIGNAL);
		} else {
			r = recv(p->fd, buf, n, 0);
		}
		if (r <= 0) {
			p->err = r == 0 ? -1 : errno;
			return NULL;
		}
		if (!p->write)
			for (ssize_t i = 0; i < r; i++)
				p->corrupt += buf[i] != stream_byte(p->st.bytes + i);
		stream_add(&p->st, buf, r);
	}
	return NULL;
}

TEST_F(state, under_concurrent_io)
{
	struct timeval tv = { .tv_sec = 20 };
	int round, i, outcome, err;

	for (round = 0; round < ROUNDS; round++) {
		struct pump p[4];
		pthread_t t[4];
		double t0 = now_s();
		char b;

		ASSERT_EQ(0, tcp_pair(variant->family, &self->s, &self->peer));
		for (i = 0; i < 2; i++) {
			int fd = i ? self->peer : self->s;

			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		}
		p[0] = (struct pump){ .fd = self->s, .write = 1 };
		p[1] = (struct pump){ .fd = self->peer, .write = 0 };
		p[2] = (struct pump){ .fd = self->peer, .write = 1 };
		p[3] = (struct pump){ .fd = self->s, .write = 0 };
		for (i = 0; i < 4; i++)
			ASSERT_EQ(0, pthread_create(&t[i], NULL, pump_run, &p[i]));
		sleep_ms(round * round * 4);	/* 0, 4, 16, 36, 64, 100 ms */
		EXPECT_EQ(0, wsclose_adopt(self->s));
		for (i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
		for (i = 0; i < 4; i++) {
			EXPECT_EQ(0, p[i].err) TH_LOG("round %d pump %d", round, i);
			EXPECT_EQ(STREAM_BYTES, p[i].st.bytes);
			EXPECT_EQ(0, p[i].corrupt);
		}
		EXPECT_TRUE(stream_equal(&p[0].st, &p[1].st));
		EXPECT_TRUE(stream_equal(&p[2].st, &p[3].st));
		expect_adopted(_metadata, self->s, variant->family, SOCK_STREAM);
		ASSERT_EQ(0, wsclose_closesocket_outcome(self->s, 0, &outcome, &err));
		self->s = -1;
		EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, outcome);
		EXPECT_EQ(0, recv(self->peer, &b, 1, 0));
		close(self->peer);
		self->peer = -1;
		EXPECT_GT(30.0, now_s() - t0);
	}
}

/* ---- seccomp --------------------------------------------------------------- */

/* Make system call @nr return @ret (SECCOMP_RET_*) for this process. */
static int filter_syscall(int nr, unsigned int ret)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, ret),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(f), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/*
 * A seccomp filter that denies socket(2) with EPERM denies wsclose sockets
 * too.  Old main: wsclose_socket() made the socket inside an ioctl on the
 * device and succeeded.  A socket made before the filter can still be
 * adopted: adoption creates nothing.
 */
TEST(seccomp_denies_socket)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		long open0 = counter("open");
		int before, s, e;

		before = socket(AF_INET, SOCK_STREAM, 0);
		if (before < 0)
			_exit(10);
		if (filter_syscall(__NR_socket,
				   SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)))
			_exit(12);
		if (socket(AF_INET, SOCK_STREAM, 0) != -1 || errno != EPERM)
			_exit(13);	/* the filter does not work */
		errno = 0;
		s = wsclose_socket(AF_INET, SOCK_STREAM, 0);
		e = errno;
		if (s >= 0)
			_exit(1);	/* old main: the device made it */
		if (e != EPERM)
			_exit(2);
		if (wsclose_socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0) != -1 ||
		    errno != EPERM)
			_exit(3);
		if (counter("open") != open0)
			_exit(4);
		/* adopting what was made before the filter is allowed */
		if (wsclose_adopt(before))
			_exit(5);
		if (query_state(before) != WSCLOSE_STATE_OPEN)
			_exit(6);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("step %d failed (1: wsclose_socket succeeded)", WEXITSTATUS(status));
}

/*
 * A filter that fakes success for setsockopt() (SECCOMP_RET_ERRNO with 0,
 * as sandboxes that neuter TCP_ULP do) does not make the library report a
 * plain socket as adopted: it looks, and asks the device.  Old main:
 * wsclose_socket() returned a socket that was never adopted, whose close
 * then failed with WSAENOTSOCK.
 */
TEST(seccomp_faked_setsockopt)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int s, t, err;

		if (filter_syscall(__NR_setsockopt, SECCOMP_RET_ERRNO | 0))
			_exit(10);
		s = wsclose_socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			_exit(1);
		if (query_state(s) != WSCLOSE_STATE_OPEN)
			_exit(2);	/* old main: not adopted */
		if (wsclose_closesocket(s, &err))
			_exit(3);
		/* and the next one too (the device from now on) */
		t = wsclose_socket(AF_INET6, SOCK_STREAM, 0);
		if (t < 0 || query_state(t) != WSCLOSE_STATE_OPEN)
			_exit(4);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("step %d failed (2: a plain socket reported adopted)",
		       WEXITSTATUS(status));
}

/* ---- the library keeps no descriptor -------------------------------------- */

/* The number the next open() gets. */
static int lowest_free(void)
{
	int fd = open("/dev/null", O_RDONLY);

	if (fd >= 0)
		close(fd);
	return fd;
}

/*
 * Every library call leaves the descriptor table as it found it, apart
 * from the sockets it returns.  Old main: the library held /dev/wsclose
 * open at the lowest free number from its first call on.
 */
TEST(library_holds_no_descriptor)
{
	int fds0 = count_fds(), low0 = lowest_free(), s, d, p, err, onoff, dl, outcome;
	unsigned short secs;

	s = wsclose_socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, s);
	EXPECT_EQ(low0, s);		/* the socket took the lowest number ... */
	EXPECT_EQ(fds0 + 1, count_fds());	/* ... and nothing else was kept */
	EXPECT_EQ(s + 1, lowest_free());

	EXPECT_EQ(0, wsclose_set_linger(s, 1, 3, &err));
	EXPECT_EQ(0, wsclose_get_linger(s, &onoff, &secs, &err));
	EXPECT_EQ(0, wsclose_set_dontlinger(s, 1, &err));
	EXPECT_EQ(0, wsclose_get_dontlinger(s, &dl, &err));
	EXPECT_EQ(fds0 + 1, count_fds());
	EXPECT_EQ(s + 1, lowest_free());

	d = wsclose_duplicate(s);
	EXPECT_EQ(s + 1, d);
	EXPECT_EQ(fds0 + 2, count_fds());

	p = socket(AF_INET6, SOCK_DGRAM, 0);
	ASSERT_EQ(d + 1, p);
	EXPECT_EQ(0, wsclose_adopt(p));
	EXPECT_EQ(fds0 + 3, count_fds());
	EXPECT_EQ(p + 1, lowest_free());

	EXPECT_EQ(0, wsclose_closesocket_outcome(d, 0, &outcome, &err));
	EXPECT_EQ(WSCLOSE_OUTCOME_NOT_LAST_HANDLE, outcome);
	EXPECT_EQ(d, lowest_free());
	EXPECT_EQ(0, wsclose_closesocket(s, &err));
	EXPECT_EQ(0, wsclose_closesocket(p, &err));
	/* failures keep nothing either */
	EXPECT_EQ(-1, wsclose_closesocket(s, &err));
	EXPECT_EQ(-1, wsclose_socket(AF_UNIX, SOCK_STREAM, 0));
	EXPECT_EQ(fds0, count_fds());
	EXPECT_EQ(low0, lowest_free());
}

/*
 * A program that closes every low number and puts its own file there
 * (open + dup2) keeps working, and the library never touches that file:
 * its content and offset are as the program left them.  Old main: the
 * library's next call sent its ioctls to whatever was now at "its"
 * number.
 */
#define LOW 16
TEST(program_reuses_every_low_number)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char path[] = "/tmp/lowfds-XXXXXX", buf[32];
		int tmp, n, s, d, p, err, outcome;

		/* warm the library up first, as a long-running program would */
		s = wsclose_socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0 || wsclose_closesocket(s, &err))
			_exit(1);
		tmp = mkstemp(path);
		if (tmp < 0 || write(tmp, "program data", 12) != 12 ||
		    lseek(tmp, 5, SEEK_SET) != 5)
			_exit(2);
		unlink(path);
		for (n = 0; n < LOW; n++)
			if (n != tmp && dup2(tmp, n) != n)
				_exit(3);
		/* the program's file is at every number below LOW */
		s = wsclose_socket(AF_INET, SOCK_STREAM, 0);
		if (s < LOW)
			_exit(4);
		if (wsclose_set_linger(s, 1, 2, &err))
			_exit(5);
		d = wsclose_duplicate(s);
		if (d < LOW)
			_exit(6);
		p = socket(AF_INET, SOCK_DGRAM, 0);
		if (p < LOW || wsclose_adopt(p))
			_exit(7);
		if (wsclose_closesocket_outcome(d, 0, &outcome, &err) ||
		    outcome != WSCLOSE_OUTCOME_NOT_LAST_HANDLE)
			_exit(8);
		if (wsclose_closesocket(s, &err) || wsclose_closesocket(p, &err))
			_exit(9);
		/* the library did not mistake the file for anything */
		for (n = 0; n < LOW; n++)
			if (wsclose_closesocket(n, &err) != -1 || err != WSAENOTSOCK)
				_exit(10);
		if (lseek(tmp, 0, SEEK_CUR) != 5)
			_exit(11);
		if (pread(tmp, buf, sizeof(buf), 0) != 12 || memcmp(buf, "program data", 12))
			_exit(12);
		for (n = 0; n < LOW; n++)
			if (fcntl(n, F_GETFD) < 0)
				_exit(13);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("step %d failed", WEXITSTATUS(status));
}

/* ---- the TCP upper layer protocol "wsclose" ------------------------------- */

static int set_ulp(int fd, const char *name)
{
	return setsockopt(fd, IPPROTO_TCP, TCP_ULP, name, strlen(name)) ?
	       errno : 0;
}

/* The ULP the socket carries, "" for none. */
static const char *get_ulp(int fd, char *buf, socklen_t size)
{
	socklen_t len = size - 1;

	memset(buf, 0, size);
	if (getsockopt(fd, IPPROTO_TCP, TCP_ULP, buf, &len))
		return "(error)";
	return buf;
}

/*
 * setsockopt(TCP_ULP, "wsclose") adopts a TCP socket without the device,
 * with the same result as WSCLOSE_IOC_ADOPT, and the ULP stays while the
 * socket is ours: a second TCP_ULP (or a second adoption) is refused.
 * Old main: no such ULP (ENOENT).
 */
TEST(ulp_adopts_tcp)
{
	int families[2] = { AF_INET, AF_INET6 }, i, s, peer, outcome, err;
	char buf[32], b;

	for (i = 0; i < 2; i++) {
		s = socket(families[i], SOCK_STREAM, 0);
		ASSERT_LE(0, s);
		EXPECT_STREQ("", get_ulp(s, buf, sizeof(buf)));
		ASSERT_EQ(0, set_ulp(s, "wsclose"));
		expect_adopted(_metadata, s, families[i], SOCK_STREAM);
		EXPECT_STREQ("wsclose", get_ulp(s, buf, sizeof(buf)));
		EXPECT_EQ(EOPNOTSUPP, set_ulp(s, "wsclose"));
		EXPECT_EQ(EOPNOTSUPP, set_ulp(s, "tls"));
		EXPECT_EQ(EALREADY, adopt_errno(s, 0));
		EXPECT_EQ(1, query_handles(s));

		peer = connect_peer(s, families[i], 0);
		ASSERT_LE(0, peer);
		EXPECT_TRUE(still_talks(s, peer));
		EXPECT_EQ(0, wsclose_closesocket_outcome(s, 0, &outcome, &err));
		EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, outcome);
		EXPECT_EQ(0, recv(peer, &b, 1, 0));	/* EOF */
		close(peer);
	}
}

/*
 * What the ULP cannot adopt, it refuses with nothing changed: a UDP
 * socket (TCP options do not apply: ENOPROTOOPT), and a TCP socket in
 * a state the device refuses too.  The library then asks the device.
 */
TEST(ulp_refusals_change_nothing)
{
	int u, a, b;

	u = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, u);
	EXPECT_EQ(ENOPROTOOPT, set_ulp(u, "wsclose"));
	EXPECT_TRUE(not_adopted(u));
	EXPECT_EQ(0, wsclose_adopt(u));		/* through the device */
	expect_adopted(_metadata, u, AF_INET, SOCK_DGRAM);
	close(u);

	/* a name the module does not register is not ours either */
	ASSERT_EQ(0, tcp_pair(AF_INET, &a, &b));
	EXPECT_EQ(ENOENT, set_ulp(a, "wsclos"));
	EXPECT_TRUE(not_adopted(a));
	EXPECT_TRUE(still_talks(a, b));
	close(a);
	close(b);
}

/*
 * A listener adopted through the ULP: connections accepted on it are
 * wsclose sockets carrying the ULP; the connecting end, a plain socket,
 * carries none.  The children queued before the accept do not keep the
 * listener's ULP without its state (the clone drops it).
 */
/*
 * A listener of @family adopted through the ULP, a plain client connected
 * to it, and the connection accepted: *l, *c, *acc; -1 on a failure.
 */
static int ulp_listener_accept(int family, int *l, int *c, int *acc)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(family, &ss, 0);

	*l = socket(family, SOCK_STREAM, 0);
	*c = socket(family, SOCK_STREAM, 0);
	if (*l < 0 || *c < 0 ||
	    bind(*l, (struct sockaddr *)&ss, len) ||
	    getsockname(*l, (struct sockaddr *)&ss, &len) ||
	    listen(*l, 4) || set_ulp(*l, "wsclose") ||
	    connect(*c, (struct sockaddr *)&ss, len))
		return -1;
	*acc = accept(*l, NULL, NULL);
	return *acc < 0 ? -1 : 0;
}

TEST(ulp_listener_children)
{
	int l, c, acc, outcome, err;
	char buf[32];

	ASSERT_EQ(0, ulp_listener_accept(AF_INET, &l, &c, &acc));
	expect_adopted(_metadata, acc, AF_INET, SOCK_STREAM);
	EXPECT_STREQ("wsclose", get_ulp(acc, buf, sizeof(buf)));
	EXPECT_STREQ("", get_ulp(c, buf, sizeof(buf)));
	EXPECT_TRUE(still_talks(acc, c));
	EXPECT_EQ(0, wsclose_closesocket_outcome(acc, 0, &outcome, &err));
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, outcome);
	EXPECT_EQ(0, wsclose_closesocket_outcome(l, 0, &outcome, &err));
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, outcome);
	close(c);
}

/*
 * Every way in takes the module references it gives back: the device and
 * the ULP, TCP and UDP, a listener and its accepted child.  The count
 * (/sys/module/wsclose/refcnt) is back where it was once they are closed.
 */
TEST(module_references_balance)
{
	long before = read_long("/sys/module/wsclose/refcnt");
	int s, u, l, c, acc;

	ASSERT_LE(0, before);
	s = socket(AF_INET, SOCK_STREAM, 0);
	u = socket(AF_INET6, SOCK_DGRAM, 0);
	ASSERT_LE(0, s);
	ASSERT_LE(0, u);
	EXPECT_EQ(0, adopt_errno(s, 0));	/* the device */
	EXPECT_EQ(0, adopt_errno(u, 0));
	EXPECT_LT(before, read_long("/sys/module/wsclose/refcnt"));
	close(s);
	close(u);

	/* the ULP, and an accepted child */
	ASSERT_EQ(0, ulp_listener_accept(AF_INET6, &l, &c, &acc));
	expect_adopted(_metadata, acc, AF_INET6, SOCK_STREAM);
	close(acc);
	close(l);
	close(c);
	EXPECT_EQ(before, read_long("/sys/module/wsclose/refcnt"));
}

TEST_HARNESS_MAIN
