# SPDX-License-Identifier: GPL-2.0
#
# wsclose: Winsock close semantics for Linux sockets.
#
#   make            build the module (for the running/installed kernels) and the library
#   make run        boot the module in QEMU and show each close outcome
#   make check      every test; the last line is "N passed, N failed"
#   make upstream-patch  the patch series for a kernel tree (build/upstream/)
#
# The kernel part is described by ./Kbuild; each kernel gets its own build
# directory under build/.

SHELL    := /bin/bash
TOP      := $(CURDIR)
B        := $(TOP)/build
CC       ?= cc
CFLAGS   ?= -O2 -g
WFLAGS   := -std=gnu11 -Wall -Wextra -Werror
CPPFLAGS += -I$(TOP)/uapi
KSFT     := $(B)/ksft

VERSION  := 0.1
SOMAJOR  := 0
PREFIX   ?= /usr/local
LIBDIR   ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR   ?= $(PREFIX)/share/man
BINDIR   ?= $(PREFIX)/bin
UDEVDIR  ?= /lib/udev/rules.d
MODLOADDIR ?= /usr/lib/modules-load.d
DKMSDIR  ?= /usr/src/wsclose-$(VERSION)

KVER61   = $(shell scripts/kernels.sh 6.1)
KVER612  = $(shell scripts/kernels.sh 6.12)

