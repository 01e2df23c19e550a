"""Exact mode against the real llama.cpp: load the bundled SmolLM2 GGUF on CPU and compare the buffer sizes it logs
with what `willitrun size --gguf` predicts."""
import re
import subprocess
import sys

import pytest

from bot.sizing.schema import SizingRequest

MIB = 2**20
LOAD = """
import sys
from llama_cpp import Llama
Llama(model_path=sys.argv[1], n_ctx=int(sys.argv[2]), flash_attn=sys.argv[3] == "1", verbose=True, n_threads=1)
"""


def llama_cpp_buffers(gguf, context: int, flash_attention: bool) -> dict[str, float]:
    run = subprocess.run([sys.executable, "-c", LOAD, str(gguf), str(context), "1" if flash_attention else "0"],
                         capture_output=True, text=True, timeout=120)
    log = run.stderr + run.stdout
    found = {}
    for key, pattern in {"model": r"CPU_Mapped model buffer size =\s+([\d.]+) MiB",
                         "kv": r"CPU KV buffer size =\s+([\d.]+) MiB",
                         "compute": r"CPU compute buffer size =\s+([\d.]+) MiB"}.items():
        match = re.search(pattern, log)
        assert match, f"llama.cpp did not log its {key} buffer:\n{log[-2000:]}"
        found[key] = float(match.group(1))
    return found


@pytest.mark.parametrize("context,flash_attention", [(2048, False), (8192, False), (8192, True), (4000, True)])
def test_prediction_matches_llama_cpp_buffers(engine, smollm2_gguf, context, flash_attention):
    logged = llama_cpp_buffers(smollm2_gguf, context, flash_attention)
    report = engine.size(SizingRequest(gguf=str(smollm2_gguf), context=context, flash_attention=flash_attention,
                                       ram_gb=16))
    host = report.devices[-1]
    assert report.weights_bytes / MIB == pytest.approx(logged["model"], abs=0.01)
    assert report.kv_cache_bytes / MIB == pytest.approx(logged["kv"], abs=0.01)
    assert host.compute_bytes / MIB == pytest.approx(logged["compute"], rel=0.05)


def test_exact_mode_reads_the_architecture_from_the_header(engine, smollm2_gguf):
    sized = engine.sized_model(SizingRequest(gguf=str(smollm2_gguf)))
    assert (sized.model.layers, sized.model.hidden_size, sized.model.kv_heads) == (30, 576, 3)
    assert sized.quant.name == "Q4_1"


def test_a_truncated_gguf_is_a_clear_error(engine, smollm2_gguf, tmp_path):
    broken = tmp_path / "half.gguf"
    broken.write_bytes(smollm2_gguf.read_bytes()[:4096])
    from bot.errors import InvalidRequestError
    with pytest.raises(InvalidRequestError, match="truncated download"):
        engine.size(SizingRequest(gguf=str(broken)))
