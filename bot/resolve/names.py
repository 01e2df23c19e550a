"""Splitting a model name as people write it into the parts that name the model, the quantization and the noise
(organisations, roles such as -Instruct, release dates, file suffixes). Pure text; no catalog here."""
from __future__ import annotations

import re

from bot.catalog.load import normalize

# a quantization label inside a name: llama.cpp file types (and ik_llama.cpp's, Unsloth's UD- and _XL ones, ARM
# repacks), EXL2/EXL3 bits per weight, and the format words of other releases
QUANT_IN_NAME = re.compile(
    r"(?<![a-z0-9])("
    r"(?:ud[-_])?i?q\d(?:_[a-z0-9]+)*"          # Q4_K_M, IQ4_XS, UD-Q4_K_XL, Q4_0_4_4, IQ4_KS
    r"|\d+(?:\.\d+)?\s?bpw(?:[-_]h\d)?"           # 4.65bpw, 6.0bpw-h6
    r"|nvfp4|mxfp4|fp4|fp8|fp16|bf16|f16|f32|int4|int8|w4a16|w8a8"
    r"|awq|gptq|exl2|exl3|mlx|bnb|nf4|gguf|ggml|qat"
    r"|\d+[-\s]?bits?"                           # 4bit, 4-bit, 8 bits
    r")(?![a-z0-9])", re.IGNORECASE)
# file and container suffixes that say nothing about the model
_FILE_SUFFIX = re.compile(r"\.(gguf|bin|safetensors|llamafile|ggml|pth)$", re.IGNORECASE)
_PREFIXES = re.compile(r"^(?:https?://)?(?:huggingface\.co/|hf\.co/|ollama\.com/(?:library/)?|ollama/)",
                       re.IGNORECASE)
# words in release names that do not change the tensor shapes (roles, packaging, quantizer tags)
NOISE = frozenset({
    "instruct", "instruction", "chat", "it", "hf", "base", "latest", "gguf", "ggml", "awq", "gptq", "exl2", "exl3",
    "mlx", "bnb", "fp8", "fp16", "bf16", "int4", "int8", "sym", "autoround", "imatrix", "sf", "h6", "h8", "model",
    "models", "llm", "q4", "the", "a", "an", "my", "some", "with", "size", "sized", "weights", "quantized", "quant",
    "nvfp4", "fp4", "mxfp4", "qat", "dynamic", "ud", "i1", "w4a16", "w8a8", "community", "hub", "dense",
    "preview", "release", "final", "official", "thebloke", "bartowski", "unsloth", "mradermacher", "quantfactory",
    "lmstudio", "turboderp", "maziyarpanahi", "4bit", "8bit", "2bit", "3bit", "16bit", "q8",
})
# a release date or checkpoint number: -2507, -0628, -2407, -1124 ...; and version suffixes: -v0.2, -v2, -v1.5
_DATE = re.compile(r"^(?:19|20|21|22|23|24|25|26)(?:0[1-9]|1[0-2])$|^(?:0[1-9]|1[0-2])(?:19|2[0-9])$"
                   r"|^20(?:2[3-6])(?:0[1-9]|1[0-2])(?:[0-3]\d)?$")
_VERSION = re.compile(r"^v\d+(?:\.\d+)*$")
SIZE = re.compile(r"^(\d+(?:\.\d+)?)([bm])$|^(\d+)x(\d+(?:\.\d+)?)b$")
ACTIVE = re.compile(r"^a(\d+(?:\.\d+)?)([bm])$")


def clean(name: str) -> str:
    """The name without URL prefixes and file suffixes ('hf.co/x/y:Q4_K_M' keeps its tag)."""
    text = name.strip().strip("\"'`")
    text = _PREFIXES.sub("", text)
    return _FILE_SUFFIX.sub("", text)


def split_org(text: str) -> tuple[str | None, str]:
    """'bartowski/Qwen2.5-72B-Instruct-GGUF' -> ('bartowski', 'Qwen2.5-72B-Instruct-GGUF')."""
    if "/" in text and " " not in text.strip():
        org, _, rest = text.rpartition("/")
        return org.rpartition("/")[2] or None, rest
    return None, text


def quant_labels(text: str) -> list[str]:
    """Quantization labels written in the name, in order ('Q4_K_M', 'UD-Q4_K_XL', '4.65bpw', 'AWQ', '4bit')."""
    return [m.group(1) for m in QUANT_IN_NAME.finditer(text)]


def tokens(text: str) -> list[str]:
    """Lowercase words of the name: split at separators, at a dot before a letter ('v0.1.Q4_K_M'), with
    Ollama's tag separator kept as its own token (':')."""
    text = text.lower().replace("+", " plus ")
    text = re.sub(r"\.(?=[a-z])", " ", text)
    text = re.sub(r"(?<=\d)_(?=\d)", ".", text)        # internlm2_5 -> internlm2.5, 1_8b -> 1.8b
    text = text.replace(":", " : ")
    return [t.strip(".") for t in re.split(r"[\s/_\-,()\[\]*]+", text) if t.strip(".")]


def is_noise(token: str, versions: bool = True) -> bool:
    """Roles, packaging and dates; version suffixes too unless `versions` is False (they name 'mistral v0.1')."""
    return (token in NOISE or bool(_DATE.match(token)) or token in {":", "x"}
            or versions and bool(_VERSION.match(token)))


def is_size(token: str) -> bool:
    return bool(SIZE.match(token))


def size_b(token: str) -> float | None:
    """'70b' -> 70.0, '135m' -> 0.135, '8x7b' -> 56.0 (nominal; the catalog knows the real total)."""
    m = SIZE.match(token)
    if not m:
        return None
    if m.group(1):
        value = float(m.group(1))
        return value / 1000 if m.group(2) == "m" else value
    return int(m.group(3)) * float(m.group(4))


def key(words: list[str]) -> str:
    return normalize("".join(words))
