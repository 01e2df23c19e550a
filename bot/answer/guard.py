"""The guard: the one place that decides whether a model's text may be shown, as a streamed preview (`preview`) or
as the final answer (`judge`). It is a positive check: text is kept only when every sentence is supported by the
entries the model was shown.

Before judging, the text is made what a reader would see: reasoning blocks and citation markers removed, zero-width
characters stripped and look-alike letters (Cyrillic, Greek) folded to Latin, and the text cut at the first line
that starts a new turn or prompt section (`Question:`, `Sources:`, a chat-template token, the question repeated).

A sentence is supported when
- every fact in it (a number with its unit in any spelling, a number word, a version, a flag, a quantization, an
  environment variable, any other token with a digit in it) is stated by the entries;
- every name (a capitalised word inside a sentence, `llama.cpp`, `vLLM`) and every claim word (`best`,
  `cheaper`, `lossless`, `recommend`...) is used by the entries, and it opens with a verdict (`Yes`, `No`,
  `Absolutely`) only when an entry's own sentence does;
- most of its content words are the entries' words. The question's words are no support: a model that follows
  instructions would otherwise echo whatever the asker wrote.
The whole text also has no mention (`@everyone`, `<@...>`), no link but an entry's own source URL, no invite, and
does not loop. Anything else rejects the text, and the caller answers from the entries themselves.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from bot.answer.prompt import clean_generated

MIN_GENERATED_CHARS = 20     # shorter than this is not an answer, whatever it says
MIN_SENTENCE_COVERAGE = 0.8  # share of a sentence's content words the entries must use
MAX_NEW_PER_SENTENCE = 1     # and at most one word of its own per sentence (a paraphrase's verb), never a short one
MIN_PAIR_SHARE = 0.5         # more than this share of a clause's adjacent word pairs must be the entries': known
                             # words in a new order ("driver keys", "bot token") are a new claim, not a rephrasing
SHORT_CLAUSE_WORDS = 3       # a clause this short must be the entries' own words in their order ("to free vram")
MAX_NEW_WORD_SHARE = 0.15    # and of the whole text's distinct content words, at most this many may be new
REPEAT_NGRAM = 5             # the same five words twice: a small model looping ("a variant of a variant of")

# -- what a reader would see ---------------------------------------------------------------------------------------
# format and zero-width characters: invisible, but they split "sc\u200bam" so that no word check sees "scam"
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180e\u200b-\u200f\u202a-\u202e"
                        "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]")
# letters that render like Latin ones: "sсаm" with Cyrillic с and а reads as "scam"
_HOMOGLYPHS = str.maketrans(
    "аеорсхуіјѕԁһӏԛԝкмнтвАВЕКМНОРСТХУІЈЅԜ"
    "αβεικνορτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcxyijsdhlqwkmhtbABEKMHOPCTXYIJSW"
    "abeiknoptuxABEZHIKMNOPTYX")


def normalise(text: str) -> str:
    """`text` as it reads: compatibility forms (full-width letters, ligatures) to plain ones, invisible characters
    removed, look-alike letters folded to Latin."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    return text.translate(_HOMOGLYPHS)


_TEMPLATE_TOKEN = re.compile(r"<\|[^|<>\n]{1,40}\|>|</?s>|\[/?INST\]|<(?:start|end)_of_turn>|<\|?im_(?:start|end)",
                             re.IGNORECASE)
_TURN_LINE = re.compile(r"^\W{0,4}(?:question|answer|sources?|context|user|assistant|system|human|ai|"
                        r"draft(?: answer)?|instructions?|response|bot)\W{0,3}:", re.IGNORECASE)
_ANSWER_LABEL = re.compile(r"^\W{0,4}(?:final )?answer\W{0,3}:\s*", re.IGNORECASE)


