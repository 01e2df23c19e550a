"""Reading one line of a log: the prefixes tools and log collectors put before the message, numbers and sizes as
each tool prints them, `key=value` fields of Ollama's structured log, command-line flags, llama.cpp's file types.

Everything here is linear in the line: a literal is found with str.find and a short pattern is matched at that
spot (re.match, one attempt, bounded repeats), never searched from every position of a long line.
"""
from __future__ import annotations

import re

# what collectors and the tools themselves put before a message, tried in this order, each at most once; the tool
# a prefix belongs to (None for collectors such as journald and docker compose)
_PREFIXES: tuple[tuple[re.Pattern[str], str | None], ...] = (
    # journald: "Nov 14 17:52:40 fedora ollama[1197]: "
    (re.compile(r"[A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d [\w.-]{1,64} [\w./-]{1,64}\[\d{1,10}\]: "), None),
    # docker compose: "ollama  | ", "vllm-1  | "
    (re.compile(r"[\w.-]{1,64} {1,16}\| "), None),
    # vLLM (vllm/logger.py): "(EngineCore_DP0 pid=245) ERROR 08-19 04:02:11 [core.py:1346] "
    (re.compile(r"(?:\([\w ]{1,40}pid=\d{1,10}\) )?(?:DEBUG|INFO|WARNING|ERROR|CRITICAL) \d\d-\d\d "
                r"\d\d:\d\d:\d\d(?:\.\d{1,6})? \[[^\]\n]{1,80}\] "), "vllm"),
    # vLLM workers without a level: "(Worker_TP0 pid=2412213) "
    (re.compile(r"\([\w ]{1,40}pid=\d{1,10}\) "), "vllm"),
    # llama.cpp's common log with timestamps (llama-server --log-timestamps): "0.00.269.898 I "
    (re.compile(r"\d{1,4}\.\d\d\.\d{3}\.\d{3} [IWEDT] "), "llama.cpp"),
    # LM Studio's log file: "[2026-07-23 10:21:52.880] [error] [LM Studio] "
    (re.compile(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?\] \[\w{1,10}\] (?:\[[^\]\n]{1,40}\] ?){0,4}"),
     "lm studio"),
    # `lms log stream`: "[DEBUG] llama.cpp-linux-x86_64-nvidia-cuda-avx2@2.16.0 (llama.cpp) gemma3 pid=328416 "
    (re.compile(r"\[(?:DEBUG|INFO|WARN|ERROR)\] \S{1,120} \(llama\.cpp\) \S{1,200} pid=\d{1,10} "), "lm studio"),
)
_NUMBER = re.compile(r"\s{0,80}[=:]?\s{0,40}(-?\d{1,12}(?:\.\d{1,6})?)")
_QUOTED = re.compile(r'"((?:[^"\\\n]|\\.){0,4000})"')
_UNITS = {"b": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
          "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12}
_SIZE = re.compile(r"\s{0,4}(\d{1,9}(?:\.\d{1,4})?) ?([KMGT]i?B|B)\b", re.IGNORECASE)
_SPLIT_SUFFIX = re.compile(r"-\d{5}-of-\d{5}$")
# llama.cpp's llama_ftype_name(): "Q4_K - Medium" is the file Q4_K_M, "IQ3_S mix - 3.66 bpw" is IQ3_M
_FTYPE_SIZES = {"small": "S", "medium": "M", "large": "L"}
_FTYPE_SPECIAL = {"all F32": "F32", "MXFP4 MoE": "MXFP4_MOE", "IQ3_S mix": "IQ3_M"}
_QUANT_LABEL = re.compile(r"[A-Z][A-Z0-9_]{1,14}")


def message_of(line: str) -> tuple[str, str | None]:
    """The line without timestamps, host, container or process prefixes (what the tool itself printed), and the
    tool whose own prefix it carried, if any."""
    s = line.strip()
    tool = None
    for prefix, owner in _PREFIXES:
        m = prefix.match(s)
        if m:
            s = s[m.end():]
            tool = owner or tool
    return s.strip(), tool


def number_after(s: str, key: str, start: int = 0) -> float | None:
    """The number after `key` ("n_ctx      = 8192", "Total : 24564 MiB", "n_ctx=4096"), or None."""
    at = s.find(key, start)
    if at < 0:
        return None
    m = _NUMBER.match(s, at + len(key))
    return float(m.group(1)) if m else None


def int_after(s: str, key: str, start: int = 0) -> int | None:
    value = number_after(s, key, start)
    return int(value) if value is not None else None


def trailing_int(s: str) -> int | None:
    """The integer a text ends with ("|    9764" -> 9764), read back at most 12 digits."""
    end = len(s)
    start = end
    while start > 0 and end - start < 12 and s[start - 1].isdigit():
        start -= 1
    return int(s[start:end]) if start < end else None


def size_bytes(text: str, at: int = 0) -> float | None:
    """'23.6 GiB' / '411.0 MiB' / '47 GB' at position `at` of `text` -> bytes."""
    m = _SIZE.match(text, at)
    if not m:
        return None
    return float(m.group(1)) * _UNITS[m.group(2).lower()]


def slog_value(s: str, key: str) -> str | None:
    """The value of `key` in a Go slog text line (Ollama): key=value or key="quoted \\"value\\"", or None."""
    at = s.find(f" {key}=")
    if at < 0:
        if not s.startswith(f"{key}="):
            return None
        at = -1
    at += len(key) + 2
    if at < len(s) and s[at] == '"':
        m = _QUOTED.match(s, at)
        return m.group(1).replace('\\"', '"') if m else None
    end = s.find(" ", at)
    return s[at:] if end < 0 else s[at:end]


def file_stem(path: str) -> str | None:
    """A model file's name without folders, '.gguf' and split suffixes; None for Ollama's content-addressed blobs."""
    name = path.strip().strip("'\"")
    name = name[max(name.rfind("/"), name.rfind("\\")) + 1:]
    if not name or name.startswith("sha256"):
        return None
    if name.lower().endswith(".gguf"):
        name = name[:-5]
    return _SPLIT_SUFFIX.sub("", name) or None


def quant_of_ftype(text: str) -> str | None:
    """llama.cpp's file type name ("Q4_K - Medium", "(guessed) IQ2_XXS - 2.0625 bpw", "mostly Q4_0") -> the
    label files carry (Q4_K_M, IQ2_XXS, Q4_0); None for "unknown, may not work"."""
    t = text.strip()
    for prefix in ("(guessed) ", "mostly "):
        if t.startswith(prefix):
            t = t[len(prefix):]
    head, _, tail = t.partition(" - ")
    head = head.strip()
    if head in _FTYPE_SPECIAL:
        return _FTYPE_SPECIAL[head]
    if not _QUANT_LABEL.fullmatch(head):
        return None
    size = _FTYPE_SIZES.get(tail.split(" ")[0].lower()) if tail else None
    if size and head.endswith("_K") and not (head == "Q2_K" and size == "M"):
        return f"{head}_{size}"       # Q2_K is itself the medium mix; Q2_K - Small is Q2_K_S
    return head


def flags(s: str, limit: int = 400) -> dict[str, str]:
    """Command-line options of a line, flag -> the word after it ('--ctx-size 8192'), at most `limit` words; a
    flag followed by another flag maps to ''."""
    words = s.split(maxsplit=limit)[:limit]
    out: dict[str, str] = {}
    for i, word in enumerate(words):
        if word.startswith("-") and len(word) > 1 and not word[1:2].isdigit():
            name, eq, value = word.partition("=")
            if eq:
                out[name] = value.strip("'\"")
            else:
                nxt = words[i + 1] if i + 1 < len(words) else ""
                out[name] = "" if nxt.startswith("-") and not nxt[1:2].isdigit() else nxt.strip("'\"")
    return out
