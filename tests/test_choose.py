"""`choose`: the hardware that runs a model entirely in GPU or unified memory, and what would fit less. Every
figure is checked against the sizing engine asked directly."""
import argparse
import json
import re

import pytest

from bot.cli.commands import choose as choose_command
from bot.errors import UnknownNameError
from bot.sizing.choose import MAX_OPTIONS, choose, gpu_need_bytes
from bot.sizing.schema import SizingRequest

GIB = 2**30


@pytest.fixture(scope="module")
def qwen72(engine):
    return choose(engine, "qwen2.5 72b")


@pytest.fixture(scope="module")
def llama8(engine):
    return choose(engine, "llama 3.1 8b")


def size_option(engine, rec, option):
    return engine.size(SizingRequest(model=rec.model, gpu=option.hardware, gpus=option.count, quant=rec.quant,
                                     context=rec.context, kv_cache_type=rec.kv_cache_type,
                                     memory_gb=option.memory_gb if option.kind == "unified" else None))


def gb_text(n: int) -> str:
    return f"{n / GIB:.1f} GB"


def test_min_memory_is_what_one_cuda_card_holding_every_layer_needs(engine, llama8):
    report = engine.size(SizingRequest(model="llama 3.1 8b", gpu="rtx 4090", context=8192))
    assert report.verdict == "fits"
    assert llama8.min_memory_bytes == report.devices[0].need_bytes


def test_defaults_are_resolved_the_way_size_resolves_them(llama8):
    assert (llama8.model, llama8.quant, llama8.context, llama8.kv_cache_type) == ("llama-3.1-8b", "Q4_K_M", 8192, "f16")


def test_quant_context_and_kv_cache_are_honoured(engine):
    rec = choose(engine, "llama 3.1 8b", quant="Q8_0", context=32768, kv_cache_type="q8_0")
    assert (rec.quant, rec.context, rec.kv_cache_type) == ("Q8_0", 32768, "q8_0")
    assert rec.min_memory_bytes > choose(engine, "llama 3.1 8b").min_memory_bytes


def test_every_option_fits_when_the_engine_sizes_it_with_the_speed_shown(engine, qwen72):
    for option in qwen72.options:
        report = size_option(engine, qwen72, option)
        assert report.verdict == option.verdict == "fits", option.name
        assert report.decode_tokens_per_s == option.decode_tokens_per_s


def test_no_setup_needs_less_than_the_minimum(qwen72):
    assert all(o.need_bytes >= qwen72.min_memory_bytes for o in qwen72.options)


