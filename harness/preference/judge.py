"""Installer preference: which of several fitting wheels pip and uv pick, judged against packaging's order.

Pure logic over recorded answers (what each installer said it would install, per listing order) and
recorded facts (each candidate's position in `packaging.tags.sys_tags()` inside each interpreter).
preference/run.py produces those answers; this module judges them and renders the table.
Long because the judgement, its JSON form and its table share the experiment's types.
"""

from __future__ import annotations

import enum
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import msgspec
from packaging.utils import parse_wheel_filename

from harness.build.installers import PipReport
from harness.errors import DamagedResults
from harness.infra import escape
from harness.model import Installer
from harness.schema.decode import decode_json

STABLE_ABIS = frozenset({"abi3", "abi3t", "abi3.abi3t", "abi3t.abi3"})


class Source(enum.StrEnum):
    """How the candidate files are offered to the installer."""

    INDEX = "index"  # a PEP 503 simple index on 127.0.0.1, anchors in the listing's order
    PAGE = "find-links-page"  # one flat HTML page of links on 127.0.0.1 (--find-links URL --no-index)
    DIRECTORY = "find-links-dir"  # a local directory (--find-links DIR --no-index): the file system's order


class Order(enum.StrEnum):
    """The order the candidates are listed in (for a directory: the order the files were written)."""

    SORTED = "sorted"
    REVERSED = "reversed"
    SHUFFLED = "shuffled"


class WheelSet(enum.StrEnum):
    """Which candidates are offered: all, or only the stable-ABI ones (so abi3 ties can be the best)."""

    ALL = "all"
    STABLE = "stable-abi-only"


def listing(files: Sequence[str], order: Order, seed: int) -> tuple[str, ...]:
    """The candidates in *order*; shuffled is a fixed permutation of the sorted list for *seed*."""
    ordered = sorted(files)
    if order is Order.REVERSED:
        ordered.reverse()
    elif order is Order.SHUFFLED:
        random.Random(seed).shuffle(ordered)
    return tuple(ordered)


def short_tag(filename: str) -> str:
    """abitest-1.0.0-cp315-abi3.abi3t-linux_x86_64.whl -> cp315-abi3.abi3t (the platform is the same for all)."""
    parts = filename.removesuffix(".whl").split("-")
    return f"{parts[-3]}-{parts[-2]}"


@dataclass(frozen=True)
class Candidate:
    """One wheel offered to the installers; all candidates share distribution, version and platform."""

    filename: str
    origin: str  # the build that made it, e.g. sysconfig/c-api:abi3:cp312
    retagged_from: str = ""  # the real wheel this is a retagged copy of; "" for a real build

    @property
    def tags(self) -> tuple[str, ...]:
        """The expanded tag set (cp315-abi3.abi3t -> cp315-abi3-..., cp315-abi3t-...)."""
        return tuple(sorted(str(t) for t in parse_wheel_filename(self.filename)[3]))

    @property
    def tag(self) -> str:
        return short_tag(self.filename)

    @property
    def stable_abi(self) -> bool:
        return self.tag.split("-", 1)[1] in STABLE_ABIS

    def to_json(self) -> dict[str, Any]:
        return {"filename": self.filename, "tag": self.tag, "origin": self.origin, "retagged_from": self.retagged_from}


def in_set(candidate: Candidate, wheel_set: WheelSet) -> bool:
    return wheel_set is WheelSet.ALL or candidate.stable_abi


def rank(supported_tags: Sequence[str], candidate: Candidate) -> int | None:
    """The position of the candidate's best tag in sys_tags() (0 = most preferred), None if none fits."""
    positions = {tag: n for n, tag in reversed(list(enumerate(supported_tags)))}
    found = [positions[t] for t in candidate.tags if t in positions]
    return min(found) if found else None


