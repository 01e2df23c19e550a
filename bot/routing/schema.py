"""The router's public data: what a message asks for (Route) and the sizing facts it states (SizingFields)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.catalog.load import Catalog, load_catalog
from bot.errors import InvalidRequestError
from bot.sizing.schema import SizingRequest

RouteName = Literal["sizing", "knowledge", "none"]


class ModelRef(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    params_b: float


class GpuRef(BaseModel):
    """A catalog GPU, Mac or CPU platform (id), or a card known only by its memory (id None, "my 12gb card")."""

    model_config = ConfigDict(frozen=True)
    id: str | None
    memory_gb: float | None


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

    def states_anything(self) -> bool:
        return any(v is not None for v in (self.model, self.gpu, self.gpus, self.quant, self.context, self.ram_gb)) \
            or self.cpu_only


class Route(BaseModel):
    route: RouteName
    confidence: float = Field(ge=0.0, le=1.0)
    sizing: SizingFields | None = None
    reason: str


def to_sizing_request(fields: SizingFields, catalog: Catalog | None = None) -> SizingRequest:
    """The engine's request for what the message stated. A bare card ("my 12gb card") comes back with gpu=None and
    its size in memory_gb: the caller decides how to size a card it cannot name."""
    if fields.model is None:
        named = f" I don't know '{fields.unknown_model}'." if fields.unknown_model else ""
        raise InvalidRequestError(
            f"Which model?{named} Name it with its size, for example 'llama 3.1 8b', 'qwen2.5 32b' or 'mixtral 8x7b'.")
    gpu = fields.gpu
    memory_gb = None
    if gpu is not None and gpu.id is None:
        memory_gb = gpu.memory_gb
    elif gpu is not None and gpu.memory_gb is not None:
        # Macs and CPU platforms are sold with several memory sizes; a discrete card has one
        hardware = (catalog or load_catalog()).gpu(gpu.id)
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
