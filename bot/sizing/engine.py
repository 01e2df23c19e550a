"""SizingRequest -> SizingReport: the only place where fit and speed numbers are made.

The engine resolves the inputs (the catalog's model and quantization, or a GGUF file's header; the devices), checks
them, and hands them to the runtime's estimate: bot/sizing/llamacpp.py or bot/sizing/vllm.py, one file per runtime
with one signature. It remembers what those ask for often (weight layouts, KV cache and compute buffers).
"""
from __future__ import annotations

from bot.catalog.load import Catalog
from bot.catalog.schema import FileType, Model
from bot.errors import InvalidRequestError
from bot.sizing import llamacpp, vllm
from bot.sizing.devices import Setup, build_setup
from bot.sizing.gguf_file import read_gguf
from bot.sizing.kv_cache import KV_CACHE_TYPES
from bot.sizing.llamacpp import DEFAULT_QUANT, QUANT_LADDER, Memory
from bot.sizing.schema import MAX_CONTEXT, SizingReport, SizingRequest
from bot.sizing.tensors import is_quantized
from bot.sizing.weights import SizedModel, WeightLayout, catalog_layout

__all__ = ["DEFAULT_CONTEXT", "DEFAULT_QUANT", "MAX_PARALLEL", "QUANT_LADDER", "SizedModel", "SizingEngine"]

DEFAULT_CONTEXT = 8192
MAX_PARALLEL = 256
# each runtime's estimate: size(req, sized, setup, context, notes, sized_at, memory, extras) -> SizingReport
RUNTIMES = {"llama.cpp": llamacpp.size, "vllm": vllm.size}
DEFAULT_FORMAT = {"llama.cpp": DEFAULT_QUANT, "vllm": vllm.DEFAULT_FORMAT}


# formats no runtime here models: sized with the closest runtime's memory model, and the choice is stated
STAND_IN = {"exl2": ("ExLlamaV2", "llama.cpp"), "mlx": ("MLX", "llama.cpp"),
            "bitsandbytes": ("transformers", "llama.cpp")}
# formats vLLM serves (GPTQ, AWQ, FP8, unquantized safetensors)
VLLM_FORMATS = {"gptq", "awq", "fp8", "safetensors"}