def _plain_words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def repeats_question(line: str, question: str) -> bool:
    """A line that is the question again (in whole, or four words or more of it): a model starting a new turn."""
    said, asked = _plain_words(line), _plain_words(question)
    if not said or not asked:
        return False
    return said == asked or (len(said.split()) >= 4 and said in asked) or (len(asked.split()) >= 4 and
                                                                           said.startswith(asked))


def scaffolding_line(line: str, question: str = "") -> bool:
    """Whether `line` starts a new turn or prompt section rather than continuing the answer."""
    return bool(_TURN_LINE.match(line) or _TEMPLATE_TOKEN.search(line) or repeats_question(line, question))


def _cut(text: str, question: str) -> tuple[str, bool]:
    """`text` up to the first line that starts a new turn or prompt section, and whether there was one."""
    template = _TEMPLATE_TOKEN.search(text)
    text = _ANSWER_LABEL.sub("", (text[:template.start()] if template else text).lstrip(), count=1)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if scaffolding_line(line, question):
            return "\n".join(lines[:i]).strip(), True
    return text.strip(), template is not None


def cut_scaffolding(text: str, question: str = "") -> str:
    """`text` up to the first line that starts a new turn or prompt section (a leading "Answer:" is only a label)."""
    return _cut(text, question)[0]


def reader_text(generated: str, question: str = "") -> str:
    """The model's text as a reader would get it, before it is judged."""
    return cut_scaffolding(clean_generated(normalise(generated or "")), normalise(question))


