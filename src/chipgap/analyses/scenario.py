"""Running a scenario: its catalog changes, then each of its questions, with Monte-Carlo ranges.

Every question returns a tidy table (``chip, metric, p10, p50, p90, mean``, or the analysis's
own table for supply, cost and shocks) and, when it states a claim, the probability of that
claim over the paired samples. Samples come from `chipgap.models.sampling.Sampler`, so a
scenario run with the same seed gives the same numbers bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from chipgap.analyses import chain, econ, supply
from chipgap.analyses.answer import SERVE_METRICS, TRAIN_METRICS, answer, probability, summarize
from chipgap.catalog.catalog import Catalog
from chipgap.catalog.load import Overlay, load_catalog
from chipgap.catalog.schema import Chip, quantity_fields
from chipgap.catalog.scenario import (ChipCostQuestion, Claim, Question, Scenario, ServeAsk, ShockQuestion,
                                      SpecQuestion, SupplyQuestion, TrainAsk, read_scenario)
from chipgap.errors import CatalogError, ChipgapError
from chipgap.models.sampling import Sampler


@dataclass
class QuestionResult:
    """One question's answer: a table, per-chip samples, and the claim's probability if any."""

    question: Question
    table: pd.DataFrame
    samples: dict[str, pd.DataFrame] = field(default_factory=dict)
    claim: dict | None = None


@dataclass
class ScenarioResult:
    """A scenario, the catalog it produced, and each question's result."""

    scenario: Scenario
    catalog: Catalog
    results: list[QuestionResult]

    def claims(self) -> pd.DataFrame:
        """One row per claim: the question, the statement, its probability and both medians."""
        rows = [{"question": r.question.id, **r.claim} for r in self.results if r.claim]
        return pd.DataFrame(rows, columns=["question", "claim", "metric", "a", "b", "ratio",
                                           "probability", "a_p50", "b_p50", "samples"])


def scenario_catalog(scenario: Scenario, catalog_dir: str | Path | None = None,
                     extra_overlays: tuple[Overlay, ...] = ()) -> Catalog:
    """The catalog (bundled, ``catalog_dir``, ``extra_overlays``, then the scenario's changes),
    checked against the scenario's sources and questions."""
    cat = load_catalog(catalog_dir, overlays=(*extra_overlays, scenario.overlay()))
    for i, sid in enumerate(scenario.sources):
        if sid not in cat.all("source"):
            raise CatalogError(scenario.file, f"names source '{sid}', which the catalog does not hold",
                               field=f"sources.{i}")
    for q in scenario.questions:
        check_question(cat, scenario.file, q)
    return cat


def check_question(cat: Catalog, file: str, q: Question) -> None:
    """Resolve every id a question names, so a typo fails before any computation."""
    def check(kind: str, value: str, where: str) -> None:
        try:
            cat.resolve(kind, value)
        except ChipgapError as e:
            raise CatalogError(file, str(e), entry=q.id, field=where) from None

    for i, c in enumerate(getattr(q, "chips", ())):
        check("chip", c, f"chips.{i}")
    if getattr(q, "model", None) and not q.model.endswith(".json"):
        check("workload", q.model, "model")
    for i, s in enumerate(getattr(q, "scenarios", ())):
        check("scenario", s, f"scenarios.{i}")
    for i, r in enumerate(getattr(q, "published", ())):
        check("run" if isinstance(q, TrainAsk) else "serving_run", r, f"published.{i}")
    for i, f in enumerate(getattr(q, "fields", ())):
        if f not in quantity_fields(Chip):
            raise CatalogError(file, "is not a chip quantity field (e.g. bf16_dense_tflops, memory_bw_gbps; "
                                     "see 'chipgap chips show ID --format json')", entry=q.id, field=f"fields.{i}")
    claim: Claim | None = getattr(q, "claim", None)
    if claim is not None:
        metrics = (TRAIN_METRICS if isinstance(q, TrainAsk) else SERVE_METRICS if isinstance(q, ServeAsk)
                   else tuple(getattr(q, "fields", ())))
        if claim.metric not in metrics:
            raise CatalogError(file, f"must be one of the question's metrics ({', '.join(metrics)})",
                               entry=q.id, field="claim.metric")
        for side in ("a", "b"):
            if getattr(claim, side) not in q.chips:
                raise CatalogError(file, f"must be one of the question's chips ({', '.join(q.chips)})",
                                   entry=q.id, field=f"claim.{side}")


