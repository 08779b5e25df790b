/* SPDX-License-Identifier: GPL-2.0 */
/* Tracepoints of the wsclose close decisions. */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM wsclose

#if !defined(_WSCLOSE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _WSCLOSE_TRACE_H

#include <linux/tracepoint.h>
#include <net/sock.h>

/*
 * One event per close of a wsclose handle: explicit (the ioctl) or implicit
 * (the last descriptor went), with what it looked at and what it did:
 * result is a WSCLOSE_OUTCOME_* or a negative errno.
 */
TRACE_EVENT(wsclose_close,
	TP_PROTO(const struct sock *sk, bool nonblock, bool implicit, int result),
	TP_ARGS(sk, nonblock, implicit, result),
	TP_STRUCT__entry(
		__field(const void *, sk)
		__field(int, state)
		__field(bool, linger)
		__field(unsigned int, linger_s)
		__field(bool, nonblock)
		__field(bool, implicit)
		__field(int, result)
	),
	TP_fast_assign(
		__entry->sk = sk;
		__entry->state = READ_ONCE(sk->sk_state);
		__entry->linger = sock_flag(sk, SOCK_LINGER);
		__entry->linger_s = READ_ONCE(sk->sk_lingertime) / HZ;
		__entry->nonblock = nonblock;
		__entry->implicit = implicit;
		__entry->result = result;
	),
	TP_printk("sk=%p state=%d linger=%d/%u nonblock=%d implicit=%d result=%d",
		  __entry->sk, __entry->state, __entry->linger,
		  __entry->linger_s, __entry->nonblock, __entry->implicit,
		  __entry->result)
);

#endif /* _WSCLOSE_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE wsclose_trace
#include <trace/define_trace.h>
