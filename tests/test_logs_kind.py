"""The log kind with the real core: a pasted log is routed to it, answered with the knowledge-base entry for its
error line and the sizing engine's answer for its setup, and the facts it read are listed for the user to correct."""
from pathlib import Path

import pytest
import yaml

from bot.answer.pipeline import answer
from bot.kinds.log import query_of
from bot.sizing.devices import gb

LOGS = Path(__file__).parent / "data" / "logs"
EXPECTED = yaml.safe_load((LOGS / "expected.yaml").read_text(encoding="utf-8"))


def read(name: str) -> str:
    return (LOGS / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_pasted_log_gets_its_error_entry_and_the_sizing_of_its_setup(core, name):
    want = EXPECTED[name]["answer"]
    got = answer(core, read(name))
    assert got.kind == "log"
    assert (got.sizing.verdict if got.sizing else None) == want["verdict"]
    if "kb" in want:
        assert got.sources and got.sources[0].id in want["kb"]
    else:
        assert not got.sources


def test_partial_offload_is_explained_with_the_engines_numbers(core):
    got = answer(core, "why is this so slow?\n" + read("llamacpp_server_partial_offload_4090.log"))
    report = got.sizing
    assert got.text.startswith(f"Only 50 of 65 layers are on the GPU because the weights ({gb(report.weights_bytes)})")
    assert f"need {gb(report.total_bytes)} and the GPU has" in got.text
    assert f"At {report.max_context:,} tokens all 65 layers fit." in got.text
    assert report.context == 32768 and report.quant == "Q4_K_M" and report.model.id == "qwen2.5-32b"


def test_the_facts_read_are_listed_to_be_corrected(core):
    text = answer(core, read("ollama_serve_partial_offload_journald.log")).text
    for fact in ("GPU: NVIDIA GeForce RTX 3060 (11.8 GB)", "Model: Qwen2.5 32B Instruct → Qwen2.5 32B",
                 "Quantization: Q4_K_M", "Context: 8,192 tokens", "Layers on GPU: 27/65", "CUDA 12.4"):
        assert fact in text


def test_the_answer_json_carries_the_log_keys(core):
    data = answer(core, read("llamacpp_kv_cache_oom_3060.log")).model_dump(mode="json")
    log = data["log"]
    assert data["kind"] == "log"
    assert {k: log[k] for k in ("model", "quant", "context", "gpu_layers", "total_layers")} == {
        "model": "Meta-Llama-3.1-8B-Instruct-Q8_0", "quant": "Q8_0", "context": 131072, "gpu_layers": 33,
        "total_layers": 33}
    assert log["hardware"][0]["name"] == "NVIDIA GeForce RTX 3060"
    assert log["errors"][0].endswith("cudaMalloc failed: out of memory")
    assert log["explanation"][0].startswith("It ran out of GPU memory because")


def test_a_log_that_ends_in_an_error_routes_as_knowledge_and_a_setup_log_as_sizing(core):
    error = core.router.route(read("llamacpp_invalid_magic.log"))
    setup = core.router.route(read("llamacpp_rocm_7900xtx.log"))
    assert (error.kind, error.route) == ("log", "knowledge")
    assert (setup.kind, setup.route) == ("log", "sizing")


def test_a_single_pasted_error_line_stays_a_knowledge_question(core):
    assert core.router.route("llama-server: error: invalid argument: --no-mmap").kind == "knowledge"


def test_the_users_own_words_fill_what_the_log_does_not_print(core):
    text = ("4x A30 here, is this split ok?\n"
            "llm_load_print_meta: general.name     = DeepSeek R1 Distill Llama 70B\n"
            "llm_load_print_meta: model ftype      = Q4_K - Medium\n"
            "llm_load_tensors: offloaded 81/81 layers to GPU\n"
            "llm_load_tensors:        CUDA0 model buffer size = 10425.88 MiB\n")
    got = answer(core, text)
    assert got.sizing is not None and got.sizing.model.id == "deepseek-r1-distill-llama-70b"
    assert [d.name for d in got.sizing.devices if d.kind == "gpu"] == [core.catalog.gpu("a30").name] * 4


def test_a_card_whose_stock_memory_is_not_what_the_log_measured_is_sized_by_that_memory(core):
    # the measured memory is the truth: a catalog card of another size would size another machine
    text = ("|   0  NVIDIA GeForce RTX 3090        Off |   00000000:01:00.0 Off |                  N/A |\n"
            "| 30%   31C    P8             22W /  350W |     512MiB /  16384MiB |      0%      Default |\n"
            "NAME            ID              SIZE     PROCESSOR    CONTEXT    UNTIL\n"
            "llama3.1:8b     46e0c10c039e    6.9 GB   100% GPU     8192       4 minutes from now\n")
    got = answer(core, text)
    gpus = [d for d in got.sizing.devices if d.kind == "gpu"]
    assert len(gpus) == 1 and round(gpus[0].usable_bytes / 2**30) == 16
    assert any("16 GB" in a for a in got.sizing.assumptions)


def test_a_reply_to_a_log_answer_resizes_its_setup_with_the_change(core):
    first = answer(core, read("llamacpp_server_partial_offload_4090.log"))
    again = answer(core, "what about at 16k?", previous=first.request)
    assert again.kind == "sizing"
    assert (again.sizing.model.id, again.sizing.context, again.sizing.quant) == ("qwen2.5-32b", 16384, "Q4_K_M")
    assert again.sizing.hardware == first.sizing.hardware


def test_a_log_without_a_model_asks_for_one_and_remembers_the_hardware(core):
    got = answer(core, read("nvidia_smi_two_4090.log"))
    assert got.sizing is None and "Reply with the model you want to run" in got.text
    assert got.request.gpu.id == "rtx-4090" and got.request.gpus == 2


@pytest.mark.parametrize("line,query", [
    ("ggml_backend_cuda_buffer_type_alloc_buffer: allocating 16384.00 MiB on device 0: cudaMalloc failed: "
     "out of memory", "cudaMalloc failed: out of memory"),
    ("llama_model_load: error loading model: unable to allocate CUDA0 buffer",
     "error loading model: unable to allocate CUDA0 buffer"),
    ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
     "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."),
])
def test_an_error_line_is_searched_from_the_part_that_names_the_failure(line, query):
    assert query_of(line) == query
