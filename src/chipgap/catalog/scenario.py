"""Scenario files: named, sourced changes to the catalog and the questions to ask of them.

A scenario is one YAML file::

    name: ascend-910d-rivals-h100
    title: The Ascend 910D rivals the H100 by 2026
    description: What the quad-die rumour implies if it ships.
    sources: [trendforce-wsj-910d-2025]
    catalog:                      # read on top of the catalog, like a --catalog folder
      chips:
        - id: huawei-ascend-910d
          bf16_dense_tflops: {value: [750, 1500], mode: 1130, source: ..., confidence: estimate}
    questions:
      - id: train-70b
        ask: train                # train | serve | spec | supply | chip-cost | shock
        chips: [huawei-ascend-910d, nvidia-h100-sxm]    # asked of each chip
        n_chips: 1024
        model: llama-3.1-70b      # and any other field of chipgap.catalog.TrainQuestion
        seq_len: 8192
        global_batch: 1024
        claim: {metric: tokens_per_s, a: huawei-ascend-910d, b: nvidia-h100-sxm}
        published: [some-run-id]  # published runs of these instances, shown beside the answer

The ``catalog`` section holds the same sections as catalog files (chips, systems, supply, ...):
an entry with a new id is added, an entry with a known id changes the fields it names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from chipgap.catalog.question import ServeQuestion, TrainQuestion
from chipgap.catalog.yamlio import read_yaml
from chipgap.errors import CatalogError, validation_message

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80)]
PositiveInt = Annotated[int, Field(strict=True, ge=1, le=1 << 20)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Claim(_Strict):
    """A statement to put a probability on: ``metric`` of chip ``a`` >= ``ratio`` x that of ``b``.

    For a ``spec`` question ``metric`` is a chip field (``bf16_dense_tflops``); for ``train``
    and ``serve`` it is a result column (``tokens_per_s``, ``tokens_per_s_per_chip``, ...).
    """

    metric: str
    a: str
    b: str
    ratio: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0
    text: str | None = None


class _Question(_Strict):
    id: Id
    title: str | None = None


class _Ask(_Question):
    """A performance question asked of each chip of ``chips`` on ``n_chips`` of it. Every other
    field is a field of the question record (`question_type`), which checks it: a scenario holds
    the same question the CLI and the API ask, once per chip."""

    model_config = ConfigDict(extra="allow", frozen=True)
    question_type: ClassVar[type[BaseModel]]
    chips: list[str] = Field(min_length=1, max_length=12)
    n_chips: PositiveInt
    claim: Claim | None = None
    published: list[Id] = Field(default_factory=list, max_length=12)
    """Ids of the catalog's published runs of these instances (``runs`` or ``serving_runs``),
    whose measurements a report sets beside the answer (each at its own settings)."""

    @model_validator(mode="after")
    def _is_a_question(self) -> _Ask:
        for name in ("chip", "samples", "seed", "ask"):
            if name in (self.model_extra or {}):
                raise ValueError(f"'{name}' is set by the scenario, not by a question")
        self.question(self.chips[0])       # the question record's own rules, once
        return self

    @property
    def model(self) -> str | None:
        return (self.model_extra or {}).get("model")

    def question(self, chip: str, samples: int = 0, seed: int = 0) -> Any:
        """The question asked of ``chip``, with ``samples`` Monte-Carlo draws."""
        fields = {**(self.model_extra or {}), "chip": chip, "chips": self.n_chips, "samples": samples,
                  "seed": seed}
        return self.question_type(**fields)


class TrainAsk(_Ask):
    """`chipgap.catalog.question.TrainQuestion` on each chip: training throughput with the
    specs' spread."""

    ask: Literal["train"]
    question_type: ClassVar[type[BaseModel]] = TrainQuestion


class ServeAsk(_Ask):
    """`chipgap.catalog.question.ServeQuestion` on each chip: serving throughput per chip under
    SLOs on an instance of ``n_chips``."""

    ask: Literal["serve"]
    question_type: ClassVar[type[BaseModel]] = ServeQuestion


