"""The two escapes every report uses on values that came from files: one for HTML, one for text (the
terminal and Markdown). A record, a manifest or a matrix.toml may hold anything: an ESC sequence that
repaints the terminal, `|` that breaks a Markdown table, `</script>` or a `javascript:` URL."""

from __future__ import annotations

import html as _html
import re
import unicodedata
from urllib.parse import urlsplit

from harness.infra.paths import relative_problem

# Bidirectional overrides reorder what a reader sees ("Trojan source"); format characters, not controls.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


_CONTROL = "\x00-\x08\x0b-\x1f\x7f-\x9f" + "".join(sorted(_BIDI))
_ANY = re.compile(f"[\n\t{_CONTROL}]")
_KEEP_LINES = re.compile(f"[{_CONTROL}]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match[0])
    return {"\n": "\\n", "\t": "\\t"}.get(match[0]) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def text(value: object, *, newlines: bool = False) -> str:
    """*value* for a terminal or a Markdown file: control characters (ESC, CR, BEL, DEL, C1) and bidi
    overrides shown as escapes (\\x1b); newlines and tabs too unless *newlines* (a whole report keeps its
    lines)."""
    return (_KEEP_LINES if newlines else _ANY).sub(_visible, str(value))


def markdown(value: object) -> str:
    """*value* inside a Markdown line or table cell: `text`, then `|` escaped and `<`/`>` as entities (GitHub
    renders raw HTML in step summaries), backticks as a look-alike (they would end a code span)."""
    return text(value).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("`", "\u02cb")


def html(value: object) -> str:
    """*value* as HTML text or a quoted attribute: markup escaped, control characters shown as escapes."""
    return _html.escape(text(value), quote=True)


def web_url(value: object) -> str | None:
    """*value* if it is an http(s) URL with a host (the only links a report makes to the outside), else None."""
    if not isinstance(value, str) or any(c.isspace() or unicodedata.category(c) == "Cc" for c in value):
        return None
    try:
        url = urlsplit(value)
        host = url.hostname
    except ValueError:
        return None
    return value if url.scheme in ("http", "https") and host else None


def run_path(value: object) -> str | None:
    """*value* if it is a path inside the run directory (a record's log), safe as a relative link."""
    return value if isinstance(value, str) and relative_problem(value) is None else None


def html_link(url: object, label: object) -> str:
    """<a href> for an http(s) URL; anything else is shown as text, never as a link."""
    safe = web_url(url)
    return f"<a href='{html(safe)}'>{html(label)}</a>" if safe else html(label)


_MD_LINK = re.compile(r"[\[\]()]")


def markdown_link(label: str, target: object) -> str:
    """[label](target) for a run-relative path or an http(s) URL; otherwise nothing."""
    safe = run_path(target) or web_url(target)
    return f"[{label}]({_MD_LINK.sub(lambda m: f'%{ord(m[0]):02X}', safe)})" if safe else ""
