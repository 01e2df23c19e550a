"""Cost per million output tokens on local hardware against API prices (../shared/reference/calculators.md §5).

local per month = hardware price / service months + watts x hours x 30 / 1000 x $/kWh
tokens per month = engine decode speed (middle of its range) x 3600 x hours per day x 30 x duty cycle
local per M tokens = local per month / (tokens per month / 1e6)
API per M tokens = (input share x input price + output price) at the stated input:output token mix
break-even months = hardware price / (API cost of the same monthly tokens - electricity per month)

Watts default to a share of the card's TDP: decode is memory-bound and draws well under the limit (an H200 drew
137-300 W of 700 W across models in Ma et al., arXiv:2605.11999 [capping]), so 60 % of TDP is assumed and stated.
`--budget` ranking for `choose` is not part of this module.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.calc.schema import ApiCost, CostResult, LocalCost, PriceCatalog
from bot.errors import InvalidRequestError
from bot.sizing.engine import SizingEngine
from bot.sizing.schema import SizingRequest

DAYS_PER_MONTH = 30
DEFAULT_TDP_SHARE = 0.6          # decode draws 137-300 W of a 700 W limit [capping]: about 20-43 %; 60 % is cautious
DEFAULT_KWH = 0.30               # the worked example's rate in calculators.md §5
DEFAULT_HOURS = 8.0
DEFAULT_MONTHS = 36
DEFAULT_DUTY = 0.5               # share of powered hours spent generating
DEFAULT_INPUT_PER_OUTPUT = 3.0   # input tokens per output token when pricing an API (chat with context)


@dataclass(frozen=True)
class CostRequest:
    model: str
    gpu: str
    gpus: int = 1
    quant: str | None = None
    price: float | None = None          # hardware price in USD (all GPUs together)
    watts: float | None = None          # measured draw under load, all GPUs
    kwh: float = DEFAULT_KWH
    hours_per_day: float = DEFAULT_HOURS
    months: int = DEFAULT_MONTHS
    duty: float = DEFAULT_DUTY
    api_in: float | None = None         # a custom API price to compare, $/M input
    api_out: float | None = None        # ... and $/M output
    input_per_output: float = DEFAULT_INPUT_PER_OUTPUT


def estimate(req: CostRequest, engine: SizingEngine, prices: PriceCatalog) -> CostResult:
    if not 0 < req.hours_per_day <= 24 or not 0 < req.duty <= 1 or req.months < 1 or req.kwh < 0:
        raise InvalidRequestError("hours per day must be in (0, 24], duty in (0, 1], months >= 1, $/kWh >= 0.")
    hw = engine.catalog.gpu(req.gpu)
    report = engine.size(SizingRequest(model=req.model, gpu=req.gpu, gpus=req.gpus, quant=req.quant, context=4096))
    if report.decode_tokens_per_s is None:
        raise InvalidRequestError(f"{report.model.name} gives no decode speed on {report.hardware}.")
    speed = (report.decode_tokens_per_s.low + report.decode_tokens_per_s.high) / 2
    notes = [f"Decode speed {speed:.1f} tokens/s (middle of the engine's {report.decode_tokens_per_s.low:g}-"
             f"{report.decode_tokens_per_s.high:g}) at {report.quant}, one stream; batching raises it."]
    price = req.price
    if price is None:
        known = next((p for p in prices.hardware if p.hardware == hw.id), None)
        if known is None or (known.used_usd or known.msrp_usd) is None:
            raise InvalidRequestError(f"No price on file for {hw.name}: give one with --price.")
        unit = known.used_usd or known.msrp_usd
        price = unit * req.gpus
        notes.append(f"Hardware price {unit:,.0f} USD per card (" + (
            f"typical used, {known.used_as_of}, {known.used_source}" if known.used_usd else
            f"launch MSRP, {known.msrp_source}") + ").")
    watts = req.watts
    if watts is None:
        if hw.tdp_w is None:
            raise InvalidRequestError(f"No TDP on file for {hw.name}: give the draw with --watts.")
        watts = hw.tdp_w * DEFAULT_TDP_SHARE * req.gpus
        notes.append(f"Power {watts:.0f} W: {DEFAULT_TDP_SHARE:.0%} of the {hw.tdp_w:g} W board power per card "
                     "(decode is memory-bound and draws well under the limit); give --watts from nvidia-smi.")
    hours = req.hours_per_day * DAYS_PER_MONTH
    electricity = watts * hours / 1000 * req.kwh
    hardware_month = price / req.months
    tokens = speed * 3600 * hours * req.duty
    per_month = electricity + hardware_month
    local = LocalCost(per_mtok=round(per_month / (tokens / 1e6), 4), per_month=round(per_month, 2),
                      electricity_per_month=round(electricity, 2), hardware_per_month=round(hardware_month, 2),
                      tokens_per_month=round(tokens))
    apis = [(f"{a.provider} {a.model}", a.input_per_mtok, a.output_per_mtok, a.as_of, a.source) for a in prices.api]
    if req.api_in is not None or req.api_out is not None:
        import datetime as dt
        apis.insert(0, ("custom", req.api_in or 0.0, req.api_out or 0.0, dt.date.today(), "--api-in/--api-out"))
    out = []
    for name, p_in, p_out, as_of, source in apis:
        blended = req.input_per_output * p_in + p_out       # $ per M output tokens with their input
        api_month = blended * tokens / 1e6
        saving = api_month - electricity
        months = round(price / saving, 1) if saving > 0 else None
        out.append(ApiCost(name=name, per_mtok=round(blended, 4), input_per_mtok=p_in, output_per_mtok=p_out,
                           as_of=as_of, source=source, break_even_months=months))
    out.sort(key=lambda a: a.per_mtok)
    cheapest = out[0].break_even_months if out else None
    notes.append(f"API cost per million output tokens includes {req.input_per_output:g} input tokens per output "
                 "token; cache and batch discounts are not applied.")
    return CostResult(
        model=report.model.name, hardware=report.hardware or hw.name, local=local, api=out,
        break_even_months=cheapest,
        inputs={"price_usd": price, "watts": watts, "kwh_usd": req.kwh, "hours_per_day": req.hours_per_day,
                "months": req.months, "duty": req.duty, "tokens_per_s": round(speed, 1),
                "input_per_output": req.input_per_output, "quant": report.quant},
        assumptions=notes)
