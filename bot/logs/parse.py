"""Read a pasted log: what llama.cpp (llama-server, llama-cli), Ollama (`ollama serve`, `ollama ps`, `--verbose`),
LM Studio, vLLM, nvidia-smi and rocm-smi print, into LogFacts.

Each line is matched against literal markers (str `in`, linear); a marker's reader then matches a short pattern at
the marker's position. The line formats are the tools' own format strings, cited where they are read:
llama.cpp src/llama-model-loader.cpp, src/llama-model.cpp, src/llama-context.cpp, ggml/src/ggml-cuda/ggml-cuda.cu;
Ollama discover/types.go, llm/memory.go, ml/device.go, cmd/cmd.go; vLLM v1/worker/gpu_worker.py,
v1/core/kv_cache_utils.py. The input is cut at 1 MB and each line at 4000 characters, so reading is linear.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from bot.logs.lines import (
    file_stem,
    flags,
    int_after,
    message_of,
    number_after,
    quant_of_ftype,
    size_bytes,
    slog_value,
    trailing_int,
)
from bot.logs.schema import LogBuffer, LogFacts, LogGpu, Tool

MAX_LOG_CHARS = 1_000_000
MAX_LINE = 4000
# a megabyte of real log is 10-15 thousand lines; past twice this many only the first and the last are read (the
# setup is printed at start-up, the error at the end), so a megabyte of one-character lines costs no more
MAX_LINES = 10_000
MAX_ERRORS = 8
MAX_ERROR_CHARS = 300
MAX_PROSE_LINES = 5      # the message's own words around a log: a question is a line or two
MAX_PROSE_CHARS = 300
MAX_ITEMS = 32           # buffers, model names, GPUs of one source: a real log has a handful of each
MIB = 2**20
GIB = 2**30

# whose output a line is; llama.cpp's lines also appear inside Ollama's and LM Studio's logs
TOOL_MARKERS: tuple[tuple[Tool, tuple[str, ...]], ...] = (
    ("llama.cpp", ("llama_model_loader:", "print_info:", "load_tensors:", "llm_load_", "llama_context:",
                   "llama_new_context_with_model:", "llama_init_from_model:", "llama_kv_cache", "ggml_cuda_init:",
                   "ggml_init_cublas:", "llama_print_timings:", "common_perf_print:", "llama_perf_context_print:",
                   "main: server is listening", "srv  ", "srv    load_model", "llama_model_load", "ggml_vulkan:",
                   "ggml_metal_", "load_backend:", "system_info:")),
    ("ollama", ("source=", "server config env=", "[GIN]", "ollama runner", "OLLAMA_", "eval rate:",
                "total duration:")),
    ("lm studio", ("[LM STUDIO SERVER]", "[LM Studio]", "LlamaV4::load")),
    ("vllm", ("GPU KV cache size:", "Maximum concurrency for", "Available KV cache memory:", "vllm.entrypoints",
              "vllm serve", "vLLM API server", "EngineCore", "Avg prompt throughput", "gpu_worker.py",
              "Model loading took")),
    ("nvidia-smi", ("NVIDIA-SMI", "| GPU  Name", "Persistence-M", "==NVSMI LOG==", "Memory-Usage")),
    ("rocm-smi", ("ROCm System Management Interface", "End of ROCm SMI Log", "VRAM Total Memory (B)",
                  "Card Series", "Card series")),
)
# words of a line that reports a failure; checked on the lower-cased message
ERROR_WORDS = ("error", "failed", "failure", "out of memory", "panic:", "fatal", "terminated", "segmentation fault",
               "core dumped", "traceback", "exception", "cannot allocate", "unable to", "not enough memory",
               "no compatible gpus", "insufficient", "exit code", "exit status", "killed", "couldn't communicate",
               "no devices found", "no usable gpu", "not supported", "unsupported", "falling back to cpu",
               "invalid magic", "invalid argument", "invalid value", "no such file", "not found")
# lines that carry those words as data, not as a failure: GGUF metadata (chat templates say raise_exception)
NOT_ERRORS = ("- kv ", "print_info:", "llm_load_print_meta:", "server config env=", "GGML_CUDA_", "CUDA_USE_")
# which source of a fact wins when several print it: the run's own report over settings and estimates
CONTEXT_ORDER = ("n_ctx", "ollama ps", "vllm", "lm studio", "flag")
GPU_ORDER = ("llama.cpp", "ollama", "using device", "vulkan", "metal", "nvidia-smi", "rocm-smi", "torch", "orphan")


# the short patterns readers match at a marker's position (each bounded: no repeat runs past its line's end)
_OFFLOADED = re.compile(r"offloaded (\d{1,5})/(\d{1,5}) layers to GPU")
_KV_TYPE = re.compile(r"K \(([a-z0-9_]{2,8})\)")
_CUDA_DEVICE = re.compile(r"Device (\d{1,2}): ([^,\n]{1,100}),")
_FOUND = re.compile(r"found (\d{1,2}) (CUDA|ROCm|MUSA|Vulkan|SYCL) devices")
_USING = re.compile(r"using device (\w{1,20}) \(([^()\n]{1,100})\)")
_VERSION = re.compile(r"[\s:]{0,60}(\d{1,4}(?:\.\d{1,6}){0,3})")
_SMI_GPU = re.compile(r"\|\s{1,6}(\d{1,2})\s{1,4}(\S.{0,60}?)\s{1,30}(?:On|Off)\s{0,4}\|")
_SMI_MEMORY = re.compile(r"MiB /\s{0,12}(\d{1,8})MiB")
_ROCM_GPU = re.compile(r"GPU\[(\d{1,2})\]\s{0,8}:\s{0,8}")
_TORCH_GPU = re.compile(r"GPU (\d{1,2}) has a total capacity of")
_QUANT_IN_NAME = re.compile(r"(?<![A-Za-z0-9])(I?Q\d(?:_[A-Z0-9]{1,4}){0,3}|BF16|F16|F32|AWQ|GPTQ|FP8)"
                            r"(?![A-Za-z0-9])", re.IGNORECASE)


@dataclass
class _Gpu:
    name: str | None = None
    memory_gb: float | None = None
    free_gb: float | None = None


@dataclass
class _Reading:
    tools: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    gpus: dict[str, dict[str, _Gpu]] = field(default_factory=dict)      # source -> key -> GPU
    contexts: dict[str, int] = field(default_factory=dict)
    candidates: list[tuple[int, str]] = field(default_factory=list)     # (priority, name)
    buffers: list[LogBuffer] = field(default_factory=list)
    ftype: str | None = None
    quant_flag: str | None = None
    offloaded: tuple[int, int] | None = None
    estimated: tuple[int, int] | None = None          # Ollama's plan (layers.offload / layers.model)
    driver: str | None = None
    cuda: str | None = None
    rocm: str | None = None
    gpu_count: int | None = None
    ram_gb: float | None = None
    flash: bool | None = None
    kv_type: str | None = None
    parallel: int | None = None
    gpu_share: int | None = None
    decode: float | None = None
    ps_columns: list[str] | None = None               # inside an `ollama ps` table
    smi_index: int | None = None                      # the nvidia-smi GPU row the next memory row belongs to
    fb_memory: bool = False                           # inside nvidia-smi -q's "FB Memory Usage" block
    rocm_csv: list[str] | None = None
    table_rows: int = 0                               # rows read from `ollama ps` and rocm-smi --csv tables
    lines: int = 0
    prose: list[str] = field(default_factory=list)

    def gpu(self, source: str, key: str) -> _Gpu:
        found = self.gpus.setdefault(source, {})
        if key not in found and len(found) >= MAX_ITEMS:
            return _Gpu()           # past the cap: read, not kept
        return found.setdefault(key, _Gpu())

    def candidate(self, priority: int, name: str | None) -> None:
        name = (name or "").strip().strip("'\"")
        if name and len(name) <= 200 and len(self.candidates) < MAX_ITEMS:
            self.candidates.append((priority, name))

    def buffer(self, device: str, kind: str, mib: float) -> None:
        if len(self.buffers) < MAX_ITEMS:
            self.buffers.append(LogBuffer(device=device[:40], kind=kind, mib=round(mib, 2)))


# ---------------------------------------------------------------- llama.cpp
def _offloaded(s: str, r: _Reading) -> bool:
    # src/llama-model.cpp: "%s: offloaded %d/%d layers to GPU\n" (the second number counts the output layer)
    m = _OFFLOADED.match(s, s.find("offloaded "))
    if m:
        r.offloaded = (int(m.group(1)), int(m.group(2)))
    return m is not None


def _buffer(s: str, r: _Reading) -> bool:
    # "%s: %12s model buffer size = %8.2f MiB", "%10s KV buffer size", "%10s compute buffer size",
    # "%10s  output buffer size"; before 2024: "llm_load_tensors:      CUDA0 buffer size = 16192.69 MiB"
    at = s.find("buffer size =")
    if at < 0:
        return False
    words = s[max(0, at - 80):at].split()
    kind = "model"
    if words and words[-1] in ("model", "KV", "compute", "output"):
        kind = {"KV": "kv"}.get(words[-1], words[-1])
        words = words[:-1]
    mib = number_after(s, "buffer size =", at)
    if not words or mib is None:
        return False
    device = words[-1].rstrip(":")
    r.buffer(device, kind, mib)
    return True


def _vram_used(s: str, r: _Reading) -> bool:
    # llama.cpp before 2024: "llm_load_tensors: VRAM used: 124 MB"
    mb = number_after(s, "VRAM used:")
    if mb is not None:
        r.buffer("GPU", "model", mb)
    return mb is not None


def _n_ctx(s: str, r: _Reading) -> bool:
    # src/llama-context.cpp: "%s: n_ctx                 = %u\n"; LM Studio: "LlamaV4::load config: n_ctx=4096"
    for key in ("n_ctx ", "n_ctx=", "n_ctx:"):
        value = int_after(s, key)
        if value is not None:
            r.contexts["n_ctx"] = value
            return True
    return False


def _parallel(s: str, r: _Reading) -> bool:
    value = int_after(s, "n_seq_max") or int_after(s, "n_parallel=")
    if value:
        r.parallel = value
    return value is not None


def _flash(s: str, r: _Reading) -> bool:
    value = s[s.find("flash_attn") + len("flash_attn"):].lstrip(" =").split(" ")[0].lower()
    if value in ("1", "enabled", "true", "on"):
        r.flash = True
    elif value in ("0", "disabled", "false", "off"):
        r.flash = False
    return bool(value)


def _kv_type(s: str, r: _Reading) -> bool:
    # "K (q8_0): 25.50 MiB, V (q8_0): ..." (llama_kv_cache) / "K (f16): 1280.00 MiB" (older KV self size)
    m = _KV_TYPE.match(s, s.find("K ("))
    if m:
        r.kv_type = m.group(1)
    return m is not None


def _cuda_device(s: str, r: _Reading) -> bool:
    # ggml-cuda.cu: "  Device %d: %s, compute capability %d.%d, VMM: %s(, VRAM: %zu MiB)"; HIP builds print
    # "  Device %d: %s, %s (0x%x), VMM: %s, Wave Size: %d(, VRAM: %zu MiB)"
    if "VMM:" not in s and "compute capability" not in s:
        return False
    m = _CUDA_DEVICE.match(s, s.find("Device "))
    if not m:
        return False
    gpu = r.gpu("llama.cpp", m.group(1))
    gpu.name = m.group(2).strip()
    vram = int_after(s, "VRAM:", m.end())
    if vram:
        gpu.memory_gb = round(vram / 1024, 1)
    return True


def _found_devices(s: str, r: _Reading) -> bool:
    # "ggml_cuda_init: found 2 CUDA devices:", "found 1 ROCm devices", "ggml_metal_init: found device: Apple M1"
    m = _FOUND.match(s, s.find("found "))
    if m:
        return True
    at = s.find("found device:")
    if at >= 0:
        r.gpu("metal", "0").name = s[at + len("found device:"):].strip()[:100] or None
        return True
    return False


def _using_device(s: str, r: _Reading) -> bool:
    # src/llama.cpp: "%s: using device %s (%s) - %zu MiB free" (newer builds add the PCI id in a second pair)
    m = _USING.match(s, s.find("using device "))
    if not m:
        return False
    gpu = r.gpu("using device", m.group(1))
    gpu.name = m.group(2).strip()
    at = s.find(" MiB free", m.end())
    free = trailing_int(s[max(m.end(), at - 12):at]) if at > 0 else None
    if free:
        gpu.free_gb = round(free / 1024, 1)
    return True


def _vulkan(s: str, r: _Reading) -> bool:
    # ggml-vulkan.cpp: "ggml_vulkan: %zu = %s (%s) | uma: %d | fp16: ..."
    at = s.find("ggml_vulkan: ")
    head = s[at + len("ggml_vulkan: "):s.find(" | uma")] if " | uma" in s else ""
    index, eq, name = head.partition(" = ")
    if not eq or not index.strip().isdigit():
        return at >= 0
    name = name.rsplit(" (", 1)[0].strip()
    r.gpu("vulkan", index.strip()).name = name[:100] or None
    return True


def _metal(s: str, r: _Reading) -> bool:
    # ggml-metal: "%s: GPU name:   %s", "%s: recommendedMaxWorkingSetSize  = %8.2f MB" (MB of 1e6 bytes)
    if "GPU name:" in s:
        r.gpu("metal", "0").name = s[s.find("GPU name:") + len("GPU name:"):].strip().split(" (")[0][:100] or None
        return True
    mb = number_after(s, "recommendedMaxWorkingSetSize")
    if mb is not None:
        r.gpu("metal", "0").memory_gb = round(mb * 1e6 / GIB, 1)
    return mb is not None


def _general_name(s: str, r: _Reading) -> bool:
    # print_info: "%s: general.name     = %s"; llama_model_loader: "- kv   2: general.name str = %s"
    at = s.find("= ", s.find("general.name"))
    if at < 0:
        return False
    r.candidate(2, s[at + 2:])
    return True


def _ftype(s: str, r: _Reading) -> bool:
    # llama-model-loader.cpp print_info: "%s: file type   = %s"; llm_load_print_meta: "model ftype      = %s"
    key = "file type" if "file type" in s else "model ftype"
    at = s.find("=", s.find(key))
    if at < 0:
        return False
    quant = quant_of_ftype(s[at + 1:])
    if quant:
        r.ftype = quant
    return True


def _n_layer(s: str, r: _Reading) -> bool:
    return int_after(s, "n_layer ") is not None


def _model_file(s: str, r: _Reading) -> bool:
    # "llama_model_loader: loaded meta data with %d key-value pairs and %d tensors from %s (version %s)";
    # llama-server "srv    load_model: loading model '%s'"; LM Studio "LlamaV4::load called with model path: %s"
    for key, end in (("tensors from ", " (version"), ("loading model '", "'"), ("model path: ", None)):
        at = s.find(key)
        if at < 0:
            continue
        start = at + len(key)
        stop = s.find(end, start) if end else -1
        r.candidate(0, file_stem(s[start:stop] if stop > 0 else s[start:]))
        return True
    return False


def _command_line(s: str, r: _Reading) -> bool:
    """llama-server / llama-cli / Ollama's runner / vLLM command lines: what was asked for."""
    opts = flags(s)
    known = 0
    for name in ("-m", "--model"):
        if opts.get(name):
            r.candidate(0, _model_arg(opts[name]))
            known += 1
    for name in ("-c", "--ctx-size", "--ctx_size", "--max-model-len", "--max_model_len"):
        if opts.get(name, "").isdigit():
            r.contexts["flag"] = int(opts[name])
            known += 1
    for name in ("-tp", "--tensor-parallel-size", "--tensor_parallel_size"):
        if opts.get(name, "").isdigit():
            r.gpu_count = int(opts[name])
            known += 1
    for name in ("-np", "--parallel"):
        if opts.get(name, "").isdigit():
            r.parallel = int(opts[name])
            known += 1
    for name in ("-ctk", "--cache-type-k"):
        if opts.get(name):
            r.kv_type = opts[name].lower()[:8]
    if "-fa" in opts or "--flash-attn" in opts:
        r.flash = opts.get("-fa", opts.get("--flash-attn", "")) not in ("off", "0", "false")
    if opts.get("--quantization") or opts.get("-q"):
        r.quant_flag = (opts.get("--quantization") or opts.get("-q") or "").upper()[:20]
    known += sum(name in opts for name in ("-ngl", "--n-gpu-layers", "--gpu-layers", "--port", "--host"))
    return known >= 2 or any(p in s for p in ("llama-server", "llama-cli", "vllm serve", "ollama runner"))


