"""The two questions chipgap's performance model answers, each one typed record.

`TrainQuestion` ("train this model on these chips") and `ServeQuestion` ("serve this model on
an instance of these chips, under these SLOs") are frozen pydantic records whose field defaults
are the one defaults table every surface uses: the CLI builds a question from the options it was
given, a scenario question and a sweep case are questions, a published run
(`chipgap.catalog.runs`) is a question plus its measurement, and the report's questions are a
bundled scenario. `chipgap.analyses.answer.answer` evaluates one.

A layout field left unset (None) is searched: every value the model knows how to try. A run
record leaves unset what its source did not report, and the accuracy check scores it at the
framework's documented default.

>>> q = TrainQuestion(model="llama-3.1-70b", chip="h100", chips=1024, layout={"tp": 8})
>>> q.layout.tp, q.layout.pp, q.seq_len
(8, None, 4096)
>>> ServeQuestion(model="llama-3.1-8b", chip="h100", input_len=0, output_len=1)
Traceback (most recent call last):
...
chipgap.errors.FieldError: ServeQuestion: field 'input_len': Input should be greater than or equal to 1. Got 0 instead
"""

from __future__ import annotations

import numbers
from typing import Annotated, Any, Literal

from pydantic import (AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError,
                      model_validator)

from chipgap.catalog.serving_job import ServingJob, Switch
from chipgap.errors import FieldError

MAX_CHIPS = 1 << 20
"""More chips than any cluster built or announced (xAI's and Meta's plans are ~10^6 GPUs)."""
MAX_SAMPLES = 1_000_000


def _plain_int(v: Any) -> Any:
    return int(v) if isinstance(v, numbers.Integral) and not isinstance(v, bool) else v


def _number(v: Any) -> Any:
    """A number as given; text and booleans are refused (pydantic would read "2" as 2)."""
    if isinstance(v, (str, bytes, bool)):
        raise ValueError("must be a number")
    return v


