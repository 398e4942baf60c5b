"""What the report's sections share: cells for chips and catalog quantities, and the report's
questions (chips, systems, workloads), which `chipgap.analyses.report_model` states once."""

from __future__ import annotations

from chipgap.analyses.report_model import (CPU_CHIPS, CPU_MODEL, MATCH_H100S, MOE_ASKS, REGION,  # noqa: F401
                                           REPORT_SCENARIO, RULES, SPEC_CHIPS, SYSTEMS, report_asks)
from chipgap.catalog.catalog import Catalog
from chipgap.catalog.quantity import Quantity
from chipgap.report.document import Cell
from chipgap.text import num

TCO_REGION = REGION
asks = report_asks
"""The report's performance questions by id (the bundled scenario ``report``)."""

MODEL_FIELDS = ("bf16_dense_tflops", "fp8_dense_tflops", "int8_dense_tops", "memory_bw_gbps",
                "memory_capacity_gib", "scaleup_bw_gbps_bidir", "scaleout_bw_gbps_unidir")
"""Chip fields the performance model reads (see `chipgap.analyses.train.hardware`)."""


def chip_cell(catalog: Catalog, chip: str) -> Cell:
    """A chip's name, citing the sources of every spec the performance model read for it
    (and its usual system's)."""
    c = catalog.chip(chip)
    sources = [s for f in MODEL_FIELDS if getattr(c, f) is not None for s in getattr(c, f).source]
    system = catalog.default_system(c.id)
    if system is not None:
        sources += [s for f in ("scaleup_domain_chips", "scaleup_bw_gbps_unidir", "scaleout_bw_gbps_unidir")
                    if getattr(system, f) is not None for s in getattr(system, f).source]
    return Cell(c.name, tuple(dict.fromkeys(sources)))


def q_cell(q: Quantity | None, scale: float = 1.0) -> Cell:
    """A catalog quantity as a cell: point, range when there is one, confidence, sources."""
    if q is None:
        return Cell("not public")
    mark = {"official": "", "measured": "", "estimate": " est.", "rumor": " rumour"}[q.confidence]
    lo, hi = q.bounds
    text = num(q.point * scale) if not q.is_range else \
        f"{num(q.point * scale)} ({num(lo * scale)}-{num(hi * scale)})"
    return Cell(text + mark, tuple(q.source), True, q.point * scale)


_OPTION = {"model": "-m", "chip": "-c", "chips": "-n", "weight_precision": "--precision"}
_SKIP = {"ask", "flash_attention", "dp_overlap", "tp_overlap"}


def command_line(q: object, chip: str | None = None) -> str:
    """The ``chipgap train`` or ``chipgap infer`` line that asks question ``q`` (a
    `TrainQuestion` or `ServeQuestion`): every field that differs from the record's default,
    with ``chip`` (say 'CHIP') in place of the question's chip.

    >>> from chipgap.catalog.question import TrainQuestion
    >>> command_line(TrainQuestion(model="llama-3.1-70b", chip="h100", chips=1024, seq_len=8192, samples=100))
    'chipgap train -m llama-3.1-70b -c h100 -n 1024 --seq-len 8192 --samples 100'
    """
    fields = q.model_dump(exclude_defaults=True, mode="json")
    cmd = "train" if getattr(q, "ask") == "train" else "infer"
    parts = ["chipgap", cmd, "-m", q.model, "-c", chip or q.chip, "-n", str(q.chips)]
    for k, v in fields.items():
        if k in _SKIP or k in ("model", "chip", "chips"):
            continue
        if k == "layout":
            parts += [x for lk, lv in v.items() for x in (f"--{lk}", str(lv))]
            continue
        name = _OPTION.get(k, "--" + k.replace("_", "-"))
        if isinstance(v, bool):
            parts.append(name if v else "--no-" + name[2:])
        else:
            parts += [name, f"{v:g}" if isinstance(v, float) else str(v)]
    return " ".join(parts)
