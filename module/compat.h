/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels wsclose supports (6.1 and 6.12),
 * kept here so that the driver itself has no version tests.
 */
#ifndef _WSCLOSE_COMPAT_H
#define _WSCLOSE_COMPAT_H

#include <linux/version.h>
#include <linux/net.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
/* 6.10 folded accept's flags and kern into struct proto_accept_arg. */
#define WSCLOSE_ACCEPT_PARAMS	struct proto_accept_arg *arg
#define WSCLOSE_ACCEPT_ARGS	arg
#else
#define WSCLOSE_ACCEPT_PARAMS	int flags, bool kern
#define WSCLOSE_ACCEPT_ARGS	flags, kern
#endif

#endif /* _WSCLOSE_COMPAT_H */
