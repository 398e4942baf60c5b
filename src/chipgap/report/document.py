"""What a report is made of, independent of how it is written out (HTML or Markdown).

A `Report` is a list of `Section` objects, one per question the product answers, and a claims
ledger. Sections hold prose, `Table` objects whose cells may cite sources, and `Chart` objects
(PNG bytes). Every number a section shows is also kept in ``Section.numbers`` under a stable key,
so tests can check the report against the Python API.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from chipgap.analyses.claims import VERDICTS, ClaimVerdict  # noqa: F401  (re-exported)
from chipgap.text import csv_text, num, spread


@dataclass(frozen=True)
class Cell:
    """A table cell: its text, the source ids behind it (linked in the appendix), and the
    unrounded number it shows (what the table's CSV holds), if any."""

    text: str
    sources: tuple[str, ...] = ()
    numeric: bool = False
    value: float | None = None


def cell(value: Any, sources: tuple[str, ...] | list[str] = (), p10: float | None = None,
         p90: float | None = None, rel: float | None = None) -> Cell:
    """A cell from a number or text. A number is rounded to what its P10-P90 (when given) or its
    relative uncertainty ``rel`` supports (`chipgap.text.spread`); the CSV keeps it whole."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = spread(value, p10, p90, rel) if p10 is not None else num(value, rel)
        return Cell(text if text else "n/a", tuple(sources), True, float(value))
    return Cell("" if value is None else str(value), tuple(sources))


@dataclass
class Table:
    """A titled table; ``command`` is the command line (or Python call) that recomputes it."""

    title: str
    columns: list[str]
    rows: list[list[Cell]]
    note: str = ""
    command: str = ""

    def csv(self) -> str:
        """The table as CSV: numbers unrounded, text guarded against spreadsheet formulas
        (`chipgap.text.csv_text`), then the command that recomputes it as a comment line."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([csv_text(c) for c in self.columns])
        for row in self.rows:
            w.writerow([c.value if c.value is not None else csv_text(c.text) for c in row])
        if self.command:
            w.writerow([f"# recompute: {self.command}"])
        return buf.getvalue()


@dataclass
class Chart:
    """A figure rendered once to PNG; ``name`` is its file name in Markdown output."""

    name: str
    title: str
    png: bytes
    caption: str = ""

    @classmethod
    def from_figure(cls, name: str, title: str, figure: Any, caption: str = "") -> Chart:
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        figure.savefig(buf, format="png", dpi=110, bbox_inches="tight",
                       metadata={"Software": None})  # no version stamp: same input, same bytes
        plt.close(figure)
        return cls(name, title, buf.getvalue(), caption)


@dataclass
class Section:
    """One question of the report.

    Attributes
    ----------
    key : str
        Stable anchor (``spec-gap``).
    claim : int or None
        The article claim (1-10 in QUESTIONS.md) this section answers.
    title, question : str
    paragraphs : list of str
        Prose, plain text.
    tables, charts : lists
    numbers : dict of str to float
        Every headline number shown (and a few names, such as a binding input), by key.
    sources : set of str
        Source ids of every input the section used.
    missing : list of str
        What the section could not compute and why (shown, never hidden).
    """

    key: str
    claim: int | None
    title: str
    question: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    numbers: dict[str, float | str] = field(default_factory=dict)
    sources: set[str] = field(default_factory=set)
    missing: list[str] = field(default_factory=list)

    def cite(self, *ids: str | tuple[str, ...] | list[str]) -> None:
        for x in ids:
            self.sources.update((x,) if isinstance(x, str) else x)


@dataclass
class Report:
    """The report: sections, the claims ledger (`chipgap.analyses.claims.ClaimVerdict`), the
    sources, the settings, and what the first screen shows: the data date (the newest source
    in the catalog) and the newest sources with what they feed."""

    title: str
    subtitle: str
    sections: list[Section]
    claims: list[ClaimVerdict]
    sources: dict[str, Any]  # id -> catalog Source
    settings: dict[str, Any]
    data_date: str = ""
    newest: list[dict] = field(default_factory=list)

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def charts(self) -> list[Chart]:
        return [c for s in self.sections for c in s.charts]

    def cited(self) -> list[str]:
        """Every source id the report cites, in order of first use."""
        seen: dict[str, None] = {}
        for s in self.sections:
            for t in s.tables:
                for row in t.rows:
                    for c in row:
                        seen.update(dict.fromkeys(c.sources))
            seen.update(dict.fromkeys(sorted(s.sources)))
        return [k for k in seen if k in self.sources]
