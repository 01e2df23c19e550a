"""The answer kinds beyond "model on hardware": what can I run, comparisons of setups, fine-tuning, serving, image
models, cost, and the questions the bot recognizes but does not answer (opinions, news, current prices, licences).

Rules over the words and the fields the extractor finds; no model. Every pattern is a flat alternation of literal
words (linear in the input). A kind this build has no calculator for yet is routed to `unsupported`, with the
kind that was asked, so that the user hears what the bot can do instead of an answer to another question.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.routing.extract import Extraction
from bot.routing.schema import CompareSide, IntentKind, UseCase

# kinds routed here that have no module yet: they become `unsupported` with the asked kind named
NOT_BUILT: frozenset[str] = frozenset({"finetune", "serve", "image", "cost"})

_FINETUNE = re.compile(
    r"\b(fine[- ]?tun\w*|finetun\w*|q?lora|train(?:ing)? (?:a |an |my |the )?(?:model|lora|\d+b)|sft|dpo|grpo|orpo|"
    r"unsloth|axolotl|peft|llama[- ]?factory|deepspeed|zero[- ]?[23]|fsdp|adapters? rank|rank \d+|r ?= ?\d+)\b")
_SERVE = re.compile(
    r"(?:^|\s)(?:-np \d+|--parallel)\b|\b(concurrent\w*|concurrency|simultaneous\w*|at once|at the same time|"
    r"in parallel|num_parallel|ollama_num_parallel|throughput|how many (?:users|people|requests|clients)|"
    r"requests per|reqs|users?|people|slots|serve|serving|tp ?= ?\d|tensor parallel\w*)\b")
_RUNTIME_WORDS = re.compile(r"\b(vllm|ollama|llama-server|llama server|sglang|tgi|server|box)\b")
_IMAGE = re.compile(
    r"\b(wan (?:video|i2v|t2v|vace)|vace|flux(?:\.1)?|sdxl|sd ?1\.5|sd ?3(?:\.5)?|sd3|stable diffusion|"
    r"stable-diffusion|comfy ?ui|comfy|a1111|"
    r"automatic1111|forge|wan ?2(?:\.\d)?|wan2(?:\.\d)?|hunyuan ?video|hunyuanvideo|ltx[- ]?video|ltxv|hidream|"
    r"qwen[- ]image|animatediff|txt2img|img2img|text[- ]to[- ]image|image gen\w*|video gen\w*|"
    r"text[- ]to[- ]video|i2v|t2v|diffusion model)\b")
_COST = re.compile(
    r"(\$ ?\d|\d ?(?:usd|eur|euro|euros|dollars|bucks)\b|€ ?\d|\d ?€|£ ?\d|\b(?:cheaper|cost|costs|costing|"
    r"pricier|per million|per token|paying per|power bill|electricity|break[- ]even|subscription|pay per|"
    r"worth (?:it )?(?:financially|the money)|roi|kwh|tokens? (?:a|per) month|monthly|"
    r"(?:beat|than|vs\.?) (?:the |an |a )?(?:\w+ )?api)\b)")
_COST_CONTEXT = re.compile(r"\b(api|apis|local\w*|self[- ]host\w*|cloud|openai|claude|gpt\w*|gemini|openrouter|"
                           r"rig|box|gpu|gpus|card|build|server)\b")
_MODEL_WORDS = re.compile(r"\b(models?|llms?|qwen\w*|llama\w*|gemma\w*|mistral\w*|deepseek\w*|phi\w*|gpt\w*|claude)\b")
# words that make a message about memory or fit rather than about a concept
_FIT_WORDS = re.compile(r"\b(vram|memory|fit|fits|run|runs|running|enough|oom|gb|gigs|card|gpu|how much|possible)\b")
# recognized, not answered: what changes by the week or needs a lawyer or a judgement of taste
_LICENCE = re.compile(r"\b(licen[cs]e\w*|commercial\w*|legal\w*|lawsuit|copyright\w*|gpl|apache 2|terms of use|"
                      r"allowed to (?:use|sell))\b")
_NEWS = re.compile(r"\b(when (?:is|will|does)\b.{0,40}\b(?:come out|coming|release\w*|launch\w*|drop\w*|ship\w*)|"
                   r"release date|coming out|rumou?r\w*|announce\w*|keynote|leak\w*|benchmarks? (?:cheat\w*|scandal)|"
                   r"did \w+ cheat|news|(?:ever |also |as well )?be released|open[- ]sourced?|release the weights)\b")
_PRICE_NOW = re.compile(r"\b(how much (?:is|are|does|do|for) (?:a |an |the )?(?:used |new )?\w+(?: \w+)?"
                        r"(?: (?:cost|go for|sell for))?(?: now| today| these days| on ebay| used)|"
                        r"prices? (?:going|go|gonna|are going|of \w+ (?:now|today))|ebay|going rate|in stock|"
                        r"where (?:can i |to )buy|selling at a loss|current(?:ly)? (?:price|cost)\w*)\b")
_OPINION = re.compile(r"\b(smarter|dumber|better at|worse at|best (?:llm|model)s? (?:for|at) (?:writing|stories|"
                      r"creative|poetry|math)|which is (?:better|smarter)|is \w+ better than|better than \w+ at|"
                      r"overrated|underrated|hallucinate[s]? less|more creative)\b")
_COMPARE_SPLIT = re.compile(r"\s(?:vs\.?|versus|or|compared (?:to|with)|against|over|instead of)\s|\s?/\s?|,",
                            re.IGNORECASE)
_COMPARE_WORDS = re.compile(r"\b(vs\.?|versus|or|compared|compare|worth it over|better than|faster than|"
                            r"slower than|beats?|upgrade from|over)\b")
_HOW_MANY = re.compile(r"\bhow many (?:more )?(?:gpus?|cards?|[a-z]{0,3}\d{2,4}(?:s|ti|tis)?)\b")
_HOW_DO_I = re.compile(r"^\s*how (?:do|can|to|would|should) i\b")
_WHAT_CAN_I_RUN = re.compile(
    r"\b(what (?:can|could|should|would|models?|llms?|sizes?)|which (?:\w+[- ]?){0,2}(?:models?|llms?|sizes?|ones?)|"
    r"models? for (?:a |my |an )?(?:\d+ ?gb|\w+ card)|can i go bigger|go beyond|best (?:\w+ ){0,3}"
    r"(?:models?|llms?|coder|local llm)|good (?:\w+ ){0,2}(?:models?|llms?)|models? (?:recs?|recommendations?)|"
    r"recommend\w*|worth running|sweet spot|biggest (?:model|thing|stuff)|largest model|what fits|what runs|"
    r"what to run|can i go bigger|max(?:imum)? (?:model|size)|what'?s the best|any model|what'?s worth)\b")
_USES: tuple[tuple[UseCase, re.Pattern[str]], ...] = (
    ("coding", re.compile(r"\b(cod(?:e|er|ers|ing)|programming|aider|copilot|autocomplete|dev|agentic coding)\b")),
    ("vision", re.compile(r"\b(vision|images?|vlm|multimodal|ocr|screenshots?)\b")),
    ("reasoning", re.compile(r"\b(reasoning|thinking|math|logic|agents?|agentic)\b")),
    ("roleplay", re.compile(r"\b(role ?play\w*|rp|erp|character|stories|story|creative writing)\b")),
    ("chat", re.compile(r"\b(chat\w*|general|assistant|everyday|daily driver)\b")),
)
_SETUP_LINES = re.compile(
    r"(offloaded \d+/\d+ layers|load_tensors:|llm_load_tensors:|llama_context: n_ctx|llama_new_context_with_model|"
    r"ggml_cuda_init: found|print_info: model type|llm_load_print_meta|msg=\"offload|inference compute|"
    r"nvidia-smi \d|driver version: \d|cuda version: \d|gpu kv cache size|maximum concurrency for|"
    r"name\s+id\s+size\s+processor|rocm-smi|======= rocm)", re.IGNORECASE)

WhoIsHardware = Callable[[str], "CompareSide | None"]


@dataclass(frozen=True)
class Detected:
    kind: IntentKind
    reason: str
    asked: str | None = None             # for `unsupported`: the kind the question is (finetune, news, ...)
    use: UseCase | None = None
    sides: tuple[CompareSide, ...] = ()


def use_of(low: str) -> UseCase | None:
    for use, pattern in _USES:
        if pattern.search(low):
            return use
    return None


def is_setup_log(text: str) -> bool:
    """A pasted log that shows a setup (lines llama.cpp, Ollama, vLLM or nvidia-smi print at start-up)."""
    return text.count("\n") >= 2 and len(_SETUP_LINES.findall(text)) >= 2


def compare_sides(text: str, side_of: WhoIsHardware) -> tuple[CompareSide, ...]:
    """The distinct hardware setups named on either side of "vs" / "or" / "over" (each may carry a count)."""
    sides: list[CompareSide] = []
    for part in _COMPARE_SPLIT.split(text):
        side = side_of(part) if part.strip() else None
        if side is not None and side not in sides:
            sides.append(side)
    return tuple(sides)


def detect(text: str, ex: Extraction, side_of: WhoIsHardware, names_model: bool, states_hardware: bool,
           asks: bool) -> Detected | None:
    """The kind of a message that is not plain sizing, choose or knowledge; None leaves it to the sizing and
    knowledge rules. `asks`: the message is a question or reports a problem."""
    low = text.lower()
    if is_setup_log(text):
        return None        # a pasted log is read for its setup or its error by the sizing and knowledge rules
    if _LICENCE.search(low) and asks:
        return Detected("unsupported", "licensing or legal question", asked="licensing")
    if _NEWS.search(low):
        return Detected("unsupported", "news or release dates", asked="news")
    if _PRICE_NOW.search(low) and not _WHAT_CAN_I_RUN.search(low):
        return Detected("unsupported", "current market prices", asked="prices")
    about_a_setup = names_model or states_hardware or ex.bare_size is not None
    if _IMAGE.search(low) and (about_a_setup or _FIT_WORDS.search(low)):
        return Detected("image", "an image or video model")
    if _FINETUNE.search(low) and (about_a_setup or _FIT_WORDS.search(low)):
        return Detected("finetune", "fine-tuning or training memory")
    if _SERVE.search(low) and (about_a_setup or _RUNTIME_WORDS.search(low)) and \
            (_RUNTIME_WORDS.search(low) or not _FINETUNE.search(low)):
        return Detected("serve", "serving several users or requests")
    if names_model and _HOW_MANY.search(low):
        return Detected("choose", "how many cards a model needs")
    sides = compare_sides(text, side_of) if _COMPARE_WORDS.search(low) else ()
    if len(sides) >= 2:
        return Detected("compare", "two or more setups side by side", use=use_of(low), sides=sides)
    if _COST.search(low) and (about_a_setup or _COST_CONTEXT.search(low)):
        return Detected("cost", "cost, price or budget")
    model = ex.fields.model
    # "is 7b the best i can do": a size alone is no particular model
    named_model = model is not None and ex.bare_size is None and not (model.note and "representative" in
                                                                      model.note.lower())
    if states_hardware and not named_model and not _HOW_DO_I.search(low) and (_WHAT_CAN_I_RUN.search(low) or (
            asks and not names_model and use_of(low) is not None)):
        return Detected("what_can_i_run", "hardware and no model: which models run well there", use=use_of(low))
    if _OPINION.search(low) and not states_hardware and (names_model or ex.family or _MODEL_WORDS.search(low)):
        return Detected("unsupported", "an opinion on model quality", asked="opinion")
    return None
