"""Where each layer goes: GPUs first (llama.cpp offloads blocks from the last one down, output head last), the
rest in system RAM. Finds the most layers that fit, the way `-ngl` / `--fit` would end up."""
from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate

from bot.sizing.devices import Setup
from bot.sizing.schema import DeviceUsage
from bot.sizing.weights import WeightLayout


@dataclass(frozen=True)
class Placement:
    offloaded: int                 # llama.cpp -ngl: blocks on GPUs, +1 when the output head is there too
    layers_by_gpu: list[range]     # block indices per GPU
    host_layers: range
    gpus_fit: bool
    host_fits: bool
    devices: list[DeviceUsage]     # GPUs, then the host

    @property
    def output_on_gpu(self) -> bool:
        return self.offloaded > sum(len(r) for r in self.layers_by_gpu)


def _split(first: int, n_blocks: int, capacities: list[int]) -> list[range]:
    """Consecutive runs of blocks per GPU, in proportion to what each can hold (what --fit converges to)."""
    total = sum(max(c, 1) for c in capacities)
    out, start, acc = [], first, 0
    for i, cap in enumerate(capacities):
        acc += max(cap, 1)
        end = first + n_blocks if i == len(capacities) - 1 else first + round(n_blocks * acc / total)
        out.append(range(start, max(start, end)))
        start = max(start, end)
    return out


class _Sums:
    """Prefix sums so that the bytes of any run of blocks cost O(1): placement is searched many times per request."""

    def __init__(self, layout: WeightLayout, kv: list[int]):
        self.weights = [0, *accumulate(layout.layer_bytes)]
        self.experts = [0, *accumulate(layout.layer_expert_bytes)]
        self.kv = [0, *accumulate(kv)]

    @staticmethod
    def of(prefix: list[int], r: range) -> int:
        return prefix[r.stop] - prefix[r.start] if r else 0


def _evaluate(units: int, layout: WeightLayout, sums: _Sums, compute: int, setup: Setup,
              experts_in_ram: bool) -> Placement:
    n = layout.n_layers
    blocks = min(units, n)
    output_on_gpu = units > n
    gpus = setup.gpus
    capacities = [g.usable_bytes - g.overhead_bytes - compute for g in gpus]
    ranges = _split(n - blocks, blocks, capacities) if gpus else []
    devices: list[DeviceUsage] = []
    gpus_fit = True
    moved_experts = 0
    for gi, (g, r) in enumerate(zip(gpus, ranges)):
        weights = sums.of(sums.weights, r)
        if experts_in_ram:
            experts = sums.of(sums.experts, r)
            weights -= experts
            moved_experts += experts
        if output_on_gpu and gi == len(gpus) - 1:
            weights += layout.output_bytes
        used = bool(r) or (output_on_gpu and gi == len(gpus) - 1)
        usage = DeviceUsage(name=g.name, kind=g.kind, usable_bytes=g.usable_bytes, weights_bytes=weights,
                            kv_cache_bytes=sums.of(sums.kv, r), compute_bytes=compute if used else 0,
                            overhead_bytes=g.overhead_bytes if used else 0,
                            layers=len(r) + (1 if output_on_gpu and gi == len(gpus) - 1 else 0))
        gpus_fit &= usage.need_bytes <= g.usable_bytes
        devices.append(usage)

    host_range = range(0, n - blocks)
    host_weights = layout.token_embd_bytes + sums.of(sums.weights, host_range) + moved_experts
    if not output_on_gpu and not layout.tied:
        host_weights += layout.output_bytes
    host_usable = setup.host.usable_bytes
    if gpus and gpus[0].kind == "unified":
        host_usable -= sum(d.need_bytes for d in devices)  # the same memory: what Metal holds the CPU cannot
    host_compute = compute if (len(host_range) > 0 or not gpus) else 0
    host = DeviceUsage(name=setup.host.name, kind="cpu", usable_bytes=max(host_usable, 0), weights_bytes=host_weights,
                       kv_cache_bytes=sums.of(sums.kv, host_range), compute_bytes=host_compute, overhead_bytes=0,
                       layers=len(host_range) + (0 if output_on_gpu else 1))
    devices.append(host)
    return Placement(units, ranges, host_range, gpus_fit, host.need_bytes <= host_usable, devices)


def place_all(layout: WeightLayout, kv: list[int], compute: int, setup: Setup,
              experts_in_ram: bool = False) -> Placement:
    """Every layer on the GPUs (or, without GPUs, everything in RAM): the one placement that counts as 'fits'."""
    units = layout.n_layers + 1 if setup.gpus else 0
    return _evaluate(units, layout, _Sums(layout, kv), compute, setup, experts_in_ram)


def place(layout: WeightLayout, kv: list[int], compute: int, setup: Setup, experts_in_ram: bool = False) -> Placement:
    """The placement with the most offloaded layers whose GPUs all fit (0 when no GPU is given or none fits)."""
    n = layout.n_layers
    sums = _Sums(layout, kv)
    if setup.gpus:
        # the common case, and all `choose` asks of each candidate card: everything fits, so nothing to search
        full = _evaluate(n + 1, layout, sums, compute, setup, experts_in_ram)
        if full.gpus_fit:
            return full
    best = _evaluate(0, layout, sums, compute, setup, experts_in_ram)
    if not setup.gpus:
        return best
    lo, hi = 0, n
    # more offloaded layers never need less GPU memory, so the largest that fits is found by bisection
    while lo < hi:
        mid = (lo + hi + 1) // 2
        candidate = _evaluate(mid, layout, sums, compute, setup, experts_in_ram)
        if candidate.gpus_fit:
            lo, best = mid, candidate
        else:
            hi = mid - 1
    return best