LIB_SRC  := uapi/libwsclose.c
LIB_HDR  := uapi/wsclose.h uapi/linux/wsclose.h
MOD_SRC  := Kbuild $(wildcard module/*.[ch]) module/Makefile uapi/linux/wsclose.h

# compat_test is a 32-bit (-m32) program; rmmod_test unloads the module and
# loads it again: it runs last.
SELFTESTS := wsclose_test adopt_test close_test abort_test handle_test uring_test counters_test race_test fuzz_test enomem_test hostile_test compat_test rmmod_test
SELFTEST_BINS := $(addprefix $(B)/selftests/,$(SELFTESTS))
GUEST_BINS := $(SELFTEST_BINS) $(B)/demo/wsclose-demo $(B)/tools/wsclose \
	      $(B)/examples/winsock_client
BENCH_BINS := $(B)/bench/linger_delay $(B)/bench/abort_fanout $(B)/bench/datapath
INSNS_PLUGIN := $(B)/bench/insns-plugin.so

.PHONY: all deps lib module modules sparse selftests run bench bench-build profile check clean install uninstall install-dkms install-list upstream-patch

all: lib
	$(MAKE) module KVER=$(KVER61)

deps:
	@scripts/deps.sh

# ---- library --------------------------------------------------------------
lib: $(B)/lib/libwsclose.a $(B)/lib/libwsclose.so

$(B)/lib/libwsclose.o: $(LIB_SRC) $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WFLAGS) -fPIC -c $< -o $@

$(B)/lib/libwsclose.a: $(B)/lib/libwsclose.o
	$(AR) rcs $@ $^

$(B)/lib/libwsclose.so: $(B)/lib/libwsclose.o
	$(CC) -shared -Wl,-soname,libwsclose.so.$(SOMAJOR) -o $@ $^

$(B)/lib/libwsclose.pc: uapi/libwsclose.pc.in
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

$(B)/tools/wsclose: tools/wsclose.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WFLAGS) -static -o $@ $<

$(B)/examples/winsock_client: examples/winsock_client.c $(B)/lib/libwsclose.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WFLAGS) -static -pthread -o $@ $< $(B)/lib/libwsclose.a

# ---- module, one build directory per kernel ---------------------------------
# make module KVER=<release> [KDIR=<kernel build tree>]
KDIR ?= /lib/modules/$(KVER)/build
module:
	@test -n "$(KVER)" || { echo "KVER not set"; exit 1; }
	@mkdir -p $(B)/$(KVER)
	@rm -rf $(B)/$(KVER)/module $(B)/$(KVER)/*.ko
	@cp -r Kbuild module uapi $(B)/$(KVER)/
	set -o pipefail; $(MAKE) -C $(KDIR) M=$(B)/$(KVER) modules 2>&1 | tee $(B)/$(KVER)/build.log
	@! grep -iE 'warning:|error:' $(B)/$(KVER)/build.log
	@cp $(B)/$(KVER)/module/*.ko $(B)/$(KVER)/

# sparse over module/ (C=2: every file the build compiles; the KUnit files
# only where the kernel has KUnit, which Debian's do not)
sparse:
	@test -n "$(KVER)" || { echo "KVER not set"; exit 1; }
	@mkdir -p $(B)/sparse-$(KVER)
	@rm -rf $(B)/sparse-$(KVER)/module
	@cp -r Kbuild module uapi $(B)/sparse-$(KVER)/
	set -o pipefail; $(MAKE) -C /lib/modules/$(KVER)/build M=$(B)/sparse-$(KVER) C=2 CHECK=sparse modules 2>&1 | tee $(B)/sparse-$(KVER)/sparse.log
	@! grep -iE 'warning:|error:' $(B)/sparse-$(KVER)/sparse.log

modules:
	$(MAKE) module KVER=$(KVER61)
	$(MAKE) module KVER=$(KVER612)

# The git format-patch series that adds wsclose to Debian's
# linux-source-6.12 (net/wsclose/, UAPI, Documentation, selftests), in
# build/upstream/; make check applies it with git am, builds it and runs
# its KUnit suite there (scripts/kunit-6.12.sh).
upstream-patch:
	@scripts/deps.sh
	scripts/upstream-patch.sh $(B)/upstream

# ---- selftests (static: they run in the QEMU initramfs) ------------------------
$(KSFT)/kselftest_harness.h:
	@mkdir -p $(KSFT)
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C $(KSFT) --strip-components=4 \
		linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.1/tools/testing/selftests/kselftest.h
	@touch $@

$(B)/selftests/%: selftests/%.c selftests/helpers.h $(B)/lib/libwsclose.a $(KSFT)/kselftest_harness.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -isystem $(KSFT) $(CFLAGS) $(WFLAGS) -static -pthread -o $@ $< \
		$(B)/lib/libwsclose.a -luring

# The 32-bit (ia32) library and the selftest that runs on it (no liburing).
$(B)/lib32/libwsclose.o: $(LIB_SRC) $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) -m32 $(CPPFLAGS) $(CFLAGS) $(WFLAGS) -c $< -o $@

$(B)/lib32/libwsclose.a: $(B)/lib32/libwsclose.o
	$(AR) rcs $@ $^

$(B)/selftests/compat_test: selftests/compat_test.c selftests/helpers.h $(B)/lib32/libwsclose.a $(KSFT)/kselftest_harness.h
	@mkdir -p $(@D)
	$(CC) -m32 $(CPPFLAGS) -isystem $(KSFT) $(CFLAGS) $(WFLAGS) -static -pthread -o $@ $< \
		$(B)/lib32/libwsclose.a

$(B)/demo/wsclose-demo: scripts/demo.c selftests/helpers.h $(B)/lib/libwsclose.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WFLAGS) -static -pthread -o $@ $< $(B)/lib/libwsclose.a

$(B)/host/lib_test: selftests/lib_test.c $(B)/lib/libwsclose.a $(KSFT)/kselftest_harness.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -isystem $(KSFT) $(CFLAGS) $(WFLAGS) -o $@ $< $(B)/lib/libwsclose.a

selftests: $(SELFTEST_BINS) $(B)/host/lib_test

$(B)/bench/%: bench/%.c selftests/helpers.h $(B)/lib/libwsclose.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WFLAGS) -static -pthread -o $@ $< $(B)/lib/libwsclose.a -luring

$(B)/bench/insns: bench/insns-marker.h

# The instruction-counting QEMU plugin, against the plugin API header of the
# installed QEMU (fetched once from Debian's qemu source package and cached:
# scripts/qemu-plugin-header.sh).
$(INSNS_PLUGIN): bench/insns-plugin.c
	@mkdir -p $(@D)
	hdr=$$(scripts/qemu-plugin-header.sh) && \
	$(CC) $(CFLAGS) $(WFLAGS) -shared -fPIC -I$$(dirname $$(dirname $$hdr)) -o $@ $<

# Build-only: the benchmark programs and the plugin compile cleanly.
bench-build: lib $(BENCH_BINS) $(B)/bench/insns $(B)/bench/sockets $(INSNS_PLUGIN)

$(B)/initramfs-%.cpio.gz: $(GUEST_BINS) module
	scripts/mkinitramfs.sh $@ $(B)/$*/wsclose.ko $(GUEST_BINS)

# ---- the two commands -------------------------------------------------------
run: deps
	@$(MAKE) --no-print-directory -s lib $(GUEST_BINS)
	@$(MAKE) --no-print-directory -s module KVER=$(KVER61) >/dev/null
	@scripts/mkinitramfs.sh $(B)/initramfs-run.cpio.gz $(B)/$(KVER61)/wsclose.ko $(GUEST_BINS)
	@scripts/qemu-run.sh -t 300 /boot/vmlinuz-$(KVER61) $(B)/initramfs-run.cpio.gz 'wsclose-demo && echo && wsclose'

# Benchmarks run in QEMU on the 6.1 kernel; both tables go to build/bench.txt,
# the abort fan-out plot to build/abort.png.  First guest instructions per
# operation (BENCH_BOOTS boots per variant, alternating, counted by a QEMU
# plugin: scripts/insns-bench.sh), then the wall-clock figures of one boot
# (what only time shows: the linger wake-up, the abort fan-out).
BENCH_BOOTS ?= 5
BENCH_SCALE ?= 1
bench: deps
	@$(MAKE) --no-print-directory -s lib $(BENCH_BINS) $(B)/bench/insns $(INSNS_PLUGIN)
	@$(MAKE) --no-print-directory -s module KVER=$(KVER61) >/dev/null
	@set -o pipefail; scripts/insns-bench.sh $(KVER61) $(B) $(BENCH_BOOTS) $(BENCH_SCALE) | tee $(B)/bench.txt
	@echo | tee -a $(B)/bench.txt
	@echo "Wall clock, one boot (plain and wsclose runs alternate within it)" | tee -a $(B)/bench.txt
	@scripts/mkinitramfs.sh $(B)/initramfs-bench.cpio.gz $(B)/$(KVER61)/wsclose.ko $(BENCH_BINS)
	@set -o pipefail; scripts/qemu-run.sh -t 1200 /boot/vmlinuz-$(KVER61) $(B)/initramfs-bench.cpio.gz \
		'echo 2000000 > /proc/sys/fs/nr_open; datapath 7; echo; linger_delay 20; echo; abort_fanout 7' \
		| tee -a $(B)/bench.txt
	@scripts/plot-abort.sh $(B)/bench.txt $(B)/abort.png

# Where opening and closing a socket spends its time, plain against wsclose:
# by default ftrace function_graph in the 6.1 guest (microseconds, inflated
# by the tracer); with MODE=insns, guest kernel instructions by function,
# counted by the QEMU plugin, for the life cycle and the data path
# (scripts/insns-profile.sh; the table also goes to build/profile-insns.txt).
MODE ?= ftrace
profile: deps
ifeq ($(MODE),insns)
	@$(MAKE) --no-print-directory -s lib $(B)/bench/insns $(INSNS_PLUGIN)
	@$(MAKE) --no-print-directory -s module KVER=$(KVER61) >/dev/null
	@set -o pipefail; scripts/insns-profile.sh $(KVER61) $(B) | tee $(B)/profile-insns.txt
else
	@$(MAKE) --no-print-directory -s lib $(B)/bench/sockets
	@$(MAKE) --no-print-directory -s module KVER=$(KVER61) >/dev/null
	@scripts/profile-close.sh $(KVER61) $(B)
endif

check: deps
	@scripts/check.sh

# ---- Wine on wsclose (wine/README.md) ----------------------------------------
# make wine-fetch    Debian's Wine 8.0 source (prepared) and binaries, cached
# make wine-tests    the Windows test programs and the native peer
# make wine-stock    the tests under stock Debian Wine in QEMU, each kernel;
#                    the table in build/wine/table-<kernel>.txt
# make wine-build    patched wineserver/ntdll.so/ws2_32.dll (wine/patches/), cached
# make wine-demo     the closesocket table, stock Wine beside patched, 6.1 only
# make wine-check    stock and patched Wine on each kernel, the module loaded
#                    for the patched runs (WSCLOSE_KO_61=/WSCLOSE_KO_612= name
#                    other builds of the module); last line "N passed, N failed"
MINGW_CC ?= x86_64-w64-mingw32-gcc
WINE_DIR  = $(or $(WSCLOSE_CACHE),$(HOME)/.cache/wsclose)/wine-8.0~repack-4
WINE_BINS := $(B)/wine/wsctest.exe $(B)/wine/wsc-peer

.PHONY: wine-fetch wine-tests wine-stock wine-build wine-check wine-demo

wine-fetch:
	@nice -n 15 wine/fetch.sh all >/dev/null

$(B)/wine/wsctest.exe: wine/tests/wsctest.c
	@mkdir -p $(@D)
	$(MINGW_CC) -std=gnu11 -O2 -Wall -Wextra -Werror -o $@ $< -lws2_32

$(B)/wine/wsc-peer: wine/tests/peer.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WFLAGS) -static -pthread -o $@ $<

