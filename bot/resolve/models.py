"""Model names as people type them -> a catalog model, with what was assumed on the way.

Tried in order, each cheaper than the next: the catalog's own names and aliases; the name without its noise (org,
-Instruct, -GGUF, dates, versions, quantization); the same words in any order ('llama 3.1 70b nemotron'); a
fine-tune or merge named in a model's `finetunes`; a catalog model named inside a longer name
('Hermes-3-Llama-3.1-8B'); a size with no family ('a 70b model', sized as a representative architecture); a close
spelling with the same numbers ('DeekSeek R1 671B'). Everything that is not the named model itself is stated.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.catalog.load import Catalog, distinct_labels, normalize
from bot.catalog.schema import Model
from bot.errors import UnknownNameError
from bot.resolve import names
from bot.resolve.quants import QuantResolution, resolve_quant

# Ollama's default tag of a bare library name ('ollama run llama3.1' pulls the 8B); read only by the resolver, so
# that in a sentence 'llama 3' stays a family without a size
OLLAMA_DEFAULTS = {"llama3.1": "llama-3.1-8b", "llama3": "llama-3-8b", "llama2": "llama-2-7b",
                   "codellama": "codellama-7b", "qwen:0.5b": "qwen1.5-0.5b", "qwen:1.8b": "qwen1.5-1.8b",
                   "qwen:4b": "qwen1.5-4b", "qwen:7b": "qwen1.5-7b", "qwen:14b": "qwen1.5-14b",
                   "qwen:32b": "qwen1.5-32b", "qwen:72b": "qwen1.5-72b", "qwen:110b": "qwen1.5-110b"}
SIZE_ONLY_FILLER = frozenset({"a", "an", "model", "models", "moe", "dense", "llm", "llms", "some", "any", "typical",
                              "generic", "size", "sized", "parameter", "parameters", "params", "b", "of", "one"})


@dataclass(frozen=True)
class ModelResolution:
    model: Model
    text: str                                  # what was written
    how: str                                   # exact | stripped | finetune | base_in_name | size_only | fuzzy | hub
    quant: QuantResolution | None = None
    notes: tuple[str, ...] = ()                # stated in the answer's assumptions

    @property
    def assumptions(self) -> list[str]:
        out = list(self.notes)
        if self.quant is not None and self.quant.note:
            out.append(self.quant.note)
        return out


def bag(words: list[str]) -> tuple[str, ...]:
    """Words split at letter/digit boundaries, sorted: the same key for 'llama3.1 70b' and '70B Llama 3.1'."""
    parts: list[str] = []
    for w in words:
        if names.SIZE.match(w) or names.ACTIVE.match(w):
            parts.append(w)
        else:
            parts += re.findall(r"[a-z]+|\d+(?:\.\d+)*", w)
    return tuple(sorted(parts))


@dataclass
class ModelNames:
    """The catalog's model names keyed every way the resolver looks them up; built once per catalog."""

    exact: dict[str, Model] = field(default_factory=dict)
    finetune: dict[str, tuple[Model, str]] = field(default_factory=dict)
    bags: dict[tuple[str, ...], Model] = field(default_factory=dict)
    ft_bags: dict[tuple[str, ...], tuple[Model, str]] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    representative: list[tuple[Model, str]] = field(default_factory=list)

    @classmethod
    def of(cls, catalog: Catalog) -> ModelNames:
        idx = cls()
        for m in catalog.models:
            for n in (m.id, m.name, *m.aliases):
                idx.exact.setdefault(normalize(n), m)
        for m in catalog.models:
            for n in m.finetunes:
                idx.finetune.setdefault(normalize(n), (m, n))
        for versions in (False, True):   # then the same names without their noise (versions last), as word bags
            for m in catalog.models:
                for n in (m.id, m.name, *m.aliases):
                    core = _core(names.tokens(re.sub(r"\(.*?\)", " ", n)), versions)
                    if core and (not versions or any(names.is_size(w) for w in core)):
                        idx.exact.setdefault(names.key(core), m)
                        idx.bags.setdefault(bag(core), m)
                for n in m.finetunes:
                    core = _core(names.tokens(n), versions)
                    if core:
                        idx.finetune.setdefault(names.key(core), (m, n))
                        idx.ft_bags.setdefault(bag(core), (m, n))
        for k, model_id in OLLAMA_DEFAULTS.items():
            idx.exact.setdefault(normalize(k), catalog.model(model_id))
        idx.keys = list(idx.exact)
        idx.labels = [idx.exact[k].id for k in idx.keys]
        for r in catalog.representative:
            idx.representative.append((catalog.model(r.model), r.kind))
        return idx


