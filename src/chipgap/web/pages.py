"""The workbench's pages, rendered on the server (Jinja2, every text escaped).

Overview and Assumptions show the report's answers under this browser's set of changed
assumptions (a cookie); Chips, Train, Serve and Sweeps are forms whose URL is the question.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError

from chipgap import __version__
from chipgap.catalog.question import ServeQuestion, TrainQuestion
from chipgap.errors import ChipgapError, validation_message
from chipgap.web import charts, forms, work

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.globals["version"] = __version__
templates.env.filters["num"] = lambda v: _num(v)

PAGES = (("/", "Overview"), ("/assumptions", "Assumptions"), ("/chips", "Chips"), ("/train", "Train"),
         ("/serve", "Serve"), ("/sweeps", "Sweeps"), ("/apidoc", "API"))
RELATED = {"spec-gap": ("/chips/compare?ids=huawei-ascend-910c&ids=nvidia-h100-sxm", "compare the chips"),
           "export-controls": ("/chips", "every chip's export status"),
           "workloads": ("/train?model=llama-3.1-70b&chip=huawei-ascend-910c&chips=1024&seq_len=8192",
                         "ask the training question"),
           "clustering": ("/serve?model=deepseek-r1&chip=huawei-ascend-910c&chips=160&phase=decode&input_len=4096"
                          "&weight_precision=int8&tpot_ms=50", "ask the decode question"),
           "unit-cost": ("/assumptions#g-0", "change the yields and cost inputs"),
           "tco": ("/assumptions#g-1", "change prices, electricity and PUE"),
           "supply": ("/assumptions#g-3", "change the supply inputs"),
           "cpus": ("/serve?model=deepseek-r1-distill-qwen-7b&chip=zhaoxin-kh-40000&phase=decode&batch=1"
                    "&weight_precision=int4", "ask the CPU question")}


def _num(v: Any) -> str:
    from chipgap.text import num

    if v is None:
        return ""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    return num(v) if v == v else "n/a"


def page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"pages": PAGES, "path": request.url.path, **ctx},
                                      status_code=status)


def error_page(request: Request, message: str, status: int) -> HTMLResponse:
    return page(request, "error.html", status, title="Error", message=message)


# -- overview and assumptions -----------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
async def overview(request: Request) -> HTMLResponse:
    st = work.state(request)
    changes = work.current_changes(request)
    st.report_future(())
    st.report_future(changes)
    base, built = st.report_ready(()), st.report_ready(changes)
    data = work.answers_json(base, built) if base and built else None
    return page(request, "overview.html", title="Overview", data=data, changes=changes, related=RELATED,
                settings=st.settings)


@router.get("/fragment/answers", response_class=HTMLResponse)
async def answers_fragment(request: Request) -> HTMLResponse:
    st = work.state(request)
    changes = work.current_changes(request)
    base = await st.wait(st.report_future(()))
    built = await st.wait(st.report_future(changes)) if changes else base
    return templates.TemplateResponse(request, "answers.html", {"data": work.answers_json(base, built),
                                                                "related": RELATED,
                                                                "diff": request.query_params.get("diff") == "1"})


@router.get("/assumptions", response_class=HTMLResponse)
async def assumptions(request: Request) -> HTMLResponse:
    from chipgap.analyses.assumptions import GROUPS

    st = work.state(request)
    cat = st.catalog()
    changes = {c.key: c for c in work.current_changes(request)}
    groups: dict[str, list] = {g: [] for g in GROUPS}
    for i in work.listed_inputs(cat):
        groups[i.group].append(i)
    st.report_future(())
    if changes:
        st.report_future(list(changes.values()))
    return page(request, "assumptions.html", title="Assumptions", groups=groups, changes=changes,
                sources=cat.all("source"), value_text=work.value_text, change_text=work.change_text,
                scenario_specs=_scenario_specs(), settings=st.settings)


def _scenario_specs() -> list[dict[str, Any]]:
    """The bundled 910D scenario's assumed specs (read-only: the report applies that scenario on
    top of a user's, so a workbench change to them would not carry into chipgap report)."""
    from chipgap.catalog.quantity import Quantity
    from chipgap.catalog.scenario import read_scenario

    sc = read_scenario("ascend-910d-2026")
    rows = []
    for section, items in sc.catalog.items():
        for e in items:
            for k, v in e.items():
                if isinstance(v, dict) and "value" in v:
                    q = Quantity.model_validate(v)
                    rows.append({"entry": f"{section}: {e['id']}", "field": k, "quantity": q})
    return rows