def _model_arg(value: str) -> str | None:
    """A model argument: a file path (its file name; None for Ollama's blobs) or a Hugging Face repo id as given."""
    if value.lower().endswith(".gguf") or value.startswith(("/", "~", ".", "\\")) or ":\\" in value:
        return file_stem(value)
    return value


# ---------------------------------------------------------------- Ollama
def _slog(s: str, r: _Reading) -> bool:
    """Ollama's server log (Go slog text): 'time=... level=INFO source=types.go:130 msg="inference compute" ...'."""
    msg = slog_value(s, "msg")
    if msg is None:
        return False
    level = slog_value(s, "level") or ""
    if msg == "inference compute":
        _ollama_gpu(s, r)
    elif msg.startswith("offload"):
        # llm/memory.go MemoryEstimate: layers.model (with the output layer), layers.offload, memory.*
        model, offload = slog_value(s, "layers.model"), slog_value(s, "layers.offload")
        if model and offload and model.isdigit() and offload.isdigit():
            r.estimated = (int(offload), int(model))
    elif msg in ("starting llama server", "starting runner", "starting llama-server"):
        _command_line(slog_value(s, "cmd") or "", r)
    elif msg in ("model weights", "kv cache", "compute graph"):
        size = size_bytes(slog_value(s, "size") or "")
        if size is not None:
            kind = {"model weights": "model", "kv cache": "kv", "compute graph": "compute"}[msg]
            r.buffer(slog_value(s, "device") or "?", kind, size / MIB)
    elif "offloaded " in msg:
        _offloaded(msg, r)      # Ollama's own engine: ml/backend/ggml/ggml.go logs llama.cpp's line through slog
    elif msg == "system memory":
        total = size_bytes(slog_value(s, "total") or "")
        if total:
            r.ram_gb = round(total / GIB, 1)
    problem = slog_value(s, "error")
    if level == "ERROR" or problem or _is_error(msg):
        _add_error(r, f"{msg}: {problem}" if problem else msg)
    return True


