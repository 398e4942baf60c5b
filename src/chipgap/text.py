"""How chipgap writes numbers and text for people: one rule for the CLI and the report."""

from __future__ import annotations

import math
import re

import numpy as np


def num(x: float | None) -> str:
    """A number with up to four significant digits and thousands separators.

    >>> num(1234567.8), num(752.0), num(0.5193), num(0.004321), num(None)
    ('1,234,568', '752', '0.5193', '0.0043', '')
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if x != 0 and abs(x) < 0.01:
        return f"{x:.2g}"
    digits = max(0, 3 - int(math.floor(math.log10(abs(x))))) if x else 0
    return f"{x:,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{x:,.0f}"


def spread(p50: float, p10: float | None = None, p90: float | None = None) -> str:
    """``P50 (P10-P90)``, or just P50 when the range is a point.

    >>> spread(752, 728, 779), spread(989.4, 989.4, 989.4)
    ('752 (728-779)', '989.4')
    """
    if p10 is None or p90 is None or math.isnan(p10) or math.isnan(p90) or num(p10) == num(p90):
        return num(p50)
    return f"{num(p50)} ({num(p10)}-{num(p90)})"


def ratio(x: float) -> str:
    """A ratio of two quantities, to two decimals: ``0.76x``.

    >>> ratio(0.76006), ratio(5.333)
    ('0.76x', '5.33x')
    """
    return "n/a" if x is None or math.isnan(x) else f"{x:.2f}x"


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
