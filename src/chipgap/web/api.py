"""The workbench's JSON API under ``/api/``: the Python API's calls, one route each.

Request bodies are the question records themselves (`chipgap.catalog.TrainQuestion`,
`ServeQuestion`) or small records of the same kind, validated by FastAPI: invalid input is a 422
naming the field and what was expected. ``/api/train`` and ``/api/serve`` return
`chipgap.analyses.answer.Answer.to_dict`, the JSON ``chipgap train|infer --format json`` prints.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from chipgap.catalog.question import ServeQuestion, TrainQuestion
from chipgap.errors import InputError
from chipgap.jsondata import jsonable
from chipgap.web import work

router = APIRouter(prefix="/api", tags=["api"])
Name = Annotated[str, Field(min_length=1, max_length=300)]
Samples = Annotated[int, Field(ge=0, le=20_000)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


@router.post("/train", summary="Train a model on chips: best layouts, breakdown, spread")
async def api_train(request: Request, question: TrainQuestion,
                    top: Annotated[int, Query(ge=1, le=1000)] = 5,
                    tokens: Annotated[float | None, Query(gt=0)] = None) -> JSONResponse:
    """`chipgap.analyses.answer.answer` of a `TrainQuestion`, as ``chipgap train --format json``."""
    a = await work.answer(request, question)
    return JSONResponse(a.to_dict(top, tokens))


@router.post("/serve", summary="Serve a model on an instance: best layouts and batches under the SLOs")
async def api_serve(request: Request, question: ServeQuestion,
                    top: Annotated[int, Query(ge=1, le=100)] = 5) -> JSONResponse:
    """`chipgap.analyses.answer.answer` of a `ServeQuestion`, as ``chipgap infer --format json``."""
    a = await work.answer(request, question)
    return JSONResponse(a.to_dict(top))


@router.get("/schema/{kind}", summary="JSON schema of a question record")
async def api_schema(kind: Literal["train", "serve"]) -> JSONResponse:
    cls = TrainQuestion if kind == "train" else ServeQuestion
    return JSONResponse(cls.model_json_schema(mode="validation"))


class ExportClassify(_Body):
    chips: list[Name] | None = Field(None, min_length=1, max_length=200, description="chip ids or aliases (default: all)")
    rules: list[Name] | None = Field(None, min_length=1, max_length=20, description="rule versions (default: all)")
    samples: Samples = 2000
    seed: Annotated[int, Field(ge=0)] = 0


@router.post("/export/classify", summary="Export-control status of chips under rule versions")
async def api_export(request: Request, body: ExportClassify) -> JSONResponse:
    from chipgap.analyses.export import classify_chips

    cat = work.state(request).catalog()
    df = await work.state(request).run(classify_chips, cat, body.chips, body.rules, body.samples, body.seed)
    return JSONResponse(jsonable(df.to_dict("records")))


class ChipCost(_Body):
    chip: Name
    die_yield: Annotated[float, Field(gt=0, le=1)] | None = None
    price_usd: Annotated[float, Field(gt=0)] | None = None
    samples: Annotated[int, Field(ge=100, le=20_000)] = 4000
    seed: Annotated[int, Field(ge=0)] = 0


@router.post("/econ/chip-cost", summary="Unit cost of a chip at its reported yields")
async def api_chip_cost(request: Request, body: ChipCost) -> JSONResponse:
    from chipgap.analyses.econ import chip_cost

    st = work.state(request)
    df = await st.run(chip_cost, st.catalog(), body.chip, body.die_yield, body.price_usd, body.samples, body.seed)
    return JSONResponse(jsonable(df.to_dict("records")))


class Tco(_Body):
    system: Name
    region: Literal["us", "cn"] = "us"
    electricity_usd_per_kwh: Annotated[float, Field(gt=0)] | None = None
    pue: Annotated[float, Field(ge=1)] | None = None
    utilization: Annotated[float, Field(gt=0, le=1)] = 1.0
    life_years: Annotated[float, Field(gt=0)] | None = None
    tokens_per_s_per_chip: Annotated[float, Field(gt=0)] | None = None
    samples: Annotated[int, Field(ge=100, le=20_000)] = 4000
    seed: Annotated[int, Field(ge=0)] = 0


@router.post("/econ/tco", summary="Cost per chip-hour and per million tokens of a system")
async def api_tco(request: Request, body: Tco) -> JSONResponse:
    from chipgap.analyses.econ import tco

    st = work.state(request)
    args = body.model_dump(exclude={"system"})
    df = await st.run(lambda: tco(st.catalog(), body.system, **args))
    return JSONResponse(jsonable(df.to_dict("records")))


class Supply(_Body):
    scenario: Name = Field(description="supply scenario id, e.g. china-2025-base")
    samples: Annotated[int, Field(ge=100, le=20_000)] = 2000
    seed: Annotated[int, Field(ge=0)] = 0


@router.post("/supply", summary="A supply scenario's output per line, with the input that binds")
async def api_supply(request: Request, body: Supply) -> JSONResponse:
    from chipgap.analyses.supply import supply, supply_inputs

    st = work.state(request)

    def run() -> dict:
        cat = st.catalog()
        return {"scenario": cat.resolve("scenario", body.scenario),
                "rows": supply(cat, body.scenario, body.samples, body.seed).to_dict("records"),
                "inputs": supply_inputs(cat, body.scenario, body.samples, body.seed).to_dict("records")}

    return JSONResponse(jsonable(await st.run(run)))


class ScenarioRun(_Body):
    scenario: Name | None = Field(None, description="a bundled scenario's name (chipgap scenario list)")
    document: dict[str, Any] | None = Field(None, description="a scenario file's content, as JSON")
    samples: Annotated[int, Field(ge=100, le=20_000)] = 2000
    seed: Annotated[int, Field(ge=0)] = 0


@router.post("/scenario/run", summary="Run a scenario: its catalog changes, then its questions")
async def api_scenario_run(request: Request, body: ScenarioRun) -> JSONResponse:
    st = work.state(request)
    if (body.scenario is None) == (body.document is None):
        raise InputError("scenario / document", "exactly one of the two", None)
    out = await st.run(work.run_scenario_json, st.settings.catalog_dir, body.scenario, body.document,
                       body.samples, body.seed)
    return JSONResponse(out)


class ChangeBody(_Body):
    key: Annotated[str, Field(min_length=3, max_length=200)]
    value: float | None = None
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    text: Annotated[str, Field(max_length=100)] | None = Field(
        None, description="the value as typed: 0.6, or 0.5-0.7, or 0.5-0.7 (0.6) (instead of value/low/high/mode)")


class Changes(_Body):
    changes: list[ChangeBody] = Field(default_factory=list, max_length=40)


@router.get("/assumptions", summary="Every assumed or ranged input of the answers, with its source")
async def api_assumptions(request: Request) -> JSONResponse:
    return JSONResponse(jsonable([work.input_json(i) for i in work.listed_inputs(work.state(request).catalog())]))


@router.post("/report/answers", summary="The report's one-line answers under changed assumptions")
async def api_answers(request: Request, body: Changes) -> JSONResponse:
    changes = work.to_changes(request, body.changes)
    st = work.state(request)
    base = await st.wait(st.report_future(()))
    built = await st.wait(st.report_future(changes)) if changes else base
    return JSONResponse(jsonable(work.answers_json(base, built)))


@router.post("/scenario/yaml", summary="A set of changes as a scenario file for chipgap report --scenario",
             response_class=PlainTextResponse)
async def api_scenario_yaml(request: Request, body: Changes) -> PlainTextResponse:
    from chipgap.analyses.assumptions import scenario_document, to_yaml

    changes = work.to_changes(request, body.changes)
    return PlainTextResponse(to_yaml(scenario_document(work.state(request).catalog(), changes)),
                             media_type="application/yaml")


@router.post("/scenario/changes", summary="Read a scenario file (YAML body) back into changes",
             openapi_extra={"requestBody": {"content": {"application/yaml": {"schema": {"type": "string"}}},
                                            "required": True}})
async def api_scenario_changes(request: Request) -> JSONResponse:
    text = await work.read_upload(request)
    st = work.state(request)
    changes, ignored = await st.run(work.changes_from_text, st.catalog(), text)
    return work.with_cookie({"changes": [c.to_dict() for c in changes], "ignored": ignored}, changes)


class SweepQuery(_Body):
    dir: Annotated[str, Field(min_length=1, max_length=1000)] = Field(description="a sweep's output folder")
    sql: Annotated[str, Field(min_length=1, max_length=10_000)]
    limit: Annotated[int, Field(ge=1, le=5000)] = 1000


@router.post("/sweep/query", summary="A read-only DuckDB query over a sweep's results (view 'results')")
async def api_sweep_query(request: Request, body: SweepQuery) -> JSONResponse:
    st = work.state(request)
    df = await st.run(work.sweep_query, body.dir, body.sql)
    return JSONResponse(jsonable({"columns": list(map(str, df.columns)), "rows_total": len(df),
                                  "rows": df.head(body.limit).to_dict("records")}))


@router.post("/changes/check", summary="Check a set of changes and remember it (a cookie) for the pages")
async def api_changes_check(request: Request, body: Annotated[Changes, Body()]) -> JSONResponse:
    changes = work.to_changes(request, body.changes)
    return work.with_cookie({"changes": [c.to_dict() for c in changes]}, changes)
