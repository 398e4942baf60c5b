"""What a report is made of, independent of how it is written out (HTML or Markdown).

A `Report` is a list of `Section` objects, one per question the product answers, and a claims
ledger. Sections hold prose, `Table` objects whose cells may cite sources, and `Chart` objects
(PNG bytes). Every number a section shows is also kept in ``Section.numbers`` under a stable key,
so tests can check the report against the Python API.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from chipgap.text import num, spread


@dataclass(frozen=True)
class Cell:
    """A table cell: its text and the source ids behind it (linked in the appendix)."""

    text: str
    sources: tuple[str, ...] = ()
    numeric: bool = False


def cell(value: Any, sources: tuple[str, ...] | list[str] = (), p10: float | None = None,
         p90: float | None = None) -> Cell:
    """A cell from a number (formatted with `chipgap.text.num`, with its P10-P90 when given) or text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = spread(value, p10, p90) if p10 is not None else num(value)
        return Cell(text if text else "n/a", tuple(sources), True)
    return Cell("" if value is None else str(value), tuple(sources))


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    note: str = ""


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
class ClaimVerdict:
    """A line of the claims ledger."""

    number: int
    claim: str
    evidence: str
    verdict: str  # supported | partly supported | not supported | cannot be computed from sourced data
    assumptions: str
    section: str


VERDICTS = ("supported", "partly supported", "not supported", "cannot be computed from sourced data")


@dataclass
class Report:
    title: str
    subtitle: str
    sections: list[Section]
    claims: list[ClaimVerdict]
    sources: dict[str, Any]  # id -> catalog Source
    settings: dict[str, Any]

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
