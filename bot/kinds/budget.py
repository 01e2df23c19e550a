"""Setups ranked by price per token/s for a budget: `willitrun choose --budget 1500` and "best GPU under $1000 for
32b". The candidates are the catalog devices with a dated price on file (knowledge/catalog/prices.yaml, read by
bot.calc.cost's loader), 1, 2 or 4 of each card; each is sized by the engine and kept when the model runs entirely
in GPU or unified memory. Price per token/s = the setup's price / the middle of the engine's decode speed range.
"""
from __future__ import annotations

import re

from bot.answer.results import BudgetOption, BudgetRanking, BudgetRow, HardwareRef, ModelRef
from bot.calc.schema import HardwarePrice, PriceCatalog
from bot.catalog.schema import Hardware, Model
from bot.errors import InvalidRequestError
from bot.kinds.compare import REPRESENTATIVE
from bot.sizing.choose import GPU_COUNTS
from bot.sizing.engine import DEFAULT_CONTEXT, SizingEngine
from bot.sizing.schema import SizingRequest

SHOWN = 8


def budget_ranking(engine: SizingEngine, prices: PriceCatalog, budget_usd: float | None,
                   model: str | None = None, quant: str | None = None, context: int | None = None) -> BudgetRanking:
    """The setups within `budget_usd` that run `model` entirely, cheapest per token/s first; without a model, one
    ranking for each of a representative 8B, 32B and 70B."""
    if budget_usd is not None and budget_usd <= 0:
        raise InvalidRequestError("The budget must be more than 0 USD.")
    catalog = engine.catalog
    models = [catalog.model(model)] if model else [catalog.model(i) for i in REPRESENTATIVE]
    priced = [(catalog.gpu(p.hardware), p) for p in prices.hardware if _unit_price(p) is not None]
    context = context or DEFAULT_CONTEXT
    rows = [_row(engine, m, priced, budget_usd, quant, context) for m in models]
    dates = sorted({str(p.used_as_of) for _, p in priced if p.used_usd and p.used_as_of})
    notes = [f"Candidates: the {len(priced)} devices with a price on file (knowledge/catalog/prices.yaml), 1, 2 or 4 "
             "of each card; a typical used price where one is on file, else the launch MSRP"
             + (f" (used prices as of {', '.join(dates)})" if dates else "") + ". Prices move: check a current quote.",
             f"Each setup runs the model entirely in GPU or unified memory at {context:,} tokens of context "
             "(llama.cpp); price per token/s = price / the middle of the engine's decode range, one stream."]
    return BudgetRanking(budget_usd=budget_usd, rows=rows, priced_hardware=len(priced), assumptions=notes)


def representative_of(engine: SizingEngine, size: str | None) -> str | None:
    """'70b' said without a model ("a full 70b rig"): the representative model nearest that size, or None."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)b", size or "")
    if m is None:
        return None
    models = [engine.catalog.model(i) for i in REPRESENTATIVE]
    return min(models, key=lambda model: abs(model.params_b - float(m.group(1)))).id


def _unit_price(p: HardwarePrice) -> float | None:
    return p.used_usd or p.msrp_usd


def _price_note(p: HardwarePrice) -> str:
    if p.used_usd:
        return f"typical used, {p.used_as_of}, {p.used_source}"
    return f"launch MSRP, {p.msrp_source}"


def _row(engine: SizingEngine, model: Model, priced: list[tuple[Hardware, HardwarePrice]], budget: float | None,
         quant: str | None, context: int) -> BudgetRow:
    found = []
    for hw, price in priced:
        counts = GPU_COUNTS if hw.kind == "gpu" else (1,)
        for count in counts:
            option = _option(engine, model, hw, price, count, quant, context)
            if option is not None:
                found.append(option)
                break          # more of the same card only costs more for the same model
    found.sort(key=lambda o: o.usd_per_token_per_s)
    within = [o for o in found if budget is None or o.price_usd <= budget]
    over = None if within else next(iter(found), None)
    ref = ModelRef(id=model.id, name=model.name, params_b=model.params_b, active_params_b=model.active_b)
    return BudgetRow(model=ref, context=context, options=within[:SHOWN], over_budget=over)


def _option(engine: SizingEngine, model: Model, hw: Hardware, price: HardwarePrice, count: int, quant: str | None,
            context: int) -> BudgetOption | None:
    report = engine.size(SizingRequest(model=model.id, gpu=hw.id, gpus=count, quant=quant, context=context),
                         extras=False)
    if report.verdict != "fits" or report.decode_tokens_per_s is None:
        return None
    speed = report.decode_tokens_per_s
    total = _unit_price(price) * count
    return BudgetOption(hardware=HardwareRef(id=hw.id, name=hw.name, memory_gb=hw.memory_gb, count=count),
                        price_usd=total, price_note=_price_note(price), quant=report.quant, verdict=report.verdict,
                        decode_tokens_per_s=speed, usd_per_token_per_s=round(total / ((speed.low + speed.high) / 2), 2))
