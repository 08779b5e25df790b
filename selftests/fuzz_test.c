// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose hostile-input tests: a bounded, seeded fuzzer against the device
 * (WSCLOSE_IOC_ADOPT and its neighbours: random commands around the magic,
 * random sizes, NULL, unmapped, kernel-half and misaligned pointers, random
 * descriptors and flags) and against the per-socket commands
 * (WSCLOSE_SIOC_* on wsclose sockets, plain sockets and other files, with
 * random flags, padding and pointers).  Nothing may crash, answer an
 * undocumented errno, leak a descriptor or a module reference, adopt what
 * it must refuse, or change a descriptor that is not a wsclose socket.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/un.h>

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

/* The errors WSCLOSE_IOC_ADOPT documents (and ENOTTY for other commands). */
static int device_errno_ok(int e)
{
	switch (e) {
	case EFAULT: case EINVAL: case ENOTTY: case EBADF: case ENOTSOCK:
	case EAFNOSUPPORT: case ESOCKTNOSUPPORT: case EPROTONOSUPPORT:
	case EALREADY: case EBUSY:
		return 1;
	}
	return 0;
}

/* What WSCLOSE_SIOC_* may answer on an open wsclose socket. */
/* A close whose fd names another file (or none) finds no such handle. */
static int sioc_errno_ok(int e, unsigned long cmd)
{
	return e == EFAULT || e == EINVAL || e == ENOTTY ||
	       (e == ENOTSOCK && cmd == WSCLOSE_SIOC_CLOSE);
}

/* A writable page with nothing mapped after it (NULL on failure). */
static unsigned char *guarded_page(void)
{
	unsigned char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (page == MAP_FAILED || munmap(page + 4096, 4096))
		return NULL;
	return page;
}

/* Descriptors the fuzzer aims at; none of them may be adopted. */
struct targets {
	int pipe[2], reg, unix_sock, devnull;
	int plain_tcp, plain_udp;	/* plain sockets: adoptable, kept out */
	int ws_tcp, ws_udp;		/* wsclose sockets: EALREADY */
	int dev;
};

static void targets_open(struct __test_metadata *_metadata, struct targets *t)
{
	struct linger l = { 1, 7 };

	ASSERT_EQ(0, pipe(t->pipe));
	t->reg = open("/init", O_RDONLY);
	ASSERT_LE(0, t->reg);
	t->unix_sock = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_LE(0, t->unix_sock);
	t->devnull = open("/dev/null", O_RDWR);
	ASSERT_LE(0, t->devnull);
	t->plain_tcp = socket(AF_INET6, SOCK_STREAM, 0);
	ASSERT_LE(0, t->plain_tcp);
	ASSERT_EQ(0, setsockopt(t->plain_tcp, SOL_SOCKET, SO_LINGER, &l, sizeof(l)));
	t->plain_udp = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, t->plain_udp);
	t->ws_tcp = wsclose_socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, t->ws_tcp);
	t->ws_udp = wsclose_socket(AF_INET6, SOCK_DGRAM, 0);
	ASSERT_LE(0, t->ws_udp);
	t->dev = dev_open();
	ASSERT_LE(0, t->dev);
}

static void targets_close(struct targets *t)
{
	close(t->pipe[0]);
	close(t->pipe[1]);
	close(t->reg);
	close(t->unix_sock);
	close(t->devnull);
	close(t->plain_tcp);
	close(t->plain_udp);
	close(t->ws_tcp);
	close(t->ws_udp);
	close(t->dev);
}

/*
 * An argument pointer for a fuzzed ioctl: NULL, unmapped, a kernel
 * address, misaligned, one that runs into the unmapped page after it
 * (half an argument), or @good.
 */
static void *fuzz_arg(uint64_t r, unsigned char *page, unsigned char *unmapped,
		      void *good)
{
	switch ((r >> 25) & 7) {
	case 0:
		return NULL;
	case 1:
		return unmapped;
	case 2:
		return (void *)0xffff888000000000ull;
	case 3:
		return page + 1 + ((r >> 28) & 7);
	case 4:
		return unmapped - 4;
	default:
		return good;
	}
}

