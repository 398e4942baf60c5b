"""How chipgap writes numbers and text for people: one rule for the CLI and the report."""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal

import numpy as np


def digits_for(rel: float | None) -> int:
    """Significant digits a number with relative uncertainty ``rel`` (a half-width over the
    value) supports: two at 10% or more, three at 1-10%, four below; four when unknown.

    >>> digits_for(0.2), digits_for(0.05), digits_for(0.004), digits_for(None)
    (2, 3, 4, 4)
    """
    if rel is None or not rel > 0 or math.isinf(rel):
        return 4
    return int(min(4, max(2, math.ceil(-math.log10(rel)) + 1)))


def num(x: float | None, rel: float | None = None) -> str:
    """A number for people: with thousands separators, to the significant digits its relative
    uncertainty ``rel`` supports (`digits_for`), or up to four (all of an integer part) when
    ``rel`` is not given.

    >>> num(1234567.8), num(752.0), num(0.5193), num(0.004321), num(None)
    ('1,234,568', '752', '0.5193', '0.0043', '')
    >>> num(1032179, 0.2), num(0.5199, 0.2), num(1943.0, 0.07)
    ('1,000,000', '0.52', '1,940')
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if rel is not None and x != 0 and math.isfinite(x):
        d = digits_for(rel)
        magnitude = int(math.floor(math.log10(abs(x))))
        places = d - 1 - magnitude
        x = float(Decimal(str(float(x))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))
        decimals = max(0, places)
        return f"{x:,.{decimals}f}"
    if x != 0 and abs(x) < 0.01:
        return f"{x:.2g}"
    digits = max(0, 3 - int(math.floor(math.log10(abs(x))))) if x else 0
    return f"{x:,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{x:,.0f}"


def spread(p50: float, p10: float | None = None, p90: float | None = None, rel: float | None = None) -> str:
    """``P50 (P10-P90)``, each rounded to what the range (or ``rel``, if larger) supports; just
    P50 when the range is a point.

    >>> spread(752, 728, 779), spread(989.4, 989.4, 989.4), spread(1032179, 820000, 1250000)
    ('752 (728-779)', '989.4', '1,000,000 (820,000-1,300,000)')
    """
    if p10 is None or p90 is None or math.isnan(p10) or math.isnan(p90) or num(p10) == num(p90):
        return num(p50, rel)
    width = abs(p90 - p10) / (2 * abs(p50)) if p50 else None
    r = max(x for x in (width, rel, 1e-4) if x is not None)
    lo, hi = num(p10, r), num(p90, r)
    return num(p50, r) if lo == hi else f"{num(p50, r)} ({lo}-{hi})"


def ratio(x: float) -> str:
    """A ratio of two quantities, to two decimals: ``0.76x``.

    >>> ratio(0.76006), ratio(5.333)
    ('0.76x', '5.33x')
    """
    return "n/a" if x is None or math.isnan(x) else f"{x:.2f}x"


def pct(x: float) -> str:
    """A signed change as a percentage: ``+12%``, ``-8%``.

    >>> pct(0.123), pct(-0.08)
    ('+12%', '-8%')
    """
    return "n/a" if x is None or math.isnan(x) else f"{100 * x:+.0f}%"


_UNITS = (("_tflops", "TFLOPS"), ("_tops", "TOPS"), ("_gbps_unidir", "GB/s each way"),
          ("_gbps_bidir", "GB/s both ways"), ("_gbps", "GB/s"), ("_gib", "GiB"), ("_usd_per_gb", "US$ per GB"),
          ("_gb", "GB"), ("_mm2", "mm2"), ("_kw", "kW"), ("_w", "W"),
          ("_usd", "US$"), ("_ms", "ms"), ("_s", "s"), ("_pct", "%"), ("_per_chip", "per chip"))
_WORDS = {"bf16": "BF16", "fp8": "FP8", "fp16": "FP16", "fp32": "FP32", "int8": "INT8", "int4": "INT4", "hbm": "HBM",
          "tpot": "TPOT", "ttft": "TTFT", "mfu": "MFU", "hfu": "HFU", "tpp": "TPP", "tdp": "TDP", "scaleup": "scale-up",
          "scaleout": "scale-out", "per": "per", "s": "s"}


def field_label(name: str) -> str:
    """A field or column name as words, its unit last: never a raw field name on a page.

    >>> field_label("bf16_dense_tflops"), field_label("tokens_per_s_per_chip"), field_label("memory_bw_gbps")
    ('dense BF16 TFLOPS', 'tokens/s per chip', 'memory bandwidth GB/s')
    """
    special = {"tokens_per_s_per_chip": "tokens/s per chip", "tokens_per_s": "tokens/s",
               "memory_bw_gbps": "memory bandwidth GB/s", "memory_capacity_gib": "memory GiB",
               "tflops_per_chip": "TFLOPS per chip", "memory_gb_per_chip": "memory GB per chip",
               "memory_gb": "memory GB", "step_time_s": "step time s"}
    if name in special:
        return special[name]
    base, unit = name, ""
    for suffix, u in _UNITS:
        if base.endswith(suffix):
            base, unit = base[: -len(suffix)], u
            break
    words = [_WORDS.get(w, w) for w in base.split("_") if w]
    if len(words) >= 2 and words[1] == "dense":      # 'bf16 dense' reads 'dense BF16'
        words[0], words[1] = words[1], words[0]
    return " ".join([*words, unit]).strip().replace("bw", "bandwidth")


_SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def words(text: str) -> str:
    """``text`` with every snake_case field name in it written as words (`field_label`).

    >>> words("capex_rmb_billion 2024 to 2026")
    'capex rmb billion 2024 to 2026'
    """
    return _SNAKE.sub(lambda m: field_label(m.group()), text)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A CSV cell starting with one of these is a formula to a spreadsheet (OWASP, "CSV Injection")."""


