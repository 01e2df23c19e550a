"""The devices a request describes: GPUs (or a Mac's GPU side) and the host's system RAM, with usable memory.

Memory sizes in the catalog are binary gigabytes (a "24 GB" card has 24 GiB; nvidia-smi shows 24576 MiB).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from bot.catalog.load import Catalog
from bot.catalog.schema import Hardware
from bot.errors import InvalidRequestError
from bot.sizing.schema import MAX_GPUS, SizingRequest, gpu_names

GIB = 2**30
MIB = 2**20
# Driver/runtime context memory that llama.cpp's logs do not show. Ollama reserves 457 MiB per CUDA/ROCm GPU and
# 512 MiB on Metal (ollama ml/device.go MinimumMemory); llama.cpp's --fit keeps 1024 MiB free per device.
GPU_OVERHEAD = {"cuda": 457 * MIB, "rocm": 457 * MIB, "vulkan": 457 * MIB, "sycl": 457 * MIB, "metal": 512 * MIB}
DEFAULT_RAM_GIB = 32
# dual-channel DDR4-3200: 2 x 64-bit x 3200 MT/s
DEFAULT_RAM_BANDWIDTH_GBS = 51.2


@dataclass(frozen=True)
class Device:
    name: str
    kind: str              # gpu | unified | cpu
    backend: str           # cuda | rocm | metal | vulkan | sycl | cpu
    total_bytes: int
    usable_bytes: int
    bandwidth_gbs: float
    overhead_bytes: int
    fp16_tflops: float | None


@dataclass(frozen=True)
class Setup:
    gpus: list[Device]     # devices that take offloaded layers, in llama.cpp order
    host: Device           # system RAM: token embeddings and whatever is not offloaded
    label: str | None
    assumptions: list[str]


def gb(n: int | float) -> str:
    """Bytes as people read memory sizes: GiB, written "GB" as the tools and vendors do."""
    return f"{n / GIB:.1f} GB"


def os_reserve(total: int) -> int:
    """Memory the operating system and other programs keep: 10 %, at least 2 GiB."""
    return max(2 * GIB, total // 10)


def apple_working_set(total: int) -> int:
    # Metal's recommendedMaxWorkingSetSize: about 2/3 of RAM on 16 and 32 GB Macs (11453 MB and 22906 MB in
    # llama.cpp logs), about 3/4 on larger ones; `sudo sysctl iogpu.wired_limit_mb=N` raises it.
    return total * 2 // 3 if total <= 32 * GIB else total * 3 // 4


def _hardware_list(req: SizingRequest, catalog: Catalog) -> list[Hardware]:
    if not req.gpu:
        return []
    names = gpu_names(req.gpu)
    if len(names) > MAX_GPUS:            # checked before the look-ups: each unknown name costs a fuzzy search
        raise InvalidRequestError(f"At most {MAX_GPUS} GPUs can be combined; got {len(names)}.")
    found = [catalog.gpu(n) for n in names]
    if len(found) == 1:
        if req.gpus < 1 or req.gpus > MAX_GPUS:
            raise InvalidRequestError(f"gpus must be between 1 and {MAX_GPUS}, got {req.gpus}.")
        found = found * req.gpus
    elif req.gpus != 1:
        raise InvalidRequestError("Give either several GPU names joined by '+' or one name with gpus=N, not both.")
    kinds = {h.kind for h in found}
    if len(found) > 1 and kinds != {"gpu"}:
        raise InvalidRequestError("Only discrete GPUs can be combined; a Mac or a CPU platform stands alone.")
    return found


def build_setup(req: SizingRequest, catalog: Catalog) -> Setup:
    hw = _hardware_list(req, catalog)
    notes: list[str] = []
    if req.ram_gb is not None and not 0 < req.ram_gb <= 16384:
        raise InvalidRequestError(f"ram_gb must be between 0 and 16384, got {req.ram_gb}.")
    if req.memory_gb is not None and not 0 < req.memory_gb <= 16384:
        raise InvalidRequestError(f"memory_gb must be between 0 and 16384, got {req.memory_gb}.")
    if req.reserved_gb < 0:
        raise InvalidRequestError("reserved_gb cannot be negative.")

    if hw and hw[0].kind == "unified":
        return _unified_setup(hw[0], req, notes)
    if hw and hw[0].kind == "cpu":
        return _cpu_setup(hw[0], req, notes)

    ram = round((req.ram_gb or DEFAULT_RAM_GIB) * GIB)
    if req.ram_gb is None:
        notes.append(f"System RAM assumed to be {DEFAULT_RAM_GIB} GB (give ram_gb to change it).")
    host = Device("system RAM", "cpu", "cpu", ram, ram - os_reserve(ram), DEFAULT_RAM_BANDWIDTH_GBS, 0, None)
    if not hw:
        notes.append(f"CPU only: system RAM bandwidth assumed {DEFAULT_RAM_BANDWIDTH_GBS:g} GB/s "
                     "(dual-channel DDR4-3200).")
        return Setup([], host, None, notes)
    gpus = []
    for i, h in enumerate(hw):
        total = round((req.memory_gb if (req.memory_gb and i == 0 and len(hw) == 1) else h.memory_gb) * GIB)
        usable = total - (round(req.reserved_gb * GIB) if i == 0 else 0)
        if usable <= 0:
            raise InvalidRequestError("reserved_gb leaves no memory on the GPU.")
        backend = h.primary_backend
        gpus.append(Device(h.name, "gpu", backend, total, usable, h.bandwidth_gbs,
                           GPU_OVERHEAD.get(backend, 457 * MIB), h.fp16_tflops))
    notes.append(f"{gpus[0].backend.upper()} context and driver overhead counted as "
                 f"{gpus[0].overhead_bytes // MIB} MiB per GPU.")
    if len(gpus) > 1:
        notes.append("Layers are split across GPUs in proportion to their memory (llama.cpp's default layer split); "
                     "the GPUs take turns, so decode speed does not add up.")
    label = " + ".join(_group_names(hw))
    return Setup(gpus, host, label, notes)


def _group_names(hw: list[Hardware]) -> list[str]:
    """'2x NVIDIA GeForce RTX 3090' for runs of the same card."""
    runs = [(name, len(list(group))) for name, group in groupby(h.name for h in hw)]
    return [f"{n}x {name}" if n > 1 else name for name, n in runs]


def _memory_option(h: Hardware, req: SizingRequest, notes: list[str]) -> int:
    gb = req.memory_gb or req.ram_gb or h.memory_gb
    if h.memory_options_gb and gb not in h.memory_options_gb:
        notes.append(f"{h.name} is sold with {', '.join(f'{m:g}' for m in h.memory_options_gb)} GB; "
                     f"sized with {gb:g} GB as asked.")
    elif not (req.memory_gb or req.ram_gb) and h.memory_options_gb:
        notes.append(f"{h.name} sized with {gb:g} GB of memory "
                     f"(options: {', '.join(f'{m:g}' for m in h.memory_options_gb)} GB).")
    return round(gb * GIB)


def _unified_setup(h: Hardware, req: SizingRequest, notes: list[str]) -> Setup:
    total = _memory_option(h, req, notes)
    working_set = apple_working_set(total) if h.vendor == "apple" else total - os_reserve(total)
    backend = h.primary_backend
    gpu = Device(h.name, "unified", backend, total, working_set - round(req.reserved_gb * GIB), h.bandwidth_gbs,
                 GPU_OVERHEAD.get(backend, 512 * MIB), h.fp16_tflops)
    if h.vendor == "apple":
        notes.append(f"Metal may use about {working_set / GIB:.1f} of {total / GIB:g} GB "
                     "(macOS's GPU working-set limit; "
                     "raise it with `sudo sysctl iogpu.wired_limit_mb=...`).")
    # what the GPU side does not take stays available to CPU layers
    host = Device("system RAM (shared)", "cpu", "cpu", total, total - os_reserve(total), h.bandwidth_gbs, 0, None)
    return Setup([gpu], host, h.name + (f" {total / GIB:g}GB" if h.memory_options_gb else ""), notes)


def _cpu_setup(h: Hardware, req: SizingRequest, notes: list[str]) -> Setup:
    total = _memory_option(h, req, notes)
    host = Device(h.name, "cpu", "cpu", total, total - os_reserve(total), h.bandwidth_gbs, 0, h.fp16_tflops)
    return Setup([], host, f"{h.name} {total / GIB:g}GB", notes)
