// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose foundation selftests: the device, socket creation for every
 * family and type, accept, argument checking and module pinning.
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
	int dev;
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
	self->dev = dev_open();
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(create)
{
	close(self->dev);
}

/* A socket made through the device is an ordinary socket of that kind. */
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

	memset(&q, 0xcc, sizeof(q));
	q.fd = fd;
	q.pad[0] = q.pad[1] = 0;
	ASSERT_EQ(0, ioctl(self->dev, WSCLOSE_IOC_QUERY, &q));
	EXPECT_EQ(WSCLOSE_STATE_OPEN, q.state);
	EXPECT_EQ((unsigned int)variant->family, q.family);
	EXPECT_EQ((unsigned int)variant->type, q.type);
	EXPECT_EQ(0u, q.pad[0]);
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
	int dev;
};

FIXTURE_VARIANT(accept) {
	int family;
};

FIXTURE_VARIANT_ADD(accept, ipv4) { AF_INET };
FIXTURE_VARIANT_ADD(accept, ipv6) { AF_INET6 };

FIXTURE_SETUP(accept)
{
	self->dev = dev_open();
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(accept)
{
	close(self->dev);
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
	EXPECT_EQ(WSCLOSE_STATE_OPEN, query_state(self->dev, a));
	/* ... and a plain socket is not one. */
	EXPECT_EQ(-ENOTSOCK, query_state(self->dev, c));
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

static int try_socket(int dev, __u32 family, __u32 type, __u32 proto, __u32 flags)
{
	struct wsclose_socket_args a = { family, type, proto, flags };
	int fd = ioctl(dev, WSCLOSE_IOC_SOCKET, &a);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno;
}

TEST(bad_socket_arguments)
{
	int dev = dev_open(), before;

	ASSERT_LE(0, dev);
	before = count_fds();
	EXPECT_EQ(EAFNOSUPPORT, try_socket(dev, AF_UNIX, SOCK_STREAM, 0, 0));
	EXPECT_EQ(EAFNOSUPPORT, try_socket(dev, AF_PACKET, SOCK_DGRAM, 0, 0));
	EXPECT_EQ(EAFNOSUPPORT, try_socket(dev, 0xffffffff, SOCK_STREAM, 0, 0));
	EXPECT_EQ(ESOCKTNOSUPPORT, try_socket(dev, AF_INET, SOCK_RAW, 0, 0));
	EXPECT_EQ(ESOCKTNOSUPPORT, try_socket(dev, AF_INET, SOCK_SEQPACKET, 0, 0));
	EXPECT_EQ(ESOCKTNOSUPPORT, try_socket(dev, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0, 0));
	EXPECT_EQ(EPROTONOSUPPORT, try_socket(dev, AF_INET, SOCK_STREAM, IPPROTO_UDP, 0));
	EXPECT_EQ(EPROTONOSUPPORT, try_socket(dev, AF_INET6, SOCK_DGRAM, IPPROTO_TCP, 0));
	EXPECT_EQ(EPROTONOSUPPORT, try_socket(dev, AF_INET, SOCK_DGRAM, IPPROTO_SCTP, 0));
	EXPECT_EQ(EINVAL, try_socket(dev, AF_INET, SOCK_STREAM, 0, 1u << 2));
	EXPECT_EQ(EINVAL, try_socket(dev, AF_INET, SOCK_STREAM, 0, 0x80000000u));
	EXPECT_EQ(before, count_fds());
	close(dev);
}

TEST(bad_pointers_and_commands)
{
	int dev = dev_open(), before;
	void *unmapped;

	ASSERT_LE(0, dev);
	unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, unmapped);
	before = count_fds();

	EXPECT_EQ(-1, ioctl(dev, WSCLOSE_IOC_SOCKET, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(dev, WSCLOSE_IOC_SOCKET, unmapped));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(dev, WSCLOSE_IOC_SOCKET, (void *)0xffff800000000000ull));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(dev, WSCLOSE_IOC_CLOSE, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(dev, WSCLOSE_IOC_QUERY, unmapped));
	EXPECT_EQ(EFAULT, errno);

	/* unknown commands, in and around the range */
	EXPECT_EQ(-1, ioctl(dev, _IOW('W', 0x8f, struct wsclose_socket_args), NULL));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(dev, _IOW('W', 0x80, __u64), NULL));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(dev, _IO('X', 0x80), 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(dev, 0, 0));
	EXPECT_EQ(ENOTTY, errno);

	EXPECT_EQ(before, count_fds());
	munmap(unmapped, 4096);
	close(dev);
}

TEST(bad_close_and_query_arguments)
{
	struct wsclose_close_args c;
	struct wsclose_query_args q;
	int dev = dev_open();
	int fd = wsclose_socket(AF_INET, SOCK_STREAM, 0);

	ASSERT_LE(0, dev);
	ASSERT_LE(0, fd);

	c = (struct wsclose_close_args){ .fd = fd, .pad = 1 };
	EXPECT_EQ(-1, ioctl(dev, WSCLOSE_IOC_CLOSE, &c));
	EXPECT_EQ(EINVAL, errno);
	c = (struct wsclose_close_args){ .fd = fd, .flags = 4 };
	EXPECT_EQ(-1, ioctl(dev, WSCLOSE_IOC_CLOSE, &c));
	EXPECT_EQ(EINVAL, errno);
	c = (struct wsclose_close_args){ .fd = fd,
		.flags = WSCLOSE_AS_BLOCKING | WSCLOSE_AS_NONBLOCKING };
	EXPECT_EQ(-1, ioctl(dev, WSCLOSE_IOC_CLOSE, &c));
	EXPECT_EQ(EINVAL, errno);
	q = (struct wsclose_query_args){ .fd = fd, .pad = { 0, 1 } };
	EXPECT_EQ(-1, ioctl(dev, WSCLOSE_IOC_QUERY, &q));
	EXPECT_EQ(EINVAL, errno);

	/* none of that touched the socket */
	EXPECT_EQ(WSCLOSE_STATE_OPEN, query_state(dev, fd));
	EXPECT_EQ(0, fcntl(fd, F_GETFD));
	close(fd);
	close(dev);
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
	struct wsclose_socket_args a = { AF_INET6, SOCK_STREAM, 0, 0 };
	int dev = dev_open(), fd, ko;

	ASSERT_LE(0, dev);
	fd = ioctl(dev, WSCLOSE_IOC_SOCKET, &a);
	ASSERT_LE(0, fd);
	close(dev);

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
