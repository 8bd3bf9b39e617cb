# SPDX-License-Identifier: BSD-3-Clause
"""Open a PyDM screen and drive it from standard input, one JSON answer per command line.

    python pydm_driver.py SCREEN.ui        (DISPLAY set to an X server, e.g. Xvfb)

Commands: ``widgets``; ``connected SECONDS`` (waits until every channel widget connects,
answers the names of those that did not); ``show PV`` (what the widgets of PV show);
``click PV STATE`` (clicks the toggle button of PV labelled STATE); ``spin PV VALUE``
(types VALUE into PV's spinner and presses Enter); ``grab PATH``; ``quit``.  Widgets are
found by their channel, clicks and keys go through Qt's test API as a user's would.
"""
from __future__ import annotations

import json
import sys
import time

from qtpy.QtCore import Qt
from qtpy.QtGui import QImage
from qtpy.QtTest import QTest
from qtpy.QtWidgets import QAbstractButton, QApplication, QWidget

app = QApplication(sys.argv[:1])

from pydm.display import load_file  # noqa: E402  (after the QApplication)
from pydm.utilities.stylesheet import apply_stylesheet  # noqa: E402


def channel_widgets(display: QWidget) -> dict[str, list[QWidget]]:
    found: dict[str, list[QWidget]] = {}
    for widget in display.findChildren(QWidget):
        channel = getattr(widget, "channel", None)
        if isinstance(channel, str) and channel:
            found.setdefault(channel.removeprefix("ca://"), []).append(widget)
    return found


def shown(widget: QWidget) -> dict:
    """What a user sees in one widget."""
    out = {"class": type(widget).__name__, "connected": bool(widget._connected),
           "value": _plain(getattr(widget, "value", None)),
           "severity": int(widget.alarmSeverity)}
    if hasattr(widget, "text") and callable(widget.text):
        out["text"] = widget.text()
    if type(widget).__name__ == "PyDMEnumButton":
        out["checked"] = [b.text() for b in widget.findChildren(QAbstractButton) if b.isChecked()]
    if type(widget).__name__ == "PyDMByteIndicator":
        out["on"] = [int(widget.value or 0) >> bit & 1 for bit in range(widget.numBits)]
    return out


def plugin_connected(widget: QWidget) -> bool:
    """PyDM's data-plugin connection of the widget's channel is connected."""
    from pydm.data_plugins import plugin_for_address
    for channel in widget.channels() or ():
        plugin = plugin_for_address(channel.address)
        conn = plugin.connections.get(plugin.get_connection_id(channel)) if plugin else None
        # pyepics can also miss calling the connection callback of a channel that connected
        # while its PV was being made: then the PV's own state is what the channel is
        pv = getattr(conn, "pv", None)
        if not (conn and (conn.connected or (pv is not None and pv.connected))):
            return False
    return True


def _plain(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    return value if isinstance(value, (int, float, str, bool, type(None))) else str(value)


def wait(seconds: float, done) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if done():
            return True
        time.sleep(0.02)
    return bool(done())


def main() -> None:
    display = load_file(sys.argv[1], target=None)
    apply_stylesheet(widget=display)  # PyDM's own style: the alarm colours of the borders
    display.show()
    widgets = channel_widgets(display)
    print(json.dumps({"ready": sum(map(len, widgets.values()))}), flush=True)
    for line in sys.stdin:
        cmd, *args = line.split()
        answer: object = None
        if cmd == "widgets":
            answer = {pv: [type(w).__name__ for w in ws] for pv, ws in widgets.items()}
        elif cmd == "connected":
            # PyDM's pyepics plugin attaches a widget to its connection from a thread pool
            # after creating the PV (pyepics_plugin_component.setup_callbacks), so a widget can
            # miss the connection signal although PyDM's connection is up: the channel counts
            # as connected when PyDM's own connection (or its pyepics PV) says so; such
            # widgets are listed apart.
            def missing():
                return [w.objectName() for ws in widgets.values() for w in ws
                        if not w._connected and not plugin_connected(w)]
            wait(float(args[0]), lambda: not missing())
            answer = {"disconnected": missing()}
            missed = [w.objectName() for ws in widgets.values() for w in ws if not w._connected]
            if missed:
                answer["pydm_missed_signal"] = missed
        elif cmd == "show":
            app.processEvents()
            answer = [shown(w) for w in widgets.get(args[0], [])]
        elif cmd == "click":
            button = next(b for w in widgets[args[0]] for b in w.findChildren(QAbstractButton)
                          if b.text() == args[1])
            QTest.mouseClick(button, Qt.LeftButton)
            answer = {"clicked": button.text()}
        elif cmd == "spin":
            spin = next(w for w in widgets[args[0]] if type(w).__name__ == "PyDMSpinbox")
            spin.setFocus()
            spin.lineEdit().selectAll()
            QTest.keyClicks(spin.lineEdit(), args[1])
            QTest.keyClick(spin, Qt.Key_Return)
            answer = {"spun": spin.lineEdit().text()}
        elif cmd == "grab":
            wait(0.3, lambda: False)
            display.adjustSize()
            # 256 colours and the strongest compression: a small file for the docs
            image = display.grab().toImage().convertToFormat(
                QImage.Format_Indexed8, Qt.AvoidDither | Qt.ThresholdDither)
            answer = {"saved": image.save(args[0], "PNG", 0),
                      "size": [display.width(), display.height()]}
        elif cmd == "quit":
            break
        app.processEvents()
        print(json.dumps({"cmd": cmd, "answer": answer}), flush=True)


if __name__ == "__main__":
    main()
