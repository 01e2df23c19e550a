"""Text that came from someone else, made safe for where it goes: echoed in a Discord message, printed on an
operator's terminal, or written to a log (where a server address must not carry its password or API key)."""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Discord rejects a message over 2,000 characters; an echoed name is a reminder of what was typed, not a copy.
ECHO_CHARS = 80
ELLIPSIS = "…"
REDACTED = "***"

# Markdown that Discord renders, and the characters that start mentions (@everyone, <@id>, <#channel>).
_MARKDOWN = re.compile(r"([\\*_~`|>\[\]<@])")
# C0 and C1 control characters (ESC starts terminal escape sequences) and DEL, except tab and newline.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Unicode bidirectional overrides and isolates: they reorder what a terminal shows ("Trojan Source").
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# query parameters that carry credentials (?api_key=, ?key=, ?token=, ...), matched case-insensitively
_SECRET_PARAM = re.compile(r"(?:^|[_-])(?:key|token|secret|password|passwd|pwd|auth|signature|sig|credential)s?$"
                           r"|^(?:apikey|access_token|auth_token|x-api-key|code)$", re.IGNORECASE)
# user:password@ in a URL written anywhere in a longer text (an error message, a log line)
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]{0,20}://)[^/\s@?#]{1,256}@")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,20}://[^\s\"'<>]{1,2048}")


def truncate(text: str, limit: int = ECHO_CHARS) -> str:
    """`text` on one line, at most `limit` characters, ending in an ellipsis when it was cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def escape_markdown(text: str) -> str:
    """Markdown and mention syntax shown literally in Discord (a backslash before each special character)."""
    return _MARKDOWN.sub(r"\\\1", text)


def echo(text: str, limit: int = ECHO_CHARS) -> str:
    """User input quoted back in a message: one line, cut to `limit`, control characters shown as escapes,
    Markdown and mentions escaped."""
    return escape_markdown(escape_control(truncate(text, limit)))


def escape_control(text: str, keep_newlines: bool = False) -> str:
    """Control characters written as visible escapes (ESC -> \\x1b), so that a terminal shows them instead of
    obeying them. Tabs stay; newlines stay only with `keep_newlines`."""
    def visible(match: re.Match[str]) -> str:
        char = match.group()
        return char.encode("unicode_escape").decode("ascii")

    if not keep_newlines:
        text = text.replace("\n", "\\n")
    return _BIDI.sub(visible, _CONTROL.sub(visible, text))


def redact_url(url: str) -> str:
    """The URL with its user, password and credential-bearing query values replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _URL_USERINFO.sub(lambda m: m.group("scheme") + REDACTED + "@", url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = REDACTED + "@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_PARAM.search(k) for k, _ in pairs):
            query = urlencode([(k, REDACTED if _SECRET_PARAM.search(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact(text: str, secrets: tuple[str | None, ...] = ()) -> str:
    """`text` with the credentials of every URL in it redacted, and each of `secrets` (an API key) replaced."""
    text = _URL.sub(lambda m: redact_url(m.group()), text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text
