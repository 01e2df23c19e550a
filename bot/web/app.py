"""The web adapter's composition: `create_app(core)` builds the FastAPI app (API, pages, static files, limits,
error rendering) over one Core; `create_app_from_settings()` is the factory uvicorn's workers import
(`uvicorn --factory bot.web.app:create_app_from_settings`), each building its own core from the settings.

No state lives here but caches: any worker or replica can answer any request, so the service scales by adding
workers (WEB_WORKERS) on one machine and replicas behind a reverse proxy past it.
"""
from __future__ import annotations

import contextlib
import logging
from http import HTTPStatus
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse, Response

from bot.core import Core, open_core
from bot.errors import WillItRunError
from bot.llm.queue import GenerationQueue
from bot.settings import Settings
from bot.web import api, kinds_api, pages
from bot.web.limits import RequestLimits, SecurityHeaders
from bot.web.problems import (
    Problem,
    error_problem,
    problem_response,
    problem_type,
    timeout_problem,
    validation_problem,
)
from bot.web.state import Timeout, WebState

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def create_app(core: Core) -> FastAPI:
    settings = core.settings
    web = WebState(core, metrics=_metrics())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        if core.backend is not None:      # the queue belongs to the server's event loop
            web.queue = GenerationQueue(core.backend, max_waiting=settings.llm_queue_max_waiting)
        yield
        await web.close()

    # Swagger UI and ReDoc load scripts from a CDN, which the page's CSP (and promise) rules out: the schema is
    # served as /openapi.json for any OpenAPI viewer
    app = FastAPI(title="willitrun", summary="Will this model run on that hardware?", version="1",
                  docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.web = web
    app.include_router(api.router)
    app.include_router(kinds_api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _add_operations(app, web)
    _add_error_handlers(app)
    # added last = outermost: limits run before anything is parsed, and every response gets the headers
    origins = [o.strip() for o in (settings.web_cors_origins or "").split(",") if o.strip()]
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=["content-type", "accept"])
    app.add_middleware(RequestLimits, rate_per_minute=settings.web_rate_limit_per_minute,
                       burst=settings.web_rate_limit_burst, max_body_bytes=settings.web_max_body_bytes,
                       max_query_chars=settings.web_max_query_chars)
    app.add_middleware(SecurityHeaders)
    return app


def create_app_from_settings() -> FastAPI:
    """The app for the settings in the environment and .env (what each uvicorn worker process calls)."""
    return create_app(open_core(Settings()))


def _metrics():
    try:
        from bot.ops.metrics import Metrics
        return Metrics()
    except WillItRunError:          # prometheus-client is not installed: /metrics says so
        return None


def _add_operations(app: FastAPI, web: WebState) -> None:
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict:
        """Liveness for a load balancer: the core is built (catalog and knowledge base loaded)."""
        core = web.core
        return {"status": "ok", "models": len(core.catalog.models), "hardware": len(core.catalog.hardware),
                "entries": len(core.kb.entries), "language_model": core.backend.name if core.backend else None}

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        if web.metrics is None:
            return problem_response(Problem(title="Not Found", status=404, detail="Metrics need the prometheus-client "
                                            "package: `pip install prometheus-client`."))
        if web.queue is not None:
            web.metrics.set_queue_depth(web.queue.waiting)
        return PlainTextResponse(web.metrics.exposition(), media_type="text/plain; version=0.0.4")


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(WillItRunError)
    async def user_error(request: Request, exc: WillItRunError) -> Response:
        return problem_response(error_problem(exc, request.url.path))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return problem_response(validation_problem(list(exc.errors()), request.url.path))

    @app.exception_handler(Timeout)
    async def too_slow(request: Request, exc: Timeout) -> Response:
        return problem_response(exc.problem.model_copy(update={"instance": request.url.path}))

    @app.exception_handler(TimeoutError)
    async def answer_too_slow(request: Request, exc: TimeoutError) -> Response:
        return problem_response(timeout_problem(request.app.state.web.settings.llm_timeout_s, request.url.path))

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
        return problem_response(Problem(type=problem_type("server-error"), title="Server error", status=500,
                                        detail="Something failed on the server; it has been logged.",
                                        instance=request.url.path))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and _wants_html(request):
            return pages.page(request, "not_found.html", 404, message="There is no page at this address.", links=[])
        problem = Problem(title=HTTPStatus(exc.status_code).phrase, status=exc.status_code,
                          detail=exc.detail if isinstance(exc.detail, str) else None, instance=request.url.path)
        return problem_response(problem, getattr(exc, "headers", None))
