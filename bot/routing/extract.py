"""Sizing facts from free text: model, GPU (and how many), quantization, context and RAM, as people type them.

Names are matched on token windows: every window of the message is normalized the way the catalog normalizes its
names ("Llama-3.1 70B" and "llama3.1:70b" both become "llama3.170b") and looked up; the longest window wins. The
catalog indexes are built once, so one message costs a few hundred dictionary lookups.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.catalog.load import Catalog, normalize
from bot.catalog.schema import Hardware, Model
from bot.resolve.models import ModelNames, size_only
from bot.routing.calc_fields import calc_fields
from bot.routing.schema import GpuRef, ModelRef, SizingFields
from bot.sizing.schema import MAX_GPUS

MAX_NAME_TOKENS = 7
MAX_TOKENS = 160  # a pasted log can be long; names come early in a real question

_TOKEN = re.compile(r"[a-z0-9](?:[a-z0-9.]|\+(?![a-z0-9]))*")
_FILE_SUFFIX = re.compile(r"\.(gguf|bin|safetensors)$")
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)(gb|gib|gigs?|g|go)$")   # "32go": French
_MEMORY_UNIT = {"gb", "gib", "gig", "gigs", "g", "gigabytes", "gigabyte"}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?|\d+x\d+)([bm])$")
_SIZE_IN_NAME = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?|\d+x\d+)([bm])\b")
_COUNT_BEFORE = re.compile(r"^(\d{1,2})x$")
_COUNT_AFTER = re.compile(r"^x(\d{1,2})$")
# words after which a size names no family ("a 70b model", "run 13b", "any 30b")
SIZE_ONLY_BEFORE = {"a", "an", "any", "some", "the", "my", "run", "running", "fit", "load", "on", "with", "for", "is",
                    "are", "of", "every", "typical", "dense", "moe", "about", "around", "those", "these", "bigger",
                    "smaller", "than", "like", "to"}
LAPTOP_WORDS = {"laptop", "mobile", "notebook"}
# a family name that is the start of a tool's name ("llama server", "llama factory"), not a model
TOOL_SUFFIXES = {"server", "cpp", "factory", "swap", "bench", "cli"}
# a Mac named without its chip ("16gb mac", "mac studio with 128gb"): the newest chip sold with that memory
MAC_WORDS = {"mac": None, "macbook": None, "imac": None, "mbp": None, "mba": None, "studio": "mac",
             "mini": "mac"}
_GLUED_COUNT_BEFORE = re.compile(r"^(\d{1,2})x([a-z]*\d{2,}[a-z]*)$")   # "2x3090"
_GLUED_COUNT_AFTER = re.compile(r"^([a-z]*\d{2,}[a-z]*)x(\d{1,2})$")    # "3090x2"
_THOUSANDS = re.compile(r"^(\d+(?:\.\d+)?)k$")
_INTEGER = re.compile(r"^\d+$")
_MONEY = re.compile(r"[$€£]\s?\d[\d.,]*k?")
_VARIABLE = re.compile(r"\b([a-z])\s*=\s*(\d{1,4})\b")

COUNT_WORDS = {"one": 1, "single": 1, "two": 2, "dual": 2, "twin": 2, "both": 2, "three": 3, "triple": 3,
               "four": 4, "quad": 4, "five": 5, "six": 6, "eight": 8}
# "4 bit" is what people say; the catalog names the file types people download at that width
BIT_WIDTHS = {"2bit": "Q2_K", "3bit": "Q3_K_M", "4bit": "Q4_K_M", "5bit": "Q5_K_M", "6bit": "Q6_K", "8bit": "Q8_0",
              "16bit": "F16"}
CONTEXT_CUES = {"ctx", "context", "tokens", "token", "ctxsize", "nctx", "numctx", "c"}
CONTEXT_LINKS = {"of", "length", "window", "size", "is", "at", "to", "len"}   # "context of 4096", "context length 8192"
NOT_CONTEXT = {"budget", "usd", "dollars", "dollar", "euro", "euros", "eur", "price", "salary", "views", "users",
               "subs", "followers", "steps", "downloads", "stars", "rpm", "monitor", "tv"}
RAM_WORDS = {"ram", "ddr3", "ddr4", "ddr5", "sysram"}
RAM_QUALIFIERS = {"system", "sys", "main", "cpu", "of", "ddr4", "ddr5", "ddr3", "ecc"}
VRAM_WORDS = {"vram", "gpu", "gpus", "card", "cards", "graphics", "video", "vga"}
CARD_QUALIFIERS = {"of", "nvidia", "amd", "intel", "radeon", "geforce", "gpu", "graphics", "video"}
KV_CACHE_WORDS = {"kv", "cache", "ctk", "ctv", "cachetype", "kvcache"}
_CPU_ONLY = re.compile(r"\b(cpu[\s-]*only|only\s+(?:a\s+|the\s+|my\s+)?cpu|no\s+(?:dedicated\s+|discrete\s+)?(?:gpu|"
                       r"graphics\s+card|video\s+card)|without\s+(?:a\s+)?gpu|on\s+(?:the\s+|my\s+)?cpu\b(?!\s*\+)|"
                       r"just\s+(?:a\s+|the\s+|my\s+)?cpu|cpu\s+inference)")
_COUNT_OF_THEM = re.compile(r"\b(\d{1,2}|one|two|three|four|five|six|eight|both)\s+(?:of\s+)?(?:them|those|these|"
                            r"cards|gpus)\b")


@dataclass(frozen=True)
class Tokens:
    """A message as lowercase tokens with their normalized keys; 'key(i, j)' is the key of tokens i..j-1."""

    words: list[str]
    keys: list[str]

    @classmethod
    def of(cls, text: str) -> Tokens:
        text = _with_variables(_MONEY.sub(" ", text.lower().replace("×", "x").replace("*", " x ")))
        text = text.replace("双", " dual ").replace("显存", " vram ")   # Chinese posts: "双 2080ti", "11G的显存"
        raw = _TOKEN.findall(text)[:MAX_TOKENS]
        words: list[str] = []
        for tok in raw:
            tok = _FILE_SUFFIX.sub("", tok).rstrip(".")
            if not tok:
                continue
            glued = _GLUED_COUNT_BEFORE.match(tok) or _GLUED_COUNT_AFTER.match(tok)
            if glued and not _SIZE.match(tok):
                a, b = glued.groups()
                words += [a + "x", b] if glued.re is _GLUED_COUNT_BEFORE else [a, "x" + b]
            elif tok in _MEMORY_UNIT and words and re.fullmatch(r"\d+(?:\.\d+)?", words[-1]):
                words[-1] += "gb"   # "16 gb" is one memory amount
            elif tok == "bit" and words and _INTEGER.match(words[-1]):
                words[-1] += "bit"  # "4 bit"
            else:
                words.append(tok)
        words = [_canonical_memory(w) for w in words]
        return cls(words, [normalize(w) for w in words])

    def key(self, i: int, j: int) -> str:
        return "".join(self.keys[i:j])

    def text(self, i: int, j: int) -> str:
        return " ".join(self.words[i:j])

    def __len__(self) -> int:
        return len(self.words)


def _with_variables(text: str) -> str:
    """'i have x gb of vram ... x = 24': a one-letter variable given a value is read as that value where it is a
    memory amount."""
    m = _VARIABLE.search(text)
    if m is None:
        return text
    return re.sub(rf"\b{m.group(1)}(?=\s?(?:gb|gigs?|go)\b)", m.group(2), text)


def _canonical_memory(word: str) -> str:
    m = _MEMORY.match(word)
    return f"{m.group(1)}gb" if m else word


def memory_of(word: str) -> float | None:
    m = _MEMORY.match(word)
    return float(m.group(1)) if m else None


def size_label(word: str) -> str | None:
    """'70b', '8x7b', '135m' (parameter counts as people write them), else None."""
    m = _SIZE.match(word)
    return m.group(0) if m else None


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    item: object


@dataclass
class CatalogNames:
    """The catalog's names as lookup tables keyed the way `normalize` keys text."""

    models: dict[str, Model] = field(default_factory=dict)
    families: dict[str, dict[str, Model]] = field(default_factory=dict)   # "llama3.1" -> {"70b": model}
    hardware: dict[str, Hardware] = field(default_factory=dict)
    hardware_prefixes: dict[str, list[Hardware]] = field(default_factory=dict)   # "a100" -> 40GB and 80GB cards
    quants: dict[str, str] = field(default_factory=dict)
    model_keys: list[str] = field(default_factory=list)
    sizes: dict[str, set[str]] = field(default_factory=dict)   # model id -> the sizes its names state

    @classmethod
    def of(cls, catalog: Catalog) -> CatalogNames:
        names = cls()
        for model in catalog.models:
            for name in (model.id, model.name, *model.aliases):
                names.models.setdefault(normalize(name), model)
                sizes = _SIZE_IN_NAME.findall(name.lower())
                if len(sizes) == 1:
                    label = "".join(sizes[0])
                    family = normalize(_SIZE_IN_NAME.sub(" ", name.lower(), count=1))
                    names.families.setdefault(family, {}).setdefault(label, model)
                    names.sizes.setdefault(model.id, set()).add(label)
        for model in catalog.models:
            names.families.setdefault(normalize(model.family), {})   # "deepseek", "qwen": a family, no size
        names.model_keys = list(names.models)
        for hw in catalog.hardware:
            for name in (hw.id, hw.name, *hw.aliases):
                names.hardware.setdefault(normalize(name), hw)
        for hw in catalog.hardware:
            if hw.kind == "cpu":
                continue
            for name in (hw.id, *hw.aliases):
                parts = [normalize(p) for p in re.split(r"[\s\-:]+", name) if normalize(p)]
                for n in range(1, len(parts)):
                    prefix = "".join(parts[:n])
                    if prefix not in names.hardware and re.search(r"\d", prefix):
                        bucket = names.hardware_prefixes.setdefault(prefix, [])
                        if hw not in bucket:
                            bucket.append(hw)
        for ft in catalog.quants.file_types:
            for name in (ft.name, *ft.aliases):
                names.quants.setdefault(normalize(name), ft.name)
        for width, name in BIT_WIDTHS.items():
            names.quants.setdefault(width, name)
            names.quants.setdefault(width + "s", name)
        return names

    def model_sizes(self, model: Model) -> set[str]:
        return self.sizes.get(model.id, set())


