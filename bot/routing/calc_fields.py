"""What a message states for the calculators: fine-tuning method, sequence length, batch and LoRA rank; the serving
runtime and its parallel slots; an image's resolution and frames; a budget, prices, power and hours. (A precision
is the quantization the field extractor reads; the image kind translates it.)

Each field is one flat regular expression over the lowercased text (linear in the input, like every rule of the
router). Only what is written is read; defaults belong to the calculators, which state them.
"""
from __future__ import annotations

import re

from bot.calc.image import video_width
from bot.routing.schema import CalcFields

_NUMBER = r"(\d+(?:\.\d+)?)"
_ADAPTERS = re.compile(r"\b(q-?lora|lora|peft)\b")
_NEGATED = re.compile(r"\b(?:not|no|without|instead of)\s*$")
_FULL = re.compile(r"\b(full(?:[- ]parameter)?[- ]?(?:fine[- ]?tun\w*|finetun\w*|ft|training|train)|"
                   r"fine[- ]?tun\w* (?:all|every) (?:the )?(?:weights|parameters|layers)|full (?:ft|sft))\b")
_FOUR_BIT = re.compile(r"\b(4[- ]?bit|nf4|bnb|bitsandbytes|load_in_4bit)\b")
_SEQ_LEN = re.compile(r"\b(\d+(?:\.\d+)?k?)\s*(?:tokens? )?(?:seq(?:uence)?[ _-]?len(?:gth)?s?|max[_ ]seq[_ ]len\w*|"
                      r"cutoff[_ ]len)\b|\b(?:seq(?:uence)?[ _-]?len(?:gth)?|max_seq_length|max_seq_len|cutoff_len)"
                      r"\s*(?:=|:|of|at)?\s*(\d+(?:\.\d+)?k?)\b")
_BATCH = re.compile(r"\b(?:micro[ _-]?batch(?:[ _-]?size)?|per_device_train_batch_size|batch(?:[ _-]?size)?|bs)"
                    r"\s*(?:=|:|of)?\s*(\d{1,4})\b|\b(\d{1,4})\s*(?:micro[ _-]?)?batch(?:es)?\b")
_RANK = re.compile(r"\b(?:lora[ _]?r|rank)\s*(?:=|:)?\s*(\d{1,4})\b|\br\s*=\s*(\d{1,4})\b")
_RUNTIMES = (("vllm", re.compile(r"\bv-?llm\b")),
             ("llama-server", re.compile(r"\b(llama[- .]?server|llama[.-]?cpp server|llamacpp server)\b|"
                                         r"(?:^|\s)(?:-np|--parallel)\b")),
             ("ollama", re.compile(r"\b(ollama\w*)\b")))
_PARALLEL = re.compile(r"(?:^|\s|\b)(?:-np|--parallel|num_parallel|ollama_num_parallel)\s*(?:=|:)?\s*(\d{1,3})\b")
_SIZE_2D = re.compile(r"\b(\d{3,4}) ?[x×*] ?(\d{3,4})\b")
_LINES = re.compile(r"\b(480|540|576|720|1080|1440|2160)p\b")
_SIDE = re.compile(r"\b(\d{3,4}) ?px\b|"
                   r"\bat (\d{3,4})\b(?! ?(?:tokens?|ctx|context|seq|len|k\b|w\b|watts?|\$|usd|dollars?))")
_FRAMES = re.compile(r"\b(\d{1,4}) ?(?:frames?|f)\b")
_SECONDS = re.compile(r"\b(\d{1,3}(?:\.\d+)?) ?(?:s|sec|secs|seconds?)\b(?! ?/)")
# money: "$1500", "$1.5k", "1000 euro", "€800", "~$4k"; not a rate ("$2/h", "$0.30/kwh", "$15/m")
# Numbers are matched possessively (`*+`, `++`, `?+`) and only from the start of a run of digits: a pattern that could
# split one run in many ways took cubic time on a pasted column of digits (7.9 s for 800 characters).
_NUMBER = r"(?<![\d.])(?:\d++(?:\.\d++)?+|\.\d++)"
# (an amount is at most 12 digits and commas: "1,2,3,..." would otherwise be read from every one of its digits)
_MONEY = re.compile(r"(?:([$€£])\s?(\d[\d,]{0,12}+(?:\.\d{1,4}+)?+)(k?)(?![\d.,k])|"
                    r"\b(\d[\d,]{0,12}+(?:\.\d{1,4}+)?+)(k?)\s?(usd|dollars?|bucks|eur|euros?|€|gbp|pounds?)\b)"
                    r"(?!\s?(?:/|per |an? )\s?(?:h\b|hr|hour|kwh|m\b|mtok|million|month|mo\b|year|"
                    r"yr|token))")
_BUDGET_WORDS = re.compile(r"\b(budget|under|below|less than|max(?:imum)?|up to|at most|within|no more than|cap|"
                           r"spend|spending|afford|cheapest|best value|for the same)\b")
_KWH = re.compile(r"(?:[$€£]\s?)?(" + _NUMBER + r")\s?(?:[$€£]|usd|eur|cents?|c|ct)?\s?(?:/|per |a )\s?kwh\b")
_WATTS = re.compile(r"\b(\d{2,4}) ?(?:w|watts?)\b(?! ?/)")
_HOURS = re.compile(r"\b(\d{1,2}(?:\.\d+)?) ?(?:h|hrs?|hours?) (?:a|per|/) ?day\b|\b(\d{1,2}(?:\.\d+)?) ?h ?/ ?day\b")
_ALWAYS_ON = re.compile(r"\b24 ?/ ?7\b|\ball day\b|\bround the clock\b")
_API_PRICE = re.compile(r"\$?\s?(" + _NUMBER + r")\s?(?:/|per )\s?(?:m|mtok|million|1m)(?: tokens?)?\s?"
                        r"(in|input|out|output)\b")
