// SPDX-License-Identifier: GPL-2.0
/*
 * wsclose: per-network-namespace counters, read through /proc/net/wsclose.
 * Plain atomics: they move once per socket or per close, never per byte.
 */

#include <linux/atomic.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "wsclose.h"

struct wsclose_net {
	atomic_long_t cnt[WSCLOSE_NCOUNTERS];
};

static unsigned int wsclose_net_id __read_mostly;

atomic_long_t *wsclose_counter_ptr(const struct sock *sk,
				   enum wsclose_counter c)
{
	struct wsclose_net *wn = net_generic(sock_net(sk), wsclose_net_id);

	return &wn->cnt[c];
}
EXPORT_SYMBOL_IF_KUNIT(wsclose_counter_ptr);

void wsclose_count(const struct sock *sk, enum wsclose_counter c, long delta)
{
	atomic_long_add(delta, wsclose_counter_ptr(sk, c));
}

/* One close of @sk ended with @outcome, a WSCLOSE_OUTCOME_*. */
void wsclose_count_outcome(const struct sock *sk, int outcome)
{
	enum wsclose_counter c;

	switch (outcome) {
	case WSCLOSE_OUTCOME_NOT_LAST_HANDLE:
		c = WSCLOSE_CNT_NOT_LAST_HANDLE;
		break;
	case WSCLOSE_OUTCOME_GRACEFUL:
		c = WSCLOSE_CNT_GRACEFUL;
		break;
	case WSCLOSE_OUTCOME_ABORTIVE:
		c = WSCLOSE_CNT_ABORTIVE;
		break;
	case WSCLOSE_OUTCOME_DRAINED:
		c = WSCLOSE_CNT_DRAINED;
		break;
	case WSCLOSE_OUTCOME_TIMED_OUT_RESET:
		c = WSCLOSE_CNT_TIMED_OUT_RESET;
		break;
	default:
		DEBUG_NET_WARN_ON_ONCE(1);
		return;
	}
	wsclose_count(sk, c, 1);
}

static const char *const wsclose_counter_names[WSCLOSE_NCOUNTERS] = {
	[WSCLOSE_CNT_OPEN] = "open",
	[WSCLOSE_CNT_NOT_LAST_HANDLE] = "not_last_handle",
	[WSCLOSE_CNT_GRACEFUL] = "graceful",
	[WSCLOSE_CNT_ABORTIVE] = "abortive",
	[WSCLOSE_CNT_DRAINED] = "drained",
	[WSCLOSE_CNT_TIMED_OUT_RESET] = "timed_out_reset",
	[WSCLOSE_CNT_WOULD_BLOCK] = "would_block",
	[WSCLOSE_CNT_ABORTED] = "aborted",
	[WSCLOSE_CNT_REAPERS] = "reapers",
	[WSCLOSE_CNT_REAPER_LIMIT] = "reaper_limit",
};

static int wsclose_proc_show(struct seq_file *seq, void *v)
{
	struct net *net = seq_file_single_net(seq);
	struct wsclose_net *wn = net_generic(net, wsclose_net_id);
	int i;

	for (i = 0; i < WSCLOSE_NCOUNTERS; i++)
		if (!WARN_ON_ONCE(!wsclose_counter_names[i]))
			seq_printf(seq, "%s %ld\n", wsclose_counter_names[i],
				   atomic_long_read(&wn->cnt[i]));
	return 0;
}

static int __net_init wsclose_net_init(struct net *net)
{
	if (!proc_create_net_single("wsclose", 0444, net->proc_net,
				    wsclose_proc_show, NULL))
		return -ENOMEM;
	return 0;
}

static void __net_exit wsclose_net_exit(struct net *net)
{
	remove_proc_entry("wsclose", net->proc_net);
}

static struct pernet_operations wsclose_net_ops = {
	.init = wsclose_net_init,
	.exit = wsclose_net_exit,
	.id = &wsclose_net_id,
	.size = sizeof(struct wsclose_net),
};

int __init wsclose_proc_init(void)
{
	return register_pernet_subsys(&wsclose_net_ops);
}

void wsclose_proc_exit(void)
{
	unregister_pernet_subsys(&wsclose_net_ops);
}
