"""Values from records and manifests cannot inject into a report: HTML, Markdown and the terminal."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from msgspec.structs import replace

from harness.reports import escape
from harness.reports.html import content_security_policy, decode_data, html_report
from harness.reports.markdown import markdown, terminal_summary
from harness.run.manifest import RunManifest
from harness.run.records import Record
from tests.unit.test_results import record

HOSTILE_REASON = "</script><script>alert(1)</script><!-- \x1b[2J\x1b]0;pwned\x07 | col \r\n## heading \u202e"


def hostile() -> list[Record]:
    fail = replace(
        record("a/x:abi3:cp39:cp312", "fail"),
        reason=HOSTILE_REASON,
        log="javascript:alert(1)",
        stage="call<img src=x onerror=alert(1)>",
    )
    xfail = replace(record("a/x:abi3:cp39:cp313", "xfail"), known_issue="javascript:alert(2)", reason="x|y")
    xpass = replace(record("b/y:abi3:cp39:cp312", "xpass"), known_issue="https://x.org/1'onmouseover='alert(3)")
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
