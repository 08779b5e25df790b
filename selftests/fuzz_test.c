// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose hostile-input tests: a bounded, seeded ioctl fuzzer against the
 * device and against wsclose sockets (random commands around the magic,
 * random sizes, NULL, unmapped, kernel-half and misaligned pointers, random
 * flags and padding), and non-wsclose descriptors passed where a wsclose
 * socket is expected.  Nothing may crash, leak a descriptor or a module
 * reference, or change a descriptor that is not a wsclose socket.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define ITERATIONS	20000

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Errors the device may answer to garbage. */
static int device_errno_ok(int e)
{
	switch (e) {
	case EFAULT: case EINVAL: case ENOTTY: case ENOTSOCK:
	case EAFNOSUPPORT: case ESOCKTNOSUPPORT: case EPROTONOSUPPORT:
	case EWOULDBLOCK: case EINPROGRESS:
		return 1;
	}
	return 0;
}

TEST(ioctl_fuzz)
{
	static const unsigned long good[] = {
		WSCLOSE_IOC_SOCKET, WSCLOSE_IOC_CLOSE, WSCLOSE_IOC_QUERY,
		WSCLOSE_IOC_DUPLICATE,
	};
	unsigned char *page, *unmapped;
	int dev, fds0, i, victim, bad = 0, created = 0, last_bad = 0;
	long refs0;

	dev = dev_open();
	ASSERT_LE(0, dev);
	page = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	unmapped = page + 4096;
	ASSERT_EQ(0, munmap(unmapped, 4096));
	/* a live wsclose socket the fuzzer may hit by number */
	victim = wsclose_socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, victim);
	fds0 = count_fds();
	refs0 = read_long("/sys/module/wsclose/refcnt");

	for (i = 0; i < ITERATIONS; i++) {
		uint64_t r = rnd();
		unsigned long cmd;
		void *arg;
		int target = (r >> 60) & 1 ? victim : dev, ret;

		/*
		 * Commands: the real ones, or neighbours with any direction
		 * and size; any type on the device, only the magic and its
		 * neighbours on the socket (we are root: no random network
		 * ioctls).
		 */
		if ((r & 3) == 0)
			cmd = good[(r >> 2) % 4];
		else
			cmd = _IOC((r >> 2) & 3,
				   target == dev && ((r >> 4) & 1) ?
				   (r >> 5) & 0xff : 'V' + ((r >> 5) % 3),
				   0x78 + ((r >> 13) & 0x1f), (r >> 18) & 0x7f);
		/* arguments: garbage of every shape */
		switch ((r >> 25) & 7) {
		case 0: arg = NULL; break;
		case 1: arg = unmapped; break;
		case 2: arg = (void *)0xffff888000000000ull; break;
		case 3: arg = page + 1 + ((r >> 28) & 7); break;	/* misaligned */
		case 4: arg = unmapped - 8; break;	/* runs into the hole */
		default: arg = page; break;
		}
		/* contents: random, sometimes plausible */
		for (int k = 0; k < 16; k++)
			((uint64_t *)page)[k] = rnd();
		if ((r >> 40) & 1) {
			uint32_t *a = (uint32_t *)page;

			a[0] = (r >> 41) & 1 ? AF_INET : AF_INET6;
			a[1] = (r >> 42) & 1 ? SOCK_STREAM : SOCK_DGRAM;
			a[2] = 0;
			a[3] = (r >> 43) & 3;
		}
		/* never name a descriptor the test relies on */
		if (((uint32_t *)page)[0] == (uint32_t)victim ||
		    ((uint32_t *)page)[0] == (uint32_t)dev || (r >> 44) & 1)
			((uint32_t *)page)[0] = 100000;
		ret = ioctl(target, cmd, arg);
		if (ret >= 0 && target == dev && (cmd == WSCLOSE_IOC_SOCKET ||
						  cmd == WSCLOSE_IOC_DUPLICATE)) {
			close(ret);	/* a socket or handle was made: fine */
			created++;
			continue;
		}
		if (ret < 0 && target == dev && !device_errno_ok(errno)) {
			bad++;
			last_bad = errno;
		}
	}
	TH_LOG("%d iterations, %d sockets created, %d unexpected", ITERATIONS,
	       created, bad);
	EXPECT_EQ(0, bad) TH_LOG("last unexpected errno %d", last_bad);
	/* the fuzzer closed nothing it did not create */
	EXPECT_EQ(fds0, count_fds());
	EXPECT_NE(-1, fcntl(victim, F_GETFD));
	EXPECT_NE(-1, fcntl(dev, F_GETFD));
	close(victim);
	for (i = 0; i < 200 && read_long("/sys/module/wsclose/refcnt") != refs0 - 1; i++)
		sleep_ms(10);
	EXPECT_EQ(refs0 - 1, read_long("/sys/module/wsclose/refcnt"));
	close(dev);
}

/* Everything that is not a wsclose socket is rejected and left alone. */
TEST(other_descriptors_untouched)
{
	struct linger l = { 1, 0 }, got;
	socklen_t len = sizeof(got);
	int dev = dev_open(), p[2], plain, reg, devnull, fds[5], i, err = 0;
	unsigned short secs;
	int onoff;

	ASSERT_LE(0, dev);
	plain = socket(AF_INET6, SOCK_STREAM, 0);
	ASSERT_LE(0, plain);
	ASSERT_EQ(0, setsockopt(plain, SOL_SOCKET, SO_LINGER, &l, sizeof(l)));
	ASSERT_EQ(0, pipe(p));
	reg = open("/init", O_RDONLY);
	devnull = open("/dev/null", O_RDWR);
	ASSERT_LE(0, reg);
	ASSERT_LE(0, devnull);
	fds[0] = plain; fds[1] = p[0]; fds[2] = reg; fds[3] = devnull; fds[4] = dev;

	for (i = 0; i < 5; i++) {
		struct wsclose_query_args q = { .fd = fds[i] };

		EXPECT_EQ(-1, wsclose_closesocket_ex(fds[i], WSCLOSE_AS_BLOCKING, &err));
		EXPECT_EQ(WSAENOTSOCK, err);
		EXPECT_EQ(-1, wsclose_set_linger(fds[i], 1, 5, &err));
		EXPECT_EQ(WSAENOTSOCK, err);
		EXPECT_EQ(-1, wsclose_get_linger(fds[i], &onoff, &secs, &err));
		EXPECT_EQ(WSAENOTSOCK, err);
		EXPECT_EQ(-1, ioctl(dev, WSCLOSE_IOC_QUERY, &q));
		EXPECT_EQ(ENOTSOCK, errno);
		EXPECT_EQ(0, fcntl(fds[i], F_GETFD) & ~FD_CLOEXEC);
	}
	/* the plain socket's linger was not touched */
	ASSERT_EQ(0, getsockopt(plain, SOL_SOCKET, SO_LINGER, &got, &len));
	EXPECT_EQ(1, got.l_onoff);
	EXPECT_EQ(0, got.l_linger);
	close(plain);
	close(p[0]);
	close(p[1]);
	close(reg);
	close(devnull);
	close(dev);
}

TEST_HARNESS_MAIN
