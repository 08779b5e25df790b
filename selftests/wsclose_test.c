// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose foundation selftests: the device, wsclose_socket() (socket(2) +
 * adoption) for every family and type, accept, argument checking of the
 * device and the per-socket ioctls, and module pinning.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "helpers.h"

TEST(device_is_0666_char_device)
{
	struct stat st;

	ASSERT_EQ(0, stat("/dev/wsclose", &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0666, st.st_mode & 07777);
}

FIXTURE(create) {
	int unused;
};

FIXTURE_VARIANT(create) {
	int family;
	int type;
	int protocol;
};

FIXTURE_VARIANT_ADD(create, tcp4) { AF_INET, SOCK_STREAM, 0 };
FIXTURE_VARIANT_ADD(create, tcp6) { AF_INET6, SOCK_STREAM, IPPROTO_TCP };
FIXTURE_VARIANT_ADD(create, udp4) { AF_INET, SOCK_DGRAM, IPPROTO_UDP };
FIXTURE_VARIANT_ADD(create, udp6) { AF_INET6, SOCK_DGRAM, 0 };

FIXTURE_SETUP(create)
{
	ASSERT_EQ(0, access("/dev/wsclose", R_OK | W_OK));
}

FIXTURE_TEARDOWN(create)
{
}

/* A socket wsclose_socket() makes is an ordinary socket of that kind. */
TEST_F(create, is_a_socket)
{
	struct wsclose_query_args q;
	int fd, val;
	socklen_t len = sizeof(val);
	struct stat st;

	fd = wsclose_socket(variant->family, variant->type, variant->protocol);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_TYPE, &val, &len));
	EXPECT_EQ(variant->type, val);
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &val, &len));
	EXPECT_EQ(variant->family, val);

	ASSERT_EQ(0, query(fd, &q));	/* on the socket itself */
	EXPECT_EQ(WSCLOSE_STATE_OPEN, q.state);
	EXPECT_EQ((unsigned int)variant->family, q.family);
	EXPECT_EQ((unsigned int)variant->type, q.type);
	EXPECT_EQ(1u, q.handles);
	close(fd);
}

