"""What a sweep spec file holds: the axes of a grid, as frozen pydantic records.

A spec is YAML with ``kind: train`` or ``kind: serve``. Every list is one axis of the grid; the
grid is their cross product (see `chipgap.sweep.plan`). Unknown keys, wrong types, empty
lists, counts below 1 and sizes beyond `chipgap.limits` are refused when the file is read,
naming the file and the field.

Training axes: ``chips`` (each in its usual system, or in each of ``systems`` that holds
it) x ``models`` x ``chip_counts`` x ``shapes`` (``seq_len``, ``global_batch`` pairs) x
``layouts`` (``search``: every layout of `chipgap.analyses.train.layout_grid`, or a list) x
``samples`` Monte-Carlo draws of the chips' uncertain specs (0: the point estimate).

Serving axes: ``chips`` x ``models`` x ``instance_chips`` x ``lengths`` (``input_len``,
``output_len`` pairs, each with an optional ``cached_len`` and ``requests``) x ``layouts`` x
``batches`` x ``samples``.

Each case of the grid is one question record (`chipgap.catalog.TrainQuestion` or
`ServeQuestion`): every other key of the spec (``precision``, ``tpot_ms``, ``phase``, ...) is a
field of that record, with its defaults and rules, and a listed layout leaves what it does not
set to be searched, as a question does.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from chipgap.catalog.question import DISAGGREGATION_FIELDS, Layout, ServeLayout, ServeQuestion, TrainQuestion
from chipgap.catalog.serving_job import ServingJob
from chipgap.catalog.yamlio import read_yaml
from chipgap.errors import CatalogError, FieldError, validation_message
from chipgap.limits import (MAX_BATCH, MAX_CHIPS, MAX_GLOBAL_BATCH, MAX_INSTANCE_CHIPS, MAX_MICRO_BATCH,
                            MAX_PARALLEL, MAX_REQUESTS, MAX_SAMPLES, MAX_SEED, MAX_SEQ_LEN)

def _count(most: int) -> type:
    return Annotated[int, Field(ge=1, le=most, strict=True)]


Count = _count(MAX_PARALLEL)
Chips, InstanceChips = _count(MAX_CHIPS), _count(MAX_INSTANCE_CHIPS)
Tokens, Sequences, Batch = _count(MAX_SEQ_LEN), _count(MAX_GLOBAL_BATCH), _count(MAX_BATCH)
Ids = Annotated[list[str], Field(min_length=1, max_length=1000)]
Slo = Annotated[float, Field(gt=0, allow_inf_nan=False)]
CHUNK_ROWS = 65536
"""Rows per chunk by default: one kernel call of this size keeps its temporaries in cache
(see `chipgap.models.training.train_step_blocked`) and makes a Parquet file of a few MB."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Shape(_Record):
    """One training batch shape: ``global_batch`` sequences of ``seq_len`` tokens per step."""

    seq_len: Tokens
    global_batch: Sequences


class Lengths(_Record):
    """One request shape: ``input_len`` prompt tokens, the first ``cached_len`` of them a
    prefix-cache hit, and ``output_len`` generated ones; ``requests``: an offline job of that
    many requests queued at once (phase serve; default the steady state). With the spec's
    phase and engine it makes one `ServingJob` (`ServeSpec.job`), whose rules apply."""

    input_len: Tokens
    output_len: Tokens
    cached_len: Annotated[int, Field(ge=0, le=MAX_SEQ_LEN, strict=True)] = 0
    requests: _count(MAX_REQUESTS) | None = None


class _Common(_Record):
    chips: Ids
    systems: Annotated[list[str], Field(min_length=1, max_length=1000)] | None = None
    models: Ids
    samples: Annotated[int, Field(ge=0, le=MAX_SAMPLES, strict=True)] = 0
    seed: Annotated[int, Field(ge=0, le=MAX_SEED, strict=True)] = 0
    chunk_rows: Annotated[int, Field(ge=1, le=10_000_000, strict=True)] = CHUNK_ROWS


class _Questions(_Common):
    """Axes over a question record's fields: every key that is not an axis (or ``samples``,
    ``seed``, ``chunk_rows``) is a field of the question (`chipgap.catalog.TrainQuestion` or
    `ServeQuestion`) each case asks, checked by that record."""

    model_config = ConfigDict(extra="allow", frozen=True)
    _set_by_axes: ClassVar[tuple[str, ...]] = ("model", "chip", "chips", "system", "samples", "seed",
                                               "layout", "ask")

    @model_validator(mode="after")
    def _a_case_is_a_question(self) -> _Questions:
        taken = sorted(set(self.model_extra or {}) & set(self._set_by_axes))
        if taken:
            raise FieldError(type(self).__name__, taken[0], "is set by the sweep's axes, not as a question field")
        pools = [k for k in DISAGGREGATION_FIELDS if k in (self.model_extra or {})]
        if pools:
            raise FieldError(type(self).__name__, pools[0], "is a disaggregated deployment, which a sweep does not "
                                                            "evaluate yet (ask it with chipgap infer)")
        for i in range(self._n_shapes()):
            try:
                self.question("chip", None, "model", 1, i)
            except FieldError as e:
                where = e.field if e.field in (self.model_extra or {}) else f"{self._shapes_name}.{i}.{e.field}"
                raise FieldError(type(self).__name__, where, e.message) from None
        return self


