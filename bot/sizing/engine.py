"""SizingRequest -> SizingReport: the only place where fit and speed numbers are made."""
from __future__ import annotations

from dataclasses import dataclass

from bot.catalog.load import Catalog
from bot.catalog.schema import FileType, Model
from bot.errors import InvalidRequestError
from bot.sizing import vllm
from bot.sizing.compute_buffer import compute_buffer_bytes
from bot.sizing.devices import Setup, build_setup
from bot.sizing.kv_cache import KV_CACHE_TYPES, kv_bytes_per_layer, kv_cells, layer_cells
from bot.sizing.placement import Placement, place, place_all
from bot.sizing.schema import MAX_CONTEXT, ModelInfo, SizingReport, SizingRequest
from bot.sizing.speed import decode_speed, prompt_speed
from bot.sizing.weights import WeightLayout, catalog_layout

DEFAULT_QUANT = "Q4_K_M"
DEFAULT_CONTEXT = 8192
MAX_PARALLEL = 256
# what people actually download, best first: the candidates for "best quantization that fits"
QUANT_LADDER = ("Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q4_K_M", "Q4_K_S", "IQ4_XS", "Q3_K_L", "Q3_K_M", "IQ3_M",
                "Q3_K_S", "IQ3_XXS", "Q2_K", "IQ2_M", "IQ2_XS", "IQ2_XXS", "IQ1_M")


@dataclass(frozen=True)
class SizedModel:
    """A model as the engine sees it: architecture (for KV and compute) and its weights at one quantization."""

    model: Model
    quant: FileType
    layout: WeightLayout


@dataclass(frozen=True)
class _Outcome:
    placement: Placement
    kv: list[int]
    compute: int
    verdict: str


