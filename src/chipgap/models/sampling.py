"""Samples of sourced quantities: the Monte-Carlo axis every model broadcasts over.

A quantity becomes an array of shape ``(n_samples,)``: constant for an exact value, drawn from
its declared distribution for a range (triangular when a mode is given, else uniform; lognormal
treats ``[low, high]`` as the 5th-95th percentiles). The same seed gives the same numbers.
"""

from __future__ import annotations

import numpy as np

from chipgap.catalog.quantity import Quantity

Z95 = 1.6448536269514722  # standard-normal 95th percentile


def sample_quantity(q: Quantity | None, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws of ``q`` (NaN everywhere when ``q`` is None).

    Parameters
    ----------
    q : Quantity or None
        The quantity to sample.
    n : int
        Number of samples.
    rng : numpy.random.Generator
        Source of randomness; pass ``np.random.default_rng(seed)`` for reproducible draws.

    Returns
    -------
    ndarray of shape (n,)
    """
    if q is None:
        return np.full(n, np.nan)
    if not q.is_range:
        return np.full(n, q.value)
    dist = q.dist or ("triangular" if q.mode is not None else "uniform")
    if dist == "triangular":
        return rng.triangular(q.low, q.mode if q.mode is not None else (q.low + q.high) / 2, q.high, n)
    if dist == "lognormal":
        mu = (np.log(q.low) + np.log(q.high)) / 2
        sigma = (np.log(q.high) - np.log(q.low)) / (2 * Z95)
        return rng.lognormal(mu, sigma, n)
    return rng.uniform(q.low, q.high, n)
