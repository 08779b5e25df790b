#!/usr/bin/python3
# Debian's Wine repack drops files that Wine generates from data it
# downloads (Unicode tables, Vulkan/OpenGL thunks, ...).  Wine's makedep
# refuses to write the Makefile while a listed source is missing, so create
# an empty stub for each: the parts the wsclose patches rebuild (server,
# ntdll, ws2_32) never compile them, and the runtime comes from Debian's
# binaries.  Run from the top of the source tree; prints what it stubbed.
import os
import re

stubs = []
for root, dirs, files in os.walk('.'):
    if root.startswith('./debian') or 'Makefile.in' not in files:
        continue
    text = open(os.path.join(root, 'Makefile.in')).read().replace('\\\n', ' ')
    parents = []
    for line in text.splitlines():
        m = re.match(r'\s*PARENTSRC\s*=(.*)', line)
        if m:
            parents += m.group(1).split()
    for line in text.splitlines():
        m = re.match(r'\s*(?:SOURCES|[A-Z_]*SRCS)\s*=(.*)', line)
        if not m:
            continue
        for f in m.group(1).split():
            here = os.path.join(root, f)
            if os.path.lexists(here) or any(
                    os.path.lexists(os.path.join(root, p, f)) for p in parents):
                continue
            open(here, 'w').close()
            stubs.append(here)
# Generated headers that other sources include.
for h in ('include/wine/vulkan.h', 'include/wine/vulkan_driver.h',
          'include/wine/wgl.h', 'include/wine/wgl_driver.h'):
    if not os.path.lexists(h):
        open(h, 'w').close()
        stubs.append(h)
for s in stubs:
    print('stub', s)
