"""Plain JSON-ready data from what the analyses return (numpy scalars, NaN)."""

from __future__ import annotations

import math
from typing import Any


def jsonable(x: Any) -> Any:
    """``x`` with numpy scalars as Python numbers and NaN or infinite floats as None.

    >>> jsonable({"a": [float("nan"), 1.5], "b": (2,)})
    {'a': [None, 1.5], 'b': [2]}
    """
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):  # numpy scalars
        return jsonable(x.item())
    return x
