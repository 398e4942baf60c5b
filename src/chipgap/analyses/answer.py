"""One evaluation core: a question in, one labelled table out.

`answer` evaluates a `chipgap.catalog.TrainQuestion` or `chipgap.catalog.ServeQuestion`: every
configuration its unset layout fields leave, in one array pass, per chip (a package); and, when
the question asks for samples, its best configurations under every Monte-Carlo draw of the
chip's ranged specs, as a second array axis in one more pass. The CLI, scenarios, the report and
the accuracy check all call it, so one question gives one answer whichever surface asked.

Every ranged catalog quantity is drawn with `chipgap.models.sampling.Sampler` (one stream per
``record-id.field``, so the same seed gives the same numbers bit for bit, and the same chip
gets the same draws in every question). The calibrated efficiency constants are not sampled:
the spread is that of the specs, not the model's own error (``benchmarks/accuracy.py`` reports
that).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from chipgap.analyses import infer, train
from chipgap.catalog.catalog import Catalog
from chipgap.catalog.question import ServeQuestion, TrainQuestion
from chipgap.errors import InputError
from chipgap.models import inference
from chipgap.models.sampling import Draw, Sampler
from chipgap.models.training import REASONS, train_step

QUANTILES = (0.1, 0.5, 0.9)
TRAIN_METRICS = ("tokens_per_s", "tflops_per_chip", "mfu", "step_time_s", "memory_gb")
SERVE_METRICS = ("tokens_per_s_per_chip", "tokens_per_s", "tpot_ms", "ttft_ms", "memory_gb_per_chip")
TOP_CONFIGS = 16
"""Configurations best at the point estimate that the Monte-Carlo pass re-evaluates: a draw
that slows the best one rarely promotes a configuration from further down."""


def summarize(samples: pd.DataFrame | Mapping[str, np.ndarray],
              metrics: tuple[str, ...] | None = None) -> pd.DataFrame:
    """P10, P50, P90 and mean of each metric over the samples (NaN samples ignored): the one
    quantile reducer, whose columns every surface shows as ``p10``, ``p50``, ``p90``.

    >>> summarize({"x": np.arange(101.0)}).loc["x", ["p10", "p50", "p90"]].tolist()
    [10.0, 50.0, 90.0]
    """
    cols = metrics or tuple(samples.keys())
    rows = {}
    for m in cols:
        v = np.asarray(samples[m], dtype=float)
        ok = v[np.isfinite(v)]
        q = np.quantile(ok, QUANTILES) if ok.size else np.full(len(QUANTILES), np.nan)
        rows[m] = {"p10": q[0], "p50": q[1], "p90": q[2], "mean": ok.mean() if ok.size else np.nan,
                   "valid_fraction": ok.size / max(v.size, 1)}
    return pd.DataFrame.from_dict(rows, orient="index")


def probability(a: np.ndarray, b: np.ndarray | float, ratio: float = 1.0) -> float:
    """P(a >= ratio x b) over paired samples; a sample where either side is NaN counts as false.

    >>> probability(np.array([1.0, 2.0, 3.0, 4.0]), 2.5)
    0.5
    """
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    return float(np.mean(np.nan_to_num(a, nan=-np.inf) >= ratio * np.nan_to_num(b, nan=np.inf)))


@dataclass(frozen=True)
class Answer:
    """A question's answer.

    Attributes
    ----------
    question : TrainQuestion or ServeQuestion
    table : DataFrame
        Every configuration evaluated at the point estimate, one row each: the layout (and
        batch), the metrics per chip (a package), the breakdowns, ``valid`` and ``reason``
        (and, serving, ``meets_slo``).
    samples : DataFrame or None
        With ``question.samples``: one row per draw, its best configuration and its metrics
        (``valid`` False where no configuration fits that draw's chip).
    setup : chipgap.analyses.train.Setup or chipgap.analyses.infer.ServingSetup
        The resolved job, hardware and efficiency.
    """

    question: TrainQuestion | ServeQuestion
    table: pd.DataFrame
    samples: pd.DataFrame | None
    setup: Any

    @property
    def objective(self) -> str:
        """The metric configurations are ranked by."""
        return "tokens_per_s" if isinstance(self.question, TrainQuestion) else "tokens_per_s_per_chip"

    def best(self, top: int = 5) -> pd.DataFrame:
        """The ``top`` valid configurations (serving: within the SLOs too), best first."""
        ok = self.table[self.table.valid if "meets_slo" not in self.table else self.table.meets_slo]
        return ok.sort_values(self.objective, ascending=False).head(top).reset_index(drop=True)

    def spread(self, metrics: tuple[str, ...] | None = None) -> pd.DataFrame | None:
        """`summarize` of the samples (None without samples)."""
        if self.samples is None:
            return None
        default = TRAIN_METRICS if isinstance(self.question, TrainQuestion) else SERVE_METRICS
        return summarize(self.samples, metrics or default)

    def pareto(self) -> pd.DataFrame:
        """Serving: the throughput-vs-TPOT front of the valid configurations (a disaggregated
        deployment's table has one row per ratio or pipeline setting, and no front)."""
        if isinstance(self.question, ServeQuestion) and self.question.disaggregated:
            return self.table.iloc[:0]
        return infer.pareto(self.table)

    def to_dict(self, top: int = 5, tokens: float | None = None) -> dict[str, Any]:
        """The answer as JSON-ready data: what ``chipgap train|infer --format json`` prints and
        the web workbench's API returns (see `chipgap.analyses.answer_json`).

        Parameters
        ----------
        top : int, default=5
            Rows of a search to keep, best first.
        tokens : float, optional
            Training: a token budget, for ``days_to_train`` per row.
        """
        from chipgap.analyses import answer_json

        if isinstance(self.question, TrainQuestion):
            return answer_json.train_json(self, top, tokens)
        return answer_json.serve_json(self, top)

    def inputs(self) -> dict[str, Any]:
        """The question as asked, with its ids resolved and the basis of the efficiency."""
        s = self.setup
        is_train = isinstance(self.question, TrainQuestion)
        workload = (s.job if is_train else s.serving).workload
        return {**self.question.model_dump(mode="json"), "model": workload.id, "chip": s.chip,
                "system": s.system, "devices_per_chip": s.devices,
                **({"efficiency_basis": s.efficiency_basis} if is_train else {"assumptions": list(s.assumptions)})}


def answer(catalog: Catalog, question: TrainQuestion | ServeQuestion) -> Answer:
    """Evaluate ``question`` against ``catalog``.

    Raises
    ------
    InputError
        When no configuration the question allows can exist (a fixed layout that breaks a rule
        other than memory, naming the rule), or when samples are asked of a question no
        configuration of which fits.
    """
    if isinstance(question, TrainQuestion):
        s = train.setup(catalog, question)
        table = train.evaluate(s, train.layout_grid(s))
        codes_ok = table.valid | (table.reason == REASONS[64])
    elif isinstance(question, ServeQuestion) and question.disaggregated:
        from chipgap.analyses import disaggregation

        s = disaggregation.setup(catalog, question)
        return Answer(question, disaggregation.evaluate(s), None, s)
    elif isinstance(question, ServeQuestion):
        s = infer.serving_setup(catalog, question)
        table = infer.serve(s)
        codes_ok = table.reason.isin(["", inference.REASONS[16]])
    else:
        raise InputError("question", "a TrainQuestion or a ServeQuestion", question)
    if not codes_ok.any():
        if isinstance(question, TrainQuestion):   # name the field that makes the layout impossible
            first = table.iloc[0]
            train.check_layout(s, {k: int(first[k]) for k in train.LAYOUT_KEYS})
        raise InputError("layout", f"a layout that can exist ({table.reason.iloc[0]})",
                         question.layout.model_dump(exclude_none=True))
    result = Answer(question, table, None, s)
    if question.samples:
        draws = Sampler(question.samples, question.seed)
        result = Answer(question, table, (_train_samples if isinstance(question, TrainQuestion)
                                          else _serve_samples)(catalog, result, draws), s)
    return result


def resample(catalog: Catalog, result: Answer, draw: Draw) -> pd.DataFrame:
    """``result``'s best configurations re-evaluated under ``draw`` (a `Sampler`, or any `Draw`
    such as `chipgap.analyses.sensitivity.OneAtATime`'s cases): one row per draw with its best
    valid configuration, as `Answer.samples` holds for Monte-Carlo draws."""
    sample = _train_samples if isinstance(result.question, TrainQuestion) else _serve_samples
    return sample(catalog, result, draw)


def _candidates(result: Answer) -> pd.DataFrame:
    top = result.best(TOP_CONFIGS)
    if top.empty and len(result.table) == 1:       # one fixed layout that misses memory: a draw may fit
        top = result.table
    if top.empty:
        q = result.question
        raise InputError("chips", f"a count at which {q.model} fits on {q.chip}"
                         + (" and meets the SLOs" if isinstance(q, ServeQuestion) else ""), q.chips)
    return top


def _train_samples(catalog: Catalog, result: Answer, draws: Draw) -> pd.DataFrame:
    s = result.setup
    top = _candidates(result)
    hw = train.sampled(catalog, s, draws).hardware
    lay = {k: top[k].to_numpy()[:, None] for k in train.LAYOUT_KEYS}   # (config, 1) x (sample,)
    out = train.to_chip_units(train_step(s.job, hw, s.efficiency, **lay), s.devices)
    out.pop("fits")  # a sample's layout is valid, fit included, where its reason is 0
    return _best_per_sample(out, out["tokens_per_s"], out["reason"] == 0, lay)


def _serve_samples(catalog: Catalog, result: Answer, draws: Draw) -> pd.DataFrame:
    q, s = result.question, result.setup
    top = _candidates(result)
    grid = {k: top[k].to_numpy()[:, None] for k in ("tp", "pp", "ep", "dp", "batch", "draft_tokens") if k in top}
    out = infer.serve_arrays(infer.sampled(catalog, s, draws), grid, q.job)   # (config, sample)
    ok = infer.meets_slo(out, q.ttft_ms, q.tpot_ms)
    return _best_per_sample({k: out[k] for k in SERVE_METRICS}, out["tokens_per_s_per_chip"], ok, grid)


def _best_per_sample(out: Mapping[str, np.ndarray], score: np.ndarray, ok: np.ndarray,
                     layouts: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """For arrays of shape (config, sample), each sample's best valid configuration (NaN
    metrics where none is valid)."""
    shape = np.broadcast_shapes(np.shape(score), np.shape(ok))
    masked = np.where(np.broadcast_to(ok, shape), np.broadcast_to(score, shape), -np.inf)
    pick = np.argmax(masked, axis=0)
    cols = np.arange(masked.shape[1])
    any_ok = np.broadcast_to(ok, shape).any(axis=0)
    df = pd.DataFrame({"sample": cols})
    for k, v in layouts.items():
        df[k] = np.asarray(v).ravel()[pick]
    for k, v in out.items():
        full = np.broadcast_to(v, masked.shape)[pick, cols]
        df[k] = np.where(any_ok, full, np.nan) if full.dtype.kind == "f" else full
    df["valid"] = any_ok
    return df
