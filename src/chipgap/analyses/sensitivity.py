"""Which inputs move a headline answer most, and where its verdict flips.

A headline is a function of a `Draw` (how catalog quantities become numbers) returning one
value per draw. `tornado` finds the ranged inputs the headline reads (a `Recorder` draw), then
evaluates it once with every input at its point estimate and once with each input alone at the
low and at the high end of its range (`OneAtATime`: one array pass, the draws as the sample
axis), and adds the model's error as one more bar. Each bar says where the verdict flips: the
input value at which the headline crosses its line, interpolated linearly between the ends of
the input's range (and marked when that value lies outside the range).

>>> from chipgap.catalog.quantity import Quantity
>>> q = Quantity(value=[1.0, 3.0], source="x", confidence="estimate")
>>> s = tornado(lambda draw: draw(q, "chip.f") * 2.0, line=5.0)
>>> s.base, [(b.low_result, b.high_result, b.flip) for b in s.bars]
(4.0, [(2.0, 6.0, 2.5)])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from chipgap.catalog.quantity import Quantity


class Recorder:
    """A draw that gives every quantity its point estimate and records the ranged ones by key."""

    n = 1

    def __init__(self) -> None:
        self.ranged: dict[str, Quantity] = {}

    def __call__(self, q: Quantity | None, key: str) -> np.ndarray:
        if q is None:
            return np.full(1, np.nan)
        if q.is_range:
            self.ranged.setdefault(key, q)
        return np.full(1, q.point)


class OneAtATime:
    """A draw of ``1 + 2 x len(inputs)`` cases: case 0 every quantity at its point estimate,
    then each input alone at its low end and at its high end."""

    def __init__(self, inputs: Mapping[str, Quantity]):
        self.keys = list(inputs)
        self.n = 1 + 2 * len(self.keys)
        self._where = {k: i for i, k in enumerate(self.keys)}
        self._inputs = dict(inputs)

    def __call__(self, q: Quantity | None, key: str) -> np.ndarray:
        if q is None:
            return np.full(self.n, np.nan)
        out = np.full(self.n, q.point)
        i = self._where.get(key)
        if i is not None:
            lo, hi = q.bounds
            out[1 + 2 * i], out[2 + 2 * i] = lo, hi
        return out


@dataclass(frozen=True)
class Bar:
    """One input's effect: the headline at the input's low and high end, and the input value at
    which the headline crosses the line (None when it does not move towards it)."""

    key: str
    label: str
    low_value: float
    high_value: float
    low_result: float
    high_result: float
    flip: float | None
    flip_inside: bool
    unit: str = ""

    @property
    def swing(self) -> float:
        return abs(self.high_result - self.low_result)


@dataclass
class Sensitivity:
    """A headline's tornado: its value with every input at its point estimate (``base``), its
    line and the bars, widest first."""

    name: str
    base: float
    line: float
    bars: list[Bar] = field(default_factory=list)

    def rows(self) -> list[dict]:
        """The bars as plain rows (input, low, high, results, flip)."""
        return [{"input": b.label, "key": b.key, "low_value": b.low_value, "high_value": b.high_value,
                 "result_at_low": b.low_result, "result_at_high": b.high_result, "swing": b.swing,
                 "flips_at": b.flip, "flip_inside_range": b.flip_inside} for b in self.bars]


def _flip(lo: float, hi: float, r_lo: float, r_hi: float, line: float) -> tuple[float | None, bool]:
    if not np.isfinite([lo, hi, r_lo, r_hi]).all() or r_hi == r_lo or hi == lo:
        return None, False
    x = lo + (line - r_lo) * (hi - lo) / (r_hi - r_lo)
    if x <= 0 and lo > 0:
        return None, False
    return float(x), bool(min(lo, hi) <= x <= max(lo, hi))


def tornado(headline: Callable[[object], np.ndarray], line: float, name: str = "",
            label: Callable[[str], str] | None = None, error: tuple[float, float] | None = None,
            error_label: str = "model error", top: int = 8) -> Sensitivity:
    """The tornado of ``headline`` over the ranged inputs it reads, and the model's error.

    Parameters
    ----------
    headline : callable
        ``headline(draw) -> ndarray of shape (n,)`` (n the draw's cases).
    line : float
        The value at which the headline's verdict flips (1 for a ratio against parity).
    name : str
    label : callable, optional
        Turns an input's key into words.
    error : (float, float), optional
        Multipliers the model's error can move the headline by (down, up): one more bar.
    error_label : str, default='model error'
        That bar's label.
    top : int, default=8
        Bars to keep, widest first (the model's error is always kept).

    Returns
    -------
    Sensitivity
    """
    rec = Recorder()
    headline(rec)
    draw = OneAtATime(rec.ranged)
    values = np.asarray(headline(draw), dtype=float).ravel()
    base = float(values[0])
    bars = []
    for i, key in enumerate(draw.keys):
        q = rec.ranged[key]
        lo, hi = q.bounds
        r_lo, r_hi = float(values[1 + 2 * i]), float(values[2 + 2 * i])
        flip, inside = _flip(lo, hi, r_lo, r_hi, line)
        bars.append(Bar(key, label(key) if label else key, lo, hi, r_lo, r_hi, flip, inside))
    bars = sorted((b for b in bars if b.swing > 0), key=lambda b: -b.swing)[:top]
    if error is not None and np.isfinite(base):
        down, up = error
        need = line / base - 1 if base else None     # how far off the model would have to be
        inside = need is not None and base * down <= line <= base * up
        bars.append(Bar("model-error", error_label, down - 1, up - 1, base * down, base * up, need, inside, "%"))
        bars.sort(key=lambda b: -b.swing)
    return Sensitivity(name, base, line, bars)
