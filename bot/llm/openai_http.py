"""A model behind an OpenAI-compatible HTTP server (llama.cpp server, vLLM, Ollama), streamed over SSE."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx

from bot.llm.base import LLMError, LLMTimeout, Message
from bot.text import redact, redact_url

EXCERPT_CHARS = 200


class OpenAICompatibleBackend:
    """POSTs `{base_url}/chat/completions` with `stream: true` and yields each `choices[0].delta.content`.

    `base_url` includes the API prefix, e.g. `http://127.0.0.1:8080/v1`. With `model=None` the server is asked
    once (`GET {base_url}/models`) and its first model is used. `timeout_s` bounds both a silence of the server
    and a whole answer (checked between chunks); `connect_timeout_s` bounds opening the connection.
    Cancelling is noticed between chunks, and closes the connection.
    """

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        connect_timeout_s: float = 5.0,
    ):
        self.base_url = base_url.rstrip("/")
        # what messages and logs show: the address with its user, password and key parameters redacted
        self.shown_url = redact_url(self.base_url)
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s

    @property
    def name(self) -> str:
        """The public name (shown with answers): the model's, never the server's address, which may hold keys."""
        return self.model or "openai-compatible server"

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 200,
        temperature: float = 0.0,
        stop: list[str] | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        deadline = time.monotonic() + self.timeout_s
        with self._client() as client:
            try:
                body: dict[str, Any] = {
                    "model": self._model_id(client),
                    "messages": messages,
                    "stream": True,
                    "max_tokens": max_tokens,
                    "temperature": temperature,
                }
                if stop:
                    body["stop"] = stop
                with client.stream("POST", f"{self.base_url}/chat/completions", json=body) as response:
                    self._raise_for_status(response)
                    yield from self._pieces(response, cancel, deadline)
            except httpx.TimeoutException as exc:
                raise LLMTimeout(f"The LLM server at {self.shown_url} did not answer within its time limit "
                                 f"({type(exc).__name__}).") from exc
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                # httpx's message repeats the URL it was given, credentials included
                raise LLMError(f"Could not reach the LLM server at {self.shown_url}: "
                               f"{redact(str(exc), (self.api_key,))}") from exc

    def _client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        timeout = httpx.Timeout(self.timeout_s, connect=self.connect_timeout_s)
        return httpx.Client(headers=headers, timeout=timeout)

    def _model_id(self, client: httpx.Client) -> str:
        """The configured model, else the first one the server lists (asked once, then remembered)."""
        if self.model is None:
            response = client.get(f"{self.base_url}/models")
            self._raise_for_status(response)
            try:
                self.model = str(response.json()["data"][0]["id"])
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise LLMError(
                    f"The LLM server at {self.shown_url} lists no usable model ({_excerpt(response.text)}); "
                    "set LLM_MODEL."
                ) from exc
        return self.model

    def _raise_for_status(self, response: httpx.Response) -> None:
        if response.status_code >= 400:
            response.read()
            raise LLMError(f"The LLM server at {self.shown_url} answered HTTP {response.status_code}: "
                           f"{redact(_excerpt(response.text), (self.api_key,))}")

    def _pieces(self, response: httpx.Response, cancel: threading.Event | None, deadline: float) -> Iterator[str]:
        """Server-sent events: `data: {chunk}` lines, ended by `data: [DONE]`; other SSE fields are skipped."""
        saw_data = False
        for line in response.iter_lines():
            if cancel is not None and cancel.is_set():
                return
            if time.monotonic() > deadline:
                raise LLMTimeout(f"The LLM server at {self.shown_url} took longer than {self.timeout_s:g} s.")
            if not line.startswith("data:"):
                continue
            data = line[len("data:"):].strip()
            saw_data = True
            if data == "[DONE]":
                return
            content = _delta_content(data, self.shown_url)
            if content:
                yield content
        if not saw_data:
            # llama-cpp-python's server answers a failed generation (e.g. a prompt over its context) this way
            raise LLMError(f"The LLM server at {self.shown_url} sent no completion. Is the URL an OpenAI-compatible "
                           "API such as http://host:port/v1? If so, its log says why (often a prompt longer than "
                           "its context).")


def _delta_content(data: str, base_url: str) -> str | None:
    try:
        chunk = json.loads(data)
    except ValueError as exc:
        raise LLMError(f"The LLM server at {base_url} sent a chunk that is not JSON: {_excerpt(data)}") from exc
    if not isinstance(chunk, dict):
        raise LLMError(f"The LLM server at {base_url} sent an unexpected chunk: {_excerpt(data)}")
    if "error" in chunk:
        # llama.cpp server and vLLM report failures after the stream started as an `error` object
        error = chunk["error"]
        message = error.get("message", error) if isinstance(error, dict) else error
        raise LLMError(f"The LLM server at {base_url} failed while answering: {_excerpt(str(message))}")
    try:
        choices = chunk.get("choices") or []
        if not choices:
            return None  # e.g. a final usage-only chunk
        content = (choices[0].get("delta") or {}).get("content")
    except (AttributeError, TypeError) as exc:
        raise LLMError(f"The LLM server at {base_url} sent an unexpected chunk: {_excerpt(data)}") from exc
    return content if isinstance(content, str) else None


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "..."

