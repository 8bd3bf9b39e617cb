#!/bin/sh
# Build PyDevice and run its test suite in an emulated Debian bookworm ARM userland
# (debootstrap --foreign + qemu-user-static via binfmt_misc).  Not part of `make test`: slow.
#   tools/arm/check.sh arm64|armhf
# Cache (outside the repository): ~/.cache/pydevice-arm/{bookworm-ARCH,wheels-ARCH,logs}
# Needs root and, on the host: apt-get install qemu-user-static debootstrap binfmt-support
set -eu
ARCH=${1:-arm64}
CACHE=${PYDEV_ARM_CACHE:-$HOME/.cache/pydevice-arm}
ROOT=$CACHE/bookworm-$ARCH
WHEELS=$CACHE/wheels-$ARCH
LOGS=$CACHE/logs-$ARCH
MIRROR=${PYDEV_ARM_MIRROR:-http://deb.debian.org/debian}
TOPDIR=$(cd "$(dirname "$0")/../.." && pwd)
# What a user on a real bookworm board installs before `make` (recorded in docs/arm.md).
BOARD_PACKAGES="python3 python3-venv python3-dev gcc g++ make cmake ca-certificates"
# EPICS Python dependencies with no wheel for this platform on PyPI: built from their sdists.
SDIST_BUILDS=$(grep -E '^(epicscorelibs|pvxslibs|p4p|setuptools-dso)==' "$TOPDIR/requirements.txt")
[ "$ARCH" = armhf ] && SDIST_BUILDS="$SDIST_BUILDS $(grep -E '^(numpy|gpiod)==' "$TOPDIR/requirements.txt")"
mkdir -p "$CACHE" "$WHEELS" "$LOGS"

stamp() { date -u +%s; }
mounted() { mountpoint -q "$1"; }
cleanup() { for m in "$ROOT/wheels" "$ROOT/dev/pts" "$ROOT/dev" "$ROOT/sys" "$ROOT/proc"; do
    mounted "$m" && umount "$m" || true; done; }
# Commands run with a clean environment: the host's pip config (find-links, extra indexes) must not leak in.
in_root() { chroot "$ROOT" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive MAKEFLAGS=-j1 \
    PIP_CERT=/etc/pydevice-host-ca.crt PIP_FIND_LINKS=/wheels PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_DEFAULT_TIMEOUT=180 "$@"; }

[ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
update-binfmts --enable >/dev/null 2>&1 || true

if [ ! -e "$ROOT/.pydevice-rootfs" ]; then
    t=$(stamp)
    debootstrap --arch="$ARCH" --foreign --variant=minbase bookworm "$ROOT" "$MIRROR" > "$LOGS/debootstrap.log" 2>&1
    chroot "$ROOT" /debootstrap/debootstrap --second-stage >> "$LOGS/debootstrap.log" 2>&1
    echo "debootstrap: $(( $(stamp) - t )) s" | tee "$ROOT/.pydevice-rootfs"
fi
trap cleanup EXIT INT TERM
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/pydevice-host-ca.crt"
mounted "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
mounted "$ROOT/sys" || mount --bind /sys "$ROOT/sys"
mounted "$ROOT/dev" || mount --bind /dev "$ROOT/dev"
mounted "$ROOT/dev/pts" || mount --bind /dev/pts "$ROOT/dev/pts"
mkdir -p "$ROOT/wheels"; mounted "$ROOT/wheels" || mount --bind "$WHEELS" "$ROOT/wheels"

t=$(stamp)
in_root sh -c "apt-get update -q && apt-get install -y -q --no-install-recommends $BOARD_PACKAGES" > "$LOGS/apt.log" 2>&1
echo "apt-get install: $(( $(stamp) - t )) s"

in_root sh -c 'test -x /opt/wheelbuild/bin/pip || python3 -m venv /opt/wheelbuild'
for req in $SDIST_BUILDS; do
    name=${req%%==*}; ver=${req#*==}
    if ls "$WHEELS" | grep -qiE "^$(echo "$name" | tr - _)-$ver-"; then echo "wheel cached: $req"; continue; fi
    t=$(stamp)
    in_root /opt/wheelbuild/bin/pip wheel --no-deps -w /wheels "$req" > "$LOGS/wheel-$name.log" 2>&1 \
        || { tail -30 "$LOGS/wheel-$name.log"; echo "FAILED: pip wheel $req"; exit 1; }
    echo "pip wheel $req: $(( $(stamp) - t )) s" | tee -a "$LOGS/times.txt"
done

rm -rf "$ROOT/root/pydevice"; mkdir -p "$ROOT/root/pydevice"
git -C "$TOPDIR" archive HEAD | tar -x -C "$ROOT/root/pydevice"
t=$(stamp)
in_root sh -c 'cd /root/pydevice && make build' > "$LOGS/build.log" 2>&1 || { tail -40 "$LOGS/build.log"; exit 1; }
echo "make build (venv from cached wheels + CMake): $(( $(stamp) - t )) s" | tee -a "$LOGS/times.txt"
t=$(stamp)
rc=0; in_root sh -c 'cd /root/pydevice && .venv/bin/python -m pytest tests -q -rs' > "$LOGS/test.log" 2>&1 || rc=$?
echo "pytest: $(( $(stamp) - t )) s, rc=$rc" | tee -a "$LOGS/times.txt"
tail -30 "$LOGS/test.log"
exit $rc
