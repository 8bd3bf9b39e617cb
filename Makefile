# SPDX-License-Identifier: BSD-3-Clause
# PyDevice top-level Makefile.
#
# Default (embedded): no EPICS installation needed.  `make` creates .venv with the pinned
# packages of requirements.txt (EPICS itself comes from the epicscorelibs wheel) and builds
# with CMake.  Site build: when configure/RELEASE.local (or configure/RELEASE) sets EPICS_BASE,
# this is a standard EPICS top-level Makefile instead (see docs/site-build.md).

TOP = .
VENV ?= .venv
VPY := $(VENV)/bin/python
# make reads configure/RELEASE (and the RELEASE.local it includes) itself; only a value set
# there switches to the EPICS build, not an EPICS_BASE exported in the environment.
-include $(TOP)/configure/RELEASE
ifeq ($(origin EPICS_BASE),file)
  PYDEV_EPICS_BASE := $(strip $(EPICS_BASE))
endif

ifneq ($(PYDEV_EPICS_BASE),)
# ---------------------------------------------------------------- site (EPICS make) build
include $(TOP)/configure/CONFIG
DIRS += configure pydevApp iocBoot
pydevApp_DEPEND_DIRS = configure
iocBoot_DEPEND_DIRS = pydevApp
include $(TOP)/configure/RULES_TOP

# The tests' clients (pyepics, p4p, caget...) live in .venv, made from VENV_PYTHON (EPICS's own
# PYTHON variable is base's, so it is not used here).  The suites that exercise pydevIoc, libpydev
# and the Python package; the rest of tests/ checks the CMake build, the wheel and make install.
VENV_PYTHON ?= python3
.PHONY: venv test lint
test: all venv lint
	$(VPY) -m pytest tests/test_core_*.py tests/test_first_hour.py

else
# ---------------------------------------------------------------- embedded (CMake) build
PYTHON ?= python3
VENV_PYTHON = $(PYTHON)
BUILD ?= build
# where the build writes bin/, lib/ and dbd/: the source tree for .venv's Python (make build,
# make run); make test-pythons gives each other Python a tree of its own under its build dir
TREE ?= .
# The Pythons of make test-pythons, and those make test runs: the oldest and the newest it can
# have.  "newest" is 3.15 once make pythons has built the wheels PyPI lacks for it (tens of
# minutes, outside CI's budget), else 3.14, from a Debian sid userland that make test makes when
# missing (about 2 minutes, beside the main suite).
PYTHONS ?= 3.10 3.11 3.12 3.13 3.14 3.15
PYTHONS_CI ?= 3.10 newest
ARCH := $(shell uname -s | tr A-Z a-z)-$(shell uname -m | sed 's/^arm.*/arm/')
IOC := $(TREE)/bin/$(ARCH)/pydevIoc

.PHONY: all build run run-revpi run-gpio lint test test-core test-pythons pythons bench clean distclean venv install wheels check-arm check-armhf
all: build

build: $(VENV)/.installed
	cmake -S . -B $(BUILD) -DPython3_EXECUTABLE=$(abspath $(VPY)) -DPYDEV_OUTPUT_DIR=$(abspath $(TREE)) \
	  -Wno-dev > $(BUILD).log 2>&1 || { cat $(BUILD).log; exit 1; }
	@# the compiler's status decides, not a filter's: a failed build never leaves an old IOC to test
	cmake --build $(BUILD) -j2 -- --no-print-directory >> $(BUILD).log 2>&1 \
	  || { grep -E "warning|error|Error" $(BUILD).log; echo "make build: failed, see $(BUILD).log"; exit 1; }
	@grep -E "warning:" $(BUILD).log || true
	test -x $(IOC)

run: build
	cd iocBoot/iocpydev && ../../$(IOC) st.cmd

run-revpi: build
	@echo "run-revpi: the operator screen of this IOC, from another shell (needs pip install 'pydevice[screens]'):"
	@echo "  cd iocBoot/iocrevpi && ../../$(VPY) -m pydevice.revpi screen config.rsc --replace-io-file replace_io.conf --prefix RevPi: --pool RevPi:pydev: -o /tmp/revpi.ui && ../../$(VENV)/bin/pydm /tmp/revpi.ui"
	cd iocBoot/iocrevpi && ../../$(IOC) st.cmd

# on a board with GPIO (GPIO_CHIP, GPIO_IN, GPIO_OUT choose the lines); without one,
# iocBoot/iocgpio/demo_rig.sh runs the same IOC on a simulated chip in the gpio-sim rig
run-gpio: build
	@echo "run-gpio: the operator screen of this IOC, from another shell (needs pip install 'pydevice[screens]'):"
	@echo "  $(VPY) -m pydevice screen iocBoot/iocgpio/gpio.db -m P=Demo:,CHIP=$${GPIO_CHIP:-gpiochip0},IN=$${GPIO_IN:-GPIO17},OUT=$${GPIO_OUT:-GPIO27} -o /tmp/gpio.ui && $(VENV)/bin/pydm /tmp/gpio.ui"
	cd iocBoot/iocgpio && ../../$(IOC) st.cmd

