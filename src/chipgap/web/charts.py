"""Vega-Lite specifications of the workbench's charts (plain dicts; the page renders them with
vega-embed). Data go inline, bounded in size."""

from __future__ import annotations

from typing import Any

import pandas as pd

from chipgap.jsondata import jsonable

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
"""A name, never fetched: the spec is compiled in the page."""
MAX_POINTS = 4000


def _base(title: str, width: int = 560, height: int = 300) -> dict[str, Any]:
    return {"$schema": SCHEMA, "title": title, "width": width, "height": height,
            "config": {"font": "system-ui, sans-serif", "view": {"stroke": None}}}


def bars(parts: dict[str, float], title: str, unit: str) -> dict[str, Any]:
    """Horizontal bars, one per part (a step-time or memory breakdown)."""
    rows = [{"part": k, unit: v} for k, v in parts.items() if v is not None and v == v]
    return {**_base(title, 480, 18 * max(len(rows), 1)), "data": {"values": jsonable(rows)},
            "mark": {"type": "bar", "tooltip": True},
            "encoding": {"y": {"field": "part", "type": "nominal", "sort": None, "title": None},
                         "x": {"field": unit, "type": "quantitative", "title": unit}}}


def pareto(table: pd.DataFrame, front: pd.DataFrame, tpot_ms: float | None, title: str) -> dict[str, Any]:
    """Every valid serving configuration (points) and the throughput-vs-TPOT front (line)."""
    cols = ["tpot_ms", "tokens_per_s_per_chip", "batch", "tp", "pp", "ep", "dp"]
    ok = table[table.valid][cols] if "valid" in table else table[cols]
    if len(ok) > MAX_POINTS:
        ok = ok.sample(MAX_POINTS, random_state=0)
    points = [{**r, "set": "configuration"} for r in ok.to_dict("records")]
    line = [{**r, "set": "Pareto front"} for r in front[cols].to_dict("records")]
    layers: list[dict[str, Any]] = [
        {"data": {"values": jsonable(points)}, "mark": {"type": "point", "opacity": 0.35, "tooltip": True},
         "encoding": {"x": {"field": "tpot_ms", "type": "quantitative", "scale": {"type": "log"},
                            "title": "TPOT, ms"},
                      "y": {"field": "tokens_per_s_per_chip", "type": "quantitative", "title": "tokens/s per chip"},
                      "color": {"value": "#8da0cb"}}},
        {"data": {"values": jsonable(line)}, "mark": {"type": "line", "point": True, "tooltip": True},
         "encoding": {"x": {"field": "tpot_ms", "type": "quantitative"},
                      "y": {"field": "tokens_per_s_per_chip", "type": "quantitative"},
                      "color": {"value": "#d95f02"}}}]
    if tpot_ms:
        layers.append({"data": {"values": [{"tpot_ms": tpot_ms}]}, "mark": {"type": "rule", "strokeDash": [4, 4]},
                       "encoding": {"x": {"field": "tpot_ms", "type": "quantitative"}}})
    return {**_base(title), "layer": layers}


def spread(summary: pd.DataFrame, title: str) -> dict[str, Any]:
    """P10-P90 bars with the P50 tick, one row per metric, each relative to its P50."""
    rows = [{"metric": m, "p10": r.p10 / r.p50, "p50": 1.0, "p90": r.p90 / r.p50}
            for m, r in summary.iterrows() if r.p50 and r.p50 == r.p50]
    return {**_base(title, 480, 22 * max(len(rows), 1)), "data": {"values": jsonable(rows)},
            "layer": [{"mark": {"type": "rule", "strokeWidth": 6, "opacity": 0.5},
                       "encoding": {"y": {"field": "metric", "type": "nominal", "title": None},
                                    "x": {"field": "p10", "type": "quantitative", "title": "relative to P50",
                                          "scale": {"zero": False}},
                                    "x2": {"field": "p90"}}},
                      {"mark": {"type": "tick", "thickness": 2},
                       "encoding": {"y": {"field": "metric", "type": "nominal"},
                                    "x": {"field": "p50", "type": "quantitative"}}}]}


def sweep(df: pd.DataFrame, x: str, y: str, color: str | None, mark: str) -> dict[str, Any]:
    """A chart of a sweep query's result: ``mark`` ('point', 'line' or 'bar') of ``y`` against ``x``."""
    cols = [c for c in dict.fromkeys((x, y, color)) if c]
    data = df[cols].head(MAX_POINTS)
    kind = {c: "quantitative" if pd.api.types.is_numeric_dtype(df[c]) else "nominal" for c in cols}
    enc: dict[str, Any] = {"x": {"field": x, "type": kind[x]}, "y": {"field": y, "type": kind[y]}}
    if color:
        enc["color"] = {"field": color, "type": "nominal" if kind[color] == "nominal" else "quantitative"}
    return {**_base(f"{y} against {x}"), "data": {"values": jsonable(data.to_dict("records"))},
            "mark": {"type": mark, "tooltip": True}, "encoding": enc}
