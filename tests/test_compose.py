"""docker-compose.yml: the web service runs `willitrun web` from the bot's image with a health check that works in
that image (no curl), and secrets reach only the services that use them. The file's schema is checked by the real
Compose binary in .ci/validate-deploy (tests/test_ops.py)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_web_service_runs_willitrun_web_from_the_bots_image(services):
    web, bot = services["web"], services["bot"]
    assert web["command"] == ["willitrun", "web"]
    assert web["image"] == bot["image"] and web["build"] == bot["build"]
    assert web["env_file"] == ".env"
    assert web["environment"]["WEB_HOST"] == "0.0.0.0"          # reachable from outside the container
    assert {"WEB_PORT", "WEB_WORKERS"} <= set(web["environment"])
    assert web["ports"] == ["127.0.0.1:${WEB_PORT:-8000}:${WEB_PORT:-8000}"]
    assert web["restart"] == "unless-stopped"


def test_the_web_service_needs_no_gpu_models_or_discord_token(services):
    web = services["web"]
    assert "deploy" not in web
    assert {v.split(":")[1] for v in web["volumes"]} == {"/app/index", "/app/data"}
    assert web["environment"]["DISCORD_TOKEN"] == ""


def test_hf_token_reaches_only_the_services_that_look_models_up(services):
    llm_server = services["llm-server"]
    assert "env_file" not in llm_server and "HF_TOKEN" not in (llm_server.get("environment") or {})
    assert "HF_TOKEN" in services["vllm"]["environment"]           # gated models
    assert services["bot"]["env_file"] == services["web"]["env_file"] == ".env"


def test_the_web_healthcheck_runs_with_python_alone(services):
    test = services["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"] and "/healthz" in test[3] and "curl" not in " ".join(test)


def run_healthcheck(services: dict, port: int) -> int:
    command = services["web"]["healthcheck"]["test"][1:]
    command[0] = sys.executable          # the image's `python`
    return subprocess.run(command, env={**os.environ, "WEB_PORT": str(port)}, capture_output=True,
                          timeout=30).returncode


def test_the_web_healthcheck_passes_against_willitrun_web_and_fails_without_it(services, tmp_path):
    port = free_port()
    assert run_healthcheck(services, port) != 0                    # nothing listens yet
    env = {**os.environ, "WEB_HOST": "127.0.0.1", "WEB_PORT": str(port), "WEB_WORKERS": "1",
           "LLM_ENABLED": "false", "DATA_DIR": str(tmp_path), "WEB_ACCESS_LOG": "false"}
    server = subprocess.Popen([sys.executable, "-m", "bot.cli", "web"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "willitrun web did not answer /healthz"
                time.sleep(0.5)
        assert run_healthcheck(services, port) == 0
    finally:
        server.terminate()
        server.wait(timeout=30)
