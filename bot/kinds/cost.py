"""cost: what a million output tokens cost on local hardware against dated API prices, with break-even months
(bot.calc.cost); or, asked with a budget, the setups that run the model ranked by price per token/s (bot.kinds.budget).
Every price shows its date; what the message says (price, watts, $/kWh, hours a day, an API's prices) overrides the
defaults, which the answer states."""
from __future__ import annotations

import time

from bot.answer.results import BudgetRanking
from bot.answer.schema import Answer
from bot.calc.cost import CostRequest, estimate
from bot.calc.schema import CostResult
from bot.catalog.load import normalize
from bot.core import Core
from bot.format import budget_text, cost_text
from bot.kinds.budget import budget_ranking, representative_of
from bot.kinds.calculators import calculated, clarify, fields_of, hardware_of
from bot.routing.schema import CalcFields, Route, SizingFields
from bot.text import echo

MISSING = ("Which model, on which hardware? For example 'llama 3.1 8b on a 3090, against gpt-4o mini'; add what you "
           "paid, your $/kWh or hours a day if you know them.")


def answer(intent: Route, core: Core) -> Answer:
    start = time.perf_counter()
    fields, calc = fields_of(intent)
    if calc.budget_usd is not None:
        return calculated(intent, "cost", start, lambda: _budget(core, fields, calc), budget_text, fields,
                          key="budget")
    if fields.model is None or fields.gpu is None:
        return clarify(intent, MISSING, "cost")
    return calculated(intent, "cost", start, lambda: cost(core, fields, calc), cost_text, fields)


def _budget(core: Core, fields: SizingFields, calc: CalcFields) -> BudgetRanking:
    model = fields.model.id if fields.model else representative_of(core.engine, fields.unknown_model)
    ranking = budget_ranking(core.engine, core.prices, calc.budget_usd, model, fields.quant, fields.context)
    if calc.currency:
        ranking.assumptions.insert(0, f"Budget read as {calc.budget_usd:,.0f} USD (said in {calc.currency}; "
                                      "the prices on file are in USD).")
    return ranking


def cost(core: Core, fields: SizingFields, calc: CalcFields) -> CostResult:
    gpu, gpus, notes = hardware_of(core, fields)
    request = CostRequest(model=fields.model.id, gpu=gpu, gpus=gpus, quant=fields.quant, price=calc.price_usd,
                          watts=calc.watts, api_in=calc.api_in, api_out=calc.api_out,
                          **{k: v for k, v in (("kwh", calc.kwh), ("hours_per_day", calc.hours_per_day))
                             if v is not None})
    result = estimate(request, core.engine, core.prices)
    if calc.currency and calc.price_usd is not None:
        notes.append(f"Price read as {calc.price_usd:,.0f} USD (said in {calc.currency}).")
    if calc.api:
        notes.append(_first_the_api_named(result, calc.api))
    if fields.model.note:
        notes.append(fields.model.note)
    result.assumptions[:0] = notes
    return result


def _first_the_api_named(result: CostResult, named: str) -> str:
    """Moves the APIs the message names to the top of the list; says so, or that no price for it is on file."""
    key = normalize(named)
    matches = [a for a in result.api if key and key in normalize(a.name)]
    if not matches:
        return (f"No price on file for '{echo(named)}': compared with the APIs on file; state its prices as "
                "'$X/M in, $Y/M out'.")
    result.api[:] = matches + [a for a in result.api if a not in matches]
    return f"Listed first: the API you named ({', '.join(a.name for a in matches)})."
