"""Rendering for every command: Rich tables, JSON and CSV, and sourced numbers as text."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from chipgap.catalog.quantity import Quantity
from chipgap.jsondata import jsonable
from chipgap.text import num  # noqa: F401  (re-exported for the commands)

console = Console()
err_console = Console(stderr=True)

CONFIDENCE_MARK = {"official": "", "measured": " m", "estimate": " e", "rumor": " r"}
CONFIDENCE_STYLE = {"official": "", "measured": "cyan", "estimate": "yellow", "rumor": "red"}
LEGEND = "a-b = range (mode); m = measured, e = estimate, r = rumor; unmarked = official"


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def quantity_text(q: Quantity | None, markup: bool = True) -> str:
    """``989.4``, ``752-800 (780) e``: the value or range with its confidence mark."""
    if q is None:
        return ""
    text = num(q.value) if not q.is_range else f"{num(q.low)}-{num(q.high)}"
    if q.is_range and q.mode is not None:
        text += f" ({num(q.mode)})"
    text += CONFIDENCE_MARK[q.confidence]
    style = CONFIDENCE_STYLE[q.confidence]
    return f"[{style}]{escape(text)}[/]" if markup and style else escape(text) if markup else text


def short_name(chip: Any) -> str:
    """The shortest of a chip's id and aliases (``910c``, ``h100``), for narrow tables."""
    return min((chip.id, *chip.aliases), key=len)


def print_json(data: Any) -> None:
    """JSON on stdout: numbers as numbers, NaN as null, no Rich markup."""
    sys.stdout.write(json.dumps(jsonable(data), indent=2, ensure_ascii=False) + "\n")


def print_csv(df: pd.DataFrame) -> None:
    df.to_csv(sys.stdout, index=False, lineterminator="\n")


def print_table(rows: list[list[str]], columns: list[str], title: str | None = None,
                caption: str | None = None, numeric_from: int = 1, left: bool = False) -> None:
    """A Rich table; columns from index ``numeric_from`` on are right-aligned. With ``left``
    the last column (long text such as source ids) is left-aligned."""
    table = Table(title=title, caption=caption, header_style="bold", caption_justify="left")
    for i, c in enumerate(columns):
        right = i >= numeric_from and not (left and i == len(columns) - 1)
        table.add_column(c, justify="right" if right else "left", overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def save_figure(path: Path, draw: Callable[[], Any], force: bool = False) -> None:
    """Write a matplotlib figure to ``path`` (.png or .svg), never over an existing file
    unless ``force``."""
    import typer

    if path.suffix.lower() not in (".png", ".svg"):
        raise typer.BadParameter("the chart file must end in .png or .svg", param_hint=str(path))
    if path.exists() and not force:
        raise typer.BadParameter(f"{path} exists; pass --force to overwrite it", param_hint=str(path))
    draw().savefig(path, bbox_inches="tight", dpi=150)
    err_console.print(f"wrote {path}")



def question_from(cls: type[BaseModel], layout: dict[str, Any] | None = None, **options: Any) -> Any:
    """A question record (`chipgap.catalog.question`) from the options a command was given: an
    option left out (None) takes the record's default, so every surface shares one defaults
    table. Layout options left out stay unset, which the evaluation searches."""
    fields = {k: v for k, v in options.items() if v is not None}
    if layout is not None:
        fields["layout"] = {k: v for k, v in layout.items() if v is not None}
    return cls(**fields)


def shown_default(cls: type[BaseModel], field: str) -> str:
    """A record field's default, for an option's ``--help`` (the record holds the one value)."""
    return str(cls.model_fields[field].default)


def print_spread(summary: pd.DataFrame, title: str, samples: int, seed: int) -> None:
    """A `chipgap.analyses.answer.summarize` table: P50 and P10-P90 per metric."""
    from chipgap.text import spread

    print_table([[m, spread(r.p50, r.p10, r.p90)] for m, r in summary.iterrows()],
                ["metric", "P50 (P10-P90)"], title=f"{title} ({samples:,} samples, seed {seed})",
                numeric_from=1)
