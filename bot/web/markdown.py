"""The small part of Markdown our knowledge entries use, rendered to HTML that is safe by construction: every piece
of text is escaped first, and only these are made into tags: paragraphs, `-` and `1.` lists (with code blocks and
continuation lines inside items), fenced code blocks, `inline code`, **bold** and [links](https://...) to http(s)
addresses. Anything else stays visible as text."""
from __future__ import annotations

import html
import re

_ITEM = re.compile(r"^( {0,3})([-*]|\d+[.)])\s+(.*)$")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^\s)]+)\)")


def inline(text: str) -> str:
    """One line or paragraph of text: escaped, then code spans (their content left alone), bold and links."""
    parts = re.split(r"(`[^`]+`)", text)
    out = []
    for part in parts:
        if len(part) > 2 and part.startswith("`") and part.endswith("`"):
            out.append(f"<code>{html.escape(part[1:-1], quote=False)}</code>")
            continue
        escaped = html.escape(part, quote=True)
        escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
        escaped = _LINK.sub(r'<a href="\2" rel="nofollow noopener">\1</a>', escaped)
        out.append(escaped)
    return "".join(out)


class _Item:
    def __init__(self, text: str):
        self.parts: list[tuple[str, str]] = [("text", text)]

    def add_text(self, text: str) -> None:
        if self.parts[-1][0] == "text":
            self.parts[-1] = ("text", f"{self.parts[-1][1]} {text}".strip())
        else:
            self.parts.append(("text", text))

    def html(self) -> str:
        return "".join(inline(v) if k == "text" else v for k, v in self.parts)


def render_markdown(text: str) -> str:
    out: list[str] = []
    paragraph: list[str] = []
    items: list[_Item] = []
    list_tag = ""
    list_start = 1
    fence: list[str] | None = None
    fence_indent = 0
    fence_in_item = False
    previous_blank = True

    def close_paragraph() -> None:
        if paragraph:
            out.append(f"<p>{inline(' '.join(paragraph))}</p>")
            paragraph.clear()

    def close_list() -> None:
        nonlocal list_tag
        if items:
            start = f' start="{list_start}"' if list_tag == "ol" and list_start != 1 else ""
            out.append(f"<{list_tag}{start}>" + "".join(f"<li>{i.html()}</li>" for i in items) + f"</{list_tag}>")
            items.clear()
        list_tag = ""

    for line in text.split("\n"):
        stripped = line.strip()
        if fence is not None:
            if stripped.startswith("```"):
                block = f"<pre><code>{html.escape(chr(10).join(fence), quote=False)}</code></pre>"
                if fence_in_item:
                    items[-1].parts.append(("html", block))
                else:
                    out.append(block)
                fence = None
            else:
                indent = len(line) - len(line.lstrip(" "))
                fence.append(line[min(indent, fence_indent):])
            continue
        indent = len(line) - len(line.lstrip(" "))
        if stripped.startswith("```"):
            close_paragraph()
            fence_in_item = bool(items) and indent > 0
            if not fence_in_item:
                close_list()
            fence, fence_indent = [], indent
            previous_blank = False
            continue
        item = _ITEM.match(line)
        if item:
            close_paragraph()
            tag = "ul" if item.group(2) in "-*" else "ol"
            if tag != list_tag:
                close_list()
                list_tag = tag
                list_start = int(item.group(2)[:-1]) if tag == "ol" else 1
            items.append(_Item(item.group(3)))
        elif not stripped:
            close_paragraph()
        elif items and (indent > 0 or not previous_blank):
            items[-1].add_text(stripped)
        else:
            close_list()
            paragraph.append(stripped)
        previous_blank = not stripped
    if fence is not None:         # an unclosed fence still shows its lines
        out.append(f"<pre><code>{html.escape(chr(10).join(fence), quote=False)}</code></pre>")
    close_paragraph()
    close_list()
    return "\n".join(out)
