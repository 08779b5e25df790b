/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest side of bench/insns-plugin.c: executing insns_marker() makes
 * the plugin append the guest's running instruction counts (user, kernel)
 * to its output file.  xchg %bx,%bx (66 87 db) changes nothing and no
 * compiler emits it; the plugin recognises its bytes when translating.
 */
#ifndef WSCLOSE_INSNS_MARKER_H
#define WSCLOSE_INSNS_MARKER_H

static inline void insns_marker(void)
{
	__asm__ __volatile__(".byte 0x66, 0x87, 0xdb" ::: "memory");
}

#endif