def _ollama_gpu(s: str, r: _Reading) -> None:
    # discover/types.go LogDetails: id, library, compute, name (newer: backend name; description: the card),
    # driver ("%d.%d"), total and available (format.HumanBytes2: "23.6 GiB")
    library = (slog_value(s, "library") or "").lower()
    if library == "cpu":
        return
    gpu = r.gpu("ollama", slog_value(s, "id") or str(len(r.gpus.get("ollama", {}))))
    gpu.name = slog_value(s, "description") or slog_value(s, "name") or gpu.name
    total = size_bytes(slog_value(s, "total") or "")
    if total:
        gpu.memory_gb = round(total / GIB, 1)
    free = size_bytes(slog_value(s, "available") or "")
    if free:
        gpu.free_gb = round(free / GIB, 1)
    driver = slog_value(s, "driver")
    if driver and driver != "0.0":
        if library == "cuda":
            r.cuda = r.cuda or driver
        elif library == "rocm":
            r.rocm = r.rocm or driver


def _ollama_ps(s: str, r: _Reading) -> bool:
    # cmd/cmd.go ListRunningHandler: NAME ID SIZE PROCESSOR [CONTEXT] UNTIL, columns padded with 4 spaces
    if s.startswith("NAME") and "PROCESSOR" in s:
        r.ps_columns = s.split()
        r.tools.add("ollama")
        return True
    if r.ps_columns is None:
        return False
    r.table_rows += 1
    if r.table_rows > MAX_ITEMS:             # a real `ollama ps` lists a few models
        r.ps_columns = None
        return False
    cells = re.split(r" {2,}", s.strip(), maxsplit=8)
    if len(cells) < 4 or ("GPU" not in s and "CPU" not in s):
        r.ps_columns = None
        return False
    row = dict(zip(r.ps_columns, cells))
    r.candidate(0, row.get("NAME"))
    processor = row.get("PROCESSOR", "")
    if "CPU/GPU" in processor:
        r.gpu_share = trailing_int(processor.split("%/")[-1].split("%")[0])
    elif "GPU" in processor or "CPU" in processor:
        r.gpu_share = 100 if "GPU" in processor else 0
    if row.get("CONTEXT", "").isdigit():
        r.contexts["ollama ps"] = int(row["CONTEXT"])
    return True


