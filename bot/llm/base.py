"""The one interface every LLM backend implements, and the errors they raise."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Protocol

from bot.errors import WillItRunError

# {"role": "system" | "user" | "assistant", "content": "..."}: the OpenAI chat shape, which both backends accept.
Message = dict[str, str]


class LLMError(WillItRunError):
    """The model could not answer: missing model file, server down, prompt too long, malformed reply."""


class LLMTimeout(LLMError):
    """The model took longer than its time limit."""


class LLMBackend(Protocol):
    """Streams a chat completion as pieces of text.

    `stream` yields text as it is generated and returns early, without error, once `cancel` is set (checked
    between pieces). Callers that stop iterating early should close the iterator (`contextlib.closing`) so the
    backend frees the model or the connection at once rather than when the iterator is garbage-collected.
    """

    name: str

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 200,
        temperature: float = 0.0,
        stop: list[str] | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[str]: ...
