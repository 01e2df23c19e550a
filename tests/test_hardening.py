"""What hostile or careless input must not do: stall the router, overflow a Discord reply, crash a --stdin run,
drive the operator's terminal, or leak the LLM server's credentials."""
import io
import json
import logging
import random
import re
import subprocess
import sys
import time

import pytest

from bot.errors import InvalidRequestError, UnknownNameError
from bot.llm.base import LLMError
from bot.llm.openai_http import OpenAICompatibleBackend
from bot.ops.health import check_llm_server
from bot.ops.logs import setup_logging
from bot.retrieval import symptoms, tokens
from bot.routing import classify
from bot.routing.classify import Router
from bot.routing.schema import SizingFields, missing_model_message
from bot.settings import Settings
from bot.sizing.schema import MAX_GPUS, SizingRequest
from bot.text import echo, escape_control, redact, redact_url
from tests.fake_openai import FakeOpenAIServer

LIMIT_S = 0.050
N = 10_000
LOG = "Traceback (most recent call last):\n" + "\n".join(
    f'  File "/app/llama_cpp/llama.py", line {i}, in generate\n    ggml_cuda_error: CUDA error: out of memory '
    f"at ggml-cuda.cu:{i}" for i in range(300))


def _repeat(unit: str) -> str:
    return (unit * (N // len(unit) + 1))[:N]


ADVERSARIAL = {
    "newlines": "\n" * N,
    "spaces": " " * N,
    "spaces then a word": " " * N + "x",
    "repeated words": _repeat("what gpu do i need "),
    "repeated 'a'": "a" * N,
    "'a' and spaces": _repeat("a "),
    "punctuation": _repeat("!?.,;:-_/()[]"),
    "question marks": "?" * N,
    "identifier parts": _repeat("CUDA_ERROR_"),
    "camel case": _repeat("hipErrorNo"),
    "alternating case": _repeat("aA"),
    "underscores": "_" * N,
    "gpu list": _repeat("3090+"),
    "hardware then blanks": "gpu" + " " * N,
    "not found": _repeat("not found "),
    "file lines": _repeat('file "'),
    "pasted log": LOG[:N],
    # numbers: money, prices per kWh or per million tokens, sequence lengths (bot.routing.calc_fields)
    "digits": "1" * N,
    "dotted digits": _repeat("1."),
    "dollar amounts": _repeat("$1"),
    "digit groups": _repeat("1,"),
    "digits and spaces": _repeat("1 "),
    "sizes": _repeat("1x"),
    # every marker the log reader (bot.logs) looks for, on every line: the router reads pasted logs first
    "log markers": _repeat('offloaded 1/2 layers to GPU buffer size = 1 MiB n_ctx = 5 Device 0: x, VMM: y | 1MiB / '
                           '3MiB GPU[0] msg="x" level=INFO --model m -c 9\n'),
}


def _best_of_three(call, text) -> float:
    """The fastest of three runs: what the code costs, less what other processes on the machine took."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        call(text)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.fixture(scope="module")
def rules_router(core):
    """The router's rules without the retrieval tie-breaker (timed on its own, below)."""
    return Router(core.catalog, core.router.vocabulary)


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_routing_rules_stay_fast_on_adversarial_input(rules_router, name):
    assert _best_of_three(rules_router.route, ADVERSARIAL[name]) < LIMIT_S


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_field_extraction_stays_fast_on_adversarial_input(core, name):
    assert _best_of_three(core.router.extractor.extract, ADVERSARIAL[name]) < LIMIT_S


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_symptom_matcher_stays_fast_on_adversarial_input(retriever, name):
    assert _best_of_three(retriever.symptoms.match, ADVERSARIAL[name]) < LIMIT_S


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_search_beyond_the_query_embedding_stays_fast_on_adversarial_input(retriever, name):
    # the query's embedding is cut at the model's token limit, so its cost does not grow with the text; everything
    # after it (BM25, the symptom matcher, names, fusion) must not either
    best = float("inf")
    for _ in range(3):
        tokens._tokens.cache_clear()       # each run reads the text afresh, as a new question would
        start = time.perf_counter()
        result = retriever.search(ADVERSARIAL[name])
        best = min(best, time.perf_counter() - start - result.timings_ms["embed_and_dense"] / 1000)
    assert best < LIMIT_S


@pytest.mark.parametrize("name", ["newlines", "repeated 'a'", "pasted log", "hardware then blanks"])
def test_route_with_retrieval_costs_little_more_than_one_search(core, name):
    text = ADVERSARIAL[name]
    search = _best_of_three(lambda t: core.retriever.search(t, k=1), text)
    assert _best_of_three(core.router.route, text) < search + LIMIT_S


# The three patterns as they were (quadratic); the rewrites must give the same answers on every input.
OLD_ERROR_PASTE = re.compile(
    r"(traceback \(most recent call last\)|^\s*file \".+\", line \d+|\b\w*(error|exception)\s*:|\bcuda error\b|"
    r"exit (code|status) -?\d+|\bfailed to\b|\bsegmentation fault\b|\bcore dumped\b|\bassert(ion)? failed\b|"
    r"^\s*at [\w.$]+\(|^\s*(error|fatal|warning)\b|\berrno\b|\bcudamalloc\b|\bout of memory\b|\billegal instruction\b|"
    r"\bnot found\b.*\b(lib\w*\.so|dll)\b|\blib\w+\.so(\.\d+)*\b|\bhsa_status\w*|\bhiperror\w*)",
    re.IGNORECASE | re.MULTILINE)
OLD_HARDWARE_NEED = re.compile(
    r"\b(what|which|how much|how many|minimum|min|recommended|best|cheapest)\b[\w\s'/-]{0,30}?\b(gpu|gpus|card|cards|"
    r"graphics|mac|macbook|hardware|vram|ram|memory|setup|rig|pc|computer|machine|specs?)\b|\b(gpu|vram|hardware|"
    r"specs?|setup|rig|ram|memory)\b\s+(?:do i|would i|will i|i|to|you|does one)?\s*(?:need|needed|required|"
    r"requirements?)\b|\b(system )?requirements\b")
OLD_IDENTIFIER = re.compile(r"[A-Za-z0-9]+(?:_[A-Za-z0-9]+){2,}|[a-z]+(?:[A-Z][a-z0-9]+){2,}")


def _random_texts(parts: list[str], count: int = 20_000, seed: int = 16):
    rnd = random.Random(seed)
    for _ in range(count):
        yield "".join(rnd.choice(parts) for _ in range(rnd.randint(0, 12)))


def test_error_paste_detection_answers_as_the_old_pattern_did():
    parts = ["error", "Error", "exception", ":", " ", "\n", "\t", 'file "x", line 3', "at a.b(", "not found",
             "libcuda.so", "lib", ".so", ".1", "dll", "x", "_", "fatal", "warning", "cuda error", "a"]
    for text in _random_texts(parts):
        assert classify.is_error_paste(text) == bool(OLD_ERROR_PASTE.search(text)), repr(text)


def test_hardware_need_pattern_answers_as_the_old_one_did():
    parts = ["gpu", "vram", "ram", " ", "  ", "\n", "do i", "i", "to", "you", "need", "needed", "requirements",
             "what", "best", "card", "x", "system "]
    for text in _random_texts(parts):
        assert bool(classify._HARDWARE_NEED.search(text)) == bool(OLD_HARDWARE_NEED.search(text)), repr(text)


def test_identifier_pattern_finds_what_the_old_one_found():
    parts = ["a", "A", "b", "B", "1", "9", "_", " ", "-", "x", "Q", "ab", "Ab", "Err"]
    for text in _random_texts(parts):
        assert symptoms._IDENTIFIER.findall(text) == OLD_IDENTIFIER.findall(text), repr(text)


# ---------------------------------------------------------------------------------------------- echoed input
def test_an_unknown_name_is_echoed_short_enough_for_discord(catalog):
    with pytest.raises(UnknownNameError) as caught:
        catalog.gpu("x" * 3000)
    message = str(caught.value)
    assert len(message) < 200 and "…" in message


def test_an_unknown_name_is_looked_up_quickly_however_long(catalog):
    assert _best_of_three(lambda n: pytest.raises(UnknownNameError, catalog.gpu, n), "rtx " * 2500) < 0.2


def test_an_echoed_name_shows_markdown_and_mentions_literally(catalog):
    with pytest.raises(UnknownNameError) as caught:
        catalog.model("@everyone **bold** <@123>")
    message = str(caught.value)
    assert "@everyone" not in message.replace("\\@everyone", "")
    assert "\\*\\*bold\\*\\*" in message and "\\<\\@123\\>" in message


def test_the_clarifying_question_echoes_an_unknown_model_short():
    message = missing_model_message(SizingFields(unknown_model="llama " * 500))
    assert len(message) < 250 and "…" in message


def test_echo_cuts_to_80_characters_with_an_ellipsis():
    assert echo("a" * 100) == "a" * 79 + "…"
    assert echo("short name") == "short name"


# ---------------------------------------------------------------------------------------------- multi-GPU lists
def test_a_list_of_more_than_max_gpus_is_refused_with_a_clear_message(engine):
    with pytest.raises(ValueError, match=f"at most {MAX_GPUS} GPUs"):
        SizingRequest(model="llama 3.1 8b", gpu="+".join(["3090"] * 1000))


def test_max_gpus_in_a_list_still_size(engine):
    report = engine.size(SizingRequest(model="llama 3.1 8b", gpu="+".join(["3090"] * MAX_GPUS)))
    assert len(report.devices) >= MAX_GPUS


def test_the_engine_refuses_a_long_gpu_list_that_skipped_validation(engine):
    request = SizingRequest.model_construct(model="llama 3.1 8b", gpu="+".join(["3090"] * 1000), gpus=1,
                                            **{k: f.default for k, f in SizingRequest.model_fields.items()
                                               if k not in ("model", "gpu", "gpus")})
    with pytest.raises(InvalidRequestError, match=f"At most {MAX_GPUS} GPUs"):
        engine.size(request)


# ---------------------------------------------------------------------------------------------- the CLI
def willitrun(*args, stdin=None, env=None):
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          timeout=180, env=env)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_size_refuses_a_non_finite_number_with_a_message(value):
    run = willitrun("size", "llama 3.1 8b", "--gpu", "3090", f"--reserved={value}")
    assert run.returncode == 2
    assert "finite number" in run.stderr and "Traceback" not in run.stderr


def test_size_stdin_answers_every_line_after_a_bad_one():
    good = json.dumps({"model": "llama 3.1 8b", "gpu": "rtx 3060"})
    lines = [good, '{"model": "llama 3.1 8b", "gpu": "3090", "reserved_gb": 1e999}', "not json", good]
    run = willitrun("size", "--stdin", stdin="\n".join(lines) + "\n")
    out = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(out) == 4
    assert "finite number" in out[1]["error"] and "error" in out[2]
    assert out[0]["verdict"] == out[3]["verdict"] == "fits"


def test_route_and_search_stdin_answer_each_line_once():
    lines = "what is gguf\n" + "\x1b[2J" * 100 + "\n" + "a" * 10_000 + "\n"
    for command in ("route", "search"):
        run = willitrun(command, "--stdin", stdin=lines)
        assert run.returncode == 0 and len(run.stdout.splitlines()) == 3


def test_report_shows_escape_sequences_instead_of_sending_them(tmp_path):
    from bot.discord.store import Store, default_path

    Store(default_path(tmp_path)).record_unanswered("hi \x1b]0;owned\x07\x1b[2J there")
    env = {**__import__("os").environ, "DATA_DIR": str(tmp_path)}
    run = willitrun("report", env=env)
    assert "\x1b" not in run.stdout and "\x07" not in run.stdout
    assert "\\x1b[2J" in run.stdout


def test_escape_control_keeps_text_readable():
    assert escape_control("a\x1b[31mred\x00\r\n") == "a\\x1b[31mred\\x00\\r\\n"
    assert escape_control("ok\tq4_k_m — café") == "ok\tq4_k_m — café"
    assert escape_control("right\u202eleft") == "right\\u202eleft"


# ---------------------------------------------------------------------------------------------- credentials
SECRET_URLS = [
    ("http://admin:hunter2@gpu-box:8080/v1", "hunter2"),
    ("http://gpu-box:8080/v1?api_key=sk-live-123456", "sk-live-123456"),
    ("https://gpu-box/v1?key=AIzaSecret99", "AIzaSecret99"),
    ("https://gpu-box/v1?model=x&token=tok-abcdef", "tok-abcdef"),
]


@pytest.mark.parametrize(("url", "secret"), SECRET_URLS)
def test_redact_url_removes_credentials_and_keeps_the_address(url, secret):
    shown = redact_url(url)
    assert secret not in shown and "gpu-box" in shown and "***" in shown


def test_redact_finds_urls_inside_a_message():
    text = "Could not reach http://u:p4ssw0rd@h:1/v1 (see http://h:1/v1?api_key=abcd1234)"
    shown = redact(text)
    assert "p4ssw0rd" not in shown and "abcd1234" not in shown and "http://***@h:1/v1" in shown


def _unreachable_with_credentials(secret_url: str):
    # a closed port on this machine: the connection is refused at once
    return secret_url.replace("gpu-box:8080", "127.0.0.1:9").replace("gpu-box", "127.0.0.1:9")


@pytest.mark.parametrize(("url", "secret"), SECRET_URLS)
def test_llm_errors_and_the_backend_name_hide_credentials(url, secret):
    backend = OpenAICompatibleBackend(_unreachable_with_credentials(url), model="qwen2.5-7b", connect_timeout_s=2)
    with pytest.raises(LLMError) as caught:
        list(backend.stream([{"role": "user", "content": "hi"}]))
    assert secret not in str(caught.value)
    assert backend.name == "qwen2.5-7b"


def test_an_http_error_message_hides_credentials():
    server = FakeOpenAIServer(mode="fail").start()
    try:
        url = server.base_url.replace("http://", "http://me:s3cr3tpass@") + "?api_key=k3y-000111"
        with pytest.raises(LLMError) as caught:
            list(OpenAICompatibleBackend(url, model="m").stream([{"role": "user", "content": "hi"}]))
    finally:
        server.stop()
    assert "s3cr3tpass" not in str(caught.value) and "k3y-000111" not in str(caught.value)


@pytest.mark.parametrize(("url", "secret"), SECRET_URLS)
def test_health_hides_llm_server_credentials(url, secret):
    check = check_llm_server(Settings(llm_base_url=_unreachable_with_credentials(url)))
    assert not check.ok and secret not in check.detail


def test_logs_hide_credentials_in_urls():
    stream = io.StringIO()
    handler = setup_logging(Settings(), stream=stream)
    try:
        logging.getLogger("test").warning("failed: http://me:hunter2@gpu-box/v1?token=t0ken-value")
    finally:
        logging.getLogger().removeHandler(handler)
    assert "hunter2" not in stream.getvalue() and "t0ken-value" not in stream.getvalue()
    assert "gpu-box" in stream.getvalue()
