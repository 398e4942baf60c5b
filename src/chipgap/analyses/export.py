"""Export-control status of chips under each rule version, with reasons, margins and headroom.

Builds ``(chip, sample)`` arrays of the export metrics from the catalog (point estimates, range
bounds and Monte-Carlo samples of ranged specs), runs `chipgap.models.export` on them, and
returns tidy DataFrames.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from chipgap.catalog.catalog import Catalog
from chipgap.catalog.export_rules import METRIC_UNITS, ExportRule, Measure
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


TREATMENT_TEXT = {"none": "no licence", "notification": "no licence, prior notification (NAC)",
                  "licence": "licence required", "case-by-case": "licence, case-by-case review",
                  "denial": "licence, presumption of denial", "unknown": "undecided", "uncertain": "uncertain"}
"""What each treatment of an export to China means, in words."""
TREATMENT_SHORT = {"none": "-", "notification": "NAC", "licence": "licence", "case-by-case": "case-by-case",
                   "denial": "denial", "unknown": "?", "uncertain": "?"}


def covering_measures(rule: ExportRule, chip_ids: Sequence[str], metrics: dict[str, np.ndarray],
                      market: np.ndarray, index: np.ndarray) -> list[list[Measure]]:
    """Per chip, the measures of ``rule`` that cover it.

    A measure covers the chips named in its ``parts`` and, when written parametrically, every
    chip one of its ``covers`` prongs catches at the point estimates (only among chips whose
    classification is one of its ``eccns``, when it names any).

    Parameters
    ----------
    rule : ExportRule
    chip_ids : sequence of str
    metrics : dict of str to ndarray of shape (chip,)
        Export metrics at the point estimates (`chip_metrics`).
    market : ndarray of str, shape (chip,)
    index : ndarray of int, shape (chip,)
        Classification index of each chip under ``rule`` (`chipgap.models.export.classify`).

    Returns
    -------
    list of list of Measure
    """
    status = np.array([_status_name(rule, int(k)) for k in index])
    out: list[list[Measure]] = [[] for _ in chip_ids]
    for m in rule.measures:
        caught = np.zeros(len(chip_ids), dtype=bool)
        if m.covers:
            caught = ex.any_of([ex.prong_holds(p, metrics, market) for p in m.covers]) == 1
            if m.eccns:
                caught &= np.isin(status, m.eccns)
        for i, cid in enumerate(chip_ids):
            if cid in m.parts or caught[i]:
                out[i].append(m)
    return out


def china_treatment(rule: ExportRule, index: int, market: str,
                    measures: Sequence[Measure]) -> tuple[str, list[str]]:
    """How an export of a chip to China is treated under ``rule``, and the fees it bears.

    The chip's classification sets a treatment by market (``review_china``; ``licence`` where
    the rule does not state one, ``none`` when uncontrolled); a named-parts measure covering
    the chip then sets its own ``review``, or, without one, requires a licence for a chip the
    thresholds let through. Fee measures add their percentage.

    Returns
    -------
    treatment : {'none', 'notification', 'licence', 'case-by-case', 'denial', 'unknown'}
        ``unknown`` where a metric that decides the classification is not public and no named
        part settles it.
    fees : list of str
        ``"15% fee"`` for each fee measure covering the chip.

    Examples
    --------
    >>> import chipgap
    >>> cat = chipgap.load_catalog()
    >>> r = cat.rule("2026-01")
    >>> china_treatment(r, 0, "datacenter", [r.measures[0], r.measures[1]])
    ('case-by-case', ['25% fee'])
    """
    if index >= 0:
        review = rule.classifications[index].review_china
        treatment = (getattr(review, market) if review else None) or "licence"
    else:
        treatment = "unknown" if index == -2 else "none"
    fees = []
    for m in measures:
        if m.kind == "named-parts":
            treatment = m.review or ("licence" if treatment in ("none", "notification", "unknown") else treatment)
        elif m.kind == "fee" and m.percent is not None:
            fees.append(f"{m.percent.point:g}% fee")
    return treatment, fees


def _measures(measures: Sequence[Measure]) -> list[dict[str, Any]]:
    return [{"kind": m.kind, "name": m.name, "effect": m.effect, "review": m.review,
             "percent": m.percent.point if m.percent is not None else None} for m in measures]


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
        triggered_by, margins, measures, tpp_to_change_down, tpp_to_change_up, china_treatment,
        fees``. ``controlled`` is None where the status is uncertain (a range straddles a
        threshold) or unknown (a metric that decides it is not public). Named-part licence
        requirements (``measures`` of kind named-parts) make a chip controlled whatever its
        metrics. ``measures`` lists every measure covering the chip (named, or caught by a
        measure's parametric envelope); ``china_treatment`` is `china_treatment`'s answer.
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
        covering = covering_measures(rule, ids, point, market, idx)
        for i, cid in enumerate(ids):
            row = _row(rule, cid, i, idx[i], prongs[i], prong_ids, p_controlled[i],
                       point, low, high, down[i], up[i], covering[i])
            treatment, fees = china_treatment(rule, int(idx[i]), str(market[i]), covering[i])
            row["china_treatment"] = "uncertain" if row["classification"].startswith("uncertain") else treatment
            row["fees"] = fees
            rows.append(row)
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


def _row(rule, cid, i, index, prong_truth, prong_ids, p_ctrl, point, low, high, down, up, covering):
    measures = _measures(covering)
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


def export_status(catalog: Catalog, chips: Sequence[str] | None = None, rules: Sequence[str] | None = None,
                  samples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Every accelerator of the catalog under every rule version, with how an export to China
    is treated: the classification, the licence or notification it needs, and its fees.

    Parameters
    ----------
    catalog : Catalog
    chips : sequence of str, optional
        Chip ids or aliases; default every accelerator in the catalog (CPUs left out), so
        chips a user or a later catalog adds appear without a list to edit.
    rules : sequence of str, optional
        Rule versions; default all, in order of effective date.
    samples, seed : int
        Monte-Carlo draws of ranged specs (see `classify_chips`).

    Returns
    -------
    DataFrame
        `classify_chips`'s columns plus ``name, country, market, year, treatment, label,
        short``: ``treatment`` is `china_treatment`'s answer, or ``domestic`` for a chip made
        in China (US rules on exports to China do not apply to it; its classification says
        where it would stand); ``label`` states classification, treatment and fees in words,
        ``short`` in a few characters for wide tables (``a: denial``, ``b: NAC``,
        ``named: licence +15% fee``, ``-``). Rows run foreign chips first, then by year.
    """
    ids = [catalog.resolve("chip", c) for c in chips] if chips else \
        [c.id for c in catalog.chips.values() if c.kind == "accelerator"]
    df = classify_chips(catalog, ids, rules, samples, seed)
    recs = {i: catalog.chip(i) for i in ids}
    df["name"] = df.chip.map(lambda i: recs[i].name)
    df["country"] = df.chip.map(lambda i: recs[i].country)
    df["market"] = df.chip.map(lambda i: recs[i].market)
    df["year"] = df.chip.map(lambda i: recs[i].year)
    df["treatment"] = np.where(df.country == "CN", "domestic", df.china_treatment)
    df["label"] = [_label(r) for r in df.itertuples()]
    df["short"] = [_short(r) for r in df.itertuples()]
    order = {c: (recs[c].country == "CN", recs[c].year or 9999, c) for c in ids}
    return df.sort_values(["chip", "effective"], key=lambda col: col.map(order) if col.name == "chip" else col,
                          kind="stable").reset_index(drop=True)


