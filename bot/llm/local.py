"""A GGUF model run in process by llama-cpp-python, with the chat template stored in the GGUF."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import TemplateError

from bot.llm.base import LLMError, LLMTimeout, Message
from bot.llm.models import existing_model_file

if TYPE_CHECKING:
    from llama_cpp import Llama


class LocalLlamaBackend:
    """One llama.cpp model, loaded on first use and kept; generates for one caller at a time.

    `timeout_s` bounds one generation by the wall clock, from the moment it holds the model. It is checked between
    tokens, so prompt evaluation itself is not interrupted. Waiting for another caller's generation to finish is
    bounded by `timeout_s` as well.
    """

    def __init__(
        self,
        model_path: Path | str,
        n_gpu_layers: int = 0,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        timeout_s: float = 60.0,
    ):
        self.model_path = existing_model_file(Path(model_path))
        self.name = f"llama.cpp:{self.model_path.name}"
        self.n_gpu_layers = n_gpu_layers
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.timeout_s = timeout_s
        self._llama: Llama | None = None
        self._load_lock = threading.Lock()
        # a llama.cpp context holds one KV cache: two generations at once would corrupt each other
        self._generation_lock = threading.Lock()

    def load(self) -> None:
        """Load the model now (it is otherwise loaded by the first `stream`)."""
        self._model()

    def stream(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 200,
        temperature: float = 0.0,
        stop: list[str] | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        if not self._generation_lock.acquire(timeout=self.timeout_s):
            raise LLMTimeout(f"The local model stayed busy with another answer for more than {self.timeout_s:g} s.")
        try:
            llama = self._model()
            if cancel is not None and cancel.is_set():
                return
            deadline = time.monotonic() + self.timeout_s
            try:
                # the chat template is applied here, at once; tokens come later, from the iterator
                chunks = llama.create_chat_completion(
                    messages=messages,  # type: ignore[arg-type]
                    max_tokens=max_tokens,
                    temperature=temperature,
                    stop=stop,
                    stream=True,
                )
            except (ValueError, TemplateError) as exc:
                raise LLMError(f"The model's chat template could not format these messages: {exc}") from exc
            try:
                for piece in self._pieces(chunks):
                    if cancel is not None and cancel.is_set():
                        return
                    yield piece
                    if time.monotonic() > deadline:
                        raise LLMTimeout(f"The local model took longer than {self.timeout_s:g} s to answer.")
            finally:
                chunks.close()  # type: ignore[union-attr]
        finally:
            self._generation_lock.release()

    def _pieces(self, chunks: Iterator[Any]) -> Iterator[str]:
        """The text of each streamed chunk; llama.cpp's own errors turned into LLMError."""
        try:
            for chunk in chunks:
                # the first chunk carries only {"role": "assistant"} and the last an empty delta
                content = chunk["choices"][0]["delta"].get("content")
                if content:
                    yield content
        except ValueError as exc:
            if "exceed context window" in str(exc):
                raise LLMError(
                    f"The question and its sources are too long for the model's context of {self.n_ctx} tokens "
                    f"({exc}). Ask something shorter, or raise LLM_CONTEXT."
                ) from exc
            raise LLMError(f"llama.cpp could not generate: {exc}") from exc
        except RuntimeError as exc:
            raise LLMError(f"llama.cpp could not generate: {exc}") from exc

    def _model(self) -> Llama:
        with self._load_lock:
            if self._llama is None:
                # imported here: loading the native library is slow and only this backend needs it
                from llama_cpp import Llama

                try:
                    self._llama = Llama(
                        model_path=str(self.model_path),
                        n_gpu_layers=self.n_gpu_layers,
                        n_ctx=self.n_ctx,
                        n_threads=self.n_threads,
                        verbose=False,
                    )
                except (ValueError, RuntimeError) as exc:
                    raise LLMError(f"Could not load the model {self.model_path}: {exc}") from exc
            return self._llama