# -- facts ----------------------------------------------------------------------------------------------------------
_UNITS = {
    "gb": "gb", "gbs": "gb", "gig": "gb", "gigs": "gb", "gigabyte": "gb", "gigabytes": "gb", "gib": "gb", "g": "gb",
    "mb": "mb", "mbs": "mb", "meg": "mb", "megs": "mb", "megabyte": "mb", "megabytes": "mb", "mib": "mb",
    "tb": "tb", "tbs": "tb", "terabyte": "tb", "terabytes": "tb", "tib": "tb", "kb": "kb", "kib": "kb",
    "b": "b", "billion": "b", "m": "m", "million": "m", "k": "k", "thousand": "k", "t": "t", "trillion": "t",
    "bit": "bit", "bits": "bit", "bpw": "bit", "%": "%", "percent": "%", "x": "x", "times": "x",
    "tok/s": "tok/s", "t/s": "tok/s", "tokens/s": "tok/s", "tps": "tok/s", "token": "token", "tokens": "token",
    "layer": "layer", "layers": "layer", "w": "w", "watt": "w", "watts": "w", "ms": "ms", "s": "s", "sec": "s",
    "seconds": "s", "second": "s", "gb/s": "gb/s", "tflops": "tflops", "hz": "hz", "ghz": "ghz", "mhz": "mhz",
}
_UNIT = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))
_NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
    "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19", "twenty": "20",
    "thirty": "30", "forty": "40", "fourty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80",
    "ninety": "90", "hundred": "100", "thousand": "1000", "million": "1000000", "billion": "1000000000",
    "dozen": "12", "twice": "2", "double": "2", "doubles": "2", "doubling": "2", "thrice": "3", "triple": "3",
    "triples": "3", "quadruple": "4", "half": "0.5", "halves": "0.5", "halving": "0.5", "halve": "0.5",
    "quarter": "0.25", "third": "0.33", "thirds": "0.33",
}
_NUMBER_WORD = "|".join(_NUMBER_WORDS)
_FACT_PATTERNS = [
    ("flag", re.compile(r"(?<![\w-])--?[a-zA-Z][a-zA-Z0-9]*(?:-[a-zA-Z0-9]+)*")),         # -ngl, --n-gpu-layers
    ("quant", re.compile(r"\b(?:I?Q[1-8](?:_[A-Z0-9]+)*|B?F(?:P)?(?:16|32|8)|MXFP4|NF4|INT[48]|AWQ|GPTQ|EXL[23])\b",
                         re.IGNORECASE)),
    ("env", re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")),                          # HSA_OVERRIDE_GFX_VERSION
    ("version", re.compile(r"\bv?\d+(?:\.\d+){2,}\b|\bv\d+(?:\.\d+)?\b")),                # 12.4.1, v0.3
    # 2 GB, 16gigs, 24GBs, x24, 1e3, 9000 tok/s: a number with its unit in any spelling, glued or not
    ("number", re.compile(rf"(?<![\w.])[x×]?\d+(?:[.,]\d+)*(?:e[+-]?\d+)?(?:\s?(?:{_UNIT}))?(?![\w/])",
                          re.IGNORECASE)),
    ("numword", re.compile(rf"\b(?:{_NUMBER_WORD})(?:[\s-](?:{_UNIT}))?\b", re.IGNORECASE)),  # eighty layers, twice
    ("token", re.compile(r"[\w.#/-]*\d[\w.#/-]*")),               # anything else with a digit: 128kctx, rtx3090
]


def _number(kind: str, text: str) -> str:
    """A number and its unit as one spelling: "16 gigs", "16GBs" and "16 GB" are all "16gb"."""
    if kind == "numword":
        word, *unit = re.split(r"[\s-]", text, maxsplit=1)
        value, unit = _NUMBER_WORDS[word], (unit[0] if unit else "")
    else:
        m = re.fullmatch(r"([x×]?)(\d+(?:[.,]\d+)*(?:e[+-]?\d+)?)\s?(.*)", text)
        value, unit = m.group(2).replace(",", ""), m.group(3) or ("x" if m.group(1) else "")
        value = re.sub(r"\.0+$", "", value)                   # "2.0 gb" and "2 gb" are the same claim
    return value + _UNITS.get(unit, unit)


def facts(text: str) -> set[str]:
    """The checkable facts in a text, normalised ("2 GB" -> "number:2gb", "eighty layers" -> "number:80layer")."""
    text = normalise(text)
    found: set[str] = set()
    taken: list[tuple[int, int]] = []
    for kind, pattern in _FACT_PATTERNS:
        for m in pattern.finditer(text):
            if any(a <= m.start() < b or a < m.end() <= b for a, b in taken):   # Q4_K_M is not also the number 4
                continue
            taken.append((m.start(), m.end()))
            value = m.group(0).lower()
            if kind in ("number", "numword"):
                found.add("number:" + _number(kind, value))
            else:
                found.add(f"{kind}:{value.replace(' ', '').rstrip('.-/')}")
    return found


def _bare(fact: str) -> str | None:
    m = re.fullmatch(r"number:([\d.e+-]+)[a-z%/]*", fact)
    return m.group(1) if m else None


# -- words, names, links, mentions ----------------------------------------------------------------------------------
_WORD = re.compile(r"[A-Za-z][A-Za-z']*[A-Za-z]|[A-Za-z]")
_STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between both
but by can could did do does doing down during each either else etc even ever every few for from further had has
have having he her here hers him his how i if in into is it its itself just lets like may me might more most much
my neither nor of off often on once only or other our out over own per same she so some such than that the their
them then there these they this those through thus to too under until up upon us usually very via was we were what
when where whether which while who whom whose why will with within without would you your yours one ones way ways
means mean meaning called refers refer uses use used using lets allows allow make makes made get gets got keep keeps
instead rather simply basically typically generally usually need needs needed help helps still well e g i.e
""".split())
# claims a reader acts on: the entries must make them, not the question or the model
_CLAIM_WORDS = frozenset("""
yes no nope yep yeah absolutely definitely certainly guaranteed guarantee always never best worst better worse
cheaper cheapest faster fastest slower slowest safe unsafe recommend recommended should must lossless illegal
malware scam virus viruses impossible free cure void broken breaks steals trust
""".split())
_VERDICT_OPENER = re.compile(r"^\W*(yes|no|nope|yep|yeah|sure|absolutely|definitely|certainly|correct|right|indeed|"
                             r"never|always|guaranteed|of course|true|false|verdict|the answer is (?:yes|no))\b",
                             re.IGNORECASE)
_MENTION = re.compile(r"@(?:everyone|here)\b|<@[!&]?\d+>|<#\d+>|<@|@[A-Za-z0-9_]", re.IGNORECASE)
_TLDS = ("com|org|net|io|gg|ai|dev|example|ru|co|me|app|sh|xyz|info|ly|cn|de|uk|us|tv|so|to|cc|gl|link|site|"
         "online|tech|cloud|page|biz|top|club|fr|jp|in|eu|ml|tk|invalid|test|local")
_LINK = re.compile(rf"(?:https?://|www\.)[^\s<>()\[\]|]+|\b(?:[a-z0-9-]+\.)+(?:{_TLDS})\b(?:/[^\s<>()\[\]|]*)?",
                   re.IGNORECASE)
_INVITE = re.compile(r"discord(?:app)?\.(?:gg|com/invite|me)|dsc\.gg|discord\.io|invite\.gg", re.IGNORECASE)
# words written like names: llama.cpp, vLLM, HuggingFace, GPU-Goblin, config.json
_NAME_SHAPE = re.compile(r"[a-z]+[A-Z]|[A-Za-z]\.[A-Za-z]|[A-Za-z]-[A-Za-z]|-$|_")


def _link_key(url: str) -> str:
    url = re.sub(r"^(?:https?://)?(?:www\.)?", "", url.lower())
    return url.rstrip(".,;:!?)>]'\"`*/")


def _stem(word: str) -> str:
    """The same word in any inflection: "quantized" / "quantization", "take" / "takes"."""
    word = word.lower()
    bare = re.sub(r"(?:ing|ed|es|s)$", "", word)
    return (bare if len(bare) >= 3 else word)[:5]


@dataclass(frozen=True)
class Support:
    """What the entries shown to the model state, in the forms the checks compare."""
    stems: frozenset[str]        # first five letters of every word (an inflection of a word is the same word)
    words: frozenset[str]        # every word, lower-cased
    facts: frozenset[str]
    numbers: frozenset[str]      # bare values of every number fact, whatever its unit
    links: frozenset[str]        # the entries' own source URLs (and what their text links to)
    hosts: frozenset[str]
    openers: frozenset[str]      # verdict words the entries' own sentences open with
    pairs: frozenset[tuple[str, str]]   # adjacent words (as stems)
    sequence: str                # every word as its stem, in order, space-separated


@lru_cache(maxsize=64)
def support_of(sources: tuple[str, ...], links: tuple[str, ...] = ()) -> Support:
    text = normalise("\n".join(sources))
    words = {w.lower() for w in re.findall(r"[A-Za-z0-9][\w.+'-]*[A-Za-z0-9]|[A-Za-z]", text)}
    words |= {w.lower() for w in _WORD.findall(text)}
    found = facts(text)
    keys = {_link_key(u) for u in (*links, *(m.group(0) for m in _LINK.finditer(text)))}
    openers = {m.group(1).lower() for s in sentences(text) if (m := _VERDICT_OPENER.match(s))}
    return Support(stems=frozenset(_stem(w) for w in words), words=frozenset(words), facts=frozenset(found),
                   numbers=frozenset(b for f in found if (b := _bare(f))), links=frozenset(keys),
                   hosts=frozenset(k.split("/")[0] for k in keys), openers=frozenset(openers),
                   pairs=frozenset(word_pairs(text)), sequence=f" {' '.join(word_stems(text))} ")


def word_stems(text: str) -> list[str]:
    return [_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower())]


def word_pairs(text: str) -> list[tuple[str, str]]:
    stems = word_stems(text)
    return list(zip(stems, stems[1:]))


def clause_problem(clause: str, support: Support) -> bool:
    """Whether a clause puts the entries' words in an order of its own: a short one must be their words in their
    order, a longer one must have most of its word pairs from them."""
    stems = word_stems(clause)
    if len(stems) <= 1:
        return False
    if len(stems) <= SHORT_CLAUSE_WORDS:
        return f" {' '.join(stems)} " not in support.sequence
    pairs = list(zip(stems, stems[1:]))
    return sum(p in support.pairs for p in pairs) / len(pairs) <= MIN_PAIR_SHARE


def _supported_fact(fact: str, support: Support) -> bool:
    if fact in support.facts:
        return True
    bare = re.fullmatch(r"number:([\d.e+-]+)", fact)        # a bare number: the same value with any unit
    return bool(bare and bare.group(1) in support.numbers)


def unsupported_facts(answer: str, sources: list[str]) -> list[str]:
    """Facts of `answer` that no source states. A number with a unit is supported by the same number with the same
    unit (in any spelling); a bare number by the same number anywhere in the sources."""
    support = support_of(tuple(sources))
    return sorted(f.split(":", 1)[1] for f in facts(answer) if not _supported_fact(f, support))


def content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if len(w) > 2 and w.lower() not in _STOPWORDS]


def new_words(answer: str, sources: list[str]) -> list[str]:
    """Content words of `answer` that no source uses, in any inflection sharing the first five letters
    ("quantized" / "quantization")."""
    stems = support_of(tuple(sources)).stems
    return [w for w in dict.fromkeys(w.lower() for w in content_words(normalise(answer))) if _stem(w) not in stems]


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


def link_problems(text: str, support: Support) -> list[str]:
    """Mentions, and links or invites that are not an entry's own source."""
    found = [f"a mention ({m.group(0)})" for m in _MENTION.finditer(text)][:1]
    for m in _LINK.finditer(text):
        key = _link_key(m.group(0))
        if _INVITE.search(key) and key not in support.links:
            found.append(f"an invite ({key})")
        elif key not in support.links and not (("/" not in key) and key in support.hosts):
            found.append(f"a link the entries do not give ({key})")
    return found


# -- sentences ------------------------------------------------------------------------------------------------------
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]`*]*(?=\s)|\n+")
_ENDS_WHOLE = re.compile(r"(?:[.!?][\"')\]`*]*|```)$")


def sentences(text: str) -> list[str]:
    """`text` split into sentences (and lines: a list item is a sentence too)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def ends_whole(text: str) -> bool:
    return bool(_ENDS_WHOLE.search(text.rstrip()))


def whole_sentences(text: str) -> str:
    """`text` up to the end of its last whole sentence (empty when it has none): text cut off by the token limit
    ends mid-sentence."""
    text = text.rstrip()
    if ends_whole(text):
        return text
    ends = [m.end() for m in re.finditer(r"[.!?][\"')\]`*]*(?=\s)", text)]
    return text[:ends[-1]] if ends else ""