def _decode_speed(s: str, r: _Reading) -> bool:
    # `ollama run --verbose`: "eval rate:            6.81 tokens/s"; llama.cpp print_timings:
    # "eval time =   95548.09 ms /   199 tokens (  480.14 ms per token,     2.08 tokens per second)"
    if "prompt eval" in s:
        return True
    if "eval rate:" in s:
        r.decode = number_after(s, "eval rate:")
        return True
    at = s.find("tokens per second")
    if "eval time" in s and at > 0:
        r.decode = _trailing_float(s[:at].rstrip())
    return True


def _trailing_float(s: str) -> float | None:
    word = s[-16:].split(" ")[-1].lstrip(",(")
    try:
        return float(word)
    except ValueError:
        return None


# ---------------------------------------------------------------- nvidia-smi and rocm-smi
def _versions(s: str, r: _Reading) -> bool:
    # nvidia-smi: "| NVIDIA-SMI 550.40.07   Driver Version: 550.40.07   CUDA Version: 12.4 |"; -q: "Driver Version
    # : 525.78.01"; rocm-smi: "Driver version: 6.8.5"; amd-smi / rocminfo: "ROCm version: 6.4.0"
    found = False
    for key, attr in (("Driver Version", "driver"), ("CUDA Version", "cuda"), ("Driver version", "rocm_driver"),
                      ("ROCm version", "rocm")):
        at = s.find(key)
        if at < 0:
            continue
        m = _VERSION.match(s, at + len(key))
        if m:
            found = True
            if attr == "rocm_driver":
                r.driver = r.driver or m.group(1)
            else:
                setattr(r, attr, getattr(r, attr) or m.group(1))
    return found


