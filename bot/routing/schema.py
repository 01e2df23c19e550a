"""The router's public data: what a message asks for (Route) and the sizing facts it states (SizingFields)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from bot.catalog.load import Catalog
from bot.errors import InvalidRequestError
from bot.sizing.schema import SizingRequest
from bot.text import echo

RouteName = Literal["sizing", "knowledge", "none"]
# the answer kind an intent asks for: bot.kinds has one module per kind
IntentKind = Literal["sizing", "choose", "clarify", "knowledge", "none", "what_can_i_run", "compare", "finetune",
                     "serve", "image", "cost", "unsupported", "log"]
UseCase = Literal["coding", "chat", "reasoning", "vision", "roleplay", "any"]
Method = Literal["full", "lora", "qlora"]
Runtime = Literal["vllm", "llama-server", "ollama"]


class ModelRef(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    params_b: float
    # what was assumed reading the name ("a 70b model" sized as a representative architecture), for the answer
    note: str | None = Field(default=None, exclude=True)


class GpuRef(BaseModel):
    """A catalog GPU, Mac or CPU platform (id), or a card known only by its memory (id None, "my 12gb card")."""

    model_config = ConfigDict(frozen=True)
    id: str | None
    memory_gb: float | None


class CompareSide(BaseModel):
    """One setup in a comparison: a catalog GPU, Mac or CPU platform, how many of it, and a memory option."""

    model_config = ConfigDict(frozen=True)
    id: str
    count: int = 1
    memory_gb: float | None = None


class CalcFields(BaseModel):
    """What a message states for the calculators (fine-tuning, serving, image models, cost); None for the rest."""

    model_config = ConfigDict(frozen=True)
    method: Method | None = None
    seq_len: int | None = None
    batch: int | None = None
    rank: int | None = None
    runtime: Runtime | None = None
    parallel: int | None = None         # llama-server -np / OLLAMA_NUM_PARALLEL
    image_model: str | None = None      # an image catalog id: the image kind resolves it from the text
    precision: str | None = None        # of an image model's weights (/image); in a message it is the quant
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    seconds: float | None = None        # a video's length, when said in seconds rather than frames
    budget_usd: float | None = None
    currency: str | None = None         # a budget or price said in another currency than USD (taken as USD)
    api: str | None = None              # the API named to compare with, as typed ("gpt-4o mini", "claude")
    price_usd: float | None = None      # the hardware's price, all cards together
    watts: float | None = None
    kwh: float | None = None
    hours_per_day: float | None = None
    api_in: float | None = None         # a custom API price, $ per million input tokens
    api_out: float | None = None        # ... and output tokens

    def states_anything(self) -> bool:
        return any(v is not None for v in self.model_dump().values())


class SizingFields(BaseModel):
    """What the message says about a sizing question; None for everything it does not say."""

    model: ModelRef | None = None
    gpu: GpuRef | None = None
    gpus: int | None = None
    quant: str | None = None
    context: int | None = None
    ram_gb: float | None = None
    # "cpu only" / "no gpu": no GPU on purpose, so the caller sizes for the CPU instead of recommending a GPU
    cpu_only: bool = False
    # a model the message names that the catalog cannot resolve ("llama 3", "a 70b model", "llama 3.1 13b")
    unknown_model: str | None = None
    unknown_gpu: str | None = None    # a GPU named as one is named ('rtx 5095') that the catalog does not have
    calc: CalcFields | None = None
    # the kind these fields were answered as, with what else it read (use, sides): a follow-up re-runs that kind
    kind: IntentKind | None = None
    use: UseCase | None = None
    sides: list[CompareSide] = []

    def states_anything(self) -> bool:
        return any(v is not None for v in (self.model, self.gpu, self.gpus, self.quant, self.context, self.ram_gb)) \
            or self.cpu_only or (self.calc is not None and self.calc.states_anything())


class Route(BaseModel):
    """The router's intent for one message: the route (stable JSON: sizing | knowledge | none), and the kind of
    answer that serves it (bot.kinds)."""

    route: RouteName
    confidence: float = Field(ge=0.0, le=1.0)
    sizing: SizingFields | None = None
    reason: str
    text: str = Field(default="", exclude=True)     # the message, for the kinds that read it (knowledge)
    # set by the rules for kinds other than sizing / choose / clarify / knowledge / none
    intent: IntentKind | None = Field(default=None, exclude=True)
    asked: str | None = None        # unsupported: what was asked (finetune, news, licensing, opinion, ...)
    use: UseCase | None = None      # what_can_i_run / compare: the use the message names
    sides: list[CompareSide] = []   # compare: the setups named

    @computed_field
    @property
    def kind(self) -> IntentKind:
        """sizing needs a model; with no hardware stated (and not CPU-only) it asks which hardware runs it."""
        if self.intent is not None:
            return self.intent
        if self.route != "sizing":
            return self.route
        f = self.sizing
        if f is None or f.model is None:
            return "clarify"
        if f.gpu is None and f.unknown_gpu:
            return "clarify"       # never sized on another card, nor answered as "which GPU do I need"
        if f.gpu is None and not f.cpu_only and f.ram_gb is None:
            return "choose"
        return "sizing"


def missing_model_message(fields: SizingFields | None) -> str:
    named = f" I don't know '{echo(fields.unknown_model)}'." if fields is not None and fields.unknown_model else ""
    return f"Which model?{named} Name it with its size, for example 'llama 3.1 8b', 'qwen2.5 32b' or 'mixtral 8x7b'."


def to_sizing_request(fields: SizingFields, catalog: Catalog) -> SizingRequest:
    """The engine's request for what the message stated. A bare card ("my 12gb card") comes back with gpu=None and
    its size in memory_gb: the caller decides how to size a card it cannot name."""
    if fields.model is None:
        raise InvalidRequestError(missing_model_message(fields))
    gpu = fields.gpu
    memory_gb = None
    if gpu is not None and gpu.id is None:
        memory_gb = gpu.memory_gb
    elif gpu is not None and gpu.memory_gb is not None:
        # Macs and CPU platforms are sold with several memory sizes; a discrete card has one
        hardware = catalog.gpu(gpu.id)
        if hardware.kind != "gpu":
            memory_gb = gpu.memory_gb
    return SizingRequest(
        model=fields.model.id,
        gpu=gpu.id if gpu is not None else None,
        gpus=fields.gpus or 1,
        quant=fields.quant,
        context=fields.context,
        ram_gb=fields.ram_gb,
        memory_gb=memory_gb,
    )
