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
