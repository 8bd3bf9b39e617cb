#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The system packages some tests run: the X server and the libraries Qt (PyQt5's wheel) needs
# for the screens tests (tests/screens), and procServ, under which the systemd unit runs the
# IOC (tests/test_service.py).  Installed with apt-get when missing and this is Debian run by
# root.  Anything that cannot be installed is reported; those tests then skip, saying why.
# Usage: tools/test-deps.sh   (make test runs it)
want="xvfb libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
      libxcb-render-util0 libxcb-xinerama0 libxcb-xfixes0 libxcb-shape0 libxcb-xkb1
      libxcb-cursor0 libgl1 libegl1 libfontconfig1 libdbus-1-3 fonts-dejavu-core
      libglib2.0-0t64|libglib2.0-0 procserv"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
available() { apt-cache policy "$1" 2>/dev/null | grep -q "Candidate: [0-9]"; }

command -v dpkg-query > /dev/null || { echo "test-deps: not Debian: install Xvfb, Qt's X11 libraries and procServ yourself, or the tests that need them skip"; exit 0; }
missing=""
for choice in $want; do
  have=""
  for p in $(echo "$choice" | tr '|' ' '); do installed "$p" && have=1; done
  [ -n "$have" ] || missing="$missing $choice"
done
[ -n "$missing" ] || exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get > /dev/null; then
  echo "test-deps: missing$missing (needs root and apt-get): the tests that need them will skip"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
pick() {  # the first alternative Debian has, for each missing package
  out=""
  for choice in $missing; do
    for p in $(echo "$choice" | tr '|' ' '); do
      if available "$p"; then out="$out $p"; break; fi
    done
  done
  echo "$out"
}
pkgs=$(pick)
[ -n "$pkgs" ] || { apt-get update -q > /dev/null 2>&1; pkgs=$(pick); }
echo "test-deps: apt-get install$pkgs"
apt-get install -y -q --no-install-recommends $pkgs > /dev/null 2>&1 \
  || { apt-get update -q > /dev/null 2>&1 \
       && apt-get install -y -q --no-install-recommends $(pick) > /dev/null 2>&1; } \
  || echo "test-deps: could not install$missing: the tests that need them will skip"
exit 0