def _core(words: list[str], versions: bool = True) -> list[str]:
    return [w for w in words if not names.is_noise(w, versions)]


def resolve_model(name: str, catalog: Catalog, index: ModelNames, hub=None) -> ModelResolution:
    """The model `name` means, or UnknownNameError with the three closest real names."""
    text = names.clean(name)
    org, rest = names.split_org(text)
    labels = names.quant_labels(rest)
    if org and "mlx" in org.lower() and not any(lbl.lower() == "mlx" for lbl in labels):
        labels.insert(0, "mlx")
    quant = _quant(labels, catalog)
    words = names.tokens(names.QUANT_IN_NAME.sub(" ", rest))
    found = _find(words, index)
    if found is None and hub is not None:
        model = hub.lookup(name, quant.file_type.name if quant else None)
        if model is not None:
            found = (model, "hub", (f"{name}: read from its Hugging Face config",))
    if found is None:
        raise UnknownNameError("model", name.strip()[:80], suggestions(words, index))
    model, how, notes = found
    return ModelResolution(model, name, how, quant, notes)


def _quant(labels: list[str], catalog: Catalog) -> QuantResolution | None:
    if not labels:
        return None
    try:
        return resolve_quant(labels, catalog)
    except UnknownNameError:
        return None          # a container word alone ('GGUF', 'GGML'): the model's usual quantization applies


def _find(words: list[str], index: ModelNames) -> tuple[Model, str, tuple[str, ...]] | None:
    whole = names.key(w for w in words if w != ":")
    if whole in index.exact:
        return index.exact[whole], "exact", ()
    if whole in index.finetune:
        base, ft_name = index.finetune[whole]
        return base, "finetune", (_sized_as(ft_name, base),)
    core = _core(words)
    if not core:
        return None
    said = " ".join(_core(words, versions=False))
    for versions in (False, True):
        part = _core(words, versions)
        k, b = names.key(part), bag(part)
        if k in index.exact:
            return index.exact[k], "stripped", ()
        if b in index.bags:
            return index.bags[b], "stripped", ()
        if k in index.finetune or b in index.ft_bags:
            base, ft_name = index.finetune.get(k) or index.ft_bags[b]
            return base, "finetune", (_sized_as(said, base),)
    ft = _finetune_inside(core, index)
    if ft is not None:
        return ft[0], "finetune", (_sized_as(said, ft[0]),)
    inside = _base_in_name(core, index)
    if inside is not None:
        return inside, "base_in_name", (_sized_as(said, inside),)
    sized = _size_only(core, index)
    if sized is not None:
        return sized
    return _fuzzy(names.key(core), index)


def _finetune_inside(core: list[str], index: ModelNames) -> tuple[Model, str] | None:
    """A fine-tune named with more words around it ('wizard vicuna 30b uncensored'): every word of a listed
    fine-tune's name, its size among them, is in the name; the longest listed name wins."""
    have = set(bag(core))
    best = None
    for ft_bag, found in index.ft_bags.items():
        if len(ft_bag) >= 2 and any(names.is_size(w) for w in ft_bag) and set(ft_bag) <= have:
            if best is None or len(ft_bag) > best[0]:
                best = (len(ft_bag), found)
    return best[1] if best else None


