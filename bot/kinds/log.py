"""log: a pasted or attached log. What it shows (the facts, listed so the user can correct them), the knowledge-base
entry for its telling error line, and, when it shows a setup (a model and what it ran on), the sizing engine's
answer for that setup with the sentences that explain the log ("only 20 of 33 layers are on the GPU because the
weights and KV cache at 32,768 tokens need 27.5 GB and the GPU has 24 GB usable; at 16,384 tokens all fit").

The language model takes no part: the facts come from the parser, the numbers from the engine, the advice from the
knowledge base's own words."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from bot.answer.schema import Answer, Source
from bot.answer.sources import extractive_answer, see_also
from bot.catalog.load import Catalog
from bot.core import Core
from bot.errors import WillItRunError
from bot.format import log_text
from bot.kb.schema import Entry
from bot.kinds.timing import ms_since
from bot.logs import LogFacts, LogGpu, parse_log
from bot.logs.parse import ERROR_WORDS
from bot.logs.schema import LogReading
from bot.resolve.models import resolve_model
from bot.routing.schema import GpuRef, ModelRef, Route, SizingFields
from bot.sizing.devices import gb
from bot.sizing.schema import SizingReport, SizingRequest
from bot.sizing.typical_card import typical_card

QUERIES = 3                 # error lines tried against the knowledge base, best match kept
MAX_SOURCES = 3
SOURCE_SCORE_SHARE = 0.75   # as the knowledge kind: cite a further entry only when it scores this close to the best
MEMORY_TOLERANCE = 0.15     # a named card whose memory differs more from what the log measured is sized by memory
MIN_USEFUL_CONTEXT = 2048
LOWEST_QUALITY_RANK = 55    # Q3_K_S in the catalog's quant ranking: below it, a smaller model is the better advice
KV_TYPES = ("f16", "bf16", "f32", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "iq4_nl")
# lines that only say that something failed, not why: the knowledge base is asked about the reason first
GENERIC_ERRORS = ("failed to load model", "exiting due to model loading error", "failed to start", "traceback",
                  "error loading model.", "failed to load the model", "initialization failed", "unable to load model",
                  "failed to create context", "error in channel handler", "unknown error", "exit code",
                  "llama_kv_cache_init() failed", "cleaning up before exit")
_FUNCTION_PREFIX = re.compile(r"[a-z][a-z0-9_]{2,60}: ")


@dataclass
class Setup:
    """The log's setup as the engine's request, and what was assumed reading it."""
    fields: SizingFields
    request: SizingRequest | None = None
    model_name: str | None = None
    hardware_name: str | None = None
    notes: list[str] = field(default_factory=list)


def answer(intent: Route, core: Core) -> Answer:
    start = time.perf_counter()
    facts = parse_log(intent.text)
    setup = read_setup(facts, core)
    report, note = size(setup, core)
    timings = {"log": ms_since(start)}
    start = time.perf_counter()
    entries, confidence = knowledge_entries(facts, core)
    timings["retrieval"] = ms_since(start)
    reading = LogReading(**facts.model_dump(), model_sized=setup.model_name, hardware_sized=setup.hardware_name,
                         explanation=explain(facts, report, core.catalog), notes=setup.notes + ([note] if note else []))
    reading.advice = extractive_answer(entries) if entries else None
    return Answer(kind="log", text=log_text(reading, report), log=reading, sizing=report,
                  sources=[Source.of(e) for e in entries[:1]], see_also=see_also(entries),
                  request=setup.fields if setup.fields.states_anything() else None,
                  confidence=round(max(confidence, intent.confidence if report else 0.0), 3), timings=timings)


# ---------------------------------------------------------------- what the log ran
def read_setup(facts: LogFacts, core: Core) -> Setup:
    """The model, hardware, quantization and context of the log as catalog entries; the user's own words in the
    message fill what the log does not print ("4x A30 here, deepseek-r1 70b")."""
    notes: list[str] = []
    said = core.resolver.extractor.extract(facts.prose).fields if facts.prose else SizingFields()
    model, quant = _model(facts, core, notes)
    if model is None and said.model is not None:
        model = ModelRef(id=said.model.id, params_b=said.model.params_b)
    gpu_ids, gpu, count = _gpus(facts.hardware, core, notes)
    if gpu is None and said.gpu is not None:
        gpu, count, gpu_ids = said.gpu, said.gpus or facts.gpu_count or 1, []
    quant = _quant(facts.quant, core) or quant or said.quant
    fields = SizingFields(model=model, gpu=gpu, gpus=count if gpu is not None else None, quant=quant,
                          context=facts.context or said.context, ram_gb=facts.ram_gb or said.ram_gb,
                          cpu_only=gpu is None and _ran_on_cpu(facts))
    setup = Setup(fields=fields, notes=notes,
                  model_name=core.catalog.model(model.id).name if model is not None else None)
    if model is None or (gpu is None and not fields.cpu_only):
        return setup
    mixed = len(set(gpu_ids)) > 1        # different cards: the engine takes them joined by '+'
    # a card known by its memory alone, and a Mac or CPU platform, are sized with the memory the log shows
    shared = gpu is not None and gpu.id is not None and core.catalog.gpu(gpu.id).kind != "gpu"
    setup.request = SizingRequest(
        model=model.id, gpu="+".join(gpu_ids) if mixed else (gpu.id if gpu else None), gpus=1 if mixed else count,
        memory_gb=gpu.memory_gb if gpu is not None and (gpu.id is None or shared) else None,
        quant=quant, context=fields.context, ram_gb=fields.ram_gb,
        flash_attention=facts.flash_attention if facts.flash_attention is not None else True,
        kv_cache_type=facts.kv_cache_type if facts.kv_cache_type in KV_TYPES else "f16",
        runtime="vllm" if facts.tools == ["vllm"] else "llama.cpp")
    return setup


def _model(facts: LogFacts, core: Core, notes: list[str]) -> tuple[ModelRef | None, str | None]:
    """The first name the log prints that the catalog knows (a file name before general.name: it carries the size
    and quantization). No Hugging Face look-up: a pasted log must not reach the network."""
    for name in facts.model_candidates:
        try:
            found = resolve_model(name, core.catalog, core.resolver.model_names, hub=None)
        except WillItRunError:
            continue
        notes.extend(found.notes)
        quant = found.quant.file_type.name if found.quant is not None else None
        return ModelRef(id=found.model.id, params_b=found.model.params_b), quant
    return None, None


def _quant(label: str | None, core: Core) -> str | None:
    if not label:
        return None
    try:
        return core.resolver.quant(label).file_type.name
    except WillItRunError:
        return None


def _gpus(gpus: list[LogGpu], core: Core, notes: list[str]) -> tuple[list[str], GpuRef | None, int]:
    """Catalog ids of the log's GPUs, the first as a GpuRef, and how many. A card the catalog cannot name, or
    whose stock memory is not what the log measured, is sized by the memory the log shows."""
    refs = [ref for ref in (_gpu(g, core, notes) for g in gpus) if ref is not None]
    if not refs:
        return [], None, 0
    ids = [r.id for r in refs if r.id is not None]
    if len(ids) != len(refs):            # a card known only by its memory: size them all as the first one
        return [], refs[0], len(refs)
    return ids, refs[0], len(refs)


def _gpu(g: LogGpu, core: Core, notes: list[str]) -> GpuRef | None:
    memory = g.memory_gb
    if g.name and g.name.lower().startswith("apple") and memory:
        # Metal's recommendedMaxWorkingSetSize is about 2/3 of unified memory up to 36 GB, 3/4 above
        memory = float(round(memory / (0.75 if memory / 0.75 >= 48 else 2 / 3)))
        notes.append(f"{g.name}: {memory:g} GB of unified memory, from the GPU working set the log shows "
                     f"({g.memory_gb:g} GB).")
    if g.name and "..." not in g.name:
        try:
            found = core.resolver.hardware(f"{g.name} {round(memory)}gb" if memory else g.name)
        except WillItRunError:
            found = None
        if found is not None and found.hardware is not None:
            hw = found.hardware
            stock = found.memory_gb
            if memory is None or hw.kind != "gpu" or abs(stock - memory) <= MEMORY_TOLERANCE * stock:
                return GpuRef(id=hw.id, memory_gb=found.memory_gb if hw.kind != "gpu" else None)
    if memory:
        return GpuRef(id=None, memory_gb=float(round(memory)))
    if g.free_gb:
        # only what was free at start-up is known: the smallest card size that holds it
        sizes = sorted({h.memory_gb for h in core.catalog.hardware if h.kind == "gpu" and h.memory_gb >= g.free_gb})
        if sizes:
            notes.append(f"{g.name or 'The GPU'}: sized as a {sizes[0]:g} GB card, the smallest that has the "
                         f"{g.free_gb:g} GB the log shows free.")
            return GpuRef(id=None, memory_gb=sizes[0])
    return None


def _ran_on_cpu(facts: LogFacts) -> bool:
    """The log shows where the model went, and all of it went to system RAM (a CPU-only llama.cpp build)."""
    return not facts.hardware and not facts.gpu_count and not facts.gpu_layers and bool(facts.buffers) and \
        all(b.device.upper().startswith("CPU") for b in facts.buffers)


def size(setup: Setup, core: Core) -> tuple[SizingReport | None, str | None]:
    request = setup.request
    if request is None:
        return None, None
    note = None
    try:
        if request.gpu is None and request.memory_gb is not None:
            request, note = typical_card(request, core.catalog)
        report = core.engine.size(request)
    except WillItRunError as exc:
        return None, f"Not sized: {exc}"
    setup.hardware_name = report.hardware or "CPU and system RAM"
    report.assumptions[:0] = setup.notes + ([note] if note else [])
    return report, note


# ---------------------------------------------------------------- what explains it
def explain(facts: LogFacts, report: SizingReport | None, catalog: Catalog) -> list[str]:
    """Sentences that explain the log with the engine's numbers for the same setup."""
    if report is None:
        return []
    out: list[str] = []
    gpus = [d for d in report.devices if d.kind != "cpu"]
    usable = sum(d.usable_bytes for d in gpus)
    where = "the GPU has" if len(gpus) == 1 else f"the {len(gpus)} GPUs have"
    need = (f"the weights ({gb(report.weights_bytes)}), the KV cache for {report.context:,} tokens "
            f"({gb(report.kv_cache_bytes)}) and buffers need {gb(report.total_bytes)}")
    room = f"{need} and {where} {gb(usable)} usable"
    instead = _what_fits(report, catalog)
    gl, tl = facts.gpu_layers, facts.total_layers
    if not gpus:
        out.append(f"It runs on the CPU: the model needs {gb(report.total_bytes)} of system RAM at "
                   f"{report.context:,} tokens.")
    elif gl is not None and tl and gl == 0:
        out.append("No layers are on the GPU: the runtime was built without GPU support or told to offload none "
                   f"(-ngl 0, num_gpu 0); {room}.")
    elif gl is not None and tl and gl < tl:
        if report.verdict == "fits":
            how = ("Ollama chose that number from its own, more cautious estimate; set num_gpu to "
                   f"{tl} to offload all" if "ollama" in facts.tools else
                   f"llama.cpp offloads only the layers -ngl asks for: run with -ngl {tl}")
            out.append(f"Only {gl} of {tl} layers are on the GPU, yet all of them fit: {room}. {how}.")
        else:
            out.append(f"Only {gl} of {tl} layers are on the GPU because {room}." + (f" {instead}" if instead else ""))
    elif facts.ran_out_of_memory:
        if report.verdict == "fits":
            out.append(f"By the engine's numbers it fits ({room}), so something else was holding GPU memory: "
                       "another program or another loaded model.")
        else:
            out.append(f"It ran out of GPU memory because {room}." + (f" {instead}" if instead else ""))
    elif report.verdict == "fits":
        layers = f"All {tl} layers are on the GPU, as expected: " if gl is not None and gl == tl else "It fits: "
        out.append(f"{layers}{room}.")
    else:
        out.append(f"The engine expects it not to fit entirely: {room}." + (f" {instead}" if instead else ""))
    if facts.gpu_share is not None and facts.gpu_share < 100:
        out.append(f"`ollama ps` shows {100 - facts.gpu_share}% of the model in system RAM; that part sets the "
                   "speed.")
    if facts.decode_tokens_per_s and report.decode_tokens_per_s:
        r = report.decode_tokens_per_s
        out.append(f"The log measured {facts.decode_tokens_per_s:g} tokens/s; the engine expects {r.low:g}–"
                   f"{r.high:g} for this setup.")
    return out


