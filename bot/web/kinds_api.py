"""`/api/v1` for the computed answer kinds beyond sizing and choose: `whatcanirun`, `compare`, `finetune`, `serve`,
`image` and `cost`. Each takes the arguments of its `willitrun` command (query parameters or a JSON body, named as
the command's options) and answers with the model its `--json` prints (WhatCanIRun, Comparison, FinetuneResult,
ServeResult, ImageResult, CostResult), computed by the same functions, off the event loop. Errors are problem
details with the CLI's message (bot/web/problems.py)."""
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from bot.answer.results import Comparison, WhatCanIRun
from bot.calc import cost as cost_calc
from bot.calc import finetune as finetune_calc
from bot.calc import image as image_calc
from bot.calc import serve as serve_calc
from bot.calc.schema import CostResult, FinetuneResult, ImageResult, ServeResult
from bot.kinds.compare import MAX_SIDES, compare_named
from bot.kinds.what_can_i_run import for_hardware
from bot.web.api import PROBLEMS, Web, json_response
from bot.web.state import WebState

router = APIRouter(prefix="/api/v1", responses=PROBLEMS)

# caps on what one request may ask for, as the other endpoints have (the query string as a whole is capped too)
Name = Annotated[str, Field(min_length=1, max_length=100)]
Count = Annotated[int, Field(ge=1, le=64)]
Tokens = Annotated[int, Field(ge=1, le=10_000_000)]
Gb = Annotated[float, Field(gt=0, le=100_000)]
Usd = Annotated[float, Field(ge=0, le=100_000_000)]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


async def _answer(web: WebState, work) -> Response:
    """The engine's result computed in a worker thread, as the JSON the CLI's --json prints."""
    result = await web.in_thread(work)
    return json_response(result.model_dump_json().encode())


def _pair(path: str, model: type[BaseModel], answer: type[BaseModel], summary: str, compute) -> None:
    """GET with query parameters and POST with a JSON body, both the same arguments and the same answer. (No
    `from __future__ import annotations` here: FastAPI reads these annotations, which name `model`, at runtime.)"""
    async def get(asked: Annotated[model, Query()], web: Web) -> Response:
        return await _answer(web, lambda: compute(web, asked))

    async def post(asked: model, web: Web) -> Response:
        return await _answer(web, lambda: compute(web, asked))

    name = path.strip("/")
    router.add_api_route(path, get, methods=["GET"], response_model=answer, summary=f"{summary} (query parameters)",
                         operation_id=f"{name}_get")
    router.add_api_route(path, post, methods=["POST"], response_model=answer, summary=f"{summary} (JSON body)",
                         operation_id=f"{name}_post")


# -- whatcanirun --------------------------------------------------------------------------------------------------
class WhatCanIRunRequest(_Args):
    """`willitrun whatcanirun`'s arguments."""

    gpu: Name | None = Field(default=None, description='GPU, Mac or CPU platform, e.g. "rtx 3060", "m2 max" '
                             "(omit for CPU only)")
    gpus: Count | None = Field(default=None, description="how many of that GPU")
    memory: Gb | None = Field(default=None, description="memory option of a Mac or CPU platform, in GB")
    ram_gb: Gb | None = Field(default=None, description="system RAM in GB (without gpu: CPU only)")
    use: Literal["coding", "chat", "reasoning", "vision", "roleplay", "any"] = "any"
    context: Tokens | None = Field(default=None, description="context length in tokens (default 8192)")


_pair("/whatcanirun", WhatCanIRunRequest, WhatCanIRun, "The best models that run well on some hardware, ranked",
      lambda web, a: for_hardware(web.core, a.gpu, gpus=a.gpus, memory_gb=a.memory, ram_gb=a.ram_gb, use=a.use,
                                  context=a.context))


# -- compare ------------------------------------------------------------------------------------------------------
class CompareRequest(_Args):
    """`willitrun compare`'s arguments."""

    hardware: list[Name] = Field(max_length=MAX_SIDES, description='each setup, e.g. "3090", "2x 4060 ti 16gb", '
                                 '"m2 ultra 192gb" (repeat the query parameter)')
    model: Name | None = Field(default=None, description="the model to compare on (default: a representative 8B, "
                               "32B and 70B)")
    quant: Name | None = Field(default=None, description="quantization (default Q4_K_M)")
    context: Tokens | None = Field(default=None, description="context length in tokens (default 8192)")


_pair("/compare", CompareRequest, Comparison, "Two or three setups side by side",
      lambda web, a: compare_named(web.core, a.hardware, model=a.model, quant=a.quant, context=a.context))


# -- finetune -----------------------------------------------------------------------------------------------------
class FinetuneArgs(_Args):
    """`willitrun finetune`'s arguments."""

    model: Name = Field(description='model name, e.g. "llama 3.1 8b"')
    method: Literal["full", "lora", "qlora"] = "qlora"
    seq_len: Tokens = 2048
    batch: Count = Field(default=1, description="micro-batch size")
    rank: Annotated[int, Field(ge=1, le=4096)] = Field(default=16, description="LoRA rank")
    targets: Annotated[str, Field(max_length=100)] = Field(default=",".join(finetune_calc.ALL_TARGETS),
                                                           description="LoRA targets, e.g. q,k,v,o,gate,up,down")
    optimizer: Literal["adamw", "adamw8bit", "paged_adamw8bit", "sgd"] | None = None
    gradient_checkpointing: bool = True
    gpu: Name | None = Field(default=None, description="card to check the fit on")
    gpus: Count = 1
    zero: Annotated[int, Field(ge=0, le=3)] = Field(default=0, description="ZeRO/FSDP stage for full fine-tuning")
    frozen_layers: Annotated[int, Field(ge=0, le=10_000)] = 0


