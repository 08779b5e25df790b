// SPDX-License-Identifier: GPL-2.0
/*
 * libwsclose host-side tests: the errno -> WSA table row by row, the
 * strings, and every call failing with WSAENETDOWN when the module is not
 * loaded (this runs on the build host, which has no /dev/wsclose).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "wsclose.h"

FIXTURE(map) {
};

FIXTURE_VARIANT(map) {
	int errnum;
	int wsa;
};

/* The table of ../shared/SPEC.md, "The library", row for row. */
FIXTURE_VARIANT_ADD(map, EWOULDBLOCK) { EWOULDBLOCK, 10035 };
FIXTURE_VARIANT_ADD(map, EAGAIN) { EAGAIN, 10035 };
FIXTURE_VARIANT_ADD(map, EINPROGRESS) { EINPROGRESS, 10036 };
FIXTURE_VARIANT_ADD(map, ENOTSOCK) { ENOTSOCK, 10038 };
FIXTURE_VARIANT_ADD(map, EBADF) { EBADF, 10038 };
FIXTURE_VARIANT_ADD(map, ENETDOWN) { ENETDOWN, 10050 };
FIXTURE_VARIANT_ADD(map, ECANCELED) { ECANCELED, 995 };
FIXTURE_VARIANT_ADD(map, EINTR) { EINTR, 10004 };
FIXTURE_VARIANT_ADD(map, EFAULT) { EFAULT, 10014 };
FIXTURE_VARIANT_ADD(map, EINVAL) { EINVAL, 10022 };
FIXTURE_VARIANT_ADD(map, ENOPROTOOPT) { ENOPROTOOPT, 10042 };
FIXTURE_VARIANT_ADD(map, ECONNABORTED) { ECONNABORTED, 10053 };
FIXTURE_VARIANT_ADD(map, ECONNRESET) { ECONNRESET, 10054 };
FIXTURE_VARIANT_ADD(map, EPIPE) { EPIPE, 10054 };
FIXTURE_VARIANT_ADD(map, ENOBUFS) { ENOBUFS, 10055 };
FIXTURE_VARIANT_ADD(map, ENOMEM) { ENOMEM, 10055 };
FIXTURE_VARIANT_ADD(map, ENOTCONN) { ENOTCONN, 10057 };
FIXTURE_VARIANT_ADD(map, ESHUTDOWN) { ESHUTDOWN, 10058 };
FIXTURE_VARIANT_ADD(map, ETIMEDOUT) { ETIMEDOUT, 10060 };
/* beyond the spec's minimum */
FIXTURE_VARIANT_ADD(map, EACCES) { EACCES, 10013 };
FIXTURE_VARIANT_ADD(map, EMFILE) { EMFILE, 10024 };
FIXTURE_VARIANT_ADD(map, EAFNOSUPPORT) { EAFNOSUPPORT, 10047 };
FIXTURE_VARIANT_ADD(map, EOPNOTSUPP) { EOPNOTSUPP, 10045 };
FIXTURE_VARIANT_ADD(map, ECONNREFUSED) { ECONNREFUSED, 10061 };
FIXTURE_VARIANT_ADD(map, EADDRINUSE) { EADDRINUSE, 10048 };
FIXTURE_VARIANT_ADD(map, EHOSTUNREACH) { EHOSTUNREACH, 10065 };

FIXTURE_SETUP(map)
{
}

FIXTURE_TEARDOWN(map)
{
}

TEST_F(map, row)
{
	EXPECT_EQ(variant->wsa, wsclose_wsa_from_errno(variant->errnum));
	/* every code it returns has a text of its own */
	EXPECT_STRNE("Unknown Winsock error", wsclose_strerror(variant->wsa));
}

TEST(header_values)
{
	EXPECT_EQ(995, WSA_OPERATION_ABORTED);
	EXPECT_EQ(10004, WSAEINTR);
	EXPECT_EQ(10014, WSAEFAULT);
	EXPECT_EQ(10022, WSAEINVAL);
	EXPECT_EQ(10035, WSAEWOULDBLOCK);
	EXPECT_EQ(10036, WSAEINPROGRESS);
	EXPECT_EQ(10038, WSAENOTSOCK);
	EXPECT_EQ(10042, WSAENOPROTOOPT);
	EXPECT_EQ(10050, WSAENETDOWN);
	EXPECT_EQ(10053, WSAECONNABORTED);
	EXPECT_EQ(10054, WSAECONNRESET);
	EXPECT_EQ(10055, WSAENOBUFS);
	EXPECT_EQ(10057, WSAENOTCONN);
	EXPECT_EQ(10058, WSAESHUTDOWN);
	EXPECT_EQ(10060, WSAETIMEDOUT);
}