TEST_F(create, flags)
{
	int fd = wsclose_socket(variant->family,
				variant->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	ASSERT_LE(0, fd);
	EXPECT_EQ(O_NONBLOCK, fcntl(fd, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD));
	close(fd);

	fd = wsclose_socket(variant->family, variant->type, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, fcntl(fd, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(0, fcntl(fd, F_GETFD));
	close(fd);
}

/* Loopback traffic both ways, the wsclose socket on either end. */
TEST_F(create, loopback_both_ways)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(variant->family, &ss, 0);
	char buf[64];
	int a, b;

	a = wsclose_socket(variant->family, variant->type, 0);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, bind(a, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, getsockname(a, (struct sockaddr *)&ss, &len));

	if (variant->type == SOCK_STREAM) {
		int c;

		ASSERT_EQ(0, listen(a, 4));
		c = socket(variant->family, SOCK_STREAM, 0);
		ASSERT_LE(0, c);
		ASSERT_EQ(0, connect(c, (struct sockaddr *)&ss, len));
		b = accept(a, NULL, NULL);
		ASSERT_LE(0, b);
		close(a);
		a = c;
	} else {
		struct sockaddr_storage ss2;
		socklen_t len2 = loop_addr(variant->family, &ss2, 0);

		b = socket(variant->family, SOCK_DGRAM, 0);
		ASSERT_LE(0, b);
		ASSERT_EQ(0, bind(b, (struct sockaddr *)&ss2, len2));
		ASSERT_EQ(0, getsockname(b, (struct sockaddr *)&ss2, &len2));
		ASSERT_EQ(0, connect(a, (struct sockaddr *)&ss2, len2));
		ASSERT_EQ(0, connect(b, (struct sockaddr *)&ss, len));
	}
	/* a is plain for TCP (the wsclose end was accepted), b the other end */
	ASSERT_EQ(5, send(a, "hello", 5, 0));
	ASSERT_EQ(5, recv(b, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(3, send(b, "bye", 3, 0));
	ASSERT_EQ(3, recv(a, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "bye", 3));
	close(a);
	close(b);
}

FIXTURE(accept) {
	int unused;
};

FIXTURE_VARIANT(accept) {
	int family;
};

FIXTURE_VARIANT_ADD(accept, ipv4) { AF_INET };
FIXTURE_VARIANT_ADD(accept, ipv6) { AF_INET6 };

FIXTURE_SETUP(accept)
{
}

FIXTURE_TEARDOWN(accept)
{
}

/* The connection accepted on a wsclose listener is a wsclose socket. */
TEST_F(accept, yields_wsclose_socket)
{
	struct sockaddr_storage ss;
	socklen_t len = loop_addr(variant->family, &ss, 0);
	int l, c, a;
	char buf[8];

	l = wsclose_socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, bind(l, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, getsockname(l, (struct sockaddr *)&ss, &len));
	ASSERT_EQ(0, listen(l, 4));
	c = socket(variant->family, SOCK_STREAM, 0);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, connect(c, (struct sockaddr *)&ss, len));
	a = accept(l, NULL, NULL);
	ASSERT_LE(0, a);
	EXPECT_EQ(WSCLOSE_STATE_OPEN, query_state(a));
	EXPECT_EQ(1, query_handles(a));
	/* ... and a plain socket is not one: the command is unknown there. */
	EXPECT_EQ(-ENOTTY, query_state(c));
	ASSERT_EQ(2, send(a, "ok", 2, 0));
	ASSERT_EQ(2, recv(c, buf, sizeof(buf), 0));
	close(a);
	close(c);
	close(l);
}

/* Options that would replace the module's operations are refused. */
TEST_F(create, refuses_ulp_and_addrform)
{
	int fd = wsclose_socket(variant->family, variant->type, 0);
	int v = AF_INET;

	ASSERT_LE(0, fd);
	if (variant->type == SOCK_STREAM) {
		EXPECT_EQ(-1, setsockopt(fd, SOL_TCP, TCP_ULP, "tls", 3));
		EXPECT_EQ(EOPNOTSUPP, errno);
	}
	if (variant->family == AF_INET6) {
		EXPECT_EQ(-1, setsockopt(fd, SOL_IPV6, IPV6_ADDRFORM, &v, sizeof(v)));
		EXPECT_EQ(EOPNOTSUPP, errno);
	}
	close(fd);
}

/* ---- bad arguments: the documented errno, and nothing created ---------- */

static int try_socket(int family, int type, int proto)
{
	int fd = wsclose_socket(family, type, proto);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno;
}

/* wsclose_socket() keeps the errors of the creation ioctl it replaces. */
TEST(bad_socket_arguments)
{
	int before = count_fds();

	EXPECT_EQ(EAFNOSUPPORT, try_socket(AF_UNIX, SOCK_STREAM, 0));
	EXPECT_EQ(EAFNOSUPPORT, try_socket(AF_PACKET, SOCK_DGRAM, 0));
	EXPECT_EQ(EAFNOSUPPORT, try_socket(-1, SOCK_STREAM, 0));
	EXPECT_EQ(ESOCKTNOSUPPORT, try_socket(AF_INET, SOCK_RAW, 0));
	EXPECT_EQ(ESOCKTNOSUPPORT, try_socket(AF_INET, SOCK_SEQPACKET, 0));
	EXPECT_EQ(EPROTONOSUPPORT, try_socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
	EXPECT_EQ(EPROTONOSUPPORT, try_socket(AF_INET6, SOCK_DGRAM, IPPROTO_TCP));
	EXPECT_EQ(EPROTONOSUPPORT, try_socket(AF_INET, SOCK_DGRAM, IPPROTO_SCTP));
	EXPECT_EQ(EPROTONOSUPPORT, try_socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE));
	EXPECT_EQ(before, count_fds());
}

TEST(bad_pointers_and_commands)
{
	struct wsclose_close_args c = { 0 };
	int dev = dev_open(), before, s;
	void *unmapped;

	ASSERT_LE(0, dev);
	s = wsclose_socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, s);
	unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, unmapped);
	before = count_fds();

	/* the device */
	EXPECT_EQ(-1, ioctl(dev, WSCLOSE_IOC_ADOPT, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(dev, WSCLOSE_IOC_ADOPT, unmapped));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(dev, WSCLOSE_IOC_ADOPT, (void *)0xffff800000000000ull));
	EXPECT_EQ(EFAULT, errno);
	/* the socket */
	EXPECT_EQ(-1, ioctl(s, WSCLOSE_SIOC_CLOSE, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(s, WSCLOSE_SIOC_CLOSE, unmapped));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(s, WSCLOSE_SIOC_QUERY, unmapped));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(s, WSCLOSE_SIOC_QUERY, (void *)0xffff800000000000ull));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(s, WSCLOSE_SIOC_DUPLICATE, unmapped));
	EXPECT_EQ(EFAULT, errno);

	/* unknown device commands, among them the removed ones */
	EXPECT_EQ(-1, ioctl(dev, _IOW('W', 0x80, struct wsclose_query_args), &c));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(dev, _IOWR('W', 0x81, struct wsclose_query_args), &c));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(dev, _IOW('W', 0x8f, struct wsclose_adopt_args), NULL));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(dev, _IOW('W', 0x84, __u64[2]), NULL));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(dev, _IO('X', 0x80), 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(dev, 0, 0));
	EXPECT_EQ(ENOTTY, errno);
	/* the per-socket commands mean nothing on the device */
	EXPECT_EQ(-1, ioctl(dev, WSCLOSE_SIOC_QUERY, &c));
	EXPECT_EQ(ENOTTY, errno);
	/* nor the device's on a socket, nor unused private commands */
	EXPECT_EQ(-1, ioctl(s, WSCLOSE_IOC_ADOPT, &c));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(s, _IOWR('W', 0x8f, struct wsclose_close_args), &c));
	EXPECT_EQ(ENOTTY, errno);
	/* the protocol-private range is the protocol's again */
	EXPECT_EQ(-1, ioctl(s, SIOCPROTOPRIVATE, &c));
	EXPECT_EQ(ENOTTY, errno);

	EXPECT_EQ(before, count_fds());
	EXPECT_EQ(WSCLOSE_STATE_OPEN, query_state(s));
	EXPECT_EQ(0, listen(s, 1));
	munmap(unmapped, 4096);
	close(s);
	close(dev);
}

