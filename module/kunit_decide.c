// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for wsclose, one module of three suites:
 *   wsclose_decide     the close decision as tables, the ioctl argument
 *                      checks, the ABI layout (this file)
 *   wsclose_close      real in-kernel TCP and UDP sockets over loopback for
 *                      every close outcome (kunit_close.c)
 *   wsclose_ownership  what the driver never takes or frees, and the races
 *                      of an adoption (kunit_owner.c)
 *
 * Built against a kernel with CONFIG_KUNIT, loaded after wsclose.ko (or
 * built in); the results appear as KTAP in the kernel log.
 */

#include <kunit/test.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/stddef.h>

#include "wsclose.h"

/* ---- steps 1-4: the spec's rules, in its order, as a first-match table -- */

#define ANY	-1

struct close_rule {
	int state, handle_closed, waiting, last_handle, nonblock, lingers,
	    pending, fin_unacked, expired;
	int result;
};

static const struct close_rule close_rules[] = {
	/* 1. the socket, or this handle, was closed through another alias */
	{ WSCLOSE_CLOSED, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, -ENOTSOCK },
	{ ANY, 1, ANY, ANY, ANY, ANY, ANY, ANY, ANY, -ENOTSOCK },
	/* 2. another close is waiting */
	{ ANY, ANY, 1, ANY, ANY, ANY, ANY, ANY, ANY, -EINPROGRESS },
	/* 3. not the last handle */
	{ ANY, ANY, ANY, 0, ANY, ANY, ANY, ANY, ANY,
	  WSCLOSE_STEP_RELEASE_ONLY },
	/*
	 * an interrupted wait: a non-blocking retry cannot wait for the FIN,
	 * until the deadline has passed: then it completes the reset
	 */
	{ WSCLOSE_CLOSING, ANY, ANY, ANY, 1, ANY, ANY, 1, 0, -EWOULDBLOCK },
	{ WSCLOSE_CLOSING, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY,
	  WSCLOSE_STEP_RESUME },
	/* 4. lingering, non-blocking, data pending */
	{ WSCLOSE_OPEN, ANY, ANY, ANY, 1, 1, 1, ANY, ANY, -EWOULDBLOCK },
	/* 5. commit */
	{ ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, ANY, WSCLOSE_STEP_COMMIT },
};

static bool rule_matches(const struct close_rule *r,
			 const struct wsclose_close_in *in)
{
	return (r->state == ANY || r->state == in->state) &&
	       (r->handle_closed == ANY ||
		r->handle_closed == in->handle_closed) &&
	       (r->waiting == ANY || r->waiting == in->waiting) &&
	       (r->last_handle == ANY || r->last_handle == in->last_handle) &&
	       (r->nonblock == ANY || r->nonblock == in->nonblock) &&
	       (r->lingers == ANY || r->lingers == in->lingers) &&
	       (r->pending == ANY || r->pending == in->pending) &&
	       (r->fin_unacked == ANY || r->fin_unacked == in->fin_unacked) &&
	       (r->expired == ANY || r->expired == in->expired);
}

static int rules_expect(const struct wsclose_close_in *in)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(close_rules); i++)
		if (rule_matches(&close_rules[i], in))
			return close_rules[i].result;
	return INT_MIN;
}

/* Every combination of the inputs gives what the rules say. */
static void close_decide_every_combination(struct kunit *test)
{
	static const enum wsclose_state states[] = {
		WSCLOSE_OPEN, WSCLOSE_CLOSING, WSCLOSE_CLOSED
	};
	unsigned int bits, s;

	for (s = 0; s < ARRAY_SIZE(states); s++) {
		for (bits = 0; bits < 256; bits++) {
			struct wsclose_close_in in = {
				.state = states[s],
				.waiting = bits & 1,
				.last_handle = bits & 2,
				.nonblock = bits & 4,
				.lingers = bits & 8,
				.pending = bits & 16,
				.fin_unacked = bits & 32,
				.handle_closed = bits & 64,
				.expired = bits & 128,
			};

			KUNIT_EXPECT_EQ_MSG(test, wsclose_close_decide(&in),
					    rules_expect(&in),
					    "state %d bits %#x", states[s],
					    bits);
		}
	}
}

/* Named rows of the spec's close table. */
struct close_row {
	const char *name;
	struct wsclose_close_in in;
	int result;
};

