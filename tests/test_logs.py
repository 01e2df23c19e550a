"""Reading pasted logs: every fact of the logs in tests/data/logs (written from the tools' own format strings) is
read as tests/data/logs/expected.yaml states it, a pasted log is told apart from a question quoting one line, and
reading stays linear on a megabyte of hostile text."""
import time
from pathlib import Path

import pytest
import yaml

from bot.logs import is_pasted_log, parse_log
from bot.logs.lines import flags, message_of, quant_of_ftype, slog_value
from bot.logs.parse import MAX_LOG_CHARS, read_lines

LOGS = Path(__file__).parent / "data" / "logs"
EXPECTED = yaml.safe_load((LOGS / "expected.yaml").read_text(encoding="utf-8"))
TOOLS = {"llama.cpp", "ollama", "lm studio", "vllm", "nvidia-smi", "rocm-smi"}


def read(name: str) -> str:
    return (LOGS / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_fact_of_the_log_is_read_as_expected(name):
    facts = parse_log(read(name)).model_dump()
    for key, want in EXPECTED[name]["facts"].items():
        assert facts[key] == want, f"{name}: {key}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_log_is_recognized_as_a_pasted_log(name):
    assert is_pasted_log(read(name)) is EXPECTED[name]["is_log"]


def test_at_least_twenty_logs_each_with_a_source_cover_every_tool():
    files = {p.name for p in LOGS.glob("*.log")}
    assert len(files) >= 20 and files == set(EXPECTED)
    assert all(len(e["source"]) > 40 for e in EXPECTED.values())
    assert set().union(*(e["facts"]["tools"] for e in EXPECTED.values())) == TOOLS


@pytest.mark.parametrize("text", [
    "llama-server: error: invalid argument: --no-mmap",
    "ggml_backend_cuda_buffer_type_alloc_buffer: allocating 8192.00 MiB on device 0: cudaMalloc failed: out of memory",
    "Traceback (most recent call last):\n  File \"app.py\", line 3, in <module>\n"
    "RuntimeError: CUDA error: out of memory",
    "will llama 3.1 70b fit on 2x 3090?\nand at 32k context?",
    "my log says offloaded 20/33 layers to GPU, why not all of them?",
])
def test_a_question_or_a_single_error_line_is_not_a_pasted_log(text):
    assert not is_pasted_log(text)


@pytest.mark.parametrize("name,label", [
    ("Q4_K - Medium", "Q4_K_M"), ("Q4_K - Small", "Q4_K_S"), ("Q3_K - Large", "Q3_K_L"), ("Q2_K - Medium", "Q2_K"),
    ("Q2_K - Small", "Q2_K_S"), ("Q6_K", "Q6_K"), ("Q8_0", "Q8_0"), ("all F32", "F32"), ("BF16", "BF16"),
    ("IQ2_XXS - 2.0625 bpw", "IQ2_XXS"), ("IQ3_S mix - 3.66 bpw", "IQ3_M"), ("MXFP4 MoE", "MXFP4_MOE"),
    ("(guessed) Q5_K - Medium", "Q5_K_M"), ("mostly Q4_0", "Q4_0"), ("TQ1_0 - 1.69 bpw ternary", "TQ1_0"),
    ("unknown, may not work", None),
])
def test_llama_cpp_file_type_names_become_the_labels_files_carry(name, label):
    # the names of llama_ftype_name() in src/llama-model-loader.cpp
    assert quant_of_ftype(name) == label


@pytest.mark.parametrize("line,message,tool", [
    ("Nov 14 17:52:40 fedora ollama[1197]: llm_load_tensors: offloaded 33/33 layers to GPU",
     "llm_load_tensors: offloaded 33/33 layers to GPU", None),
    ("ollama  | llama_new_context_with_model: n_ctx = 2048", "llama_new_context_with_model: n_ctx = 2048", None),
    ("(EngineCore_DP0 pid=245) ERROR 08-19 04:02:11 [core.py:700] EngineCore failed to start.",
     "EngineCore failed to start.", "vllm"),
    ("0.06.650.537 E llama_init_from_model: failed to initialize the context",
     "llama_init_from_model: failed to initialize the context", "llama.cpp"),
    ("[2026-07-23 10:21:52.880] [error] [LM Studio] GPU Configuration:", "GPU Configuration:", "lm studio"),
])
def test_collector_and_tool_prefixes_are_taken_off(line, message, tool):
    assert message_of(line) == (message, tool)


def test_slog_values_are_read_quoted_or_bare():
    line = 'time=x level=INFO msg="inference compute" name="NVIDIA GeForce RTX 3060" total="11.8 GiB" id=GPU-1'
    assert [slog_value(line, k) for k in ("msg", "name", "total", "id", "level", "missing")] == [
        "inference compute", "NVIDIA GeForce RTX 3060", "11.8 GiB", "GPU-1", "INFO", None]


def test_command_line_flags_are_read_with_their_values():
    opts = flags("./llama-server -m /m/x.gguf -c 32768 -ngl 99 -fa --port=8080")
    assert opts == {"-m": "/m/x.gguf", "-c": "32768", "-ngl": "99", "-fa": "", "--port": "8080"}


def test_text_past_one_megabyte_is_not_read():
    padding = "x" * 70 + "\n"
    inside = padding * ((MAX_LOG_CHARS - 200) // len(padding)) + "load_tensors: offloaded 7/9 layers to GPU\n"
    outside = padding * (MAX_LOG_CHARS // len(padding) + 1) + "load_tensors: offloaded 7/9 layers to GPU\n"
    assert parse_log(inside).gpu_layers == 7
    assert parse_log(outside).gpu_layers is None


def test_the_start_and_the_end_of_a_very_long_log_are_both_read():
    text = ("load_tensors: offloaded 20/33 layers to GPU\n" + "srv  update_slots: all slots are idle\n" * 24_000 +
            "ggml_backend_cuda_buffer_type_alloc_buffer: allocating 1.00 MiB on device 0: cudaMalloc failed: out of "
            "memory\n")
    facts = parse_log(text)
    assert facts.gpu_layers == 20 and facts.errors[0].endswith("cudaMalloc failed: out of memory")


def test_collections_are_capped_however_many_lines_repeat_them():
    facts = parse_log("load_tensors:        CUDA0 model buffer size =  1.00 MiB\n" * 5000 +
                      "llama_model_loader: - kv   2: general.name str = a\nprint_info: general.name = b\n" * 500)
    assert len(facts.buffers) <= 32 and len(facts.model_candidates) <= 32


# ---------------------------------------------------------------- linear time on hostile input
LIMIT_S = 2.0          # a megabyte; measured about 0.35 s on one core, quadratic work would take minutes
REAL = read("llamacpp_server_partial_offload_4090.log")


def _mb(unit: str) -> str:
    return (unit * (MAX_LOG_CHARS // len(unit) + 1))[:MAX_LOG_CHARS]


HOSTILE = {
    "real log repeated": _mb(REAL),
    "one-character lines": _mb("a\n"),
    "every marker on every line": _mb("offloaded 1/2 layers to GPU buffer size = 1 MiB n_ctx = 5 Device 0: x, VMM: y "
                                      "| 1MiB / 3MiB GPU[0] msg=\"x\" level=INFO --model m -c 9 K (f16)\n"),
    "one long line": _mb("offloaded " * 3 + "1" * 5000 + " "),
    "unterminated quotes": 'time=1 level=INFO msg="' + _mb('\\"a '),
    "ollama ps rows": "NAME ID SIZE PROCESSOR\n" + _mb("a  b  c  d GPU\n"),
    "slog lines": _mb('time=x level=ERROR source=a.go:1 msg="failed" error="' + "e" * 200 + '"\n'),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_megabyte_of_hostile_text_is_read_in_linear_time(name):
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        read_lines(HOSTILE[name])          # uncached: parse_log keeps the last few readings
        best = min(best, time.perf_counter() - start)
    assert best < LIMIT_S