def test_cards_are_combined_only_when_fewer_of_them_do_not_fit(engine, qwen72):
    multi = [o for o in qwen72.options if o.count > 1]
    assert multi, "a 72B model at Q4_K_M needs several consumer cards"
    for option in multi:
        fewer = option.model_copy(update={"count": option.count // 2})
        assert size_option(engine, qwen72, fewer).verdict != "fits", option.name


def test_unified_memory_chips_are_listed_at_their_smallest_fitting_memory(engine, catalog, qwen72):
    unified = [o for o in qwen72.options if o.kind == "unified"]
    assert unified
    for option in unified:
        smaller = [gb for gb in catalog.gpu(option.hardware).memory_options_gb if gb < option.memory_gb]
        for gb in smaller:
            assert size_option(engine, qwen72, option.model_copy(update={"memory_gb": gb})).verdict != "fits"


def test_options_found_counts_every_card_or_chip_that_runs_it(engine, catalog, qwen72):
    fitting = 0
    for h in catalog.hardware:
        if h.kind == "gpu":
            setups = [dict(gpus=n) for n in (1, 2, 4)]
        elif h.kind == "unified":
            setups = [dict(memory_gb=gb) for gb in h.memory_options_gb or [h.memory_gb]]
        else:
            continue
        fitting += any(engine.size(SizingRequest(model=qwen72.model, gpu=h.id, **s)).verdict == "fits" for s in setups)
    assert qwen72.options_found == fitting


def test_options_are_ranked_fewest_devices_then_least_memory(qwen72):
    keys = [(o.count, o.memory_gb) for o in qwen72.options]
    assert keys == sorted(keys)


def test_one_line_per_kind_of_setup_the_fastest_of_its_tier(qwen72):
    tiers = [(o.count, o.kind, o.memory_gb) for o in qwen72.options]
    assert len(tiers) == len(set(tiers))


def test_the_list_is_capped_but_keeps_the_smallest_card_the_fastest_setup_and_a_mac(engine, catalog, llama8):
    assert llama8.options_found > MAX_OPTIONS >= len(llama8.options)
    singles = [h for h in catalog.hardware if h.kind == "gpu"
               and engine.size(SizingRequest(model=llama8.model, gpu=h.id)).verdict == "fits"]
    smallest = min(h.memory_gb for h in singles)
    assert any(o.count == 1 and o.kind == "gpu" and o.memory_gb == smallest for o in llama8.options)
    fastest = max(engine.size(SizingRequest(model=llama8.model, gpu=h.id)).decode_tokens_per_s.low for h in singles)
    assert max(o.decode_tokens_per_s.low for o in llama8.options) == fastest
    assert any(o.kind == "unified" and o.name.startswith("Apple") for o in llama8.options)


def test_suggested_quantization_fits_the_smaller_card_with_the_memory_stated(engine, qwen72):
    text = next(s for s in qwen72.suggestions if s.startswith("Quantization"))
    quant = re.match(r"Quantization (\S+) instead", text).group(1)
    request = SizingRequest(model=qwen72.model, gpu=qwen72.smaller_card.hardware, quant=quant, context=qwen72.context)
    assert engine.size(request).verdict == "fits"
    assert gb_text(gpu_need_bytes(engine, request, qwen72.context)) in text


def test_quantized_kv_cache_suggestion_states_the_engines_memory(engine, qwen72):
    text = next(s for s in qwen72.suggestions if s.startswith("KV cache quantized"))
    for kv in ("q8_0", "q4_0"):
        request = SizingRequest(model=qwen72.model, gpu="rtx 4090", quant=qwen72.quant, kv_cache_type=kv)
        assert f"{kv} needs {gb_text(gpu_need_bytes(engine, request, qwen72.context))}" in text


def test_moe_models_are_offered_experts_in_system_ram(engine):
    rec = choose(engine, "qwen3 30b a3b")
    assert any("--cpu-moe" in s for s in rec.suggestions)


def test_dense_models_are_not_offered_experts_in_system_ram(qwen72):
    assert not any("--cpu-moe" in s for s in qwen72.suggestions)


def test_a_model_smaller_than_every_card_needs_no_suggestions(engine):
    rec = choose(engine, "smollm2 135m")
    assert rec.smaller_card is None and rec.suggestions == []


def test_unknown_model_raises_with_suggestions(engine):
    with pytest.raises(UnknownNameError) as err:
        choose(engine, "qwen 9 72b")
    assert "qwen2.5-72b" in err.value.suggestions


def test_json_keeps_the_documented_keys(llama8):
    data = json.loads(llama8.model_dump_json())
    assert {"model", "min_memory_bytes", "options", "suggestions"} <= data.keys()
    assert {"hardware", "count", "verdict", "decode_tokens_per_s"} <= data["options"][0].keys()
    assert {"low", "high"} == data["options"][0]["decode_tokens_per_s"].keys()


def run_choose(capsys, core, *argv) -> str:
    parser = argparse.ArgumentParser()
    choose_command.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["choose", *argv])
    assert args.func(args, core) == 0
    return capsys.readouterr().out


def test_cli_prints_a_table_with_the_minimum_and_the_options(capsys, core, llama8):
    out = run_choose(capsys, core, "llama 3.1 8b")
    assert f"Needs at least {gb_text(llama8.min_memory_bytes)}" in out
    assert llama8.options[0].name in out


def test_cli_json_is_the_recommendation(capsys, core):
    out = run_choose(capsys, core, "qwen2.5 72b", "--quant", "Q3_K_M", "--context", "4096", "--kv-cache", "q8_0",
                     "--json")
    data = json.loads(out)
    assert (data["quant"], data["context"], data["kv_cache_type"]) == ("Q3_K_M", 4096, "q8_0")
