"""Split long text into Discord messages: on paragraph, then line, then word boundaries, never breaking a ``` code
fence. A fence still open at a cut is closed at the end of that chunk and reopened, with its language, at the start
of the next one, so every chunk renders on its own."""
from __future__ import annotations

from bot.discord.limits import CONTENT

FENCE = "```"
CLOSING = "\n" + FENCE


MAX_LANGUAGE = 20    # "```python": the reopened fence carries the language word only, never a long first line


def _reopening(fence_line: str) -> str:
    words = fence_line[len(FENCE):].split()
    return FENCE + (words[0][:MAX_LANGUAGE] if words else "")


def _open_fence_after(text: str, open_fence: str | None) -> str | None:
    """The fence line ("```python") still open at the end of `text`, given the one open at its start."""
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped.startswith(FENCE):
            continue
        if open_fence is None:
            open_fence = _reopening(stripped)
        elif stripped == FENCE:
            open_fence = None
    return open_fence


def _cut(text: str, budget: int) -> tuple[str, str]:
    """(head, rest): head fits `budget`, cut at the best boundary in its second half, else anywhere."""
    for boundary in ("\n\n", "\n", " "):
        at = text.rfind(boundary, 0, budget + 1)
        if at >= budget // 2 and at > 0:
            return text[:at], text[at + len(boundary):]
    for boundary in ("\n", " "):               # a short first part beats a word cut in half
        at = text.rfind(boundary, 0, budget + 1)
        if at > 0:
            return text[:at], text[at + len(boundary):]
    return text[:budget], text[budget:]


def split_message(text: str, limit: int = CONTENT) -> list[str]:
    """Chunks of at most `limit` characters that together say `text`; none empty."""
    chunks: list[str] = []
    rest = text.strip("\n")
    open_fence: str | None = None
    while rest:
        prefix = open_fence + "\n" if open_fence else ""
        if len(prefix) + len(rest) <= limit:
            chunk, rest = prefix + rest, ""
        else:
            # always leave room to close a fence the head may open or keep open
            head, rest = _cut(rest, limit - len(prefix) - len(CLOSING))
            chunk = prefix + head
            rest = rest.lstrip("\n") if not _open_fence_after(chunk, None) else rest
        open_fence = _open_fence_after(chunk, None)
        if open_fence and rest:
            chunk += CLOSING
        if chunk.strip() and chunk.strip() != (prefix + CLOSING).strip():
            chunks.append(chunk)
    return chunks