_API = re.compile(r"\b(gpt-?[0-9][\w.]*(?:[ -](?:mini|nano|turbo|pro))?|"
                  r"claude(?:[ -](?:sonnet|haiku|opus|[\d.]+)){0,3}|"
                  r"sonnet(?:[ -][\d.]+)?|haiku(?:[ -][\d.]+)?|opus(?:[ -][\d.]+)?|"
                  r"gemini(?:[ -](?:flash|pro|lite|[\d.]+)){0,3}|"
                  r"openai|anthropic|openrouter|deepseek api|mistral api|groq|together(?:\.ai)?|fireworks)\b")
_CURRENCY = {"$": None, "usd": None, "dollar": None, "dollars": None, "bucks": None, "€": "EUR", "eur": "EUR",
             "euro": "EUR", "euros": "EUR", "£": "GBP", "gbp": "GBP", "pound": "GBP", "pounds": "GBP"}


def calc_fields(text: str) -> CalcFields | None:
    """The calculator fields `text` states, or None when it states none."""
    low = text.lower()
    found = CalcFields(
        method=_method(low), seq_len=_thousands(_first(_SEQ_LEN, low)), batch=_int(_first(_BATCH, low)),
        rank=_int(_first(_RANK, low)),
        runtime=next((name for name, pattern in _RUNTIMES if pattern.search(low)), None),
        parallel=_int(_first(_PARALLEL, low)), frames=_int(_first(_FRAMES, low)),
        seconds=_float(_first(_SECONDS, low)), kwh=_kwh(low), watts=_float(_first(_WATTS, low)),
        hours_per_day=_hours(low), api=_api(low), **_resolution(low), **_money(low), **_api_prices(low))
    return found if found.states_anything() else None


def _first(pattern: re.Pattern[str], low: str) -> str | None:
    m = pattern.search(low)
    return next((g for g in m.groups() if g), None) if m else None


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and int(value) > 0 else None


def _float(value: str | None) -> float | None:
    return float(value) if value is not None and float(value) > 0 else None


def _thousands(value: str | None) -> int | None:
    """'4096', '4k' (x1024, as people write context and sequence lengths)."""
    if value is None:
        return None
    tokens = round(float(value[:-1]) * 1024) if value.endswith("k") else int(float(value))
    return tokens if 16 <= tokens <= 1_048_576 else None


def _method(low: str) -> str | None:
    # "lora (not qlora)": the first method named that is not negated
    if _FULL.search(low):
        return "full"
    for m in _ADAPTERS.finditer(low):
        if _NEGATED.search(low[max(0, m.start() - 12):m.start()]):
            continue
        if m.group(1).startswith("q"):
            return "qlora"
        return "qlora" if _FOUR_BIT.search(low) else "lora"
    if _FOUR_BIT.search(low) and re.search(r"\b(fine[- ]?tun\w*|finetun\w*|unsloth|train\w*|sft|grpo|dpo)\b", low):
        return "qlora"          # a 4-bit base trained with adapters is QLoRA, whatever the tool calls it
    return None


def _resolution(low: str) -> dict:
    m = _SIZE_2D.search(low)
    if m:
        w, h = int(m.group(1)), int(m.group(2))
        if 64 <= w <= 8192 and 64 <= h <= 8192:
            return {"width": w, "height": h}
    m = _LINES.search(low)
    if m:
        h = int(m.group(1))                     # video heights as people say them, at 16:9
        return {"width": video_width(h), "height": h}
    m = _SIDE.search(low)
    side = int(next(g for g in m.groups() if g)) if m else None
    if side is not None and 256 <= side <= 8192 and side % 64 == 0:
        return {"width": side, "height": side}
    return {}


def _money(low: str) -> dict:
    """A budget ("under $1000", "$300 budget", "1000 euro") or, said of the hardware named, its price."""
    m = _MONEY.search(low)
    if m is None:
        return {}
    symbol, digits, k = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(6), m.group(4), m.group(5))
    amount = float(digits.replace(",", "")) * (1000 if k else 1)
    if amount <= 0:
        return {}
    currency = _CURRENCY.get(symbol)
    before = low[max(0, m.start() - 40):m.start()]
    after = low[m.end():m.end() + 25]
    is_price = re.search(r"\b(paid|bought|buying|buy|costs?|price[ds]?|at|for)\s*~?\s*$", before) and \
        not _BUDGET_WORDS.search(before + " " + after)
    key = "price_usd" if is_price else "budget_usd"
    return {key: amount, "currency": currency}


def _kwh(low: str) -> float | None:
    m = _KWH.search(low)
    if m is None:
        return None
    value = float(m.group(1))
    unit = low[m.start():m.end()]
    return round(value / 100, 4) if re.search(r"\d\s?(?:cents?|c|ct)\b", unit) else value


def _hours(low: str) -> float | None:
    if _ALWAYS_ON.search(low):
        return 24.0
    value = _float(_first(_HOURS, low))
    return value if value is not None and value <= 24 else None


def _api(low: str) -> str | None:
    m = _API.search(low)
    return m.group(1) if m else None


def _api_prices(low: str) -> dict:
    out = {}
    for m in _API_PRICE.finditer(low):
        key = "api_in" if m.group(2).startswith("in") else "api_out"
        out.setdefault(key, float(m.group(1)))
    return out
