"""The HTTP API against a real uvicorn server on localhost: every endpoint, every error shape, and the same answers
as the CLI's --json for the same request."""
import contextlib
import json
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
import uvicorn

from bot.answer.schema import Answer
from bot.llm.local import LocalLlamaBackend
from bot.llm.openai_http import OpenAICompatibleBackend
from bot.web.app import create_app
from tests.fake_openai import FakeOpenAIServer
from tests.helpers import core_with

PERMALINK = {"model": "llama-3.3-70b", "gpu": "rtx-3090", "gpus": 2, "quant": "Q4_K_M", "context": 16384}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(app):
    """`app` under a real uvicorn server on a free localhost port, in a thread; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(10)


def cli_json(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "bot.cli", *args, "--json"], capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout)


def cli_error(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    return done.stderr.strip().splitlines()[-1].removeprefix("error: ")


@pytest.fixture(scope="module")
def base(core):
    with serve(create_app(core_with(core, web_rate_limit_per_minute=0))) as url:
        yield url


@pytest.fixture(scope="module")
def client(base):
    with httpx.Client(base_url=base, timeout=60) as c:
        yield c


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"]
    return body


# -- size ---------------------------------------------------------------------------------------------------------
def test_size_answers_what_the_cli_prints_for_the_same_request(client):
    cli = cli_json("size", "llama-3.3-70b", "--gpu", "rtx-3090", "--gpus", "2", "--quant", "Q4_K_M",
                   "--context", "16384")
    response = client.get("/api/v1/size", params=PERMALINK)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.json() == cli


def test_size_takes_a_json_body_too(client):
    assert client.post("/api/v1/size", json=PERMALINK).json() == client.get("/api/v1/size", params=PERMALINK).json()


def test_an_unknown_model_is_a_404_problem_with_suggestions(client):
    body = assert_problem(client.get("/api/v1/size", params={"model": "llama 3.3 7OB", "gpu": "3090"}), 404)
    assert body["type"] == "/problems/unknown-name" and body["suggestions"]
    assert body["detail"] == cli_error("size", "llama 3.3 7OB", "--gpu", "3090")


def test_invalid_input_is_a_422_problem_with_the_cli_message(client):
    body = assert_problem(client.get("/api/v1/size", params={"gpu": "rtx-3090"}), 422)
    assert body["detail"] == cli_error("size", "--gpu", "rtx-3090")
    assert body["errors"][0]["msg"].startswith("Value error")
    wrong_type = assert_problem(client.post("/api/v1/size", json={"model": "llama-3.1-8b", "gpus": "two"}), 422)
    assert wrong_type["errors"][0]["loc"] == ["gpus"]
    assert_problem(client.get("/api/v1/size", params={"model": "llama-3.1-8b", "colour": "red"}), 422)


def test_an_impossible_option_is_a_422_problem_with_the_cli_message(client):
    body = assert_problem(client.get("/api/v1/size", params={"model": "llama-3.1-8b", "kv_cache_type": "q3"}), 422)
    assert body["type"] == "/problems/invalid-request"
    assert body["detail"] == cli_error("size", "llama-3.1-8b", "--kv-cache", "q3")


def test_a_gguf_path_on_the_server_is_refused(client):
    body = assert_problem(client.get("/api/v1/size", params={"gguf": "/etc/passwd"}), 422)
    assert "not offered over HTTP" in body["detail"]


def test_a_body_over_the_cap_is_413(client):
    big = {"model": "x" * 20_000}
    assert_problem(client.post("/api/v1/size", json=big), 413)

    def chunks():                    # no Content-Length: counted as it arrives
        yield b'{"model": "'
        for _ in range(40):
            yield b"x" * 1000
        yield b'"}'
    assert_problem(client.post("/api/v1/size", content=chunks(), headers={"content-type": "application/json"}), 413)


def test_a_long_query_string_is_414(client):
    assert_problem(client.get("/api/v1/size", params={"model": "x" * 3000}), 414)


def test_past_the_rate_a_client_gets_429_with_retry_after(core):
    limited = core_with(core, web_rate_limit_per_minute=6, web_rate_limit_burst=3)
    with serve(create_app(limited)) as url, httpx.Client(base_url=url) as c:
        statuses = [c.get("/api/v1/catalog/models", params={"q": "llama"}).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited_response = c.get("/api/v1/catalog/models")
        assert_problem(limited_response, 429)
        assert int(limited_response.headers["retry-after"]) >= 1
        assert c.get("/healthz").status_code == 200          # health checks are never limited


# -- the other endpoints ------------------------------------------------------------------------------------------
def test_choose_answers_what_the_cli_prints(client):
    cli = cli_json("choose", "qwen2.5 32b", "--context", "16384")
    assert client.get("/api/v1/choose", params={"model": "qwen2.5 32b", "context": 16384}).json() == cli
    assert client.post("/api/v1/choose", json={"model": "qwen2.5 32b", "context": 16384}).json() == cli


def test_search_ranks_knowledge_entries(client):
    body = client.get("/api/v1/search", params={"q": "CUDA error: out of memory", "k": 3}).json()
    assert not body["declined"] and len(body["results"]) == 3
    assert {"id", "kind", "title", "score"} <= set(body["results"][0])
    assert_problem(client.get("/api/v1/search", params={"q": "x", "k": 500}), 422)


def test_ask_answers_with_a_json_answer(client):
    response = client.post("/api/v1/ask", json={"question": "will qwen2.5 32b fit on a 4090 at 16k?"})
    answer = Answer.model_validate(response.json())
    assert answer.kind == "sizing" and answer.sizing.model.id == "qwen2.5-32b"
    knowledge = client.get("/api/v1/ask", params={"question": "what is Q4_K_M"}).json()
    assert knowledge["kind"] == "knowledge" and knowledge["sources"][0]["id"] == "q4-k-m"


def test_an_overlong_question_is_a_422_problem(client, core):
    assert_problem(client.post("/api/v1/ask", json={"question": "x" * (core.settings.max_question_chars + 1)}), 422)


def test_catalog_autocomplete_is_fuzzy_and_capped(client):
    models = client.get("/api/v1/catalog/models", params={"q": "llama 3.3"}).json()
    assert models[0]["id"] == "llama-3.3-70b"
    assert client.get("/api/v1/catalog/hardware", params={"q": "3090"}).json()[0]["id"] == "rtx-3090"
    assert client.get("/api/v1/catalog/hardware", params={"q": "rtx 309O"}).json()[0]["id"].startswith("rtx-309")
    assert len(client.get("/api/v1/catalog/models", params={"limit": 20}).json()) == 20
    assert_problem(client.get("/api/v1/catalog/models", params={"limit": 1000}), 422)


def test_health_metrics_and_the_openapi_schema(client):
    assert client.get("/healthz").json()["status"] == "ok"
    client.get("/api/v1/ask", params={"question": "what is the kv cache"})
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and 'willitrun_questions_total{route="knowledge"}' in metrics.text
    schema = client.get("/openapi.json").json()
    assert {"/api/v1/size", "/api/v1/choose", "/api/v1/search", "/api/v1/ask"} <= set(schema["paths"])
    # the CLI's own models are the API's schema
    assert {"SizingRequest", "SizingReport", "Recommendation", "SearchResult", "Answer", "Problem"} <= set(
        schema["components"]["schemas"])


def test_unknown_paths_are_problems_and_every_response_has_security_headers(client):
    response = client.get("/api/v1/nothing")
    assert_problem(response, 404)
    for r in (response, client.get("/healthz"), client.get("/")):
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"]
        assert "access-control-allow-origin" not in r.headers


def test_cors_is_only_on_for_configured_origins(core):
    app = create_app(core_with(core, web_cors_origins="https://example.org"))
    with serve(app) as url, httpx.Client(base_url=url) as c:
        allowed = c.get("/api/v1/catalog/models", headers={"origin": "https://example.org"})
        other = c.get("/api/v1/catalog/models", headers={"origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://example.org"
    assert "access-control-allow-origin" not in other.headers


# -- streaming with the bundled model -----------------------------------------------------------------------------
def read_events(response: httpx.Response) -> list[tuple[str, dict, float]]:
    events, event, start = [], None, time.monotonic()
    for line in response.iter_lines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            events.append((event, json.loads(line.removeprefix("data: ")), time.monotonic() - start))
    return events


def sse_events(core, question: str) -> list:
    with serve(create_app(core)) as url, httpx.Client(base_url=url, timeout=120) as c:
        with c.stream("POST", "/api/v1/ask", json={"question": question},
                      headers={"accept": "text/event-stream"}) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            return read_events(response)


def test_ask_streams_the_phrasing_as_server_sent_events(core, kb):
    """A faithful rephrasing streams: each whole sentence the guard supports is sent as soon as it is complete."""
    summary = " ".join(kb.entries["kv-cache"].meta.summary.split())
    server = FakeOpenAIServer(pieces=[w + " " for w in summary.split()], seconds_between_pieces=0.02)
    server.start()
    try:
        events = sse_events(core_with(core, OpenAICompatibleBackend(server.base_url, model="fake-model-7b")),
                            "what is the kv cache?")
    finally:
        server.stop()
    kinds = [kind for kind, _, _ in events]
    assert kinds[0] == "position" and kinds[-1] == "answer"
    texts = [(data["text"], at) for kind, data, at in events if kind == "text"]
    assert texts, "the phrasing arrives before the answer, a whole sentence at a time"
    assert texts[0][1] < events[-1][2]
    answer = Answer.model_validate(events[-1][1])
    assert answer.kind == "knowledge" and not answer.fallback and answer.text.startswith(texts[0][0][:40])


def test_ask_streams_the_bundled_models_answer_and_ends_with_the_answer(core, smollm2_gguf):
    events = sse_events(core_with(core, backend=LocalLlamaBackend(smollm2_gguf, n_ctx=1024, n_threads=2)),
                        "what is flash attention")
    kinds = [kind for kind, _, _ in events]
    assert kinds[0] == "position" and kinds[-1] == "answer"
    answer = Answer.model_validate(events[-1][1])
    # the bundled model wrote it; the guard decides whether its text or the entry's own is shown
    assert answer.kind == "knowledge" and answer.sources and answer.generated_tokens > 1
    assert answer.timings["first_token"] < answer.timings["total"]
    shown = [data["text"] for kind, data, _ in events if kind == "text"]
    assert all(answer.fallback or answer.text.startswith(text.rstrip("…")[:20]) for text in shown)
