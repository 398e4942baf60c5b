"""Chips a year of wafers, HBM and packaging can make, and which input binds.

Every production line turns wafers into packages: ``wafers x gross dies x die yield / dies per
package``. All lines share the HBM stacks and advanced-packaging slots of the year; when either
runs short, every line is scaled by the same factor (proportional rationing), and the input
with the smallest factor is the binding constraint. Arrays broadcast over Monte-Carlo samples.
"""

from __future__ import annotations

import numpy as np

BINDING = ("wafers", "hbm", "packaging")


def packages_from_wafers(wafers, gross_dies, die_yield, dies_per_package):  # noqa: ANN001, ANN201
    """Packaged chips the wafers of one line can give, before HBM and packaging limits."""
    return wafers * gross_dies * die_yield / dies_per_package


def ration(packages, stacks_per_chip, hbm_stacks, packaging_chips):  # noqa: ANN001, ANN201
    """Scale lines to the shared HBM and packaging limits.

    Parameters
    ----------
    packages : ndarray of shape (line, sample)
        What the wafers allow per line.
    stacks_per_chip : ndarray of shape (line, 1)
        HBM stacks each chip of a line needs.
    hbm_stacks, packaging_chips : ndarray of shape (sample,)
        Limits of the year; ``inf`` where not modelled.

    Returns
    -------
    chips : ndarray of shape (line, sample)
    binding : ndarray of int, shape (sample,)
        Index into `BINDING` of the input that limits the year.
    """
    need_hbm = np.sum(packages * stacks_per_chip, axis=0)
    need_pack = np.sum(packages, axis=0)
    factors = np.stack([np.ones_like(need_hbm),
                        np.where(need_hbm > 0, hbm_stacks / np.maximum(need_hbm, 1e-300), np.inf),
                        np.where(need_pack > 0, packaging_chips / np.maximum(need_pack, 1e-300), np.inf)])
    binding = np.argmin(factors, axis=0)
    return packages * np.min(factors, axis=0), binding
