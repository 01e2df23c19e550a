"""The route decision: sizing, knowledge or none, from rules over the text and the extracted fields. No LLM.

The rules look for a few kinds of evidence (a question, a reported problem, a pasted error, sizing words, the
domain's vocabulary, chit-chat, talk aimed at other people) and combine them in a fixed order. Confidence says how
clearly they agree; listen mode answers only routes at 0.6 or more, so weak guesses stay below it.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.catalog.load import Catalog, normalize
from bot.catalog.schema import Hardware
from bot.kb.load import KnowledgeBase
from bot.routing.extract import Extraction, FieldExtractor, Tokens
from bot.routing.followup import is_followup, merge
from bot.routing.intents import (
    NOT_BUILT,
    Detected,
    detect,
    is_pasted_output,
    names_image_model,
    pasted_log_route,
    use_of,
)
from bot.routing.schema import CompareSide, Route, SizingFields

LISTEN_THRESHOLD = 0.6
MAX_PHRASE_TOKENS = 5

# Words of the local-LLM domain that the knowledge base and catalogs do not spell out as names.
CURATED_TERMS = (
    "gpu", "gpus", "vram", "cuda", "rocm", "metal", "vulkan", "sycl", "quant", "quants", "quantized", "quantize",
    "quantization", "gguf", "ggml", "ollama", "llama.cpp", "llamacpp", "llama cpp", "vllm", "exllama", "lm studio",
    "lmstudio", "koboldcpp", "oobabooga", "text generation webui", "open webui", "llm", "llms", "kv cache", "offload",
    "offloading", "ngl", "n_gpu_layers", "nvidia", "amd", "radeon", "geforce", "nvidia smi", "driver", "drivers",
    "safetensors", "hugging face", "huggingface", "lora", "moe", "flash attention", "awq", "gptq", "exl2", "mlx",
    "pytorch", "torch", "transformers", "tokenizer", "chat template", "system prompt", "sampler", "temperature",
    "tok s", "t s", "tokens per second", "context length", "context window", "inference", "fine tune", "finetune",
    "embedding", "embeddings", "rag", "wsl", "wsl2", "docker", "cublas", "hipblas", "openai api", "api", "modelfile",
    "weights", "checkpoint", "perplexity", "imatrix", "speculative decoding", "tensor parallel", "mmap", "mlock",
)
# common words that carry the domain only together with others
WEAK_TERMS = frozenset(normalize(w) for w in (
    "model", "models", "prompt", "server", "python", "download", "install", "port", "linux", "windows", "mac",
    "ram", "memory", "cpu", "token", "tokens", "context", "speed", "layers", "api", "weights", "docker", "driver",
    "drivers", "temperature", "inference", "checkpoint", "amd", "nvidia", "embedding", "embeddings", "metal",
))

_QUESTION_START = re.compile(
    r"^(?:(?:please|pls|plz) )?(?:just )?"
    r"(what|what's|whats|how|how's|why|which|when|where|who|is|are|am|can|could|will|would|does|do|did|should|shall|"
    r"has|have|any|anyone|anybody|is there|explain|eli5|tell me|difference|wat)\b")
_QUESTION_PHRASE = re.compile(
    r"\b(can i|could i|can it|will it|would it|does it|do i need|should i|is it possible|possible to|how do i|"
    r"how can i|how to|anyone know|any idea|any ideas|anybody know|does anyone|wondering|help|explain|what is|"
    r"what's|what are|what does|difference between|meaning of|is there a way|enough for|enough to|how much|"
    r"how fast|how many)\b")
_PROBLEM = re.compile(
    r"\b(doesn'?t|does not|don'?t|won'?t|isn'?t|is not|aren'?t|can'?t|cannot|not (?:working|detected|found|using|"
    r"loading|recognized|recognised|seeing|showing|supported|enough)|keeps?|kept|stuck|hangs?|hanging|freez\w*|"
    r"crash\w*|fails?|failed|failing|errors?|broken|garbage|gibberish|repeats?|repeating|oom|out of memory|slow|"
    r"slower|refused|denied|missing|unsupported|unable|wrong|weird|unloads?|unloading|ignores?|ignoring|only uses|"
    r"not use|falls back|fallback|even though|segfaults?|killed|aborted|returns? (?:false|none|nothing|null|0)|"
    r"how do i fix)\b")
# Every pattern here runs on whatever people paste (logs of thousands of lines), so none may backtrack over the
# text: a line's leading blanks are [^\S\n]* (\s* also took the blank lines before it, and retried them from each
# one), "<word>error:" is found from "error" (\b\w* before it retried every word start), and "not found ... libX.so"
# on one line is checked by _library_not_found (.* retried the rest of the line from each "not found").
_ERROR_PASTE = re.compile(
    r"(traceback \(most recent call last\)|^[^\S\n]*file \".+\", line \d+|(error|exception)\s*:|\bcuda error\b|"
    r"exit (code|status) -?\d+|\bfailed to\b|\bsegmentation fault\b|\bcore dumped\b|\bassert(ion)? failed\b|"
    r"^[^\S\n]*at [\w.$]+\(|^[^\S\n]*(error|fatal|warning)\b|\berrno\b|\bcudamalloc\b|\bout of memory\b|"
    r"\billegal instruction\b|\blib\w+\.so(\.\d+)*\b|\bhsa_status\w*|\bhiperror\w*)",
    re.IGNORECASE | re.MULTILINE)
_NOT_FOUND = re.compile(r"\bnot found\b", re.IGNORECASE)
_LIBRARY = re.compile(r"\b(lib\w*\.so|dll)\b", re.IGNORECASE)
_SIZING_WORDS = re.compile(
    r"\b(fit|fits|fitting|run|runs|running|load|handle|(?<!good )(?<!smart )(?<!fast )enough|vram|how fast|tok/s|"
    r"tokens?/s|t/s|tps|tokens per second|"
    r"can i|will it|would it|do i need|speed|offload|how much (?:vram|ram|memory)|usable|possible|work on|works on|"
    r"ooms?)\b")
# a question about a concept, even when it names a model: "what's the relationship between kv cache and ...",
# "what is mixture of experts and why does ..."
_CONCEPT = re.compile(r"^(?:what(?:'s| is| are) (?:the )?(?:relationship|relation|difference|point|meaning|idea)\b|"
                      r"what(?:'s| is) (?:an? )?[a-z -]{3,40}? and (?:why|how)\b|explain\b|eli5\b)")
_HARDWARE_NEED = re.compile(
    r"\b(what|which|how much|how many|minimum|min|recommended|best|cheapest)\b[\w\s'/-]{0,30}?\b(gpu|gpus|card|cards|"
    r"graphics|mac|macbook|hardware|vram|ram|memory|setup|rig|pc|computer|machine|specs?)\b|\b(gpu|vram|hardware|"
    r"specs?|setup|rig|ram|memory)\b\s+(?:(?:do i|would i|will i|i|to|you|does one)\s*)?(?:need|needed|required|"
    r"requirements?)\b|"
    r"\b(system )?requirements\b")
_CHIT_CHAT = re.compile(
    r"^(thanks?|thank you|thx|tysm|ty|lol|lmao|lmfao|rofl|haha\w*|hehe\w*|gm|gn|good (?:morning|night|evening)|hi|"
    r"hello|hey|yo|sup|nice|cool|wow|rip|same|based|gg|wp|welcome|congrats|np|no problem|ok|okay|k|kk|yeah|yep|yup|"
    r"nope|nah|true|agreed|fair|this|omg|bruh|damn|love it|awesome|great|sweet|brb|afk|ikr|xd|:\)|f)\b")
_TO_HUMANS = re.compile(
    r"\b(you guys|u guys|y'?all|everyone|every1|anyone (?:up|down|wanna|want|free|else|here|tried|using|running|got|"
    r"have|own|playing|watching|seen|going)|anybody (?:up|down|wanna|want|else|here|tried|using|running)|"
    r"who (?:else|here|wants|is up)|what do you (?:all |guys )?think|your (?:favou?rite|thoughts|opinion|setup|rig)|"
    r"what are you (?:all |guys )?(?:running|using)|what's everyone|whats everyone|@\w+|"
    r"\b(?:selling|for sale|wts|wtb|buying used)\b|anyone (?!know|knows)\w+ing\b)")
_STATEMENT = re.compile(
    r"^(i|i'm|im|i've|ive|just|finally|got|my|we|been|today|yesterday|tonight|gonna|this|that|it's|its|so|lol|"
    r"welp|well|man|dude|guess what|running|currently|using|tried|testing|getting)\b|"
    r"\b(is|are|was) (?:so|really|pretty|super|insanely|actually|kinda) \w+|"
    r"\b(bought|ordered|picked up|upgraded|switched|installed|love|loving|hate|impressed|works? (?:great|fine|well))\b")
_MAC_STUDIO = re.compile(r"\bmac ?studio\b")
_CUE_WITHOUT_PREVIOUS = re.compile(r"^\s*(what about|how about|and|with|or|same|instead)\b", re.IGNORECASE)
_ASKS_FOR_HELP = re.compile(r"\b(know|how do|how to|help|work|working|fix|fixed|solve|solved)\b")
_ASKS_WITHOUT_MARK = re.compile(r"\b(at what point|at what|which wins|which one|worth it|how come)\b")
_WHY = re.compile(r"\b(why|how come)\b")


@dataclass(frozen=True)
class Signals:
    question: bool
    problem: bool
    error_paste: bool
    sizing_words: bool
    hardware_need: bool
    chit_chat: bool
    to_humans: bool
    statement: bool
    why: bool
    domain_strong: int
    domain_weak: int

    @property
    def domain(self) -> bool:
        return self.domain_strong > 0 or self.domain_weak >= 2


class DomainVocabulary:
    """Phrases that make a message about local LLMs: knowledge-base titles and aliases, catalog names, a curated
    list. Matched on token windows, like the catalog names."""

    def __init__(self, phrases: Iterable[str]):
        self.keys = frozenset(k for k in (normalize(p) for p in phrases) if len(k) >= 2)

    @classmethod
    def build(cls, catalog: Catalog, knowledge_phrases: Iterable[str] = ()) -> DomainVocabulary:
        phrases = [*CURATED_TERMS, *WEAK_TERMS, *knowledge_phrases]
        for model in catalog.models:
            phrases += [model.id, model.name, *model.aliases, model.family]
        for hw in catalog.hardware:
            phrases += [hw.id, hw.name, *[a for a in hw.aliases if len(normalize(a)) >= 4]]
        for ft in catalog.quants.file_types:
            phrases += [ft.name, *ft.aliases]
        return cls(phrases)

    def hits(self, tokens: Tokens) -> tuple[int, int]:
        """(strong, weak) phrases found; a phrase inside a longer found one is not counted again."""
        strong = weak = 0
        i = 0
        while i < len(tokens):
            found = 0
            for j in range(min(len(tokens), i + MAX_PHRASE_TOKENS), i, -1):
                if tokens.key(i, j) in self.keys:
                    found = j
                    break
            if found:
                if found - i == 1 and tokens.keys[i] in WEAK_TERMS:
                    weak += 1
                else:
                    strong += 1
                i = found
            else:
                i += 1
        return strong, weak


def knowledge_phrases(kb: KnowledgeBase) -> list[str]:
    """Titles (split at '/', parentheses and commas), ids and aliases of the knowledge base's entries."""
    phrases: list[str] = []
    for entry in kb.entries.values():
        phrases.append(entry.id.replace("-", " "))
        phrases += [p.strip() for p in re.split(r"[/(),:]| or | and ", entry.title) if p.strip()]
        phrases += entry.meta.aliases
    return phrases