def question_stems(question: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in content_words(normalise(question)))


def sentence_problems(sentence: str, support: Support, asked: frozenset[str] = frozenset()) -> list[str]:
    """Why `sentence` is not supported by the entries (empty when it is); `asked`: the question's word stems."""
    found = []
    missing = [f.split(":", 1)[1] for f in sorted(facts(sentence)) if not _supported_fact(f, support)]
    if missing:
        found.append("facts the entries do not state: " + ", ".join(missing[:5]))
    opener = _VERDICT_OPENER.match(sentence)
    if opener and opener.group(1).lower() not in support.openers:
        found.append(f"a verdict the entries do not open with ('{opener.group(0).strip()}')")
    words = content_words(sentence)
    names = [w for i, w in enumerate(_WORD.findall(sentence)) if i > 0 and w[0].isupper() and w != "I"]
    names += [t for t in re.findall(r"[\w.-]+", sentence) if _NAME_SHAPE.search(t.rstrip("."))]
    unknown_names = [n for n in dict.fromkeys(n.strip(".") for n in names)
                     if n.lower() not in support.words and n.lower().rstrip("s") not in support.words
                     and not re.search(r"\d", n)]
    if unknown_names:
        found.append("names the entries do not use: " + ", ".join(unknown_names[:5]))
    claims = [w for w in words if w.lower() in _CLAIM_WORDS and w.lower() not in support.words]
    claims += [w for w in re.findall(r"\b(?:yes|no)\b", sentence, re.I) if w.lower() not in support.words]
    if claims:
        found.append("claims the entries do not make: " + ", ".join(dict.fromkeys(c.lower() for c in claims)))
    uncovered = [w.lower() for w in words if _stem(w) not in support.stems]
    echoed = [w for w in uncovered if _stem(w) in asked]
    if echoed:                  # the asker's words are no support: this is how an instruction gets repeated
        found.append("words from the question the entries do not use: " + ", ".join(dict.fromkeys(echoed)))
    if words and (1 - len(uncovered) / len(words) < MIN_SENTENCE_COVERAGE or len(uncovered) > MAX_NEW_PER_SENTENCE
                  or any(len(w) < 4 for w in uncovered)):
        found.append("words the entries do not use: " + ", ".join(dict.fromkeys(uncovered)))
    clauses = [c for c in re.split(r"[,;:()]|\s[-–—]\s", sentence) if clause_problem(c, support)]
    if clauses:
        found.append("word order the entries do not have: " + "; ".join(c.strip() for c in clauses[:3]))
    return found


