"""A sourced number: exact or a range, with where it comes from and how sure we are.

In YAML a quantity is written either in full::

    bf16_dense_tflops: {value: 989.4, source: nvidia-h100-datasheet, confidence: official}
    bf16_dense_tflops: {value: [700, 900], mode: 780, source: semianalysis-cm384, confidence: estimate}

or, when the entry declares ``defaults: {source: ..., confidence: ...}``, as a bare number or a
``[low, high]`` pair that takes its source and confidence from those defaults.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

Confidence = Literal["official", "measured", "estimate", "rumor"]
"""official: vendor datasheet or government text; measured: a published benchmark;
estimate: an analyst's or our own computation from sourced inputs; rumor: a leak or single press report."""

CONFIDENCE_ORDER: dict[str, int] = {"official": 0, "measured": 1, "estimate": 2, "rumor": 3}

Distribution = Literal["uniform", "triangular", "lognormal"]

Number = Annotated[float, Field(strict=True)]
"""A YAML number; strings and booleans are refused rather than coerced."""


class Quantity(BaseModel):
    """One sourced number, exact (``value``) or a range (``low``..``high``, optional ``mode``).

    Attributes
    ----------
    value : float or None
        The exact value; None when the quantity is a range.
    low, high : float or None
        The range bounds, inclusive; None when exact.
    mode : float or None
        The most likely value inside a range (the point estimate when given).
    dist : {'uniform', 'triangular', 'lognormal'} or None
        How the Monte-Carlo layer samples a range; defaults to triangular with a mode, else uniform.
    source : tuple of str
        Ids of entries in the catalog's sources (at least one).
    confidence : {'official', 'measured', 'estimate', 'rumor'}
    note : str or None
        How the number was read or derived, in a sentence.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: Number | None = None
    low: Number | None = None
    high: Number | None = None
    mode: Number | None = None
    dist: Distribution | None = None
    source: tuple[str, ...] = Field(min_length=1)
    confidence: Confidence
    note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _split_range(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("value"), (list, tuple)):
            pair = data["value"]
            if len(pair) != 2:
                raise ValueError(f"a range must be [low, high]. Got {list(pair)} instead")
            data = {**data, "value": None, "low": pair[0], "high": pair[1]}
        return data

    @field_validator("source", mode="before")
    @classmethod
    def _one_source_is_a_list(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _check_shape(self) -> Quantity:
        numbers = [x for x in (self.value, self.low, self.high, self.mode) if x is not None]
        if any(not math.isfinite(x) for x in numbers):
            raise ValueError("numbers must be finite")
        if self.value is not None:
            if self.low is not None or self.high is not None or self.mode is not None:
                raise ValueError("give either 'value' or a range [low, high], not both")
        elif self.low is None or self.high is None:
            raise ValueError("give 'value' (a number) or a range 'value: [low, high]'")
        elif not self.low < self.high:
            raise ValueError(f"a range needs low < high. Got [{self.low}, {self.high}] instead")
        elif self.mode is not None and not self.low <= self.mode <= self.high:
            raise ValueError(f"mode {self.mode} lies outside [{self.low}, {self.high}]")
        if self.dist == "lognormal" and self.low is not None and self.low <= 0:
            raise ValueError("a lognormal range needs low > 0")
        return self

    @property
    def is_range(self) -> bool:
        return self.value is None

    @property
    def point(self) -> float:
        """The point estimate: the value, else the mode, else the midpoint
        (the geometric midpoint for a lognormal range)."""
        if self.value is not None:
            return self.value
        if self.mode is not None:
            return self.mode
        if self.dist == "lognormal":
            return math.sqrt(self.low * self.high)
        return (self.low + self.high) / 2

    @property
    def bounds(self) -> tuple[float, float]:
        """(low, high); both equal the value for an exact quantity."""
        return (self.value, self.value) if self.value is not None else (self.low, self.high)

    def scaled(self, factor: float, note: str) -> Quantity:
        """A new quantity with every number multiplied by ``factor`` and ``note`` appended."""
        f = lambda x: None if x is None else x * factor  # noqa: E731
        lo, hi = (f(self.low), f(self.high)) if factor >= 0 else (f(self.high), f(self.low))
        joined = f"{self.note}; {note}" if self.note else note
        return self.model_copy(update={"value": f(self.value), "low": lo, "high": hi,
                                       "mode": f(self.mode), "note": joined})

    def to_dict(self) -> dict[str, Any]:
        """The quantity as plain JSON-ready data, with ``point`` added."""
        d = self.model_dump(exclude_none=True)
        d["source"] = list(self.source)
        d["point"] = self.point
        return d


def _positive(q: Quantity | None) -> Quantity | None:
    if q is not None and q.bounds[0] <= 0:
        raise ValueError(f"must be a positive number. Got {_show(q)} instead")
    return q


def _non_negative(q: Quantity | None) -> Quantity | None:
    if q is not None and q.bounds[0] < 0:
        raise ValueError(f"must be zero or more. Got {_show(q)} instead")
    return q


def _whole(q: Quantity | None) -> Quantity | None:
    if q is not None and any(x is not None and x != int(x) for x in (q.value, q.low, q.high, q.mode)):
        raise ValueError(f"must be a whole number. Got {_show(q)} instead")
    return q


def _fraction(q: Quantity | None) -> Quantity | None:
    if q is not None and not (0 < q.bounds[0] and q.bounds[1] <= 1):
        raise ValueError(f"must be a fraction in (0, 1]. Got {_show(q)} instead")
    return q


def _show(q: Quantity) -> str:
    return f"{q.value:g}" if q.value is not None else f"[{q.low:g}, {q.high:g}]"


Positive = Annotated[Quantity | None, AfterValidator(_positive)]
"""A quantity that must be > 0 over its whole range (bandwidth, area, throughput)."""
NonNegative = Annotated[Quantity | None, AfterValidator(_non_negative)]
"""A quantity that must be >= 0 (price, count that may be zero)."""
Fraction = Annotated[Quantity | None, AfterValidator(_fraction)]
"""A quantity in (0, 1]: a yield or a share."""
PositiveQuantity = Annotated[Quantity, AfterValidator(_positive)]
"""A required quantity > 0 over its whole range."""
PositiveCount = Annotated[Quantity | None, AfterValidator(_whole), AfterValidator(_positive)]
"""A whole number > 0 (dies, chips, cores)."""
RequiredCount = Annotated[Quantity, AfterValidator(_whole), AfterValidator(_positive)]
"""A whole number > 0 that the record cannot do without (a system's chip count)."""


def plausible(q: Quantity | None, low: float, high: float) -> Quantity | None:
    """``q`` when its whole range lies in ``[low, high]``, the range its field can physically
    take; a ValueError saying so otherwise.

    >>> plausible(Quantity(value=989.4, source="s", confidence="official"), 1e-3, 1e6).value
    989.4
    >>> plausible(Quantity(value=1e12, source="s", confidence="official"), 1e-3, 1e6)
    Traceback (most recent call last):
    ...
    ValueError: must lie between 0.001 and 1e+06, the range of anything built or announced. Got 1e+12 instead
    """
    if q is not None and not (low <= q.bounds[0] and q.bounds[1] <= high):
        raise ValueError(f"must lie between {low:g} and {high:g}, the range of anything built or "
                         f"announced. Got {_show(q)} instead")
    return q