TEST(bad_close_arguments)
{
	struct wsclose_close_args c;
	int fd = wsclose_socket(AF_INET, SOCK_STREAM, 0);
	int other = wsclose_socket(AF_INET, SOCK_STREAM, 0), alias;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, other);

	c = (struct wsclose_close_args){ .fd = fd, .flags = 4 };
	EXPECT_EQ(-1, ioctl(fd, WSCLOSE_SIOC_CLOSE, &c));
	EXPECT_EQ(EINVAL, errno);
	c = (struct wsclose_close_args){ .fd = fd, .flags = 0x80000000u };
	EXPECT_EQ(-1, ioctl(fd, WSCLOSE_SIOC_CLOSE, &c));
	EXPECT_EQ(EINVAL, errno);
	c = (struct wsclose_close_args){ .fd = fd,
		.flags = WSCLOSE_AS_BLOCKING | WSCLOSE_AS_NONBLOCKING };
	EXPECT_EQ(-1, ioctl(fd, WSCLOSE_SIOC_CLOSE, &c));
	EXPECT_EQ(EINVAL, errno);
	c = (struct wsclose_close_args){ .fd = fd, .pad = 1, .outcome = 77 };
	EXPECT_EQ(-1, ioctl(fd, WSCLOSE_SIOC_CLOSE, &c));
	EXPECT_EQ(EINVAL, errno);
	/* rejected arguments: nothing written */
	EXPECT_EQ(77, c.outcome);
	/* @fd must be a descriptor of the file the call is made on */
	c = (struct wsclose_close_args){ .fd = other, .outcome = 77 };
	EXPECT_EQ(-1, ioctl(fd, WSCLOSE_SIOC_CLOSE, &c));
	EXPECT_EQ(ENOTSOCK, errno);
	/* a call that got past the argument checks says it closed nothing */
	EXPECT_EQ(WSCLOSE_OUTCOME_NONE, c.outcome);
	c = (struct wsclose_close_args){ .fd = 100000, .outcome = 77 };
	EXPECT_EQ(-1, ioctl(fd, WSCLOSE_SIOC_CLOSE, &c));
	EXPECT_EQ(ENOTSOCK, errno);
	EXPECT_EQ(WSCLOSE_OUTCOME_NONE, c.outcome);

	/* none of that touched either socket */
	EXPECT_EQ(WSCLOSE_STATE_OPEN, query_state(fd));
	EXPECT_EQ(WSCLOSE_STATE_OPEN, query_state(other));
	EXPECT_EQ(0, fcntl(fd, F_GETFD));
	EXPECT_EQ(0, fcntl(other, F_GETFD));
	/* the real thing, straight through the ioctl, named by an alias */
	alias = dup(fd);
	ASSERT_LE(0, alias);
	c = (struct wsclose_close_args){ .fd = alias, .flags = WSCLOSE_AS_BLOCKING };
	EXPECT_EQ(0, ioctl(fd, WSCLOSE_SIOC_CLOSE, &c));
	EXPECT_EQ(WSCLOSE_OUTCOME_GRACEFUL, c.outcome);
	EXPECT_EQ(-1, fcntl(alias, F_GETFD));	/* the descriptor it named went */
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(WSCLOSE_STATE_CLOSED, query_state(fd));
	close(fd);
	c = (struct wsclose_close_args){ .fd = other };
	EXPECT_EQ(0, ioctl(other, WSCLOSE_SIOC_CLOSE, &c));
	EXPECT_EQ(-1, fcntl(other, F_GETFD));
}

