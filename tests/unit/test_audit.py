"""abi3audit's report, read with PEP 793 in mind: recorded reports of real matrix wheels."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from harness.build.audit import Abi3auditReport, abi3audit_audit, abi3audit_findings, own_modexport
from harness.build.audit_result import Audit
from harness.infra.proc import Outcome
from harness.schema.decode import decode_json

FIXTURES = Path(__file__).parent.parent / "fixtures" / "audit"


def report(name: str) -> dict[str, Any]:
    """`abi3audit --report` (0.0.26) on a wheel the matrix built on Debian's GIL 3.15.2."""
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def typed(data: dict[str, Any]) -> Abi3auditReport:
    return decode_json(json.dumps(data), Abi3auditReport, source="test")


def extension(data: dict[str, Any]) -> dict[str, Any]:
    (spec,) = data["specs"].values()
    (so,) = spec["wheel"]
    result: dict[str, Any] = so
    return result


@pytest.mark.parametrize(
    "fixture",
    [
        # setuptools/c-api-modexport, abi3.abi3t target on GIL 3.15: tagged cp315-abi3 (setuptools#5205)
        "abi3audit-cp315-abi3-modexport.json",
        # sysconfig/c-api, abi3.abi3t target: tagged cp315-abi3.abi3t
        "abi3audit-cp315-abi3.abi3t-modexport.json",
    ],
)
def test_own_pep793_export_is_not_a_finding(fixture: str) -> None:
    data = report(fixture)
    so = extension(data)
    # The recorded report does flag the module's own entry point, and only that.
    assert so["result"]["non_abi3_symbols"] == [own_modexport(so["name"])]
    assert abi3audit_findings(typed(data)) == ()


@pytest.mark.parametrize(
    "symbol",
    ["_PyObject_GC_New", "PyModExport_some_other_module", "PyModExport_abitest_setuptools_c_api_modexportx"],
)
def test_every_other_non_abi3_symbol_still_counts(symbol: str) -> None:
    data = copy.deepcopy(report("abi3audit-cp315-abi3-modexport.json"))
    extension(data)["result"]["non_abi3_symbols"].append(symbol)
    (finding,) = abi3audit_findings(typed(data))
    assert finding.message == f"{symbol} is not part of the stable ABI (abi3audit)"
    assert finding.needs is None


def test_future_abi3_symbol_keeps_its_version() -> None:
    data = copy.deepcopy(report("abi3audit-cp315-abi3-modexport.json"))
    extension(data)["result"]["baseline"] = "3.9"
    extension(data)["result"]["future_abi3_objects"] = {"PyType_GetName": "3.11"}
    (finding,) = abi3audit_findings(typed(data))
    assert finding.needs == (3, 11)


def test_own_modexport_is_the_file_s_module_name() -> None:
    assert own_modexport("abitest_x.abi3t.so") == "PyModExport_abitest_x"
    assert own_modexport("pkg/_native.abi3-x86_64-linux-gnu.so") == "PyModExport__native"


def _said(stdout: str, stderr: str = "") -> Outcome:
    return Outcome(("abi3audit", "--report", "x.whl"), 0, stdout, stderr, 0.1)


def test_a_recorded_report_read_from_the_tool_s_output() -> None:
    stdout = (FIXTURES / "abi3audit-cp315-abi3-modexport.json").read_text()
    assert abi3audit_audit(_said(stdout)) == Audit("abi3audit", (), True)


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda so: so.update(name=5), "specs[...].wheel[0].name: expected str, got int"),
        (lambda so: so["result"].update(non_abi3_symbols="PyFoo"), "result.non_abi3_symbols: expected array"),
        (lambda so: so["result"].update(future_abi3_objects={"PyFoo": "three"}), "future_abi3_objects"),
        (lambda so: so.pop("result"), "missing required field result"),
    ],
)
def test_a_report_that_does_not_fit_is_abi3audit_failing_with_the_field(damage: Any, named: str) -> None:
    data = copy.deepcopy(report("abi3audit-cp315-abi3-modexport.json"))
    damage(extension(data))
    audit = abi3audit_audit(_said(json.dumps(data)))
    assert (audit.findings, audit.applicable) == ((), True)
    assert audit.tool.startswith("abi3audit failed: abi3audit --report: ")
    assert named in audit.tool


def test_no_report_at_all_says_what_the_tool_said() -> None:
    audit = abi3audit_audit(_said("", "abi3audit: error: x.whl: not a wheel\n"))
    assert audit.tool == "abi3audit failed: abi3audit: error: x.whl: not a wheel"