@dataclass(frozen=True)
class Facts:
    """One interpreter as the experiment needs it: where packaging ranks each candidate there."""

    id: str
    description: str
    free_threaded: bool
    tags_source: str  # "packaging 26.3": who computed the order
    ranks: tuple[tuple[str, int | None], ...]  # (candidate file name, rank), sorted by file name
    installers: tuple[tuple[str, str], ...] = ()  # (installer, "pip 26.3"/"uv 0.13.9") as used here

    def best(self, files: Sequence[str]) -> tuple[str, ...]:
        """packaging's first choice among *files*: every file tied at the lowest rank, sorted."""
        ranked = {f: r for f, r in self.ranks if f in files and r is not None}
        if not ranked:
            return ()
        top = min(ranked.values())
        return tuple(sorted(f for f, r in ranked.items() if r == top))

    def fitting(self, files: Sequence[str]) -> tuple[str, ...]:
        """The files that fit here, most preferred first (ties by name)."""
        ranked = [(r, f) for f, r in self.ranks if f in files and r is not None]
        return tuple(f for _, f in sorted(ranked))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "description": self.description,
            "free_threaded": self.free_threaded,
            "tags_source": self.tags_source,
            "ranks": dict(self.ranks),
            "installers": dict(self.installers),
        }


@dataclass(frozen=True)
class Answer:
    """What one installer said it would install, for one interpreter, wheel set, source and order."""

    interpreter: str
    wheel_set: WheelSet
    installer: Installer
    source: Source
    order: Order
    listing: tuple[str, ...]  # the files in the order the installer was shown them
    chosen: str  # a file name; "" when it chose nothing
    error: str = ""  # why nothing was chosen (the installer's own words)

    def to_json(self) -> dict[str, Any]:
        return {
            "interpreter": self.interpreter,
            "wheel_set": self.wheel_set.value,
            "installer": self.installer.value,
            "source": self.source.value,
            "order": self.order.value,
            "listing": list(self.listing),
            "chosen": self.chosen,
            "error": self.error,
        }


# -- parsing what the installers print --------------------------------------------------------

_UV_SELECTING = re.compile(r"Selecting: (?P<name>[^\s=]+)==(?P<version>\S+) \[[^\]]*\] \((?P<file>[^)\s]+\.whl)\)")


def chosen_from_pip_report(report: PipReport, dist_name: str) -> str:
    """The file name pip's `--report` says it would install for *dist_name* ("" if none)."""
    want = _normalize(dist_name)
    for item in report.install:
        if _normalize(item.metadata.name) == want:
            return item.download_info.url.rsplit("/", 1)[-1].split("#", 1)[0]
    return ""


def chosen_from_uv_log(text: str, dist_name: str) -> str:
    """The file uv's resolver selected, from `uv pip install --dry-run -v` ("Selecting: ... (file.whl)")."""
    want = _normalize(dist_name)
    chosen = ""
    for match in _UV_SELECTING.finditer(text):
        if _normalize(match.group("name")) == want:
            chosen = match.group("file")  # the last selection wins if the resolver backtracked
    return chosen


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# -- judgement ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One installer and source on one interpreter and wheel set, over the listing orders."""

    installer: Installer
    source: Source
    choices: tuple[tuple[Order, str], ...]  # file chosen per order ("" = nothing)
    errors: tuple[tuple[Order, str], ...]
    order_dependent: bool  # the choice changed with the listing order
    against_packaging: bool  # some choice is not among packaging's first choices
    installers_differ: bool  # for some order, the other installer chose another file
    tie_pick: str = ""  # on a tie: which of the tied files, by listing position, it took ("first listed", ...)

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f for _, f in self.choices))


@dataclass(frozen=True)
class Row:
    interpreter: str
    wheel_set: WheelSet
    fitting: tuple[str, ...]  # the candidates that fit, packaging's order
    best: tuple[str, ...]  # packaging's first choice (several when tied)
    cells: tuple[Cell, ...]
    free_threaded: bool

    @property
    def tie(self) -> bool:
        return len(self.best) > 1


def tie_position(answer: Answer, tied: Sequence[str]) -> str:
    """Where the chosen file stood among the tied files in the listing the installer saw."""
    shown = [f for f in answer.listing if f in tied]
    if len(shown) < 2 or answer.chosen not in shown:
        return ""
    if answer.chosen == shown[0]:
        return "first listed"
    return "last listed" if answer.chosen == shown[-1] else "in between"


