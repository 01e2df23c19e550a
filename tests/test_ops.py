"""Operations: health checks, the invite URL, metrics, logs, and the deployment files."""
from __future__ import annotations

import base64
import importlib.util
import io
import json
import logging
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from fake_openai import FakeOpenAIServer

from bot.answer.schema import Answer
from bot.cli.main import main as ops_main
from bot.errors import WillItRunError
from bot.kb.load import load_knowledge
from bot.ops import health
from bot.ops.invite import build_invite
from bot.ops.logs import setup_logging
from bot.ops.metrics import Metrics, NullMetrics, metrics_from_settings, start_metrics_server
from bot.settings import REPO_ROOT, Settings


def settings_for(tmp_path: Path, **overrides) -> Settings:
    """Settings for this checkout that ignore the developer's .env and environment for the fields that matter."""
    fields = dict(data_dir=tmp_path / "data", discord_token=None, llm_enabled=True, llm_base_url=None,
                  llm_model_path=None, llm_gpu_layers=0, embedding_model=None)
    return Settings(_env_file=None, **{**fields, **overrides})


@pytest.fixture
def fresh_index(retriever) -> Path:
    """index/ brought up to date with the knowledge base (by the shared retriever fixture)."""
    return REPO_ROOT / "index"


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(REPO_ROOT / "knowledge", tmp_path / "knowledge"))


@pytest.fixture
def index_copy(fresh_index: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(fresh_index, tmp_path / "index"))


def bot_token(user_id: str = "123456789012345678") -> str:
    first = base64.urlsafe_b64encode(user_id.encode()).decode().rstrip("=")
    return f"{first}.GhJk3a.{'x1Y_' * 10}"


# ---------------------------------------------------------------------------------------------- health
def test_every_check_passes_on_this_checkout(fresh_index, tmp_path):
    checks = health.run_checks(settings_for(tmp_path))
    assert [c.name for c in checks] == ["catalog", "knowledge base", "index", "llm", "data dir", "database",
                                       "discord token"]
    assert all(c.ok for c in checks), "\n".join(c.line() for c in checks)


def test_an_edited_entry_makes_the_index_stale_and_is_named(knowledge_copy, index_copy, tmp_path):
    entry = knowledge_copy / "glossary" / "apple-silicon.md"
    entry.write_text(entry.read_text().replace("\ntitle: ", "\ntitle: Renamed ", 1))
    settings = settings_for(tmp_path, knowledge_dir=knowledge_copy, index_dir=index_copy)
    kb, _ = load_knowledge(knowledge_copy, required=None)
    check = health.check_index(settings, kb)
    assert not check.ok
    assert check.line() == ("FAIL index: stale: 1 entry changed since the last build (apple-silicon); "
                            "run `willitrun health --fix` or `willitrun index build`")


def test_a_missing_index_fails_naming_the_folder(tmp_path):
    settings = settings_for(tmp_path, index_dir=tmp_path / "empty")
    kb, _ = load_knowledge(settings.knowledge_dir, required=None)
    check = health.check_index(settings, kb)
    assert not check.ok and f"no index in {tmp_path / 'empty'}" in check.detail


def test_an_index_built_with_another_embedding_model_is_stale(index_copy, tmp_path):
    kb, _ = load_knowledge(REPO_ROOT / "knowledge", required=None)
    problem = health.index_staleness(index_copy, kb, "some-other-model")
    assert problem is not None and "built with all-MiniLM-L6-v2" in problem


def test_fix_rebuilds_a_stale_index(knowledge_copy, index_copy, tmp_path):
    (knowledge_copy / "glossary" / "apple-silicon.md").unlink()   # a removal re-embeds nothing: quick
    settings = settings_for(tmp_path, knowledge_dir=knowledge_copy, index_dir=index_copy)
    kb, _ = load_knowledge(knowledge_copy, required=None)
    fixed = health.check_index(settings, kb, fix=True)
    assert fixed.ok and fixed.detail.startswith("rebuilt (stale: 1 entry changed")
    assert health.check_index(settings, kb).ok