def problems(answer: str, sources: list[str], question: str = "", links: Iterable[str] = ()) -> list[str]:
    """Why `answer` (as a reader would see it) is not supported by `sources`, sentence by sentence; empty when it
    is. The question is no support: its words and facts are the asker's, not the entries'."""
    support = support_of(tuple(sources), tuple(links))
    text = normalise(answer)
    found = link_problems(text, support)
    asked = question_stems(question)
    for sentence in sentences(text):
        found += [f"{p} in '{sentence[:60]}'" for p in sentence_problems(sentence, support, asked)]
    loop = repeated_phrase(text)
    if loop:
        found.append(f"repeats itself ('{loop}')")
    words = {w.lower() for w in content_words(text)}
    invented = new_words(text, sources)
    if words and len(invented) / len(words) > MAX_NEW_WORD_SHARE:
        found.append("words the sources do not use: " + ", ".join(invented[:5]))
    return found


# -- the decisions --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """The guard's decision on a model's final text: `text` is what may be shown when `kept`, else `reason` says
    why the entries' own text is shown instead."""
    kept: bool
    text: str
    reason: str | None = None


def judge(generated: str, sources: list[str], question: str = "", links: Iterable[str] = ()) -> Verdict:
    """Keep the model's final text only when, cut to what a reader would see and to whole sentences, every
    sentence of it is supported by `sources` (the entries the model was shown; `links` their source URLs)."""
    text = whole_sentences(reader_text(generated, question))
    if len(text) < MIN_GENERATED_CHARS:
        return Verdict(False, text, "the model gave no usable text")
    found = problems(text, sources, question, links)
    if found:
        return Verdict(False, text, "the model's text failed the guard: " + "; ".join(found))
    return Verdict(True, text)


def preview(partial: str, sources: list[str], question: str = "", links: Iterable[str] = ()) -> str | None:
    """What a reader may see of text still streaming in: its whole sentences so far, each passing the same check
    as the final text; None once one fails (then previews stop, and the final answer may come from the entries).
    The sentence still being written is held back until it ends, so nothing unchecked is ever shown."""
    text, ended = _cut(clean_generated(normalise(partial or "")), normalise(question))
    text += "\n" if ended else ""          # what comes before a new turn is all the answer there will be
    ends = [m.end() for m in re.finditer(r"[.!?][\"')\]`*]*(?=\s)|\n", text)]
    done = text[:ends[-1]].rstrip() if ends else ""
    if not done:
        return ""
    # a mention or link is stopped while it is still being written, not only once its sentence ends
    if link_problems(text, support_of(tuple(sources), tuple(links))) or problems(done, sources, question, links):
        return None
    return done
