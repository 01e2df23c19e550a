"""The sizing engine's public data: what is asked (SizingRequest) and what is answered (SizingReport).

The JSON of SizingReport is a public interface for scripts: keep the documented keys stable, add freely.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Verdict = Literal["fits", "partial_offload", "cpu_only", "does_not_fit"]
MAX_CONTEXT = 10_000_000
# the most GPUs one request may name: llama.cpp takes any number, 16 is past every build people ask about
MAX_GPUS = 16


def gpu_names(gpu: str) -> list[str]:
    """The GPU names of a `gpu` field: several are joined by '+' (or ',')."""
    return [n.strip() for n in gpu.replace(",", "+").split("+") if n.strip()]


class SizingRequest(BaseModel):
    # NaN and infinity are not sizes: `--reserved nan` would otherwise reach round() deep in the engine
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    model: str | None = Field(default=None, description="model name as people type it; optional with gguf")
    gguf: str | None = Field(default=None, description="path of a local GGUF file: size from its real tensors")
    gpu: str | None = Field(default=None, description="GPU, Mac or CPU platform; several joined by '+'")
    gpus: int = Field(default=1, description="how many of that GPU")
    quant: str | None = None
    context: int | None = Field(default=None, description="tokens per sequence; default 8192 or the model's maximum")
    kv_cache_type: str = "f16"
    flash_attention: bool = True
    parallel: int = Field(default=1, description="sequences served at once, each with `context` tokens")
    ram_gb: float | None = Field(default=None, description="system RAM in GB (GiB)")
    memory_gb: float | None = Field(default=None, description="memory option of a Mac or CPU platform")
    reserved_gb: float = Field(default=0.0, description="GPU memory already used (desktop, other programs)")
    experts_in_ram: bool = Field(default=False, description="MoE: routed experts in system RAM (--cpu-moe)")
    runtime: Literal["llama.cpp", "vllm"] = "llama.cpp"
    gpu_memory_utilization: float = Field(default=0.9, description="vLLM's share of each GPU it pre-allocates")

    @field_validator("kv_cache_type")
    @classmethod
    def _lowercase(cls, value: str) -> str:
        return value.lower()

    @field_validator("gpu")
    @classmethod
    def _at_most_max_gpus(cls, value: str | None) -> str | None:
        if value is not None and len(gpu_names(value)) > MAX_GPUS:
            raise ValueError(f"at most {MAX_GPUS} GPUs can be combined, got {len(gpu_names(value))}")
        return value

    @model_validator(mode="after")
    def _has_model(self):
        if not self.model and not self.gguf:
            raise ValueError("give a model name or a GGUF file")
        return self


class ModelInfo(BaseModel):
    id: str
    name: str
    params_b: float
    active_params_b: float


class DeviceUsage(BaseModel):
    name: str
    kind: Literal["gpu", "unified", "cpu"]
    usable_bytes: int
    weights_bytes: int
    kv_cache_bytes: int
    compute_bytes: int
    overhead_bytes: int
    layers: int

    @property
    def need_bytes(self) -> int:
        return self.weights_bytes + self.kv_cache_bytes + self.compute_bytes + self.overhead_bytes


class Range(BaseModel):
    low: float
    high: float


class SizingReport(BaseModel):
    model: ModelInfo
    quant: str
    context: int
    parallel: int
    kv_cache_type: str
    flash_attention: bool
    runtime: str
    hardware: str | None
    verdict: Verdict
    weights_bytes: int
    kv_cache_bytes: int
    compute_bytes: int
    overhead_bytes: int
    total_bytes: int
    headroom_bytes: int | None
    devices: list[DeviceUsage]
    gpu_layers: int
    total_layers: int
    decode_tokens_per_s: Range | None
    prompt_tokens_per_s: Range | None
    max_context: int | None
    best_quant: str | None
    assumptions: list[str]
