"""Errors as RFC 9457 problem details (application/problem+json): `type`, `title`, `status`, `detail`, plus
`suggestions` for unknown names and `errors` for invalid fields. `detail` is the message the CLI prints after
"error: ", so a script gets the same words from both."""
from __future__ import annotations

from pydantic import BaseModel, Field
from starlette.responses import JSONResponse

from bot.errors import InvalidRequestError, UnknownNameError, WillItRunError, validation_message

MEDIA_TYPE = "application/problem+json"

# slug -> (title, what it means); served as documentation at /problems/<slug>
PROBLEM_TYPES = {
    "unknown-name": ("Unknown name", "A model, GPU, quantization or knowledge entry that is not in the catalog. "
                     "`suggestions` lists the closest known names."),
    "invalid-request": ("Invalid request", "Options that are out of range or contradict each other."),
    "validation": ("Invalid input", "A field is missing, has the wrong type, or is not a field of this endpoint. "
                   "`errors` lists each problem with where it is."),
    "timeout": ("Took too long", "The answer was not ready in time; the server is busy. Try again shortly."),
    "server-error": ("Server error", "Something failed on the server; the request may be retried."),
}


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(default="about:blank", description="a URI naming the kind of problem; about:blank = the "
                      "HTTP status says it all")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    suggestions: list[str] | None = Field(default=None, description="closest known names (unknown names)")
    errors: list[FieldError] | None = Field(default=None, description="each invalid field (validation)")


def problem_type(slug: str) -> str:
    return f"/problems/{slug}"


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(problem.model_dump(exclude_none=True), status_code=problem.status, media_type=MEDIA_TYPE,
                        headers=headers)


def validation_problem(errors: list[dict], instance: str | None = None) -> Problem:
    # FastAPI prefixes where a field came from ('query', 'body'); the CLI has no such place, so it is dropped
    cleaned = [{**e, "loc": [p for p in e["loc"] if p not in ("query", "body", "path")]} for e in errors]
    return Problem(type=problem_type("validation"), title=PROBLEM_TYPES["validation"][0], status=422,
                   detail=validation_message(cleaned), instance=instance,
                   errors=[FieldError(loc=e["loc"], msg=e["msg"]) for e in cleaned])


def error_problem(exc: WillItRunError, instance: str | None = None) -> Problem:
    """A user-facing error from the core, with the status that fits it."""
    if isinstance(exc, UnknownNameError):
        return Problem(type=problem_type("unknown-name"), title=f"Unknown {exc.kind}", status=404, detail=str(exc),
                       instance=instance, suggestions=exc.suggestions)
    if isinstance(exc, InvalidRequestError):
        return Problem(type=problem_type("invalid-request"), title=PROBLEM_TYPES["invalid-request"][0], status=422,
                       detail=str(exc), instance=instance)
    return Problem(type=problem_type("server-error"), title=PROBLEM_TYPES["server-error"][0], status=500,
                   detail=str(exc), instance=instance)


def timeout_problem(seconds: float, instance: str | None = None) -> Problem:
    return Problem(type=problem_type("timeout"), title=PROBLEM_TYPES["timeout"][0], status=503,
                   detail=f"The answer took longer than {seconds:g} s; try again shortly.", instance=instance)
