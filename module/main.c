// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose - Winsock close semantics (WSPCloseSocket) for Linux sockets
 *
 * A caller hands /dev/wsclose an AF_INET/AF_INET6 TCP or UDP socket it
 * made itself (socket(2), accept(2)); the driver adopts it in place, so
 * that its protocol operations pass through this driver, and closes it the
 * way Winsock's closesocket() does:
 *
 *  - SO_DONTLINGER (linger off): return at once, FIN after the queued data;
 *  - SO_LINGER {1, 0}: RST at once;
 *  - SO_LINGER {1, n}: a blocking close waits until every queued byte is
 *    acknowledged (then FIN) or n seconds pass (then RST before returning);
 *    a non-blocking close with data pending fails with EWOULDBLOCK and
 *    changes nothing.
 *
 * Once a close commits, the socket is closed to I/O: calls that were
 * pending on it end with ECANCELED, later calls through other aliases get
 * ENOTSOCK.
 *
 * This file loads and unloads the driver; wsclose.h says which file holds
 * what.
 */

#include <linux/init.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/socket.h>

#include "wsclose.h"

/* Written once at load time, read-only afterwards. */
struct wsclose_table wsclose_tables[WSCLOSE_NFAMILIES][WSCLOSE_NTYPES]
	__ro_after_init;

static int __init wsclose_init(void)
{
	static const int family[WSCLOSE_NFAMILIES] = {
		[WSCLOSE_INET] = AF_INET,
		[WSCLOSE_INET6] = AF_INET6,
	};
	static const int type[WSCLOSE_NTYPES] = {
		[WSCLOSE_STREAM] = SOCK_STREAM,
		[WSCLOSE_DGRAM] = SOCK_DGRAM,
	};
	int f, t, err;

	for (f = 0; f < WSCLOSE_NFAMILIES; f++)
		for (t = 0; t < WSCLOSE_NTYPES; t++)
			wsclose_build_table(&wsclose_tables[f][t], family[f],
					    type[t]);
	if (!wsclose_tables[WSCLOSE_INET][WSCLOSE_STREAM].orig)
		return -EAFNOSUPPORT;

	err = wsclose_reapers_init();
	if (err)
		return err;
	err = wsclose_proc_init();
	if (err)
		goto stop_reapers;
	err = wsclose_adopt_init();
	if (err)
		goto stop_proc;
	return 0;

stop_proc:
	wsclose_proc_exit();
stop_reapers:
	wsclose_reapers_exit();
	return err;
}

static void __exit wsclose_exit(void)
{
	/* no new socket of ours after this; those left close as they go */
	wsclose_adopt_exit();
	wsclose_reapers_exit();
	wsclose_proc_exit();
}

/*
 * Built in, after inet6_init() (a device initcall too), so that the IPv6
 * tables are there to copy; as a module, the same as module_init().
 */
late_initcall(wsclose_init);
module_exit(wsclose_exit);

MODULE_AUTHOR("The wsclose developers");
MODULE_DESCRIPTION("Winsock close semantics for Linux sockets");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1");
MODULE_ALIAS_TCP_ULP("wsclose");
