"""Spec-by-spec comparison of chips, with each spec's ratio to a baseline chip.

Ranges propagate as intervals: the ratio of ``[a_lo, a_hi]`` to ``[b_lo, b_hi]`` is
``[a_lo / b_hi, a_hi / b_lo]``, and its point is the ratio of the point estimates.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from chipgap.catalog.catalog import Catalog

SPECS: dict[str, tuple[str, str]] = {
    "compute_die_count": ("compute dies", "dies"),
    "compute_die_area_mm2": ("die area, each", "mm2"),
    "transistors_billion": ("transistors", "billion"),
    "fp64_dense_tflops": ("FP64 dense", "TFLOPS"),
    "fp32_dense_tflops": ("FP32 dense", "TFLOPS"),
    "tf32_dense_tflops": ("TF32 dense", "TFLOPS"),
    "bf16_dense_tflops": ("BF16 dense", "TFLOPS"),
    "fp16_dense_tflops": ("FP16 dense", "TFLOPS"),
    "fp8_dense_tflops": ("FP8 dense", "TFLOPS"),
    "int8_dense_tops": ("INT8 dense", "TOPS"),
    "fp4_dense_tflops": ("FP4 dense", "TFLOPS"),
    "memory_capacity_gib": ("memory", "GiB"),
    "memory_bw_gbps": ("memory bandwidth", "GB/s"),
    "scaleup_bw_gbps_unidir": ("scale-up link", "GB/s each way"),
    "scaleout_bw_gbps_unidir": ("scale-out NIC", "GB/s each way"),
    "tdp_w": ("power (TDP)", "W"),
    "price_usd": ("price", "USD"),
}
"""The chip specs a comparison shows, in order: field -> (label, unit)."""

COLUMNS = ["spec", "unit", "chip", "point", "low", "high", "is_range", "confidence", "source",
           "ratio_point", "ratio_low", "ratio_high"]


def compare_chips(catalog: Catalog, chips: Sequence[str], baseline: str | None = None,
                  specs: Sequence[str] | None = None) -> pd.DataFrame:
    """Compare chips spec by spec, with each value's ratio to the baseline chip's.

    Parameters
    ----------
    catalog : Catalog
    chips : sequence of str
        Two or more chip ids or aliases.
    baseline : str, optional
        The chip every ratio divides by; default the last of ``chips``.
    specs : sequence of str, optional
        Chip fields to compare; default every field of `SPECS`.

    Returns
    -------
    DataFrame
        Tidy, one row per (spec, chip) where the chip has the spec, with columns
        ``spec, unit, chip, point, low, high, is_range, confidence, source, ratio_point,
        ratio_low, ratio_high`` (ratios NaN where the baseline lacks the spec).

    Examples
    --------
    >>> import chipgap
    >>> from chipgap.analyses.compare import compare_chips
    >>> df = compare_chips(chipgap.load_catalog(), ["h20", "h100"])
    >>> row = df[(df.spec == "bf16_dense_tflops") & (df.chip == "nvidia-h20")].iloc[0]
    >>> round(float(row.ratio_point), 3)
    0.15
    """
    ids = [catalog.resolve("chip", c) for c in chips]
    base_id = catalog.resolve("chip", baseline) if baseline else ids[-1]
    if base_id not in ids:
        ids.append(base_id)
    base = catalog.chip(base_id)
    rows = []
    for spec in specs or SPECS:
        ref = getattr(base, spec)
        for cid in ids:
            q = getattr(catalog.chip(cid), spec)
            if q is None:
                continue
            lo, hi = q.bounds
            row = dict(spec=spec, unit=SPECS.get(spec, ("", ""))[1], chip=cid, point=q.point, low=lo,
                       high=hi, is_range=q.is_range, confidence=q.confidence,
                       source=", ".join(q.source), ratio_point=float("nan"),
                       ratio_low=float("nan"), ratio_high=float("nan"))
            if ref is not None:
                rlo, rhi = ref.bounds
                row.update(ratio_point=q.point / ref.point, ratio_low=lo / rhi, ratio_high=hi / rlo)
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)

