"""The performance model against published runs: settings a source left unstated, predictions,
the fit of the fitted constants with their priors, and the error by source group.

A run is a question (`chipgap.catalog.question`) plus its measurement. Where the source leaves a
setting unstated, the run is scored at its framework's documented default
(``data/model/frameworks.yaml``), or at the stated rule of `RULES` where no framework documents
it, and the spread over every other valid setting is reported beside it: never the setting that
fits best.

The fit (`fit`) minimises the squared log errors of the calibration runs, in units of
``residual_sd``, plus each fitted constant's distance from its prior's median in prior standard
deviations (a regularised fit: a constant the runs cannot identify stays near its prior). Every
software stack with calibration runs gets its own ``gemm_max``; the shared constants are fitted
on all calibration runs together. Cross-validation leaves one run group
(``data/runs/groups.yaml``) out at a time: the group's runs are predicted with the fit of every
other group's calibration runs (the ``folds`` of ``data/model/fit.yaml``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from chipgap.analyses import disaggregation, infer, train
from chipgap.analyses.efficiency import efficiency_for, family_of, fit_values, stack_of
from chipgap.catalog.catalog import Catalog, normalize_id
from chipgap.catalog.model_data import STACK_FIELDS, FitValues
from chipgap.catalog.question import Layout, ServeQuestion
from chipgap.catalog.runs import ServingRun, TrainingRun
from chipgap.models.training import RECOMPUTE, train_step

RULES: dict[str, Any] = {"tp": 1, "pp": 1, "cp": 1, "ep": 1, "vpp": 1, "vpp_interleaved": 2, "mbs": 1,
                         "zero": 0, "recompute": "none", "ep_overlap": False, "afd_microbatches": 2}
"""The stated rule for a setting no framework documents: no parallelism along an axis the
source does not mention, the shallowest interleaving (2) where it says it interleaved, one
sequence per micro-batch, plain data parallelism (ZeRO 0) and no recomputation; when serving,
no two-batch overlap unless the source says so (engines ship it as an option), and the
`ServeQuestion` defaults for the rest. Those include the number formats, speculation and offload a
source leaves unstated (issue 18): GEMMs in the weights' own format (an engine multiplies FP8, NVFP4
or int8 checkpoints in their format on units that run it), dispatch in FP8 (DeepEP's low-latency
dispatch quantizes tokens to FP8 by default), no speculative decoding, no weight offload. A run
with draft tokens and no accept length is not scored: acceptance is measured, never a default. A
disaggregated run's pools take the same layout rule (every unstated degree 1); an attention-FFN
run that does not say how many micro-batches its ping-pong pipeline used is scored at 2, the
fewest that overlap the two pools at all (the two-batch overlap of DeepSeek's and SGLang's
expert-parallel deployments); the fabric between pools is not a free option but the one the
system record joins them by."""
SEARCH_OPTIONS = {"vpp": (1, 2, 3, 4, 6, 8), "mbs": (1, 2, 4, 8), "zero": (0, 1, 2, 3),
                  "recompute": tuple(RECOMPUTE)}
"""The settings the spread tries for each unstated field (the search's own)."""
SPLITS = ("calibration", "validation")
"""The splits `predictions` reads unless told otherwise: ``test`` runs are printed only by
``benchmarks/accuracy.py --test``."""


# -- which framework, which group, which class ----------------------------------------------------

def framework_of(catalog: Catalog, run: TrainingRun | ServingRun) -> Any:
    """The framework record whose name or alias the run's ``framework`` text starts with (the
    longest match), or None."""
    text = normalize_id(run.framework or "")
    best, length = None, 0
    for f in catalog.all("framework").values():
        for name in (f.name, *f.aliases):
            key = normalize_id(name)
            if key and text.startswith(key) and len(key) > length:
                best, length = f, len(key)
    return best


def group_of(catalog: Catalog, run: TrainingRun | ServingRun) -> str:
    """The run group that lists the run's first source (its first source's id if none does)."""
    first = run.source[0]
    return next((g.id for g in catalog.all("run_group").values() if first in g.sources), first)


def workload_class(catalog: Catalog, run: TrainingRun | ServingRun) -> str:
    """``dense`` or ``moe``, then ``train`` or the serving phase: 'moe-decode', 'dense-train'."""
    w = train.resolve_workload(catalog, run.model)
    phase = "train" if isinstance(run, TrainingRun) else run.phase
    return f"{'moe' if w.is_moe else 'dense'}-{phase}"


# -- settings a source left unstated ----------------------------------------------------------------

def training_defaults(catalog: Catalog, run: TrainingRun) -> tuple[Layout, tuple[str, ...]]:
    """The run's layout with every unstated field at its framework's default (or `RULES`), and
    the names of the fields so filled."""
    fw = framework_of(catalog, run)
    doc = dict(fw.training) if fw is not None else {}
    lay, filled = run.layout.model_dump(), []

    def default(key: str) -> Any:
        return doc.get(key, RULES[key])

    for k in ("tp", "pp", "cp", "ep"):
        if lay[k] is None:
            lay[k], _ = default(k), filled.append(k)
    if lay["dp"] is None:
        lay["dp"] = max(run.chips * train.devices_per_chip(catalog, catalog.resolve("chip", run.chip))
                        // (lay["tp"] * lay["pp"] * lay["cp"]), 1)
        filled.append("dp")
    if lay["vpp"] is None:
        lay["vpp"] = 1 if lay["interleaved"] is False or lay["pp"] == 1 else (
            default("vpp_interleaved") if lay["interleaved"] else default("vpp"))
        filled.append("vpp")
    if lay["mbs"] is None:
        mbs = default("mbs")
        if mbs == "per_stage":
            per = run.global_batch / (lay["dp"] * lay["pp"])
            mbs = int(per) if per >= 1 and per == int(per) else RULES["mbs"]
        lay["mbs"], _ = mbs, filled.append("mbs")
    if lay["zero"] is None:
        lay["zero"] = doc.get("zero_with_pp", default("zero")) if lay["pp"] > 1 else default("zero")
        filled.append("zero")
    if lay["recompute"] is None:
        lay["recompute"], _ = default("recompute"), filled.append("recompute")
    return Layout(**lay), tuple(filled)


def _alternatives(run: TrainingRun, resolved: Layout, filled: Sequence[str]) -> dict[str, np.ndarray]:
    """Every setting of the fields the source left unstated (as the search tries them), the
    stated ones fixed: the layouts the spread of a prediction is taken over."""
    vpps = {None: SEARCH_OPTIONS["vpp"], True: SEARCH_OPTIONS["vpp"][1:], False: (1,)}[run.layout.interleaved]
    options = {k: ([getattr(resolved, k)] if k not in filled else
                   (vpps if k == "vpp" and resolved.pp > 1 else (1,) if k == "vpp" else SEARCH_OPTIONS[k]))
               for k in ("vpp", "mbs", "zero", "recompute")}
    options["recompute"] = [RECOMPUTE[r] for r in options["recompute"]]
    grid = np.meshgrid(*(np.asarray(v) for v in options.values()), indexing="ij")
    out = {k: g.ravel() for k, g in zip(options, grid)}
    return {**{k: getattr(resolved, k) for k in ("tp", "pp", "dp", "cp", "ep")}, **out}


def serving_defaults(catalog: Catalog, run: ServingRun) -> tuple[Any, tuple[str, ...]]:
    """The run as a `ServeQuestion` with every unstated engine setting at its framework's
    default (or the question's), every unstated layout degree at 1 (each engine's default),
    and the names of the fields so filled."""
    fw = framework_of(catalog, run)
    doc = dict(fw.serving) if fw is not None else {}
    fields = {k: getattr(run, k) for k in ServeQuestion.model_fields}
    filled = []
    for k in ("kv_reserve", "overlap_scheduler", "ep_overlap"):
        if fields[k] is None:
            filled.append(k)
            if k in doc or k in RULES:
                fields[k] = doc.get(k, RULES.get(k))
            else:
                fields.pop(k)                      # the question's default
    if fields.get("max_batch") is None and "max_batch" in doc:
        fields["max_batch"] = doc["max_batch"]
        filled.append("max_batch")
    lay = run.layout.model_dump()
    if run.disaggregated:                   # each pool's layout, not the question's
        lay = {}
        degrees = {"prefill_pool": ("tp", "pp", "ep", "dp"), "decode_pool": ("tp", "pp", "ep", "dp"),
                   "attention_pool": ("tp", "pp", "dp"), "expert_pool": ()}    # experts: over every device
        for name, keys in degrees.items():
            pool = fields.get(name)
            if pool is not None:
                unset = [k for k in keys if getattr(pool, k) is None]
                filled += [f"{name}.{k}" for k in unset]
                fields[name] = pool.model_copy(update=dict.fromkeys(unset, 1))
        if run.disaggregated == "afd" and fields.get("afd_microbatches") is None:
            fields["afd_microbatches"] = RULES["afd_microbatches"]
            filled.append("afd_microbatches")
    filled += [k for k, v in lay.items() if v is None]
    fields["layout"] = {k: v or 1 for k, v in lay.items()}
    return ServeQuestion(**{k: v for k, v in fields.items() if v is not None}), tuple(filled)


# -- a run prepared once, predicted many times ------------------------------------------------------

@dataclass
class Case:
    """One run, resolved and bound to the catalog once, so that a fit can predict it quickly
    with other efficiency constants."""

    run: TrainingRun | ServingRun
    setup: Any
    filled: tuple[str, ...]
    layout: dict[str, Any]
    group: str
    family: str
    stack: str | None
    workload_class: str
    engine: str

    @property
    def kind(self) -> str:
        return "training" if isinstance(self.run, TrainingRun) else "serving"


def prepare(catalog: Catalog, runs: Iterable[TrainingRun | ServingRun]) -> list[Case]:
    """Resolve each run's unstated settings and build its setup once."""
    cases = []
    for run in runs:
        fw = framework_of(catalog, run)
        common = dict(group=group_of(catalog, run), family=family_of(catalog, catalog.resolve("chip", run.chip)),
                      workload_class=workload_class(catalog, run), engine=fw.id if fw is not None else "other")
        stack = stack_of(catalog, catalog.resolve("chip", run.chip), fw.id if fw is not None else None)
        if isinstance(run, TrainingRun):
            lay, filled = training_defaults(catalog, run)
            layout = {k: (RECOMPUTE[v] if k == "recompute" else v) for k, v in lay.model_dump().items()
                      if k in train.LAYOUT_KEYS}
            cases.append(Case(run, train.setup(catalog, run), filled, layout, stack=stack and stack.id, **common))
        else:
            q, filled = serving_defaults(catalog, run)
            if q.disaggregated:
                cases.append(Case(run, disaggregation.setup(catalog, q), filled, {}, stack=stack and stack.id,
                                  **common))
                continue
            s = infer.serving_setup(catalog, q)
            grid = infer.instance_layouts(s)
            cases.append(Case(run, s, filled, {k: int(v[0]) for k, v in grid.items()}, stack=stack and stack.id,
                              **common))
    return cases


def _training_value(case: Case, eff: Any, layouts: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    s = case.setup
    out = train.to_chip_units(train_step(s.job, s.hardware, eff, **{k: np.atleast_1d(v) for k, v in layouts.items()}),
                              s.devices)
    metric = case.run.metric
    value = {"tokens_per_s_per_chip": out["tokens_per_s"] / case.run.chips, "mfu": out["mfu"],
             "step_time_s": out["step_time_s"], "model_tflops_per_chip": out["tflops_per_chip"]}[metric]
    return np.atleast_1d(np.asarray(value, dtype=float)), np.atleast_1d(out["fits"])


def _serving_value(case: Case, eff: Any) -> tuple[float, bool, int]:
    if case.setup.question.disaggregated:
        t = disaggregation.evaluate(disaggregation.with_efficiency(case.setup, eff))
        pool = t.meets_slo if t.meets_slo.any() else t.valid if t.valid.any() else t.fits | True
        i = int(np.argmax(np.where(pool, t.tokens_per_s_per_chip, -np.inf)))
        metric = {"prefill_tokens_per_s_per_chip": "tokens_per_s_per_chip",
                  "output_tokens_per_s_per_chip": "tokens_per_s_per_chip"}.get(case.run.metric, case.run.metric)
        return float(t[metric].iloc[i]), bool(t.valid.iloc[i]), 0
    s = dataclasses.replace(case.setup, efficiency=eff)
    q = s.question
    batches = np.atleast_1d(q.batch) if q.batch else infer.BATCHES
    for cap in (q.requests, q.max_batch):
        batches = batches if cap is None else np.unique(np.minimum(batches, cap))
    grid = {k: np.full(batches.shape, v) for k, v in case.layout.items()}
    out = infer.serve_arrays(s, {**grid, "batch": batches}, q.job)
    ok = infer.meets_slo(out, q.ttft_ms, q.tpot_ms)
    pool = ok if ok.any() else (out["reason"] == 0)
    if not pool.any():   # nothing fits: the model's memory is too tight for what ran; take the largest
        pool = np.ones_like(pool, dtype=bool)
    tokens = np.where(pool, out["tokens_per_s"], -np.inf)
    i = int(np.argmax(tokens))
    value = {"output_tokens_per_s_per_chip": out["tokens_per_s_per_chip"], "prefill_tokens_per_s_per_chip":
             out["tokens_per_s_per_chip"], "ttft_ms": out["ttft_ms"], "tpot_ms": out["tpot_ms"]}[case.run.metric]
    return float(value[i]), bool(out["reason"][i] == 0), int(batches[i])


def predict_case(catalog: Catalog, case: Case, values: FitValues) -> float:
    """The run's metric at its resolved settings with fitted ``values``."""
    eff = efficiency_for(catalog, case.setup.chip, values, case.engine)[0]
    if case.kind == "training":
        return float(_training_value(case, eff, case.layout)[0][0])
    return _serving_value(case, eff)[0]


def row(catalog: Catalog, case: Case, values: FitValues, basis: str) -> dict[str, Any]:
    """One row of an accuracy table: the run, what it measured, what the model predicts with
    ``values`` (``basis`` says which fit), the spread over unstated settings and the layout."""
    run = case.run
    eff = efficiency_for(catalog, case.setup.chip, values, case.engine)[0]
    if case.kind == "training":
        value, fits = (float(x[0]) for x in _training_value(case, eff, case.layout))
        fits = bool(fits)
        alt, alt_fit = _training_value(case, eff, _alternatives(run, training_defaults(catalog, run)[0],
                                                                case.filled))
        alt = alt[alt_fit] if alt_fit.any() else np.array([value])
        low, high = float(min(alt.min(), value)), float(max(alt.max(), value))
        batch = None
    else:
        value, fits, batch = _serving_value(case, eff)
        low = high = value
    lo, hi = run.measured.bounds
    return {"run": run.id, "split": run.split, "group": case.group, "family": case.family,
            "workload_class": case.workload_class, "engine": case.engine, "workload": run.model,
            "chip": run.chip, "chips": run.chips, "metric": run.metric, "measured": run.measured.point,
            "predicted": value, "error_pct": 100 * (value / run.measured.point - 1),
            "low": low, "high": high, "in_range": bool(lo <= value <= hi) if run.measured.is_range else None,
            "fits": fits, "defaulted": ", ".join(case.filled), "fit": basis,
            "layout": {**case.layout, **({"batch": batch} if batch else {})}}


# -- the fit ----------------------------------------------------------------------------------------

ROBUST_SCALE = 2.0
"""Residuals (in residual standard deviations) beyond which a run's pull on the fit grows
linearly rather than quadratically."""


def _parameters(catalog: Catalog, cases: Sequence[Case]) -> list[tuple[str, str, Any]]:
    """(stack or '', name, prior) of each value the fit moves: every fitted constant, and the
    values (`STACK_FIELDS`) of each stack some calibration case runs on."""
    params = [("", c.id, c.prior) for c in catalog.all("constant").values() if c.role == "fitted"]
    stacks = catalog.all("stack")
    params += [(sid, f, getattr(stacks[sid], f)) for sid in sorted({c.stack for c in cases if c.stack})
               for f in STACK_FIELDS if getattr(stacks[sid], f) is not None]
    return params


def _values_of(params: list[tuple[str, str, Any]], z: np.ndarray) -> FitValues:
    constants = {n: p.from_unit(float(x)) for (stack, n, p), x in zip(params, z) if not stack}
    stacks: dict[str, dict[str, float]] = {}
    for (stack, n, p), x in zip(params, z):
        if stack:
            stacks.setdefault(stack, {})[n] = p.from_unit(float(x))
    return FitValues(constants=constants, stacks=stacks)


def _start(params: list[tuple[str, str, Any]], start: FitValues) -> np.ndarray:
    return np.array([p.to_unit((start.stacks.get(stack, {}) if stack else start.constants).get(n, p.median))
                     for stack, n, p in params])


def fit(catalog: Catalog, cases: Sequence[Case], residual_sd: float,
        start: FitValues | None = None) -> tuple[FitValues, float]:
    """Fit the fitted constants on ``cases`` (calibration runs) with their priors.

    Minimises ``sum(rho((log(predicted / measured) / residual_sd)^2)) + sum(rho(z^2))``, ``z``
    being each constant's distance from its prior's median in prior standard deviations, and
    ``rho`` quadratic up to `ROBUST_SCALE` and linear beyond it (scipy's soft L1): a run off by a
    transcription or convention error pulls the constants less than it would squared.
    Deterministic: the same cases and start give the same values.

    Returns
    -------
    values : FitValues
    rms_log_error : float
        Root-mean-square log error of the cases at the fitted values.
    """
    params = _parameters(catalog, cases)
    measured = np.log([c.run.measured.point for c in cases])
    z0 = _start(params, start) if start is not None else np.zeros(len(params))

    def residuals(z: np.ndarray) -> np.ndarray:
        values = _values_of(params, z)
        pred = np.log([max(predict_case(catalog, c, values), 1e-30) for c in cases])
        return np.concatenate([(pred - measured) / residual_sd, z])

    res = least_squares(residuals, np.clip(z0, -6, 6), bounds=(-6, 6), diff_step=1e-3, xtol=1e-4, ftol=1e-6,
                        loss="soft_l1", f_scale=ROBUST_SCALE)
    values = _values_of(params, res.x)
    errors = residuals(res.x)[:len(cases)] * residual_sd
    return values, float(np.sqrt(np.mean(np.square(errors)))) if len(cases) else float("nan")


# -- tables -----------------------------------------------------------------------------------------

def runs_of(catalog: Catalog, splits: Sequence[str] = SPLITS) -> list[TrainingRun | ServingRun]:
    """Every run of the catalog in ``splits``, training first."""
    return [r for r in (*catalog.runs.values(), *catalog.serving_runs.values()) if r.split in splits]


def predictions(catalog: Catalog, splits: Sequence[str] = SPLITS, cross_validated: bool = True,
                cases: Sequence[Case] | None = None) -> pd.DataFrame:
    """One row per run of ``splits``: measured, predicted, signed error in percent, the spread
    over unstated settings, and which fit predicted it.

    With ``cross_validated`` (the default) a run is predicted by the fit that left its group out
    (its fold), where the fit holds one, else by the full fit (which never saw the group: it has
    no calibration run); otherwise every run by the full fit.
    """
    cases = list(cases) if cases is not None else prepare(catalog, runs_of(catalog, splits))
    full = fit_values(catalog)
    folds = catalog.all("fit")["fit"].folds if "fit" in catalog.all("fit") else {}
    rows = []
    for c in cases:
        fold = folds.get(c.group) if cross_validated else None
        rows.append(row(catalog, c, fold if fold is not None else full,
                        f"without {c.group}" if fold is not None else "full fit"))
    return pd.DataFrame(rows)


def summary(df: pd.DataFrame, by: str | Sequence[str] = "split") -> pd.DataFrame:
    """Runs, median, 90th-percentile and worst absolute percentage error per ``by`` group."""
    g = df.assign(abs_error_pct=df.error_pct.abs()).groupby(list([by] if isinstance(by, str) else by))
    e = g.abs_error_pct
    return pd.DataFrame({"runs": e.size(), "median_abs_error_pct": e.median(),
                         "p90_abs_error_pct": e.quantile(0.9), "worst_abs_error_pct": e.max(),
                         "median_error_pct": g.error_pct.median()})


def model_error(df: pd.DataFrame, kind: str | None = None) -> pd.DataFrame:
    """The cross-validated error per chip family (of ``kind`` runs: 'training' or 'serving'),
    which the report's claims carry as each chip's model error."""
    part = df if kind is None else df[df.metric.isin(_METRICS[kind])]
    return summary(part, "family")


_METRICS = {"training": ("tokens_per_s_per_chip", "mfu", "step_time_s", "model_tflops_per_chip"),
            "serving": ("output_tokens_per_s_per_chip", "prefill_tokens_per_s_per_chip", "ttft_ms", "tpot_ms")}


def kind_of(df: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The rows of ``kind`` ('training' or 'serving') runs."""
    return df[df.metric.isin(_METRICS[kind])]

