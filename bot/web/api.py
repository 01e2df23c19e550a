"""`/api/v1`: the CLI's commands over HTTP. Requests and responses are the pydantic models `willitrun ... --json`
prints (SizingRequest -> SizingReport, Recommendation, SearchResult, Answer), so OpenAPI is generated from the one
schema there is. Errors are problem details (bot/web/problems.py)."""
from __future__ import annotations

import asyncio
import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response, StreamingResponse

from bot.answer.pipeline import answer_async
from bot.answer.schema import Answer
from bot.errors import InvalidRequestError, WillItRunError
from bot.retrieval.search import SearchResult
from bot.routing.schema import SizingFields
from bot.sizing.choose import Recommendation, choose
from bot.sizing.schema import SizingReport, SizingRequest
from bot.web.problems import MEDIA_TYPE, Problem, error_problem
from bot.web.state import WebState
from bot.web.suggest import MAX_SUGGESTIONS, CatalogMatch

MAX_RESULTS = 20
PROBLEMS = {status: {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": text} for status, text in (
    (404, "an unknown name (`suggestions` lists the closest)"), (413, "request body too large"),
    (422, "invalid input"), (429, "rate limited (see Retry-After)"), (503, "took too long"))}

router = APIRouter(prefix="/api/v1", responses=PROBLEMS)


def web_state(request: Request) -> WebState:
    return request.app.state.web


Web = Annotated[WebState, Depends(web_state)]


def json_response(body: bytes) -> Response:
    return Response(body, media_type="application/json")


# -- size ---------------------------------------------------------------------------------------------------------
@router.get("/size", response_model=SizingReport, summary="Size a model on hardware (query parameters)")
async def size_get(sizing: Annotated[SizingRequest, Query()], web: Web) -> Response:
    return json_response((await web.size(sizing))[1])


@router.post("/size", response_model=SizingReport, summary="Size a model on hardware (JSON body)")
async def size_post(sizing: SizingRequest, web: Web) -> Response:
    return json_response((await web.size(sizing))[1])


# -- choose -------------------------------------------------------------------------------------------------------
class ChooseRequest(BaseModel):
    """`willitrun choose`'s arguments."""

    model_config = ConfigDict(extra="forbid")
    model: str = Field(description="model name as people type it")
    quant: str | None = Field(default=None, description="quantization (default: the model's usual one)")
    context: int | None = Field(default=None, description="tokens (default 8192 or the model's maximum)")
    kv_cache_type: str = "f16"


async def _choose(web: WebState, asked: ChooseRequest) -> Recommendation:
    return await web.in_thread(lambda: choose(web.core.engine, asked.model, quant=asked.quant, context=asked.context,
                                              kv_cache_type=asked.kv_cache_type))


@router.get("/choose", response_model=Recommendation, summary="Which hardware runs a model entirely in GPU memory")
async def choose_get(asked: Annotated[ChooseRequest, Query()], web: Web) -> Recommendation:
    return await _choose(web, asked)


@router.post("/choose", response_model=Recommendation, summary="Which hardware runs a model (JSON body)")
async def choose_post(asked: ChooseRequest, web: Web) -> Recommendation:
    return await _choose(web, asked)


# -- search -------------------------------------------------------------------------------------------------------
@router.get("/search", response_model=SearchResult, summary="Search the knowledge base")
async def search(web: Web, q: Annotated[str, Query(min_length=1, max_length=500)],
                 k: Annotated[int, Query(ge=1, le=MAX_RESULTS)] = 5,
                 mode: Literal["hybrid", "dense", "bm25"] = "hybrid") -> SearchResult:
    return await web.in_thread(lambda: web.core.retriever.search(q, k=k, mode=mode))


# -- ask ----------------------------------------------------------------------------------------------------------
class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1)
    previous: SizingFields | None = Field(default=None, description="the `request` of the previous sizing answer: "
                                          "a follow-up ('and at 32k?') changes one field of it")


