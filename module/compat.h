/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels wsclose supports (6.1 and 6.12),
 * kept here so that the driver itself has no version tests.  Included by
 * module/wsclose.c only, after the wrappers' helpers.
 */
#ifndef _WSCLOSE_COMPAT_H
#define _WSCLOSE_COMPAT_H

#include <linux/build_bug.h>
#include <linux/version.h>
#include <linux/net.h>

/* 6.5 removed sendpage; Debian's 6.12 has getsockopt_iter (used if set). */
#if KERNEL_VERSION(6, 12, 0) <= LINUX_VERSION_CODE
#define WS_NEW_ACCEPT		1
#define WS_SENDPAGE		0
#define WS_GETSOCKOPT_ITER	1
#elif KERNEL_VERSION(6, 10, 0) <= LINUX_VERSION_CODE
#define WS_NEW_ACCEPT		1
#define WS_SENDPAGE		0
#define WS_GETSOCKOPT_ITER	0
#elif KERNEL_VERSION(6, 5, 0) <= LINUX_VERSION_CODE
#define WS_NEW_ACCEPT		0
#define WS_SENDPAGE		0
#define WS_GETSOCKOPT_ITER	0
#else
#define WS_NEW_ACCEPT		0
#define WS_SENDPAGE		1
#define WS_GETSOCKOPT_ITER	0
#endif

/*
 * Every member of struct proto_ops, each decided about in
 * ws_build_proto() or ws_build_compat_ops().  A kernel that adds one
 * fails this assertion until the new member has been looked at.
 */
#define WS_OPS_FIELD(m)	sizeof_field(struct proto_ops, m)
#ifdef CONFIG_COMPAT
#define WS_OPS_COMPAT_SIZE	WS_OPS_FIELD(compat_ioctl)
#else
#define WS_OPS_COMPAT_SIZE	0
#endif
#if WS_SENDPAGE
#define WS_OPS_VERSION_SIZE	(WS_OPS_FIELD(sendpage) + \
				 WS_OPS_FIELD(sendpage_locked))
#elif WS_GETSOCKOPT_ITER
#define WS_OPS_VERSION_SIZE	WS_OPS_FIELD(getsockopt_iter)
#else
#define WS_OPS_VERSION_SIZE	0
#endif
static_assert(sizeof(struct proto_ops) ==
	      ALIGN(WS_OPS_FIELD(family) + WS_OPS_FIELD(owner) +
		    WS_OPS_FIELD(release) + WS_OPS_FIELD(bind) +
		    WS_OPS_FIELD(connect) + WS_OPS_FIELD(socketpair) +
		    WS_OPS_FIELD(accept) + WS_OPS_FIELD(getname) +
		    WS_OPS_FIELD(poll) + WS_OPS_FIELD(ioctl) +
		    WS_OPS_FIELD(gettstamp) + WS_OPS_FIELD(listen) +
		    WS_OPS_FIELD(shutdown) + WS_OPS_FIELD(setsockopt) +
		    WS_OPS_FIELD(getsockopt) + WS_OPS_FIELD(show_fdinfo) +
		    WS_OPS_FIELD(sendmsg) + WS_OPS_FIELD(recvmsg) +
		    WS_OPS_FIELD(mmap) + WS_OPS_FIELD(splice_read) +
		    WS_OPS_FIELD(splice_eof) + WS_OPS_FIELD(set_peek_off) +
		    WS_OPS_FIELD(peek_len) + WS_OPS_FIELD(read_sock) +
		    WS_OPS_FIELD(read_skb) + WS_OPS_FIELD(sendmsg_locked) +
		    WS_OPS_FIELD(set_rcvlowat) + WS_OPS_COMPAT_SIZE +
		    WS_OPS_VERSION_SIZE, sizeof(void *)),
	      "struct proto_ops has a member wsclose has not decided about");

/*
 * 6.10 folded accept's flags and kern arguments into struct
 * proto_accept_arg.  Either signature forwards to ws_accept_finish().
 */
#if WS_NEW_ACCEPT
static int ws_accept(struct socket *sock, struct socket *newsock,
		     struct proto_accept_arg *arg)
{
	return ws_gate(sock) ?:
	       ws_accept_finish(sock, newsock,
				ws_orig(sock)->accept(sock, newsock, arg));
}
#else
static int ws_accept(struct socket *sock, struct socket *newsock, int flags,
		     bool kern)
{
	return ws_gate(sock) ?:
	       ws_accept_finish(sock, newsock,
				ws_orig(sock)->accept(sock, newsock, flags,
						      kern));
}
#endif

#if WS_SENDPAGE
/* sendfile(2) and splice(2) into a socket, before 6.5 */
static ssize_t ws_sendpage(struct socket *sock, struct page *page, int offset,
			   size_t size, int flags)
{
	ssize_t ret = ws_gate(sock);

	if (ret)
		return ret;
	ret = ws_orig(sock)->sendpage(sock, page, offset, size,
				      flags | MSG_NOSIGNAL);
	return ws_send_result(sock, ret, flags & MSG_NOSIGNAL);
}

static void ws_build_compat_ops(struct proto_ops *ops,
				const struct proto_ops *o)
{
	ops->sendpage = o->sendpage ? ws_sendpage : NULL;
	/* in-kernel users only, like read_sock */
	ops->sendpage_locked = o->sendpage_locked;
}
#elif WS_GETSOCKOPT_ITER
static int ws_getsockopt_iter(struct socket *sock, int level, int optname,
			      sockopt_t *opt)
{
	return ws_gate(sock) ?:
	       ws_orig(sock)->getsockopt_iter(sock, level, optname, opt);
}

static void ws_build_compat_ops(struct proto_ops *ops,
				const struct proto_ops *o)
{
	ops->getsockopt_iter = o->getsockopt_iter ? ws_getsockopt_iter : NULL;
}
#else
static void ws_build_compat_ops(struct proto_ops *ops,
				const struct proto_ops *o)
{
}
#endif

#endif /* _WSCLOSE_COMPAT_H */
