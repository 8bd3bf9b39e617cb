# SPDX-License-Identifier: BSD-3-Clause
# Run from this directory: ../../bin/<arch>/pydevIoc st.cmd (make run-... does), <arch> being
# linux-x86_64, linux-aarch64 (64-bit Raspberry Pi OS / RevPi OS) or linux-arm.
# PyDevice demo: a Revolution Pi (Connect + DIO + AIO + virtual device) on a file-backed
# process image, with a field simulator driving the inputs.  On a real RevPi drop procimg=
# and configrsc= (defaults: /dev/piControl0 and /etc/revpi/config.rsc) and the simulator.
dbLoadDatabase("../../dbd/pydevIoc.dbd")
pydevIoc_registerRecordDeviceDriver(pdbbase)

pydev("from pydevice import revpi")
pydev("rpi = revpi.open(procimg='procimg.bin', configrsc='config.rsc', replace_io_file='replace_io.conf', create=True, cycletime=20, every_cycle=['InputValue_1'])")
pydev("from pydevice.revpi import simulate")
pydev("field = simulate.start('procimg.bin', 'config.rsc', replace_io_file='replace_io.conf')")

# revpi.db: python -m pydevice.revpi db config.rsc --replace-io-file replace_io.conf -o revpi.db
dbLoadRecords("revpi.db", "P=RevPi:")
dbLoadRecords("demo.db", "P=RevPi:")
# the worker pool's state, for the pool panel of the screen
dbLoadRecords("../../db/pydevStats.db", "P=RevPi:pydev:")
iocInit()
# The operator screen of this IOC (PyDM; pip install 'pydevice[screens]', see docs/revpi.md):
#   python -m pydevice.revpi screen config.rsc --replace-io-file replace_io.conf --prefix RevPi: --pool RevPi:pydev: -o revpi.ui
#   pydm revpi.ui