def _what_fits(report: SizingReport, catalog: Catalog) -> str | None:
    """What would run entirely instead: a shorter context, else a smaller quantization of Q3 or better."""
    if report.max_context and MIN_USEFUL_CONTEXT <= report.max_context < report.context:
        return f"At {report.max_context:,} tokens all {report.total_layers} layers fit."
    best = report.best_quant
    if best and best != report.quant:
        if catalog.file_type(best).quality_rank < LOWEST_QUALITY_RANK:
            return "Nothing at Q3 or better fits entirely at this context; a smaller model would (`/whatcanirun`)."
        return f"At {best} all layers fit at this context."
    return None


# ---------------------------------------------------------------- the knowledge base
def knowledge_entries(facts: LogFacts, core: Core) -> tuple[list[Entry], float]:
    """The entries for the log's telling error line: the first line that says why something failed (not merely
    that it did) and that the knowledge base matches; the root cause comes first in a log."""
    telling = [e for e in facts.errors if not any(g in e.lower() for g in GENERIC_ERRORS)]
    for query in (telling or facts.errors)[:QUERIES]:
        result = core.retriever.search(query_of(query), k=5)
        if result.declined or not result.results:
            continue
        top = result.results[0].score
        kb = core.retriever.kb
        entries = [kb.entries[h.id] for h in result.results[:MAX_SOURCES] if h.score >= SOURCE_SCORE_SHARE * top]
        return entries, core.retriever.coverage(result.evidence)
    return [], 0.0


def query_of(error: str) -> str:
    """An error line as a search query: without the function names llama.cpp prints before its messages, and
    without the context before the part that names the failure ("allocating 16384.00 MiB on device 0: cudaMalloc
    failed: out of memory" -> "cudaMalloc failed: out of memory")."""
    for _ in range(3):
        m = _FUNCTION_PREFIX.match(error)
        if not m:
            break
        error = error[m.end():]
    parts = error.split(": ")
    for i, part in enumerate(parts[:-1]):
        if any(w in part.lower() for w in ERROR_WORDS):
            return ": ".join(parts[i:])
    return error