def _tie_pick(answers: Sequence[Answer], tied: Sequence[str]) -> str:
    picks = {tie_position(a, tied) for a in answers}
    seen = {tuple(f for f in a.listing if f in tied) for a in answers}
    # One order of the tied files (a directory listed the same each time) cannot tell position from preference.
    if len(tied) < 2 or "" in picks or len(seen) < 2:
        return ""
    if len(picks) == 1:
        return picks.pop()
    # The same file whatever its position: the installer breaks the tie by something else.
    return "not by listing position" if len({a.chosen for a in answers}) == 1 else "varies"


def column_key(column: tuple[Installer, Source]) -> tuple[int, str, int]:
    """pip before uv, then the sources in Source's order: the table's column order."""
    installer, source = column
    return (installer is not Installer.PIP, installer.value, list(Source).index(source))


def judge(facts: Sequence[Facts], candidates: Sequence[Candidate], answers: Sequence[Answer]) -> tuple[Row, ...]:
    """Rows for every interpreter and wheel set that has answers, flags set from the answers alone."""
    by_key: dict[tuple[str, WheelSet, Installer, Source], dict[Order, Answer]] = {}
    for a in answers:
        by_key.setdefault((a.interpreter, a.wheel_set, a.installer, a.source), {})[a.order] = a
    rows = []
    for fact in facts:
        for wheel_set in WheelSet:
            files = [c.filename for c in candidates if in_set(c, wheel_set)]
            keys = [k for k in by_key if k[0] == fact.id and k[1] is wheel_set]
            if not keys:
                continue
            best = fact.best(files)
            cells = []
            for _, _, installer, source in sorted(keys, key=lambda k: column_key((k[2], k[3]))):
                mine = by_key[(fact.id, wheel_set, installer, source)]
                others = [
                    v
                    for k, v in by_key.items()
                    if k[0] == fact.id and k[1] is wheel_set and k[3] is source and k[2] is not installer
                ]
                choices = tuple((o, mine[o].chosen) for o in Order if o in mine)
                errors = tuple((o, mine[o].error) for o in Order if o in mine and not mine[o].chosen)
                differ = any(
                    other[o].chosen != mine[o].chosen for other in others for o in Order if o in mine and o in other
                )
                cells.append(
                    Cell(
                        installer,
                        source,
                        choices,
                        errors,
                        order_dependent=len({f for _, f in choices}) > 1,
                        against_packaging=any(f and f not in best for _, f in choices)
                        or (bool(best) and any(not f for _, f in choices)),
                        installers_differ=differ,
                        tie_pick=_tie_pick(list(mine.values()), best),
                    )
                )
            rows.append(Row(fact.id, wheel_set, fact.fitting(files), best, tuple(cells), fact.free_threaded))
    return tuple(rows)


# -- the whole experiment, as recorded ---------------------------------------------------------

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Result:
    case: str
    distribution: str
    version: str
    seed: int
    candidates: tuple[Candidate, ...]
    facts: tuple[Facts, ...]
    answers: tuple[Answer, ...]
    skipped: tuple[tuple[str, str], ...] = ()  # (interpreter or installer, why no answers)
    notes: tuple[str, ...] = ()

    @property
    def rows(self) -> tuple[Row, ...]:
        return judge(self.facts, self.candidates, self.answers)

    def to_json(self) -> dict[str, Any]:
        rows = self.rows
        return {
            "schema_version": SCHEMA_VERSION,
            "case": self.case,
            "distribution": self.distribution,
            "version": self.version,
            "seed": self.seed,
            "candidates": [c.to_json() for c in self.candidates],
            "interpreters": [f.to_json() for f in self.facts],
            "answers": [a.to_json() for a in self.answers],
            "skipped": [list(s) for s in self.skipped],
            "notes": list(self.notes),
            # Derived, for readers of the JSON; Result.decode ignores it and judges again.
            "judgement": [_row_json(r) for r in rows],
        }

    @classmethod
    def decode(cls, raw: bytes, *, source: Path | str) -> Result:
        """preference.json through its typed form (ResultFile), or DamagedResults naming the field."""
        return decode_json(raw, ResultFile, source=source).result()

    @classmethod
    def read(cls, path: Path) -> Result:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise DamagedResults(f"{path}: cannot read: {exc.strerror or exc}") from None
        return cls.decode(raw, source=path)


