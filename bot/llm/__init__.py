"""LLM backends: one streaming interface, a llama.cpp model in process or an OpenAI-compatible server, and a queue.

Importing this package does not import llama_cpp; the local backend does that when it first loads its model.
"""
from __future__ import annotations

from bot.llm.base import LLMBackend, LLMError, LLMTimeout, Message
from bot.llm.factory import make_backend
from bot.llm.local import LocalLlamaBackend
from bot.llm.models import bundled_model_path, resolve_model_path
from bot.llm.openai_http import OpenAICompatibleBackend
from bot.llm.queue import GenerationQueue, Job, JobState, QueueFull

__all__ = [
    "GenerationQueue",
    "Job",
    "JobState",
    "LLMBackend",
    "LLMError",
    "LLMTimeout",
    "LocalLlamaBackend",
    "Message",
    "OpenAICompatibleBackend",
    "QueueFull",
    "bundled_model_path",
    "make_backend",
    "resolve_model_path",
]
