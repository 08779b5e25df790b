/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels wsclose supports (6.1 and 6.12),
 * kept here so that the driver itself has no version tests.  Included by
 * module/wsclose.c only, after the helpers declared below.
 */
#ifndef _WSCLOSE_COMPAT_H
#define _WSCLOSE_COMPAT_H

#include <linux/version.h>
#include <linux/net.h>

static int ws_gate(const struct socket *sock);
static const struct proto_ops *ws_orig(const struct socket *sock);
static struct socket *ws_real(struct socket *sock);
static int ws_accept_finish(struct socket *sock, struct socket *newsock,
			    int ret);

/*
 * 6.10 folded accept's flags and kern arguments into struct
 * proto_accept_arg.  Either signature forwards to ws_accept_finish().
 */
#if KERNEL_VERSION(6, 10, 0) <= LINUX_VERSION_CODE
static int ws_accept(struct socket *sock, struct socket *newsock,
		     struct proto_accept_arg *arg)
{
	return ws_gate(sock) ?:
	       ws_accept_finish(sock, newsock,
				ws_orig(sock)->accept(ws_real(sock), newsock,
						      arg));
}
#else
static int ws_accept(struct socket *sock, struct socket *newsock, int flags,
		     bool kern)
{
	return ws_gate(sock) ?:
	       ws_accept_finish(sock, newsock,
				ws_orig(sock)->accept(ws_real(sock), newsock,
						      flags, kern));
}
#endif

#endif /* _WSCLOSE_COMPAT_H */