# The file's own form: preference.json is a run-directory file (the nightly copies it between machines),
# so it is decoded strictly; the dataclasses above stay the experiment's working types.


class _Entry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class CandidateEntry(_Entry, frozen=True):
    filename: Annotated[str, msgspec.Meta(pattern=r"\.whl$")]
    origin: str
    tag: str = ""  # derived from the file name, for readers
    retagged_from: str = ""


class FactsEntry(_Entry, frozen=True):
    id: str
    description: str
    free_threaded: bool
    tags_source: str
    ranks: dict[str, Annotated[int, msgspec.Meta(ge=0, le=10**6)] | None]
    installers: dict[str, str] = {}


class AnswerEntry(_Entry, frozen=True):
    interpreter: str
    wheel_set: WheelSet
    installer: Installer
    source: Source
    order: Order
    listing: tuple[str, ...]
    chosen: str
    error: str = ""


class ResultFile(_Entry, frozen=True):
    schema_version: int
    case: str
    distribution: str
    version: str
    seed: int
    candidates: tuple[CandidateEntry, ...]
    interpreters: tuple[FactsEntry, ...]
    answers: tuple[AnswerEntry, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    judgement: tuple[dict[str, Any], ...] = ()  # derived, for readers: judged again on reading

    def __post_init__(self) -> None:
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(f"schema_version {self.schema_version}; this harness reads {SCHEMA_VERSION}")

    def result(self) -> Result:
        return Result(
            self.case,
            self.distribution,
            self.version,
            self.seed,
            tuple(Candidate(c.filename, c.origin, c.retagged_from) for c in self.candidates),
            tuple(
                Facts(
                    f.id,
                    f.description,
                    f.free_threaded,
                    f.tags_source,
                    tuple(sorted(f.ranks.items())),
                    tuple(sorted(f.installers.items())),
                )
                for f in self.interpreters
            ),
            tuple(
                Answer(a.interpreter, a.wheel_set, a.installer, a.source, a.order, a.listing, a.chosen, a.error)
                for a in self.answers
            ),
            self.skipped,
            self.notes,
        )


def _row_json(row: Row) -> dict[str, Any]:
    return {
        "interpreter": row.interpreter,
        "wheel_set": row.wheel_set.value,
        "packaging_first": [short_tag(f) for f in row.best],
        "tie": row.tie,
        "cells": [
            {
                "installer": c.installer.value,
                "source": c.source.value,
                "chosen": {o.value: short_tag(f) if f else "" for o, f in c.choices},
                "order_dependent": c.order_dependent,
                "against_packaging": c.against_packaging,
                "installers_differ": c.installers_differ,
                "tie_pick": c.tie_pick,
            }
            for c in row.cells
        ],
    }


# -- the report --------------------------------------------------------------------------------

MARKS = {"order": "🔀", "packaging": "≠P", "installers": "≠I"}
ORDER_LETTER = {Order.SORTED: "s", Order.REVERSED: "r", Order.SHUFFLED: "x"}


def cell_text(cell: Cell) -> str:
    if not cell.order_dependent:
        (only,) = cell.files
        text = f"`{short_tag(only)}`" if only else "nothing"
    else:
        text = " ".join(
            f"{ORDER_LETTER[o]}:`{short_tag(f)}`" if f else f"{ORDER_LETTER[o]}:nothing" for o, f in cell.choices
        )
    marks = [MARKS["order"]] if cell.order_dependent else []
    marks += [MARKS["packaging"]] if cell.against_packaging else []
    marks += [MARKS["installers"]] if cell.installers_differ else []
    if cell.tie_pick:
        text += f" ({cell.tie_pick})"
    return " ".join([text, *marks])


def _directory_note(answers: Sequence[Answer]) -> list[str]:
    """A directory's order is the file system's: say whether writing the files in three orders changed it."""
    listings: dict[WheelSet, set[tuple[str, ...]]] = {}
    for a in answers:
        if a.source is Source.DIRECTORY:
            listings.setdefault(a.wheel_set, set()).add(a.listing)
    notes = []
    for wheel_set, seen in sorted(listings.items()):
        if len(seen) == 1:
            order = ", ".join(f"`{short_tag(f)}`" for f in next(iter(seen)))
            notes.append(
                f"- find-links-dir ({wheel_set.value}): the file system listed the files in one order ({order}) "
                "whichever order they were written in, so its three orders are one order asked three times"
            )
    return notes


def markdown(result: Result) -> list[str]:
    """The "Preference" section of a report, as Markdown lines (rebuilt from the result alone)."""
    rows = result.rows
    out = ["## Preference", ""]
    out.append(
        f"Which wheel each installer would install when several fit: `{result.distribution}=={result.version}` "
        f"(case {result.case}) offered as {len(result.candidates)} wheels that differ only in their tags, each "
        f"listing in three orders (s = sorted, r = reversed, x = shuffled with seed {result.seed}). "
        '"packaging" is the first fitting tag in `packaging.tags.sys_tags()` inside the interpreter; '
        "several there means a tie that only the listing order can break."
    )
    out.append("")
    out.append(
        f"{MARKS['order']} the choice changed with the listing order · {MARKS['packaging']} not packaging's first "
        f"choice · {MARKS['installers']} pip and uv chose different files for the same listing"
    )
    columns = sorted({(c.installer, c.source) for r in rows for c in r.cells}, key=column_key)
    for wheel_set in WheelSet:
        chosen = [r for r in rows if r.wheel_set is wheel_set]
        if not chosen:
            continue
        out += ["", f"### {wheel_set.value}", ""]
        head = ["interpreter", "packaging", *(f"{i.value} {s.value}" for i, s in columns)]
        out.append("| " + " | ".join(head) + " |")
        out.append("|---" * len(head) + "|")
        for row in chosen:
            by = {(c.installer, c.source): c for c in row.cells}
            best = " = ".join(f"`{short_tag(f)}`" for f in row.best) or "nothing fits"
            if row.tie:
                best += " (tie)"
            cells = [cell_text(by[k]) if k in by else "not asked" for k in columns]
            name = row.interpreter + (" (free-threaded)" if row.free_threaded else "")
            out.append("| " + " | ".join([name, best, *cells]) + " |")
    out += ["", "Candidates:", ""]
    for c in result.candidates:
        how = f"retagged copy of {c.retagged_from}" if c.retagged_from else "built"
        out.append(f"- `{c.tag}`: {how} ({c.origin})")
    facts = {f.id: f for f in result.facts}
    versions = sorted({v for f in facts.values() for _, v in f.installers})
    if versions:
        out += ["", "Installers: " + ", ".join(versions) + "."]
    for who, why in result.skipped:
        out.append(f"- not asked: {who}: {why}")
    out += [f"- {note}" for note in result.notes]
    out += _directory_note(result.answers)
    dependent = [
        f"{r.interpreter} {r.wheel_set.value} {c.installer.value} {c.source.value}"
        for r in rows
        for c in r.cells
        if c.order_dependent
    ]
    out += ["", "Order-dependent choices: " + ("; ".join(dependent) if dependent else "none") + "."]
    return [escape.text(line) for line in out]  # preference.json may come from another machine


def changes(old: Result, new: Result) -> list[str]:
    """Per interpreter, wheel set, installer, source and order: the choices that differ (the nightly diff)."""

    def choices(result: Result) -> dict[tuple[str, str, str, str, str], str]:
        return {
            (row.interpreter, row.wheel_set.value, cell.installer.value, cell.source.value, order.value): short_tag(
                chosen
            )
            if chosen
            else "nothing"
            for row in result.rows
            for cell in row.cells
            for order, chosen in cell.choices
        }

    before, after = choices(old), choices(new)
    lines = []
    for key in sorted(before.keys() | after.keys()):
        was, now = before.get(key, "not asked"), after.get(key, "not asked")
        if was != now:
            interpreter, wheel_set, installer, source, order = key
            lines.append(f"  {interpreter} {wheel_set} {installer} {source} {order}: {was} -> {now}")
    return lines
