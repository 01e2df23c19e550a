"""What a pasted log says, as read by bot.logs.parse: the facts of the setup and its error lines. Stable JSON (the
`log` key of an Answer): keep `hardware`, `model`, `quant`, `context`, `gpu_layers`, `total_layers`, `errors`;
add freely."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

# what an allocation failure says in llama.cpp, CUDA, PyTorch and LM Studio
OUT_OF_MEMORY = ("out of memory", "unable to allocate", "failed to allocate", "cannot allocate")
Tool = Literal["llama.cpp", "ollama", "lm studio", "vllm", "nvidia-smi", "rocm-smi"]


class LogGpu(BaseModel):
    name: str | None = None          # as the log prints it ("NVIDIA GeForce RTX 4090"); None when only memory shows
    memory_gb: float | None = None   # total memory in GiB, when the log prints it
    free_gb: float | None = None     # memory free when the runtime started ("using device ... - 23010 MiB free")


class LogBuffer(BaseModel):
    """One allocation the runtime reports: llama.cpp's "CUDA0 model buffer size = 4403.49 MiB" and the like."""
    device: str                      # CUDA0, ROCm1, Metal, CPU_Mapped, CUDA_Host, GPU ...
    kind: Literal["model", "kv", "compute", "output"]
    mib: float


class LogFacts(BaseModel):
    hardware: list[LogGpu] = []
    model: str | None = None         # the model's name or file as the log prints it
    quant: str | None = None         # normalized label: Q4_K_M, IQ2_XXS, F16, AWQ ...
    context: int | None = None       # tokens the runtime allocated the KV cache for (llama.cpp's n_ctx)
    gpu_layers: int | None = None    # layers on the GPU ("offloaded 20/33 layers to GPU")
    total_layers: int | None = None  # llama.cpp counts the output layer: a 32-block model has 33
    errors: list[str] = []           # error lines, root cause first, cleaned of timestamps and prefixes
    tools: list[Tool] = []           # whose output the text holds
    driver_version: str | None = None
    cuda_version: str | None = None
    rocm_version: str | None = None
    buffers: list[LogBuffer] = []
    gpu_count: int | None = None     # GPUs the run used when the log gives a count but no names (tensor parallel)
    ram_gb: float | None = None      # system memory, when the log prints it (Ollama)
    flash_attention: bool | None = None
    kv_cache_type: str | None = None
    parallel: int | None = None      # sequences sharing the context (llama.cpp n_seq_max, Ollama --parallel)
    gpu_share: int | None = None     # percent of the model in GPU memory (`ollama ps`: "41%/59% CPU/GPU")
    decode_tokens_per_s: float | None = None   # generation speed the log measured
    model_candidates: list[str] = []  # every model name or file the log prints, most specific first
    log_lines: int = 0               # lines recognized as a tool's output (errors alone do not count)
    # the message's own words around the log ("4x A30 here, is this split ok?"): they may name what the log omits
    prose: str = Field(default="", exclude=True)

    @property
    def ran_out_of_memory(self) -> bool:
        return any(w in e.lower() for e in self.errors for w in OUT_OF_MEMORY)


class LogReading(LogFacts):
    """The log kind's result (the `log` key of an Answer): the facts, how they were read into catalog entries, and
    what explains the log."""
    model_sized: str | None = None      # the catalog model the log's model was sized as
    hardware_sized: str | None = None   # the setup it was sized on ("2x NVIDIA GeForce RTX 3090")
    explanation: list[str] = []         # sentences computed from the log and the sizing engine
    advice: str | None = None           # the knowledge base's entry for the error line, in its own words
    notes: list[str] = []               # what was assumed reading the log