class TrainSpec(_Questions):
    """A training sweep (``kind: train``); other keys are `TrainQuestion` fields (``precision``,
    ``flash_attention``, ``dp_overlap``, ...). A listed layout searches the fields it leaves
    unset, as a question does."""

    kind: Literal["train"]
    chip_counts: Annotated[list[Chips], Field(min_length=1, max_length=1000)]
    shapes: Annotated[list[Shape], Field(min_length=1, max_length=1000)]
    layouts: Literal["search"] | Annotated[list[Layout], Field(min_length=1, max_length=100_000)] = "search"
    _shapes_name: ClassVar[str] = "shapes"

    def _n_shapes(self) -> int:
        return len(self.shapes)

    def question(self, chip: str, system: str | None, model: str, chips: int, shape: int,
                 layout: Layout | None = None) -> TrainQuestion:
        """The question of one case: ``shapes[shape]`` of ``model`` on ``chips`` of ``chip``."""
        return TrainQuestion(**(self.model_extra or {}), chip=chip, system=system, model=model, chips=chips,
                             **self.shapes[shape].model_dump(), layout=layout or Layout())


class ServeSpec(_Questions):
    """A serving sweep (``kind: serve``); other keys are `ServeQuestion` fields (``phase``,
    ``weight_precision``, ``tpot_ms``, ``kv_reserve``, ...), applied to every request shape of
    ``lengths``. A listed layout searches the fields it leaves unset."""

    kind: Literal["serve"]
    instance_chips: Annotated[list[InstanceChips], Field(min_length=1, max_length=1000)]
    lengths: Annotated[list[Lengths], Field(min_length=1, max_length=1000)]
    layouts: Literal["search"] | Annotated[list[ServeLayout], Field(min_length=1, max_length=100_000)] = "search"
    batches: Annotated[list[Batch], Field(min_length=1, max_length=10_000)] | None = None
    _shapes_name: ClassVar[str] = "lengths"

    def _n_shapes(self) -> int:
        return len(self.lengths)

    def question(self, chip: str, system: str | None, model: str, chips: int, shape: int,
                 layout: ServeLayout | None = None) -> ServeQuestion:
        """The question of one case: request shape ``lengths[shape]`` on an instance of
        ``chips`` of ``chip`` (its batch searched over ``batches``)."""
        return ServeQuestion(**(self.model_extra or {}), chip=chip, system=system, model=model, chips=chips,
                             **self.lengths[shape].model_dump(), layout=layout or ServeLayout())

    def job(self, i: int) -> ServingJob:
        """The serving job of request shape ``lengths[i]``."""
        return self.question("chip", None, "model", 1, i).job

    @property
    def ttft_ms(self) -> float | None:
        return (self.model_extra or {}).get("ttft_ms")

    @property
    def tpot_ms(self) -> float | None:
        return (self.model_extra or {}).get("tpot_ms")


Spec = TrainSpec | ServeSpec
_ADAPTER: TypeAdapter[Spec] = TypeAdapter(Annotated[Spec, Field(discriminator="kind")])


def _message(e: ValidationError) -> tuple[str, str | None]:
    """The first problem of a validation error as (message, dotted field); of a union's
    alternatives ('search' or a list of layouts) the one that got furthest into the value."""
    errs = e.errors()
    cause = errs[0].get("ctx", {}).get("error")
    if isinstance(cause, FieldError):  # a ServingJob rule, located by ServeSpec._jobs_are_valid
        return cause.message, cause.field
    same = [x for x in errs if tuple(x["loc"][:2]) == tuple(errs[0]["loc"][:2])]
    err = max(same, key=lambda x: len(x["loc"]))
    loc = [str(p) for p in err.get("loc", ())]
    if loc and loc[0] in ("train", "serve"):  # the discriminator's tag
        loc = loc[1:]
    loc = [p for p in loc if not p.startswith(("list[", "literal[", "function-"))]
    if err.get("type") in ("union_tag_invalid", "union_tag_not_found"):
        msg, loc = "must be 'train' or 'serve'", ["kind"]
    else:
        msg = validation_message(err)
    return msg, ".".join(loc) or None


def parse_spec(data: object, label: str = "<spec>") -> Spec:
    """A spec from parsed YAML/JSON data.

    Parameters
    ----------
    data : object
        The parsed document (a mapping).
    label : str, default='<spec>'
        How to name the source in messages.

    Returns
    -------
    TrainSpec or ServeSpec

    Raises
    ------
    CatalogError
        Naming ``label`` and the first field that is wrong.

    Examples
    --------
    >>> s = parse_spec({"kind": "train", "chips": ["h100"], "models": ["llama-3.1-8b"],
    ...                 "chip_counts": [8], "shapes": [{"seq_len": 4096, "global_batch": 64}]})
    >>> s.layouts, s.samples
    ('search', 0)
    """
    if not isinstance(data, dict):
        raise CatalogError(label, "must be a mapping of sweep fields (kind, chips, models, ...)")
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as e:
        msg, field = _message(e)
        raise CatalogError(label, msg, field=field) from None


def load_spec(path: str | Path) -> Spec:
    """Read and check a spec file (safe YAML, no aliases). See `parse_spec`."""
    path = Path(path)
    return parse_spec(read_yaml(path), str(path))


def to_dict(spec: Spec) -> dict:
    """The spec with every default filled in, as plain JSON data."""
    return spec.model_dump(mode="json")


def spec_hash(spec: Spec) -> str:
    """SHA-256 of the spec's canonical JSON: two specs that mean the same have the same hash.

    >>> a = parse_spec({"kind": "train", "chips": ["h100"], "models": ["llama-3.1-8b"],
    ...                 "chip_counts": [8], "shapes": [{"seq_len": 4096, "global_batch": 64}]})
    >>> spec_hash(a) == spec_hash(a.model_copy(update={"seed": 0})), len(spec_hash(a))
    (True, 64)
    """
    text = json.dumps(to_dict(spec), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
