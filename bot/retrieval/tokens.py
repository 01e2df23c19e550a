"""Tokenisation for the lexical side, shaped by what people paste.

`Q4_K_M`, `llama.cpp`, `CUDA_ERROR_OUT_OF_MEMORY` and `-ngl` must match both whole and by their parts, so a
compound token is emitted once whole and once per part: `llama.cpp` -> `llama.cpp llama cpp`. Case is folded;
camelCase identifiers (`hipErrorNoBinaryForGpu`) are split too. Common English words are dropped so that an
off-topic question does not match an entry on "what", "is" and "my".
"""
from __future__ import annotations

import re
from functools import lru_cache

# a word, optionally joined to more words by . _ - (so "q4_k_m", "llama.cpp", "n-gpu-layers" stay whole)
_COMPOUND = re.compile(r"[A-Za-z0-9]+(?:[._\-/][A-Za-z0-9]+)*")
_PART = re.compile(r"[A-Za-z0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")

STOPWORDS = frozenset("""
a an and are as at be been but by can could did do does doing for from had has have having he her here hers him his
how i if in into is it its itself just me more most my myself no nor not of off on once only or other our ours out
over own same she should so some such than that the their theirs them then there these they this those through to
too under until up very was we were what when where which while who whom why will with would you your yours yourself
im ive id dont doesnt didnt cant wont isnt arent thats whats hows hey hi hello pls please thanks thank anyone someone
get got getting any also still even really like lol ok okay know want need help use using used way
""".split())


def tokenize(text: str) -> list[str]:
    """The lexical tokens of `text` (a new list each call; the work is remembered for recent texts, since one
    search reads the query on the BM25 side, the symptom matcher and the name matcher)."""
    return list(_tokens(text))


@lru_cache(maxsize=256)
def _tokens(text: str) -> tuple[str, ...]:
    tokens: list[str] = []
    for match in _COMPOUND.finditer(text):
        word = match.group(0)
        lower = word.lower()
        parts = [p.lower() for p in _PART.findall(word)]
        if len(parts) == 1 and word != lower and not word.isupper():
            parts = [p.lower() for p in _CAMEL.findall(word)]     # camelCase error names
        if len(parts) > 1:
            tokens.append(lower)
        tokens.extend(p for p in parts if p not in STOPWORDS)
    return tuple(tokens)