def _smi_gpu_row(s: str, r: _Reading) -> bool:
    # "|   0  NVIDIA GeForce RTX 4090        Off |   00000000:01:00.0  On |   N/A |" (names past 20-odd
    # characters are cut to "NVIDIA GeForce ..." by drivers before 530)
    m = _SMI_GPU.match(s)
    if not m:
        return False
    r.smi_index = int(m.group(1))
    r.gpu("nvidia-smi", m.group(1)).name = m.group(2).strip()
    return True


def _smi_memory(s: str, r: _Reading) -> bool:
    # "|  0%   45C    P8    22W /  350W |     512MiB /  24576MiB |      0%      Default |"
    at = s.find("MiB /")
    m = _SMI_MEMORY.match(s, at)
    if not m:
        return False
    gb = round(int(m.group(1)) / 1024, 1)
    if r.smi_index is not None:
        r.gpu("nvidia-smi", str(r.smi_index)).memory_gb = gb
        r.smi_index = None
    else:
        r.gpu("orphan", "0").memory_gb = gb       # a memory row without its name row: one GPU at most
    return True


def _smi_query(s: str, r: _Reading) -> bool:
    # nvidia-smi -q: "Product Name : NVIDIA GeForce RTX 2060", "FB Memory Usage" then "Total : 6144 MiB"
    if "Product Name" in s:
        name = s[s.find(":") + 1:].strip() if ":" in s else ""
        if name:
            r.gpu("nvidia-smi", f"q{len(r.gpus.get('nvidia-smi', {}))}").name = name[:100]
        return True
    if "FB Memory Usage" in s:
        r.fb_memory = True
        return True
    if r.fb_memory and s.startswith("Total"):
        r.fb_memory = False
        mib = int_after(s, "Total")
        smi = r.gpus.get("nvidia-smi", {})
        if mib and smi:
            list(smi.values())[-1].memory_gb = round(mib / 1024, 1)
        return mib is not None
    return False