/* Nothing about the targets changed. */
static void targets_unchanged(struct __test_metadata *_metadata, struct targets *t)
{
	struct linger l;
	char b;
	socklen_t len = sizeof(l);

	EXPECT_EQ(-ENOTTY, query_state(t->plain_tcp));
	EXPECT_EQ(-ENOTTY, query_state(t->plain_udp));
	EXPECT_EQ(-ENOTTY, query_state(t->unix_sock));
	EXPECT_EQ(WSCLOSE_STATE_OPEN, query_state(t->ws_tcp));
	EXPECT_EQ(1, query_handles(t->ws_tcp));
	EXPECT_EQ(WSCLOSE_STATE_OPEN, query_state(t->ws_udp));
	EXPECT_EQ(1, query_handles(t->ws_udp));
	ASSERT_EQ(0, getsockopt(t->plain_tcp, SOL_SOCKET, SO_LINGER, &l, &len));
	EXPECT_EQ(1, l.l_onoff);
	EXPECT_EQ(7, l.l_linger);
	EXPECT_EQ(0, fcntl(t->plain_tcp, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(0, fcntl(t->ws_tcp, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(1, write(t->pipe[1], "p", 1));
	EXPECT_EQ(1, read(t->pipe[0], &b, 1));
	EXPECT_EQ(0, listen(t->ws_tcp, 1));
	EXPECT_EQ(0, listen(t->plain_tcp, 1));
}

static long module_refs(void)
{
	return read_long("/sys/module/wsclose/refcnt");
}

/* Wait (bounded) until the module's reference count is @want. */
static long refs_settle(long want)
{
	long r = module_refs();

	for (int i = 0; i < 200 && r != want; i++) {
		sleep_ms(10);
		r = module_refs();
	}
	return r;
}

TEST(adopt_fuzz)
{
	struct targets t;
	unsigned char *page, *unmapped;
	int fds0, i, bad = 0, last_bad = 0, adopted = 0;
	long refs0;

	page = guarded_page();
	ASSERT_NE(NULL, page);
	unmapped = page + 4096;
	targets_open(_metadata, &t);
	{
		/* the descriptors adoption must refuse, and some never open */
		const int refuse[] = {
			t.pipe[0], t.pipe[1], t.reg, t.unix_sock, t.devnull,
			t.ws_tcp, t.ws_udp, t.dev, -1, 100000, 0x7fffffff,
		};
		const size_t nrefuse = ARRAY_SIZE(refuse);

		fds0 = count_fds();
		refs0 = module_refs();

		for (i = 0; i < ITERATIONS; i++) {
			uint64_t r = rnd();
			unsigned long cmd;
			uint32_t *a = (uint32_t *)page;
			void *arg;
			int ret;

			/* the real command, or its neighbours of any direction and size */
			if ((r & 3) != 0)
				cmd = WSCLOSE_IOC_ADOPT;
			else
				cmd = _IOC((r >> 2) & 3, (r >> 4) & 1 ?
					   (r >> 5) & 0xff : 'V' + ((r >> 5) % 3),
					   0x78 + ((r >> 13) & 0x1f), (r >> 18) & 0x7f);
			arg = fuzz_arg(r, page, unmapped, page);
			for (int k = 0; k < 16; k++)
				((uint64_t *)page)[k] = rnd();
			if ((r >> 40) & 1)
				a[1] = 0;	/* plausible flags */
			/* the descriptor: one adoption refuses, or random */
			if ((r >> 41) & 1) {
				a[0] = (uint32_t)refuse[(r >> 42) % nrefuse];
			} else {
				a[0] = (uint32_t)rnd();
				if (a[0] < 1024)	/* never a number we did not plan */
					a[0] += 100000;
			}
			if (arg == page + 1 + ((r >> 28) & 7))
				memmove(arg, page, 8);
			ret = ioctl(t.dev, cmd, arg);
			if (ret == 0 && cmd == WSCLOSE_IOC_ADOPT) {
				adopted++;
				continue;
			}
			if (ret < 0 && !device_errno_ok(errno)) {
				bad++;
				last_bad = errno;
			}
		}
		TH_LOG("%d iterations, %d adopted, %d unexpected", ITERATIONS,
		       adopted, bad);
		EXPECT_EQ(0, adopted);
		EXPECT_EQ(0, bad) TH_LOG("last unexpected errno %d", last_bad);
		EXPECT_EQ(fds0, count_fds());
		EXPECT_EQ(refs0, refs_settle(refs0));
	}
	/* flags other than 0: EINVAL on every descriptor, even adoptable ones */
	for (i = 0; i < 32; i++) {
		EXPECT_EQ(EINVAL, adopt_errno(t.plain_tcp, 1u << i));
		EXPECT_EQ(EINVAL, adopt_errno(t.plain_udp, 1u << i));
	}
	EXPECT_EQ(EINVAL, adopt_errno(t.plain_udp, 0xffffffffu));
	targets_unchanged(_metadata, &t);
	targets_close(&t);
	munmap(page, 4096);
}

/*
 * The commands the fuzzer sends: the three per-socket ones (close and
 * duplicate twice as often: they change things), numbers of the range
 * that mean nothing (ENOTTY everywhere).
 */
static const unsigned int fuzz_cmds[8] = {
	WSCLOSE_SIOC_CLOSE, WSCLOSE_SIOC_CLOSE, WSCLOSE_SIOC_QUERY,
	WSCLOSE_SIOC_DUPLICATE, WSCLOSE_SIOC_DUPLICATE,
	_IOWR('W', 0x88, struct wsclose_close_args), _IO('W', 0x8f),
	_IOR('W', 0x80, __u64),
};

/* WSCLOSE_SIOC_* with garbage, on wsclose sockets and on other files. */
TEST(sioc_fuzz)
{
	struct targets t;
	unsigned char *page, *unmapped;
	int fds0, i, bad = 0, last_bad = 0, dups = 0, queries = 0;
	long refs0;

	page = guarded_page();
	ASSERT_NE(NULL, page);
	unmapped = page + 4096;
	targets_open(_metadata, &t);
	fds0 = count_fds();
	refs0 = module_refs();

	for (i = 0; i < ITERATIONS; i++) {
		uint64_t r = rnd();
		unsigned int cmd = fuzz_cmds[(r >> 2) & 7];
		int ws = (r & 3) != 0;
		int fd, ret, e;
		uint32_t *a;
		void *arg;

		if (ws)
			fd = (r >> 6) & 1 ? t.ws_tcp : t.ws_udp;
		else {
			const int other[] = { t.plain_tcp, t.plain_udp,
					      t.pipe[0], t.reg, t.devnull, t.dev,
					      t.unix_sock };

			fd = other[(r >> 6) % 7];
		}
		arg = fuzz_arg(r, page, unmapped, page + 4096 - 64);
		for (int k = 0; k < 512; k++)
			((uint64_t *)page)[k] = rnd();
		a = (uint32_t *)arg;
		/*
		 * Keep the victims alive: a close with valid flags would
		 * close them, so its flags always carry a bad bit.  A
		 * duplicate's flags and pad are sometimes valid: that makes
		 * a handle, closed again below.
		 */
		if (cmd == WSCLOSE_SIOC_CLOSE && (r >> 25 & 7) >= 3) {
			struct wsclose_close_args *c;

			if (arg == unmapped - 4)
				arg = page + 4096 - sizeof(*c);	/* whole, readable */
			a = (uint32_t *)arg;
			c = arg;
			/* valid but for one thing: flags, pad or fd */
			c->fd = (r >> 38) & 1 ? (uint32_t)fd : c->fd;
			switch ((r >> 32) & 3) {
			case 0:
				c->flags |= 4u << ((r >> 34) & 15);
				break;
			case 1:
				c->flags &= 1;
				c->pad |= 1;
				break;
			case 2:
				c->flags &= 1;
				c->pad = 0;
				c->fd = (uint32_t)fd + 1000;
				break;
			default:
				c->flags = 3;
				c->pad = 0;
				break;
			}
		}
		if (cmd == WSCLOSE_SIOC_DUPLICATE && (r >> 25 & 7) >= 5 && (r >> 36) & 1) {
			a[0] &= WSCLOSE_DUP_CLOEXEC;
			a[1] = (r >> 37) & 1 ? 0 : a[1];
		}
		ret = ioctl(fd, cmd, arg);
		e = errno;
		if (ret >= 0 && ws && cmd == WSCLOSE_SIOC_DUPLICATE) {
			EXPECT_EQ(0, (a[0] & ~WSCLOSE_DUP_CLOEXEC) | a[1]);
			EXPECT_EQ(2, query_handles(ret));
			close(ret);
			dups++;
			continue;
		}
		if (ret == 0 && ws && cmd == WSCLOSE_SIOC_QUERY) {
			struct wsclose_query_args *q = arg;

			EXPECT_EQ(WSCLOSE_STATE_OPEN, q->state);
			EXPECT_EQ(1, q->handles);
			queries++;
			continue;
		}
		if (ret >= 0) {
			if (bad++ < 5)
				TH_LOG("%s fd %d cmd %#x: succeeded (%d)",
				       ws ? "wsclose" : "other", fd, cmd, ret);
			last_bad = -cmd;
			if (!ws || cmd == WSCLOSE_SIOC_CLOSE)
				break;	/* something was done that must not be */
			continue;
		}
		if (ws ? !sioc_errno_ok(e, cmd) : e != ENOTTY && e != EFAULT) {
			if (bad++ < 5)
				TH_LOG("%s fd %d cmd %#x arg %p: errno %d",
				       ws ? "wsclose" : "other", fd, cmd, arg, e);
			last_bad = e;
		}
	}
	TH_LOG("%d iterations, %d duplicates, %d queries, %d unexpected",
	       ITERATIONS, dups, queries, bad);
	EXPECT_EQ(0, bad) TH_LOG("last unexpected: %d (negative: a command that succeeded)",
				 last_bad);
	EXPECT_LT(0, dups);
	EXPECT_LT(0, queries);
	EXPECT_EQ(fds0, count_fds());
	EXPECT_EQ(refs0, refs_settle(refs0));
	targets_unchanged(_metadata, &t);

	/* descriptors that are not open */
	{
		struct wsclose_close_args c = { 0 };

		EXPECT_EQ(-1, ioctl(100000, WSCLOSE_SIOC_CLOSE, &c));
		EXPECT_EQ(EBADF, errno);
		EXPECT_EQ(-1, ioctl(-1, WSCLOSE_SIOC_QUERY, &c));
		EXPECT_EQ(EBADF, errno);
	}
	targets_close(&t);
	munmap(page, 4096);
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
		EXPECT_EQ(-1, wsclose_closesocket_ex(fds[i], WSCLOSE_AS_BLOCKING, &err));
		EXPECT_EQ(WSAENOTSOCK, err);
		EXPECT_EQ(-1, wsclose_set_linger(fds[i], 1, 5, &err));
		EXPECT_EQ(WSAENOTSOCK, err);
		EXPECT_EQ(-1, wsclose_get_linger(fds[i], &onoff, &secs, &err));
		EXPECT_EQ(WSAENOTSOCK, err);
		EXPECT_EQ(-1, wsclose_duplicate(fds[i]));
		EXPECT_EQ(ENOTSOCK, errno);
		EXPECT_EQ(-ENOTTY, query_state(fds[i]));
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

/*
 * A raw socket may name TCP or UDP as its protocol; on IPv4/IPv6 raw
 * sockets the protocol-private ioctls are multicast-routing queries, which
 * is why the per-socket commands have numbers of their own.  Not a wsclose
 * socket: WSAENOTSOCK, and the socket left as it was.
 */
TEST(raw_socket_is_not_ours)
{
	int r = socket(AF_INET, SOCK_RAW, IPPROTO_TCP), err = 0;

	ASSERT_LE(0, r);	/* root in the guest */
	EXPECT_EQ(-1, wsclose_closesocket(r, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	errno = 0;
	EXPECT_EQ(-1, wsclose_duplicate(r));
	EXPECT_EQ(ENOTSOCK, errno);
	EXPECT_EQ(0, fcntl(r, F_GETFD));
	close(r);
}

/*
 * AF_UNIX gives SIOCPROTOPRIVATE + 0 a meaning of its own (SIOCUNIXFILE:
 * open the bound socket's file with O_PATH, for CAP_NET_ADMIN).  The
 * library must not take a bound unix socket for a wsclose socket, nor
 * leave a descriptor behind: WSAENOTSOCK, and the descriptor table as it
 * was.
 */
TEST(unix_socket_is_not_ours)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX,
				   .sun_path = "/tmp/wsclose-fuzz.sock" };
	int u, fds, err = 0, onoff = 7, dl = 7;
	unsigned short secs = 7;

	unlink(sun.sun_path);
	u = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_LE(0, u);
	ASSERT_EQ(0, bind(u, (struct sockaddr *)&sun, sizeof(sun)));
	fds = count_fds();

	EXPECT_EQ(-1, wsclose_closesocket(u, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	EXPECT_EQ(fds, count_fds());
	EXPECT_EQ(-1, wsclose_closesocket_ex(u, WSCLOSE_AS_NONBLOCKING, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	EXPECT_EQ(fds, count_fds());
	errno = 0;
	EXPECT_EQ(-1, wsclose_duplicate(u));
	EXPECT_EQ(ENOTSOCK, errno);
	EXPECT_EQ(fds, count_fds());
	EXPECT_EQ(-1, wsclose_get_linger(u, &onoff, &secs, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	EXPECT_EQ(-1, wsclose_set_dontlinger(u, 0, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	EXPECT_EQ(-1, wsclose_get_dontlinger(u, &dl, &err));
	EXPECT_EQ(WSAENOTSOCK, err);
	EXPECT_EQ(fds, count_fds());
	EXPECT_EQ(0, fcntl(u, F_GETFD));
	EXPECT_EQ(0, listen(u, 1));
	close(u);
	unlink(sun.sun_path);
}

TEST_HARNESS_MAIN
