"""The workbench application: pages, the JSON API, static files, and the rules every response
follows (a content-security policy that allows this origin only, no framing, no sniffing).

>>> app = create_app()
>>> sorted(p for p in app.openapi()["paths"] if p.startswith("/api/t"))
['/api/train']
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from chipgap import __version__
from chipgap.errors import CatalogError, ChipgapError, FieldError, InputError, UnknownIdError
from chipgap.web.state import Settings, Workbench

HERE = Path(__file__).parent
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
"""Everything from this origin only: no inline script or style, no CDN, no framing."""
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def _loc(e: ChipgapError) -> list[str]:
    if isinstance(e, FieldError):
        return ["body", *e.field.split(".")]
    if isinstance(e, InputError):
        return ["body", e.parameter]
    if isinstance(e, UnknownIdError):
        return ["body", e.kind]
    if isinstance(e, CatalogError):
        return ["body", *(e.field.split(".") if e.field else ())]
    return ["body"]


def create_app(settings: Settings | None = None, host: str = "127.0.0.1") -> FastAPI:
    """The workbench for ``settings``; ``host`` is where it listens (on a loopback address it
    answers only requests addressed to loopback names, against DNS rebinding).

    Parameters
    ----------
    settings : Settings, optional
    host : str, default='127.0.0.1'

    Returns
    -------
    FastAPI
    """
    bench = Workbench(settings or Settings())

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI):  # noqa: ANN202
        yield
        bench.close()

    app = FastAPI(title="chipgap workbench", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  openapi_url="/api/openapi.json",
                  description="The chipgap Python API over HTTP: train and serve questions, export "
                              "classification, economics, supply, scenarios and sweeps.")
    app.state.workbench = bench
    if host in LOOPBACK:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost", "[::1]", "testserver"])

    @app.middleware("http")
    async def headers(request: Request, call_next):  # noqa: ANN001, ANN202
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(ChipgapError)
    async def chipgap_error(request: Request, e: ChipgapError) -> JSONResponse:
        from chipgap.web import pages

        if not request.url.path.startswith("/api/"):
            return pages.error_page(request, str(e), 422)
        return JSONResponse({"detail": [{"loc": _loc(e), "msg": str(e), "type": "value_error"}]}, 422)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": [_problem(err) for err in e.errors()]}, 422)

    from chipgap.web import api, pages

    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app


def _problem(err: dict) -> dict:
    """One validation problem: where (``loc``), what was expected (``msg``) and what was given.
    A question record refuses a field with `FieldError` from its constructor; its field goes in
    ``loc`` as pydantic's own would."""
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, FieldError):
        return {"loc": [*err.get("loc", ()), *cause.field.split(".")], "msg": cause.message,
                "type": "value_error"}
    out = {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
    if _small(err.get("input")):
        out["input"] = err["input"]
    return out


def _small(x: object) -> bool:
    return isinstance(x, (int, float, str, bool)) and len(str(x)) <= 200
