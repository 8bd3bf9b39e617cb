#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build PyDevice and run its test suite in an emulated ARM Debian (qemu-user + binfmt).
#
#   tools/arm/check.sh [arm64|armhf] [wheels|build|core|test|board|all]   (make check-arm: "arm64 all")
#
# The test step runs $PYDEV_ARM_TESTS (default: tests, the whole suite) with
# $PYDEV_ARM_PYTEST (default: -q -rfE), e.g. PYDEV_ARM_TESTS=tests/revpi/test_revpi_demo.py
# PYDEV_ARM_PYTEST="-x -v -rfE".  build: the venv of the runtime set (+ pyepics, pytest) and
# make build, no test (what core does before its tests).
#
# Everything it downloads or builds is cached outside the repository, in
# ${PYDEV_ARM_CACHE:-~/.cache/pydevice-arm}: the Debian userland (bookworm, as on Raspberry Pi
# OS and RevPi OS) and the wheels built there from sdists (epicscorelibs, pvxslibs and p4p
# publish none for ARM).  Needs root (debootstrap, chroot, mounts) and apt/PyPI access.
# Results and times are appended to $CACHE/results-$ARCH.txt; docs/arm.md quotes them.
set -euo pipefail
ARCH=${1:-arm64}
STEP=${2:-all}
CACHE=${PYDEV_ARM_CACHE:-$HOME/.cache/pydevice-arm}
ROOTFS=$CACHE/bookworm-$ARCH
WHEELS=$CACHE/wheels-$ARCH
RESULTS=$CACHE/results-$ARCH.txt
TOP=$(cd "$(dirname "$0")/../.." && pwd)
# what a board needs before `make` (Raspberry Pi OS / RevPi OS bookworm have most of it)
BOARD_PACKAGES="python3 python3-venv python3-dev gcc g++ make cmake git ca-certificates"
# what the test suite runs besides: procServ and pkill/pgrep (test_service.py runs the systemd
# unit's ExecStart and ExecStop, docs/service.md); not installed on the board step's userland
TEST_PACKAGES="procserv procps"
# qemu-user runs the IOCs 5-20x slower than the host: stretch the harness' waits by this much
TIME_SCALE=${PYDEV_TEST_TIME_SCALE:-5}
QEMU=$([ "$ARCH" = arm64 ] && echo qemu-aarch64 || echo qemu-arm)
# qemu-user before 10.0 does not emulate setsockopt(IP_MULTICAST_IF) (ENOPROTOOPT, errno 92):
# every pvAccess server and client (QSRV, pva links, p4p) fails there, a real board does not.
# Debian 12's is 7.2, so this host then runs the userland with bookworm-backports' qemu-user,
# fetched into the cache (the host's apt sources are not changed) and registered as the
# binfmt handler "pydevice-$QEMU", ahead of the system's (docs/arm.md).
QEMU_MIN=10
QEMU_BPO="qemu-user=1:10.0.2+ds-2+deb13u1~bpo12+1"
# The CPU qemu emulates (QEMU_CPU, read by every emulated program): a Cortex-A72, a Raspberry
# Pi 4's and a RevPi Connect 4's.  qemu's default ("max") also emulates pointer
# authentication, which made Python about 1.5x slower under qemu 10.
if [ "$ARCH" = arm64 ]; then export QEMU_CPU=${QEMU_CPU:-cortex-a72}; fi
# The environment of the test steps' pytest (and so of every IOC and client it starts: the
# harness passes os.environ on), for the emulator's sake only:
# - EVENT_NOEPOLL=1: qemu-user 10.0.2 does not implement epoll_pwait2 (aarch64 syscall 441,
#   Linux 5.11; "Unknown syscall 441" under QEMU_STRACE=1).  pvxs' bundled libevent waits with
#   it, gets ENOSYS, and its loop worker exits ("CRIT pvxs.loop Exit loop worker"), so no p4p
#   client request (Context("pva"), the venv's pvget/pvput) ever completes.  libevent reads
#   EVENT_NO<backend> from the environment (pvxs 1.5.3 does not set EVENT_BASE_FLAG_IGNORE_ENV) and
#   then uses poll instead.  A real board's kernel (>= 5.11) has epoll_pwait2; the IOC's own PV
#   Access server (pvAccess, no libevent) does not read it: this changes the emulator's path
#   for p4p clients, not the IOC's.
# - OPENBLAS_NUM_THREADS=1: numpy's OpenBLAS starts an idle worker at import that spin-waits
#   in user space on aarch64, a whole emulated core per Python process (pytest, each IOC).
TEST_ENV="EVENT_NOEPOLL=1 OPENBLAS_NUM_THREADS=1"
TESTS=${PYDEV_ARM_TESTS:-tests}
PYTEST_ARGS=${PYDEV_ARM_PYTEST:--q -rfE}

