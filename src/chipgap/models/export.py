"""Export-control metrics and tests as pure array functions.

Truth values are three-valued float arrays: 1.0 (holds), 0.0 (does not), NaN (unknown, e.g. a
performance-density test on a chip whose die area is not public). Every function broadcasts
over leading axes, typically ``(chip, sample)``.

References
----------
15 CFR 774 Supp. 1, ECCN 3A090 Technical Notes, as amended by 88 FR 73458 (2023-10-25):
TPP = 2 x MacTOPS x bit length, summed over processing units, highest over precisions;
performance density = TPP / applicable die area.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from chipgap.catalog.export_rules import Condition, ExportRule, Prong

INF = np.inf


def tpp(peak_tops: np.ndarray, bit_length: np.ndarray) -> np.ndarray:
    """Total processing performance: the highest dense peak x bit length over precisions.

    Parameters
    ----------
    peak_tops : ndarray of shape (..., precision)
        Dense peak per precision in 10^12 operations/s (a datasheet's TFLOPS or TOPS is already
        2 x MacTOPS); NaN where the chip lacks the precision.
    bit_length : ndarray of shape (precision,)

    Returns
    -------
    ndarray of shape (...)
        NaN where every precision is unknown.
    """
    scores = np.asarray(peak_tops, dtype=float) * bit_length
    known = ~np.isnan(scores)
    return np.where(known.any(axis=-1), np.nanmax(np.where(known, scores, -INF), axis=-1), np.nan)


def compare(values: np.ndarray, op: str, threshold: float) -> np.ndarray:
    """``values op threshold`` as 1.0 / 0.0, NaN where the value is unknown."""
    values = np.asarray(values, dtype=float)
    result = {"ge": values >= threshold, "gt": values > threshold,
              "le": values <= threshold, "lt": values < threshold}[op]
    return np.where(np.isnan(values), np.nan, result.astype(float))


def all_of(truths: Sequence[np.ndarray]) -> np.ndarray:
    """Three-valued AND: 0 if any is 0, else NaN if any is unknown, else 1."""
    stack = np.broadcast_arrays(*truths)
    false = np.any([t == 0 for t in stack], axis=0)
    unknown = np.any([np.isnan(t) for t in stack], axis=0)
    return np.where(false, 0.0, np.where(unknown, np.nan, 1.0))


def any_of(truths: Sequence[np.ndarray]) -> np.ndarray:
    """Three-valued OR: 1 if any is 1, else NaN if any is unknown, else 0."""
    stack = np.broadcast_arrays(*truths)
    true = np.any([t == 1 for t in stack], axis=0)
    unknown = np.any([np.isnan(t) for t in stack], axis=0)
    return np.where(true, 1.0, np.where(unknown, np.nan, 0.0))


def prong_holds(prong: Prong, metrics: Mapping[str, np.ndarray], market: np.ndarray) -> np.ndarray:
    """Whether ``prong`` catches each chip: its market is covered and every condition holds.

    ``market`` is an array of market names broadcastable against the metrics.
    """
    in_market = np.isin(market, prong.markets).astype(float)
    return all_of([in_market, *(compare(metrics[c.metric], c.op, c.threshold) for c in prong.all_of)])


def classify(rule: ExportRule, metrics: Mapping[str, np.ndarray],
             market: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first classification of ``rule`` that catches each chip.

    Returns
    -------
    index : ndarray of int, shape (...)
        Index into ``rule.classifications`` of the status, -1 when no classification holds
        (not controlled), -2 when it cannot be decided (an unknown metric matters).
    prongs : ndarray of shape (..., n_prongs)
        Truth of every prong, classifications in order, for explanations.
    """
    shape = np.broadcast_shapes(*(np.shape(v) for v in metrics.values()), np.shape(market))
    index = np.full(shape, -1)
    decided = np.zeros(shape, dtype=bool)
    prong_truths = []
    for i, cls in enumerate(rule.classifications):
        truths = [prong_holds(p, metrics, market) for p in cls.prongs]
        prong_truths += truths
        caught = any_of(truths)
        index = np.where(~decided & (caught == 1), i, index)
        index = np.where(~decided & np.isnan(caught), -2, index)
        decided |= (caught == 1) | np.isnan(caught)
    prongs = np.stack(prong_truths, axis=-1) if prong_truths else np.zeros((*shape, 0))
    return index, prongs


