"""The calculators' public data: the catalogs they read (image models, dated prices) and the results they answer.

The JSON of each result is a public interface (`willitrun finetune|serve|image|cost --json`): keep the documented
keys stable (`model`, `method`, `peak_bytes` {`low`, `high`}, `verdict`, ...), add freely.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.catalog.schema import ID_PATTERN

FitVerdict = Literal["fits", "tight", "does_not_fit", "no_gpu_given"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(BaseModel):
    low: float
    high: float

    @property
    def mid(self) -> float:
        return (self.low + self.high) / 2


# -- image / video models (knowledge/catalog/image_models.yaml) -------------------------------------------------
class ImageComponent(_Strict):
    name: str                                         # transformer, unet, text_encoder_2, vae ...
    role: Literal["denoiser", "text_encoder", "vae"]
    params_b: float = Field(gt=0)
    # blocks the component runs one after another (sequential offload holds one); 1 when not known
    blocks: int = Field(default=1, ge=1)
    source: str
    # parameters transformers keeps unquantized in fp32 under bitsandbytes (`_keep_in_fp32_modules`, T5's "wo")
    fp32_keep_b: float = Field(default=0, ge=0)
    # parameters diffusers' FP8 layerwise casting leaves 16-bit (`_skip_layerwise_casting_patterns`)
    fp8_skip_b: float = Field(default=0, ge=0)
    # parameters of the largest linear layer: a quantized denoiser materializes it in 16 bits while it runs
    largest_linear_b: float = Field(default=0, ge=0)


class VaeFamily(_Strict):
    """What a VAE's decoder needs while it runs, per output pixel and per byte of its 16-bit elements."""
    id: str = Field(pattern=ID_PATTERN)
    bytes_per_pixel: tuple[float, float]              # low (allocated), high (with the allocator's reserve)
    # output frames one decoder pass holds (1 for images and frame-by-frame video VAEs)
    frames_at_once: int = Field(default=1, ge=1)
    sources: list[str] = Field(min_length=1)


class ImageModel(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    aliases: list[str] = []
    kind: Literal["image", "video"]
    components: list[ImageComponent] = Field(min_length=2)
    latent_channels: int = Field(gt=0)
    vae_scale: int = Field(gt=0)                      # pixels per latent pixel, per side
    patch: int = Field(ge=1)                          # latent pixels per token, per side (1 for a UNet)
    temporal_scale: int = Field(default=1, ge=1)      # video frames per latent frame
    hidden: int = Field(gt=0)                         # denoiser width (tokens x hidden = one activation)
    text_tokens: int = Field(default=0, ge=0)         # joint-attention text tokens (0: cross-attention)
    cfg_batch: int = Field(default=1, ge=1, le=2)     # 2 when the pipeline batches the unconditional pass
    reference_images: int = Field(default=0, ge=0)   # input images whose latent tokens join the sequence (editing)
    default_resolution: int = Field(gt=0)
    default_frames: int = Field(default=1, ge=1)
    vae_family: str                                   # an id under `vae_families`
    # ComfyUI's `memory_usage_factor` for this model (its working-memory estimate); None where ComfyUI has none
    comfyui_memory_usage_factor: float | None = Field(default=None, gt=0)
    sources: list[str] = Field(min_length=1)


class ImageCatalog(_Strict):
    vae_families: list[VaeFamily] = Field(min_length=1)
    models: list[ImageModel]
    sources: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _families_exist(self) -> ImageCatalog:
        known = {f.id for f in self.vae_families}
        for m in self.models:
            if m.vae_family not in known:
                raise ValueError(f"model {m.id}: vae_family '{m.vae_family}' is not one of {sorted(known)}")
        return self

    def vae(self, family: str) -> VaeFamily:
        return next(f for f in self.vae_families if f.id == family)


# -- prices (knowledge/catalog/prices.yaml) ---------------------------------------------------------------------
class HardwarePrice(_Strict):
    hardware: str                                     # a hardware catalog id
    msrp_usd: float | None = Field(default=None, gt=0)
    msrp_source: str | None = None
    used_usd: float | None = Field(default=None, gt=0)
    used_as_of: dt.date | None = None
    used_source: str | None = None


class ApiPrice(_Strict):
    provider: str
    model: str
    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)
    as_of: dt.date
    source: str


class PriceCatalog(_Strict):
    hardware: list[HardwarePrice]
    api: list[ApiPrice]
    sources: list[str] = Field(min_length=1)


def _load(path: Path, schema):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return schema.model_validate(data)


