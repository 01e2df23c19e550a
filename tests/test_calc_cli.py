"""The four calculator commands answer with --json through the real CLI entry point."""
import json

import pytest

from bot.cli.main import main


@pytest.mark.parametrize("argv,key", [
    (["finetune", "llama 3.1 8b", "--method", "qlora", "--gpu", "rtx 4090", "--json"], "peak_bytes"),
    (["serve", "llama 3.1 8b", "--gpu", "h100 sxm", "--json"], "kv_cache_tokens"),
    (["image", "flux dev", "--precision", "nf4", "--gpu", "rtx 4090", "--json"], "peak_bytes"),
    (["cost", "llama 3.1 8b", "--gpu", "rtx 4090", "--json"], "break_even_months"),
])
def test_command_prints_its_json(argv, key, capsys):
    assert main(argv) == 0
    assert key in json.loads(capsys.readouterr().out)


def _json(argv, capsys) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_finetune_recipe_reaches_the_calculator(capsys):
    hf = _json(["finetune", "llama 3.1 8b", "--method", "lora"], capsys)
    litgpt = _json(["finetune", "llama 3.1 8b", "--method", "lora", "--recipe", "bf16-true"], capsys)
    assert litgpt["peak_bytes"] != hf["peak_bytes"]


def test_serve_kv_cache_memory_bytes_sets_the_budget(capsys):
    small = _json(["serve", "llama 3.1 8b", "--gpu", "h100 sxm", "--kv-cache-memory-bytes", str(4 * 2**30)], capsys)
    large = _json(["serve", "llama 3.1 8b", "--gpu", "h100 sxm", "--kv-cache-memory-bytes", str(8 * 2**30)], capsys)
    # Llama 3.1 8B keeps 128 KiB of KV per token in 16 bits: 4 GiB holds 32,768 tokens
    assert small["kv_cache_tokens"] == 32768
    assert large["kv_cache_tokens"] == 2 * small["kv_cache_tokens"]


def test_serve_vllm_release_picks_that_releases_accounting(capsys):
    old = _json(["serve", "llama 3.1 8b", "--gpu", "rtx 3090", "--vllm-release", "0.6.4"], capsys)
    new = _json(["serve", "llama 3.1 8b", "--gpu", "rtx 3090"], capsys)
    assert old["kv_cache_tokens"] != new["kv_cache_tokens"]


def test_serve_bad_vllm_release_is_a_clear_message(capsys):
    assert main(["serve", "llama 3.1 8b", "--gpu", "rtx 3090", "--vllm-release", "latest"]) != 0
    assert "0.6.4" in capsys.readouterr().err
