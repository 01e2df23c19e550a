"""serve: how many sequences a serving runtime holds at a context and their aggregate speed (bot.calc.serve), for a
model on the GPUs the message names. The runtime defaults to vLLM on discrete GPUs and llama-server elsewhere."""
from __future__ import annotations

import time
from dataclasses import replace

from bot.answer.schema import Answer
from bot.calc.schema import ServeResult
from bot.calc.serve import ServeRequest, estimate
from bot.core import Core
from bot.format import serve_text
from bot.kinds.calculators import calculated, clarify, fields_of, hardware_of
from bot.routing.schema import CalcFields, Route, SizingFields, missing_model_message
from bot.sizing.vllm import DEFAULT_FORMAT

# vLLM loads safetensors checkpoints: a GGUF type named in the message stands for the vLLM format nearest its width
# (bits per weight from which each is nearest: 16 from 12, 8 from 6, else 4)
VLLM_FORMAT_OF_BITS = ((12, "safetensors-BF16"), (6, "FP8"), (0, "AWQ-4bit"))
VLLM_FORMATS = ("safetensors", "fp8", "awq", "gptq")
VLLM_NARROWER = ("FP8", "AWQ-4bit")
MAX_SLOTS = 64


def answer(intent: Route, core: Core) -> Answer:
    start = time.perf_counter()
    fields, calc = fields_of(intent)
    if fields.model is None:
        return clarify(intent, missing_model_message(fields), "serve")
    if fields.gpu is None:
        return clarify(intent, "On which GPUs, and how many? For example '4x a100 80gb' or 'a 3090'; add the runtime "
                               "(vllm, llama-server, ollama) and the context per request if you know them.", "serve")
    return calculated(intent, "serve", start, lambda: serve(core, fields, calc), serve_text, fields)


def serve(core: Core, fields: SizingFields, calc: CalcFields) -> ServeResult:
    gpu, gpus, notes = hardware_of(core, fields)
    discrete = core.catalog.gpu(gpu).kind == "gpu"
    runtime = calc.runtime or ("vllm" if discrete else "llama-server")
    if calc.runtime is None:
        notes.append(f"Runtime not stated: {runtime} assumed.")
    elif runtime == "vllm" and not discrete:
        runtime = "llama-server"
        notes.append("vLLM needs discrete GPUs: sized with llama-server instead.")
    quant, note = _quant_for(core, fields.quant, runtime)
    if note:
        notes.append(note)
    request = ServeRequest(model=fields.model.id, gpu=gpu, gpus=gpus, runtime=runtime, context=fields.context,
                           quant=quant, parallel=calc.parallel)
    result = estimate(request, core.engine)
    if runtime != "vllm" and calc.parallel is None and result.max_concurrent_sequences >= 1:
        result = _most_slots(core, request, result, notes)
    if runtime == "vllm" and quant is None and result.max_concurrent_sequences < 1:
        # unquantized weights leave no room for one request: the widest format people serve that does
        for narrower in VLLM_NARROWER:
            tried = estimate(replace(request, quant=narrower), core.engine)
            if tried.max_concurrent_sequences >= 1:
                notes.append(f"At {DEFAULT_FORMAT} not one {result.context:,}-token request fits: sized at "
                             f"{narrower}, the widest format that leaves room for one.")
                result = tried
                break
    if fields.model.note:
        notes.append(fields.model.note)
    result.assumptions[:0] = notes
    return result


def _most_slots(core: Core, request: ServeRequest, fitting: ServeResult, notes: list[str]) -> ServeResult:
    """llama-server and Ollama hold as many sequences as they have slots, each a full context: with no slot count
    stated, the most slots (doubling from the default) whose KV cache still fits entirely."""
    default = fitting.max_concurrent_sequences
    slots = int(default) * 2
    while slots <= MAX_SLOTS:
        tried = estimate(replace(request, parallel=slots), core.engine)
        if tried.max_concurrent_sequences < slots:
            break
        fitting, slots = tried, slots * 2
    word = "OLLAMA_NUM_PARALLEL" if request.runtime == "ollama" else "-np"
    notes.append(f"{word} not stated: the most slots that fit at {fitting.context:,} tokens each, "
                 f"{fitting.max_concurrent_sequences:g} (the default is {default:g}).")
    return fitting


def _quant_for(core: Core, quant: str | None, runtime: str) -> tuple[str | None, str | None]:
    """The quantization as the runtime loads it, and a note when the one named had to be translated."""
    if quant is None:
        return None, None
    file_type = core.catalog.file_type(quant)
    if runtime != "vllm":
        if file_type.format == "gguf":
            return file_type.name, None
        return None, f"{file_type.name} is not a GGUF type: {runtime} sized at the model's usual GGUF quantization."
    if file_type.format in VLLM_FORMATS:
        return file_type.name, None
    bits = file_type.linear_bpw or core.catalog.tensor_type(file_type.default_type).bits_per_weight
    name = next(f for width, f in VLLM_FORMAT_OF_BITS if bits >= width)
    return name, f"vLLM loads safetensors checkpoints: {file_type.name} sized as {name}, its nearest width."