def _sized_as(said: str, base: Model) -> str:
    label = " ".join(w if w.isupper() else w[:1].upper() + w[1:] for w in said.split())
    return f"{label}: sized as {base.name}, same tensor shapes (a fine-tune or merge of it)"


def _base_in_name(core: list[str], index: ModelNames) -> Model | None:
    """The longest run of words that names a catalog model with its size ('hermes 3 llama 3.1 8b')."""
    best: tuple[int, Model] | None = None
    for i in range(len(core)):
        for j in range(len(core), i, -1):
            window = core[i:j]
            if not any(names.is_size(w) for w in window):
                continue
            m = index.exact.get(names.key(window)) or index.bags.get(bag(window))
            if m is not None and (best is None or j - i > best[0]):
                best = (j - i, m)
                break
    return best[1] if best else None


def size_only(core: list[str], index: ModelNames) -> tuple[Model, str, tuple[str, ...]] | None:
    return _size_only(core, index)


def _size_only(core: list[str], index: ModelNames) -> tuple[Model, str, tuple[str, ...]] | None:
    """'a 70b model', '13b', 'a 30b-a3b moe': a typical architecture of that size, its uncertainty stated."""
    rest = [w for w in core if w not in SIZE_ONLY_FILLER]
    sizes = [names.size_b(w) for w in rest if names.is_size(w)]
    active = [names.ACTIVE.match(w) for w in rest if names.ACTIVE.match(w)]
    if len(sizes) != 1 or len(rest) != len(sizes) + len(active) or not index.representative or sizes[0] <= 0:
        return None
    total = sizes[0]
    moe = bool(active) or "moe" in core
    pool = [m for m, kind in index.representative if (kind == "moe") == moe] or [m for m, _ in index.representative]
    if active:
        act = float(active[0].group(1)) / (1000 if active[0].group(2) == "m" else 1)
        pick = min(pool, key=lambda m: abs(math.log(m.params_b / total)) + abs(math.log(m.active_b / act)))
    else:
        pick = min(pool, key=lambda m: abs(math.log(m.params_b / total)))
    off = (pick.params_b - total) / total * 100
    shape = f"{pick.moe.experts} experts, {pick.active_b:g}B active" if pick.moe else "dense"
    note = (f"'{' '.join(core)}' names no model: sized as {pick.name} ({pick.params_b:g}B, {shape}), a typical "
            f"architecture of that size ({off:+.0f} % parameters). Another model of this size can differ by about "
            "10 % in weights and 2-4x in KV cache (attention layout); name the model for an exact answer")
    return pick, "size_only", (note,)


def _fuzzy(k: str, index: ModelNames) -> tuple[Model, str, tuple[str, ...]] | None:
    """A typo ('deekseek r1 671b'): a close name with the same numbers. A changed digit is another model."""
    if len(k) < 5:
        return None
    digits = re.sub(r"\D", "", k)
    for name, _, _ in process.extract(k, index.keys, scorer=fuzz.ratio, score_cutoff=85, limit=5):
        if re.sub(r"\D", "", name) == digits:
            m = index.exact[name]
            return m, "fuzzy", (f"read '{k}' as {m.name}",)
    return None


def suggestions(words: list[str], index: ModelNames, limit: int = 3) -> list[str]:
    """The closest real names for an unknown one, preferring names with the same numbers."""
    k = names.key(_core(words) or words)
    if not k:
        return []
    digits = re.sub(r"\D", "", k)
    scored = process.extract(k, index.keys, scorer=fuzz.WRatio, limit=40)
    ranked = sorted(scored, key=lambda s: (-(s[1] + (8 if digits and re.sub(r"\D", "", s[0]) == digits else 0)),
                                            len(s[0])))
    return distinct_labels(ranked, index.labels, limit)
