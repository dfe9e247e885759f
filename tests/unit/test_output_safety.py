"""Values from records and manifests cannot inject into a report: HTML, Markdown and the terminal."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from dataclasses import replace
from pathlib import Path

import pytest
from msgspec.structs import replace as with_fields

from harness import surface
from harness.infra import escape
from harness.reports import gate as gate_report
from harness.reports.ci import step_summary
from harness.reports.diff import diff
from harness.reports.gate import GateResult
from harness.reports.html import content_security_policy, decode_data, html_report
from harness.reports.markdown import markdown, terminal_summary
from harness.run.manifest import RunManifest
from harness.run.progress import Progress, cell_line
from harness.run.records import Record
from harness.surface import Surface
from harness.surface.breaks import Broken
from tests.conftest import FIXTURES
from tests.unit.test_bad_input import CASE, GOOD_CASE_TOML, Bad, _project, run_main
from tests.unit.test_results import record

HOSTILE_REASON = "</script><script>alert(1)</script><!-- \x1b[2J\x1b]0;pwned\x07 | col \r\n## heading \u202e"


def hostile() -> list[Record]:
    fail = with_fields(
        record("a/x:abi3:cp39:cp312", "fail"),
        reason=HOSTILE_REASON,
        log="javascript:alert(1)",
        stage="call<img src=x onerror=alert(1)>",
    )
    xfail = with_fields(record("a/x:abi3:cp39:cp313", "xfail"), known_issue="javascript:alert(2)", reason="x|y")
    xpass = with_fields(record("b/y:abi3:cp39:cp312", "xpass"), known_issue="https://x.org/1'onmouseover='alert(3)")
    return [fail, xfail, xpass]


def test_html_escapes_every_value_and_links_only_web_urls() -> None:
    page = html_report(hostile(), RunManifest(run_id="<b>run</b>"))
    assert "<script>alert" not in page
    assert "<img" not in page
    assert "<b>run</b>" not in page
    assert "&lt;b&gt;run&lt;/b&gt;" in page
    assert not re.search(r"href=['\"]?javascript", page, re.I)
    assert "onmouseover='" not in page
    assert "\x1b" not in page
    assert "\r" not in page
    # the data itself is kept whole for the page's script (which links only http(s) and run paths)
    reasons = {c["reason"] for c in decode_data(page)["cells"]}
    assert HOSTILE_REASON in reasons


def test_html_page_has_a_restrictive_csp_matching_its_inline_script_and_style() -> None:
    page = html_report(hostile(), RunManifest(run_id="r"))
    meta = re.search(r"<meta http-equiv='Content-Security-Policy' content=\"([^\"]*)\">", page)
    assert meta is not None
    policy = meta[1]
    assert "default-src 'none'" in policy
    assert "base-uri 'none'" in policy
    assert "form-action 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "http" not in policy
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert len(scripts) == len(styles) == 1
    for body in (scripts[0], styles[0]):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy


def test_csp_hashes_change_with_the_code() -> None:
    assert content_security_policy("a", "b") != content_security_policy("a", "c")


def test_markdown_report_neutralises_control_characters_and_table_breakers() -> None:
    text = markdown(hostile(), RunManifest(run_id="r"))
    assert "\x1b" not in text
    assert "\r" not in text
    assert "\u202e" not in text
    assert "<script>" not in text
    assert "<img" not in text
    assert "javascript:" not in text.replace("javascript:alert(2)", "")  # no link made of it
    assert "](javascript" not in text
    (line,) = [ln for ln in text.splitlines() if "a/x:abi3:cp39:cp312" in ln and ln.startswith("- ")]
    assert "\\x1b[2J" in line
    assert "\\|" in line
    assert "## heading" not in text.split("## Problems")[1].split("\n## ")[0].splitlines()[0]


def test_terminal_summary_prints_no_control_sequence() -> None:
    out = terminal_summary(hostile(), RunManifest(run_id="r"), "results/r")
    assert "\x1b" not in out
    assert "\r" not in out
    assert "\x07" not in out
    assert "\u202e" not in out
    assert "\\x1b[2J" in out


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://github.com/python/cpython/issues/1", True),
        ("http://x.org", True),
        ("https://", False),
        ("javascript:alert(1)", False),
        ("data:text/html,x", False),
        ("//evil.org/x", False),
        ("https://x.org/a b", False),
        ("HTTPS://x.org\x00", False),
        ("file:///etc/passwd", False),
    ],
)
def test_web_url(url: str, ok: bool) -> None:
    assert (escape.web_url(url) == url) is ok


def test_html_link_shows_an_unsafe_url_as_text() -> None:
    assert escape.html_link("javascript:alert(1)", "x<y") == "x&lt;y"
    assert escape.html_link("https://x.org/?a=1&b='2'", "l") == "<a href='https://x.org/?a=1&amp;b=&#x27;2&#x27;'>l</a>"


def test_markdown_link_only_to_run_paths_and_web_urls() -> None:
    assert escape.markdown_link("log", "logs/cells/a.log") == "[log](logs/cells/a.log)"
    assert escape.markdown_link("log", "../../etc/passwd") == ""
    assert escape.markdown_link("log", "javascript:x") == ""
    assert escape.markdown_link("i", "https://x.org/a_(b)") == "[i](https://x.org/a_%28b%29)"


# --- every terminal line and Markdown file made of values from files and tools ---------------------------------
RAW = re.compile("[\x1b\r\x07\u202e]")  # what would repaint the terminal or reorder what a reader sees


def shown_raw(text: str) -> list[str]:
    return RAW.findall(text)


@pytest.mark.parametrize("live", [False, True])
def test_progress_lines_print_no_control_sequence(live: bool) -> None:
    stream = io.StringIO()
    bar = Progress(3, stream, verbose=True, live=live)
    bar.note(f"build {HOSTILE_REASON}")
    for one in hostile():
        bar.cell(one)
    bar.close()
    out = stream.getvalue()
    assert "a/x:abi3:cp39:cp312" in out
    assert shown_raw(out) == [], out  # rich writes no styling to a stream that is not a terminal
    assert "\\x1b[2J" in out


def test_progress_cell_line_escapes_a_resumed_record() -> None:
    line = cell_line(hostile()[0])
    assert shown_raw(line) == []
    assert "\\x1b]0;pwned\\x07" in line


def _hostile_gate() -> GateResult:
    broken = Broken(promise="PEP 652\x1b[2J", subject="symbol Py\u202eFoo", detail="gone\r|x")
    return GateResult(
        "cp315", "cp315 \x1b]0;t\x07", "cp314", "cp314\r", tuple(hostile()), (broken,), ("note\x1b[1A",), "d\x1b"
    )


def test_gate_text_and_markdown_print_no_control_sequence() -> None:
    result = _hostile_gate()
    text, md = gate_report.text(result), gate_report.markdown(result)
    assert shown_raw(text) == []
    assert shown_raw(md) == []
    assert "\\x1b[2J" in text
    assert "\\u202e" in text
    assert "\\x0d" in text
    assert "<script>" not in md
    (row,) = [ln for ln in md.splitlines() if "a/x:abi3:cp39:cp312" in ln]
    assert row.count(" | ") == 5, row  # the reason's `|` does not add a column
    assert "gone\\x0d\\|x" in md


def _hostile_surface() -> Surface:
    s = Surface.decode((FIXTURES / "surfaces" / "cp314.json").read_bytes(), source="cp314.json")
    interp = replace(s.interpreter, soabi="cpython-314\x1b[2J", id="cp314\u202e")
    finding = replace(s.findings[0], message="odd\r\x1b]0;x\x07") if s.findings else None
    return replace(s, interpreter=interp, findings=(finding,) if finding else s.findings)


def test_surface_text_diff_and_section_print_no_control_sequence() -> None:
    s = _hostile_surface()
    other = Surface.decode((FIXTURES / "surfaces" / "cp315.json").read_bytes(), source="cp315.json")
    text = surface.text([s])
    diff = surface.diff_text(other, s, surface.diff(other, s))
    section = "\n".join(surface.section([s, other]))
    for out in (text, diff, section):
        assert shown_raw(out) == [], out[:300]
    assert "\\x1b[2J" in text
    assert "cp314\\u202e" in diff
    assert "cp314\\u202e" in section


def test_cases_listing_and_table_print_no_control_sequence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hostile_toml = GOOD_CASE_TOML.replace('"a test case"', '"a case\\u001b[2J\\r| x \\u202e <b>"')
    _project(tmp_path, Bad("x", (), files={f"{CASE}/case.toml": hostile_toml}))
    for flags in ((), ("--markdown",)):
        assert run_main(["cases", "--matrix", str(tmp_path / "matrix.toml"), *flags]) == 0
        out = capsys.readouterr().out
        assert "sysconfig/c-api" in out
        assert shown_raw(out) == [], out
        assert "\\x1b[2J" in out
    assert "<b>" not in out
    assert "\\|" in out


def test_an_error_quoting_a_file_prints_no_control_sequence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _project(tmp_path, Bad("x", (), files={f"{CASE}/case.toml": 'description = "d"\n[targets."\\u001b[2Jx"]\n'}))
    code = run_main(["cases", "--matrix", str(tmp_path / "matrix.toml")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert shown_raw(err) == [], err
    assert "\\x1b[2J" in err


def test_step_summary_neutralises_records_and_manifest() -> None:
    before = [with_fields(r, status="pass", reason="ok") for r in hostile()]
    out = step_summary(hostile(), RunManifest(run_id="r\x1b[2J|x"), diff(before, hostile()))
    assert shown_raw(out) == [], out
    assert "<script>" not in out
    assert "r\\x1b[2J\\|x" in out
    (line,) = [ln for ln in out.splitlines() if "a/x:abi3:cp39:cp312" in ln]
    assert "\\x1b]0;pwned" in line


def test_sync_check_prints_a_hostile_copy_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _project(tmp_path, Bad("x", ()))
    shared = tmp_path / "extensions" / "_shared"
    shared.mkdir()
    (shared / "cases.toml").write_text('["sysconfig/c-api"]\n"src/facts.h" = "facts.h"\n')
    (shared / "facts.h").write_text("/* {module} */\n")
    (tmp_path / CASE / "src").mkdir(exist_ok=True)
    (tmp_path / CASE / "src" / "facts.h").write_text("/* \x1b[2J\x1b]0;pwned\x07 \u202e */\n")
    assert run_main(["sync-cases", "--check", "--matrix", str(tmp_path / "matrix.toml")]) == 1
    out = capsys.readouterr().out
    assert "facts.h" in out
    assert shown_raw(out) == [], out
    assert "\\x1b[2J" in out
