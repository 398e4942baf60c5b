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
                      ValidationInfo, field_validator, model_validator)
from pydantic_core import PydanticCustomError

from chipgap.catalog.serving_job import ServingJob, Switch
from chipgap.errors import FieldError
from chipgap.models.precision import COMPUTES_IN

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


def _list_of_numbers(v: Any) -> Any:
    """A list of numbers as given, or written as text ('0.8, 0.6, 0.4', as a form or a command
    line gives it; brackets allowed); booleans and other text refused."""
    if isinstance(v, str):
        parts = [p.strip() for p in v.strip().strip("[]()").split(",") if p.strip()]
        try:
            return tuple(float(p) for p in parts)
        except ValueError:
            raise ValueError("must be numbers separated by commas") from None
    if isinstance(v, (list, tuple)):
        return tuple(_number(x) for x in v)
    return v


# constraints before the validator, so that the JSON schema states them (minimum, not 'ge')
Count = Annotated[int, Field(strict=True, ge=1), BeforeValidator(_plain_int)]
Chips = Annotated[int, Field(strict=True, ge=1, le=MAX_CHIPS), BeforeValidator(_plain_int)]
Name = Annotated[str, Field(min_length=1, max_length=300)]
Recompute = Literal["none", "selective", "full", "modules"]
TrainPrecision = Literal["bf16", "fp8", "mxfp8", "nvfp4"]
TRAIN_FORMATS = ("bf16", "fp8", "mxfp8", "nvfp4")
"""Formats a training recipe's GEMMs run in (`chipgap.models.training._low_precision`)."""
WeightPrecision = Literal["bf16", "fp8", "mxfp8", "int8", "int4", "nvfp4", "mxfp4"]
ComputePrecision = Literal["bf16", "fp8", "mxfp8", "int8", "nvfp4", "mxfp4"]
KvPrecision = Literal["bf16", "fp8", "int8"]
DispatchPrecision = Literal["bf16", "fp8", "int8", "nvfp4"]
MAX_DRAFT_TOKENS = 16
"""More draft tokens per step than any engine runs (EAGLE trees verify up to ~64 nodes, but chains
of more than 8 accept almost nothing more)."""
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), BeforeValidator(_number)]


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


class ServePool(_Frozen):
    """One pool of a disaggregated deployment: ``instances`` serving instances of ``chips``
    packages of ``chip`` each (prefill or decode instances; attention or expert chips), laid out
    as ``tp, pp, ep, dp`` (devices; unset: searched), ``batch`` concurrent sequences per
    instance (unset: searched).

    ``chip`` and ``system`` default to the question's; ``instances`` unset is searched: the
    ratio of prefill to decode instances (`chipgap.analyses.disaggregation`).
    """

    chip: Name | None = None
    system: Name | None = None
    chips: Chips = 1
    instances: Annotated[int, Field(strict=True, ge=1, le=4096), BeforeValidator(_plain_int)] | None = None
    tp: Count | None = None
    pp: Count | None = None
    ep: Count | None = None
    dp: Count | None = None
    batch: Annotated[int, Field(strict=True, ge=1, le=1 << 24), BeforeValidator(_plain_int)] | None = None

    def layout(self) -> ServeLayout:
        """The instance layout it fixes (the rest searched)."""
        return ServeLayout(tp=self.tp, pp=self.pp, ep=self.ep, dp=self.dp)


DISAGGREGATION_FIELDS = ("prefill_pool", "decode_pool", "kv_transfer", "attention_pool", "expert_pool",
                         "afd_microbatches")
"""`ServeQuestion`'s fields of a disaggregated deployment (`chipgap.analyses.disaggregation`)."""


