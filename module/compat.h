/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels wsclose supports (6.1 and 6.12),
 * kept here so that the driver itself has no version tests: macros only.
 * Included by wsclose.h.
 */
#ifndef _WSCLOSE_COMPAT_H
#define _WSCLOSE_COMPAT_H

#include <linux/build_bug.h>
#include <linux/export.h>
#include <linux/kconfig.h>
#include <linux/version.h>
#include <linux/net.h>

/*
 * 6.10 folded accept's flags and kern arguments into struct
 * proto_accept_arg; 6.5 removed sendpage; Debian's 6.12 has getsockopt_iter
 * (used if set).
 */
#if KERNEL_VERSION(6, 12, 0) <= LINUX_VERSION_CODE
#define WSCLOSE_NEW_ACCEPT		1
#define WSCLOSE_SENDPAGE		0
#define WSCLOSE_GETSOCKOPT_ITER	1
#elif KERNEL_VERSION(6, 10, 0) <= LINUX_VERSION_CODE
#define WSCLOSE_NEW_ACCEPT		1
#define WSCLOSE_SENDPAGE		0
#define WSCLOSE_GETSOCKOPT_ITER	0
#elif KERNEL_VERSION(6, 5, 0) <= LINUX_VERSION_CODE
#define WSCLOSE_NEW_ACCEPT		0
#define WSCLOSE_SENDPAGE		0
#define WSCLOSE_GETSOCKOPT_ITER	0
#else
#define WSCLOSE_NEW_ACCEPT		0
#define WSCLOSE_SENDPAGE		1
#define WSCLOSE_GETSOCKOPT_ITER	0
#endif

/*
 * Every member of struct proto_ops, each decided about in
 * wsclose_build_table().  A kernel that adds one fails this assertion
 * until the new member has been looked at.
 */
#define WSCLOSE_OPS_FIELD(m)	sizeof_field(struct proto_ops, m)
#ifdef CONFIG_COMPAT
#define WSCLOSE_OPS_COMPAT_SIZE	WSCLOSE_OPS_FIELD(compat_ioctl)
#else
#define WSCLOSE_OPS_COMPAT_SIZE	0
#endif
#if WSCLOSE_SENDPAGE
#define WSCLOSE_OPS_VERSION_SIZE	(WSCLOSE_OPS_FIELD(sendpage) + \
				 WSCLOSE_OPS_FIELD(sendpage_locked))
#elif WSCLOSE_GETSOCKOPT_ITER
#define WSCLOSE_OPS_VERSION_SIZE	WSCLOSE_OPS_FIELD(getsockopt_iter)
#else
#define WSCLOSE_OPS_VERSION_SIZE	0
#endif
static_assert(sizeof(struct proto_ops) ==
		      ALIGN(WSCLOSE_OPS_FIELD(family) +
				    WSCLOSE_OPS_FIELD(owner) +
				    WSCLOSE_OPS_FIELD(release) +
				    WSCLOSE_OPS_FIELD(bind) +
				    WSCLOSE_OPS_FIELD(connect) +
				    WSCLOSE_OPS_FIELD(socketpair) +
				    WSCLOSE_OPS_FIELD(accept) +
				    WSCLOSE_OPS_FIELD(getname) +
				    WSCLOSE_OPS_FIELD(poll) +
				    WSCLOSE_OPS_FIELD(ioctl) +
				    WSCLOSE_OPS_FIELD(gettstamp) +
				    WSCLOSE_OPS_FIELD(listen) +
				    WSCLOSE_OPS_FIELD(shutdown) +
				    WSCLOSE_OPS_FIELD(setsockopt) +
				    WSCLOSE_OPS_FIELD(getsockopt) +
				    WSCLOSE_OPS_FIELD(show_fdinfo) +
				    WSCLOSE_OPS_FIELD(sendmsg) +
				    WSCLOSE_OPS_FIELD(recvmsg) +
				    WSCLOSE_OPS_FIELD(mmap) +
				    WSCLOSE_OPS_FIELD(splice_read) +
				    WSCLOSE_OPS_FIELD(splice_eof) +
				    WSCLOSE_OPS_FIELD(set_peek_off) +
				    WSCLOSE_OPS_FIELD(peek_len) +
				    WSCLOSE_OPS_FIELD(read_sock) +
				    WSCLOSE_OPS_FIELD(read_skb) +
				    WSCLOSE_OPS_FIELD(sendmsg_locked) +
				    WSCLOSE_OPS_FIELD(set_rcvlowat) +
				    WSCLOSE_OPS_COMPAT_SIZE +
				    WSCLOSE_OPS_VERSION_SIZE,
			    sizeof(void *)),
	      "struct proto_ops has a member wsclose has not decided about");

/*
 * KUnit visibility: <kunit/visibility.h> arrived in 6.2; before, the same
 * two macros, with the same symbol namespace.
 */
#if KERNEL_VERSION(6, 2, 0) <= LINUX_VERSION_CODE
#include <kunit/visibility.h>
#elif IS_ENABLED(CONFIG_KUNIT)
#define VISIBLE_IF_KUNIT
#define EXPORT_SYMBOL_IF_KUNIT(symbol) \
	EXPORT_SYMBOL_NS(symbol, EXPORTED_FOR_KUNIT_TESTING)
#else
#define VISIBLE_IF_KUNIT static
#define EXPORT_SYMBOL_IF_KUNIT(symbol)
#endif

#endif /* _WSCLOSE_COMPAT_H */