def test_a_missing_model_file_fails_with_the_path(tmp_path):
    missing = tmp_path / "models" / "nope.gguf"
    check = health.check_llm(settings_for(tmp_path, llm_model_path=missing))
    assert not check.ok
    assert check.line().startswith(f"FAIL llm: Model file not found: {missing}.")


def test_a_truncated_gguf_fails_and_says_to_download_again(smollm2_gguf, tmp_path):
    cut = tmp_path / "cut.gguf"
    data = smollm2_gguf.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    check = health.check_llm(settings_for(tmp_path, llm_model_path=cut))
    assert not check.ok
    assert "is not a readable GGUF file" in check.detail and "download it again" in check.detail


def test_a_file_that_is_not_gguf_fails(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_text("<html>404 Not Found</html>")
    check = health.check_llm(settings_for(tmp_path, llm_model_path=fake))
    assert not check.ok and "is not a readable GGUF file" in check.detail


def test_the_bundled_model_passes_with_its_architecture(tmp_path):
    check = health.check_llm(settings_for(tmp_path))
    assert check.ok and "(llama, " in check.detail and "CPU only" in check.detail


def test_gpu_layers_on_a_build_without_gpu_support_fail(tmp_path):
    import llama_cpp

    if llama_cpp.llama_supports_gpu_offload():
        pytest.skip("this llama-cpp-python build has GPU support")
    check = health.check_llm(settings_for(tmp_path, llm_gpu_layers=-1))
    assert not check.ok and "no GPU support" in check.detail and "GGML_CUDA=on" in check.detail


def test_an_llm_server_that_lists_models_passes(tmp_path):
    server = FakeOpenAIServer(models=["qwen2.5-7b"]).start()
    try:
        check = health.check_llm(settings_for(tmp_path, llm_base_url=server.base_url))
    finally:
        server.stop()
    assert check.ok and check.detail == f"{server.base_url} serves qwen2.5-7b"
    assert server.paths("GET") == ["/v1/models"]


def test_an_llm_base_url_without_v1_fails_with_a_hint(tmp_path):
    server = FakeOpenAIServer().start()
    try:
        base = server.base_url.removesuffix("/v1")
        check = health.check_llm(settings_for(tmp_path, llm_base_url=base))
    finally:
        server.stop()
    assert not check.ok and "HTTP 404" in check.detail and "end in /v1" in check.detail


def test_an_llm_server_that_is_down_fails_naming_the_url(tmp_path):
    server = FakeOpenAIServer().start()
    base = server.base_url
    server.stop()                                   # the port is now closed
    check = health.check_llm(settings_for(tmp_path, llm_base_url=base))
    assert not check.ok and check.detail.startswith(f"no answer from {base}/models")


def test_a_configured_model_the_server_does_not_list_is_noted_not_failed(tmp_path):
    server = FakeOpenAIServer(models=["a-model"]).start()
    try:
        check = health.check_llm(settings_for(tmp_path, llm_base_url=server.base_url, llm_model="b-model"))
    finally:
        server.stop()
    assert check.ok and "note: LLM_MODEL=b-model is not among them" in check.detail


def test_a_data_dir_that_cannot_be_created_fails(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    check = health.check_data_dir(settings_for(tmp_path, data_dir=blocker / "data"))
    assert not check.ok and "is not writable" in check.detail


def test_a_well_formed_token_passes():
    assert health.discord_token_problem(bot_token()) is None


@pytest.mark.parametrize("token, problem", [
    ("Bot " + bot_token(), "leave out the 'Bot ' prefix"),
    ('"' + bot_token() + '"', "leave out the quotes"),
    ("0123456789abcdef0123456789abcdef", "client secret"),         # what the OAuth2 page shows
    (bot_token("not-a-user-id"), "does not encode a user id"),
])
def test_common_token_mistakes_are_named(token, problem):
    assert problem in (health.discord_token_problem(token) or "")


def test_a_missing_token_fails_only_when_the_bot_must_connect(tmp_path):
    settings = settings_for(tmp_path)
    assert health.check_discord_token(settings, required=False).ok
    required = health.check_discord_token(settings, required=True)
    assert not required.ok and "DISCORD_TOKEN is not set" in required.detail


def test_health_command_exits_1_and_prints_a_fail_line_for_a_stale_index(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("INDEX_DIR", str(tmp_path / "no-index"))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LLM_BASE_URL", raising=False)
    assert ops_main(["health"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 7
    assert lines[2].startswith(f"FAIL index: no index in {tmp_path / 'no-index'}")


# ---------------------------------------------------------------------------------------------- invite
# Bit positions from Discord's permissions table (developer docs, topics/permissions).
# the bot sends, edits, embeds, attaches charts, reads reply chains and answers in threads; it adds no reactions
# and starts no threads
EXPECTED_BITS = {"VIEW_CHANNEL": 10, "SEND_MESSAGES": 11, "EMBED_LINKS": 14, "ATTACH_FILES": 15,
                 "READ_MESSAGE_HISTORY": 16, "USE_APPLICATION_COMMANDS": 31, "SEND_MESSAGES_IN_THREADS": 38}


def test_invite_asks_for_exactly_the_needed_permission_bits():
    invite = build_invite("123456789012345678")
    assert invite.permissions == sum(1 << bit for bit in EXPECTED_BITS.values())
    assert len(invite.permission_names) == len(EXPECTED_BITS)


def test_invite_url_has_the_client_id_and_both_scopes():
    url = urlsplit(build_invite("123456789012345678").url)
    assert (url.scheme, url.netloc, url.path) == ("https", "discord.com", "/oauth2/authorize")
    assert "scope=bot+applications.commands" in url.query
    assert parse_qs(url.query) == {"client_id": ["123456789012345678"], "scope": ["bot applications.commands"],
                                   "permissions": [str(sum(1 << b for b in EXPECTED_BITS.values()))]}


@pytest.mark.parametrize("client_id, message", [(None, "DISCORD_APPLICATION_ID"), ("my-bot", "not an application id")])
def test_invite_without_a_usable_client_id_says_where_to_find_it(client_id, message):
    with pytest.raises(WillItRunError, match=message):
        build_invite(client_id)


def test_invite_command_prints_the_url_and_the_permission_list(capsys):
    assert ops_main(["invite", "--client-id", "123456789012345678"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("https://discord.com/oauth2/authorize?client_id=123456789012345678&")
    assert "Send Messages in Threads" in out and "Use Application Commands" in out


# ---------------------------------------------------------------------------------------------- metrics
needs_prometheus = pytest.mark.skipif(importlib.util.find_spec("prometheus_client") is None,
                                      reason="prometheus-client (the `metrics` extra) is not installed")


def value(metrics: Metrics, name: str, **labels) -> float | None:
    return metrics.registry.get_sample_value(name, labels or None)


@needs_prometheus
def test_an_answer_counts_by_route_and_records_its_latency():
    metrics = Metrics()
    metrics.record_answer(Answer(kind="sizing", text="fits", timings={"total": 250.0}))
    assert value(metrics, "willitrun_questions_total", route="sizing") == 1
    assert value(metrics, "willitrun_answer_seconds_sum", route="sizing") == pytest.approx(0.25)
    assert value(metrics, "willitrun_questions_total", route="knowledge") is None


@needs_prometheus
def test_a_knowledge_answer_records_its_retrieval_score_and_a_fallback():
    metrics = Metrics()
    metrics.record_answer(Answer(kind="knowledge", text="...", confidence=0.62, fallback=True))
    assert value(metrics, "willitrun_retrieval_top_score_sum") == pytest.approx(0.62)
    assert value(metrics, "willitrun_answer_fallbacks_total") == 1


@needs_prometheus
def test_generation_speed_counts_tokens_after_the_first():
    metrics = Metrics()
    answer = Answer(kind="knowledge", text="...", timings={"first_token": 500.0, "generation": 2500.0})
    metrics.record_answer(answer, generated_tokens=41)
    assert value(metrics, "willitrun_generation_tokens_per_second_sum") == pytest.approx(20.0)   # 40 tokens in 2 s


@needs_prometheus
def test_feedback_and_queue_depth_are_recorded():
    metrics = Metrics()
    metrics.record_feedback(up=True)
    metrics.record_feedback(up=False)
    metrics.record_feedback(up=False)
    metrics.set_queue_depth(3)
    assert value(metrics, "willitrun_feedback_total", vote="up") == 1
    assert value(metrics, "willitrun_feedback_total", vote="down") == 2
    assert value(metrics, "willitrun_queue_depth") == 3


@needs_prometheus
def test_two_metrics_objects_do_not_share_counts():
    first, second = Metrics(), Metrics()
    first.record_feedback(up=True)
    assert value(second, "willitrun_feedback_total", vote="up") is None


@needs_prometheus
def test_the_metrics_endpoint_serves_the_registry():
    metrics = Metrics()
    metrics.record_feedback(up=True)
    server = start_metrics_server(0, metrics, address="127.0.0.1")
    try:
        response = httpx.get(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 200
    assert 'willitrun_feedback_total{vote="up"} 1.0' in response.text


def test_without_a_metrics_port_metrics_are_a_no_op(tmp_path):
    metrics = metrics_from_settings(settings_for(tmp_path, metrics_port=None))
    assert isinstance(metrics, NullMetrics)
    metrics.record_answer(Answer(kind="none", text=""))      # accepted, ignored


# ---------------------------------------------------------------------------------------------- logs
@pytest.fixture
def restored_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_logs_are_one_object_per_line_with_extra_fields(restored_root_logger, tmp_path):
    stream = io.StringIO()
    setup_logging(settings_for(tmp_path, log_format="json"), stream=stream)
    logging.getLogger("bot.test").info("answered %s", "q1", extra={"route": "sizing", "ms": 12})
    record = json.loads(stream.getvalue().strip())
    assert {k: record[k] for k in ("level", "logger", "message", "route", "ms")} == \
        {"level": "INFO", "logger": "bot.test", "message": "answered q1", "route": "sizing", "ms": 12}


def test_text_logs_are_readable_lines(restored_root_logger, tmp_path):
    stream = io.StringIO()
    setup_logging(settings_for(tmp_path, log_format="text"), stream=stream)
    logging.getLogger("bot.test").warning("index rebuilt")
    assert stream.getvalue().rstrip().endswith("WARNING bot.test: index rebuilt")


def test_setting_up_logging_twice_does_not_print_lines_twice(restored_root_logger, tmp_path):
    stream = io.StringIO()
    setup_logging(settings_for(tmp_path), stream=stream)
    setup_logging(settings_for(tmp_path), stream=stream)
    logging.getLogger("bot.test").info("once")
    assert stream.getvalue().count("once") == 1


# ---------------------------------------------------------------------------------------------- deployment files
@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())


def gpu_devices(service: dict) -> list[dict]:
    return service["deploy"]["resources"]["reservations"]["devices"]


def test_the_bot_reserves_an_nvidia_gpu(compose):
    [device] = gpu_devices(compose["services"]["bot"])
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"] and device["count"] in (1, "all")


def test_the_bot_restarts_reads_env_and_checks_its_health(compose):
    bot = compose["services"]["bot"]
    assert bot["restart"] == "unless-stopped"
    assert bot["env_file"] == ".env"
    assert bot["healthcheck"]["test"][:3] == ["CMD", "willitrun", "health"]


def test_index_data_and_models_are_named_volumes(compose):
    mounts = dict(volume.split(":")[:2] for volume in compose["services"]["bot"]["volumes"])
    assert mounts == {"index": "/app/index", "data": "/app/data", "models": "/models"}
    assert {"index", "data", "models"} <= set(compose["volumes"])


def test_the_llm_server_profile_runs_llama_cpp_server_on_the_gpu(compose):
    server = compose["services"]["llm-server"]
    assert server["profiles"] == ["llm-server"]
    # a release build (server-cuda-bNNNN), never the moving tag
    assert re.fullmatch(r"ghcr\.io/ggml-org/llama\.cpp:server-cuda-b\d+", server["image"])
    assert re.fullmatch(r"vllm/vllm-openai:v[\d.]+", compose["services"]["vllm"]["image"])
    assert gpu_devices(server)[0]["driver"] == "nvidia"
    assert compose["services"]["bot"]["depends_on"]["llm-server"]["required"] is False


def test_env_example_names_every_setting():
    text = (REPO_ROOT / ".env.example").read_text()
    named = {line.lstrip("# ").split("=", 1)[0].lower() for line in text.splitlines() if "=" in line}
    missing = set(Settings.model_fields) - named
    assert not missing, f".env.example does not mention: {sorted(missing)}"


def test_the_dockerfile_has_cuda_and_cpu_targets_a_non_root_user_and_a_healthcheck():
    text = (REPO_ROOT / "Dockerfile").read_text()
    assert " AS cuda\n" in text and " AS cpu\n" in text and "-DGGML_CUDA=on" in text
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and all(not u.startswith(("0", "root")) for u in users)
    assert text.count('CMD ["willitrun", "health", "--discord"]') == 2


def test_the_dockerfile_pins_every_base_image_by_digest_and_installs_only_from_the_lock_files():
    lines = (REPO_ROOT / "Dockerfile").read_text().splitlines()
    args = {line.split()[1].split("=", 1)[0]: line.split("=", 1)[1] for line in lines
            if line.startswith("ARG ") and "=" in line}
    stages: set[str] = set()
    for line in lines:
        if not line.startswith("FROM "):
            continue
        image = line.split()[1]
        if image.startswith("${"):
            image = args[image[2:-1]]
        assert image in stages or re.search(r"@sha256:[0-9a-f]{64}$", image), f"not pinned by digest: {line}"
        if " AS " in line:
            stages.add(line.split(" AS ")[1].strip())
    # every pip install is the lock files with --require-hashes, or the project itself without its dependencies
    instructions = re.sub(r"\\\n\s*", " ", "\n".join(line for line in lines if not line.lstrip().startswith("#")))
    runs = [line[4:] for line in instructions.splitlines() if line.startswith("RUN ")]
    installs = [part.strip() for run in runs for part in run.split("&&") if "pip install" in part]
    assert len(installs) == 6, installs
    for install in installs:
        assert ("--require-hashes" in install and "-r requirements" in install) or \
            install.endswith("pip install --no-deps -e ."), install


def run_validate_deploy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(REPO_ROOT / ".ci" / "validate-deploy"), *args], capture_output=True, text=True,
                          timeout=600)


def test_validate_deploy_passes():
    result = run_validate_deploy()
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok   ") == 4          # three compose profiles and the Dockerfile


def test_validate_deploy_rejects_a_misspelled_compose_key(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text((REPO_ROOT / "docker-compose.yml").read_text().replace("capabilities:", "capabilites:"))
    result = run_validate_deploy(str(broken))
    assert result.returncode == 1
    assert "additional properties 'capabilites' not allowed" in result.stdout


def test_invite_asks_for_thread_creation_only_when_the_bot_answers_in_threads():
    plain = build_invite("123456789012345678")
    threads = build_invite("123456789012345678", threads=True)
    assert threads.permissions == plain.permissions | (1 << 35)          # CREATE_PUBLIC_THREADS
    assert "Create Public Threads" in threads.permission_names and "Create Public Threads" not in plain.permission_names