def _rocm_smi(s: str, r: _Reading) -> bool:
    # rocm_smi.py printLog: "GPU[%s]\t\t: %s: %s" ("Card Series", "VRAM Total Memory (B)"); --csv: a header row
    # starting "device," and rows starting "card0,"
    if s.startswith("device,") and "VRAM Total Memory (B)" in s:
        r.rocm_csv = s.split(",")
        return True
    if r.rocm_csv is not None and s.startswith("card"):
        r.table_rows += 1
        if r.table_rows > MAX_ITEMS:
            r.rocm_csv = None
            return False
        row = dict(zip(r.rocm_csv, s.split(",", maxsplit=len(r.rocm_csv))))
        gpu = r.gpu("rocm-smi", row.get("device", "?"))
        gpu.name = (row.get("Card Series") or row.get("Card series") or gpu.name or "")[:100] or None
        total = row.get("VRAM Total Memory (B)", "")
        if total.strip().isdigit():
            gpu.memory_gb = round(int(total) / GIB, 1)
        return True
    m = _ROCM_GPU.match(s)
    if not m:
        return False
    rest = s[m.end():]
    if rest.lower().startswith("card series:"):
        r.gpu("rocm-smi", f"card{m.group(1)}").name = rest.split(":", 1)[1].strip()[:100] or None
    elif rest.startswith("VRAM Total Memory (B):"):
        total = int_after(rest, "(B):")
        if total:
            r.gpu("rocm-smi", f"card{m.group(1)}").memory_gb = round(total / GIB, 1)
    return True


# ---------------------------------------------------------------- vLLM
def _vllm(s: str, r: _Reading) -> bool:
    # kv_cache_utils.py: "GPU KV cache size: %s tokens", "Maximum concurrency for %s tokens per request: %.2fx"
    # (max_model_len with thousands separators); gpu_worker.py: "Model loading took %.4f GiB and %.6f seconds"
    at = s.find("Maximum concurrency for ")
    if at >= 0:
        words = s[at + len("Maximum concurrency for "):].split(" ", 1)
        if words[0].replace(",", "").isdigit():
            r.contexts["vllm"] = int(words[0].replace(",", ""))
    for key in ("Model loading took ", "Loading model weights took "):
        if key in s:
            size = size_bytes(s, s.find(key) + len(key))
            if size:
                r.buffer("GPU", "model", size / MIB)
    return True


def _vllm_config(s: str, r: _Reading) -> bool:
    # "Initializing a V1 LLM engine (v0.9.1) with config: model='meta-llama/Llama-3.1-8B-Instruct', ...,
    # dtype=torch.bfloat16, max_seq_len=32768, ..., tensor_parallel_size=1, ..., quantization=None, ..."
    # and "non-default args: {'model': 'Qwen/Qwen2.5-7B-Instruct-AWQ', 'max_model_len': 16384, ...}"
    for key in ("model='", "'model': '"):
        at = s.find(key)
        if at >= 0:
            end = s.find("'", at + len(key))
            r.candidate(0, s[at + len(key):end] if end > 0 else None)
    for key in ("max_seq_len=", "'max_model_len': "):
        value = int_after(s, key)
        if value:
            r.contexts["vllm"] = value
    tp = int_after(s, "tensor_parallel_size=") or int_after(s, "'tensor_parallel_size': ")
    if tp:
        r.gpu_count = tp
    for key in ("quantization=", "'quantization': '"):
        at = s.find(key)
        if at >= 0:
            value = s[at + len(key):at + len(key) + 20].split(",")[0].strip("' }")
            if value and value != "None":
                r.quant_flag = value.upper()
    if "dtype=torch." in s and r.quant_flag is None:
        dtype = s[s.find("dtype=torch.") + len("dtype=torch."):].split(",")[0]
        r.quant_flag = {"bfloat16": "BF16", "float16": "F16", "float32": "F32"}.get(dtype)
    return True