def _finetune(web: WebState, a: FinetuneArgs) -> FinetuneResult:
    return finetune_calc.estimate(finetune_calc.FinetuneRequest(
        model=a.model, method=a.method, seq_len=a.seq_len, batch_size=a.batch,
        gradient_checkpointing=a.gradient_checkpointing, lora_rank=a.rank,
        lora_targets=finetune_calc.targets_of(a.targets), optimizer=a.optimizer, gpus=a.gpus, zero_stage=a.zero,
        frozen_layers=a.frozen_layers, gpu=a.gpu), web.core.catalog)


_pair("/finetune", FinetuneArgs, FinetuneResult, "Fine-tuning memory per GPU (full, LoRA, QLoRA)", _finetune)


# -- serve --------------------------------------------------------------------------------------------------------
class ServeArgs(_Args):
    """`willitrun serve`'s arguments."""

    model: Name
    gpu: Name
    gpus: Count = Field(default=1, description="GPUs (tensor parallel for vLLM)")
    runtime: Literal["vllm", "llama-server", "ollama"] = "vllm"
    context: Tokens | None = Field(default=None, description="tokens per request (vLLM max_model_len)")
    gpu_memory_utilization: Annotated[float, Field(gt=0, le=1)] = serve_calc.DEFAULT_UTILIZATION
    kv_cache_dtype: Name = Field(default="auto", description="auto or fp8 (vLLM); f16 or q8_0 (llama.cpp)")
    quant: Name | None = Field(default=None, description="vLLM: safetensors-BF16, FP8, AWQ-4bit...; "
                               "llama.cpp: Q4_K_M...")
    parallel: Count | None = Field(default=None, description="llama-server -np / OLLAMA_NUM_PARALLEL")
    max_num_batched_tokens: Tokens | None = None
    enforce_eager: bool = False
    prompt_tokens: Tokens = Field(default=1024, description="prompt length for time to first token")


def _serve(web: WebState, a: ServeArgs) -> ServeResult:
    return serve_calc.estimate(serve_calc.ServeRequest(
        model=a.model, gpu=a.gpu, gpus=a.gpus, runtime=a.runtime, context=a.context,
        gpu_memory_utilization=a.gpu_memory_utilization, kv_cache_dtype=a.kv_cache_dtype, quant=a.quant,
        parallel=a.parallel, max_num_batched_tokens=a.max_num_batched_tokens, enforce_eager=a.enforce_eager,
        prompt_tokens=a.prompt_tokens), web.core.engine)


_pair("/serve", ServeArgs, ServeResult, "Serving capacity: KV tokens, concurrency, throughput, TTFT", _serve)


# -- image --------------------------------------------------------------------------------------------------------
Pixels = Annotated[int, Field(ge=64, le=16384)]


class ImageArgs(_Args):
    """`willitrun image`'s arguments."""

    model: Name = Field(description='e.g. "flux dev", "sdxl", "wan 2.1 14b"')
    precision: Name = Field(default="bf16", description="bf16, fp8, nf4, q8_0, q5_k, q4_k ...")
    text_encoder_precision: Name | None = None
    offload: Literal[image_calc.OFFLOAD_MODES] = "none"  # type: ignore[valid-type]
    resolution: Pixels | None = Field(
        default=None, description="an image's square side, a video's height at 16:9 (720: 1280x720)")
    width: Pixels | None = None
    height: Pixels | None = None
    frames: Annotated[int, Field(ge=1, le=10_000)] | None = None
    gpu: Name | None = None


def _image(web: WebState, a: ImageArgs) -> ImageResult:
    return image_calc.estimate(image_calc.ImageRequest(
        model=a.model, precision=a.precision, text_encoder_precision=a.text_encoder_precision, offload=a.offload,
        resolution=a.resolution, width=a.width, height=a.height, frames=a.frames, gpu=a.gpu),
        web.core.image_models, web.core.catalog)


_pair("/image", ImageArgs, ImageResult, "Image/video model memory per precision and offload mode", _image)


# -- cost ---------------------------------------------------------------------------------------------------------
class CostArgs(_Args):
    """`willitrun cost`'s arguments."""

    model: Name
    gpu: Name
    gpus: Count = 1
    quant: Name | None = None
    price: Usd | None = Field(default=None, description="hardware price in USD (all cards)")
    watts: Annotated[float, Field(gt=0, le=1_000_000)] | None = Field(default=None, description="measured draw "
                                                                      "under load, all cards")
    kwh: Usd = Field(default=cost_calc.DEFAULT_KWH, description="electricity price per kWh")
    hours_per_day: float = cost_calc.DEFAULT_HOURS
    months: int = Field(default=cost_calc.DEFAULT_MONTHS, le=1200, description="service life to spread the price "
                        "over")
    duty: float = Field(default=cost_calc.DEFAULT_DUTY, description="share of powered hours spent generating")
    api_in: Usd | None = Field(default=None, description="custom API price, $/M input tokens")
    api_out: Usd | None = Field(default=None, description="custom API price, $/M output tokens")


def _cost(web: WebState, a: CostArgs) -> CostResult:
    return cost_calc.estimate(cost_calc.CostRequest(
        model=a.model, gpu=a.gpu, gpus=a.gpus, quant=a.quant, price=a.price, watts=a.watts, kwh=a.kwh,
        hours_per_day=a.hours_per_day, months=a.months, duty=a.duty, api_in=a.api_in, api_out=a.api_out),
        web.core.engine, web.core.prices)


_pair("/cost", CostArgs, CostResult, "Local cost per million tokens against API prices, break-even months", _cost)