class SpecQuestion(_Question):
    """The spread of chip specs (catalog quantity fields)."""

    ask: Literal["spec"]
    chips: list[str] = Field(min_length=1, max_length=40)
    fields: list[str] = Field(min_length=1, max_length=20)
    claim: Claim | None = None


class SupplyQuestion(_Question):
    """Chips and H100-equivalents each supply scenario yields, with the binding input."""

    ask: Literal["supply"]
    scenarios: list[str] = Field(min_length=1, max_length=12)


class ChipCostQuestion(_Question):
    """Unit cost of each chip at its reported yields."""

    ask: Literal["chip-cost"]
    chips: list[str] = Field(min_length=1, max_length=12)


class ShockQuestion(_Question):
    """Which chips a supply-chain shock reaches (``no-hbm-imports``, ``foundry:X``, ``node:X``)."""

    ask: Literal["shock"]
    shock: str


Question = Annotated[TrainAsk | ServeAsk | SpecQuestion | SupplyQuestion | ChipCostQuestion
                     | ShockQuestion, Field(discriminator="ask")]


class Scenario(_Strict):
    """A named, sourced change to the catalog, with the questions it is meant to answer.

    Attributes
    ----------
    name : str
        Short id (lower case, digits, ``-``).
    title, description : str
    sources : list of str
        Catalog source ids (or ones the scenario's ``catalog.sources`` adds) behind its changes.
    catalog : dict
        Catalog sections read on top of the catalog.
    questions : list of questions
    file : str
        Where the scenario was read from (set by `read_scenario`).
    """

    name: Id
    title: str
    description: str
    sources: list[str] = Field(min_length=1)
    catalog: dict[str, Any] = Field(default_factory=dict)
    questions: list[Question] = Field(min_length=1, max_length=50)
    file: str = ""

    @field_validator("questions")
    @classmethod
    def _unique_ids(cls, questions: list[Question]) -> list[Question]:
        first: dict[str, int] = {}
        for i, q in enumerate(questions):
            if q.id in first:
                raise PydanticCustomError("duplicate_id", "ids must be unique: questions {a} and {b} are both "
                                                          "'{id}'", {"a": first[q.id], "b": i, "id": q.id})
            first[q.id] = i
        return questions

    def overlay(self) -> tuple[str, Path, dict[str, Any]]:
        """The scenario's catalog changes as an overlay for `chipgap.catalog.load_catalog`."""
        return (f"{self.file} (catalog)", Path(self.file).parent, self.catalog)


def bundled_scenarios_dir() -> Path:
    """The folder of scenarios that ship with chipgap."""
    return Path(__file__).parent / "scenarios"


def find_scenario(name_or_path: str | Path) -> Path:
    """A scenario file by path, or by the name of a bundled one (``ascend-910d-2026``)."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml"):
        return p
    bundled = bundled_scenarios_dir() / f"{name_or_path}.yaml"
    if bundled.is_file():
        return bundled
    known = sorted(f.stem for f in bundled_scenarios_dir().glob("*.yaml"))
    raise CatalogError(str(name_or_path), "is neither a .yaml file nor a bundled scenario; bundled: "
                                          + ", ".join(known))


def read_scenario(name_or_path: str | Path) -> Scenario:
    """Read and validate a scenario file (or a bundled scenario by name).

    Raises
    ------
    CatalogError
        Naming the file and the field, when the file is missing, not safe YAML or not a scenario.
    """
    path = find_scenario(name_or_path)
    label = str(path)
    if not path.is_file():
        raise CatalogError(label, "does not exist or is not a file")
    doc = read_yaml(path, label)
    if not isinstance(doc, dict):
        raise CatalogError(label, "must be a mapping with name, title, description, sources and questions")
    try:
        return Scenario.model_validate({**doc, "file": label})
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()))
        raise CatalogError(label, validation_message(err), field=where or None) from None