def _tpp_interval(cond: Condition, area_mm2: np.ndarray,
                  fixed: Mapping[str, np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
    """TPP values ``[lo, hi)`` for which ``cond`` holds, at a given die area.

    A condition on another metric holds everywhere or nowhere, by its fixed value; a metric not
    given is assumed to meet its threshold (the design could be caught by it).
    """
    zero, inf = np.zeros_like(area_mm2), np.full_like(area_mm2, INF)
    if cond.metric in ("tpp", "performance_density"):
        t = cond.threshold * (area_mm2 if cond.metric == "performance_density" else 1.0)
        return (t + zero, inf) if cond.op in ("ge", "gt") else (zero, t + zero)
    value = fixed.get(cond.metric)
    if value is None:
        return zero, inf
    holds = compare(value, cond.op, cond.threshold) == 1
    return zero, np.where(holds, inf, 0.0)


def controlled_intervals(rule: ExportRule, area_mm2: np.ndarray, market: str,
                         fixed: Mapping[str, np.ndarray | None]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per prong, the TPP interval ``[lo, hi)`` it catches at each die area.

    Returns
    -------
    lo, hi : ndarray of shape (..., n_prongs)
        Empty intervals have ``lo >= hi``.
    ids : list of str
        The prong ids, in the same order.
    """
    area_mm2 = np.asarray(area_mm2, dtype=float)
    los, his, ids = [], [], []
    for cls in rule.classifications:
        for prong in cls.prongs:
            lo, hi = np.zeros_like(area_mm2), np.full_like(area_mm2, INF)
            if market not in prong.markets:
                hi = np.zeros_like(area_mm2)
            for cond in prong.all_of:
                c_lo, c_hi = _tpp_interval(cond, area_mm2, fixed)
                lo, hi = np.maximum(lo, c_lo), np.minimum(hi, c_hi)
            los.append(lo), his.append(hi), ids.append(prong.id)
    if not ids:
        return np.zeros((*area_mm2.shape, 0)), np.zeros((*area_mm2.shape, 0)), ids
    return np.stack(los, -1), np.stack(his, -1), ids


def is_caught(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Whether TPP ``x`` (shape (..., k)) falls in any interval ``lo``/``hi`` (shape (..., p)).

    Returns an array of shape (..., k).
    """
    x = np.asarray(x, dtype=float)[..., :, None]  # (..., k, 1)
    return np.any((lo[..., None, :] <= x) & (x < hi[..., None, :]), axis=-1)


def max_uncontrolled_tpp(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The supremum of TPP values caught by no interval, and the prong that bounds it.

    Values at or above the supremum are all controlled; just below it a chip escapes. Returns
    ``(inf, -1)`` where no prong has an upper tail (the rule sets no TPP ceiling).

    Returns
    -------
    sup : ndarray of shape (...)
    binding : ndarray of int, shape (...)
        Index of the prong whose lower bound is the supremum.
    """
    nonempty = lo < hi
    tail = nonempty & np.isinf(hi)
    sup = np.where(tail.any(-1), np.min(np.where(tail, lo, INF), axis=-1), INF)
    for _ in range(lo.shape[-1]):  # extend downwards through intervals that touch the tail
        touching = nonempty & (hi >= sup[..., None]) & (lo < sup[..., None])
        sup = np.minimum(sup, np.min(np.where(touching, lo, INF), axis=-1))
    at_sup = nonempty & (lo == sup[..., None])
    binding = np.where(np.isinf(sup), -1, np.argmax(at_sup, axis=-1))
    return sup, binding


def nearest_status_change(tpp_now: np.ndarray, lo: np.ndarray,
                          hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The TPP just below and just above ``tpp_now`` at which the control status flips.

    Returns
    -------
    down, up : ndarray of shape (...)
        ``down``: the supremum of the nearest lower TPP region with the other status (NaN if
        none); ``up``: the lowest higher TPP with the other status (NaN if none).
    """
    tpp_now = np.asarray(tpp_now, dtype=float)
    edges = np.concatenate([lo, np.where(np.isinf(hi), np.nan, hi)], axis=-1)  # (..., 2p)
    now = is_caught(tpp_now[..., None], lo, hi)[..., 0]  # (...)
    status_at = is_caught(edges, lo, hi)  # (..., 2p)
    below = is_caught(edges * (1 - 1e-12), lo, hi)
    flips_up = (edges > tpp_now[..., None]) & (status_at != now[..., None])
    up = np.min(np.where(flips_up, edges, INF), axis=-1)
    flips_down = (edges <= tpp_now[..., None]) & (below != now[..., None]) & (edges > 0)
    down = np.max(np.where(flips_down, edges, -INF), axis=-1)
    return np.where(np.isinf(down), np.nan, down), np.where(np.isinf(up), np.nan, up)
