"""One chunk of a sweep, evaluated: its rows as an Arrow table with a fixed schema.

Each case a chunk touches is one array evaluation of the kernel (`train_step` or
`serve_arrays`) over that case's rows in the chunk: layouts and samples are flat arrays of
shape (row,), indexed from the case's layout list and its sampled hardware. A sample is drawn
once per chip and system with ``Sampler(samples, seed)`` and sliced, so sample ``k`` is the
same number whatever the chunking (and, as in `chipgap.analyses.answer`, the same chip has
the same draws in every case: common random numbers across chip counts and layouts).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa

from chipgap.analyses import infer as infer_mod
from chipgap.analyses.train import BREAKDOWN_KEYS, MEMORY_KEYS, to_chip_units
from chipgap.models import inference, tco
from chipgap.models.training import REASONS, RECOMPUTE, Hardware, train_step
from chipgap.sweep.grid import SERVE_LAYOUT_KEYS, TRAIN_LAYOUT_KEYS, Case, CaseGrid
from chipgap.sweep.plan import Plan
from chipgap.sweep.spec import TrainSpec
from chipgap.text import reason_text

F, I, S, B = pa.float64(), pa.int64(), pa.string(), pa.bool_()
_INPUTS = [("row", I), ("case", I), ("chip", S), ("system", S), ("model", S), ("chips", I)]
_COST = [("usd_per_chip_hour", F), ("usd_per_million_tokens", F)]
TRAIN_SCHEMA = pa.schema(
    [*_INPUTS, ("seq_len", I), ("global_batch", I),
     *[(k, S if k == "recompute" else I) for k in TRAIN_LAYOUT_KEYS], ("sample", I),
     ("step_time_s", F), ("tokens_per_s", F), ("tflops_per_chip", F), ("mfu", F), ("hfu", F),
     ("memory_gb", F), ("fits", B), ("valid", B), ("reason", S),
     *[(k, F) for k in (*BREAKDOWN_KEYS, *MEMORY_KEYS)], *_COST])
"""Columns of a training sweep. ``sample`` is -1 for point estimates; ``valid`` is True when the
layout breaks no rule and fits (``reason`` empty); costs are NaN where not valid."""
SERVE_SCHEMA = pa.schema(
    [*_INPUTS, ("input_len", I), ("output_len", I), ("cached_len", I), ("requests", I),
     *[(k, I) for k in SERVE_LAYOUT_KEYS],
     ("batch", I), ("sample", I),
     ("ttft_ms", F), ("tpot_ms", F), ("tokens_per_s", F), ("tokens_per_s_per_chip", F),
     ("memory_gb_per_chip", F), ("fits", B), ("valid", B), ("meets_slo", B), ("reason", S),
     *[(k, F) for k in infer_mod.DECODE_BREAKDOWN], *_COST])
"""Columns of a serving sweep (``chips`` is the instance size; ``requests`` 0 is the steady
state); ``meets_slo`` is ``valid`` and within the spec's ``ttft_ms``/``tpot_ms``."""
RECOMPUTE_NAMES = np.array(list(RECOMPUTE), dtype=object)


def schema(spec) -> pa.Schema:  # noqa: ANN001
    """The Arrow schema of a spec's rows."""
    return TRAIN_SCHEMA if isinstance(spec, TrainSpec) else SERVE_SCHEMA


def _take(v, idx: np.ndarray):  # noqa: ANN001, ANN202
    return v[idx] if np.ndim(v) else v


def _sampled(hw: Hardware | None, fallback: Hardware, sample: np.ndarray) -> Hardware:
    """Hardware for rows whose sample numbers are ``sample``: fields of shape (row,)."""
    if hw is None:
        return fallback
    return Hardware(**{f.name: _take(getattr(hw, f.name), sample) for f in dataclasses.fields(hw)})


def _inputs(plan: Plan, grid: CaseGrid, case: Case, local: np.ndarray, sample: np.ndarray) -> dict:
    n = local.size
    chip, system = grid.pairs[case.pair]
    w = grid.setup(case)
    model = (w.job.workload if hasattr(w, "job") else w.serving.workload).id
    return {"row": plan.offsets[case.index] + local, "case": np.full(n, case.index),
            "chip": np.full(n, chip, dtype=object), "system": np.full(n, system, dtype=object),
            "model": np.full(n, model, dtype=object), "chips": np.full(n, case.chips),
            "sample": sample if plan.spec.samples else np.full(n, -1)}


