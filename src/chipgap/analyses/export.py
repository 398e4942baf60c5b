"""Export-control status of chips under each rule version, with reasons, margins and headroom.

Builds ``(chip, sample)`` arrays of the export metrics from the catalog (point estimates, range
bounds and Monte-Carlo samples of ranged specs), runs `chipgap.models.export` on them, and
returns tidy DataFrames.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from chipgap.catalog.catalog import Catalog
from chipgap.catalog.export_rules import METRIC_UNITS, ExportRule
from chipgap.catalog.schema import BIT_LENGTH, PRECISIONS, Chip
from chipgap.errors import InputError
from chipgap.models import export as ex
from chipgap.models.sampling import Sampler

BITS = np.array([BIT_LENGTH[p] for p in PRECISIONS], dtype=float)


def applicable_area_mm2(catalog: Catalog, chip: Chip, which: str = "point") -> float:
    """Logic die area that counts for performance density (NaN when not public).

    Counts compute dies and other logic dies made on a non-planar (FinFET/GAA) process; ``which``
    is 'point', 'low' or 'high'.
    """
    if chip.compute_die_area_mm2 is None:
        return np.nan
    if chip.process_node and catalog.node(chip.process_node).transistor == "planar":
        return np.nan
    pick = (lambda q: q.point) if which == "point" else (lambda q: q.bounds[which == "high"])
    count = pick(chip.compute_die_count) if chip.compute_die_count else 1.0
    io = pick(chip.io_die_area_mm2) if chip.io_die_area_mm2 else 0.0
    return count * pick(chip.compute_die_area_mm2) + io


def io_bw_gbps_bidir(chip: Chip, which: str = "point") -> float:
    """Aggregate bidirectional transfer rate to other ICs: scale-up links plus the host link."""
    parts = [q for q in (chip.scaleup_bw_gbps_bidir, chip.host_io_bw_gbps_bidir) if q is not None]
    if not parts:
        return np.nan
    return sum(q.point if which == "point" else q.bounds[which == "high"] for q in parts)


def chip_metrics(catalog: Catalog, chips: Sequence[Chip], which: str = "point") -> dict[str, np.ndarray]:
    """Export metrics of ``chips`` as arrays of shape (chip,), at their point, low or high."""
    pick = (lambda q: q.point) if which == "point" else (lambda q: q.bounds[which == "high"])
    peaks = np.array([[pick(q) if (q := getattr(c, f)) is not None else np.nan
                       for f in PRECISIONS.values()] for c in chips])  # (chip, precision)
    tpp = ex.tpp(peaks, BITS)
    # PD is lowest with the most area and least TPP: pair low TPP with high area, and so on.
    area_which = {"point": "point", "low": "high", "high": "low"}[which]
    area = np.array([applicable_area_mm2(catalog, c, area_which) for c in chips])
    return {"tpp": tpp, "performance_density": tpp / area,
            "io_bw_gbps_bidir": np.array([io_bw_gbps_bidir(c, which) for c in chips]),
            "memory_bw_gbps": np.array([pick(c.memory_bw_gbps) if c.memory_bw_gbps else np.nan for c in chips]),
            "scaleup_bw_gbps_bidir": np.array([pick(c.scaleup_bw_gbps_bidir) if c.scaleup_bw_gbps_bidir
                                               else np.nan for c in chips]),
            "area_mm2": area}


def chip_metric_samples(catalog: Catalog, chips: Sequence[Chip], draw: Sampler) -> dict[str, np.ndarray]:
    """Monte-Carlo samples of the export metrics, arrays of shape (chip, sample); each chip's
    specs are drawn on their own keyed streams (``draw``), as every other analysis draws them."""
    peaks = np.stack([np.stack([draw(getattr(c, f), f"{c.id}.{f}") for f in PRECISIONS.values()],
                               axis=-1) for c in chips])  # (chip, sample, precision)
    tpp = ex.tpp(peaks, BITS)
    area = np.stack([_sample_area(catalog, c, draw) for c in chips])
    fixed = chip_metrics(catalog, chips)
    return {"tpp": tpp, "performance_density": tpp / area,
            **{k: np.repeat(fixed[k][:, None], draw.n, axis=1)
               for k in ("io_bw_gbps_bidir", "memory_bw_gbps", "scaleup_bw_gbps_bidir")}}


def _sample_area(catalog: Catalog, chip: Chip, draw: Sampler) -> np.ndarray:
    n = draw.n
    if np.isnan(applicable_area_mm2(catalog, chip)):
        return np.full(n, np.nan)
    count = draw(chip.compute_die_count, f"{chip.id}.compute_die_count") if chip.compute_die_count else np.ones(n)
    io = draw(chip.io_die_area_mm2, f"{chip.id}.io_die_area_mm2") if chip.io_die_area_mm2 else np.zeros(n)
    return np.round(count) * draw(chip.compute_die_area_mm2, f"{chip.id}.compute_die_area_mm2") + io


def _status_name(rule: ExportRule, index: int) -> str:
    return {-1: "not controlled", -2: "unknown"}.get(index) or rule.classifications[index].eccn


def _margins(rule: ExportRule, metrics: dict[str, np.ndarray], i: int) -> list[dict[str, Any]]:
    """Distance of chip ``i`` to every threshold of ``rule``, in units and percent."""
    out, seen = [], set()
    for cls in rule.classifications:
        for prong in cls.prongs:
            for c in prong.all_of:
                key = (c.metric, c.op, c.threshold)
                value = float(metrics[c.metric][i])
                if key in seen or np.isnan(value):
                    continue
                seen.add(key)
                out.append({"test": prong.id, "metric": c.metric, "unit": METRIC_UNITS[c.metric],
                            "op": c.op, "threshold": c.threshold, "value": value,
                            "margin": value - c.threshold,
                            "margin_pct": 100 * (value / c.threshold - 1) if c.threshold else None})
    return out


def _measures(rule: ExportRule, chip_id: str) -> list[dict[str, str]]:
    return [{"kind": m.kind, "name": m.name, "effect": m.effect}
            for m in rule.measures if chip_id in m.parts]


def classify_chips(catalog: Catalog, chips: Sequence[str] | None = None,
                   rules: Sequence[str] | None = None, samples: int = 2000,
                   seed: int = 0) -> pd.DataFrame:
    """Classify chips under rule versions, explaining each status.

    Parameters
    ----------
    catalog : Catalog
    chips : sequence of str, optional
        Chip ids or aliases; default every accelerator and CPU in the catalog.
    rules : sequence of str, optional
        Rule versions (``2023-10``); default all, in order of effective date.
    samples : int, default=2000
        Monte-Carlo samples of ranged specs, for the probability of being controlled.
    seed : int, default=0

    Returns
    -------
    DataFrame
        One row per (chip, rule) with ``chip, rule, effective, tpp, tpp_low, tpp_high,
        performance_density, performance_density_low, performance_density_high,
        io_bw_gbps_bidir, area_mm2, classification, controlled, probability_controlled,
        triggered_by, margins, measures, tpp_to_change_down, tpp_to_change_up``.
        ``controlled`` is None where the status is uncertain (a range straddles a threshold)
        or unknown (a metric that decides it is not public). Named-part licence requirements
        (``measures`` of kind named-parts) make a chip controlled whatever its metrics.
    """
    ids = [catalog.resolve("chip", c) for c in chips] if chips else list(catalog.chips)
    recs = [catalog.chip(i) for i in ids]
    rule_list = [catalog.rule(r) for r in rules] if rules else list(catalog.rules.values())
    point, low, high = (chip_metrics(catalog, recs, w) for w in ("point", "low", "high"))
    sampled = chip_metric_samples(catalog, recs, Sampler(max(samples, 1), seed))
    market = np.array([c.market for c in recs])
    rows = []
    for rule in rule_list:
        idx, prongs = ex.classify(rule, point, market)
        s_idx, _ = ex.classify(rule, sampled, market[:, None])
        p_controlled = np.where((s_idx == -2).any(axis=1), np.nan, (s_idx >= 0).mean(axis=1))
        prong_ids = [p.id for c in rule.classifications for p in c.prongs]
        down, up = _status_changes(rule, point, market)
        for i, cid in enumerate(ids):
            rows.append(_row(rule, cid, i, idx[i], prongs[i], prong_ids, p_controlled[i],
                             point, low, high, down[i], up[i]))
    return pd.DataFrame(rows)


def _status_changes(rule: ExportRule, m: dict[str, np.ndarray], market: np.ndarray):
    """Per chip, the TPP (at its own die area and links) where its status would flip."""
    down, up = np.full(len(market), np.nan), np.full(len(market), np.nan)
    for mk in np.unique(market):
        sel = market == mk
        fixed = {k: m[k][sel] for k in ("io_bw_gbps_bidir", "memory_bw_gbps", "scaleup_bw_gbps_bidir")}
        lo, hi, _ = ex.controlled_intervals(rule, m["area_mm2"][sel], str(mk), fixed)
        down[sel], up[sel] = ex.nearest_status_change(m["tpp"][sel], lo, hi)
    uses_pd = any(c.metric == "performance_density" for cls in rule.classifications
                  for p in cls.prongs for c in p.all_of)
    if uses_pd:  # without a die area the flip points cannot be placed
        unknown = np.isnan(m["area_mm2"])
        down[unknown], up[unknown] = np.nan, np.nan
    return down, up


def _row(rule, cid, i, index, prong_truth, prong_ids, p_ctrl, point, low, high, down, up):
    measures = _measures(rule, cid)
    named = [m for m in measures if m["kind"] == "named-parts"]
    status = _status_name(rule, int(index))
    certain = np.isnan(p_ctrl) or p_ctrl in (0.0, 1.0)
    if named and index < 0:
        status, controlled, p_ctrl = "licence: named part", True, 1.0
    elif index == -2:
        controlled = None
    elif not certain:
        status, controlled = f"uncertain ({status} at point estimate)", None
    else:
        controlled = bool(index >= 0)
    triggered = [pid for pid, t in zip(prong_ids, prong_truth) if t == 1]
    tpp = float(point["tpp"][i])
    return {
        "chip": cid, "rule": rule.id, "effective": rule.effective,
        "tpp": tpp, "tpp_low": float(low["tpp"][i]), "tpp_high": float(high["tpp"][i]),
        "performance_density": float(point["performance_density"][i]),
        "performance_density_low": float(low["performance_density"][i]),
        "performance_density_high": float(high["performance_density"][i]),
        "io_bw_gbps_bidir": float(point["io_bw_gbps_bidir"][i]),
        "area_mm2": float(point["area_mm2"][i]),
        "classification": status, "controlled": controlled,
        "probability_controlled": None if np.isnan(p_ctrl) else float(p_ctrl),
        "triggered_by": ", ".join(triggered) or _why_not(index, named, point, i),
        "margins": _margins(rule, point, i), "measures": measures,
        "tpp_to_change_down": None if np.isnan(down) else float(down),
        "tpp_to_change_up": None if np.isnan(up) else float(up),
    }


def _why_not(index: int, named: list[dict[str, str]], point: dict[str, np.ndarray], i: int) -> str:
    if named:
        return "measure: " + named[0]["name"]
    if index != -2:
        return "no test holds"
    missing = [m for m in ("area_mm2", "io_bw_gbps_bidir", "tpp") if np.isnan(point[m][i])]
    names = {"area_mm2": "die area", "io_bw_gbps_bidir": "chip-to-chip bandwidth", "tpp": "throughput"}
    return "undecided: no public " + " or ".join(names[m] for m in missing)


def headroom(catalog: Catalog, rule: str, die_area_mm2: float | np.ndarray,
             market: str = "datacenter", io_bw_gbps_bidir: float | None = None,
             memory_bw_gbps: float | None = None) -> pd.DataFrame:
    """The most dense throughput a chip of a given die area can have and stay uncontrolled.

    Parameters
    ----------
    catalog : Catalog
    rule : str
        Rule version (``2023-10``).
    die_area_mm2 : float or array-like
        Applicable (non-planar logic) die area; an array gives one row per area.
    market : {'datacenter', 'consumer', 'workstation'}, default='datacenter'
    io_bw_gbps_bidir, memory_bw_gbps : float, optional
        The design's links and memory bandwidth; a metric not given is assumed to meet any
        threshold on it (the worst case for the designer).

    Returns
    -------
    DataFrame
        Columns ``rule, die_area_mm2, market, max_tpp, binding_test`` and
        ``max_dense_<precision>`` (TFLOPS or TOPS) for each precision. ``max_tpp`` is a
        supremum: a chip must stay strictly below it.

    Examples
    --------
    >>> import chipgap
    >>> from chipgap.analyses.export import headroom
    >>> h = headroom(chipgap.load_catalog(), "2023-10", 814.0)
    >>> float(h.max_tpp[0]), h.binding_test[0]
    (2400.0, '3A090.b.1')
    """
    if market not in ("datacenter", "consumer", "workstation"):
        raise InputError("market", "one of datacenter, consumer, workstation", market)
    r = catalog.rule(rule)
    area = np.atleast_1d(np.asarray(die_area_mm2, dtype=float))
    if np.any(~(area > 0)) or np.any(~np.isfinite(area)):
        raise InputError("die_area_mm2", "a positive number of mm2", die_area_mm2)
    for name, value in (("io_bw_gbps_bidir", io_bw_gbps_bidir), ("memory_bw_gbps", memory_bw_gbps)):
        if value is not None and not value >= 0:
            raise InputError(name, "zero or a positive number of GB/s", value)
    fixed = {"io_bw_gbps_bidir": io_bw_gbps_bidir, "memory_bw_gbps": memory_bw_gbps}
    lo, hi, ids = ex.controlled_intervals(r, area, market, fixed)
    sup, binding = ex.max_uncontrolled_tpp(lo, hi)
    df = pd.DataFrame({"rule": r.id, "die_area_mm2": area, "market": market, "max_tpp": sup,
                       "binding_test": [ids[b] if b >= 0 else "none" for b in binding]})
    for name, bits in zip(PRECISIONS, BITS):
        df[f"max_dense_{name}"] = sup / bits
    return df
