"""Chips a year's capacities let the reported volumes become, and which capacity binds.

Each production line wants its volume (the chips the sources report or plan for it). The inputs
are capacities sourced apart from those volumes:

1. a **die bank** of dies made before a ban, shared by the lines that can use them in proportion
   to their need, drawn before any wafer;
2. **wafers** of the foundry's advanced nodes: the dies the bank does not cover need
   ``dies / (gross dies x yield)`` wafers, and the lines on those nodes share the capacity;
3. **HBM stacks**: each chip needs its stacks;
4. **advanced packaging** (CoWoS-class), one package per HBM chip.

Each shared input is rationed proportionally: when the lines drawing on it need more than it
holds, every one of them gets the same fraction of its need. The binding input of a sample is the
one that removed the most chips; when none removed any, the reported volumes bind (``volumes``).
Arrays broadcast over Monte-Carlo samples: ``(line, sample)`` per line, ``(sample,)`` per input.
"""

from __future__ import annotations

import numpy as np

BINDING = ("volumes", "wafers", "hbm", "packaging")
"""Names of the binding input, indexed by `constrain`'s ``binding``."""
TINY = 1e-300


def packages_from_wafers(wafers, gross_dies, die_yield, dies_per_package):  # noqa: ANN001, ANN201
    """Packaged chips the wafers of one line can give, before other limits."""
    return wafers * gross_dies * die_yield / dies_per_package


def share_of_need(need, uses, capacity):  # noqa: ANN001, ANN201
    """The fraction of its need each line drawing on a shared capacity gets.

    Parameters
    ----------
    need : ndarray of shape (line, sample)
    uses : ndarray of bool, shape (line, 1)
        Which lines draw on the capacity.
    capacity : ndarray of shape (sample,)
        ``inf`` where the capacity is not modelled.

    Returns
    -------
    ndarray of shape (sample,)
        ``min(1, capacity / total need)``; 1 where nothing is needed.

    Examples
    --------
    >>> share_of_need(np.array([[30.0], [10.0]]), np.array([[True], [True]]), np.array([20.0])).tolist()
    [0.5]
    """
    total = np.sum(np.where(uses, need, 0.0), axis=0)                      # (sample,)
    return np.where(total > 0, np.minimum(1.0, capacity / np.maximum(total, TINY)), 1.0)


def constrain(plan, dies_per_chip, wafers_per_die, in_wafer_pool, wafer_access, wafer_capacity,
              bank_eligible, bank_dies, stacks_per_chip, hbm_stacks, packaging_chips):  # noqa: ANN001, ANN201
    """Chips each line makes from its reported volume under the year's capacities.

    Parameters
    ----------
    plan : ndarray of shape (line, sample)
        Chips the sources report for each line.
    dies_per_chip : ndarray of shape (line, sample)
    wafers_per_die : ndarray of shape (line, sample)
        ``1 / (gross dies x die yield)``; 0 for a line whose wafers are not modelled.
    in_wafer_pool, bank_eligible : ndarray of bool, shape (line, 1)
        Lines that draw on the wafer capacity, and lines that can use banked dies.
    wafer_access : ndarray of shape (line, 1)
        Share of its wafer need a line can get at most (1; lower after a foundry shock).
    wafer_capacity, bank_dies, hbm_stacks, packaging_chips : ndarray of shape (sample,)
        The year's capacities; ``inf`` where one is not modelled (0 for an empty bank).
    stacks_per_chip : ndarray of shape (line, 1)
        HBM stacks per chip; 0 where a line uses no HBM or its count is not public.

    Returns
    -------
    dict of ndarray
        ``chips`` (line, sample); ``binding`` (sample,) index into `BINDING`; ``lost_wafers``,
        ``lost_hbm``, ``lost_packaging`` (sample,): chips each input removed; ``banked``
        (line, sample): dies drawn from the bank; ``need_wafers``, ``need_hbm``,
        ``need_packaging``, ``need_bank`` (sample,): what the reported volumes would need;
        ``used_bank``, ``used_hbm`` (sample,): dies and stacks the chips made consume.
    """
    dies = plan * dies_per_chip                                                # (line, sample)
    need_bank = np.sum(np.where(bank_eligible, dies, 0.0), axis=0)             # (sample,)
    banked = np.where(bank_eligible, dies, 0.0) * np.where(
        need_bank > 0, np.minimum(1.0, bank_dies / np.maximum(need_bank, TINY)), 0.0)
    rest = dies - banked                                                       # dies to make on wafers
    wafers = rest * wafers_per_die * wafer_access                              # (line, sample)
    f_wafers = share_of_need(wafers, in_wafer_pool, wafer_capacity)            # (sample,)
    made = rest * wafer_access * np.where(in_wafer_pool, f_wafers, 1.0)
    die_limited = (banked + made) / dies_per_chip                              # (line, sample)
    uses_hbm = stacks_per_chip > 0                                             # (line, 1)
    f_hbm = share_of_need(die_limited * stacks_per_chip, uses_hbm, hbm_stacks)
    hbm_limited = die_limited * np.where(uses_hbm, f_hbm, 1.0)
    f_pack = share_of_need(hbm_limited, uses_hbm, packaging_chips)
    chips = hbm_limited * np.where(uses_hbm, f_pack, 1.0)
    lost = np.stack([np.sum(plan - die_limited, axis=0), np.sum(die_limited - hbm_limited, axis=0),
                     np.sum(hbm_limited - chips, axis=0)])                     # (input, sample)
    significant = lost > 1e-9 * np.maximum(np.sum(plan, axis=0), 1.0)
    binding = np.where(significant.any(axis=0), 1 + np.argmax(np.where(significant, lost, -1.0), axis=0), 0)
    return {"chips": chips, "binding": binding, "lost_wafers": lost[0], "lost_hbm": lost[1],
            "lost_packaging": lost[2], "banked": banked,
            "need_wafers": np.sum(np.where(in_wafer_pool, rest * wafers_per_die, 0.0), axis=0),
            "need_hbm": np.sum(plan * stacks_per_chip, axis=0),
            "need_packaging": np.sum(np.where(uses_hbm, plan, 0.0), axis=0), "need_bank": need_bank,
            "used_bank": np.sum(np.minimum(banked, chips * dies_per_chip), axis=0),
            "used_hbm": np.sum(chips * stacks_per_chip, axis=0)}
