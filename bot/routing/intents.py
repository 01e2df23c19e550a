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

from bot.logs import is_pasted_log, parse_log
from bot.routing.extract import Extraction
from bot.routing.schema import CompareSide, IntentKind, Route, UseCase

# kinds routed here that have no module yet: they become `unsupported` with the asked kind named (none today)
NOT_BUILT: frozenset[str] = frozenset()

_FINETUNE = re.compile(
    r"\b(fine[- ]?tun\w*|finetun\w*|q?lora|train(?:ing)? (?:a |an |my |the )?(?:model|lora|\d+b)|sft|dpo|grpo|orpo|"
    r"unsloth|axolotl|peft|llama[- ]?factory|deepspeed|zero[- ]?[23]|fsdp|adapters? rank|rank \d+|r ?= ?\d+)\b")
_SERVE = re.compile(
    r"(?:^|\s)(?:-np \d+|--parallel)\b|\b(concurrent\w*|concurrency|simultaneous\w*|num_parallel|ollama_num_parallel|"
    r"how many (?:users|people|requests|clients)|requests per|users?|people|slots|serve|serving|tp ?= ?\d|"
    r"tensor parallel\w*)\b")
# said of one user too ("what throughput on 8x a100"): serving only with a serving runtime named
_SERVE_WEAK = re.compile(r"\b(throughput|at once|at the same time|in parallel|reqs|batch(?: size)? \d+)\b")
_RUNTIME_WORDS = re.compile(r"\b(vllm|ollama|llama-server|llama server|sglang|tgi|server|box)\b")
_SERVING_RUNTIME = re.compile(r"\b(vllm|ollama|llama-server|llama server|sglang|tgi)\b")
_IMAGE = re.compile(
    r"\b(wan (?:video|i2v|t2v|vace)|vace|flux(?:\.1)?|sdxl|sd ?1\.5|sd ?3(?:\.5)?|sd3|stable diffusion|"
    r"stable-diffusion|comfy ?ui|comfy|a1111|"
    r"automatic1111|forge|wan ?2(?:\.\d)?|wan2(?:\.\d)?|hunyuan ?video|hunyuanvideo|ltx[- ]?video|ltxv|hidream|"
    r"qwen[- ]image|animatediff|txt2img|img2img|text[- ]to[- ]image|image gen\w*|video gen\w*|"
    r"text[- ]to[- ]video|i2v|t2v|diffusion model)\b")
# money alone ("under $1000", "~$4k either way") is a budget; these words ask what running or buying costs
_COST_WORDS = re.compile(
    r"\b(cheaper|cost|costs|costing|pricier|per million|per token|paying per|power bill|electricity|break[- ]even|"
    r"subscription|pay per|worth (?:it )?(?:financially|the money)|roi|kwh|tokens? (?:a|per) month|monthly|"
    r"(?:beat|than|vs\.?) (?:the |an |a )?(?:\w+ )?api|dollars? per|\$ ?/ ?(?:tok|token|gb)|price per|"
    r"rent(?:ing|ed)? (?:an? )?\w+ at)\b")
_MONEY = re.compile(r"(\$ ?\d|\d ?(?:usd|eur|euro|euros|dollars|bucks)\b|€ ?\d|\d ?€|£ ?\d|\bbudget\b)")
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
_COMPARE_SPLIT = re.compile(r"\s(?:vs\.?|versus|or|compared (?:to|with)|against|over|instead of|beats?|than)\s|"
                            r"\s?/\s?|,",
                            re.IGNORECASE)
_COMPARE_WORDS = re.compile(r"\b(vs\.?|versus|or|compared|compare|worth it over|better than|faster than|"
                            r"slower than|beats?|upgrade from|over)\b")
_HOW_MANY = re.compile(r"\bhow many (?:more )?(?:gpus?|cards?|[a-z]{0,3}\d{2,4}(?:s|ti|tis)?)\b")
_VERSION = re.compile(r"^(?:v?\d+(?:\.\d+)*|[a-z]+\d[\w.]*)$")
_WHICH = re.compile(r"\bwhich\b")
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

# the start of a line a tool printed; anchored and bounded, so a long paste costs one test per line
_OUTPUT_LINE = re.compile(
    r"[^\S\n]*(?:\|[^|\n]{0,200}\||time=|\d{4}[-/]\d\d[-/]\d\d|\[?\d\d:\d\d:\d\d|(?:info|warning|warn|error|debug)\b|"
    r"[a-z_]{3,}=\S|python3? -m |total vram|pytorch version|device: cuda|set vram|using pytorch|"
    r"(?:prompt )?eval time\s*=|ggml_|llama_|llm_load|load_tensors|print_info)", re.IGNORECASE)
MAX_PASTED_LINES = 200