def _guidance(r) -> list[str]:  # noqa: ANN001
    return [m["name"] for m in r.measures if m["kind"] == "guidance"]


def _label(r) -> str:  # noqa: ANN001
    if r.treatment == "domestic":
        text = f"{r.classification} if it were US-origin" if r.controlled else \
            r.triggered_by if r.classification == "unknown" else r.classification
        return "; ".join([f"made in China: {text}", *_guidance(r)])
    if r.treatment == "uncertain":
        return f"{r.classification} (P controlled = {r.probability_controlled:.0%})"
    if r.treatment == "unknown":
        return r.triggered_by
    cls = "named part" if r.classification.startswith("licence: named") else r.classification
    head = "not controlled" if r.treatment == "none" else f"{cls}: {TREATMENT_TEXT[r.treatment]}"
    return "; ".join([head, *r.fees])


def _short(r) -> str:  # noqa: ANN001
    if r.treatment in ("uncertain", "unknown"):
        p = r.probability_controlled
        return "?" if p is None or np.isnan(p) else f"? P={p:.0%}"
    cls = r.classification
    head = "named" if cls.startswith("licence: named") else cls.removeprefix("3A090.") if cls.startswith("3A090") \
        else "?" if cls == "unknown" else "-"
    if r.treatment == "domestic":
        return head + (" (CN)" if head != "-" else "")
    if r.treatment == "none":
        return "-"
    return " ".join([f"{head}: {TREATMENT_SHORT[r.treatment]}", *(f"+{f}" for f in r.fees)])


