# SPDX-License-Identifier: BSD-3-Clause
"""Secure by default: code that clients write runs only for the writers access security allows."""
import getpass
import socket

import epics
import pytest

from harness import ROOT, Ioc

ACF = ROOT / "db" / "pydevExec.acf"


def _exec_ioc(users: str, asg: str = 'field(ASG, "PYDEV_EXEC")', acf: bool = True) -> Ioc:
    """An IOC with one exec record, $(P)exec, whose writers the shipped ACF allows."""
    db = 'record(stringout, "$(P)exec") { field(DTYP, "pydev") field(OUT, "@exec(VAL)") ASG }'
    pre = []
    if acf:
        pre += [f'asSetSubstitutions("EXEC_USERS=\'{users}\',EXEC_HOSTS=\'{socket.gethostname()},localhost\'")',
                f'asSetFilename("{ACF}")']
    return Ioc(db.replace("ASG", asg), pre_init=pre, py="ran = []")


def test_a_write_from_an_identity_the_acf_does_not_allow_is_refused():
    with _exec_ioc("someone-else") as ioc:
        pv = ioc.pv("$(P)exec")
        assert pv.wait_for_connection(5)
        assert pv.write_access is False
        with pytest.raises(Exception):
            pv.put("ran.append(1)", wait=True, timeout=3)
        assert ioc.pyeval("ran") == []


def test_a_write_from_an_allowed_identity_runs():
    with _exec_ioc(getpass.getuser()) as ioc:
        ioc.caput("$(P)exec", "ran.append(1)")
        assert ioc.pyeval("ran") == [1]


@pytest.mark.parametrize("case, asg, acf", [("noasg", "", True), ("noacf", 'field(ASG, "PYDEV_EXEC")', False),
                                            ("nogroup", 'field(ASG, "NO_SUCH_GROUP")', True)])
def test_an_exec_record_without_a_guarded_group_is_refused_at_init(case, asg, acf):
    with _exec_ioc(getpass.getuser(), asg, acf) as ioc:
        assert "runs code that clients write; refused" in ioc.output
        assert 'asSetFilename("db/pydevExec.acf")' in ioc.output   # says how to allow it
        epics.caput(ioc.P + "exec", "ran.append(1)", wait=True, timeout=3)  # may be refused
        assert ioc.pyeval("ran") == []
        assert ioc.alarm("$(P)exec")[1] == "INVALID"
        assert "ASG" in ioc.alarm("$(P)exec")[2]


def test_the_demo_serves_loopback_only_and_guards_its_exec_record():
    with Ioc(st_cmd=ROOT / "iocBoot/iocpydev/st.cmd", cwd=ROOT / "iocBoot/iocpydev",
             prefix="PyDev:", env={"EPICS_CAS_INTF_ADDR_LIST": None, "EPICS_PVAS_INTF_ADDR_LIST": None}) as ioc:
        assert "127.0.0.1" in ioc.cmd('epicsEnvShow("EPICS_CAS_INTF_ADDR_LIST")')
        assert "127.0.0.1" in ioc.cmd('epicsEnvShow("EPICS_PVAS_INTF_ADDR_LIST")')
        assert "refused" not in ioc.output
        assert "PYDEV_EXEC" in ioc.cmd("dbpr $(P)Exec 1")
