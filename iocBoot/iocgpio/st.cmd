# SPDX-License-Identifier: BSD-3-Clause
# Run from this directory: ../../bin/<arch>/pydevIoc st.cmd (make run-... does), <arch> being
# linux-x86_64, linux-aarch64 (64-bit Raspberry Pi OS / RevPi OS) or linux-arm.
# PyDevice GPIO demo: input line GPIO_IN (default GPIO17) followed edge by edge with kernel
# timestamps and counted; output line GPIO_OUT (default GPIO27) driven by a bo.
# On a Raspberry Pi the defaults work as they are (lines are found by name on gpiochip0;
# on a Pi 5 set GPIO_CHIP to the chip labelled pinctrl-rp1, e.g. GPIO_CHIP=pinctrl-rp1).
# Without GPIO hardware: ./demo_rig.sh runs this IOC on a simulated chip in the gpio-sim rig.
epicsEnvSet("GPIO_CHIP", "$(GPIO_CHIP=gpiochip0)")
epicsEnvSet("GPIO_IN", "$(GPIO_IN=GPIO17)")
epicsEnvSet("GPIO_OUT", "$(GPIO_OUT=GPIO27)")
dbLoadDatabase("../../dbd/pydevIoc.dbd")
pydevIoc_registerRecordDeviceDriver(pdbbase)

pydev("from pydevice import gpio")
dbLoadRecords("gpio.db", "P=Demo:,CHIP=$(GPIO_CHIP),IN=$(GPIO_IN),OUT=$(GPIO_OUT),BIAS=pull-down,DEBOUNCE=0.005")
iocInit()