class SizingEngine:
    def __init__(self, catalog: Catalog, resolver=None):
        """`resolver` (bot.resolve.resolver.Resolver) reads names as people type them and says what it assumed;
        without it, names must be the catalog's own."""
        self.catalog = catalog
        self.resolver = resolver
        self._layouts: dict[tuple[str, str], WeightLayout] = {}
        self._memory: dict[tuple, Memory] = {}

    # -- inputs ---------------------------------------------------------------------------------------------
    def layout(self, model: Model, ft: FileType) -> WeightLayout:
        key = (model.id, ft.name)
        if key not in self._layouts:
            self._layouts[key] = catalog_layout(model, ft, self.catalog)
        return self._layouts[key]

    def sized_at(self, model: Model, quant: str) -> SizedModel:
        """`model` at the file type named `quant`, its layout remembered."""
        ft = self.catalog.file_type(quant)
        return SizedModel(model, ft, self.layout(model, ft))

    def sized_model(self, req: SizingRequest) -> SizedModel:
        return self.resolved(req)[0]

    def resolved(self, req: SizingRequest) -> tuple[SizedModel, list[str]]:
        """The model and quantization `req` names, and what was assumed reading them (stated in the report)."""
        if req.gguf or self.resolver is None:
            return self._sized_model(req), []
        r = self.resolver.model(req.model)
        notes = list(r.notes)
        if req.quant:
            q = self.resolver.quant(req.quant)
            notes += [q.note] if q.note else []
            ft = q.file_type
        elif r.quant is not None:
            notes += [r.quant.note] if r.quant.note else []
            ft = r.quant.file_type
        else:
            ft = self.catalog.file_type(r.model.default_quant or DEFAULT_FORMAT[req.runtime])
        return SizedModel(r.model, ft, self.layout(r.model, ft)), notes

    def _sized_model(self, req: SizingRequest) -> SizedModel:
        if req.gguf:
            sized = read_gguf(req.gguf, self.catalog)
            if req.quant and self.catalog.file_type(req.quant).name != sized.quant.name:
                raise InvalidRequestError(f"The GGUF file is {sized.quant.name}; drop quant or give another file.")
            return sized
        model = self.catalog.model(req.model)
        return self.sized_at(model, req.quant or model.default_quant or DEFAULT_FORMAT[req.runtime])

    # -- the answer -----------------------------------------------------------------------------------------
    def size(self, req: SizingRequest, sized: SizedModel | None = None, extras: bool = True) -> SizingReport:
        """The report for `req`. `extras=False` skips the largest context and the best quantization that fit (null
        in the report): they search over many placements, and a caller comparing many setups needs neither."""
        notes: list[str] = []
        if sized is None:
            sized, notes = self.resolved(req)
        setup = build_setup(req, self.catalog)
        req, stand_in, why = self._runtime(req, sized.quant, setup)
        notes += [why] if why else []
        context = self._check(req, sized.model, sized.quant, setup, stand_in)
        estimate = RUNTIMES[req.runtime]
        return estimate(req, sized, setup, context, notes + list(setup.assumptions), sized_at=self.sized_at,
                        memory=self.memory, extras=extras)

    @staticmethod
    def _runtime(req: SizingRequest, ft: FileType, setup: Setup) -> tuple[SizingRequest, bool, str | None]:
        """The runtime a request left unsaid follows its format (GPTQ/AWQ/FP8 -> vLLM; EXL2, MLX, bitsandbytes ->
        their own runtimes, sized with llama.cpp's memory model, the closest here); a runtime said is kept, and a
        contradiction is an error in _check."""
        if "runtime" in req.model_fields_set or ft.format == "gguf":
            return req, False, None
        if ft.format in VLLM_FORMATS and setup.gpus:
            return (req.model_copy(update={"runtime": "vllm"}), False,
                    f"{ft.name} is served by vLLM: sized with vLLM's memory model (runtime chosen from the format)")
        if ft.format in STAND_IN:
            runtime, model = STAND_IN[ft.format]
            return (req.model_copy(update={"runtime": model}), True,
                    f"{ft.name} runs on {runtime}: sized with llama.cpp's memory model (weights, KV cache and "
                    f"buffers, no pre-allocation), the closest runtime modelled here")
        return (req.model_copy(update={"runtime": "llama.cpp"}), True,
                f"{ft.name} is served by vLLM, which needs a GPU: sized with llama.cpp's memory model instead")

    # -- llama.cpp's model of memory, remembered ------------------------------------------------------------
    def memory(self, sized: SizedModel, context: int, req: SizingRequest) -> Memory:
        """KV cache bytes per layer and the compute buffer for `context` tokens: the inputs of every placement.
        Remembered per engine: the searches for the largest context and for hardware ask for the same ones often."""
        key = (sized.model.id, context, req.parallel, req.kv_cache_type, req.flash_attention)
        if key not in self._memory:
            if len(self._memory) > 10_000:
                self._memory.clear()
            self._memory[key] = llamacpp.kv_and_compute(sized, context, req, self.catalog)
        return self._memory[key]

    def max_context(self, sized: SizedModel, setup: Setup, req: SizingRequest) -> int | None:
        """The largest context that runs entirely on the GPUs (or in RAM) with llama.cpp; see llamacpp.max_context."""
        return llamacpp.max_context(sized, setup, req, self.memory)

    def best_quant(self, model: Model, setup: Setup, context: int, req: SizingRequest) -> str | None:
        """The most faithful common GGUF quantization that runs entirely on the GPUs (or in RAM) at this context."""
        return llamacpp.best_quant(model, setup, context, req, self.sized_at, self.memory)

    # -- checks ---------------------------------------------------------------------------------------------
    def _check(self, req: SizingRequest, model: Model, ft: FileType, setup: Setup, stand_in: bool = False) -> int:
        context = req.context if req.context is not None else min(DEFAULT_CONTEXT, model.context_length)
        if not 1 <= context <= MAX_CONTEXT:
            raise InvalidRequestError(f"Context must be between 1 and {MAX_CONTEXT:,} tokens, got {context:,}.")
        if not 1 <= req.parallel <= MAX_PARALLEL:
            raise InvalidRequestError(f"parallel must be between 1 and {MAX_PARALLEL}, got {req.parallel}.")
        if req.kv_cache_type not in KV_CACHE_TYPES:
            raise InvalidRequestError(f"KV cache type '{req.kv_cache_type}' is not one llama.cpp offers: "
                                      f"{', '.join(KV_CACHE_TYPES)}.")
        if is_quantized(req.kv_cache_type) and not req.flash_attention and req.runtime == "llama.cpp":
            raise InvalidRequestError("A quantized V cache needs flash attention in llama.cpp: turn flash attention on "
                                      "(-fa on) or keep the KV cache at f16.")
        if req.experts_in_ram and model.moe is None:
            raise InvalidRequestError(f"{model.name} is a dense model: it has no experts to keep in system RAM.")
        if req.runtime == "llama.cpp" and ft.format != "gguf" and not stand_in:
            raise InvalidRequestError(f"{ft.name} is not a GGUF quantization, and llama.cpp runs GGUF files. "
                                      "Size it with runtime vllm, or pick a GGUF type such as Q4_K_M.")
        if req.runtime == "vllm" and ft.format == "gguf":
            raise InvalidRequestError(f"{ft.name} is a GGUF type; "
                                      "for vLLM choose safetensors-BF16, FP8, AWQ-4bit or GPTQ-4bit.")
        if req.runtime == "vllm" and not setup.gpus:
            raise InvalidRequestError("vLLM needs a GPU: name one, or size the model for llama.cpp on CPU.")
        return context
