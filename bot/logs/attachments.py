"""A log attached to a question (a .txt or .log file up to 1 MB): its bytes become text, or a one-line reason why
not. The file is only ever decoded as text; nothing in it is run or opened as anything else."""
from __future__ import annotations

import codecs

from bot.logs.parse import MAX_LOG_CHARS
from bot.text import echo

LOG_EXTENSIONS = (".txt", ".log")
MAX_ATTACHMENT_BYTES = MAX_LOG_CHARS
MAX_REPLACED_SHARE = 0.01      # more undecodable bytes than this: not text in any encoding worth reading


class UnreadableAttachment(Exception):
    """Why an attachment was not read, in one line the user can act on."""


def _name(filename: str) -> str:
    return echo(filename, 80)


def no_log_in(filename: str) -> str:
    return (f"I found no llama.cpp, Ollama, LM Studio, vLLM, nvidia-smi or rocm-smi output in {_name(filename)}, so I "
            "left it out.")


def check_attachment(filename: str, size: int) -> None:
    """Before downloading: only .txt and .log files, and none over 1 MB (Discord states the size up front)."""
    if not filename.lower().endswith(LOG_EXTENSIONS):
        raise UnreadableAttachment(f"I read only .txt and .log attachments, so I left {_name(filename)} out.")
    if size > MAX_ATTACHMENT_BYTES:
        raise UnreadableAttachment(f"{_name(filename)} is {size / 1e6:.1f} MB and I read logs up to 1 MB: attach "
                                   "the part from the start-up to the error.")


def attachment_text(filename: str, data: bytes) -> str:
    """The text of a downloaded .txt/.log file: UTF-8, or UTF-16 with its byte-order mark (what PowerShell's `>`
    writes). Binary content raises UnreadableAttachment."""
    data = data[:MAX_ATTACHMENT_BYTES]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    if b"\x00" in data:
        raise UnreadableAttachment(f"{_name(filename)} holds binary data, not text, so I didn't read it.")
    text = data.decode("utf-8-sig", errors="replace")
    if text.count("\ufffd") > MAX_REPLACED_SHARE * max(len(text), 1):
        raise UnreadableAttachment(f"{_name(filename)} is not UTF-8 text, so I didn't read it.")
    return text