@dataclass
class Extraction:
    """The fields and what the rules need to know about where they came from."""

    fields: SizingFields
    tokens: Tokens
    model_span: tuple[int, int] | None = None
    gpu_span: tuple[int, int] | None = None
    bare_size: str | None = None          # "70b" with no model name around it
    family: str | None = None             # "llama 3": a model family without a size
    unknown_gpu: str | None = None        # "rtx 5095", "4090 ti super": a GPU the catalog does not have
    platform_memory: float | None = None  # memory written next to a CPU platform ("epyc genoa 384gb")
    claimed: set[int] = field(default_factory=set)   # tokens that named a field


# words that make another product of a card's number: "4090 ti super" is not an RTX 4090
VARIANT_WORDS = frozenset({"ti", "super", "xt", "xtx", "gre"})
GPU_BRANDS = frozenset({"rtx", "gtx", "rx", "arc", "radeon", "geforce", "quadro", "tesla"})
_BRAND_AND_NUMBER = re.compile(r"(?:rtx|gtx|rx)\d{3,4}[a-z]{0,5}")


def _unknown_gpu(t: Tokens, used: set[int], best: Match | None) -> str | None:
    """A GPU named the way GPUs are named that the catalog does not have ("rtx 5095", "4090 ti super"): said back
    with the closest names rather than sized as another card or dropped. `best`: the catalog name found, if any."""
    if best is not None:
        k = best.end
        while k < len(t) and k not in used and t.words[k] in VARIANT_WORDS:
            k += 1
        if k == best.end:
            return None
        start = best.start - 1 if best.start > 0 and t.words[best.start - 1] in GPU_BRANDS else best.start
        return " ".join(t.words[start:k])
    for k, w in enumerate(t.words):
        if k in used:
            continue
        if _BRAND_AND_NUMBER.fullmatch(w):
            return w
        if w in GPU_BRANDS and k + 1 < len(t) and k + 1 not in used and re.fullmatch(r"[a-z]?\d{3,5}[a-z]{0,3}",
                                                                                   t.words[k + 1]):
            return f"{w} {t.words[k + 1]}"
    return None


