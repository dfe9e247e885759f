"""One self-contained HTML page per run: records embedded as one JSON blob, grids and filters drawn by inline JS."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.infra import escape
from harness.model import Status
from harness.reports import diff as diffs
from harness.reports import history as nights
from harness.reports import overview
from harness.reports.markdown import (
    CLAIMS_INTRO,
    LEGEND,
    SYMBOLS,
    claims,
    free_threading_note,
    installer_disagreements,
    problems,
    symbol,
    totals,
)
from harness.run.manifest import RunManifest
from harness.run.records import Record
from harness.schema.history import History

# Kept per cell for the page; the rest of a record (probe facts, tool versions) is in results.jsonl.
FIELDS = (
    "cell",
    "case",
    "backend",
    "binding",
    "target",
    "build_python",
    "run_python",
    "status",
    "reason",
    "stage",
    "expected",
    "expected_rule",
    "wheel",
    "wheel_tags",
    "ext_files",
    "known_issue",
    "duration_s",
    "log",
    "build_log",
    "stages",
    "findings",
    "reused_from",
    "observed",
)


def _cell_json(r: Record) -> dict[str, Any]:
    data = r.to_json()
    out = {k: data[k] for k in FIELDS if data.get(k) not in (None, "", [], {})}
    out["symbol"] = symbol(r)
    return out


# Values most cells share (the same stages, rule, audit, calls): stored once in a pool, referenced by
# index, which keeps a ~4000-cell page at a few MB. The page's script puts them back.
POOLED = ("stages", "expected_rule")
NESTED = ("observed",)  # its larger parts (audit, installers' answers, loads) are pooled one by one
POOL_MIN = 40  # characters of JSON: smaller values stay inline


def _pooled(cells: list[dict[str, Any]], pool: list[Any]) -> list[dict[str, Any]]:
    index: dict[str, int] = {}

    def ref(value: Any) -> int:
        key = json.dumps(value, sort_keys=True)
        if key not in index:
            index[key] = len(pool)
            pool.append(value)
        return index[key]

    for cell in cells:
        for key in POOLED:
            if key in cell:
                cell[key] = ref(cell[key])
        for key in NESTED:
            part = cell.get(key)
            if isinstance(part, dict):
                cell[key] = {k: _ref(v, ref) for k, v in part.items()}
    return cells


def _ref(value: Any, ref: Callable[[Any], int]) -> Any:
    """A pooled reference {"$": index} for a large value (an int stays an int, so refs are told apart)."""
    if isinstance(value, dict | list) and len(json.dumps(value)) >= POOL_MIN:
        return {"$": ref(value)}
    return value


def _inline(text: str) -> str:
    """Markdown table cell text (backticks, <br>) as HTML."""
    escaped = escape.html(text).replace("&lt;br&gt;", "<br>")
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", escaped)


def _list(items: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>" if items else "<p>None.</p>"


def _diff_section(d: diffs.Diff, baseline_id: str) -> str:
    out = [f"<section id='diff'><h2>Changes since {escape.html(baseline_id)}</h2>"]
    out.append(f"<p class='headline'>{escape.html(diffs.headline(d))}.</p>")
    for name, title in diffs.SECTIONS:
        items: Sequence[diffs.Change] = getattr(d, name)
        if items:
            out.append(f"<h3 class='{name}'>{escape.html(title)}: {len(items)}</h3>")
            out.append(_list([_inline(diffs._line(c, True)) for c in items]))
    if d.produced:
        out.append(f"<h3>What a backend produced changed: {len(d.produced)}</h3>")
        out.append(_list([_inline(f"`{b.key}`: {b.before} -> {b.after}") for b in d.produced]))
    out.append("</section>")
    return "".join(out)


def _findings(records: Sequence[Record]) -> str:
    out = ["<section id='findings'>"]
    bad = problems(records)
    out.append(f"<h2>Problems ({len(bad)})</h2>")
    out.append(_list([_inline(f"`{r.cell}` **{r.status}** at {r.stage}: {r.reason}") for r in bad]))
    xpasses = sorted({r.known_issue or "" for r in records if r.status == Status.XPASS.value})
    if xpasses:
        out.append("<h2>Known issues that no longer bite</h2>")
        out.append(_list([escape.html_link(x, x) for x in xpasses]))
    disagreements = installer_disagreements(records)
    if disagreements:
        out.append(f"<h2>Installer disagreements ({len(disagreements)})</h2>")
        out.append(_list([_inline(f"`{r.cell}`: {why}") for r, why in disagreements]))
    issues: dict[str, int] = {}
    for r in records:
        if r.status == Status.XFAIL.value and r.known_issue:
            issues[r.known_issue] = issues.get(r.known_issue, 0) + 1
    if issues:
        out.append(f"<h2>Known issues ({sum(issues.values())} cells)</h2>")
        out.append(_list([f"{escape.html_link(k, k)}: {n} cells" for k, n in sorted(issues.items())]))
    out.append("</section>")
    return "".join(out)


def _claims_table(markdown_lines: Sequence[str]) -> str:
    """The Markdown table of `claims` as HTML (cells escaped, `code` kept)."""
    rows = [line.strip().strip("|").split(" | ") for line in markdown_lines if not line.startswith("|---")]
    head = "".join(f"<th>{_inline(c.strip())}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{_inline(c.strip())}</td>" for c in row) + "</tr>" for row in rows[1:])
    return f"<table class='claims'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _add_strips(data: dict[str, Any], history: History) -> None:
    """Each cell's statuses over the last nights (a letter each, oldest first), for its details."""
    strips = nights.strips(history)
    data["nights"] = [n.run_id for n in history.nights[-nights.SHOWN :]]
    data["codes"] = nights.STATUS_OF
    for cell in data["cells"]:
        if cell["cell"] in strips:
            cell["history"] = strips[cell["cell"]]