# constraints before the validator, so that the JSON schema states them (minimum, not 'ge')
Count = Annotated[int, Field(strict=True, ge=1), BeforeValidator(_plain_int)]
Chips = Annotated[int, Field(strict=True, ge=1, le=MAX_CHIPS), BeforeValidator(_plain_int)]
Name = Annotated[str, Field(min_length=1, max_length=300)]
Recompute = Literal["none", "selective", "full", "modules"]
TrainPrecision = Literal["bf16", "fp8"]
WeightPrecision = Literal["bf16", "fp8", "int8", "int4"]
KvPrecision = Literal["bf16", "fp8", "int8"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class _Refusing(_Frozen):
    """A record built from a caller's arguments: a refused field raises `FieldError`, which the
    CLI prints as one line (pydantic's own error is kept for records read from catalog files,
    whose loader locates it in the file)."""

    def __init__(self, **fields: Any) -> None:
        try:
            super().__init__(**fields)
        except ValidationError as e:
            raise FieldError.from_validation(type(self).__name__, e) from None


class Layout(_Frozen):
    """How a training job is split; a field left unset (None) is searched.

    ``tp, pp, dp, cp, ep``: tensor (with sequence parallelism), pipeline, data, context and
    expert parallel degrees, in devices (an Ascend 910C package is two). ``vpp``: virtual
    pipeline stages per device (interleaved 1F1B); ``interleaved`` constrains an unset ``vpp``
    (true: more than 1, false: 1), as a source may say it interleaved without saying how deep.
    ``mbs``: micro-batch size in sequences. ``zero``: ZeRO stage of data parallelism (1 is
    Megatron's distributed optimizer, 3 is FSDP). ``recompute``: activation recomputation,
    ``none``, ``selective`` (the attention core), ``full`` (the layer) or ``modules`` (norms,
    MLA up-projections, the MLP activation). ``sequence_parallel`` is recorded where a source
    states it; the model always runs tensor parallelism with sequence parallelism.
    """

    tp: Count | None = None
    pp: Count | None = None
    dp: Count | None = None
    cp: Count | None = None
    ep: Count | None = None
    vpp: Count | None = None
    interleaved: bool | None = None
    mbs: Count | None = None
    zero: Literal[0, 1, 2, 3] | None = None
    recompute: Recompute | None = None
    sequence_parallel: bool | None = None

    @model_validator(mode="after")
    def _schedule_agrees(self) -> Layout:
        if self.interleaved and self.pp == 1:
            raise ValueError("interleaved needs pp > 1")
        if self.vpp is not None and self.interleaved is not None and self.interleaved != (self.vpp > 1):
            raise ValueError(f"interleaved: {str(self.interleaved).lower()} contradicts vpp {self.vpp}")
        return self

    def fixed(self) -> dict[str, Any]:
        """The fields that are set (the search keeps them)."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class ServeLayout(_Frozen):
    """How one serving instance is split; a field left unset (None) is searched.

    ``tp``: tensor parallel; ``pp``: pipeline stages; ``ep``: expert parallel (unset: every
    device of the instance for MoE models, 1 for dense ones); ``dp``: data-parallel attention
    groups sharing the experts (DeepSeek-style DP attention). With ``ep`` 1, tensor parallelism
    slices every expert.
    """

    tp: Count | None = None
    pp: Count | None = None
    ep: Count | None = None
    dp: Count | None = None


class TrainQuestion(_Refusing):
    """Train ``model`` on ``chips`` packages of ``chip``.

    Parameters
    ----------
    model : str
        Workload id or alias, or a ``config.json`` path (``workload`` is accepted too).
    chip : str
        Chip id or alias.
    chips : int
        Packages of ``chip``.
    system : str or None, default=None
        The system the chips sit in (default: the chip's usual one).
    seq_len : int, default=4096
    global_batch : int, default=1024
        Sequences per optimizer step.
    precision : {'bf16', 'fp8'}, default='bf16'
        Matrix-multiply precision.
    layout : Layout, default: everything searched
    flash_attention : bool, default=True
        Fused attention that never writes the scores (FlashAttention, 2022 on).
    ep_overlap : bool, default=False
        Expert all-to-all overlapped with other micro-batches' compute (DualPipe).
    dp_overlap : bool, default=True
        Gradient reduction overlapped with the backward pass (DDP buckets, FSDP).
    tp_overlap : bool, default=False
        Tensor-parallel collectives pipelined with their GEMMs (Transformer Engine userbuffers).
    scaleout_bw_gbps_unidir : float or None, default=None
        Per-chip scale-out bandwidth in place of the catalog's (a cluster's NICs).
    samples : int, default=0
        Monte-Carlo draws of the chip's ranged specs (0: the point estimate only).
    seed : int, default=0
    """

    ask: Literal["train"] = "train"
    model: Name = Field(validation_alias=AliasChoices("model", "workload"))
    chip: Name
    chips: Chips
    system: Name | None = None
    seq_len: Annotated[int, Field(strict=True, ge=1, le=1 << 24), BeforeValidator(_plain_int)] = 4096
    global_batch: Annotated[int, Field(strict=True, ge=1, le=1 << 24), BeforeValidator(_plain_int)] = 1024
    precision: TrainPrecision = "bf16"
    layout: Layout = Layout()
    flash_attention: Switch = True
    ep_overlap: Switch = False
    dp_overlap: Switch = True
    tp_overlap: Switch = False
    scaleout_bw_gbps_unidir: Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(_number)] | None = None
    samples: Annotated[int, Field(strict=True, ge=0, le=MAX_SAMPLES), BeforeValidator(_plain_int)] = 0
    seed: Annotated[int, Field(strict=True, ge=0), BeforeValidator(_plain_int)] = 0

    def scaleout_gbps(self) -> float | None:
        """The scale-out bandwidth override as a number (a run record holds it as a quantity)."""
        v = self.scaleout_bw_gbps_unidir
        return getattr(v, "point", v)


class ServeQuestion(ServingJob):
    """Serve ``model`` on an instance of ``chips`` packages of ``chip``: the requests and the
    engine (`ServingJob`'s fields), the instance, and the SLOs.

    Parameters
    ----------
    model, chip, chips, system
        As in `TrainQuestion` (``chips``: packages of one serving instance, default 1).
    phase, input_len, output_len, cached_len, requests, kv_reserve, max_batch, overlap_scheduler
        The job (see `ServingJob`); ``input_len`` and ``output_len`` default to 1,024.
    batch : int or None, default=None
        Concurrent sequences of the whole instance (None: searched).
    layout : ServeLayout, default: everything searched
    weight_precision : {'bf16', 'fp8', 'int8', 'int4'}, default='bf16'
        Weights (fp8 and int8 also compute on 8-bit units where the chip has them).
    kv_precision : {'bf16', 'fp8', 'int8'}, default='bf16'
    attention_precision : {'bf16', 'fp8'}, default='bf16'
        What the attention kernels multiply in: 'fp8' where the engine runs FP8 attention
        (FlashAttention-3's FP8 path, FlashMLA's FP8 kernels), at the chip's 8-bit peak.
    mtp_accept : float or None, default=None
        Acceptance rate of one multi-token-prediction draft token (None: no speculation).
    ep_overlap : bool, default=True
        Expert all-to-all overlapped with compute (two-batch overlap), as DeepSeek, SGLang and
        CloudMatrix-Infer run their large expert-parallel deployments; False turns it off.
    ep_imbalance : float, default=1
        Routed tokens on the busiest expert-parallel rank over the mean.
    memory_gb : float or None, default=None
        DRAM per CPU socket (CPUs only), in 10^9 bytes.
    ttft_ms, tpot_ms : float or None, default=None
        Latency SLOs (``tpot_slo_ms`` is accepted for ``tpot_ms``).
    samples, seed
        As in `TrainQuestion`.
    """

    ask: Literal["serve"] = "serve"
    model: Name = Field(validation_alias=AliasChoices("model", "workload"))
    chip: Name
    chips: Chips = 1
    input_len: Count = 1024
    output_len: Count = 1024
    system: Name | None = None
    batch: Annotated[int, Field(strict=True, ge=1, le=1 << 24), BeforeValidator(_plain_int)] | None = None
    layout: ServeLayout = ServeLayout()
    weight_precision: WeightPrecision = "bf16"
    kv_precision: KvPrecision = "bf16"
    attention_precision: Literal["bf16", "fp8"] = "bf16"
    mtp_accept: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), BeforeValidator(_number)] | None = None
    ep_overlap: Switch = True
    ep_imbalance: Annotated[float, Field(ge=1, allow_inf_nan=False), BeforeValidator(_number)] = 1.0
    memory_gb: Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(_number)] | None = None
    ttft_ms: Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(_number)] | None = None
    tpot_ms: Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(_number)] | None = Field(
        default=None, validation_alias=AliasChoices("tpot_ms", "tpot_slo_ms"))
    samples: Annotated[int, Field(strict=True, ge=0, le=MAX_SAMPLES), BeforeValidator(_plain_int)] = 0
    seed: Annotated[int, Field(strict=True, ge=0), BeforeValidator(_plain_int)] = 0

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @property
    def job(self) -> ServingJob:
        """The requests and engine settings alone."""
        return ServingJob(**{k: getattr(self, k) for k in ServingJob.model_fields})


Question = Annotated[TrainQuestion | ServeQuestion, Field(discriminator="ask")]
