"""Server-rendered pages: the sizing form and its result (`/`, every result a permalink), its two charts as PNG,
and a page per knowledge entry (`/kb/<id>`). Everything works without JavaScript: the form is a GET form, so a
result's URL is its permalink; /static/app.js only adds autocomplete and updates the result in place.

/whatcanirun (the best models for some hardware) and /compare (setups side by side) are GET forms the same way, each
with its chart; a later answer kind is one route here, one template, and one line in NAV.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from starlette.datastructures import QueryParams
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from bot.charts import chart_alt_text, compare_alt_text, compare_chart, options_alt_text, options_chart
from bot.errors import UnknownNameError, WillItRunError, validation_message
from bot.format import VERDICT_WORDS
from bot.kinds.compare import compare_named
from bot.kinds.what_can_i_run import for_hardware
from bot.permalinks import FORM_FIELDS, permalink_query
from bot.sizing.devices import gb
from bot.sizing.kv_cache import KV_CACHE_TYPES
from bot.sizing.schema import MAX_GPUS, SizingReport, SizingRequest
from bot.web.markdown import render_markdown
from bot.web.problems import (
    PROBLEM_TYPES,
    Problem,
    error_problem,
    problem_response,
    validation_problem,
)
from bot.web.state import WebState

TEMPLATES = Path(__file__).parent / "templates"
# (label, path) of the pages in the header
NAV = (("Will it run?", "/"), ("What can I run?", "/whatcanirun"), ("Compare", "/compare"),
       ("Glossary and errors", "/kb"), ("API", "/openapi.json"))
USES = ("any", "coding", "chat", "reasoning", "vision", "roleplay")
RUN_FIELDS = ("gpu", "gpus", "use", "context")
COMPARE_FIELDS = ("a", "b", "c", "model", "context")
# which form field an unknown name belongs to (UnknownNameError.kind)
FIELD_OF_KIND = {"model": "model", "GPU or hardware": "gpu", "quantization": "quant"}
CHART_CACHE_SECONDS = 3600

router = APIRouter(include_in_schema=False)
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                   trim_blocks=True, lstrip_blocks=True)
_env.filters["gb"] = gb
_env.globals.update(nav=NAV, verdict_words=VERDICT_WORDS, max_gpus=MAX_GPUS)
templates = Jinja2Templates(env=_env)


def form_values(query: QueryParams) -> dict[str, str]:
    return {name: query.get(name, "").strip()[:200] for name in FORM_FIELDS}


def sizing_request(values: dict[str, str]) -> SizingRequest:
    return SizingRequest(**{k: v for k, v in values.items() if v})


def public_base(request: Request) -> str:
    configured = request.app.state.web.settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


def page(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, template, context, status_code=status)


def context_alt_text(report: SizingReport) -> str:
    where = report.hardware or "CPU and system RAM"
    fits = (f"the largest context that fits is {report.max_context:,} tokens" if report.max_context
            else "it does not fit at any context length at this quantization")
    return (f"Memory of {report.model.name} at {report.quant} on {where} as the context grows, by part (weights, "
            f"KV cache, compute buffer, overhead) against usable memory: {fits}.")


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    web: WebState = request.app.state.web
    values = form_values(request.query_params)
    base = dict(values=values, quants=[q.name for q in web.core.catalog.quants.file_types], kv_types=KV_CACHE_TYPES)
    if not values["model"]:
        return page(request, "size.html", **base)
    query = permalink_query(values)
    try:
        report, _ = await web.size(sizing_request(values))
    except ValidationError as exc:
        return page(request, "size.html", 422, **base, error=validation_message(exc.errors()))
    except WillItRunError as exc:
        field = FIELD_OF_KIND.get(exc.kind) if isinstance(exc, UnknownNameError) else None
        links = [(s, "/?" + permalink_query({**values, field: s})) for s in exc.suggestions] if field else []
        return page(request, "size.html", error_problem(exc).status, **base, error=str(exc), suggestions=links)
    return page(request, "size.html", **base, report=report, query=query,
                permalink=f"{public_base(request)}/?{query}", breakdown_alt=chart_alt_text(report),
                context_alt=context_alt_text(report))


@router.get("/chart/{which}.png")
async def chart(request: Request, which: str) -> Response:
    web: WebState = request.app.state.web
    if which not in ("breakdown", "context"):
        return problem_response(Problem(title="Not Found", status=404, instance=request.url.path,
                                        detail=f"There is no chart '{which}': there are breakdown and context."))
    try:
        png = await web.chart(which, sizing_request(form_values(request.query_params)))
    except ValidationError as exc:
        return problem_response(validation_problem(exc.errors(), request.url.path))
    except WillItRunError as exc:
        return problem_response(error_problem(exc, request.url.path))
    return Response(png, media_type="image/png", headers={"cache-control": f"public, max-age={CHART_CACHE_SECONDS}"})


# -- what can I run, compare ----------------------------------------------------------------------------------------
def _values(request: Request, fields: tuple[str, ...]) -> dict[str, str]:
    return {name: request.query_params.get(name, "").strip()[:200] for name in fields}


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 7 else None


def _what_can_i_run(web: WebState, v: dict[str, str]):
    return for_hardware(web.core, v["gpu"] or None, gpus=_int(v["gpus"]), use=v["use"] or "any",
                        context=_int(v["context"]))


def _compare(web: WebState, v: dict[str, str]):
    return compare_named(web.core, [s for s in (v["a"], v["b"], v["c"]) if s], model=v["model"] or None,
                         context=_int(v["context"]))


async def _kind_page(request: Request, template: str, fields: tuple[str, ...], ready: bool, compute, alt,
                     **extra) -> HTMLResponse:
    """A GET form and, when it was filled in, its result: the same functions as the CLI and the API."""
    web: WebState = request.app.state.web
    values = _values(request, fields)
    if not ready(values):
        return page(request, template, values=values, **extra)
    query = urlencode({k: v for k, v in values.items() if v})
    try:
        result = await web.in_thread(compute, web, values)
    except WillItRunError as exc:
        return page(request, template, error_problem(exc).status, values=values, error=str(exc), **extra)
    return page(request, template, values=values, result=result, query=query, chart_alt=alt(result),
                permalink=f"{public_base(request)}{request.url.path}?{query}", **extra)


@router.get("/whatcanirun", response_class=HTMLResponse)
async def what_can_i_run_page(request: Request) -> HTMLResponse:
    return await _kind_page(request, "whatcanirun.html", RUN_FIELDS, lambda v: bool(v["gpu"]), _what_can_i_run,
                            options_alt_text, uses=USES)


@router.get("/compare", response_class=HTMLResponse)
async def compare_page(request: Request) -> HTMLResponse:
    return await _kind_page(request, "compare.html", COMPARE_FIELDS, lambda v: bool(v["a"] and v["b"]), _compare,
                            compare_alt_text)


@router.get("/whatcanirun/chart.png")
async def what_can_i_run_chart(request: Request) -> Response:
    return await _kind_chart(request, RUN_FIELDS, _what_can_i_run, options_chart)


@router.get("/compare/chart.png")
async def compare_chart_png(request: Request) -> Response:
    return await _kind_chart(request, COMPARE_FIELDS, _compare, compare_chart)


async def _kind_chart(request: Request, fields: tuple[str, ...], compute, draw) -> Response:
    web: WebState = request.app.state.web
    values = _values(request, fields)
    try:
        result = await web.in_thread(compute, web, values)
        png = await web.draw(f"{request.url.path}:{sorted(values.items())}", lambda: draw(result))
    except WillItRunError as exc:
        return problem_response(error_problem(exc, request.url.path))
    return Response(png, media_type="image/png", headers={"cache-control": f"public, max-age={CHART_CACHE_SECONDS}"})


# -- knowledge entries --------------------------------------------------------------------------------------------
@router.get("/kb", response_class=HTMLResponse)
async def kb_index(request: Request) -> HTMLResponse:
    entries = sorted(request.app.state.web.core.kb.entries.values(), key=lambda e: e.title.lower())
    return page(request, "kb_index.html", glossary=[e for e in entries if e.kind == "glossary"],
                errors=[e for e in entries if e.kind == "errors"])


@router.get("/kb/{name}", response_class=HTMLResponse)
async def kb_entry(request: Request, name: str) -> Response:
    kb = request.app.state.web.core.kb
    try:
        entry = kb.find(name[:200])
    except UnknownNameError as exc:
        return page(request, "not_found.html", 404, message=str(exc),
                    links=[(kb.entries[s].title if s in kb.entries else s, f"/kb/{s}") for s in exc.suggestions])
    if entry.id != name:      # an alias or a title: one address per entry
        return RedirectResponse(f"/kb/{entry.id}", status_code=308)
    sections = [(title, render_markdown(text)) for title, text in entry.sections.items()]
    related = [kb.entries[r] for r in entry.meta.related if r in kb.entries]
    return page(request, "kb_entry.html", entry=entry, sections=sections, related=related,
                summary=render_markdown(entry.meta.summary))


@router.get("/problems/{slug}", response_class=HTMLResponse)
async def problem_page(request: Request, slug: str) -> HTMLResponse:
    if slug not in PROBLEM_TYPES:
        return page(request, "not_found.html", 404, message=f"There is no problem type '{slug}'.", links=[])
    title, text = PROBLEM_TYPES[slug]
    return page(request, "problem.html", title=title, text=text, slug=slug)
