# SPDX-License-Identifier: BSD-3-Clause
"""Run in a subprocess: provoke real write errors on the process image and report.

RLIMIT_FSIZE makes the kernel refuse file writes at offsets >= the limit (EFBIG), a real
I/O error on the file-backed image that goes away when the limit is lifted.  It applies to
the whole process, hence the subprocess.  Prints one JSON document.
"""
from __future__ import annotations

import json
import resource
import signal
import sys
import time

sys.path[:0] = sys.argv[4:]

import pydev  # noqa: E402
from polling import poll  # noqa: E402
from pydevice import revpi  # noqa: E402


def main() -> None:
    procimg, configrsc, maxioerrors = sys.argv[1], sys.argv[2], int(sys.argv[3])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
    rpi = revpi.open(procimg, configrsc, cycletime=10, maxioerrors=maxioerrors)
    names = [rpi.watch("I_1"), rpi.watch("modio.ioerrors")]
    result = {}
    time.sleep(0.1)
    result["healthy_read"] = rpi.read("I_1")
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1, limits[1]))
    poll(lambda: rpi.fault is not None)
    if maxioerrors:
        poll(lambda: "refresh stopped" in (rpi.fault or ""))
    result["fault"] = rpi.fault
    try:
        rpi.read("I_1")
    except pydev.Alarm as alarm:
        result["read_alarm"] = [alarm.message, alarm.stat, alarm.sevr]
    try:
        rpi.write("O_1", 1)
    except pydev.Alarm as alarm:
        result["write_alarm"] = alarm.stat
    alarms = [c for c in pydev.calls if c.name == names[0] and isinstance(c.value, pydev.Alarm)]
    result["pushed_alarm"] = alarms[0].value.message if alarms else None
    poll(lambda: rpi.ioerrors > 3)
    result["errors_pushed"] = max(c.value for c in pydev.calls if c.name == names[1])
    mark = len(pydev.calls)
    resource.setrlimit(resource.RLIMIT_FSIZE, limits)
    result["recovered"] = poll(lambda: rpi.fault is None)
    result["fault_after"] = rpi.fault
    later = pydev.calls[mark:]
    result["pushed_value_after"] = [c.value for c in later if c.name == names[0]
                                    and not isinstance(c.value, pydev.Alarm)][:1]
    with open(procimg, "rb") as fh:
        fh.seek(rpi.io("O_1").address)
        result["output_after"] = fh.read(1)[0] & 1 if result["recovered"] else None
    print(json.dumps(result))
    revpi.close()


main()
