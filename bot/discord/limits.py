"""Discord's message limits, and the one function that makes an embed respect them.

Figures from the Discord developer docs (resources/message#embed-object-embed-limits and the create-message
endpoint): a message's content is at most 2000 characters; embeds are limited per field and to 6000 characters
across every embed of a message. A message over a limit is refused with HTTP 400 (code 50035), so the bot checks
before it sends rather than losing an answer. Embeds here are plain dicts in Discord's JSON shape.
"""
from __future__ import annotations

CONTENT = 2000
EMBEDS_PER_MESSAGE = 10
TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
EMBED_TOTAL = 6000           # across all embeds of one message
AUTOCOMPLETE_CHOICES = 25
CHOICE_NAME = 100
ELLIPSIS = "…"


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters at a line or word boundary, marked with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    cut = text[:room]
    for boundary in ("\n", " "):
        at = cut.rfind(boundary)
        if at >= room // 2:
            cut = cut[:at]
            break
    return cut.rstrip() + ELLIPSIS


def embed_length(embed: dict) -> int:
    """The characters Discord counts towards the 6000 limit: title, description, field names and values, footer
    text and author name."""
    n = len(embed.get("title", "")) + len(embed.get("description", ""))
    n += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    n += len(embed.get("footer", {}).get("text", "")) + len(embed.get("author", {}).get("name", ""))
    return n


def embed_problems(embeds: list[dict]) -> list[str]:
    """Every limit the embeds of one message break; empty when Discord would accept them."""
    found = []
    if len(embeds) > EMBEDS_PER_MESSAGE:
        found.append(f"{len(embeds)} embeds (at most {EMBEDS_PER_MESSAGE})")
    for i, e in enumerate(embeds):
        for key, limit in (("title", TITLE), ("description", DESCRIPTION)):
            if len(e.get(key, "")) > limit:
                found.append(f"embed {i} {key}: {len(e[key])} characters (at most {limit})")
        fields = e.get("fields", [])
        if len(fields) > FIELDS:
            found.append(f"embed {i}: {len(fields)} fields (at most {FIELDS})")
        for j, f in enumerate(fields):
            if len(f["name"]) > FIELD_NAME or not f["name"]:
                found.append(f"embed {i} field {j} name: {len(f['name'])} characters (1 to {FIELD_NAME})")
            if len(f["value"]) > FIELD_VALUE or not f["value"]:
                found.append(f"embed {i} field {j} value: {len(f['value'])} characters (1 to {FIELD_VALUE})")
        if len(e.get("footer", {}).get("text", "")) > FOOTER:
            found.append(f"embed {i} footer: over {FOOTER} characters")
    total = sum(embed_length(e) for e in embeds)
    if total > EMBED_TOTAL:
        found.append(f"embeds total {total} characters (at most {EMBED_TOTAL})")
    return found


def fit_embed(embed: dict, budget: int = EMBED_TOTAL) -> dict:
    """A copy of `embed` within every per-part limit and within `budget` characters in all. Parts are cut in the
    order readers need them least: the footer, then the last fields, then the description."""
    e = dict(embed)
    if "title" in e:
        e["title"] = shorten(e["title"], TITLE)
    if "description" in e:
        e["description"] = shorten(e["description"], DESCRIPTION)
    e["fields"] = [{**f, "name": shorten(f["name"], FIELD_NAME) or "\u200b",
                    "value": shorten(f["value"], FIELD_VALUE) or "\u200b"} for f in e.get("fields", [])][:FIELDS]
    if "footer" in e:
        e["footer"] = {**e["footer"], "text": shorten(e["footer"]["text"], FOOTER)}
    if embed_length(e) > budget and "footer" in e:
        del e["footer"]
    while embed_length(e) > budget and len(e["fields"]) > 1:
        e["fields"].pop()
    excess = embed_length(e) - budget
    if excess > 0 and e.get("description"):
        e["description"] = shorten(e["description"], max(len(e["description"]) - excess, 1))
    if not e["fields"]:
        del e["fields"]
    return e
