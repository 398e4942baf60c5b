"""Market claims: a financial or corporate claim of the article, the figures the sources give,
and the tests that decide whether those figures support it.

One ``market_claims`` entry per claim. ``figures`` are sourced numbers, each a metric (unit in
its name), a period and optionally the company or chip it is about; ``tests`` state what the
claim asserts about them. `chipgap.analyses.market` evaluates the tests: a claim is supported
when every test holds, contradicted when one fails, and not checkable when a figure a test
needs has no source (or its range straddles the line).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from chipgap.catalog.quantity import Number, Quantity
from chipgap.catalog.schema import Record, Slug, Text

Metric = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)]
"""A snake_case metric name with its unit in it (``net_profit_rmb_million``, ``bit_share_pct``)."""
Period = Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) and not isinstance(v, bool) else v),
                   StringConstraints(pattern=r"^\d{4}(-(H[12]|Q[1-4]|\d{2}))?$")]
"""A year (``2025``; YAML's number is read as text), half (``2024-H1``), quarter (``2024-Q4``) or
month (``2025-02``)."""


def period_years(period: str) -> float:
    """The middle of a period in years, to measure the time between two periods.

    >>> period_years("2024"), period_years("2024-H1"), period_years("2024-Q4"), period_years("2025-02")
    (2024.5, 2024.25, 2024.875, 2025.125)
    """
    m = re.fullmatch(r"(\d{4})(?:-(H[12]|Q[1-4]|\d{2}))?", period)
    year, part = int(m.group(1)), m.group(2)
    if part is None:
        return year + 0.5
    if part[0] == "H":
        return year + (0.25 if part == "H1" else 0.75)
    if part[0] == "Q":
        return year + (int(part[1]) - 0.5) / 4
    return year + (int(part) - 0.5) / 12


class MarketFigure(BaseModel):
    """One sourced number about a company, a chip or a market, for a period."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: Metric
    period: Period
    value: Quantity
    company: Slug | None = None
    chip: Slug | None = None
    forecast: bool = False
    note: Text | None = None


class ClaimTest(BaseModel):
    """What the claim asserts about its figures, checkable against them.

    ``op``: ``gt``/``ge``/``lt``/``le`` compare the figure with ``value``, or with the same
    metric at period ``than`` when ``than`` is given; ``approx`` holds within ``tolerance``
    (a fraction of ``value``); ``max`` holds when the figure is the largest of its metric (and
    company); ``growth`` compares the compound annual growth from period ``since`` with
    ``value`` percent, within ``tolerance`` percentage points.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    says: Text
    metric: Metric
    period: Period
    op: Literal["gt", "ge", "lt", "le", "approx", "max", "growth"]
    value: Number | None = None
    than: Period | None = None
    since: Period | None = None
    tolerance: Annotated[float, Field(strict=True, gt=0)] | None = None
    company: Slug | None = None

    @model_validator(mode="after")
    def _complete(self) -> ClaimTest:
        need = {"gt": "value or than", "ge": "value or than", "lt": "value or than", "le": "value or than",
                "approx": "value and tolerance", "growth": "value, since and tolerance"}.get(self.op)
        ok = {"approx": self.value is not None and self.tolerance is not None,
              "growth": self.value is not None and self.since is not None and self.tolerance is not None,
              "max": True}.get(self.op, (self.value is None) != (self.than is None))
        if not ok:
            raise ValueError(f"a test with op '{self.op}' needs {need}")
        return self


class MarketClaim(Record):
    """A financial or corporate claim of the article with the figures that check it.

    Attributes
    ----------
    claim : the article's words.
    article_ref : the article's bracketed citation for it.
    question : the row of QUESTIONS.md it belongs to (1-10), if any.
    topic : a short label (``corporate results``, ``market``, ``investment``, ...).
    companies : company ids the claim is about.
    figures, tests : see `MarketFigure` and `ClaimTest`; no tests means not checkable.
    finding : what the sources say, in a sentence (the verdict is computed, not written).
    source : every source the entry uses.
    """

    claim: Text
    article_ref: Annotated[int, Field(strict=True, ge=1)] | None = None
    question: Annotated[int, Field(strict=True, ge=1, le=10)] | None = None
    topic: Text
    companies: tuple[Slug, ...] = ()
    figures: tuple[MarketFigure, ...] = ()
    tests: tuple[ClaimTest, ...] = ()
    finding: Text
    source: tuple[Slug, ...] = Field(min_length=1)