def run_scenario(scenario: Scenario | str | Path, catalog_dir: str | Path | None = None,
                 samples: int = 2000, seed: int = 0,
                 extra_overlays: tuple[Overlay, ...] = ()) -> ScenarioResult:
    """Apply a scenario's catalog changes and answer its questions.

    Parameters
    ----------
    scenario : Scenario, or a path or bundled name
    catalog_dir : str or Path, optional
        A user catalog folder read before the scenario's changes.
    samples, seed : int
        Monte-Carlo draws per chip and their seed.
    extra_overlays : tuple, optional
        Catalog changes read before the scenario's own (another scenario's, say).

    Returns
    -------
    ScenarioResult
    """
    sc = scenario if isinstance(scenario, Scenario) else read_scenario(scenario)
    cat = scenario_catalog(sc, catalog_dir, extra_overlays)
    return ScenarioResult(sc, cat, [ask(cat, q, samples, seed) for q in sc.questions])


def ask(catalog: Catalog, q: Question, samples: int = 2000, seed: int = 0) -> QuestionResult:
    """One scenario question's result on ``catalog``: a performance question is answered by
    `chipgap.analyses.answer.answer` for each of its chips."""
    if isinstance(q, (TrainAsk, ServeAsk)):
        metrics = TRAIN_METRICS if isinstance(q, TrainAsk) else SERVE_METRICS
        return _performance(q, metrics, lambda chip: answer(catalog, q.question(chip, samples, seed)).samples)
    if isinstance(q, SpecQuestion):
        return _specs(catalog, q, samples, seed)
    if isinstance(q, SupplyQuestion):
        tables = [supply.supply(catalog, s, samples, seed).assign(scenario=s) for s in q.scenarios]
        return QuestionResult(q, pd.concat(tables, ignore_index=True))
    if isinstance(q, ChipCostQuestion):
        return QuestionResult(q, pd.concat([econ.chip_cost(catalog, c, samples=samples, seed=seed)
                                            .assign(chip=catalog.resolve("chip", c)) for c in q.chips],
                                           ignore_index=True))
    if isinstance(q, ShockQuestion):
        return QuestionResult(q, chain.shock(catalog, q.shock))
    raise TypeError(f"unknown question {q!r}")  # the schema admits no other kind


def _performance(q: TrainAsk | ServeAsk, metrics: tuple[str, ...], run) -> QuestionResult:  # noqa: ANN001
    rows, per_chip = [], {}
    for chip in q.chips:
        try:
            df = run(chip)
        except ChipgapError as e:
            rows.append({"chip": chip, "metric": "", "note": f"not computed: {e}"})
            continue
        per_chip[chip] = df
        s = summarize(df, metrics)
        rows += [{"chip": chip, "metric": m, **s.loc[m].to_dict(), "note": ""} for m in metrics]
    return QuestionResult(q, pd.DataFrame(rows), per_chip, _claim(q.claim, per_chip))


def _specs(catalog: Catalog, q: SpecQuestion, samples: int, seed: int) -> QuestionResult:
    draw = Sampler(samples, seed)
    rows, per_chip = [], {}
    for chip in q.chips:
        c = catalog.chip(chip)
        values = {}
        for f in q.fields:  # checked by scenario_catalog
            values[f] = draw(getattr(c, f), f"{c.id}.{f}")
        per_chip[chip] = pd.DataFrame(values)
        s = summarize(values)
        rows += [{"chip": chip, "metric": f, **s.loc[f].to_dict(),
                  "note": "" if getattr(c, f) is not None else "not in the catalog"} for f in q.fields]
    return QuestionResult(q, pd.DataFrame(rows), per_chip, _claim(q.claim, per_chip))


def _claim(claim: Claim | None, per_chip: dict[str, pd.DataFrame]) -> dict | None:
    if claim is None:
        return None
    text = claim.text or f"{claim.metric}: {claim.a} >= {claim.ratio:g} x {claim.b}"
    if claim.a not in per_chip or claim.b not in per_chip or claim.metric not in per_chip[claim.a]:
        return {"claim": text, "metric": claim.metric, "a": claim.a, "b": claim.b,
                "ratio": claim.ratio, "probability": np.nan, "a_p50": np.nan, "b_p50": np.nan,
                "samples": 0}
    a = per_chip[claim.a][claim.metric].to_numpy(dtype=float)
    b = per_chip[claim.b][claim.metric].to_numpy(dtype=float)
    return {"claim": text, "metric": claim.metric, "a": claim.a, "b": claim.b, "ratio": claim.ratio,
            "probability": probability(a, b, claim.ratio), "a_p50": float(np.nanmedian(a)),
            "b_p50": float(np.nanmedian(b)), "samples": int(a.size)}