def is_error_paste(text: str) -> bool:
    """A pasted error message, traceback or log line."""
    return bool(_ERROR_PASTE.search(text)) or _library_not_found(text)


def _library_not_found(text: str) -> bool:
    """'not found' followed on the same line by a shared library (libcudart.so, cublas64_12.dll)."""
    checked_to = -1
    for found in _NOT_FOUND.finditer(text):
        if found.start() < checked_to:
            continue                      # this line was searched from an earlier "not found"
        end = text.find("\n", found.end())
        checked_to = len(text) if end < 0 else end
        if _LIBRARY.search(text, found.end(), checked_to):
            return True
    return False


def read_signals(text: str, tokens: Tokens, vocabulary: DomainVocabulary) -> Signals:
    low = text.lower().strip()
    clauses = [c.strip() for c in re.split(r"[.!;,\n]+", low) if c.strip()]
    strong, weak = vocabulary.hits(tokens)
    return Signals(
        question="?" in low or any(_QUESTION_START.match(c) for c in clauses) or bool(_QUESTION_PHRASE.search(low)),
        problem=bool(_PROBLEM.search(low)),
        error_paste=is_error_paste(text),
        sizing_words=bool(_SIZING_WORDS.search(low)),
        hardware_need=bool(_HARDWARE_NEED.search(low)),
        chit_chat=bool(_CHIT_CHAT.match(low)) and len(tokens) <= 8,
        to_humans=bool(_TO_HUMANS.search(low)),
        statement=bool(_STATEMENT.search(low)),
        why=bool(_WHY.search(low)),
        domain_strong=strong,
        domain_weak=weak,
    )


