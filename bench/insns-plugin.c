// SPDX-License-Identifier: GPL-2.0
/*
 * insns-plugin: a QEMU TCG plugin counting the guest's instructions, for
 * benchmarks that emulation cannot blur.
 *
 * Every translation block adds its instruction count to one of two
 * counters, user or kernel (the top bit of its address), with an inline
 * add: all vCPUs, exact under -accel tcg,thread=single (one TCG thread, so
 * the non-atomic adds cannot race).  When the guest executes the marker
 * instruction, xchg %bx,%bx (66 87 db, a NOP no compiler emits; see
 * bench/insns-marker.h), the running counts are appended to the output
 * file as "user kernel".  Only differences between markers mean anything:
 * firmware and boot count too.
 *
 *   -plugin insns-plugin.so,out=FILE[,profile=FILE]
 *
 * With profile=FILE, every kernel translation block also counts into its
 * own counter, keyed by its start address; at each marker the counts since
 * the previous marker are appended to that file ("marker N" then one
 * "address count" line per block that ran) and reset.  Map the addresses
 * with the guest's /proc/kallsyms (scripts/insns-profile.sh).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu/qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static const unsigned char marker[] = { 0x66, 0x87, 0xdb };

static uint64_t count_user, count_kernel;
static unsigned long markers;
static FILE *out, *prof;

/* Per-block kernel counters, open addressing; entries never move. */
#define SLOTS_SHIFT	20
#define SLOTS		(1u << SLOTS_SHIFT)

struct slot {
	uint64_t vaddr;		/* 0: free */
	uint64_t count;
};

static struct slot *slots;
static unsigned long used;
static uint64_t overflow;	/* blocks that found the table full */

static struct slot *slot_of(uint64_t vaddr)
{
	uint64_t h = (vaddr * 0x9e3779b97f4a7c15ull) >> (64 - SLOTS_SHIFT);

	for (unsigned long i = 0; i < SLOTS; i++) {
		struct slot *s = &slots[(h + i) & (SLOTS - 1)];

		if (s->vaddr == vaddr)
			return s;
		if (!s->vaddr) {
			if (used >= SLOTS / 4 * 3)
				return NULL;
			used++;
			s->vaddr = vaddr;
			return s;
		}
	}
	return NULL;
}

static void dump_profile(void)
{
	fprintf(prof, "marker %lu\n", markers);
	for (unsigned long i = 0; i < SLOTS; i++) {
		if (slots[i].count) {
			fprintf(prof, "%016" PRIx64 " %" PRIu64 "\n",
				slots[i].vaddr, slots[i].count);
			slots[i].count = 0;
		}
	}
	if (overflow) {
		fprintf(prof, "overflow %" PRIu64 "\n", overflow);
		overflow = 0;
	}
	fflush(prof);
}

static void on_marker(unsigned int vcpu, void *udata)
{
	(void)vcpu;
	(void)udata;
	markers++;
	fprintf(out, "%" PRIu64 " %" PRIu64 "\n", count_user, count_kernel);
	fflush(out);
	if (prof)
		dump_profile();
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);
	uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	int kernel = vaddr >> 63;

	(void)id;
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 kernel ? &count_kernel : &count_user, n);
	if (prof && kernel) {
		struct slot *s = slot_of(vaddr);

		qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
							 s ? &s->count : &overflow, n);
	}
	if (kernel)
		return;
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

		if (qemu_plugin_insn_size(insn) == sizeof(marker) &&
		    !memcmp(qemu_plugin_insn_data(insn), marker, sizeof(marker)))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker,
							       QEMU_PLUGIN_CB_NO_REGS, NULL);
	}
}

static void plugin_exit(qemu_plugin_id_t id, void *udata)
{
	(void)id;
	(void)udata;
	if (out)
		fclose(out);
	if (prof)
		fclose(prof);
	free(slots);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					   const qemu_info_t *info,
					   int argc, char **argv)
{
	const char *out_path = NULL, *prof_path = NULL;

	if (strcmp(info->target_name, "x86_64")) {
		fprintf(stderr, "insns-plugin: x86_64 guests only, not %s\n",
			info->target_name);
		return -1;
	}
	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4)) {
			out_path = argv[i] + 4;
		} else if (!strncmp(argv[i], "profile=", 8)) {
			prof_path = argv[i] + 8;
		} else {
			fprintf(stderr, "insns-plugin: unknown argument %s\n", argv[i]);
			return -1;
		}
	}
	if (!out_path) {
		fprintf(stderr, "insns-plugin: out=FILE is required\n");
		return -1;
	}
	out = fopen(out_path, "w");
	if (!out) {
		perror(out_path);
		return -1;
	}
	if (prof_path) {
		slots = calloc(SLOTS, sizeof(*slots));
		prof = fopen(prof_path, "w");
		if (!slots || !prof) {
			perror(prof_path);
			return -1;
		}
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
	return 0;
}