def csv_text(v: object) -> object:
    """A CSV cell's value: text loses terminal escape sequences and control characters (tabs and
    newlines stay), and text that starts like a formula is prefixed with ``'``; numbers stay.

    >>> csv_text("=HYPERLINK(0)"), csv_text("-x"), csv_text(-1.5), csv_text("h1\x1b[2J00")
    ("'=HYPERLINK(0)", "'-x", -1.5, 'h100')
    """
    if not isinstance(v, str):
        return v
    v = printable(v)
    return "'" + v if v.startswith(FORMULA_START) else v


def reason_text(codes, reasons: dict[int, str]) -> np.ndarray:  # noqa: ANN001
    """Bit masks of ``reasons`` as '; '-joined texts ('' for 0), one lookup per distinct code.

    >>> reason_text(np.array([0, 3, 2]), {1: "a", 2: "b"}).tolist()
    ['', 'a; b', 'b']
    """
    uniq, inv = np.unique(np.asarray(codes).astype(np.int64), return_inverse=True)
    text = np.array(["; ".join(t for b, t in reasons.items() if c & b) for c in uniq], dtype=object)
    return text[inv.ravel()]


_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]"          # CSI: colours, cursor moves, clearing
                      r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window titles, hyperlinks
                      r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"       # DCS, SOS, PM, APC strings
                      r"|\x1b.?")                               # any other escape
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, newlines: bool = True) -> str:
    r"""``text`` without terminal escape sequences or control characters (C0 and C1 controls,
    DEL, and the bidirectional overrides that reorder what a reader sees); tabs stay, and newlines
    unless ``newlines`` is False (then each line break becomes a space).

    Text from a user's file goes through this before it reaches a terminal, so a chip name cannot
    clear the screen, retitle the window or hide a hyperlink.

    >>> printable("h100\x1b[2J\x1b]0;owned\x07 \x9b31m ok\r")
    'h100 31m ok'
    >>> printable("a\nb", newlines=False)
    'a b'
    """
    text = _ESCAPES.sub("", str(text))
    if not newlines:
        text = re.sub(r"\r\n|[\n\r\v\f\x85\u2028\u2029]", " ", text)
    return _CONTROLS.sub("", text)