def load_image_catalog(knowledge_dir: Path) -> ImageCatalog:
    return _load(Path(knowledge_dir) / "catalog" / "image_models.yaml", ImageCatalog)


def load_prices(knowledge_dir: Path) -> PriceCatalog:
    return _load(Path(knowledge_dir) / "catalog" / "prices.yaml", PriceCatalog)


def calc_catalog_problems(knowledge_dir: Path, hardware_ids: set[str] | None = None) -> list[str]:
    """`file: field: message` for every problem in the calculators' catalogs (what `willitrun kb check` prints)."""
    problems: list[str] = []
    root = Path(knowledge_dir) / "catalog"
    for name, schema in (("image_models.yaml", ImageCatalog), ("prices.yaml", PriceCatalog)):
        path = root / name
        if not path.exists():
            problems.append(f"{path}: (file): missing")
            continue
        try:
            catalog = _load(path, schema)
        except yaml.YAMLError as exc:
            problems.append(f"{path}: yaml: {exc}".replace("\n", " "))
            continue
        except ValidationError as exc:
            for err in exc.errors():
                problems.append(f"{path}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}")
            continue
        if isinstance(catalog, PriceCatalog) and hardware_ids is not None:
            problems += [f"{path}: hardware.{p.hardware}: not a hardware catalog id"
                         for p in catalog.hardware if p.hardware not in hardware_ids]
        if isinstance(catalog, ImageCatalog):
            seen: set[str] = set()
            for m in catalog.models:
                if m.id in seen:
                    problems.append(f"{path}: {m.id}: duplicate id")
                seen.add(m.id)
    return problems


# -- results ----------------------------------------------------------------------------------------------------
class MemoryParts(BaseModel):
    """Bytes per GPU of each term, each a range (low and high accounting, see the assumptions)."""

    weights: Range
    adapters: Range
    gradients: Range
    optimizer: Range
    activations: Range
    logits: Range
    overhead: Range


class FinetuneResult(BaseModel):
    model: str
    method: Literal["full", "lora", "qlora"]
    seq_len: int
    batch_size: int
    gpus: int
    zero_stage: int
    optimizer: str
    gradient_checkpointing: bool
    lora_rank: int | None
    trainable_params: int
    peak_bytes: Range                     # per GPU
    parts: MemoryParts
    hardware: str | None
    verdict: FitVerdict
    max_seq_len: int | None               # on `hardware` at this batch size
    max_batch_size: int | None            # on `hardware` at this sequence length
    assumptions: list[str]


class ThroughputPoint(BaseModel):
    sequences: int
    low: float
    high: float
    bound: Literal["memory", "compute"]


class ServeResult(BaseModel):
    model: str
    runtime: Literal["vllm", "llama-server", "ollama"]
    gpus: int
    hardware: str
    context: int
    kv_cache_tokens: int
    kv_bytes_per_token: float
    kv_cache_bytes: int
    max_concurrent_sequences: float
    throughput_tokens_per_s: list[ThroughputPoint]
    ttft_s: Range | None
    prompt_tokens: int
    assumptions: list[str]


class ImageOption(BaseModel):
    precision: str
    offload: str
    peak_bytes: Range
    ram_bytes: int
    verdict: FitVerdict


class ImageResult(BaseModel):
    model: str
    kind: Literal["image", "video"]
    precision: str
    offload: str
    resolution: int                       # the longer side
    width: int
    height: int
    frames: int
    peak_bytes: Range
    ram_bytes: int                        # system RAM holding what is offloaded
    parts: dict[str, int]
    hardware: str | None
    hardware_bytes: int | None = None     # the card's memory, what the verdicts compare against
    verdict: FitVerdict
    options: list[ImageOption]            # every precision x offload mode
    recommendation: str | None
    assumptions: list[str]


class ApiCost(BaseModel):
    name: str
    per_mtok: float                       # blended $/M tokens at the stated input:output mix
    input_per_mtok: float
    output_per_mtok: float
    as_of: dt.date
    source: str
    break_even_months: float | None       # months of API spend that pay for the hardware


class LocalCost(BaseModel):
    per_mtok: float
    per_month: float
    electricity_per_month: float
    hardware_per_month: float
    tokens_per_month: float


class CostResult(BaseModel):
    model: str
    hardware: str
    local: LocalCost
    api: list[ApiCost]
    break_even_months: float | None       # against the cheapest API listed, at the same token volume
    inputs: dict[str, float | str]
    assumptions: list[str]
