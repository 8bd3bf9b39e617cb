#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Prints the Debian mirror this machine's apt uses (deb822 .sources or a one-line sources.list),
# so that userlands made with debootstrap take their packages where the host's apt does.
for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] && sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*debian\)\/*$/\1/p' "$f"
done | head -1 | grep . && exit 0
sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*debian\)\/*[[:space:]].*/\2/p' \
    /etc/apt/sources.list 2>/dev/null | head -1 | grep . && exit 0
echo "apt-mirror.sh: no Debian mirror in /etc/apt/sources.list{,.d/*.sources}" >&2
exit 1