static const struct close_row close_rows[] = {
	{ "closed_alias_enotsock",
	  { .state = WSCLOSE_CLOSED, .last_handle = 1 },
	  -ENOTSOCK },
	{ "closed_handle_enotsock",
	  { .state = WSCLOSE_OPEN, .handle_closed = 1, .last_handle = 1 },
	  -ENOTSOCK },
	{ "closed_handle_not_last_enotsock",
	  { .state = WSCLOSE_OPEN, .handle_closed = 1 },
	  -ENOTSOCK },
	{ "closed_beats_in_progress",
	  { .state = WSCLOSE_CLOSED, .waiting = 1, .last_handle = 1 },
	  -ENOTSOCK },
	{ "waiting_einprogress",
	  { .state = WSCLOSE_CLOSING, .waiting = 1, .last_handle = 1 },
	  -EINPROGRESS },
	{ "not_last_handle_release_only",
	  { .state = WSCLOSE_OPEN, .nonblock = 1, .lingers = 1, .pending = 1 },
	  WSCLOSE_STEP_RELEASE_ONLY },
	{ "dontlinger_nonblocking_pending_commits",
	  { .state = WSCLOSE_OPEN,
	    .last_handle = 1,
	    .nonblock = 1,
	    .pending = 1 },
	  WSCLOSE_STEP_COMMIT },
	{ "linger_nonblocking_pending_ewouldblock",
	  { .state = WSCLOSE_OPEN,
	    .last_handle = 1,
	    .nonblock = 1,
	    .lingers = 1,
	    .pending = 1 },
	  -EWOULDBLOCK },
	{ "linger_nonblocking_nothing_pending_commits",
	  { .state = WSCLOSE_OPEN,
	    .last_handle = 1,
	    .nonblock = 1,
	    .lingers = 1 },
	  WSCLOSE_STEP_COMMIT },
	{ "linger_blocking_pending_commits",
	  { .state = WSCLOSE_OPEN,
	    .last_handle = 1,
	    .lingers = 1,
	    .pending = 1 },
	  WSCLOSE_STEP_COMMIT },
	{ "interrupted_blocking_retry_resumes",
	  { .state = WSCLOSE_CLOSING, .last_handle = 1, .fin_unacked = 1 },
	  WSCLOSE_STEP_RESUME },
	{ "interrupted_nonblocking_retry_ewouldblock",
	  { .state = WSCLOSE_CLOSING,
	    .last_handle = 1,
	    .nonblock = 1,
	    .fin_unacked = 1 },
	  -EWOULDBLOCK },
	{ "interrupted_retry_after_ack_resumes",
	  { .state = WSCLOSE_CLOSING, .last_handle = 1, .nonblock = 1 },
	  WSCLOSE_STEP_RESUME },
	{ "open_plain_commits",
	  { .state = WSCLOSE_OPEN, .last_handle = 1 },
	  WSCLOSE_STEP_COMMIT },
};