class Router:
    """Every message goes through `route`; deterministic, about a millisecond, catalog indexes built once."""

    def __init__(self, catalog: Catalog, vocabulary: DomainVocabulary,
                 knowledge_score: Callable[[str], float] | None = None):
        """`vocabulary`: the domain's phrases (DomainVocabulary.build over the catalog and the knowledge base);
        `knowledge_score`: how well the knowledge base covers a text, 0..1, asked only to break ties."""
        self.extractor = FieldExtractor(catalog)
        self.vocabulary = vocabulary
        self.knowledge_score = knowledge_score

    def route(self, text: str, previous: SizingFields | None = None) -> Route:
        route = self._route(text, previous)
        route.text = text
        return route

    def _route(self, text: str, previous: SizingFields | None) -> Route:
        if not text.strip():
            return Route(route="none", confidence=1.0, reason="empty message")
        if (log := pasted_log_route(text)) is not None:    # before extraction: an attached log may be a megabyte
            return log
        ex = self.extractor.extract(text)
        sig = read_signals(text, ex.tokens, self.vocabulary)
        if previous is not None and not sig.error_paste:
            use = use_of(text.lower())
            # what only some kinds read still makes a follow-up to them: "and for coding?", "what about sdxl?"
            other = (use is not None and previous.kind in ("what_can_i_run", "compare")) or \
                (previous.kind == "image" and names_image_model(text.lower()))
            if is_followup(text, ex, names_other=other):
                fields = merge(previous, ex.fields, self.extractor.shares_memory)
                # "and to qlora it?" after a sizing answer: the same setup, asked as another calculator
                asked = detect(text, ex, self.side_of, fields.model is not None, fields.gpu is not None, True)
                if asked is not None and asked.kind in CALCULATOR_KINDS and asked.kind != fields.kind:
                    fields = fields.model_copy(update={"kind": asked.kind})
                return _followup_route(fields, use)
        return self._decide(text, ex, sig)

    def side_of(self, text: str) -> CompareSide | None:
        """The one setup a fragment of a comparison names ("2x 3090", "m2 ultra 192gb"), or None."""
        f = self.extractor.extract(text).fields
        if f.gpu is None and _MAC_STUDIO.search(text.lower()):
            return CompareSide(id=self.mac_studio().id)
        if f.gpu is None or f.gpu.id is None:
            return None
        memory = f.gpu.memory_gb if self.extractor.shares_memory(f.gpu.id) else None
        return CompareSide(id=f.gpu.id, count=f.gpus or 1, memory_gb=memory)

    def mac_studio(self) -> Hardware:
        """'a mac studio' with no chip named, in a comparison: the chip with the most memory the newest Mac Studio
        is sold with, which is the one people weigh against a multi-GPU rig."""
        studios = [h for h in self.extractor.catalog.hardware
                   if any(normalize(a).startswith("macstudio") for a in h.aliases)]
        return max(studios, key=lambda h: (h.release_year or 0, max(h.memory_options_gb or [h.memory_gb])))

    def _decide(self, text: str, ex: Extraction, sig: Signals) -> Route:
        f = ex.fields
        names_model = f.model is not None or f.unknown_model is not None
        states_hardware = f.gpu is not None or f.gpus is not None or f.cpu_only or f.ram_gb is not None
        # "got CUDA out of memory with llama 3.1 70b on my 3090, will q3 fit?" still asks for a number
        short_sizing_question = names_model and states_hardware and sig.question and len(ex.tokens) <= 30
        if sig.error_paste and not short_sizing_question:
            return Route(route="knowledge", confidence=0.9, reason="pasted error or log")
        if sig.chit_chat and not (names_model or sig.question):
            return Route(route="none", confidence=0.95, reason="chit-chat")
        asks = sig.question or sig.problem or bool(_ASKS_WITHOUT_MARK.search(text.lower()))
        if asks or not sig.statement:
            detected = detect(text, ex, self.side_of, names_model, states_hardware, asks)
            # talk aimed at people ("in your opinion") is left alone unless the bot would only decline it
            if detected is not None and (not sig.to_humans or detected.kind == "unsupported"):
                return _route_of(detected, f)

        sizing = self._sizing(text, ex, sig, names_model, states_hardware)
        if sizing is not None:
            return sizing
        if is_pasted_output(text) and sig.domain:
            return Route(route="knowledge", confidence=0.6, reason="pasted tool output, read for what it shows")
        if _CUE_WITHOUT_PREVIOUS.match(text) and (f.states_anything() or names_model) and len(ex.tokens) <= 10:
            return Route(route="none", confidence=0.5, reason="a follow-up with no previous question to follow")
        if names_model and not sig.question and not sig.problem:
            return Route(route="none", confidence=0.8 if sig.statement else 0.6,
                         reason="mentions a model but asks nothing")
        if sig.to_humans and not sig.problem and not _ASKS_FOR_HELP.search(text.lower()):
            return Route(route="none", confidence=0.8 if not sig.domain else 0.65, reason="talk aimed at people")
        return self._knowledge_or_none(text, sig)

    @staticmethod
    def _sizing(text: str, ex: Extraction, sig: Signals, names_model: bool, states_hardware: bool) -> Route | None:
        f = ex.fields
        if not names_model:
            return None
        resolved = f.model is not None
        sure = 0.95 if resolved else 0.7
        if _CONCEPT.match(text.lower().strip()):
            return None
        if sig.problem and ex.bare_size is not None and resolved and not sig.hardware_need:
            return None  # "7B model keeps going OOM on my 3090": a behaviour to explain, the model only a size
        if sig.hardware_need and (sig.question or sig.sizing_words):
            return Route(route="sizing", confidence=sure, sizing=f, reason="asks what hardware a model needs")
        if sig.why and sig.problem:
            return None  # "why is X so slow on my card": an explanation, not a number
        if sig.to_humans and not (sig.sizing_words and sig.question):
            return None
        if states_hardware and sig.question:
            return Route(route="sizing", confidence=sure, sizing=f, reason="model and hardware with a question")
        if sig.sizing_words and sig.question:
            return Route(route="sizing", confidence=sure - 0.1, sizing=f,
                         reason="model with run/fit/speed words, no hardware named")
        if states_hardware and not sig.statement and _terse(ex):
            return Route(route="sizing", confidence=0.7 if resolved else 0.6, sizing=f,
                         reason="model and hardware with nothing else said")
        return None

    def _knowledge_or_none(self, text: str, sig: Signals) -> Route:
        asks = sig.question or sig.problem
        # the retrieval's score costs a search: asked for only where a decision needs it
        _score: list[float | None] = []

        def score() -> float | None:
            if not _score:
                _score.append(self.knowledge_score(text) if self.knowledge_score is not None else None)
            return _score[0]

        if asks and sig.domain_strong:
            return Route(route="knowledge", confidence=0.9 if sig.question and sig.problem else 0.85,
                         reason="question or problem in the domain")
        if asks and sig.domain:
            return Route(route="knowledge", confidence=0.65, reason="question with common domain words")
        # ambiguous from here on: the retrieval's score may break the tie
        if asks and sig.domain_weak:
            if sig.question and sig.problem:
                return Route(route="knowledge", confidence=0.65,
                             reason="asks about a problem with a common domain word")
            if (s := score()) is not None and s >= 0.5:
                return Route(route="knowledge", confidence=0.6, reason="weak domain question; retrieval agrees")
            return Route(route="knowledge", confidence=0.5, reason="question with one common domain word")
        if sig.domain and not asks:
            if not sig.statement and (s := score()) is not None and s >= 0.7:
                return Route(route="knowledge", confidence=0.55, reason="domain words, no question; retrieval likes it")
            return Route(route="none", confidence=0.6, reason="domain words but no question")
        if asks and (s := score()) is not None and s >= 0.6:
            return Route(route="knowledge", confidence=0.6, reason="question outside the vocabulary; retrieval agrees")
        return Route(route="none", confidence=0.85 if not asks else 0.7, reason="nothing for the bot")