# The main suite, and beside it (in the background: the machine has cores to spare while the
# suite waits on IOCs) the core suite on the oldest and the newest Python (PYTHONS_CI).
test: build lint
	@# Xvfb and Qt's X11 libraries for tests/screens, procServ for tests/test_service.py
	@# (apt-get as root; else those tests skip)
	@sh tools/test-deps.sh
	@echo "make test: the core suite on Python $(PYTHONS_CI) beside the main suite, log in test-pythons.log"
	@$(MAKE) --no-print-directory test-pythons PYTHONS="$(PYTHONS_CI)" PYTHONS_PREPARE=1 \
	    > test-pythons.log 2>&1 & legs=$$!; \
	  $(VPY) -m pytest tests; status=$$?; \
	  wait $$legs || status=1; echo "---- test-pythons.log"; cat test-pythons.log; exit $$status

# the core suite on one Python (PYTHON=...), in its own venv, build directory and tree
test-core: build
	PYDEV_TREE=$(abspath $(TREE)) $(VPY) -m pytest -q tests/test_core_*.py tests/test_first_hour.py

# The core suite on each Python of PYTHONS, one after the other, each in its own venv, build
# directory and tree (the source tree's bin/ and lib/ stay .venv's).  tools/pythons.sh finds
# each interpreter (pyenv, PATH, else the Debian sid userland of `make pythons`); a Python it
# cannot find is skipped, saying so.
test-pythons:
	@status=0; for v in $(PYTHONS); do \
	  tools/pythons.sh test $$v $(if $(PYTHONS_PREPARE),--prepare) || status=1; \
	done; exit $$status

# The slow, cached preparation of the Pythons this machine lacks (outside make test's budget,
# needs root): a Debian sid userland with python3.14 and python3.15 (~/.cache/pydevice-pythons)
# and the wheels PyPI lacks for them, built from their sdists (3.15: tens of minutes).
pythons:
	tools/pythons.sh prepare $(PYTHONS)

# A relocatable tree for sites that do not use pip: PREFIX/{bin,lib,dbd,db,python,iocBoot}
# and PREFIX/venv with the runtime requirements.  The tree may be moved or copied afterwards.
PREFIX ?= /opt/pydevice
install: $(VENV)/.installed
	cmake -S . -B build-install -DPython3_EXECUTABLE=$(abspath $(VPY)) -DPYDEV_RELOCATABLE=ON \
	  -DCMAKE_INSTALL_PREFIX=$(PREFIX) -Wno-dev > build-install.log 2>&1 \
	  && cmake --build build-install -j2 >> build-install.log 2>&1 \
	  && cmake --install build-install >> build-install.log 2>&1 \
	  || { tail -30 build-install.log; echo "make install: failed, see build-install.log"; exit 1; }
	test -x $(PREFIX)/venv/bin/python || $(VPY) -m venv $(PREFIX)/venv
	$(PREFIX)/venv/bin/python -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PREFIX)/venv/bin/python python/pydevice/venv_relocate.py $(PREFIX)/venv
	@echo "installed in $(PREFIX): $(PREFIX)/bin/$(ARCH)/pydevIoc -h"

# Binary wheels for this machine's platform: dist/pydevice-*.whl and, in dist/wheelhouse, it and
# every runtime requirement, for `pip install --no-index -f dist/wheelhouse 'pydevice[revpi]'`
# on a board of the same kind without a compiler.
wheels: $(VENV)/.installed
	$(VPY) -m pip wheel --disable-pip-version-check -q --no-deps -w dist .
	$(VPY) -m pip wheel --disable-pip-version-check -q -w dist/wheelhouse -r requirements.txt
	cp dist/pydevice-*.whl dist/wheelhouse/
	@ls -l dist/*.whl

# Build and test in an emulated ARM Debian (slow: not part of make test; results in docs/arm.md)
check-arm:
	tools/arm/check.sh arm64 all
check-armhf:
	tools/arm/check.sh armhf all

bench: build
	$(VPY) bench/bench_core.py

clean:
	rm -rf build build-* build.log build-install.log test-python-*.log test-pythons.log bin lib dbd dist

distclean: clean
	rm -rf $(VENV) .venv-*
endif

# ---------------------------------------------------------------- both builds
# make test runs it first: ruff and mypy, as pyproject.toml configures them (a few seconds)
lint: venv
	$(VPY) -m ruff check python tests bench tools
	$(VPY) -m mypy

# The venv of the tests and of `make run`, with the pinned packages of requirements-test.txt.
venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-test.txt python/pydevice/clients.py
	test -x $(VPY) || $(VENV_PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --disable-pip-version-check -q -r requirements-test.txt
	@# import pydev / pydevice in the venv, from this source tree
	$(VPY) -c "import sysconfig; print('$(CURDIR)/python')" > "$$($(VPY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/pydevice-source.pth"
	@# caget, caput, camonitor, pvget, pvput, pvmonitor and caRepeater in .venv/bin
	$(VPY) -m pydevice.clients install $(VENV)/bin > /dev/null
	touch $@
