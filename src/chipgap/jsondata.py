"""Plain JSON-ready data from what the analyses return: numpy scalars and arrays, NaN, bytes,
dates and decimals (a DuckDB result's lists, BLOBs and timestamps), for the CLI and the web."""

from __future__ import annotations

import datetime
import decimal
import math
from typing import Any

import numpy as np
import pandas as pd


def jsonable(x: Any) -> Any:
    """``x`` with numpy scalars as Python numbers, NaN or infinite floats as None, arrays and
    sets as lists, bytes as hex, dates as ISO text and decimals as floats.

    >>> jsonable({"a": [float("nan"), 1.5], "b": (2,), 3: b"\\x01"})
    {'a': [None, 1.5], 'b': [2], '3': '0x01'}
    """
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set, frozenset, np.ndarray)):
        return [jsonable(v) for v in (x.tolist() if isinstance(x, np.ndarray) else x)]
    if isinstance(x, (bytes, bytearray, memoryview)):
        return "0x" + bytes(x).hex()
    if x is pd.NaT:
        return None
    if isinstance(x, (datetime.date, datetime.time)):
        return x.isoformat()
    if isinstance(x, decimal.Decimal):
        return jsonable(float(x))
    if isinstance(x, np.generic):  # numpy scalars
        return jsonable(x.item())
    return x
