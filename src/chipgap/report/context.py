"""The inputs every report section shares: the catalog, the Monte-Carlo settings, and the
workload questions (which chips, which models, which sizes) stated once."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from chipgap.catalog.catalog import Catalog
from chipgap.catalog.quantity import Quantity
from chipgap.catalog.scenario import Scenario, read_scenario
from chipgap.report.document import Cell
from chipgap.text import num

SPEC_CHIPS = ("huawei-ascend-910c", "huawei-ascend-910b", "nvidia-h100-sxm", "nvidia-h800-sxm",
              "nvidia-h20", "nvidia-h200-sxm", "nvidia-b200", "huawei-ascend-950pr",
              "cambricon-mlu590", "baidu-kunlun-p800")
"""Chips in the spec table: the article's pair, NVIDIA's China parts, what came next on each side."""

RULES = ("2022-10", "2023-10", "2025-04")
"""Rule versions claim 1 checks the H100 and A100 under (the export section covers every version)."""

REPORT_SCENARIO = "report"
"""The bundled scenario that holds the report's performance questions (train-70b, serve-70b,
decode-r1-*): the same question records the CLI builds, asked of each chip."""


@functools.cache
def asks() -> dict[str, Any]:
    """The report's performance questions by id (`chipgap.catalog.scenario.TrainAsk` or
    `ServeAsk`: ``.chips``, ``.n_chips``, ``.question(chip, samples, seed)``)."""
    return {q.id: q for q in read_scenario(REPORT_SCENARIO).questions}


MOE_ASKS = ("decode-r1-910c", "decode-r1-hopper", "decode-r1-nvl72")
"""DeepSeek-R1 decode instances: CM384's EP320 over 160 packages (W8A8, no FP8 on the 910C),
DeepSeek's 144-GPU decode unit on H100/H800/H20, one NVL72 rack."""

SYSTEMS = ("huawei-cloudmatrix-384", "nvidia-gb200-nvl72", "nvidia-hgx-h100", "nvidia-hgx-h800",
           "nvidia-hgx-h20")
MATCH_H100S = 1024
CPU_CHIPS = ("zhaoxin-kh-40000", "intel-xeon-8480", "amd-epyc-9654")
CPU_MODEL = "deepseek-r1-distill-qwen-7b"
TCO_REGION = "cn"


@dataclass
class Context:
    """What sections read: the catalog, the draws, and results sections share."""

    catalog: Catalog
    samples: int = 2000
    seed: int = 0
    scenario: Scenario | None = None
    catalog_dir: Any = None
    shared: dict[str, Any] = field(default_factory=dict)


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
    return Cell(text + mark, tuple(q.source), True)