def _train(plan: Plan, grid: CaseGrid, case: Case, lo: int, hi: int) -> dict:
    """Rows ``[lo, hi)`` of a training case (row = layout x sample)."""
    s, lay = grid.setup(case), grid.layouts(case)
    local = np.arange(lo, hi, dtype=np.int64)
    li, si = local // grid.samples, local % grid.samples
    layout = {k: lay[k][li] for k in TRAIN_LAYOUT_KEYS}
    out = to_chip_units(train_step(s.job, _sampled(grid.hardware(case.pair), s.hardware, si),
                                   s.efficiency, **layout), s.devices)
    n = local.size
    cols = {**_inputs(plan, grid, case, local, si), "seq_len": np.full(n, case.shape[0]),
            "global_batch": np.full(n, case.shape[1]), **layout,
            "recompute": RECOMPUTE_NAMES[layout["recompute"]]}
    cols.update({k: np.broadcast_to(v, (n,)) for k, v in out.items()})
    cols["valid"] = cols["reason"] == 0
    per_chip = cols["tokens_per_s"] / case.chips
    cols |= _cost(grid.usd_per_chip_hour(case.pair), per_chip, cols["valid"])
    return cols


def _serve(plan: Plan, grid: CaseGrid, case: Case, lo: int, hi: int) -> dict:
    """Rows ``[lo, hi)`` of a serving case (row = layout x batch x sample)."""
    s, lay = grid.setup(case), grid.layouts(case)
    local = np.arange(lo, hi, dtype=np.int64)
    nb, ns = len(grid.batches), grid.samples
    li, bi, si = local // (nb * ns), (local // ns) % nb, local % ns
    arrays = {k: lay[k][li] for k in SERVE_LAYOUT_KEYS} | {"batch": grid.batches[bi]}
    s = dataclasses.replace(s, hardware=_sampled(grid.hardware(case.pair), s.hardware, si))
    job = case.shape
    out = infer_mod.serve_arrays(s, arrays, job)
    n = local.size
    cols = {**_inputs(plan, grid, case, local, si), "input_len": np.full(n, job.input_len),
            "output_len": np.full(n, job.output_len), "cached_len": np.full(n, job.cached_len),
            "requests": np.full(n, job.requests or 0), **arrays}
    cols.update({k: np.broadcast_to(v, (n,)) for k, v in out.items()})
    cols["valid"] = cols["reason"] == 0
    cols["meets_slo"] = infer_mod.meets_slo(cols, s.question.ttft_ms, s.question.tpot_ms)
    cols |= _cost(grid.usd_per_chip_hour(case.pair), cols["tokens_per_s_per_chip"], cols["valid"])
    return cols


def _cost(usd_per_chip_hour: float, tokens_per_s_per_chip: np.ndarray, valid: np.ndarray) -> dict:
    per_m = tco.usd_per_million_tokens(usd_per_chip_hour, np.where(valid, tokens_per_s_per_chip, np.nan))
    return {"usd_per_chip_hour": np.full(valid.size, usd_per_chip_hour), "usd_per_million_tokens": per_m}


def evaluate_chunk(plan: Plan, grid: CaseGrid, chunk: int) -> pa.Table:
    """The rows of chunk ``chunk`` as an Arrow table with `schema` (spec) columns.

    Parameters
    ----------
    plan : Plan
    grid : CaseGrid
        Built from the plan's spec and a catalog in this process.
    chunk : int
        Chunk index in ``[0, plan.n_chunks)``.

    Returns
    -------
    pyarrow.Table
    """
    is_train = isinstance(plan.spec, TrainSpec)
    one = _train if is_train else _serve
    parts = [one(plan, grid, case, lo, hi) for case, lo, hi in plan.segments(chunk)]
    sch = schema(plan.spec)
    cols = {name: np.concatenate([p[name] for p in parts]) for name in sch.names}
    cols["reason"] = reason_text(cols["reason"], REASONS if is_train else inference.REASONS)
    for name in ("fits", "valid"):
        cols[name] = cols[name].astype(bool)
    return pa.table({f.name: pa.array(cols[f.name], type=f.type) for f in sch}, schema=sch)