class FieldExtractor:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.names = CatalogNames.of(catalog)
        self.model_names = ModelNames.of(catalog)

    def extract(self, text: str) -> Extraction:
        tokens = Tokens.of(text)
        out = Extraction(SizingFields(), tokens)
        used: set[int] = set()
        model = self._model(tokens, out)
        if out.model_span:
            used.update(range(*out.model_span))
        gpu, gpus = self._gpu(tokens, used, out)
        if out.gpu_span:
            used.update(range(*out.gpu_span))
        quant = self._quant(tokens, used)
        context = self._context(tokens, used)
        out.claimed = used
        cpu_only = gpu is None and bool(_CPU_ONLY.search(text.lower()))
        ram = self._ram(tokens, used, cpu_only)
        if gpu is not None and gpu.id is not None:
            kind = self.catalog.gpu(gpu.id).kind
            if kind == "unified" and ram is not None:
                gpu, ram = GpuRef(id=gpu.id, memory_gb=ram), None   # a Mac's RAM is its unified memory
            elif kind == "cpu":
                # a CPU platform runs in system RAM: one amount, said either way
                ram = ram if ram is not None else out.platform_memory
                gpu = GpuRef(id=gpu.id, memory_gb=ram if ram is not None else gpu.memory_gb)
        if gpus is None:
            m = _COUNT_OF_THEM.search(" ".join(tokens.words))
            if m:
                gpus = _count_of(m.group(1))
        out.fields = SizingFields(model=model, gpu=gpu, gpus=gpus, quant=quant, context=context, ram_gb=ram,
                                  cpu_only=cpu_only, unknown_model=out.bare_size or out.family,
                                  unknown_gpu=out.unknown_gpu if gpu is None else None,
                                  calc=calc_fields(text))
        return out

    def shares_memory(self, hardware_id: str) -> bool:
        """Macs and Strix Halo: their RAM is the GPU's memory, sold in a few sizes."""
        return self.catalog.gpu(hardware_id).kind == "unified"

    # -- model --------------------------------------------------------------------------------------------------
    def _model(self, t: Tokens, out: Extraction) -> ModelRef | None:
        exact: list[Match] = []
        families: list[Match] = []
        for i in range(len(t)):
            for j in range(i + 1, min(len(t), i + MAX_NAME_TOKENS) + 1):
                key = t.key(i, j)
                if key in self.names.models:
                    exact.append(Match(i, j, self.names.models[key]))
                if key in self.names.families and _is_family_name(key) and \
                        (j == len(t) or t.words[j] not in TOOL_SUFFIXES):
                    families.append(Match(i, j, key))
        best = _longest(exact, t)
        if best is not None:
            model, end = self._agree_on_size(best, t, out)
            if model is not None:
                out.model_span = (best.start, end)
                return ModelRef(id=model.id, params_b=model.params_b)
            return None
        family = _longest(families, t)
        if family is not None:
            label, end = self._size_after(t, family.end)
            if label is not None:
                model = self.names.families[family.item].get(label)
                if model is not None:
                    out.model_span = (family.start, end)
                    return ModelRef(id=model.id, params_b=model.params_b)
                out.family = t.text(family.start, end)
                return None
        fuzzy = self._fuzzy_model(t)
        if fuzzy is not None:
            out.model_span = (fuzzy.start, fuzzy.end)
            return ModelRef(id=fuzzy.item.id, params_b=fuzzy.item.params_b)
        if family is not None:
            out.family = t.text(family.start, family.end)
            return None
        for k, w in enumerate(t.words):
            label = size_label(w)
            if label and not label.endswith("m"):
                out.bare_size = label
                if k and t.words[k - 1] not in SIZE_ONLY_BEFORE:
                    break           # "qwen 32b", "llama 3.1 13b": a family with a size it lacks, not a bare size
                moe = t.words[k + 1:k + 2] if k + 1 < len(t) and t.words[k + 1].startswith("a") else []
                typical = size_only([label, *moe, *(["moe"] if "moe" in t.words else [])], self.model_names)
                if typical is not None:     # "a 70b model": a representative architecture, the assumption stated
                    model, _, notes = typical
                    out.model_span = (k, k + 1 + len(moe))
                    return ModelRef(id=model.id, params_b=model.params_b, note=notes[0])
                break
        return None

    def _agree_on_size(self, best: Match, t: Tokens, out: Extraction) -> tuple[Model | None, int]:
        """A name without a size ('qwen2.5' is the 7B to Ollama) gives way to a size written right after it;
        returns the model (None when that size does not exist) and where its name ends."""
        model: Model = best.item
        if any(size_label(w) for w in t.words[best.start:best.end]):
            return model, best.end
        label, end = self._size_after(t, best.end)
        if label is None:
            return model, best.end
        if label in self.names.model_sizes(model):
            return model, end
        family = self.names.families.get(t.key(best.start, best.end), {})
        if label in family:
            return family[label], end
        out.family = t.text(best.start, end)
        return None, end

    @staticmethod
    def _size_after(t: Tokens, end: int, reach: int = 3) -> tuple[str | None, int]:
        for k in range(end, min(len(t), end + reach)):
            label = size_label(t.words[k])
            if label:
                return label, k + 1
        return None, end

    def _fuzzy_model(self, t: Tokens) -> Match | None:
        """Typos ('lamma 3.1 70b'): a close name with the same size and the same numbers, for windows ending at a
        size; a changed digit is another model ('qwen 32b' is not 'qwen3 32b')."""
        found: Match | None = None
        best_score = 0.0
        for k, w in enumerate(t.words):
            label = size_label(w)
            if not label:
                continue
            for i in range(max(0, k - 5), k):
                key = t.key(i, k + 1)
                if len(key) < 6:
                    continue
                for name, score, _ in process.extract(key, self.names.model_keys, scorer=fuzz.ratio,
                                                      score_cutoff=86, limit=3):
                    if score > best_score and name.endswith(normalize(label)) and _digits(name) == _digits(key):
                        best_score = score
                        found = Match(i, k + 1, self.names.models[name])
        return found

    # -- hardware -------------------------------------------------------------------------------------------------
    def _gpu(self, t: Tokens, used: set[int], out: Extraction) -> tuple[GpuRef | None, int | None]:
        found: list[Match] = []
        for i in range(len(t)):
            for j in range(i + 1, min(len(t), i + MAX_NAME_TOKENS) + 1):
                if j - 1 in used:
                    break
                key = t.key(i, j)
                hw = self._hardware_named(key)
                if hw is not None:
                    found.append(Match(i, j, [hw]))
                elif key in self.names.hardware_prefixes:
                    found.append(Match(i, j, self.names.hardware_prefixes[key]))
        best = _longest(found, t)
        memory = self._memory_near(t, used, best.end if best else None)
        if best is None:
            mac = self._mac_by_memory(t, used, memory)
            if mac is not None:
                hw, k = mac
                out.gpu_span = (k, k + 1)
                return GpuRef(id=hw.id, memory_gb=memory[0]), None
            bare = self._bare_card(t, used)
            if bare is None:
                out.unknown_gpu = _unknown_gpu(t, used, None)
                return None, self._count_words(t, used)
            size, at = bare
            return GpuRef(id=None, memory_gb=size), _count_before(t, at)
        unknown = _unknown_gpu(t, used, best)
        if unknown is not None:
            out.unknown_gpu = unknown
            return None, _count_before(t, best.start)
        out.gpu_span = (best.start, best.end)
        candidates: list[Hardware] = best.item
        laptop = self._laptop_variant(t, best)
        if laptop is not None:
            candidates = [laptop]
        bare = _bare_number_after(t, best.end, candidates)
        if bare is not None and memory is None:
            memory = (bare, best.end)                       # "a100-40": the 40 GB one
        hw = _pick_variant(candidates, memory)
        gpus = _count_before(t, best.start) or _count_after(t, best.end)
        memory_gb = hw.memory_gb
        if hw.kind != "gpu" and memory is not None and (memory[0] >= 8 or memory[0] in hw.memory_options_gb):
            memory_gb = memory[0]
            out.gpu_span = (best.start, max(best.end, memory[1] + 1))
            if hw.kind == "cpu":
                out.platform_memory = memory[0]
        elif hw.kind == "gpu" and memory is not None and memory[1] == best.end and memory[0] == hw.memory_gb:
            out.gpu_span = (best.start, best.end + 1)   # "a 3090 24gb": the card's own size
        elif hw.kind == "gpu" and memory is not None and memory[0] > hw.memory_gb and _modded(t, best, memory[1]):
            memory_gb = memory[0]                       # "4090 48gb", "2080ti 22g": a card modded with more memory
            out.gpu_span = (best.start, max(best.end, memory[1] + 1))
        return GpuRef(id=hw.id, memory_gb=memory_gb), gpus

    def _laptop_variant(self, t: Tokens, best: Match) -> Hardware | None:
        """'laptop rtx5090', 'rtx 5090 laptop 24gb' name the laptop part, which has less memory."""
        near = set(t.words[max(0, best.start - 2):best.start]) | set(t.words[best.end:best.end + 1])
        if not near & LAPTOP_WORDS:
            return None
        hw = self._hardware_named(t.key(best.start, best.end) + "laptop")
        return hw if hw is not None and hw.kind == "gpu" else None

    def _mac_by_memory(self, t: Tokens, used: set[int],
                       memory: tuple[float, int] | None) -> tuple[Hardware, int] | None:
        if memory is None:
            return None
        for k, w in enumerate(t.words):
            if k in used or w not in MAC_WORDS or (MAC_WORDS[w] and (k == 0 or t.words[k - 1] != MAC_WORDS[w])):
                continue
            chips = [h for h in self.catalog.hardware if h.vendor == "apple" and memory[0] in h.memory_options_gb]
            if chips:
                return max(chips, key=lambda h: (h.release_year or 0, -h.memory_gb)), k
        return None

    def _hardware_named(self, key: str) -> Hardware | None:
        hw = self.names.hardware.get(key)
        if hw is None and key.endswith("s") and (re.search(r"\d", key) or len(key) >= 6):
            hw = self.names.hardware.get(key[:-1])  # "3090s"
        return hw

    @staticmethod
    def _memory_near(t: Tokens, used: set[int], end: int | None) -> tuple[float, int] | None:
        """The memory amount that belongs to a named device: right after it, else the first unclaimed one."""
        if end is not None and end < len(t) and memory_of(t.words[end]) is not None:
            return memory_of(t.words[end]), end
        for k, w in enumerate(t.words):
            if k not in used and memory_of(w) is not None:
                return memory_of(w), k
        return None

    @staticmethod
    def _bare_card(t: Tokens, used: set[int]) -> tuple[float, int] | None:
        """'my 12gb card', '16gb of vram', 'vram: 8gb', 'is 24gb enough', 'fit on 12gb'."""
        for k, w in enumerate(t.words):
            size = memory_of(w)
            if size is None or k in used:
                continue
            nxt = t.words[k + 1] if k + 1 < len(t) else ""
            said_of_ram = nxt in RAM_WORDS or nxt in {"memory", "unified"}
            if not said_of_ram and (nxt == "enough" or _follows(t, k, {"on", "in", "into"})):
                return size, k
            after = k + 1
            while after < len(t) and t.words[after] in CARD_QUALIFIERS and t.words[after] not in VRAM_WORDS:
                after += 1
            if after < len(t) and t.words[after] in VRAM_WORDS:
                return size, k
            if _follows(t, k, {"vram"}):
                return size, k
        return None

    @staticmethod
    def _count_words(t: Tokens, used: set[int]) -> int | None:
        """'2 gpus', 'two cards' with no card named."""
        for k in range(len(t) - 1):
            if k not in used and t.words[k + 1] in {"gpus", "cards"}:
                return _count_of(t.words[k])
        return None

    # -- quantization, context, RAM -------------------------------------------------------------------------------
    def _quant(self, t: Tokens, used: set[int]) -> str | None:
        found: list[Match] = []
        for i in range(len(t)):
            for j in range(i + 1, min(len(t), i + 4) + 1):
                if j - 1 in used:
                    break
                key = t.key(i, j)
                if key in self.names.quants and not _about_kv_cache(t, i, j):
                    found.append(Match(i, j, self.names.quants[key]))
        best = _longest(found, t)
        if best is None:
            return None
        used.update(range(best.start, best.end))
        return best.item

    @staticmethod
    def _context(t: Tokens, used: set[int]) -> int | None:
        for k, w in enumerate(t.words):
            if k in used:
                continue
            before = t.keys[k - 1] if k else ""
            after = t.keys[k + 1] if k + 1 < len(t) else ""
            m = _THOUSANDS.match(w)
            tokens = None
            if m and after not in NOT_CONTEXT:
                tokens = round(float(m.group(1)) * 1024)
            elif _INTEGER.match(w) and (after in CONTEXT_CUES or before in CONTEXT_CUES or
                                        before in CONTEXT_LINKS and k >= 2 and t.keys[k - 2] in CONTEXT_CUES):
                tokens = int(w)
            elif w == "1m" and after in CONTEXT_CUES:
                tokens = 1024 * 1024
            if tokens is not None and 256 <= tokens <= 10_000_000:
                used.update({k, k + 1} if after in CONTEXT_CUES else {k})
                return tokens
        return None

    @staticmethod
    def _ram(t: Tokens, used: set[int], cpu_only: bool) -> float | None:
        """'32gb ram', '64 gigs of system ram', 'ram: 32gb', 'cpu only with 64gb'."""
        first_free: float | None = None
        for k, w in enumerate(t.words):
            size = memory_of(w)
            if size is None or k in used:
                continue
            after = k + 1
            while after < len(t) and t.words[after] in RAM_QUALIFIERS and t.words[after] not in RAM_WORDS:
                after += 1
            if after < len(t) and (t.words[after] in RAM_WORDS or t.words[after] == "memory"):
                return size
            if _follows(t, k, RAM_WORDS):
                return size
            if first_free is None and not _is_vram_amount(t, k):
                first_free = size
        return first_free if cpu_only else None


