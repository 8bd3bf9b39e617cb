#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The Pythons of make test-pythons: where each one comes from, and its core suite.
#
#   tools/pythons.sh test VERSION [--prepare]   the core suite on Python VERSION (3.10 ... 3.15;
#                                               newest: 3.15 where its wheels are built, else 3.14)
#   tools/pythons.sh prepare [VERSION...]       make the Debian sid userland (make pythons)
#   tools/pythons.sh run VERSION CMD...         CMD in the work tree, where Python VERSION runs
#                                               (e.g. run 3.14 .venv-3.14-sid/bin/python -m pytest tests/revpi)
#
# An interpreter is looked for, in this order, on this machine (pyenv's ~/.pyenv/versions, then
# pythonX.Y on PATH) and then in a Debian sid userland in $PYDEV_PYTHONS_CACHE
# (~/.cache/pydevice-pythons/sid), which has Debian's python3.14 and python3.15 with their -dev
# and -venv packages: sid's binaries need a newer C library than this machine's, so that
# Python's venv, build and suite run inside the userland (chroot), on the same work tree,
# bind-mounted at the same path, with CA on the shared loopback.  Its venv, build directory and
# tree are .venv-X.Y-sid, build-X.Y-sid and build-X.Y-sid/tree.
#
# prepare makes the userland (debootstrap, about a minute, and apt-get, about two; needs root and
# Debian's archive) and keeps it; test --prepare does so when the VERSION is found nowhere else
# (make test).  Wheels that PyPI lacks for a Python (built from their sdists by pip, the slow
# part) are kept in $CACHE/wheels-X.Y and found there the next time.
set -euo pipefail
CACHE=${PYDEV_PYTHONS_CACHE:-$HOME/.cache/pydevice-pythons}
SID=$CACHE/sid
TOP=$(cd "$(dirname "$0")/.." && pwd)
# what the userland needs to make the venv, build with CMake, compile sdists (EPICS base needs
# perl) and run the core suite (pkill/pgrep)
SID_PYTHONS="3.14 3.15"
# the Pythons some pinned package has no wheel for on PyPI (3.15: numpy, epicscorelibs,
# pvxslibs, p4p, gpiod): their wheels are built by make pythons (tens of minutes), never by a test run
SDIST_PYTHONS="3.15"
SID_PACKAGES="gcc g++ make cmake git ca-certificates procps perl"

log() { echo "[pythons $(date +%H:%M:%S)] $*"; }

host_python() {  # VERSION: this machine's interpreter of that version, or nothing
    local v=$1 py
    py=$(ls -d "$HOME"/.pyenv/versions/"$v".*/bin/python"$v" 2>/dev/null | sort -V | tail -1 || true)
    [ -n "$py" ] || py=$(command -v "python$v" || true)
    echo "$py"
}