def _pool_rule(code: str, message: str, **ctx: Any) -> ValueError:
    """A rule across a disaggregated question's fields, broken (``code`` names the rule)."""
    return ValueError(message.format(**ctx))


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
    precision : {'bf16', 'fp8', 'mxfp8', 'nvfp4'}, default='bf16'
        What the recipe's matrix multiplies run in: per-tensor FP8, block-scaled MXFP8 (32-element
        E8M0 scales) or NVFP4 (16-element E4M3 scales), each on units the chip has (refused
        otherwise: a training recipe does not fall back).
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
    weight_precision : {'bf16', 'fp8', 'mxfp8', 'int8', 'int4', 'nvfp4', 'mxfp4'}, default='bf16'
        What the weights are stored in (block-scaled formats with their scales).
    kv_precision : {'bf16', 'fp8', 'int8'}, default='bf16'
    attention_precision : {'bf16', 'fp8'}, default='bf16'
        What the attention kernels multiply in: 'fp8' where the engine runs FP8 attention
        (FlashAttention-3's FP8 path, FlashMLA's FP8 kernels), at the chip's 8-bit peak.
    mtp_accept : float or None, default=None
        Acceptance rate of one multi-token-prediction draft token (None: no speculation); the
        same as ``draft_tokens`` 1 with ``accept_rates`` ``[mtp_accept]``.
    compute_precision : {'bf16', 'fp8', 'mxfp8', 'int8', 'nvfp4', 'mxfp4'} or None, default=None
        What the MLP and expert GEMMs multiply in, their activations quantized to it (None: the
        weights' own format, bf16 for int4). 'int8' with int4 weights is W4A8; a wider format than
        the weights' dequantizes them in the GEMM. A chip without units for it runs bf16, and the
        answer's assumptions say so.
    attention_weight_precision : str or None, default=None
        The attention projections' weights where a checkpoint keeps them in another format than the
        MLP and experts (None: ``weight_precision``); they multiply in their own default format.
    dispatch_precision : {'bf16', 'fp8', 'int8', 'nvfp4'}, default='fp8'
        What expert-parallel dispatch sends tokens in (DeepEP's FP8 dispatch; combine is bf16).
    draft_tokens : int or None, default=None
        Draft tokens proposed per decode step, verified together in one pass over draft_tokens + 1
        tokens per sequence (MTP / NEXTN steps, EAGLE chain length). None: no speculation, or,
        given ``accept_rates``, every count from 0 to their length searched.
    accept_rates : list of float or None, default=None
        Acceptance rate of each draft position given the ones before it were accepted.
    accept_length : float or None, default=None
        Mean tokens a verify step emits (accepted drafts plus the verified token), as engines
        print it, 1 to draft_tokens + 1.
    draft_model : str, default='mtp'
        What drafts: 'mtp', the model's own multi-token-prediction module (one decoder layer and
        the shared LM head, run once per draft token), or a catalog workload (an EAGLE-3 head or a
        small model).
    weight_offload : float or 'auto', default=0
        Fraction of the weights kept in host memory and streamed over the host link (NVLink-C2C,
        PCIe) each pass, prefetched layer by layer; 'auto': the least that fits.
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
    prefill_pool, decode_pool : ServePool or None, default=None
        A disaggregated deployment: prefill instances and decode instances (`ServePool`), both
        or neither; the prefill-to-decode ratio is searched where their ``instances`` are
        unset, for output tokens per second per chip under ``ttft_ms`` and ``tpot_ms``
        (phase 'serve'). ``chips``, when above 1, caps the packages of both pools together.
    kv_transfer : {'scaleup', 'scaleout'} or None, default=None
        The fabric a prefill instance hands each request's KV cache to a decode instance over
        (None: the scale-up fabric where one prefill and one decode instance fit in one
        scale-up domain of the system, else the scale-out network).
    attention_pool, expert_pool : ServePool or None, default=None
        Attention-FFN disaggregation (phase 'decode'): attention (with the dense layers and
        shared experts) on the attention pool's chips, routed experts spread over the expert
        pool's, the activations of every MoE layer sent between them (one instance each).
    afd_microbatches : int or None, default=None
        Micro-batches the attention-FFN ping-pong pipeline splits a batch into (None: 1 to 4
        searched).
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
    # -- number formats, speculative decoding and weight offload (issue 18) ------------------------
    compute_precision: ComputePrecision | None = None
    attention_weight_precision: WeightPrecision | None = None
    dispatch_precision: DispatchPrecision = "fp8"
    draft_tokens: Annotated[int, Field(strict=True, ge=0, le=MAX_DRAFT_TOKENS),
                            BeforeValidator(_plain_int)] | None = None
    accept_rates: Annotated[tuple[Fraction, ...], Field(min_length=1, max_length=MAX_DRAFT_TOKENS),
                            BeforeValidator(_list_of_numbers)] | None = None
    accept_length: Annotated[float, Field(ge=1, le=MAX_DRAFT_TOKENS + 1, allow_inf_nan=False),
                             BeforeValidator(_number)] | None = Field(default=None, validate_default=True)
    draft_model: Name = "mtp"
    weight_offload: float | Literal["auto"] = 0.0
    # ------------------------------------------------------------------------------------------------
    ep_overlap: Switch = True
    ep_imbalance: Annotated[float, Field(ge=1, allow_inf_nan=False), BeforeValidator(_number)] = 1.0
    memory_gb: Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(_number)] | None = None
    ttft_ms: Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(_number)] | None = None
    tpot_ms: Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(_number)] | None = Field(
        default=None, validation_alias=AliasChoices("tpot_ms", "tpot_slo_ms"))
    samples: Annotated[int, Field(strict=True, ge=0, le=MAX_SAMPLES), BeforeValidator(_plain_int)] = 0
    seed: Annotated[int, Field(strict=True, ge=0), BeforeValidator(_plain_int)] = 0
    # -- disaggregated deployments (chipgap.analyses.disaggregation); kept together, after the
    # fields their rules read --
    prefill_pool: ServePool | None = None
    decode_pool: ServePool | None = Field(default=None, validate_default=True)
    kv_transfer: Literal["scaleup", "scaleout"] | None = Field(default=None, validate_default=True)
    attention_pool: ServePool | None = None
    expert_pool: ServePool | None = Field(default=None, validate_default=True)
    afd_microbatches: Annotated[int, Field(strict=True, ge=1, le=16), BeforeValidator(_plain_int)] | None = Field(
        default=None, validate_default=True)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    # rules across fields read the fields declared before them (info.data), as ServingJob's do
    @field_validator("compute_precision")
    @classmethod
    def _weights_feed_compute(cls, v: str | None, info: ValidationInfo) -> str | None:
        weights = info.data.get("weight_precision")
        if v is not None and weights is not None and v not in COMPUTES_IN[weights]:
            raise PydanticCustomError("compute_format", "must be one {weights} weights can feed: {allowed}",
                                      {"weights": weights, "allowed": ", ".join(COMPUTES_IN[weights])})
        return v

    @field_validator("draft_tokens")
    @classmethod
    def _one_mtp_input(cls, v: int | None, info: ValidationInfo) -> int | None:
        if v is not None and v != 1 and info.data.get("mtp_accept") is not None:
            raise PydanticCustomError("mtp_accept_is_one", "must be 1 or left out with mtp_accept (one draft "
                                                           "token's acceptance)")
        return v

    @field_validator("accept_rates")
    @classmethod
    def _rates_cover_drafts(cls, v: tuple | None, info: ValidationInfo) -> tuple | None:
        k = info.data.get("draft_tokens")
        if v is not None and info.data.get("mtp_accept") is not None:
            raise PydanticCustomError("one_acceptance", "must be left out with mtp_accept (give one of them)")
        if v is not None and k is not None and k > len(v):
            raise PydanticCustomError("rates_cover_drafts", "must give a rate for each of the {k} draft tokens",
                                      {"k": k})
        return v

    @field_validator("accept_length")
    @classmethod
    def _length_within_drafts(cls, v: float | None, info: ValidationInfo) -> float | None:
        k = info.data.get("draft_tokens")
        if v is None:
            if k and info.data.get("accept_rates") is None and info.data.get("mtp_accept") is None:
                raise ValueError(f"is needed with draft_tokens {k} (or accept_rates, or mtp_accept): how many "
                                 "drafts are accepted")
            return v
        if info.data.get("mtp_accept") is not None or info.data.get("accept_rates") is not None:
            raise PydanticCustomError("one_acceptance", "must be left out with mtp_accept or accept_rates "
                                                        "(give one of them)")
        if not k:
            raise PydanticCustomError("length_needs_drafts", "needs draft_tokens (at least 1): the mean "
                                                             "tokens a step emits is of a given draft count")
        if v > k + 1:
            raise PydanticCustomError("length_within_drafts", "must be at most draft_tokens + 1 ({n})",
                                      {"n": k + 1})
        return v

    @field_validator("weight_offload", mode="before")
    @classmethod
    def _offload_fraction(cls, v: Any) -> Any:
        if v == "auto":
            return v
        v = _number(v)
        if not (isinstance(v, (int, float)) and 0 <= v < 1):
            raise ValueError("must be a fraction from 0 up to (not including) 1, or 'auto'")
        return float(v)

    @field_validator("decode_pool", "expert_pool")
    @classmethod
    def _pools_come_in_pairs(cls, v: ServePool | None, info: ValidationInfo) -> ServePool | None:
        first = {"decode_pool": "prefill_pool", "expert_pool": "attention_pool"}[info.field_name]
        if (v is None) != (info.data.get(first) is None):
            raise _pool_rule("pools_in_pairs", "must be given together with {other}", other=first)
        if v is None:
            return v
        d = info.data
        phase = "serve" if info.field_name == "decode_pool" else "decode"
        if info.field_name == "expert_pool" and d.get("prefill_pool") is not None:
            raise _pool_rule("one_disaggregation", "must be left out with prefill_pool and decode_pool: a "
                                                   "deployment is prefill/decode or attention-FFN disaggregated")
        if d.get("phase", "serve") != phase:
            raise _pool_rule("pool_phase", "needs phase {phase} (got {got})", phase=phase, got=d.get("phase"))
        for name, unset in (("requests", None), ("batch", None), ("samples", 0)):
            if d.get(name, unset) != unset:
                raise _pool_rule("pool_field", "is a disaggregated deployment: {name} must be left out (each "
                                               "pool says its own batch; no samples yet)", name=name)
        if d.get("layout") is not None and d["layout"].model_dump(exclude_none=True):
            raise _pool_rule("pool_field", "is a disaggregated deployment: layout must be left out (each pool "
                                           "says its own)")
        return v

    @field_validator("kv_transfer", "afd_microbatches")
    @classmethod
    def _only_with_its_pools(cls, v: Any, info: ValidationInfo) -> Any:
        needs = {"kv_transfer": "decode_pool", "afd_microbatches": "expert_pool"}[info.field_name]
        if v is not None and info.data.get(needs) is None:
            raise _pool_rule("pool_option", "applies to a deployment with {needs} only", needs=needs)
        return v

    @property
    def disaggregated(self) -> str | None:
        """'pd' (prefill and decode pools), 'afd' (attention and expert pools) or None."""
        return "pd" if self.decode_pool is not None else "afd" if self.expert_pool is not None else None

    @property
    def job(self) -> ServingJob:
        """The requests and engine settings alone."""
        return ServingJob(**{k: getattr(self, k) for k in ServingJob.model_fields})


Question = Annotated[TrainQuestion | ServeQuestion, Field(discriminator="ask")]
