"""Records of the performance model's own data: its constants, the software stacks chips run,
the engines runs were measured on, the groups published runs cross-validate by, the fit, and
the accuracy targets.

They live in the catalog (``data/model/`` and ``data/runs/groups.yaml``) so that each has a
source or a fit record, ``chipgap catalog check`` validates them, and an overlay or a scenario
can change one.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from chipgap.catalog.quantity import Quantity
from chipgap.catalog.schema import Record, Slug, Text

Finite = Annotated[float, Field(allow_inf_nan=False)]
ConstName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
"""A constant's name: the field of `chipgap.models.training.Efficiency` it sets."""
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Prior(BaseModel):
    """What is known of a fitted constant before the runs: a normal distribution of its
    transformed value, ``logit`` for a fraction in (0, 1), ``log`` for a positive number, with
    ``median`` and ``sd`` (the standard deviation in the transformed space: 0.5 on the log scale
    is a factor of about 1.65 either way), and the source of the median.

    >>> p = Prior(transform="log", median=2.0, sd=0.5, source=("x",))
    >>> round(p.to_unit(2.0), 6), round(p.from_unit(0.0), 6)
    (0.0, 2.0)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    transform: Literal["logit", "log"]
    median: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    sd: Annotated[float, Field(gt=0, le=5, allow_inf_nan=False)]
    source: tuple[Slug, ...] = Field(min_length=1)
    note: Text | None = None

    @model_validator(mode="after")
    def _in_range(self) -> Prior:
        if self.transform == "logit" and not self.median < 1:
            raise ValueError("a logit prior's median must be a fraction below 1")
        return self

    def _t(self, x: float) -> float:
        return math.log(x / (1 - x)) if self.transform == "logit" else math.log(x)

    def _inv(self, y: float) -> float:
        return 1 / (1 + math.exp(-y)) if self.transform == "logit" else math.exp(y)

    def to_unit(self, x: float) -> float:
        """A value in prior standard deviations from the median (the fit's coordinate)."""
        return (self._t(x) - self._t(self.median)) / self.sd

    def from_unit(self, z: float) -> float:
        """The value ``z`` prior standard deviations from the median."""
        return self._inv(self._t(self.median) + z * self.sd)


class ModelConstant(Record):
    """One constant of the performance model (section ``model_constants``).

    ``value`` is what the model uses unless the constant is ``fitted``; then the fit
    (`ModelFit`) gives it, with ``prior`` saying what was known before the runs, and ``value``
    is the prior's median. ``used_by`` says which model reads it.
    """

    id: ConstName
    value: Quantity
    role: Literal["physics", "fitted"]
    prior: Prior | None = None
    used_by: Literal["training", "serving", "both"] = "both"

    @model_validator(mode="after")
    def _fitted_has_prior(self) -> ModelConstant:
        if (self.role == "fitted") != (self.prior is not None):
            raise ValueError("a fitted constant has a prior, and only a fitted one")
        return self


class SoftwareStack(Record):
    """A software stack whose kernels set how much of a chip's peak its matrix multiplies reach
    (section ``software_stacks``): CUDA on one GPU generation, ROCm, CANN.

    ``chips`` run it (same silicon and libraries share the fitted values); ``gemm_max`` is the
    prior of the fraction of dense peak its largest matrix multiplies reach, ``memory`` that of
    the fraction of memory bandwidth its streaming kernels reach (decode reads every weight and
    the KV cache each step), each from the stack's published kernel benchmarks;
    ``layer_overhead_scale`` (optional; 1 without it) that of the factor on the shared
    ``layer_overhead_s`` its engines' fixed cost per layer pass comes to (launch latency, graph
    capture, small-kernel tails differ by runtime), so that a stack with few small-batch runs
    stays near the shared value; ``family`` is
    how accuracy tables group its chips, and ``report_as`` regroups some of them (the H20, a
    Hopper die with a sixth of its compute, is reported as its own family). A stack with
    ``engines`` (framework ids) applies only to runs on those engines, where a source shows an
    engine far from the chip's usual stack (vLLM-Ascend's baseline against MindIE); questions,
    which name no engine, get the chip's stack without ``engines``. ``all_to_all_gbps``
    (optional; no cap without it) is a measured figure, not fitted: the per-device bandwidth its
    expert dispatch and combine kernels reach inside a scale-up domain (see
    `chipgap.models.training.Efficiency`).
    """

    name: Name
    chips: tuple[Slug, ...] = Field(min_length=1)
    engines: tuple[Slug, ...] = ()
    gemm_max: Prior
    memory: Prior
    layer_overhead_scale: Prior | None = None
    all_to_all_gbps: Quantity | None = None
    family: Slug
    report_as: dict[Slug, Slug] = Field(default_factory=dict)


class RunGroup(Record):
    """Sources of one lineage (section ``run_groups``): a run belongs to the group listing its
    first source, and cross-validation leaves a whole group out at a time."""

    name: Name
    sources: tuple[Slug, ...] = Field(min_length=1)


class Framework(Record):
    """A training framework or serving engine (section ``frameworks``): what it does with the
    settings a source leaves unstated. A run's ``framework`` text starts with the framework's
    name or one of its aliases. ``training`` maps layout fields (``tp pp cp ep vpp mbs zero
    recompute``) to the documented default; ``serving`` maps `ServeQuestion` fields
    (``kv_reserve``, ``max_batch``, ``overlap_scheduler``) to it. ``source`` documents them."""

    name: Name
    training: dict[str, int | str] = Field(default_factory=dict)
    serving: dict[str, int | str | bool] = Field(default_factory=dict)
    source: tuple[Slug, ...] = Field(min_length=1)


STACK_FIELDS = ("gemm_max", "memory", "layer_overhead_scale")
"""What each software stack has its own value of: two `chipgap.models.training.Efficiency`
fields, and the factor on the shared ``layer_overhead_s`` its engines' fixed cost per layer
pass comes to."""


class FitValues(BaseModel):
    """Fitted values: the shared constants, and each stack's ``gemm_max`` and ``memory``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    constants: dict[ConstName, Finite] = Field(default_factory=dict)
    stacks: dict[Slug, dict[Literal["gemm_max", "memory", "layer_overhead_scale"], Finite]] = Field(
        default_factory=dict)


class ModelFit(Record):
    """The fit of the fitted constants (section ``model_fit``), written by
    ``benchmarks/calibrate.py``: the values on every calibration run, and, per run group, the
    values without that group's runs (``folds``), with which the group's runs are predicted for
    the cross-validated error."""

    values: FitValues
    folds: dict[Slug, FitValues] = Field(default_factory=dict)
    fitted_on: tuple[Slug, ...] = ()
    residual_sd: Annotated[float, Field(gt=0)]
    rms_log_error: Annotated[float, Field(ge=0)] | None = None


class AccuracyTarget(Record):
    """A target for the cross-validated error of one model (section ``accuracy_targets``, ids
    ``training`` and ``serving``): the median and 90th-percentile absolute percentage error.
    Targets are requirements, not measurements: ``notes`` says whose."""

    median_abs_error_pct: Annotated[float, Field(gt=0)]
    p90_abs_error_pct: Annotated[float, Field(gt=0)]