wine-tests: $(WINE_BINS)

wine-build: wine-fetch
	@nice -n 15 wine/build.sh >/dev/null

WSCLOSE_KO_61  ?= $(B)/$(KVER61)/wsclose.ko
WSCLOSE_KO_612 ?= $(B)/$(KVER612)/wsclose.ko

wine-check: deps wine-fetch wine-tests
	@if [ "$(WSCLOSE_KO_61)" = "$(B)/$(KVER61)/wsclose.ko" ]; then \
		$(MAKE) --no-print-directory -s module KVER=$(KVER61) >/dev/null; fi
	@if [ "$(WSCLOSE_KO_612)" = "$(B)/$(KVER612)/wsclose.ko" ]; then \
		$(MAKE) --no-print-directory -s module KVER=$(KVER612) >/dev/null; fi
	@wine/check.sh $(B)/wine $(KVER61):$(WSCLOSE_KO_61) $(KVER612):$(WSCLOSE_KO_612)

# make wine-demo: the closesocket table of a Windows program (the close_
# cases of wsctest.exe), stock Debian Wine beside Wine on wsclose, in a 6.1
# guest: the Wine half of what make run shows natively (about 2 minutes).
wine-demo: deps wine-fetch wine-tests
	@$(MAKE) --no-print-directory -s module KVER=$(KVER61) >/dev/null
	@WSCTEST_FILTER=close_ wine/check.sh $(B)/wine $(KVER61):$(B)/$(KVER61)/wsclose.ko

