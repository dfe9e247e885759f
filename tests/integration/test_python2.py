"""A real Python 2 found by discovery is listed as unsupported, not as a failed probe."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.interpreters.discover import ProbeFailed, probe

PYTHON2 = sorted(Path.home().glob(".pyenv/versions/2.*/bin/python"))


@pytest.mark.skipif(not PYTHON2, reason="no Python 2 under ~/.pyenv/versions here")
def test_python2_is_said_plainly(tmp_path: Path) -> None:
    # Python 2 stops at the probe's -I ("Unknown option: -I ... Try `python -h'").
    with pytest.raises(ProbeFailed, match=r"^Python 2: not supported$"):
        probe(str(PYTHON2[0]), tmp_path)