log() { echo "[arm $(date +%H:%M:%S)] $*"; }
timed() {  # timed LABEL CMD...: run, and record how long it took
    local label=$1 start rc; shift
    start=$(date +%s)
    "$@" && rc=0 || rc=$?
    echo "$(date -u +%Y-%m-%dT%H:%MZ) $label: $(( $(date +%s) - start )) s, exit $rc" | tee -a "$RESULTS"
    return $rc
}
in_root() {  # a clean environment inside the ARM userland
    chroot "$ROOTFS" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
        PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_FIND_LINKS=/wheels \
        PIP_DISABLE_PIP_VERSION_CHECK=1 MAKEFLAGS=-j2 ${QEMU_CPU:+QEMU_CPU=$QEMU_CPU} "$@"
}

host_tools() {
    if ! command -v debootstrap >/dev/null || [ ! -e /usr/bin/$QEMU-static ]; then
        apt-get update -qq && apt-get install -y -qq qemu-user-static debootstrap binfmt-support
    fi
    [ -e /proc/sys/fs/binfmt_misc/$QEMU ] || update-binfmts --enable $QEMU || true
    local version
    version=$(/usr/bin/$QEMU-static --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p;q')
    if [ "${version:-0}" -lt "$QEMU_MIN" ]; then newer_qemu; fi
    echo "emulator: $(emulator), $("$(emulator)" --version | head -1), QEMU_CPU=${QEMU_CPU:-default}" \
        | tee -a "$RESULTS"
}

emulator() {  # the qemu that runs this userland's programs
    sed -n 's/^interpreter //p' /proc/sys/fs/binfmt_misc/pydevice-$QEMU 2>/dev/null | grep . \
        || echo /usr/bin/$QEMU-static
}

newer_qemu() {  # bookworm-backports' qemu-user into $CACHE/qemu, registered for this ARCH
    local dir=$CACHE/qemu apt=$CACHE/qemu/apt entry=/proc/sys/fs/binfmt_misc/pydevice-$QEMU
    if [ ! -x "$dir/$QEMU" ]; then
        log "host qemu-user is older than $QEMU_MIN: fetching $QEMU_BPO"
        mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/deb"
        echo "deb $("$TOP/tools/apt-mirror.sh") bookworm-backports main" > "$apt/sources.list"
        local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
                    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache")
        apt-get "${opts[@]}" update -qq
        (cd "$apt/deb" && apt-get "${opts[@]}" download "$QEMU_BPO")
        dpkg-deb -x "$apt"/deb/qemu-user_*.deb "$apt/x"
        cp "$apt/x/usr/bin/$QEMU" "$dir/$QEMU"
        rm -rf "$apt/x" "$apt"/deb/*.deb
    fi
    if [ ! -e "$entry" ]; then
        # the system entry's magic and mask; "F": the kernel opens the emulator now, so it
        # need not exist inside the userland; a later entry is matched first
        local magic mask
        magic=$(sed -n 's/^magic //p' /proc/sys/fs/binfmt_misc/$QEMU | sed 's/../\\x&/g')
        mask=$(sed -n 's/^mask //p' /proc/sys/fs/binfmt_misc/$QEMU | sed 's/../\\x&/g')
        # (the kernel reads the \xHH escapes itself)
        printf '%s' ":pydevice-$QEMU:M::$magic:$mask:$dir/$QEMU:PF" > /proc/sys/fs/binfmt_misc/register
    fi
}

userland() {
    if [ ! -x "$ROOTFS/usr/bin/python3" ]; then
        log "debootstrap $ARCH bookworm into $ROOTFS"
        mkdir -p "$CACHE"
        timed "debootstrap $ARCH" debootstrap --arch="$ARCH" --foreign --variant=minbase bookworm \
            "$ROOTFS" "$("$TOP/tools/apt-mirror.sh")"
        cp /usr/bin/$QEMU-static "$ROOTFS/usr/bin/"
        chroot "$ROOTFS" /debootstrap/debootstrap --second-stage
    fi
    cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
    if ! in_root sh -c "command -v cmake && command -v g++" >/dev/null; then
        timed "apt-get install $BOARD_PACKAGES" in_root sh -c \
            "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $BOARD_PACKAGES"
    fi
    if ! in_root sh -c "command -v procServ && command -v pkill" >/dev/null; then
        timed "apt-get install $TEST_PACKAGES" in_root sh -c \
            "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $TEST_PACKAGES"
    fi
    # pip in the userland trusts what this host trusts (a site's TLS proxy too); after the
    # install, whose ca-certificates package rewrites the bundle with Debian's list alone
    mkdir -p "$ROOTFS/etc/ssl/certs"
    cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
    mountpoint -q "$ROOTFS/proc" || mount -t proc proc "$ROOTFS/proc"
    mountpoint -q "$ROOTFS/dev" || mount --bind /dev "$ROOTFS/dev"
    mountpoint -q "$ROOTFS/dev/pts" || mount --bind /dev/pts "$ROOTFS/dev/pts"
    mkdir -p "$WHEELS" "$ROOTFS/wheels"
    mountpoint -q "$ROOTFS/wheels" || mount --bind "$WHEELS" "$ROOTFS/wheels"
}

wheels() {
    # every pinned requirement as a wheel for this platform: downloaded where PyPI has one,
    # else built from its sdist here (the slow part, cached).  In stages, so that each sdist's
    # isolated build environment finds the wheels built before instead of building them
    # again: epicscorelibs, then the runtime set (epicscorelibs requires numpy, so pvxslibs'
    # build environment installs numpy, and armv7l has no numpy wheel on PyPI), then
    # pvxslibs (builds against both), then the test set (p4p).
    cp "$TOP"/requirements*.txt "$ROOTFS/tmp/"
    in_root sh -c "test -x /opt/wheelenv/bin/pip || python3 -m venv /opt/wheelenv"
    local stage pin
    for stage in setuptools-dso epicscorelibs requirements.txt pvxslibs requirements-test.txt; do
        case $stage in
        requirements*)
            timed "pip wheel -r $stage" in_root /opt/wheelenv/bin/pip wheel -q -w /wheels -r "/tmp/$stage" ;;
        *)
            pin=$(grep -h "^$stage==" "$TOP"/requirements*.txt | head -1)
            [ -n "$pin" ] || continue
            ls "$WHEELS" | grep -qi "^${stage//-/_}-" && continue
            timed "pip wheel $pin" in_root /opt/wheelenv/bin/pip wheel -q --no-deps -w /wheels "$pin" ;;
        esac
    done
    ls -la "$WHEELS" | tee -a "$RESULTS"
}

copy_project() {  # the project's files as they are in the work tree (committed or not)
    local dest=$ROOTFS/build/pydevice
    rm -rf "$dest" && mkdir -p "$dest"
    (cd "$TOP" && git ls-files -co --exclude-standard | while read -r f; do
        [ -f "$f" ] && install -D -m "$(stat -c %a "$f")" "$f" "$dest/$f"; done)
    # a checkout, as the tests expect (test_first_hour copies the sources it lists with git)
    git -C "$dest" init -q && git -C "$dest" add -A
}

project_test() {
    copy_project
    timed "make build ($ARCH)" in_root sh -c "cd /build/pydevice && make build"
    # the whole log is kept; waits (not timing assertions) are stretched for emulation
    timed "make test ($ARCH): pytest $PYTEST_ARGS $TESTS" in_root env PYDEV_TEST_TIME_SCALE="$TIME_SCALE" $TEST_ENV sh -c \
        "cd /build/pydevice && .venv/bin/python -m pytest $TESTS $PYTEST_ARGS -p no:cacheprovider 2>&1" \
        > "$CACHE/test-$ARCH.log" || true
    tail -60 "$CACHE/test-$ARCH.log"
    grep -E "passed|failed" "$CACHE/test-$ARCH.log" | tail -1 | tee -a "$RESULTS"
}

runtime_build() {
    # Before the test-only EPICS wheels (pvxslibs, p4p) exist: a venv of the runtime set plus
    # pyepics and pytest, and make build
    copy_project
    in_root sh -c "cd /build/pydevice && python3 -m venv .venv && \
        .venv/bin/pip install -q -r requirements.txt \
            \$(grep -E '^(pyepics|pytest)==' requirements-test.txt) && \
        .venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])' > /tmp/purelib && \
        echo /build/pydevice/python > \$(cat /tmp/purelib)/pydevice-source.pth && \
        .venv/bin/python -m pydevice.clients install .venv/bin >/dev/null && touch .venv/.installed"
    timed "make build ($ARCH)" in_root sh -c "cd /build/pydevice && make build"
}

core() {  # the build above, and the core suite; tests that need p4p (PV Access) fail
    runtime_build
    timed "core suite without p4p ($ARCH)" in_root env PYDEV_TEST_TIME_SCALE="$TIME_SCALE" $TEST_ENV sh -c \
        "cd /build/pydevice && .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_core_*.py tests/test_first_hour.py tests/test_autosave.py 2>&1 | tail -60" \
        | tee "$CACHE/core-$ARCH.log"
    grep -E "passed|failed" "$CACHE/core-$ARCH.log" | tail -1 | tee -a "$RESULTS"
}

board() {
    # Build once, deploy to many boards, timed: `make wheels` in the build userland, then a
    # second, fresh userland with Python but no compiler installs the wheelhouse with
    # --no-index, and its pydevIoc serves a record that this host reads over CA and PVA
    # (the chroot shares the host's loopback).  make wheels needs the runtime set only.
    runtime_build
    timed "make wheels ($ARCH)" in_root sh -c "cd /build/pydevice && rm -rf dist && make wheels"
    local fresh=$CACHE/board-$ARCH
    umount "$fresh/proc" 2>/dev/null || true
    rm -rf "$fresh"
    timed "fresh board userland: debootstrap $ARCH" debootstrap --arch="$ARCH" --foreign \
        --variant=minbase bookworm "$fresh" "$("$TOP/tools/apt-mirror.sh")"
    cp /usr/bin/$QEMU-static "$fresh/usr/bin/"
    timed "fresh board userland: second stage" chroot "$fresh" /debootstrap/debootstrap --second-stage
    cp /etc/resolv.conf "$fresh/etc/resolv.conf"
    local board_root=$ROOTFS
    ROOTFS=$fresh
    # pydevIoc links libpython3.X.so, which Debian's python3 package does not bring
    timed "board: apt-get install python3-venv libpython3.X" in_root sh -c \
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv \
         libpython3.\$(python3 -c 'import sys; print(sys.version_info[1])')"
    mkdir -p "$fresh/tmp/wheelhouse" && cp "$board_root"/build/pydevice/dist/wheelhouse/*.whl "$fresh/tmp/wheelhouse/"
    du -sh "$fresh/tmp/wheelhouse" | tee -a "$RESULTS"
    ls "$fresh/tmp/wheelhouse" | tee -a "$RESULTS"
    if in_root sh -c "command -v cc gcc g++" >/dev/null; then echo "board userland has a compiler" >&2; exit 1; fi
    timed "board: venv + pip install --no-index -f wheelhouse 'pydevice[revpi]'" in_root sh -c \
        "python3 -m venv /opt/ioc && /opt/ioc/bin/pip install -q --no-index -f /tmp/wheelhouse 'pydevice[revpi]'"
    mountpoint -q "$fresh/proc" || mount -t proc proc "$fresh/proc"
    timed "board: pydevIoc serves over CA and PVA, read from the host" \
        "$TOP/.venv/bin/python" "$TOP/tools/arm/board_probe.py" "$fresh" | tee -a "$RESULTS"
    umount "$fresh/proc" || true
    ROOTFS=$board_root
}

main() {
    host_tools
    userland
    case $STEP in
        build) runtime_build ;;
        core) core ;;
        wheels) wheels ;;
        test) project_test ;;
        board) board ;;
        all) wheels; project_test; board ;;
        *) echo "usage: $0 [arm64|armhf] [wheels|build|core|test|board|all]" >&2; exit 2 ;;
    esac
}
# on one line: bash reads a script as it runs it, so an edit made meanwhile cannot be run
main; exit $?
