"""Ids read from a file must fit the path grammar (infra/paths): they name directories, logs and cells."""

from __future__ import annotations

from harness.infra.paths import part_problem


def check_ids(**named: str) -> None:
    """ValueError naming the first field whose value is no safe path part (inside a msgspec Struct's
    __post_init__, the decoder prefixes the field path of the struct)."""
    for name, value in named.items():
        problem = part_problem(value)
        if problem is not None:
            raise ValueError(f"{name}: {problem}")
