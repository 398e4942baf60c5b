"""The article's market claims checked against sourced figures, by one rule written once.

Each `chipgap.catalog.market.MarketClaim` states tests on its figures. A test holds, fails, or
stays open (a figure it needs has no source, or a range straddles its line). A claim is

- **supported** when it has tests and every one holds,
- **contradicted** when any test fails,
- **not checkable** otherwise (no test, or an open one and none failing).

A range is judged at both its bounds: a test holds or fails only when it does at both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from chipgap.catalog.catalog import Catalog
from chipgap.catalog.market import ClaimTest, MarketClaim, MarketFigure, period_years

VERDICTS = ("supported", "contradicted", "not checkable")
OPS = {"gt": (">", lambda a, b: a > b), "ge": (">=", lambda a, b: a >= b),
       "lt": ("<", lambda a, b: a < b), "le": ("<=", lambda a, b: a <= b)}
H100 = "nvidia-h100-sxm"


def _figure(figures: Sequence[MarketFigure], test: ClaimTest, period: str) -> MarketFigure | None:
    return next((f for f in figures if f.metric == test.metric and f.period == period
                 and (test.company is None or f.company == test.company)), None)


def _judge(truths: list[bool]) -> str:
    return "holds" if all(truths) else "fails" if not any(truths) else "open"


def _within(lo: float, hi: float, centre: float, band: float) -> str:
    """Interval [lo, hi] against [centre - band, centre + band]: inside, disjoint, or overlapping."""
    if centre - band <= lo and hi <= centre + band:
        return "holds"
    return "fails" if hi < centre - band or lo > centre + band else "open"


def _show(f: MarketFigure) -> str:
    lo, hi = f.value.bounds
    text = f"{lo:g}" if lo == hi else f"{lo:g} to {hi:g}"
    return f"{f.metric} {f.period}{' (forecast)' if f.forecast else ''} = {text}"


def evaluate_test(test: ClaimTest, figures: Sequence[MarketFigure]) -> tuple[str, str]:
    """Whether ``test`` holds on ``figures``.

    Returns
    -------
    outcome : {'holds', 'fails', 'open'}
    detail : str
        The figures compared and the line they were compared with.

    Examples
    --------
    >>> from chipgap.catalog.market import ClaimTest, MarketFigure
    >>> from chipgap.catalog.quantity import Quantity
    >>> q = lambda v: Quantity(value=v, source=("x",), confidence="official")
    >>> figs = [MarketFigure(metric="net_profit_rmb_million", period="2024-H1", value=q(-530)),
    ...         MarketFigure(metric="net_profit_rmb_million", period="2025-H1", value=q(1038))]
    >>> evaluate_test(ClaimTest(says="profit", metric="net_profit_rmb_million", period="2024-H1",
    ...                         op="gt", value=0), figs)
    ('fails', 'net_profit_rmb_million 2024-H1 = -530, needs > 0')
    """
    target = _figure(figures, test, test.period)
    if target is None:
        return "open", f"no sourced figure for {test.metric} in {test.period}" + \
            (f" ({test.company})" if test.company else "")
    lo, hi = target.value.bounds
    if test.op in OPS:
        sign, fn = OPS[test.op]
        if test.than is not None:
            other = _figure(figures, test, test.than)
            if other is None:
                return "open", f"no sourced figure for {test.metric} in {test.than}"
            olo, ohi = other.value.bounds
            return _judge([fn(a, b) for a in (lo, hi) for b in (olo, ohi)]), f"{_show(target)}, needs {sign} {_show(other)}"
        return _judge([fn(a, test.value) for a in (lo, hi)]), f"{_show(target)}, needs {sign} {test.value:g}"
    if test.op == "approx":
        band = test.tolerance * abs(test.value)
        return _within(lo, hi, test.value, band), f"{_show(target)}, needs {test.value:g} ± {band:g}"
    if test.op == "max":
        others = [f for f in figures if f.metric == test.metric and f is not target
                  and (test.company is None or f.company == test.company)]
        if not others:
            return "open", f"no other {test.metric} figure to compare with"
        best = max(others, key=lambda f: f.value.bounds[1])
        return (_judge([lo >= max(f.value.bounds[1] for f in others), hi >= max(f.value.bounds[0] for f in others)]),
                f"{_show(target)}, needs to be the largest; largest other: {_show(best)}")
    start = _figure(figures, test, test.since)  # growth
    if start is None:
        return "open", f"no sourced figure for {test.metric} in {test.since}"
    years = period_years(test.period) - period_years(test.since)
    slo, shi = start.value.bounds
    if years <= 0 or min(lo, slo) <= 0:
        return "open", "growth needs positive figures at two different periods"
    rates = [100 * ((b / a) ** (1 / years) - 1) for a in (slo, shi) for b in (lo, hi)]
    span = f"{min(rates):.0f}%" if max(rates) - min(rates) < 0.5 else f"{min(rates):.0f}% to {max(rates):.0f}%"
    return (_within(min(rates), max(rates), test.value, test.tolerance),
            f"{test.metric} {test.since} to {test.period}: {span} a year, needs {test.value:g} ± {test.tolerance:g}")


def verdict(outcomes: Sequence[str]) -> str:
    """One verdict from the tests' outcomes (see the module docstring).

    >>> verdict(["holds", "holds"]), verdict(["holds", "fails"]), verdict(["holds", "open"]), verdict([])
    ('supported', 'contradicted', 'not checkable', 'not checkable')
    """
    if "fails" in outcomes:
        return "contradicted"
    return "supported" if outcomes and all(o == "holds" for o in outcomes) else "not checkable"


def _as_of(catalog: Catalog, claim: MarketClaim) -> str:
    dates = [catalog.source(s).date for f in claim.figures for s in f.value.source] or \
        [catalog.source(s).date for s in claim.source]
    dates = [d for d in dates if d]
    return max(dates) if dates else ""


def market_claims(catalog: Catalog) -> pd.DataFrame:
    """Every market claim of the catalog with its figures, the tests' outcomes and a verdict.

    Returns
    -------
    DataFrame
        One row per claim: ``claim_id, claim, article_ref, question, topic, companies,
        verdict, finding, tests`` (a list of ``{says, outcome, detail}``), ``figures`` (a list
        of ``{metric, period, company, chip, point, low, high, forecast, confidence, source,
        note}``), ``as_of`` (the latest date among the figures' sources) and ``source``.
    """
    rows = []
    for c in catalog.market_claims.values():
        tests = []
        for t in c.tests:
            outcome, detail = evaluate_test(t, c.figures)
            tests.append({"says": t.says, "outcome": outcome, "detail": detail})
        figures = [{"metric": f.metric, "period": f.period, "company": f.company, "chip": f.chip,
                    "point": f.value.point, "low": f.value.bounds[0], "high": f.value.bounds[1],
                    "forecast": f.forecast, "confidence": f.value.confidence, "source": list(f.value.source),
                    "note": f.value.note or f.note} for f in c.figures]
        rows.append({"claim_id": c.id, "claim": c.claim, "article_ref": c.article_ref, "question": c.question,
                     "topic": c.topic, "companies": list(c.companies),
                     "verdict": verdict([t["outcome"] for t in tests]), "finding": c.finding,
                     "tests": tests, "figures": figures, "as_of": _as_of(catalog, c), "source": list(c.source)})
    return pd.DataFrame(rows).astype({"article_ref": "Int64", "question": "Int64"})


def cloud_access(catalog: Catalog) -> pd.DataFrame:
    """NVIDIA chips documented as rented by Chinese firms abroad, as H100-equivalents by spec.

    The market claims' ``rented_chips`` figures are single documented cases, not a census: no
    source gives the total capacity Chinese firms rent, so the sum is a floor, and the total
    is not computable.

    Returns
    -------
    DataFrame
        One row per documented case: ``claim_id, chip, period, units, h100_equivalents_spec``
        (dense BF16 peak over the H100 SXM's), ``confidence, source, note``.

    Examples
    --------
    >>> import chipgap
    >>> df = cloud_access(chipgap.load_catalog())
    >>> int(df.units.sum()), round(float(df.h100_equivalents_spec.sum()))
    (2304, 5822)
    """
    h100 = catalog.chip(H100).bf16_dense_tflops.point
    rows = []
    for c in catalog.market_claims.values():
        for f in c.figures:
            if f.metric != "rented_chips" or f.chip is None:
                continue
            peak = catalog.chip(f.chip).bf16_dense_tflops
            rows.append({"claim_id": c.id, "chip": f.chip, "period": f.period, "units": f.value.point,
                         "h100_equivalents_spec": f.value.point * peak.point / h100 if peak else math.nan,
                         "confidence": f.value.confidence, "source": list(f.value.source), "note": f.value.note})
    cols = ["claim_id", "chip", "period", "units", "h100_equivalents_spec", "confidence", "source", "note"]
    return pd.DataFrame(rows, columns=cols).astype({"units": float, "h100_equivalents_spec": float})


def verdict_counts(claims: pd.DataFrame) -> dict[str, int]:
    """How many claims got each verdict."""
    return {v: int(np.sum(claims.verdict == v)) for v in VERDICTS}