class SizingEngine:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self._layouts: dict[tuple[str, str], WeightLayout] = {}
        self._memory: dict[tuple, tuple[list[int], int]] = {}

    # -- inputs ---------------------------------------------------------------------------------------------
    def layout(self, model: Model, ft: FileType) -> WeightLayout:
        key = (model.id, ft.name)
        if key not in self._layouts:
            self._layouts[key] = catalog_layout(model, ft, self.catalog)
        return self._layouts[key]

    def sized_model(self, req: SizingRequest) -> SizedModel:
        if req.gguf:
            from bot.sizing.gguf_file import read_gguf
            sized = read_gguf(req.gguf, self.catalog)
            if req.quant and self.catalog.file_type(req.quant).name != sized.quant.name:
                raise InvalidRequestError(f"The GGUF file is {sized.quant.name}; drop quant or give another file.")
            return sized
        model = self.catalog.model(req.model)
        ft = self.catalog.file_type(req.quant or model.default_quant or
                                    (vllm.DEFAULT_FORMAT if req.runtime == "vllm" else DEFAULT_QUANT))
        return SizedModel(model, ft, self.layout(model, ft))

    # -- the answer -----------------------------------------------------------------------------------------
    def size(self, req: SizingRequest, sized: SizedModel | None = None, extras: bool = True) -> SizingReport:
        """The report for `req`. `extras=False` skips the largest context and the best quantization that fit (null
        in the report): they search over many placements, and a caller comparing many setups needs neither."""
        sized = sized or self.sized_model(req)
        model, ft = sized.model, sized.quant
        setup = build_setup(req, self.catalog)
        context = self._check(req, model, ft, setup)
        notes = list(setup.assumptions)
        if req.runtime == "vllm":
            return vllm.size(req, sized, setup, context, notes, self)

        outcome = self._outcome(sized, setup, context, req)
        p, kv = outcome.placement, outcome.kv
        kv_per_cell, cells = self._kv_profile(model, context, req, kv)
        speed = decode_speed(sized.layout, p, setup, kv_per_cell, cells, context, req.experts_in_ram)
        notes += self._notes(req, sized, context, outcome)
        devices = p.devices if setup.gpus else p.devices[-1:]
        total = sum(d.need_bytes for d in devices)
        headroom = min(d.usable_bytes - d.need_bytes for d in devices if d.layers or d.kind != "cpu")
        return SizingReport(
            model=ModelInfo(id=model.id, name=model.name, params_b=model.params_b, active_params_b=model.active_b),
            quant=ft.name, context=context, parallel=req.parallel, kv_cache_type=req.kv_cache_type,
            flash_attention=req.flash_attention, runtime=req.runtime, hardware=setup.label, verdict=outcome.verdict,
            weights_bytes=sized.layout.file_bytes, kv_cache_bytes=sum(kv),
            compute_bytes=sum(d.compute_bytes for d in devices), overhead_bytes=sum(d.overhead_bytes for d in devices),
            total_bytes=total, headroom_bytes=headroom, devices=devices, gpu_layers=p.offloaded,
            total_layers=model.layers + 1,
            decode_tokens_per_s=speed if outcome.verdict != "does_not_fit" else None,
            prompt_tokens_per_s=prompt_speed(model.active_b * 1e9, p, setup) if outcome.verdict == "fits" else None,
            max_context=self.max_context(sized, setup, req) if extras else None,
            best_quant=self.best_quant(model, setup, context, req) if extras and ft.format == "gguf" else None,
            assumptions=notes,
        )

    # -- the model of memory --------------------------------------------------------------------------------
    def memory(self, sized: SizedModel, context: int, req: SizingRequest) -> tuple[tuple[int, ...], int]:
        """KV cache bytes per layer and the compute buffer for `context` tokens: the inputs of every placement.
        Remembered per engine: the searches for the largest context and for hardware ask for the same ones often."""
        key = (sized.model.id, context, req.parallel, req.kv_cache_type, req.flash_attention)
        if key not in self._memory:
            if len(self._memory) > 10_000:
                self._memory.clear()
            self._memory[key] = self._compute_memory(sized, context, req)
        return self._memory[key]

    def _compute_memory(self, sized: SizedModel, context: int, req: SizingRequest) -> tuple[tuple[int, ...], int]:
        model = sized.model
        kv = kv_bytes_per_layer(model, context, req.parallel, req.kv_cache_type, self.catalog)
        ffn = model.intermediate_size or (model.moe.expert_ffn * (model.moe.active + model.moe.shared) if model.moe else 0)
        compute = compute_buffer_bytes(model.hidden_size, model.vocab_size, model.attention_heads, ffn,
                                       kv_cells(context, req.parallel), req.flash_attention)
        return tuple(kv), compute     # a tuple: the result is shared through the cache

    def _outcome(self, sized: SizedModel, setup: Setup, context: int, req: SizingRequest) -> _Outcome:
        kv, compute = self.memory(sized, context, req)
        p = place(sized.layout, kv, compute, setup, req.experts_in_ram)
        return _Outcome(p, kv, compute, _verdict(p, setup, sized.layout.n_layers, req.experts_in_ram))

    def _fits_entirely(self, sized: SizedModel, setup: Setup, context: int, req: SizingRequest) -> bool:
        kv, compute = self.memory(sized, context, req)
        p = place_all(sized.layout, kv, compute, setup, req.experts_in_ram)
        return p.gpus_fit and p.host_fits

    @staticmethod
    def _kv_profile(model: Model, context: int, req: SizingRequest, kv: list[int]) -> tuple[list[float], list[int]]:
        """Bytes per cached token and cells, per layer: decode reads min(position, cells) tokens of each."""
        cells = [layer_cells(model, i, kv_cells(context, req.parallel), req.parallel) for i in range(model.layers)]
        return [k / c if c else 0.0 for k, c in zip(kv, cells)], cells

    def max_context(self, sized: SizedModel, setup: Setup, req: SizingRequest) -> int | None:
        """The largest context (a multiple of 256, up to the model's trained maximum) that runs entirely on the
        GPUs, or entirely in RAM when no GPU is given; None when not even 256 tokens do."""
        limit = sized.model.context_length
        if not self._fits_entirely(sized, setup, 256, req):
            return None
        if self._fits_entirely(sized, setup, limit, req):
            return limit
        lo, hi = 1, limit // 256  # in units of 256 tokens: lo fits, hi does not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._fits_entirely(sized, setup, mid * 256, req):
                lo = mid
            else:
                hi = mid
        return lo * 256

    def best_quant(self, model: Model, setup: Setup, context: int, req: SizingRequest) -> str | None:
        """The most faithful common GGUF quantization that runs entirely on the GPUs (or in RAM) at this context."""
        for name in QUANT_LADDER:
            ft = self.catalog.file_type(name)
            if self._fits_entirely(SizedModel(model, ft, self.layout(model, ft)), setup, context, req):
                return name
        return None

    # -- checks and words -----------------------------------------------------------------------------------
    def _check(self, req: SizingRequest, model: Model, ft: FileType, setup: Setup) -> int:
        context = req.context if req.context is not None else min(DEFAULT_CONTEXT, model.context_length)
        if not 1 <= context <= MAX_CONTEXT:
            raise InvalidRequestError(f"Context must be between 1 and {MAX_CONTEXT:,} tokens, got {context:,}.")
        if not 1 <= req.parallel <= MAX_PARALLEL:
            raise InvalidRequestError(f"parallel must be between 1 and {MAX_PARALLEL}, got {req.parallel}.")
        if req.kv_cache_type not in KV_CACHE_TYPES:
            raise InvalidRequestError(f"KV cache type '{req.kv_cache_type}' is not one llama.cpp offers: {', '.join(KV_CACHE_TYPES)}.")
        if req.kv_cache_type not in ("f16", "f32", "bf16") and not req.flash_attention and req.runtime == "llama.cpp":
            raise InvalidRequestError("A quantized V cache needs flash attention in llama.cpp: turn flash attention on "
                                      "(-fa on) or keep the KV cache at f16.")
        if req.experts_in_ram and model.moe is None:
            raise InvalidRequestError(f"{model.name} is a dense model: it has no experts to keep in system RAM.")
        if req.runtime == "llama.cpp" and ft.format != "gguf":
            raise InvalidRequestError(f"{ft.name} is not a GGUF quantization, and llama.cpp runs GGUF files. "
                                      "Size it with runtime vllm, or pick a GGUF type such as Q4_K_M.")
        if req.runtime == "vllm" and ft.format == "gguf":
            raise InvalidRequestError(f"{ft.name} is a GGUF type; for vLLM choose safetensors-BF16, FP8, AWQ-4bit or GPTQ-4bit.")
        if req.runtime == "vllm" and not setup.gpus:
            raise InvalidRequestError("vLLM needs a GPU: name one, or size the model for llama.cpp on CPU.")
        return context

    def _notes(self, req: SizingRequest, sized: SizedModel, context: int, outcome: _Outcome) -> list[str]:
        model, layout = sized.model, sized.layout
        origin = (f"read from {req.gguf}'s tensors" if req.gguf else
                  f"{sized.quant.name} as llama.cpp's quantize lays it out, tensor by tensor")
        notes = [f"Weights: {origin} ({layout.file_bytes * 8 / (model.params_b * 1e9):.2f} bits per weight overall)."]
        if req.context is None:
            notes.append(f"Context assumed {context:,} tokens (give context to change it).")
        if context > model.context_length:
            notes.append(f"{context:,} tokens is beyond the {model.context_length:,} the model was trained for; "
                         "answers degrade without RoPE scaling.")
        cells = kv_cells(context, req.parallel)
        if cells != context * req.parallel:
            notes.append(f"llama.cpp pads the KV cache to a multiple of 256: {cells:,} cells.")
        if req.parallel > 1:
            notes.append(f"{req.parallel} parallel sequences of {context:,} tokens each share one KV cache.")
        if model.sliding_window:
            notes.append(f"Sliding-window layers keep only the last {model.sliding_window.window:,} tokens "
                         f"(every {model.sliding_window.global_every}th layer attends to everything).")
        if model.mla:
            notes.append("Multi-head latent attention: the cache holds the compressed latent, not full keys and values.")
        if model.moe:
            notes.append(f"Mixture of experts: {model.moe.active} of {model.moe.experts} experts are read per token, so "
                         f"decoding reads about {model.active_b:g}B of the {model.params_b:g}B parameters.")
        if req.experts_in_ram:
            notes.append("Routed experts stay in system RAM (llama.cpp --cpu-moe); attention, shared weights and the "
                         "KV cache go to the GPU.")
        notes.append("Flash attention on: the compute buffer stays small at long context." if req.flash_attention else
                     "Flash attention off: the compute buffer grows with context (attention scores in f32).")
        if outcome.verdict == "partial_offload" and not req.experts_in_ram:
            notes.append(f"Partial offload: llama.cpp -ngl {outcome.placement.offloaded}; the layers left in RAM "
                         "set the speed.")
        notes.append("Decode speed: low = context full and pessimistic bandwidth use, high = a short context and "
                     "optimistic bandwidth use.")
        return notes


def _verdict(p: Placement, setup: Setup, n_layers: int, experts_in_ram: bool) -> str:
    if not p.host_fits:
        return "does_not_fit"
    if not setup.gpus or p.offloaded == 0:
        return "cpu_only"
    if p.offloaded == n_layers + 1 and not experts_in_ram:
        return "fits"
    return "partial_offload"