WhoIsHardware = Callable[[str], "CompareSide | None"]


@dataclass(frozen=True)
class Detected:
    kind: IntentKind
    reason: str
    asked: str | None = None             # for `unsupported`: the kind the question is (finetune, news, ...)
    use: UseCase | None = None
    sides: tuple[CompareSide, ...] = ()


def names_image_model(low: str) -> bool:
    """An image or video model or tool is named ("flux dev", "sdxl", "comfyui", "wan 2.1")."""
    return bool(_IMAGE.search(low))


def use_of(low: str) -> UseCase | None:
    for use, pattern in _USES:
        if pattern.search(low):
            return use
    return None


def pasted_log_route(text: str) -> Route | None:
    """A pasted log (two or more lines a tool printed, bot.logs) is answered by the log kind whatever words it
    carries: read against the knowledge base when it shows errors, sized when it shows a setup."""
    if not is_pasted_log(text):
        return None
    route = "knowledge" if parse_log(text).errors else "sizing"
    return Route(route=route, confidence=0.9, reason="a pasted log: its setup and its error lines", intent="log")


def is_setup_log(text: str) -> bool:
    """A pasted log that shows a setup (lines llama.cpp, Ollama, vLLM or nvidia-smi print at start-up)."""
    return text.count("\n") >= 2 and len(_SETUP_LINES.findall(text)) >= 2


def is_pasted_output(text: str) -> bool:
    """Two or more lines of what a tool prints (nvidia-smi rows, log lines, timings, environment variables): its
    words ("throughput", "server", "$") are the tool's, not a question about serving or cost."""
    if "\n" not in text:
        return False
    lines = text.splitlines()[:MAX_PASTED_LINES]
    return sum(1 for line in lines if _OUTPUT_LINE.match(line)) >= 2


def _after_a_version(ex: Extraction) -> bool:
    """The bare size follows a version or a name with digits ("wizardlm 2 8x22b", "phi3 14b"), so it belongs to a
    model the catalog lacks; "beyond 70b", "which 14b-ish models" are sizes alone."""
    words = ex.tokens.words
    k = words.index(ex.bare_size) if ex.bare_size in words else 0
    return k > 0 and _VERSION.match(words[k - 1]) is not None


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
    if is_setup_log(text) or is_pasted_output(text):
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
    # what running or buying costs, even of two setups ("rent an a100 or buy a 4090, which is cheaper")
    if _COST_WORDS.search(low) and (about_a_setup or _COST_CONTEXT.search(low)):
        return Detected("cost", "cost against an API, or price per speed")
    if names_model and _HOW_MANY.search(low):
        return Detected("choose", "how many cards a model needs")
    # two setups side by side, whatever they are for ("2x 3090 vs 4090 for finetuning")
    sides = compare_sides(text, side_of) if _COMPARE_WORDS.search(low) else ()
    if len(sides) >= 2:
        return Detected("compare", "two or more setups side by side", use=use_of(low), sides=sides)
    if _FINETUNE.search(low) and (about_a_setup or _FIT_WORDS.search(low)):
        return Detected("finetune", "fine-tuning or training memory")
    serving = _SERVE.search(low) or (_SERVE_WEAK.search(low) and _SERVING_RUNTIME.search(low))
    if serving and (about_a_setup or _RUNTIME_WORDS.search(low)) and \
            (_RUNTIME_WORDS.search(low) or not _FINETUNE.search(low)):
        return Detected("serve", "serving several users or requests")
    if _MONEY.search(low) and (about_a_setup or _COST_CONTEXT.search(low)):
        return Detected("cost", "a budget: the setups that run it, ranked by price per speed")
    model = ex.fields.model
    # "is 7b the best i can do": a size alone is no particular model
    named_model = model is not None and ex.bare_size is None and not (model.note and "representative" in
                                                                      model.note.lower())
    # "wizardlm 2 8x22b": a sized model the catalog lacks is still one model, not a request for a ranking
    unknown_sized = model is None and ex.bare_size is not None and _after_a_version(ex)
    # "which deepseek coder v2 can i use": a family without a size asks which of its sizes runs there
    which_of_family = model is None and ex.family is not None and ex.bare_size is None and _WHICH.search(low)
    if states_hardware and not named_model and not unknown_sized and not _HOW_DO_I.search(low) and (
            _WHAT_CAN_I_RUN.search(low) or which_of_family or (asks and not names_model and use_of(low) is not None)):
        return Detected("what_can_i_run", "hardware and no model: which models run well there", use=use_of(low))
    if _OPINION.search(low) and not states_hardware and (names_model or ex.family or _MODEL_WORDS.search(low)):
        return Detected("unsupported", "an opinion on model quality", asked="opinion")
    return None
