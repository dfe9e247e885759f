"""Bad input gets a clear message and exit 2, never a traceback (no interpreters are run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.__main__ import main
from tests.conftest import REPO


def test_bad_matrix_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    matrix = tmp_path / "matrix.toml"
    matrix.write_text("[targets.abi3]\nmin_pyhton = '3.9'\n")
    assert main(["run", "--matrix", str(matrix), "--cache-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{matrix}: targets.abi3.min_pyhton: unknown key; did you mean 'min_python'?" in err
    assert "Traceback" not in err


def test_missing_python_path_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["run", "--matrix", str(REPO / "matrix.toml"), "--cache-dir", str(tmp_path), "--python", "/no/such/python3"]
    )
    assert code == 2
    assert "--python '/no/such/python3': no executable file there" in capsys.readouterr().err


def test_not_cpython_path_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\necho not python >&2\nexit 3\n")
    fake.chmod(0o755)
    matrix = tmp_path / "matrix.toml"
    matrix.write_text("[discovery]\nsources = []\n[targets.version-specific]\n")
    code = main(["interpreters", "--matrix", str(matrix), "--cache-dir", str(tmp_path), "--python", str(fake)])
    assert code == 2
    assert "does not run as Python: probe failed (3): not python" in capsys.readouterr().err


def test_report_on_missing_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong path on the command line is a configuration error (exit 2) naming the argument."""
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert f"RUN_DIR {tmp_path / 'nothing'}: no such directory" in capsys.readouterr().err


def test_surface_diff_unknown_id_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    matrix = tmp_path / "matrix.toml"
    matrix.write_text("[discovery]\nsources = []\n[targets.version-specific]\n")
    code = main(["surface", "--matrix", str(matrix), "--cache-dir", str(tmp_path), "--diff", "cp314", "cp315"])
    assert code == 2
    assert "no interpreter matched 'cp314'" in capsys.readouterr().err