def case_by_case_ceiling(rule: ExportRule) -> tuple[float, str]:
    """The TPP below which a controlled data-centre chip may get a case-by-case licence under
    ``rule``'s parametric measures, with the other conditions of that envelope (NaN, "" if none).

    Examples
    --------
    >>> import chipgap
    >>> case_by_case_ceiling(chipgap.load_catalog().rule("2026-01"))
    (21000.0, 'memory_bw_gbps < 6500')
    """
    ops = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}
    ceiling, others = np.inf, []
    for m in rule.measures:
        if m.review != "case-by-case":
            continue
        for p in m.covers:
            for c in p.all_of:
                if c.metric == "tpp" and c.op in ("lt", "le"):
                    ceiling = min(ceiling, c.threshold)
                elif c.metric != "tpp":
                    others.append(f"{c.metric} {ops[c.op]} {c.threshold:g}")
    return (float(ceiling), ", ".join(dict.fromkeys(others))) if np.isfinite(ceiling) else (np.nan, "")


def classification_grid(catalog: Catalog, rule: str, density: np.ndarray, tpp: np.ndarray,
                        market: str = "datacenter") -> np.ndarray:
    """Which of ``rule``'s classifications a chip at each (performance density, TPP) point falls
    in (-1: none), links and memory assumed fast enough for every link test: the regions a TPP
    chart shades.

    Parameters
    ----------
    catalog : Catalog
    rule : str
        A rule version.
    density, tpp : ndarray
        Axes of the grid (TPP per mm2, TPP).
    market : {'datacenter', 'consumer', 'workstation'}, default='datacenter'

    Returns
    -------
    ndarray of shape (len(tpp), len(density))

    Examples
    --------
    >>> import chipgap
    >>> classification_grid(chipgap.load_catalog(), "2023-10", np.array([1.0]), np.array([1000.0, 5000.0])).ravel().tolist()
    [-1, 0]
    """
    r = catalog.rule(rule)
    grid_pd, grid_tpp = np.meshgrid(np.asarray(density, dtype=float), np.asarray(tpp, dtype=float))
    fast = np.full_like(grid_tpp, 1e9)
    idx, _ = ex.classify(r, {"tpp": grid_tpp, "performance_density": grid_pd, "io_bw_gbps_bidir": fast,
                             "memory_bw_gbps": fast, "scaleup_bw_gbps_bidir": fast}, np.array(market))
    return np.asarray(idx)


def headroom_curves(catalog: Catalog, die_area_mm2: np.ndarray | None = None,
                    rules: Sequence[str] | None = None, market: str = "datacenter") -> pd.DataFrame:
    """Headroom over die area under each rule version: the most TPP a die may have and stay
    uncontrolled (`headroom`), with rules whose curves coincide marked as one.

    Parameters
    ----------
    catalog : Catalog
    die_area_mm2 : ndarray, optional
        Applicable die areas; default 60 points from 100 to 3,000 mm2, log-spaced.
    rules : sequence of str, optional
        Default every rule version, in order of effective date.
    market : {'datacenter', 'consumer', 'workstation'}, default='datacenter'

    Returns
    -------
    DataFrame
        `headroom`'s columns plus ``same_as`` (the earliest rule with an identical curve) and
        ``case_by_case_max_tpp``, ``case_by_case_condition`` (see `case_by_case_ceiling`).

    Examples
    --------
    >>> import chipgap
    >>> h = headroom_curves(chipgap.load_catalog(), [814.0])
    >>> h.set_index("rule").loc[["2022-10", "2023-10", "2026-01"], ["max_tpp", "same_as"]].values.tolist()
    [[4800.0, '2022-10'], [2400.0, '2023-10'], [2400.0, '2023-10']]
    """
    areas = np.geomspace(100, 3000, 60) if die_area_mm2 is None else np.asarray(die_area_mm2, dtype=float)
    frames, seen = [], {}
    for rid in rules or list(catalog.rules):
        h = headroom(catalog, rid, areas, market)
        key = tuple(np.round(h.max_tpp.to_numpy(), 6))
        ceiling, condition = case_by_case_ceiling(catalog.rule(rid))
        frames.append(h.assign(same_as=seen.setdefault(key, rid), case_by_case_max_tpp=ceiling,
                               case_by_case_condition=condition))
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class ExportOverview:
    """What the report's export-control section shows, computed once.

    Attributes
    ----------
    status : DataFrame
        `export_status` of every accelerator under every rule version.
    curves : DataFrame
        `headroom_curves` over die area (data-centre parts).
    at_h100_die : DataFrame
        `headroom_curves` at 814 mm2, the H100's (and H20's) die.
    """

    status: pd.DataFrame
    curves: pd.DataFrame
    at_h100_die: pd.DataFrame


def export_overview(catalog: Catalog, samples: int = 2000, seed: int = 0) -> ExportOverview:
    """Status of every accelerator under every rule, and headroom over die area (see `ExportOverview`)."""
    return ExportOverview(export_status(catalog, samples=samples, seed=seed), headroom_curves(catalog),
                          headroom_curves(catalog, [814.0]))