ASK_RESPONSES = {200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                       "description": "an Answer; with `Accept: text/event-stream`, Server-Sent Events: `position` "
                                      "({position}: place in line for the model, 0 = generating), `text` ({text}: "
                                      "the answer so far, replacing the last), then `answer` (the Answer) or "
                                      "`problem` (problem details)"}}


@router.get("/ask", response_model=Answer, responses=ASK_RESPONSES, summary="Answer a question as the bot would")
async def ask_get(request: Request, web: Web, question: Annotated[str, Query(min_length=1)]) -> Response:
    return await _ask(request, web, AskRequest(question=question))


@router.post("/ask", response_model=Answer, responses=ASK_RESPONSES, summary="Answer a question (JSON body)")
async def ask_post(request: Request, web: Web, asked: AskRequest) -> Response:
    return await _ask(request, web, asked)


async def _ask(request: Request, web: WebState, asked: AskRequest) -> Response:
    limit = web.settings.max_question_chars
    if len(asked.question) > limit:
        raise InvalidRequestError(f"The question is longer than {limit} characters; shorten it.")
    if "text/event-stream" in request.headers.get("accept", ""):
        return StreamingResponse(_answer_events(web, asked), media_type="text/event-stream",
                                 headers={"cache-control": "no-store", "x-accel-buffering": "no"})
    answer = await asyncio.wait_for(_answer(web, asked), web.settings.llm_timeout_s + web.settings.web_timeout_s)
    return json_response(answer.model_dump_json().encode())


async def _answer(web: WebState, asked: AskRequest, on_text=None, on_position=None) -> Answer:
    answer = await answer_async(web.core, web.queue, asked.question, previous=asked.previous, on_text=on_text,
                                on_position=on_position)
    if web.metrics is not None:
        web.metrics.record_answer(answer)
    return answer


def sse(event: str, data: str) -> bytes:
    return f"event: {event}\ndata: {data}\n\n".encode()


async def _answer_events(web: WebState, asked: AskRequest):
    """The answer as it is written. The model's text arrives through `on_text`, on the event loop; a client that
    goes away cancels the answer, which takes the question out of the model's queue."""
    events: asyncio.Queue[bytes | None] = asyncio.Queue()
    work = asyncio.create_task(asyncio.wait_for(
        _answer(web, asked, on_text=lambda text: events.put_nowait(sse("text", json.dumps({"text": text}))),
                on_position=lambda p: events.put_nowait(sse("position", json.dumps({"position": p})))),
        web.settings.llm_timeout_s + web.settings.web_timeout_s))
    work.add_done_callback(lambda _: events.put_nowait(None))
    try:
        while (event := await events.get()) is not None:
            yield event
        try:
            yield sse("answer", work.result().model_dump_json())
        except WillItRunError as exc:
            yield sse("problem", error_problem(exc).model_dump_json(exclude_none=True))
        except TimeoutError:
            yield sse("problem", Problem(title="Took too long", status=503,
                                         detail="The answer was not ready in time; try again shortly."
                                         ).model_dump_json(exclude_none=True))
    finally:
        work.cancel()


# -- catalog ------------------------------------------------------------------------------------------------------
Typed = Annotated[str, Query(max_length=100, description="what has been typed so far")]
Limit = Annotated[int, Query(ge=1, le=MAX_SUGGESTIONS)]


@router.get("/catalog/models", response_model=list[CatalogMatch], summary="Model names for autocomplete")
async def catalog_models(web: Web, q: Typed = "", limit: Limit = 10) -> list[CatalogMatch]:
    return web.models.suggest(q, limit)


@router.get("/catalog/hardware", response_model=list[CatalogMatch], summary="GPUs, Macs and CPUs for autocomplete")
async def catalog_hardware(web: Web, q: Typed = "", limit: Limit = 10) -> list[CatalogMatch]:
    return web.hardware.suggest(q, limit)
