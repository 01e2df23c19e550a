"""Pydantic models of catalog entries: what a GPU, a model and a quantization type are to the sizing engine."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ID_PATTERN = r"^[a-z0-9][a-z0-9.\-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Hardware(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    aliases: list[str] = []
    vendor: Literal["nvidia", "amd", "intel", "apple", "cpu"]
    kind: Literal["gpu", "unified", "cpu"]
    memory_gb: float = Field(gt=0)
    memory_options_gb: list[float] = []
    bandwidth_gbs: float = Field(gt=0)
    fp16_tflops: float | None = Field(default=None, gt=0)
    backends: list[Literal["cuda", "rocm", "metal", "vulkan", "sycl", "cpu"]] = Field(min_length=1)
    architecture: str | None = None
    compute_capability: str | None = None
    gfx_target: str | None = None
    release_year: int | None = None
    # board power (TDP / TGP) as the maker states it; comparisons show it
    tdp_w: float | None = Field(default=None, gt=0)
    sources: list[str] = Field(min_length=1)

    @property
    def primary_backend(self) -> str:
        return self.backends[0]


class SlidingWindow(_Strict):
    window: int = Field(gt=0)
    # layer i (0-based) attends globally when (i + 1) % global_every == 0; the others are windowed
    global_every: int = Field(ge=1)

    def is_windowed(self, layer: int) -> bool:
        return (layer + 1) % self.global_every != 0


class MLA(_Strict):
    kv_lora_rank: int = Field(gt=0)
    rope_dim: int = Field(gt=0)


class MoE(_Strict):
    experts: int = Field(gt=1)
    active: int = Field(ge=1)
    shared: int = Field(default=0, ge=0)
    expert_ffn: int = Field(gt=0)
    moe_layers: int | None = Field(default=None, gt=0)


class Model(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    family: str
    architecture: str
    aliases: list[str] = []
    params_b: float = Field(gt=0)
    active_params_b: float | None = Field(default=None, gt=0)
    layers: int = Field(gt=0)
    hidden_size: int = Field(gt=0)
    intermediate_size: int | None = Field(default=None, gt=0)
    attention_heads: int = Field(gt=0)
    kv_heads: int | list[int]
    head_dim_k: int = Field(gt=0)
    head_dim_v: int = Field(gt=0)
    vocab_size: int = Field(gt=0)
    context_length: int = Field(gt=0)
    tied_embeddings: bool = False
    # SwiGLU/GeGLU feed-forward (gate, up and down matrices); false for the plain two-matrix MLP of Falcon (1st
    # generation), Phi-2, StarCoder2 and Nemotron-4 / Minitron, whose config has no gate projection
    gated_ffn: bool = True
    sliding_window: SlidingWindow | None = None
    mla: MLA | None = None
    moe: MoE | None = None
    # the file type most published GGUFs of this model use (gpt-oss ships MXFP4 experts)
    default_quant: str | None = None
    # fine-tunes and merges people name that keep this model's tensor shapes; they are sized as this model
    finetunes: list[str] = []
    # vision models: size of the projector (mmproj) file at f16, in MB, from a published GGUF repository
    mmproj_mb: float | None = Field(default=None, gt=0)
    sources: list[str] = Field(min_length=1)

    @field_validator("kv_heads")
    @classmethod
    def _kv_heads_positive(cls, value):
        values = value if isinstance(value, list) else [value]
        if any(v < 0 for v in values):
            raise ValueError("kv_heads must be >= 0")
        return value

    @model_validator(mode="after")
    def _consistent(self):
        if isinstance(self.kv_heads, list) and len(self.kv_heads) != self.layers:
            raise ValueError(f"kv_heads lists {len(self.kv_heads)} layers, model has {self.layers}")
        if self.moe is None and self.intermediate_size is None:
            raise ValueError("a dense model needs intermediate_size")
        if self.active_params_b is not None and self.active_params_b > self.params_b * 1.0001:
            raise ValueError("active_params_b exceeds params_b")
        return self

    @property
    def active_b(self) -> float:
        return self.active_params_b or self.params_b

    def kv_heads_at(self, layer: int) -> int:
        return self.kv_heads[layer] if isinstance(self.kv_heads, list) else self.kv_heads


class TensorType(_Strict):
    """A ggml tensor type: `block_size` weights stored in `bytes_per_block` bytes."""

    name: str
    block_size: int = Field(gt=0)
    bytes_per_block: int = Field(gt=0)

    @property
    def bits_per_weight(self) -> float:
        return 8 * self.bytes_per_block / self.block_size


class FileType(_Strict):
    """A quantization as people name it: a llama.cpp file type (a mix of tensor types) or another format."""

    name: str
    aliases: list[str] = []
    format: Literal["gguf", "gptq", "awq", "fp8", "exl2", "mlx", "bitsandbytes", "safetensors"]
    # gguf: the tensor type most tensors get (llama.cpp `llama_ftype_get_default_type`)
    default_type: str | None = None
    # other formats: bits per weight of the quantized linear layers; embeddings and output stay 16-bit
    linear_bpw: float | None = None
    quality_rank: int = Field(ge=0, description="higher keeps more quality; used to pick the best quant that fits")
    note: str = ""
    sources: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _has_size_rule(self):
        if (self.default_type is None) == (self.linear_bpw is None):
            raise ValueError("give exactly one of default_type (gguf) or linear_bpw (other formats)")
        return self


class Representative(_Strict):
    """A typical architecture for a size named without a family ('a 70b model'): sized as this catalog model."""

    model: str
    kind: Literal["dense", "moe"]
    why: str
    sources: list[str] = Field(min_length=1)


class QuantCatalog(_Strict):
    tensor_types: list[TensorType]
    file_types: list[FileType]
    sources: list[str] = Field(min_length=1)
