"""Samples of sourced quantities: the Monte-Carlo axis every model broadcasts over.

A quantity becomes an array of shape ``(n_samples,)``: constant for an exact value, drawn from
its declared distribution for a range (triangular when a mode is given, else uniform; lognormal
treats ``[low, high]`` as the 5th-95th percentiles). The same seed gives the same numbers.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

from chipgap.catalog.quantity import Quantity

Z95 = 1.6448536269514722  # standard-normal 95th percentile

Draw = Callable[[Quantity | None, str], "float | np.ndarray"]
"""How a model turns a catalog quantity (and its key, ``record-id.field``) into numbers."""


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


class Sampler:
    """Draws for many quantities, each from its own stream keyed by ``(seed, key)``.

    A quantity's draws depend only on the seed and its key (say ``"huawei-ascend-910c.memory_bw_gbps"``),
    not on what else was drawn before it: the same chip gets the same samples in every analysis
    of a run (common random numbers), and adding a field never shifts another field's draws.

    >>> from chipgap.catalog.quantity import Quantity
    >>> q = Quantity(value=[1.0, 2.0], source="x", confidence="estimate")
    >>> a, b = Sampler(4, seed=7)(q, "chip.f"), Sampler(4, seed=7)(q, "chip.f")
    >>> bool((a == b).all()) and bool(((a >= 1) & (a <= 2)).all())
    True
    """

    def __init__(self, n: int, seed: int = 0):
        if n < 1:
            raise ValueError("a sampler needs at least one draw")
        self.n, self.seed = int(n), int(seed)

    def rng(self, key: str) -> np.random.Generator:
        """The generator of ``key``'s stream."""
        return np.random.default_rng([self.seed, zlib.crc32(key.encode())])

    def __call__(self, q: Quantity | None, key: str) -> np.ndarray:
        return sample_quantity(q, self.n, self.rng(key))


def point(q: Quantity | None, key: str = "") -> float:  # noqa: ARG001
    """A quantity's point estimate (NaN when absent): the drawing rule without uncertainty."""
    return np.nan if q is None else q.point
