"""Rendering for every command: Rich tables, JSON and CSV, and sourced numbers as text.

Text from a user's file is data, never markup, in every format: table cells, titles and
captions are plain text with terminal escape sequences and control characters removed (Rich
markup only comes from `quantity_text`, as a styled `rich.text.Text`); everything the consoles
print loses its control characters; CSV text cells lose them too, and those a spreadsheet would
run as a formula get a leading ``'``; JSON escapes the C1 controls and line separators that it would otherwise
write raw.
"""

from __future__ import annotations

import json
import re
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
from rich.text import Text

from chipgap.catalog.quantity import Quantity
from chipgap.jsondata import jsonable
from chipgap.text import FORMULA_START, csv_text, num, printable  # noqa: F401  (re-exported for the commands)


class SafeConsole(Console):
    """A Rich console that removes control characters and escape sequences from every string it
    is given (markup in the string still applies: escape user text with `rich.markup.escape`)."""

    def print(self, *objects: Any, **kwargs: Any) -> None:  # noqa: D102
        super().print(*(printable(o) if isinstance(o, str) else o for o in objects), **kwargs)


console = SafeConsole()
err_console = SafeConsole(stderr=True)

CONFIDENCE_MARK = {"official": "", "measured": " m", "estimate": " e", "rumor": " r"}
CONFIDENCE_STYLE = {"official": "", "measured": "cyan", "estimate": "yellow", "rumor": "red"}
LEGEND = "a-b = range (mode); m = measured, e = estimate, r = rumor; unmarked = official"


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def quantity_text(q: Quantity | None, markup: bool = True) -> Text | str:
    """``989.4``, ``752-800 (780) e``: the value or range with its confidence mark; styled by
    its confidence (a `rich.text.Text`) unless ``markup`` is False (plain text)."""
    if q is None:
        return "" if not markup else Text("")
    text = num(q.value) if not q.is_range else f"{num(q.low)}-{num(q.high)}"
    if q.is_range and q.mode is not None:
        text += f" ({num(q.mode)})"
    text += CONFIDENCE_MARK[q.confidence]
    return Text(text, style=CONFIDENCE_STYLE[q.confidence]) if markup else text


def short_name(chip: Any) -> str:
    """The shortest of a chip's id and aliases (``910c``, ``h100``), for narrow tables."""
    return min((chip.id, *chip.aliases), key=len)


def print_json(data: Any) -> None:
    """JSON on stdout: numbers as numbers, NaN as null, no Rich markup; arrays, bytes, dates and
    decimals (a DuckDB result's lists, BLOBs, timestamps) as JSON values (`chipgap.jsondata`)."""
    text = json.dumps(jsonable(data), indent=2, ensure_ascii=False, default=str)
    sys.stdout.write(_RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


_RAW_IN_JSON = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def print_csv(df: pd.DataFrame) -> None:
    """CSV on stdout; a text cell a spreadsheet would run as a formula gets a leading ``'``."""
    guarded = df.copy()
    for col in guarded.columns:
        if guarded[col].dtype == object or pd.api.types.is_string_dtype(guarded[col].dtype):
            guarded[col] = guarded[col].map(csv_text)
    guarded.to_csv(sys.stdout, index=False, lineterminator="\n")


def print_table(rows: list[list[str | Text]], columns: list[str], title: str | None = None,
                caption: str | None = None, numeric_from: int = 1, left: bool = False) -> None:
    """A Rich table; columns from index ``numeric_from`` on are right-aligned. With ``left``
    the last column (long text such as source ids) is left-aligned.

    Strings are shown as plain text (never read as markup), without control characters or escape
    sequences; a `rich.text.Text` (from `quantity_text`) keeps its style.
    """
    table = Table(title=_plain(title), caption=_plain(caption), header_style="bold",
                  caption_justify="left")
    for i, c in enumerate(columns):
        right = i >= numeric_from and not (left and i == len(columns) - 1)
        table.add_column(_plain(c), justify="right" if right else "left", overflow="fold")
    for row in rows:
        table.add_row(*(_plain(c) for c in row))
    console.print(table)


def _plain(cell: Any) -> Text | None:
    if cell is None or isinstance(cell, Text):
        return cell
    return Text(printable(str(cell)))


def save_figure(path: Path, draw: Callable[[], Any], force: bool = False) -> None:
    """Write a matplotlib figure to ``path`` (.png or .svg), never over an existing file
    unless ``force``, never through a symbolic link, whole or not at all."""
    import io

    import matplotlib.pyplot as plt
    import typer

    from chipgap.atomic import write_atomically
    from chipgap.files import check_output

    if path.suffix.lower() not in (".png", ".svg"):
        raise typer.BadParameter("the chart file must end in .png or .svg", param_hint=str(path))
    check_output(path, "chart file")
    if path.exists() and not force:
        raise typer.BadParameter(f"{path} exists; pass --force to overwrite it", param_hint=str(path))
    fig = draw()
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lower()[1:], bbox_inches="tight", dpi=150)
    plt.close(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, buf.getvalue())
    err_console.print(f"wrote {escape(str(path))}")


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