def _route_of(detected: Detected, fields: SizingFields) -> Route:
    """A kind the rules recognized. Kinds without a calculator yet answer `unsupported`, naming what was asked;
    unsupported questions route as `none`, so listening channels stay quiet about them. The fields remember the kind
    (and its use and sides), so that a follow-up re-runs it with one thing changed."""
    kind, asked = detected.kind, detected.asked
    if kind in NOT_BUILT:
        kind, asked = "unsupported", detected.kind
    route = "none" if kind == "unsupported" else "sizing"
    fields = fields.model_copy(update={"kind": kind, "use": detected.use, "sides": list(detected.sides)})
    return Route(route=route, confidence=0.8, sizing=fields, reason=detected.reason, intent=kind, asked=asked,
                 use=detected.use, sides=list(detected.sides))


# kinds whose follow-ups are answered as the same kind again; sizing, choose and clarify follow from the fields
CALCULATOR_KINDS = frozenset({"finetune", "serve", "image", "cost"})
RERUN_KINDS = frozenset({"what_can_i_run", "compare"}) | CALCULATOR_KINDS


def _followup_route(fields: SizingFields, use: str | None) -> Route:
    """The previous question with the stated fields changed, answered as the kind it was."""
    reason = "follow-up: previous question with the stated fields changed"
    if fields.kind not in RERUN_KINDS:
        return Route(route="sizing", confidence=0.85, sizing=fields.model_copy(update={"kind": None}), reason=reason)
    if use is not None:
        fields = fields.model_copy(update={"use": use})
    return Route(route="sizing", confidence=0.85, sizing=fields, reason=reason, intent=fields.kind, use=fields.use,
                 sides=list(fields.sides))


_FILLER = frozenset({"on", "a", "an", "at", "with", "in", "for", "my", "the", "and", "x", "of", "using", "via",
                     "quant", "ctx", "context", "dual", "two", "three", "four", "quad", "pair"})


def _terse(ex: Extraction) -> bool:
    """A message that is little more than a model and hardware: 'llama 3.1 70b on 2x 3090 at q4'."""
    rest = [w for k, w in enumerate(ex.tokens.words) if k not in ex.claimed and w not in _FILLER
            and not re.fullmatch(r"\d{1,2}x|x\d{1,2}|\d{1,2}", w)]
    return len(rest) <= 2
