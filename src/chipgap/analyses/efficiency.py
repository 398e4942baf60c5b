"""The performance model's constants for a chip, read from the catalog.

`efficiency_for` builds the `chipgap.models.training.Efficiency` a chip runs with: every
``physics`` constant of ``model/constants.yaml`` at its value, every ``fitted`` one at the fit's
value (``model/fit.yaml``; the prior's median if the fit does not hold it), and ``gemm_max`` and
``memory`` from the chip's software stack (``model/stacks.yaml``): the stack's fitted values, or
its priors' medians when no calibration run used the stack; the stack's measured
``all_to_all_gbps`` where it has one. A chip of no stack gets
``gemm_max_default`` and the ``memory`` constant.
"""

from __future__ import annotations

from chipgap.catalog.catalog import Catalog
from chipgap.catalog.model_data import STACK_FIELDS, FitValues, SoftwareStack
from chipgap.errors import InputError
from chipgap.models.training import Efficiency

FIT_ID = "fit"


def stack_of(catalog: Catalog, chip: str, engine: str | None = None) -> SoftwareStack | None:
    """The software stack that lists ``chip`` (an id) for ``engine`` (a framework id): one
    naming the engine if any does, else the chip's general stack (no ``engines``); or None."""
    stacks = [s for s in catalog.all("stack").values() if chip in s.chips]
    return (next((s for s in stacks if engine and engine in s.engines), None)
            or next((s for s in stacks if not s.engines), None))


def family_of(catalog: Catalog, chip: str) -> str:
    """How accuracy tables group ``chip``: its stack's family or ``report_as`` ('hopper', 'h20',
    'ascend', ...), 'other' for a chip of no stack."""
    s = stack_of(catalog, chip)
    return "other" if s is None else s.report_as.get(chip, s.family)


def fit_values(catalog: Catalog, fold: str | None = None) -> FitValues:
    """The fitted values, or those of the fit that left run group ``fold`` out (the group's
    runs are predicted with these for the cross-validated error)."""
    fits = catalog.all("fit")
    if FIT_ID not in fits:
        return FitValues()
    fit = fits[FIT_ID]
    if fold is None:
        return fit.values
    if fold not in fit.folds:
        raise InputError("fold", f"a run group the fit left out ({', '.join(sorted(fit.folds)) or 'none'})", fold)
    return fit.folds[fold]


def efficiency_for(catalog: Catalog, chip: str, values: FitValues | None = None,
                   engine: str | None = None) -> tuple[Efficiency, str]:
    """The efficiency constants ``chip`` (an id) runs with, and where its ``gemm_max`` comes from.

    Parameters
    ----------
    catalog : Catalog
    chip : str
        A chip id (resolved).
    values : FitValues, optional
        Fitted values to use instead of the catalog's fit (a cross-validation fold, a refit).
    engine : str, optional
        The framework id a published run names (see `stack_of`).

    Returns
    -------
    efficiency : Efficiency
    basis : str
        'fitted on <stack> runs', '<stack> prior (no calibration runs)' or 'default (no
        software stack)'.
    """
    values = values if values is not None else fit_values(catalog)
    fields: dict[str, float] = {}
    for c in catalog.all("constant").values():
        fields[c.id] = (values.constants.get(c.id, c.prior.median) if c.role == "fitted" else c.value.point)
    stack = stack_of(catalog, chip, engine)
    default_gemm = fields.pop("gemm_max_default", Efficiency().gemm_max)
    if stack is None:
        fields["gemm_max"], basis = default_gemm, "default (no software stack)"
    else:
        fitted = values.stacks.get(stack.id, {})
        for name in STACK_FIELDS:
            if getattr(stack, name) is not None:
                fields[name] = fitted.get(name, getattr(stack, name).median)
        fields["layer_overhead_s"] *= fields.pop("layer_overhead_scale", 1.0)
        if stack.all_to_all_gbps is not None:
            fields["all_to_all_gbps"] = stack.all_to_all_gbps.point
        basis = f"fitted on {stack.id} runs" if fitted else f"{stack.id} prior (no calibration runs)"
    known = Efficiency.__dataclass_fields__
    return Efficiency().replace(**{k: v for k, v in fields.items() if k in known}), basis