TEST(unknown_errno_maps_to_documented_fallback)
{
	EXPECT_EQ(WSCLOSE_WSA_FALLBACK, wsclose_wsa_from_errno(0));
	EXPECT_EQ(WSCLOSE_WSA_FALLBACK, wsclose_wsa_from_errno(-1));
	EXPECT_EQ(WSCLOSE_WSA_FALLBACK, wsclose_wsa_from_errno(EXDEV));
	EXPECT_EQ(WSCLOSE_WSA_FALLBACK, wsclose_wsa_from_errno(4095));
	EXPECT_EQ(WSAEINVAL, WSCLOSE_WSA_FALLBACK);
	EXPECT_NE(0, WSCLOSE_WSA_FALLBACK);
}

TEST(strerror_texts)
{
	EXPECT_STREQ("Socket operation on nonsocket", wsclose_strerror(WSAENOTSOCK));
	EXPECT_STREQ("Resource temporarily unavailable",
		     wsclose_strerror(WSAEWOULDBLOCK));
	EXPECT_STREQ("The overlapped operation has been canceled",
		     wsclose_strerror(WSA_OPERATION_ABORTED));
	EXPECT_STREQ("Unknown Winsock error", wsclose_strerror(0));
	EXPECT_STREQ("Unknown Winsock error", wsclose_strerror(12345));
}

/* Without the module every call reports WSAENETDOWN and touches nothing. */
FIXTURE(no_module) {
	int s;
};

FIXTURE_SETUP(no_module)
{
	if (access("/dev/wsclose", F_OK) == 0)
		SKIP(return, "/dev/wsclose exists: the module is loaded");
	self->s = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, self->s);
}

FIXTURE_TEARDOWN(no_module)
{
	close(self->s);
}

TEST_F(no_module, socket)
{
	errno = 0;
	EXPECT_EQ(-1, wsclose_socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_EQ(ENETDOWN, errno);
	errno = 0;
	EXPECT_EQ(-1, wsclose_duplicate(self->s));
	EXPECT_EQ(ENETDOWN, errno);
	EXPECT_EQ(WSAENETDOWN, wsclose_wsa_from_errno(errno));
}

TEST_F(no_module, adopt)
{
	errno = 0;
	EXPECT_EQ(-1, wsclose_adopt(self->s));
	EXPECT_EQ(ENETDOWN, errno);
	/* the socket is untouched and still a plain socket */
	EXPECT_EQ(0, fcntl(self->s, F_GETFD));
	EXPECT_EQ(0, listen(self->s, 1));
}

TEST_F(no_module, closesocket)
{
	int err = 0;

	EXPECT_EQ(-1, wsclose_closesocket(self->s, &err));
	EXPECT_EQ(WSAENETDOWN, err);
	EXPECT_EQ(-1, wsclose_closesocket_ex(self->s, WSCLOSE_AS_BLOCKING, &err));
	EXPECT_EQ(WSAENETDOWN, err);
	/* a NULL error pointer is allowed */
	EXPECT_EQ(-1, wsclose_closesocket(self->s, NULL));
	EXPECT_EQ(ENETDOWN, errno);
	/* the descriptor is untouched */
	EXPECT_EQ(0, fcntl(self->s, F_GETFD));
}

TEST_F(no_module, linger_calls)
{
	unsigned short secs = 0xbeef;
	int onoff = 0x5a5a, dl = 0x5a5a, err = 0;

	EXPECT_EQ(-1, wsclose_set_linger(self->s, 1, 5, &err));
	EXPECT_EQ(WSAENETDOWN, err);
	EXPECT_EQ(-1, wsclose_set_dontlinger(self->s, 1, &err));
	EXPECT_EQ(WSAENETDOWN, err);
	EXPECT_EQ(-1, wsclose_get_linger(self->s, &onoff, &secs, &err));
	EXPECT_EQ(WSAENETDOWN, err);
	EXPECT_EQ(-1, wsclose_get_dontlinger(self->s, &dl, &err));
	EXPECT_EQ(WSAENETDOWN, err);
	EXPECT_EQ(0x5a5a, onoff);
	EXPECT_EQ(0xbeef, secs);
	EXPECT_EQ(0x5a5a, dl);
}

TEST_HARNESS_MAIN
