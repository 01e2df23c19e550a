"""Settings -> the LLM backend they describe."""
from __future__ import annotations

from bot.llm.base import LLMBackend
from bot.llm.local import LocalLlamaBackend
from bot.llm.models import resolve_model_path
from bot.llm.openai_http import OpenAICompatibleBackend
from bot.settings import Settings


def make_backend(settings: Settings) -> LLMBackend:
    """An OpenAI-compatible server when LLM_BASE_URL is set, else the local GGUF (LLM_MODEL_PATH or the bundled one).

    Nothing is loaded or contacted here: the local model loads on first use, the server is asked on first use.
    """
    if settings.llm_base_url:
        return OpenAICompatibleBackend(settings.llm_base_url, model=settings.llm_model, api_key=settings.llm_api_key,
                                       timeout_s=settings.llm_timeout_s)
    return LocalLlamaBackend(
        resolve_model_path(settings.llm_model_path),
        n_gpu_layers=settings.llm_gpu_layers,
        n_ctx=settings.llm_context,
        n_threads=settings.llm_threads,
        timeout_s=settings.llm_timeout_s,
    )
