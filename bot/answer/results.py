"""Typed results of the computed answer kinds beyond sizing and choose; each rides in the Answer under a key named
after its kind (`what_can_i_run`, `compare`). Stable JSON: add keys freely, never rename."""
from __future__ import annotations

from pydantic import BaseModel

from bot.sizing.schema import Range, Verdict


class HardwareRef(BaseModel):
    id: str
    name: str
    memory_gb: float
    count: int = 1


class ModelRef(BaseModel):
    id: str
    name: str
    params_b: float
    active_params_b: float


class RunOption(BaseModel):
    """A model that runs well on the hardware: at the highest quantization that fits entirely, at the context."""
    model: ModelRef
    quant: str
    context: int
    verdict: Verdict
    total_bytes: int
    decode_tokens_per_s: Range
    tags: list[str] = []
    tier: int | None = None
    tier_evidence: str | None = None


class WhatCanIRun(BaseModel):
    hardware: HardwareRef
    use: str
    context: int
    options: list[RunOption]
    bigger_with_offload: RunOption | None = None    # the best larger model if some layers may run on the CPU
    assumptions: list[str] = []


class CompareRow(BaseModel):
    """One model on every side: verdict, largest context and decode speed per side, in the order of `sides`."""
    model: ModelRef
    quant: str
    verdicts: list[Verdict]
    max_context: list[int | None]
    decode_tokens_per_s: list[Range | None]


class CompareSideResult(BaseModel):
    hardware: HardwareRef
    count: int
    memory_gb: float              # all devices together
    bandwidth_gbs: float          # of one device
    tdp_w: float | None           # all devices together, from the catalog
    largest_models: list[str]     # the best models that run entirely (from what_can_i_run)


class Comparison(BaseModel):
    sides: list[CompareSideResult]
    models: list[ModelRef]
    rows: list[CompareRow]
    summary: list[str]            # where each side wins, computed from the rows
    assumptions: list[str] = []


class BudgetOption(BaseModel):
    """A priced setup that runs the model entirely in GPU or unified memory, with what its speed costs."""
    hardware: HardwareRef
    price_usd: float              # all devices together
    price_note: str               # which price (typical used or launch MSRP), its date and source
    quant: str
    verdict: Verdict
    decode_tokens_per_s: Range
    usd_per_token_per_s: float    # price / the middle of the engine's decode range


class BudgetRow(BaseModel):
    model: ModelRef
    context: int
    options: list[BudgetOption]   # within the budget, cheapest per token/s first
    over_budget: BudgetOption | None = None    # the best value above the budget, when none is within it


class BudgetRanking(BaseModel):
    """`willitrun choose --budget` and "best GPU under $1000 for 32b": setups ranked by price per token/s."""
    budget_usd: float | None
    rows: list[BudgetRow]
    priced_hardware: int          # how many catalog devices have a price on file (the candidates)
    assumptions: list[str] = []