@router.get("/scenario.yaml")
async def scenario_yaml(request: Request) -> Response:
    from chipgap.analyses.assumptions import scenario_document, to_yaml

    changes = work.current_changes(request)
    text = to_yaml(scenario_document(work.state(request).catalog(), changes))
    name = f"chipgap-workbench-{datetime.date.today().isoformat()}.yaml"
    return PlainTextResponse(text, media_type="application/yaml",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/reset")
async def reset(request: Request) -> Response:
    resp = RedirectResponse(request.query_params.get("to", "/assumptions") if
                            request.query_params.get("to", "").startswith("/") else "/assumptions", 303)
    resp.delete_cookie(work.COOKIE)
    return resp


@router.get("/report", response_class=HTMLResponse)
async def report(request: Request) -> HTMLResponse:
    """The whole report under this browser's changes (its own policy: inline styles and images)."""
    from chipgap.report.render import CSP, to_html

    st = work.state(request)
    built = await st.wait(st.report_future(work.current_changes(request)))
    return HTMLResponse(to_html(built.report), headers={"Content-Security-Policy": CSP})


# -- chips ------------------------------------------------------------------------------------------
CHIP_COLUMNS = (("bf16_dense_tflops", "BF16 TFLOPS"), ("fp8_dense_tflops", "FP8 TFLOPS"),
                ("int8_dense_tops", "INT8 TOPS"), ("memory_capacity_gib", "memory GiB"),
                ("memory_bw_gbps", "memory GB/s"), ("scaleup_bw_gbps_unidir", "scale-up GB/s each way"),
                ("tdp_w", "TDP W"), ("price_usd", "price US$"))


def _chips_table(cat: Any) -> list[dict[str, Any]]:
    from chipgap.analyses.export import export_status

    rules = [r for r in cat.rules.values() if r.status != "rescinded"]
    latest = rules[-1].id
    status = export_status(cat, rules=[latest], samples=200)
    by_chip = {r.chip: r for r in status.itertuples()}
    rows = []
    for c in cat.all("chip").values():
        s = by_chip.get(c.id)
        rows.append({"chip": c, "status": s.label if s is not None else "CPU (not classified)",
                     "values": [getattr(c, f) for f, _ in CHIP_COLUMNS]})
    return rows


@router.get("/chips", response_class=HTMLResponse)
async def chips(request: Request) -> HTMLResponse:
    st = work.state(request)
    cat = st.catalog()
    rows = await st.run(_chips_table, cat)
    latest = [r for r in cat.rules.values() if r.status != "rescinded"][-1].id
    return page(request, "chips.html", title="Chips", rows=rows, columns=CHIP_COLUMNS, rule=latest,
                countries=sorted({r["chip"].country for r in rows}),
                vendors=sorted({r["chip"].vendor for r in rows}))


@router.get("/chips/compare", response_class=HTMLResponse)
async def compare(request: Request) -> HTMLResponse:
    from chipgap.analyses.export import export_status
    from chipgap.catalog.schema import Chip, quantity_fields

    st = work.state(request)
    cat = st.catalog()
    ids = list(dict.fromkeys(cat.resolve("chip", i) for i in request.query_params.getlist("ids")[:8]))
    if not ids:
        return RedirectResponse("/chips", 303)
    chips_ = [cat.chip(i) for i in ids]
    fields = [f for f in quantity_fields(Chip) if any(getattr(c, f) is not None for c in chips_)]
    accel = [c.id for c in chips_ if c.kind != "cpu"]
    status = await st.run(lambda: export_status(cat, accel, samples=500)) if accel else None
    rules = list(cat.rules)
    cells = {(r.chip, r.rule): r for r in status.itertuples()} if status is not None else {}
    return page(request, "compare.html", title="Compare chips", chips=chips_, fields=fields,
                sources=cat.all("source"), rules=rules, export=cells, all_rules=cat.rules)


# -- train and serve ----------------------------------------------------------------------------------
async def _question_page(request: Request, cls: type[BaseModel], template: str, title: str) -> HTMLResponse:
    st = work.state(request)
    cat = st.catalog()
    params = dict(request.query_params)
    top = _int(params.pop("_top", None), 5, 1, 100)
    tokens = _float(params.pop("_tokens", None))
    data = forms.question_data(cls, params)
    ctx: dict[str, Any] = {"title": title, "fields": forms.form_fields(cls), "values": params, "top": top,
                           "tokens": tokens, "models": sorted(cat.all("workload")), "chip_ids": sorted(cat.all("chip")),
                           "systems": sorted(cat.all("system"))}
    required = [f.name for f in ctx["fields"] if f.required]
    if not all(k in data for k in required):
        return page(request, template, **ctx)
    try:
        q = cls.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        ctx["error"] = (".".join(str(p) for p in err["loc"]), validation_message(err))
        return page(request, template, 422, **ctx)
    try:
        a = await work.answer(request, q)
    except ChipgapError as e:
        ctx["error"] = (getattr(e, "field", None) or getattr(e, "parameter", ""), str(e))
        return page(request, template, 422, **ctx)
    ctx.update(result=a.to_dict(top, tokens), question=q, share=forms.query_string(q),
               body=q.model_dump_json(exclude_defaults=True, indent=2), charts=_charts(a, q))
    return page(request, template, **ctx)


def _charts(a: Any, q: Any) -> dict[str, Any]:
    from chipgap.analyses.answer import SERVE_METRICS

    out: dict[str, Any] = {}
    d = a.to_dict(1)
    first = (d.get("results") or [d.get("result")])[0] if (d.get("results") or d.get("result")) else None
    if isinstance(q, TrainQuestion):
        if first:
            out["breakdown"] = charts.bars(first["breakdown_s"], "Where a step goes (first layout)", "seconds")
            out["memory"] = charts.bars(first["memory_breakdown_gb"], "Memory per chip (first layout)", "GB")
        spread = a.spread(("tokens_per_s", "tflops_per_chip", "mfu", "step_time_s"))
    elif q.disaggregated:          # a table of ratios or pipeline settings: no step breakdown or front
        spread = None
    else:
        if first:
            out["breakdown"] = charts.bars(first["breakdown_ms"], "Where a decode step goes (first row)", "ms")
        out["pareto"] = charts.pareto(a.table, a.pareto(), q.tpot_ms, "Throughput per chip against TPOT")
        spread = a.spread(SERVE_METRICS)
    if spread is not None:
        out["spread"] = charts.spread(spread, "P10-P90 over the chip's spec ranges, relative to P50")
    return out


def _int(v: str | None, default: int, lo: int, hi: int) -> int:
    try:
        return min(max(int(v), lo), hi) if v else default
    except ValueError:
        return default


def _float(v: str | None) -> float | None:
    try:
        x = float(v) if v else None
    except ValueError:
        return None
    return x if x is not None and x > 0 and x == x and x != float("inf") else None


@router.get("/train", response_class=HTMLResponse)
async def train(request: Request) -> HTMLResponse:
    return await _question_page(request, TrainQuestion, "question.html", "Train")


@router.get("/serve", response_class=HTMLResponse)
async def serve(request: Request) -> HTMLResponse:
    return await _question_page(request, ServeQuestion, "question.html", "Serve")


# -- sweeps -------------------------------------------------------------------------------------------
DEFAULT_SQL = "SELECT * FROM results WHERE valid LIMIT 200"


@router.get("/sweeps", response_class=HTMLResponse)
async def sweeps(request: Request) -> HTMLResponse:
    p = request.query_params
    folder, sql = p.get("dir", "").strip(), p.get("sql", "").strip() or DEFAULT_SQL
    x, y, color, mark = p.get("x", ""), p.get("y", ""), p.get("color", ""), p.get("mark", "point")
    ctx: dict[str, Any] = {"title": "Sweeps", "folder": folder, "sql": sql, "x": x, "y": y, "color": color,
                           "mark": mark if mark in ("point", "line", "bar") else "point"}
    if folder:
        if len(sql) > 10_000:
            ctx["error"] = "the query is longer than 10,000 characters"
            return page(request, "sweeps.html", 422, **ctx)
        try:
            df = await work.state(request).run(work.sweep_query, folder, sql)
        except ChipgapError as e:
            ctx["error"] = str(e)
            return page(request, "sweeps.html", 422, **ctx)
        cols = list(map(str, df.columns))
        ctx.update(columns=cols, rows=df.head(500).to_dict("records"), total=len(df))
        if x in cols and y in cols:
            ctx["chart"] = charts.sweep(df, x, y, color if color in cols else None, ctx["mark"])
    return page(request, "sweeps.html", **ctx)


# -- the API's reference --------------------------------------------------------------------------------
@router.get("/apidoc", response_class=HTMLResponse)
async def apidoc(request: Request) -> HTMLResponse:
    spec = request.app.openapi()
    routes = [{"path": path, "method": m.upper(), "summary": op.get("summary", ""),
               "body": next(iter(op.get("requestBody", {}).get("content", {}).values()), {}).get("schema", {})
               .get("$ref", "").split("/")[-1]}
              for path, ops in spec["paths"].items() for m, op in ops.items()]
    return page(request, "apidoc.html", title="API", routes=routes)