def _follows(t: Tokens, k: int, words: set[str]) -> bool:
    """Token k comes right after one of `words`, or after it and a linking word ('vram: 8gb', 'ram of 32gb')."""
    if k >= 1 and t.words[k - 1] in words:
        return True
    return k >= 2 and t.words[k - 2] in words and t.words[k - 1] in {"of", "is", "with"}


def _digits(key: str) -> str:
    return re.sub(r"\D", "", key)


def _is_family_name(key: str) -> bool:
    """'llama3.1', 'qwen2.5coder'; not the two-letter shorthands ('l3', 'q3') that collide with quant names."""
    return len(key) >= 4 and re.match(r"[a-z]{3,}", key) is not None


def _is_vram_amount(t: Tokens, k: int) -> bool:
    nxt = t.words[k + 1] if k + 1 < len(t) else ""
    return nxt in VRAM_WORDS


def _about_kv_cache(t: Tokens, i: int, j: int) -> bool:
    """'q8_0 kv cache', '-ctk q8_0': a cache type, not the weights' quantization."""
    near = set(t.keys[max(0, i - 3):i]) | set(t.keys[j:j + 2])
    return bool(near & KV_CACHE_WORDS)


def _longest(matches: list[Match], t: Tokens) -> Match | None:
    if not matches:
        return None
    return max(matches, key=lambda m: (m.end - m.start, len(t.key(m.start, m.end)), -m.start))