wine-stock: deps wine-fetch wine-tests
	@for k in $(KVER61) $(KVER612); do \
		echo "== stock Debian Wine 8.0 on $$k"; \
		QEMU_RUN_LOG=$(B)/wine/console-stock-$$k.log wine/run-guest.sh $$k \
			"$(WINE_DIR)/dist" "$(WINE_DIR)/prefix" $(B)/wine > $(B)/wine/stock-$$k.txt; \
		rc=$$?; [ $$rc -le 1 ] || { cat $(B)/wine/stock-$$k.txt; echo "wine-stock: guest failed ($$rc)"; exit 1; }; \
		wine/table.sh $(B)/wine/stock-$$k.txt | tee $(B)/wine/table-$$k.txt; \
	done

# ---- installing -------------------------------------------------------------
# make install [KVER=<release>] [KDIR=...] [DESTDIR=...] [PREFIX=...]
# The module goes to /lib/modules/$(KVER)/updates; depmod runs when DESTDIR
# is empty (a package runs it in its own scripts).
KVER ?= $(shell uname -r)
INSTALL_FILES = \
	$(DESTDIR)/lib/modules/$(KVER)/updates/wsclose.ko \
	$(DESTDIR)$(LIBDIR)/libwsclose.a \
	$(DESTDIR)$(LIBDIR)/libwsclose.so.$(VERSION).0 \
	$(DESTDIR)$(LIBDIR)/libwsclose.so.$(SOMAJOR) \
	$(DESTDIR)$(LIBDIR)/libwsclose.so \
	$(DESTDIR)$(LIBDIR)/pkgconfig/libwsclose.pc \
	$(DESTDIR)$(INCLUDEDIR)/wsclose.h \
	$(DESTDIR)$(INCLUDEDIR)/linux/wsclose.h \
	$(DESTDIR)$(BINDIR)/wsclose \
	$(DESTDIR)$(UDEVDIR)/60-wsclose.rules \
	$(DESTDIR)$(MODLOADDIR)/wsclose.conf \
	$(DESTDIR)$(MANDIR)/man4/wsclose.4 \
	$(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(wildcard man/*.3)))

install: lib $(B)/lib/libwsclose.pc $(B)/tools/wsclose
	$(MAKE) module KVER=$(KVER)
	install -D -m 0644 $(B)/$(KVER)/wsclose.ko $(DESTDIR)/lib/modules/$(KVER)/updates/wsclose.ko
	if [ -z "$(DESTDIR)" ]; then depmod -a $(KVER); fi
	install -D -m 0644 $(B)/lib/libwsclose.a $(DESTDIR)$(LIBDIR)/libwsclose.a
	install -D -m 0755 $(B)/lib/libwsclose.so $(DESTDIR)$(LIBDIR)/libwsclose.so.$(VERSION).0
	ln -sf libwsclose.so.$(VERSION).0 $(DESTDIR)$(LIBDIR)/libwsclose.so.$(SOMAJOR)
	ln -sf libwsclose.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/libwsclose.so
	install -D -m 0644 $(B)/lib/libwsclose.pc $(DESTDIR)$(LIBDIR)/pkgconfig/libwsclose.pc
	install -D -m 0644 uapi/wsclose.h $(DESTDIR)$(INCLUDEDIR)/wsclose.h
	install -D -m 0644 uapi/linux/wsclose.h $(DESTDIR)$(INCLUDEDIR)/linux/wsclose.h
	install -D -m 0755 $(B)/tools/wsclose $(DESTDIR)$(BINDIR)/wsclose
	install -D -m 0644 packaging/60-wsclose.rules $(DESTDIR)$(UDEVDIR)/60-wsclose.rules
	install -D -m 0644 packaging/wsclose-modules-load.conf $(DESTDIR)$(MODLOADDIR)/wsclose.conf
	install -D -m 0644 man/wsclose.4 $(DESTDIR)$(MANDIR)/man4/wsclose.4
	install -d $(DESTDIR)$(MANDIR)/man3
	install -m 0644 man/*.3 $(DESTDIR)$(MANDIR)/man3/

uninstall:
	rm -f $(INSTALL_FILES)
	if [ -z "$(DESTDIR)" ]; then depmod -a $(KVER); fi

# The DKMS source tree: what dkms.conf builds from.
install-dkms:
	install -D -m 0644 dkms.conf $(DESTDIR)$(DKMSDIR)/dkms.conf
	install -D -m 0644 Kbuild $(DESTDIR)$(DKMSDIR)/Kbuild
	install -d $(DESTDIR)$(DKMSDIR)/module $(DESTDIR)$(DKMSDIR)/uapi/linux
	install -m 0644 module/*.c module/*.h module/Makefile $(DESTDIR)$(DKMSDIR)/module/
	install -m 0644 uapi/linux/wsclose.h $(DESTDIR)$(DKMSDIR)/uapi/linux/

# Files make install lays out (for the packaging check).
install-list:
	@for f in $(INSTALL_FILES); do echo "$$f"; done

clean:
	rm -rf $(B)