def _overview(
    records: Sequence[Record], environment: RunManifest, columns: Sequence[str], history: History | None
) -> str:
    targets = environment.target_names
    # `check` wheels were not built for a target: "Where each wheel works" says what they are instead.
    produced = (
        ""
        if environment.is_check
        else f"<h3>What each backend produced</h3>{overview.produced_grid(records, environment, columns)}"
    )
    return (
        "<section id='overview'><h2>Overview</h2>"
        f"<div class='ov'><div>{overview.heatmap(records, columns, targets)}</div><div>"
        "<p class='legend'>Left, a row per case and target, a column per run interpreter: a square shows the "
        "worst of its cells (one per build interpreter); a click jumps to that cell in the grids below.</p>"
        f"{overview.legend()}{produced}{nights.section(history) if history is not None else ''}</div>"
        "</div></section>"
    )


# The cells' JSON, gzipped and in base64 inside the page: a 4000-cell run's 11 MB of JSON (long paths and
# messages, repeated from cell to cell) becomes about 1 MB, and the browser inflates it (DecompressionStream)
# without any network. Base64 holds no `<`, so nothing in the data can end the script element early.
DATA_TYPE = "application/gzip+base64"


def encode_data(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")


def decode_data(page: str) -> dict[str, Any]:
    """The data embedded in a page (for tests and tools reading a report.html)."""
    match = re.search(f"<script type='{re.escape(DATA_TYPE)}' id='data'>([^<]*)</script>", page)
    if match is None:
        raise ValueError("no embedded data in the page")
    data: dict[str, Any] = json.loads(gzip.decompress(base64.b64decode(match[1])))
    return data


# Inline in every page (no network to view it); kept as files so they are edited as CSS and JS.
CSS = Path(__file__).parent.parent / "resources" / "report.css"
JS = Path(__file__).parent.parent / "resources" / "report.js"


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def content_security_policy(css: str, js: str) -> str:
    """The page runs its one inline script and style (allowed by their hashes) and loads nothing: no other
    script, no remote resource, no form or base URL, whatever a value in the data holds."""
    policy = (
        f"default-src 'none'; script-src {_sha256(js)}; style-src {_sha256(css)}; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )
    return f"<meta http-equiv='Content-Security-Policy' content=\"{policy}\">"


def html_report(
    records: Sequence[Record],
    environment: RunManifest,
    change: diffs.Diff | None = None,
    baseline_id: str = "baseline",
    history: History | None = None,
) -> str:
    interps = environment.interpreters
    columns = [i.id for i in interps] or sorted({r.run_python for r in records})
    columns += sorted({r.run_python for r in records} - set(columns))
    pool: list[Any] = []
    data = {
        "symbols": SYMBOLS,
        "columns": columns,
        "targets": environment.target_names,
        "cells": _pooled([_cell_json(r) for r in sorted(records, key=lambda r: r.cell)], pool),
        "pool": pool,
    }
    if history is not None:
        _add_strips(data, history)
    blob = encode_data(data)
    run_id = escape.html(environment.run_id or "?")
    note = free_threading_note(environment)
    shards = environment.shards or ()
    interp_rows = "".join(
        f"<tr><td>{escape.html(i.id)}</td><td>{escape.html(i.implementation)} "
        f"{escape.html(i.version)}</td><td>{'free-threaded' if i.free_threaded else 'GIL'}"
        f"{', debug' if i.debug else ''}</td><td>{escape.html(i.provider)}</td></tr>"
        for i in interps
    )
    css, js = CSS.read_text(), JS.read_text()
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>{content_security_policy(css, js)}",
        f"<title>ABI matrix {run_id}</title><style>{css}</style></head><body>",
        f"<h1>ABI matrix, run {run_id}</h1>",
        f"<p id='totals'>{escape.html(totals(records))}. "
        f"Harness {escape.html(environment.harness_version or '?')},"
        f" installer {escape.html(environment.installer or '?')}, started "
        f"{escape.html(environment.started or '?')}"
        + (f", merged from {len(shards)} shards" if shards else "")
        + ".</p>",
        f"<p><b>{escape.html(note)}</b></p>" if note else "",
        _overview(records, environment, columns, history),
        _diff_section(change, baseline_id) if change is not None else "",
        _findings(records),
        *(
            ["<h2>Where each wheel works</h2>", f"<p>{escape.html(CLAIMS_INTRO)}</p>", _claims_table(claims(records))]
            if environment.is_check
            else []
        ),
        f"<h2>Interpreters</h2><table><tr><th>id</th><th>version</th><th>build</th><th>provider</th></tr>"
        f"{interp_rows}</table>",
        f"<h2>Grids</h2><p>{escape.html(LEGEND)} Click a cell for its stages, observations and logs.</p>",
        "<div id='filters'></div><div id='grids'></div><aside id='details'></aside>",
        f"<script type='{DATA_TYPE}' id='data'>{blob}</script>",
        f"<script>{js}</script></body></html>",
    ]
    return "\n".join(parts) + "\n"