in_sid() {  # CMD...: in the userland, in a clean environment and a mount namespace of its own
    # (/proc, a /dev/shm, the work tree at its own path and $WHEELS at /wheels are mounted for
    # CMD alone: nothing stays mounted in the cache, and runs side by side do not meet)
    cp /etc/ssl/certs/ca-certificates.crt "$SID/etc/ssl/certs/ca-certificates.crt"  # a site's TLS proxy too
    cp /etc/resolv.conf "$SID/etc/resolv.conf"
    # a git worktree's repository lies outside it (the tests list the sources with git)
    local git
    git=$(cd "$TOP" && git rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
    case $git in "$TOP"/*|"") git= ;; esac
    mkdir -p "$SID/dev/shm" "$SID$TOP" "$SID/wheels" "$SID/etc/ssl/certs" ${git:+"$SID$git"}
    unshare --mount --propagation private sh -c 'set -e; root=$1 top=$2 wheels=$3 git=$4; shift 4
        mount -t proc proc "$root/proc"; mount -t tmpfs shm "$root/dev/shm"
        mount --bind "$top" "$root$top"; [ -z "$wheels" ] || mount --bind "$wheels" "$root/wheels"
        [ -z "$git" ] || mount --bind "$git" "$root$git"
        exec chroot "$root" "$@"' sh "$SID" "$TOP" "${WHEELS:-}" "$git" \
        /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
        PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 \
        ${WHEELS:+PIP_FIND_LINKS=/wheels} \
        ${PIP_DEFAULT_TIMEOUT:+PIP_DEFAULT_TIMEOUT=$PIP_DEFAULT_TIMEOUT} \
        ${PYDEV_TEST_TIME_SCALE:+PYDEV_TEST_TIME_SCALE=$PYDEV_TEST_TIME_SCALE} "$@"
}

sid_userland() {
    if [ "$(id -u)" != 0 ]; then
        echo "pythons: making the Debian sid userland needs root (debootstrap, chroot)" >&2
        return 1
    fi
    local packages=$SID_PACKAGES v start=$SECONDS
    for v in $SID_PYTHONS; do packages="$packages python$v python$v-dev python$v-venv"; done
    if [ ! -x "$SID/usr/bin/apt-get" ]; then
        command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap; }
        log "debootstrap sid into $SID"
        rm -rf "$SID.partial"
        debootstrap --variant=minbase sid "$SID.partial" "$("$TOP/tools/apt-mirror.sh")" > "$CACHE/debootstrap.log" 2>&1 \
            || { tail -20 "$CACHE/debootstrap.log"; return 1; }
        mv "$SID.partial" "$SID"
    fi
    # sid's archive may be a snapshot older than its Release file's Valid-Until
    echo 'Acquire::Check-Valid-Until "false";' > "$SID/etc/apt/apt.conf.d/99pydevice"
    if ! in_sid sh -c "for v in $SID_PYTHONS; do test -x /usr/bin/python\$v || exit 1; done; command -v cmake && command -v g++" >/dev/null; then
        log "apt-get install in the userland: $packages"
        in_sid env DEBIAN_FRONTEND=noninteractive sh -c \
            "apt-get update -qq && apt-get install -y -qq --no-install-recommends $packages" > "$CACHE/apt.log" 2>&1 \
            || { tail -20 "$CACHE/apt.log"; return 1; }
    fi
    log "sid userland ready in $SID ($(( SECONDS - start )) s)"
}

sid_wheels() {  # VERSION: every pinned requirement as a wheel for sid's Python VERSION
    # Downloaded where PyPI has one, else built from its sdist (the slow part: for 3.15 numpy,
    # epicscorelibs, pvxslibs and p4p), in stages so that each sdist's isolated build
    # environment finds the wheels built before (pvxslibs builds against epicscorelibs and
    # numpy) instead of building them again.
    local v=$1 stage pin start
    local WHEELS=$CACHE/wheels-$v
    mkdir -p "$WHEELS"
    in_sid sh -c "test -x /opt/wheels-$v/bin/pip || python$v -m venv /opt/wheels-$v"
    for stage in setuptools-dso numpy epicscorelibs requirements.txt pvxslibs requirements-test.txt; do
        start=$SECONDS
        case $stage in
        requirements*)
            in_sid env MAKEFLAGS=-j2 nice -n 19 "/opt/wheels-$v/bin/pip" wheel -q \
                -w /wheels -r "$TOP/$stage" ;;
        *)
            pin=$(grep -h "^$stage==" "$TOP"/requirements*.txt | head -1)
            [ -n "$pin" ] || continue
            in_sid env MAKEFLAGS=-j2 nice -n 19 "/opt/wheels-$v/bin/pip" wheel -q \
                --no-deps -w /wheels "$pin" ;;
        esac
        log "wheels for $v: $stage ($(( SECONDS - start )) s)"
    done
    touch "$WHEELS/.complete"
}

test_one() {  # VERSION [--prepare]
    local v=$1 prepare=${2:-} py log=test-python-$1.log start=$SECONDS rc=0
    cd "$TOP"
    py=$(host_python "$v")
    if [ -n "$py" ]; then
        echo "test-pythons: Python $v ($py): core suite, log in $log"
        make --no-print-directory test-core PYTHON="$py" VENV=".venv-$v" BUILD="build-$v" \
            TREE="build-$v/tree" > "$log" 2>&1 || rc=$?
    else
        case " $SID_PYTHONS " in
        *" $v "*) ;;
        *) echo "test-pythons: Python $v not installed: skipped"; return 0 ;;
        esac
        if [ ! -x "$SID/usr/bin/python$v" ]; then
            if [ -z "$prepare" ]; then
                echo "test-pythons: Python $v not installed: SKIPPED (make pythons makes the Debian sid userland that has it)"
                return 0
            fi
            sid_userland > "$CACHE.log" 2>&1 || {
                cat "$CACHE.log"
                echo "test-pythons: Python $v: SKIPPED, the sid userland could not be made"
                return 0
            }
        fi
        case " $SDIST_PYTHONS " in
        *" $v "*) if [ ! -e "$CACHE/wheels-$v/.complete" ]; then
            echo "test-pythons: Python $v: SKIPPED, its wheels are not built yet (PyPI has none; make pythons builds them, tens of minutes)"
            return 0
        fi ;;
        esac
        echo "test-pythons: Python $v (Debian sid's /usr/bin/python$v, in $SID): core suite, log in $log"
        local WHEELS=$CACHE/wheels-$v
        mkdir -p "$WHEELS"
        # pip finds the wheels built before; those it builds now are kept for the next run
        in_sid sh -c "cd '$TOP' && \
            { test -x .venv-$v-sid/bin/python || python$v -m venv .venv-$v-sid; } && \
            .venv-$v-sid/bin/pip wheel -q -w /wheels -r requirements-test.txt && \
            make --no-print-directory test-core PYTHON=/usr/bin/python$v VENV=.venv-$v-sid \
                BUILD=build-$v-sid TREE=build-$v-sid/tree" > "$log" 2>&1 || rc=$?
    fi
    if [ "$rc" = 0 ]; then
        echo "test-pythons: Python $v: $(tail -1 "$log") ($(( SECONDS - start )) s)"
    else
        tail -30 "$log"
        echo "test-pythons: Python $v: FAILED ($(( SECONDS - start )) s), see $log"
    fi
    return "$rc"
}

run_in() {  # VERSION CMD...: CMD in the work tree, inside the userland where VERSION is sid's
    local v=$1; shift
    cd "$TOP"
    if [ -n "$(host_python "$v")" ] || [ ! -x "$SID/usr/bin/python$v" ]; then "$@"; return; fi
    local WHEELS=$CACHE/wheels-$v q="" a
    for a in "$@"; do q="$q '${a//\'/\'\\\'\'}'"; done
    in_sid sh -c "cd '$TOP' && exec $q"
}

newest() {  # the newest Python a test run can have without building wheels: 3.15 once make
    # pythons built them (or this machine has it), else 3.14 (a userland make test may make)
    if [ -n "$(host_python 3.15)" ] || [ -e "$CACHE/wheels-3.15/.complete" ]; then echo 3.15; else echo 3.14; fi
}

case ${1:-} in
test) v=$2; [ "$v" != newest ] || v=$(newest); test_one "$v" "${3:-}" ;;
run) shift; run_in "$@" ;;
prepare)
    shift
    mkdir -p "$CACHE"
    need=
    for v in "${@:-$SID_PYTHONS}"; do
        [ -n "$(host_python "$v")" ] && continue
        case " $SID_PYTHONS " in *" $v "*) need=1 ;; esac
    done
    if [ -z "$need" ]; then log "nothing to prepare: every Python is on this machine"; exit 0; fi
    sid_userland
    for v in "${@:-$SID_PYTHONS}"; do
        case " $SID_PYTHONS " in *" $v "*) [ -n "$(host_python "$v")" ] || sid_wheels "$v" ;; esac
    done ;;
*) sed -n '2,20p' "$0"; exit 2 ;;
esac
