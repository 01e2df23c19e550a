"""The guard: the one place that decides whether a model's text may be shown, as a streamed preview or as the final
answer. Generated text may only state facts its sources state.

A "fact" is anything a small model likes to invent and a reader would act on: a number (with its unit, or in words),
a version, a command-line flag, a quantization name or an environment variable. Every fact in the generated answer
must occur among the facts of the entries the model was shown; one that does not rejects the whole text, and
the caller answers from the entries themselves instead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.answer.prompt import clean_generated

MIN_GENERATED_CHARS = 20     # shorter than this is not an answer, whatever it says

_UNIT = r"(?:[kmgt]i?b|[kmgt]|tb|bits?|bpw|b|%|ms|s|w|x|tok/s|t/s|tokens?|layers?|gb/s|tflops|hz|ghz|mhz|k)"
_FACT_PATTERNS = [
    ("flag", re.compile(r"(?<![\w-])--?[a-zA-Z][a-zA-Z0-9]*(?:-[a-zA-Z0-9]+)*")),         # -ngl, --n-gpu-layers
    ("quant", re.compile(r"\b(?:I?Q[1-8](?:_[A-Z0-9]+)*|B?F(?:P)?(?:16|32|8)|MXFP4|NF4|INT[48]|AWQ|GPTQ|EXL[23])\b",
                         re.IGNORECASE)),
    ("env", re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")),                          # HSA_OVERRIDE_GFX_VERSION
    ("version", re.compile(r"\bv?\d+(?:\.\d+){2,}\b|\bv\d+(?:\.\d+)?\b")),                # 12.4.1, v0.3
    ("number", re.compile(rf"(?<![\w.])\d+(?:[.,]\d+)*(?:\s?{_UNIT})?(?![\w])", re.IGNORECASE)),
    # "about six bits", "twice as fast", "half the memory": quantities a model can invent in words
    ("numword", re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|sixteen|twenty|"
                           r"thirty|forty|fifty|sixty|hundred|thousand|million|billion|twice|thrice|double|triple|"
                           r"half|halves|halving|quarter|third)\b", re.IGNORECASE)),
]


_SAME_WORD = {"halves": "half", "halving": "half", "thrice": "three"}


def _normalise(kind: str, text: str) -> str:
    text = text.lower().replace(" ", "")
    if kind == "numword":
        return _SAME_WORD.get(text, text)
    if kind == "number":
        text = text.replace(",", "")
        text = re.sub(r"^(\d+)\.0+(?=\D|$)", r"\1", text)      # "2.0 gb" and "2 gb" are the same claim
    return text


def facts(text: str) -> set[str]:
    """The checkable facts in a text, normalised ("2 GB" -> "2gb")."""
    found: set[str] = set()
    taken: list[tuple[int, int]] = []
    for kind, pattern in _FACT_PATTERNS:
        for m in pattern.finditer(text):
            if any(a <= m.start() < b for a, b in taken):      # "Q4_K_M" is a quant, not also the number 4
                continue
            taken.append((m.start(), m.end()))
            found.add(f"{kind}:{_normalise(kind, m.group(0))}")
    return found


def _bare_numbers(found: set[str]) -> set[str]:
    return {re.match(r"number:([\d.]+)", f).group(1) for f in found if re.match(r"number:[\d.]+", f)}


def unsupported_facts(answer: str, sources: list[str]) -> list[str]:
    """Facts of `answer` that no source states. A number with a unit is supported by the same number with the same
    unit; a bare number by the same number anywhere in the sources."""
    allowed = set().union(*(facts(s) for s in sources)) if sources else set()
    allowed_numbers = _bare_numbers(allowed)
    missing = []
    for fact in sorted(facts(answer)):
        if fact in allowed:
            continue
        bare = re.fullmatch(r"number:([\d.]+)", fact)
        if bare and bare.group(1) in allowed_numbers:
            continue
        missing.append(fact.split(":", 1)[1])
    return missing


_WORD = re.compile(r"[a-z][a-z'-]{3,}")
REPEAT_NGRAM = 5                 # the same five words twice: a small model looping ("a variant of a variant of")
MAX_NEW_WORD_SHARE = 0.15        # a rephrasing reuses its sources' words; more new ones than this is invention


def repeated_phrase(text: str, n: int = REPEAT_NGRAM) -> str | None:
    """The first run of `n` words that occurs twice, or None."""
    words = re.findall(r"\w+", text.lower())
    seen: set[tuple[str, ...]] = set()
    for i in range(len(words) - n + 1):
        gram = tuple(words[i:i + n])
        if gram in seen:
            return " ".join(gram)
        seen.add(gram)
    return None


def new_words(answer: str, sources: list[str]) -> list[str]:
    """Content words (four letters or more) of `answer` that no source uses, in any inflection sharing the first
    five letters ("quantized" / "quantization")."""
    known = {w[:5] for s in sources for w in _WORD.findall(s.lower())}
    return [w for w in dict.fromkeys(_WORD.findall(answer.lower())) if w[:5] not in known]


def problems(answer: str, sources: list[str], question: str = "") -> list[str]:
    """Why `answer` cannot be shown as a faithful rephrasing of `sources` (empty when it can). The question's words
    may be reused; its facts may not (a number the asker typed is not a source)."""
    found = []
    missing = unsupported_facts(answer, sources)
    if missing:
        found.append("facts the sources do not state: " + ", ".join(missing[:5]))
    loop = repeated_phrase(answer)
    if loop:
        found.append(f"repeats itself ('{loop}')")
    words = _WORD.findall(answer.lower())
    invented = new_words(answer, [*sources, question])
    if words and len(invented) / len(set(words)) > MAX_NEW_WORD_SHARE:
        found.append("words the sources do not use: " + ", ".join(invented[:5]))
    return found


def whole_sentences(text: str) -> str:
    """Text cut off by the token limit ends mid-sentence: keep what ends a sentence, if that is most of it."""
    if not text or text[-1] in ".!?`)\n":
        return text
    end = max(text.rfind(". "), text.rfind(".\n"), text.rfind("! "), text.rfind("? "))
    return text[:end + 1] if end >= len(text) // 2 else text


@dataclass(frozen=True)
class Verdict:
    """The guard's decision on a model's final text: `text` is what may be shown when `kept`, else `reason` says
    why the entries' own text is shown instead."""
    kept: bool
    text: str
    reason: str | None = None


def judge(generated: str, sources: list[str], question: str = "") -> Verdict:
    """Keep the model's final text only when it is a usable, faithful rephrasing of `sources`."""
    text = whole_sentences(clean_generated(generated or ""))
    if len(text) < MIN_GENERATED_CHARS:
        return Verdict(False, text, "the model gave no usable text")
    found = problems(text, sources, question)
    if found:
        return Verdict(False, text, "the model's text failed the guard: " + "; ".join(found))
    return Verdict(True, text)


def preview(partial: str, sources: list[str]) -> str | None:
    """What a reader may see of text still streaming in, or None once it states a fact the sources do not (then
    previews stop, and the final answer will come from the entries)."""
    shown = clean_generated(partial)
    return None if unsupported_facts(shown, sources) else shown
