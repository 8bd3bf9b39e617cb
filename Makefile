# PyDevice top-level Makefile.
#
# Default (embedded): no EPICS installation needed.  `make` creates .venv with the pinned
# packages of requirements.txt (EPICS itself comes from the epicscorelibs wheel) and builds
# with CMake.  Site build: when configure/RELEASE.local (or configure/RELEASE) sets EPICS_BASE,
# this is a standard EPICS top-level Makefile instead (see docs/site-build.md).

TOP = .
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

test: all
	.venv/bin/python -m pytest tests

else
# ---------------------------------------------------------------- embedded (CMake) build
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
ARCH := $(shell uname -s | tr A-Z a-z)-$(shell uname -m | sed 's/^arm.*/arm/')
IOC := bin/$(ARCH)/pydevIoc

.PHONY: all build run run-revpi run-gpio test bench clean distclean venv check-arm check-armhf
all: build

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

build: $(VENV)/.installed
	cmake -S . -B build -DPython3_EXECUTABLE=$(CURDIR)/$(VPY) -Wno-dev > build.log 2>&1 \
	  || { cat build.log; exit 1; }
	@# the compiler's status decides, not a filter's: a failed build never leaves an old IOC to test
	cmake --build build -j2 -- --no-print-directory >> build.log 2>&1 \
	  || { grep -E "warning|error|Error" build.log; echo "make build: failed, see build.log"; exit 1; }
	@grep -E "warning:" build.log || true
	test -x $(IOC)

run: build
	cd iocBoot/iocpydev && ../../$(IOC) st.cmd

run-revpi: build
	cd iocBoot/iocrevpi && ../../$(IOC) st.cmd

# on a board with GPIO (GPIO_CHIP, GPIO_IN, GPIO_OUT choose the lines); without one,
# iocBoot/iocgpio/demo_rig.sh runs the same IOC on a simulated chip in the gpio-sim rig
run-gpio: build
	cd iocBoot/iocgpio && ../../$(IOC) st.cmd

test: build
	$(VPY) -m pytest tests

bench: build
	$(VPY) bench/bench_core.py

# ARM check in an emulated Debian userland (slow, not part of `make test`); see docs/arm.md
check-arm:
	tools/arm/check.sh arm64

check-armhf:
	tools/arm/check.sh armhf

clean:
	rm -rf build build.log bin lib dbd

distclean: clean
	rm -rf $(VENV)
endif