/* Descriptors that are not wsclose sockets are rejected untouched. */
TEST(close_rejects_other_files)
{
	int dev = dev_open(), plain, p[2], reg, err = 0;
	struct linger l = { 1, 0 };

	ASSERT_LE(0, dev);
	plain = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, plain);
	ASSERT_EQ(0, setsockopt(plain, SOL_SOCKET, SO_LINGER, &l, sizeof(l)));
	ASSERT_EQ(0, pipe(p));
	reg = open("/init", O_RDONLY);
	ASSERT_LE(0, reg);

	EXPECT_EQ(-1, wsclose_closesocket(plain, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	EXPECT_EQ(-1, wsclose_closesocket(p[0], &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	EXPECT_EQ(-1, wsclose_closesocket(reg, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	EXPECT_EQ(-1, wsclose_closesocket(dev, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	EXPECT_EQ(-1, wsclose_closesocket(-1, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	EXPECT_EQ(-1, wsclose_closesocket(1000000, &err));
	EXPECT_EQ(WSAENOTSOCK, err);

	/* all still open */
	EXPECT_EQ(0, fcntl(plain, F_GETFD));
	EXPECT_EQ(0, fcntl(p[0], F_GETFD));
	EXPECT_EQ(0, fcntl(reg, F_GETFD));
	close(plain);
	close(p[0]);
	close(p[1]);
	close(reg);
	close(dev);
}

/*
 * Every live socket pins the module; once the last is gone (and nobody
 * holds the device open) rmmod succeeds.  The module is loaded again for
 * the tests that follow.
 */
TEST(rmmod_refused_while_a_socket_exists)
{
	int fd, ko;

	fd = wsclose_socket(AF_INET6, SOCK_STREAM, 0);
	ASSERT_LE(0, fd);

	EXPECT_EQ(-1, syscall(__NR_delete_module, "wsclose", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	/* still there and working */
	EXPECT_EQ(0, listen(fd, 1));

	close(fd);
	ASSERT_EQ(0, syscall(__NR_delete_module, "wsclose", O_NONBLOCK));
	EXPECT_NE(0, access("/dev/wsclose", F_OK));

	ko = open("/wsclose.ko", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ko);
	ASSERT_EQ(0, syscall(__NR_finit_module, ko, "", 0));
	close(ko);
	EXPECT_EQ(0, access("/dev/wsclose", F_OK));
}

TEST_HARNESS_MAIN