static void close_row_desc(const struct close_row *r, char *desc)
{
	strscpy(desc, r->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(close_rows, close_rows, close_row_desc);

static void close_decide_row(struct kunit *test)
{
	const struct close_row *r = test->param_value;

	KUNIT_EXPECT_EQ(test, wsclose_close_decide(&r->in), r->result);
}

/* ---- step 5: what a committing TCP close does --------------------------- */

struct commit_row {
	const char *name;
	struct wsclose_commit_in in;
	int action;
};

static const struct commit_row commit_rows[] = {
	{ "listener_stops",
	  { .listening = 1, .linger = 1 },
	  WSCLOSE_ACT_STOP_LISTENING },
	{ "dontlinger_fin", { .pending = 1 }, WSCLOSE_ACT_FIN },
	{ "dontlinger_unread_resets", { .unread = 1 }, WSCLOSE_ACT_RESET },
	{ "linger_zero_resets",
	  { .linger = 1, .pending = 1 },
	  WSCLOSE_ACT_RESET },
	{ "linger_zero_nothing_pending_resets",
	  { .linger = 1 },
	  WSCLOSE_ACT_RESET },
	{ "linger_blocking_pending_waits",
	  { .linger = 1, .lingertime = 2 * HZ, .pending = 1 },
	  WSCLOSE_ACT_FIN_AND_WAIT },
	{ "linger_nothing_pending_fin",
	  { .linger = 1, .lingertime = 2 * HZ },
	  WSCLOSE_ACT_FIN },
	{ "linger_nonblocking_fin",
	  { .linger = 1, .lingertime = HZ, .pending = 1, .nonblock = 1 },
	  WSCLOSE_ACT_FIN },
	{ "linger_unread_resets",
	  { .linger = 1, .lingertime = HZ, .pending = 1, .unread = 1 },
	  WSCLOSE_ACT_RESET },
};

static void commit_row_desc(const struct commit_row *r, char *desc)
{
	strscpy(desc, r->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(commit_rows, commit_rows, commit_row_desc);

static void commit_decide_row(struct kunit *test)
{
	const struct commit_row *r = test->param_value;

	KUNIT_EXPECT_EQ(test, wsclose_commit_decide(&r->in), r->action);
}

static void commit_decide_every_combination(struct kunit *test)
{
	unsigned int bits;

	for (bits = 0; bits < 64; bits++) {
		struct wsclose_commit_in in = {
			.listening = bits & 1,
			.unread = bits & 2,
			.linger = bits & 4,
			.lingertime = (bits & 8) ? 5 * HZ : 0,
			.pending = bits & 16,
			.nonblock = bits & 32,
		};
		int want;

		if (in.listening)
			want = WSCLOSE_ACT_STOP_LISTENING;
		else if (in.unread || (in.linger && !in.lingertime))
			want = WSCLOSE_ACT_RESET;
		else if (in.linger && in.pending && !in.nonblock)
			want = WSCLOSE_ACT_FIN_AND_WAIT;
		else
			want = WSCLOSE_ACT_FIN;
		KUNIT_EXPECT_EQ_MSG(test, wsclose_commit_decide(&in), want,
				    "bits %#x", bits);
	}
}

/* ---- the ABI ------------------------------------------------------------ */

static void abi_layout(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct wsclose_adopt_args), 8);
	KUNIT_EXPECT_EQ(test, sizeof(struct wsclose_close_args), 16);
	KUNIT_EXPECT_EQ(test, offsetof(struct wsclose_close_args, flags), 4);
	KUNIT_EXPECT_EQ(test, offsetof(struct wsclose_close_args, outcome), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct wsclose_close_args, pad), 12);
	KUNIT_EXPECT_EQ(test, sizeof(struct wsclose_query_args), 16);
	KUNIT_EXPECT_EQ(test, offsetof(struct wsclose_query_args, handles), 12);
	KUNIT_EXPECT_EQ(test, sizeof(struct wsclose_dup_args), 8);
	KUNIT_EXPECT_EQ(test, _IOC_TYPE(WSCLOSE_IOC_ADOPT), 'W');
	KUNIT_EXPECT_EQ(test, _IOC_NR(WSCLOSE_IOC_ADOPT), 0x84);
	KUNIT_EXPECT_EQ(test, _IOC_DIR(WSCLOSE_IOC_ADOPT), _IOC_WRITE);
	KUNIT_EXPECT_EQ(test, _IOC_SIZE(WSCLOSE_IOC_ADOPT),
			sizeof(struct wsclose_adopt_args));
	/* the per-socket commands: the driver's own range, sized, directed */
	KUNIT_EXPECT_EQ(test, WSCLOSE_SIOC_CLOSE,
			_IOWR('W', 0x85, struct wsclose_close_args));
	KUNIT_EXPECT_EQ(test, WSCLOSE_SIOC_QUERY,
			_IOR('W', 0x86, struct wsclose_query_args));
	KUNIT_EXPECT_EQ(test, WSCLOSE_SIOC_DUPLICATE,
			_IOW('W', 0x87, struct wsclose_dup_args));
	/* the outcome values are ABI too */
	KUNIT_EXPECT_EQ(test, WSCLOSE_OUTCOME_NOT_LAST_HANDLE, 1);
	KUNIT_EXPECT_EQ(test, WSCLOSE_OUTCOME_TIMED_OUT_RESET, 5);
}

struct close_args_row {
	const char *name;
	struct wsclose_close_args a;
	int err;
};

static const struct close_args_row close_args_rows[] = {
	{ "no_flags", { 3, 0, 0, 0 }, 0 },
	{ "as_blocking", { 3, WSCLOSE_AS_BLOCKING, 0, 0 }, 0 },
	{ "as_nonblocking", { 3, WSCLOSE_AS_NONBLOCKING, 0, 0 }, 0 },
	{ "outcome_is_output_only", { 3, 0, 77, 0 }, 0 },
	{ "both_modes", { 3, WSCLOSE_CLOSE_FLAGS, 0, 0 }, -EINVAL },
	{ "unknown_flag", { 3, 4, 0, 0 }, -EINVAL },
	{ "nonzero_pad", { 3, 0, 0, 1 }, -EINVAL },
};

static void close_args_desc(const struct close_args_row *r, char *desc)
{
	strscpy(desc, r->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(close_args, close_args_rows, close_args_desc);

static void close_args_check(struct kunit *test)
{
	const struct close_args_row *r = test->param_value;

	KUNIT_EXPECT_EQ(test, wsclose_check_close_args(&r->a), r->err);
}

static struct kunit_case wsclose_decide_cases[] = {
	KUNIT_CASE(close_decide_every_combination),
	KUNIT_CASE_PARAM(close_decide_row, close_rows_gen_params),
	KUNIT_CASE(commit_decide_every_combination),
	KUNIT_CASE_PARAM(commit_decide_row, commit_rows_gen_params),
	KUNIT_CASE(abi_layout),
	KUNIT_CASE_PARAM(close_args_check, close_args_gen_params),
	{}
};

static struct kunit_suite wsclose_decide_suite = {
	.name = "wsclose_decide",
	.test_cases = wsclose_decide_cases,
};

kunit_test_suite(wsclose_decide_suite);

MODULE_DESCRIPTION("KUnit tests for wsclose");
MODULE_LICENSE("GPL");
MODULE_INFO(test, "Y");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