def _pick_variant(candidates: list[Hardware], memory: tuple[float, int] | None) -> Hardware:
    """'a100' names a 40 and an 80 GB card: take the stated size, else the larger one people mostly rent."""
    if memory is not None:
        for hw in candidates:
            if hw.memory_gb == memory[0]:
                return hw
    return max(candidates, key=lambda hw: hw.memory_gb)


def _bare_number_after(t: Tokens, end: int, candidates: list[Hardware]) -> float | None:
    """'A100-40': a plain number right after the card that is one of its memory sizes."""
    if end < len(t) and _INTEGER.match(t.words[end]) and len(candidates) > 1:
        value = float(t.words[end])
        if any(hw.memory_gb == value for hw in candidates):
            return value
    return None


def _modded(t: Tokens, best: Match, at: int) -> bool:
    """Memory written right at the card ('4090 48gb', 'modded 4090 48 gb') and not said of system RAM."""
    nxt = t.words[at + 1] if at + 1 < len(t) else ""
    return (at == best.end or at == best.start - 1) and nxt not in RAM_WORDS and nxt not in {"memory", "unified"}


def _count_of(word: str) -> int | None:
    if word in COUNT_WORDS:
        return COUNT_WORDS[word]
    if _INTEGER.match(word) and 1 <= int(word) <= MAX_GPUS:
        return int(word)
    return None


def _count_before(t: Tokens, start: int) -> int | None:
    """'2x 3090', '2 x 3090', 'dual 4090', 'a pair of 3090s', '3 3090s'."""
    if start == 0:
        return None
    prev = t.words[start - 1]
    m = _COUNT_BEFORE.match(prev) or _COUNT_AFTER.match(prev)     # "4x 3090", "x4 rtx5000"
    if m:
        return _count_of(m.group(1))
    if prev == "x" and start >= 2:
        return _count_of(t.words[start - 2])
    if prev == "of" and start >= 2 and t.words[start - 2] == "pair":
        return 2
    if prev in {"rtx", "gtx", "nvidia", "amd", "radeon", "geforce", "intel", "arc", "apple"} and start >= 2:
        return _count_before(t, start - 1)   # "2x rtx 3090" matched "3090" alone
    return _count_of(prev)


def _count_after(t: Tokens, end: int) -> int | None:
    """'3090 x2', '3090 x 2'."""
    if end >= len(t):
        return None
    m = _COUNT_AFTER.match(t.words[end])
    if m:
        return _count_of(m.group(1))
    if t.words[end] == "x" and end + 1 < len(t):
        return _count_of(t.words[end + 1])
    return None