def _torch_capacity(s: str, r: _Reading) -> bool:
    # torch: "CUDA out of memory. Tried to allocate 1.96 GiB. GPU 0 has a total capacity of 23.65 GiB of which ..."
    at = s.find("total capacity of")
    m = _TORCH_GPU.search(s, max(0, at - 16), at + len("total capacity of"))
    total = size_bytes(s, at + len("total capacity of"))
    if m and total:
        r.gpu("torch", m.group(1)).memory_gb = round(total / GIB, 1)
    return False           # an error line: read as such below


def _lm_studio(s: str, r: _Reading) -> bool:
    # "Model load size estimate with raw num offload layers 'max' and context length '8192':",
    # "[LM Studio] Loading model: lmstudio-community/Qwen2.5-32B-Instruct-GGUF/Qwen2.5-32B-Instruct-Q4_K_M.gguf"
    value = int_after(s, "context length '")
    if value:
        r.contexts["lm studio"] = value
    at = s.find("Loading model: ")
    if at >= 0:
        r.candidate(0, file_stem(s[at + len("Loading model: "):]))
    return True


def _ollama_run(s: str, r: _Reading) -> bool:
    # "$ ollama run llama3.1:8b --verbose": the model is the first word after the command
    words = s[s.find("ollama run ") + len("ollama run "):].split()
    if words and not words[0].startswith("-"):
        r.candidate(0, words[0])
    return bool(words)


# marker -> reader; a reader says whether the line is a tool's output (it counts towards "this is a log")
READERS: tuple[tuple[tuple[str, ...], Callable[[str, _Reading], bool]], ...] = (
    (("offloaded ",), _offloaded),
    (("buffer size =",), _buffer),
    (("VRAM used:",), _vram_used),
    (("n_ctx ", "n_ctx=", "n_ctx:"), _n_ctx),
    (("n_seq_max", "n_parallel="), _parallel),
    (("flash_attn",), _flash),
    (("K (",), _kv_type),
    (("Device ",), _cuda_device),
    (("found ",), _found_devices),
    (("using device ",), _using_device),
    (("ggml_vulkan: ",), _vulkan),
    (("GPU name:", "recommendedMaxWorkingSetSize"), _metal),
    (("general.name",), _general_name),
    (("file type", "model ftype"), _ftype),
    (("n_layer ",), _n_layer),
    (("tensors from ", "loading model '", "model path: "), _model_file),
    (("--model", " -m ", "--ctx-size", " -c ", "-ngl", "--n-gpu-layers", "--max-model-len", "--tensor-parallel"),
     _command_line),
    ((" msg=",), _slog),
    (("PROCESSOR", "GPU", "CPU"), _ollama_ps),
    (("eval rate:", "eval time", "total duration:", "load duration:", "eval count:"), _decode_speed),
    (("Driver Version", "CUDA Version", "Driver version", "ROCm version"), _versions),
    (("|",), _smi_gpu_row),
    (("MiB /",), _smi_memory),
    (("Product Name", "FB Memory Usage", "Total"), _smi_query),
    (("GPU[", "device,", "card"), _rocm_smi),
    (("GPU KV cache size:", "Maximum concurrency for ", "Available KV cache memory:", "Model loading took ",
      "Loading model weights took ", "Avg prompt throughput"), _vllm),
    (("with config: model=", "non-default args:"), _vllm_config),
    (("total capacity of",), _torch_capacity),
    (("[LM STUDIO SERVER]", "[LM Studio]", "context length '", "LlamaV4::load", "Num Offload Layers"), _lm_studio),
    (("ollama run ",), _ollama_run),
)
# lines that are a tool's output with nothing to read from them
EVIDENCE = ("llama_model_loader:", "print_info:", "load_tensors:", "llm_load_", "llama_context:", "ggml_cuda_init:",
            "llama_kv_cache", "load_backend:", "system_info:", "main: server is listening", "server config env=",
            "[GIN]", "ROCm System Management Interface", "| GPU  Name", "NVIDIA-SMI", "llama_print_timings:",
            "common_perf_print:", "srv ", "slot ")


def _is_error(s: str) -> bool:
    low = s.lower()
    return any(w in low for w in ERROR_WORDS) and not any(x in s for x in NOT_ERRORS)


