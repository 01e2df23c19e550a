"""The resolver: names as people type them -> catalog entries, with every assumption stated."""
from pathlib import Path

import pytest

from bot.catalog.load import load_catalog
from bot.errors import InvalidRequestError, UnknownNameError
from bot.resolve.resolver import Resolver
from bot.routing.extract import FieldExtractor
from bot.sizing.engine import SizingEngine
from bot.sizing.schema import SizingRequest

KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"


@pytest.fixture(scope="module")
def resolver():
    return Resolver(load_catalog(KNOWLEDGE))


@pytest.fixture(scope="module")
def engine(resolver):
    return SizingEngine(resolver.catalog, resolver)


@pytest.mark.parametrize("name, model_id", [
    ("bartowski/Qwen2.5-72B-Instruct-GGUF", "qwen2.5-72b"),
    ("Mistral-7B-Instruct-v0.2", "mistral-7b-v0.2"),
    ("llama3.1:latest", "llama-3.1-8b"),
    ("l3.1 70b", "llama-3.1-70b"),
    ("gemma3 27b", "gemma-3-27b"),
    ("DeepSeek-V2-Chat-0628", "deepseek-v2"),
    ("mixtral-8x7b-instruct-v0.1.Q4_K_M.gguf", "mixtral-8x7b"),
])
def test_release_names_resolve_to_the_model(resolver, name, model_id):
    assert resolver.model(name).model.id == model_id


def test_an_ollama_tag_carries_its_quantization(resolver):
    r = resolver.model("qwen2.5:14b-instruct-q4_K_M")
    assert r.model.id == "qwen2.5-14b" and r.quant.file_type.name == "Q4_K_M" and not r.assumptions


def test_a_finetune_is_sized_as_its_base_and_says_so(resolver):
    r = resolver.model("Hermes-3-Llama-3.1-8B.Q4_K_M.gguf")
    assert r.model.id == "llama-3.1-8b"
    assert any("sized as Llama 3.1 8B" in n for n in r.assumptions)


def test_a_finetune_listed_in_the_catalog_is_found_among_other_words(resolver):
    r = resolver.model("TheBloke_Wizard-Vicuna-30B-Uncensored-GGML")
    assert r.model.id == "llama-30b" and r.how == "finetune" and r.notes


def test_a_size_without_a_family_gets_a_representative_and_its_uncertainty(resolver):
    r = resolver.model("a 70b model")
    assert r.model.id == "llama-3.1-70b" and "typical" in r.notes[0] and "differ" in r.notes[0]
    moe = resolver.model("a 30b-a3b moe")
    assert moe.model.moe is not None and moe.model.id == "qwen3-30b-a3b"


def test_unsloth_xl_is_never_a_silent_swap(resolver):
    r = resolver.model("unsloth/Llama-3.3-70B-Instruct-GGUF:Q4_K_XL")
    assert r.quant.file_type.name == "Q4_K_M" and "Unsloth" in r.quant.note


def test_exl2_is_sized_at_the_bits_it_states(resolver):
    r = resolver.model("turboderp/LLama2-70B-2.5bpw-h6-exl2")
    assert r.model.id == "llama-2-70b" and r.quant.file_type.linear_bpw == 2.5


def test_a_typo_gets_the_closest_real_names(resolver):
    with pytest.raises(UnknownNameError) as exc:
        resolver.model("qwen 2.5 31b")
    assert "qwen2.5-32b" in exc.value.suggestions


def test_a_typo_with_the_same_numbers_is_read_and_said(resolver):
    r = resolver.model("DeekSeek R1:671B")
    assert r.model.id == "deepseek-r1" and r.how in ("fuzzy", "base_in_name") and r.notes


@pytest.mark.parametrize("text, memory, count", [
    ("m3 max 64gb", 64, 1), ("mac studio m2 ultra 192gb", 192, 1), ("mac mini m4 16gb", 16, 1),
    ("a100 80gb sxm", 80, 1), ("h100 pcie", 80, 1), ("4090 laptop", 16, 1), ("raspberry pi 5 8gb", 8, 1),
    ("jetson orin nano 8gb", 8, 1), ("dgx spark", 128, 1), ("ryzen ai max+ 395 128gb", 128, 1),
    ("my 12gb card", 12, 1), ("2x 3090", 24, 2), ("x4 RTX5000 Ada 32GB", 32, 4), ("16GB mac", 16, 1),
    ("Raspberry Pi 5 - 4 GB", 4, 1), ("A100-40", 40, 1),
])
def test_hardware_with_memory_options_and_counts(resolver, text, memory, count):
    r = resolver.hardware(text)
    assert (r.memory_gb, r.count) == (memory, count)


def test_runtime_follows_the_format_and_is_stated(engine):
    report = engine.size(SizingRequest(model="TheBloke/Mistral-7B-Instruct-v0.1-AWQ", gpu="4090"))
    assert report.runtime == "vllm" and any("vLLM" in a for a in report.assumptions)
    mlx = engine.size(SizingRequest(model="mlx-community/Llama-3.2-1B-Instruct-4bit", gpu="m2 max"))
    assert mlx.quant == "MLX-4bit" and any("MLX" in a and "llama.cpp" in a for a in mlx.assumptions)


def test_an_explicit_contradictory_runtime_is_still_an_error(engine):
    with pytest.raises(InvalidRequestError):
        engine.size(SizingRequest(model="llama 3.1 8b", quant="AWQ", gpu="4090", runtime="llama.cpp"))


def test_the_substitution_reaches_the_report(engine):
    report = engine.size(SizingRequest(model="unsloth/Llama-3.3-70B-Instruct-GGUF", quant="Q4_K_XL", gpu="3090",
                                       gpus=2))
    assert report.quant == "Q4_K_M" and any("Q4_K_XL" in a for a in report.assumptions)


def test_the_router_sizes_a_bare_size_as_a_representative(resolver):
    fields = FieldExtractor(resolver.catalog).extract("will a 70b model fit on 2x 3090?").fields
    assert fields.model.id == "llama-3.1-70b" and fields.model.note


def test_a_hub_lookup_is_asked_only_for_names_the_catalog_lacks(resolver):
    asked = []

    class Hub:
        def lookup(self, name, quant):
            asked.append(name)
            return resolver.catalog.model("llama 3.1 8b")

    hub_resolver = Resolver(resolver.catalog, hub=Hub())
    assert hub_resolver.model("llama 3.1 8b").how == "exact" and not asked
    r = hub_resolver.model("someorg/totally-new-model-9b")
    assert r.how == "hub" and asked == ["someorg/totally-new-model-9b"] and r.notes


def test_resolving_a_name_takes_well_under_two_milliseconds(resolver):
    import time
    resolver.model("llama 3.1 8b")
    start = time.perf_counter()
    for _ in range(200):
        resolver.model("bartowski/Qwen2.5-72B-Instruct-GGUF")
    assert (time.perf_counter() - start) / 200 < 0.002
