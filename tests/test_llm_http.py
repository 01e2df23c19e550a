"""OpenAICompatibleBackend against a real HTTP server on 127.0.0.1 that streams like llama.cpp server and vLLM."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from fake_openai import FakeOpenAIServer

from bot.llm.base import LLMError, LLMTimeout
from bot.llm.factory import make_backend
from bot.llm.openai_http import OpenAICompatibleBackend
from bot.settings import Settings

QUESTION = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "What is a GGUF?"}]


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    fake = FakeOpenAIServer().start()
    yield fake
    fake.stop()


def backend_for(server: FakeOpenAIServer, **kwargs) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(server.base_url, **{"model": "served-model", **kwargs})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_pieces_arrive_in_order_and_join_to_the_sent_text(server):
    pieces = list(backend_for(server).stream(QUESTION))

    assert pieces == server.pieces
    assert "".join(pieces) == "Hello, world!"


def test_request_carries_model_messages_stream_and_sampling(server):
    list(backend_for(server).stream(QUESTION, max_tokens=17, temperature=0.3, stop=["\n\n"]))

    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.body == {"model": "served-model", "messages": QUESTION, "stream": True, "max_tokens": 17,
                            "temperature": 0.3, "stop": ["\n\n"]}


def test_api_key_is_sent_as_a_bearer_token(server):
    list(backend_for(server, api_key="sk-local-123").stream(QUESTION))

    assert server.requests[0].headers["Authorization"] == "Bearer sk-local-123"


def test_no_authorization_header_without_an_api_key(server):
    list(backend_for(server).stream(QUESTION))

    assert "Authorization" not in server.requests[0].headers


def test_http_500_raises_llm_error_with_status_and_body_excerpt(server):
    server.mode = "fail"

    with pytest.raises(LLMError, match="HTTP 500") as caught:
        list(backend_for(server).stream(QUESTION))
    assert "out of memory" in str(caught.value)
    assert not isinstance(caught.value, LLMTimeout)


def test_a_stalled_server_raises_llm_timeout_within_the_timeout(server):
    server.mode = "stall"
    started = time.monotonic()

    with pytest.raises(LLMTimeout):
        list(backend_for(server, timeout_s=0.5).stream(QUESTION))
    assert time.monotonic() - started < 2.0


def test_a_chunk_that_is_not_json_raises_llm_error_quoting_it(server):
    server.mode = "garbage"

    with pytest.raises(LLMError, match="not JSON: {this is not json"):
        list(backend_for(server).stream(QUESTION))


def test_a_stream_without_any_event_raises_llm_error_instead_of_an_empty_answer(server):
    server.mode = "empty"

    with pytest.raises(LLMError, match="sent no completion"):
        list(backend_for(server).stream(QUESTION))


def test_a_refused_connection_raises_llm_error_naming_the_url():
    url = f"http://127.0.0.1:{free_port()}/v1"

    with pytest.raises(LLMError, match=f"Could not reach the LLM server at {url}"):
        list(OpenAICompatibleBackend(url, model="m").stream(QUESTION))


def test_cancel_stops_reading_and_closes_the_connection(server):
    server.pieces = [f"w{i} " for i in range(200)]
    server.seconds_between_pieces = 0.02
    cancel = threading.Event()
    received = []

    for piece in backend_for(server).stream(QUESTION, cancel=cancel):
        received.append(piece)
        cancel.set()

    assert received == ["w0 "]
    assert server.client_gone.wait(timeout=5), "the server kept writing to an open connection"


def test_without_a_model_the_first_served_model_is_asked_for_once(server):
    server.models = ["qwen2.5-7b-instruct", "other"]
    backend = OpenAICompatibleBackend(server.base_url, model=None)

    list(backend.stream(QUESTION))
    list(backend.stream(QUESTION))

    assert server.paths("GET") == ["/v1/models"]
    assert [r.body["model"] for r in server.requests if r.method == "POST"] == ["qwen2.5-7b-instruct"] * 2


def test_a_server_with_no_models_asks_for_llm_model(server):
    server.models = []

    with pytest.raises(LLMError, match="set LLM_MODEL"):
        list(OpenAICompatibleBackend(server.base_url).stream(QUESTION))


def test_name_is_the_model_only_never_the_server_address(server):
    name = backend_for(server).name
    assert "127.0.0.1" not in name and "http" not in name


def test_settings_with_a_base_url_make_an_http_backend():
    settings = Settings(llm_base_url="http://gpu-box:8000/v1/", llm_model="qwen2.5-7b", llm_api_key="k")

    backend = make_backend(settings)

    assert isinstance(backend, OpenAICompatibleBackend)
    assert (backend.base_url, backend.model, backend.api_key) == ("http://gpu-box:8000/v1", "qwen2.5-7b", "k")