def _add_error(r: _Reading, text: str) -> None:
    text = " ".join(text.split())
    if len(text) > MAX_ERROR_CHARS:
        text = text[:MAX_ERROR_CHARS - 1] + "…"
    if text and text not in r.errors and len(r.errors) < MAX_ERRORS:
        r.errors.append(text)


# every marker once, with what it stands for: one pass of `in` checks per line finds the readers to run
_MARKERS = tuple({m: None for markers, _ in READERS for m in markers})
_READERS_OF = {m: tuple(i for i, (markers, _) in enumerate(READERS) if m in markers) for m in _MARKERS}
_TOOLS_OF = {m: tool for tool, markers in TOOL_MARKERS for m in markers}


def read_lines(text: str) -> _Reading:
    r = _Reading()
    # blank lines go in C (filter): a megabyte of newlines must not cost a megabyte of Python iterations
    lines = list(filter(None, text[:MAX_LOG_CHARS].split("\n")))
    if len(lines) > 2 * MAX_LINES:
        lines = lines[:MAX_LINES] + lines[-MAX_LINES:]
    for raw in lines:
        s, prefixed = message_of(raw[:MAX_LINE])
        if not s:
            continue
        r.tools.update(tool for m, tool in _TOOLS_OF.items() if m in s)
        if prefixed:
            r.tools.add(prefixed)
        seen = prefixed is not None or any(m in s for m in EVIDENCE)
        slog = " msg=" in s and ("level=" in s or s.startswith("time="))
        wanted = sorted({i for m in _MARKERS if m in s for i in _READERS_OF[m]})
        for i in wanted:
            reader = READERS[i][1]
            if reader is _slog or not slog:
                seen = reader(s, r) or seen
        r.lines += seen
        if not slog and _is_error(s):
            _add_error(r, s)
        elif not seen and len(r.prose) < MAX_PROSE_LINES:
            r.prose.append(s[:MAX_PROSE_CHARS])
    return r


def parse_log(text: str) -> LogFacts:
    """The facts a pasted log shows; every field None (or empty) that it does not show. About 0.3 s a megabyte;
    the router and the log kind read the same text, so the last few readings are kept."""
    return _parsed(text[:MAX_LOG_CHARS]).model_copy(deep=True)


@lru_cache(maxsize=4)
def _parsed(text: str) -> LogFacts:
    r = read_lines(text)
    offloaded = r.offloaded or r.estimated
    candidates = [name for _, name in sorted(r.candidates, key=lambda c: c[0])]
    return LogFacts(
        hardware=_hardware(r), model=candidates[0] if candidates else None, quant=_quant(r, candidates),
        context=next((r.contexts[k] for k in CONTEXT_ORDER if k in r.contexts), None),
        gpu_layers=offloaded[0] if offloaded else None, total_layers=offloaded[1] if offloaded else None,
        errors=r.errors, tools=[t for t, _ in TOOL_MARKERS if t in r.tools], driver_version=r.driver,
        cuda_version=r.cuda, rocm_version=r.rocm, buffers=r.buffers, gpu_count=r.gpu_count, ram_gb=r.ram_gb,
        flash_attention=r.flash, kv_cache_type=r.kv_type, parallel=r.parallel, gpu_share=r.gpu_share,
        decode_tokens_per_s=r.decode, model_candidates=list(dict.fromkeys(candidates)), log_lines=r.lines,
        prose="\n".join(r.prose))


def _quant(r: _Reading, candidates: list[str]) -> str | None:
    if r.ftype:
        return r.ftype
    for name in candidates:        # a file or tag name that carries its quantization: "...-Q4_K_M", ":70b-q4_K_M"
        m = _QUANT_IN_NAME.search(name)
        if m:
            return m.group(1).upper()
    return r.quant_flag


def _hardware(r: _Reading) -> list[LogGpu]:
    """The GPUs of the run: the first source in GPU_ORDER that names any, with the memory other sources print for
    the same card (by name, then by position)."""
    sources = [list(r.gpus[s].values()) for s in GPU_ORDER if r.gpus.get(s)]
    if not sources:
        return []
    base = [_Gpu(g.name, g.memory_gb, g.free_gb) for g in sources[0]]
    for other in sources[1:]:
        for i, gpu in enumerate(base):
            same = [g for g in other if g.name and g.name == gpu.name] or other[i:i + 1]
            if same:
                gpu.memory_gb = gpu.memory_gb or same[0].memory_gb
                gpu.free_gb = gpu.free_gb or same[0].free_gb
                gpu.name = gpu.name or same[0].name
    return [LogGpu(name=g.name, memory_gb=g.memory_gb, free_gb=g.free_gb) for g in base]
