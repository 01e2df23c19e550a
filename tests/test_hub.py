"""Hugging Face look-ups against a real HTTP server standing in for the Hub (tests/fake_hub.py): config.json to a
Model, GGUF headers by Range requests sized exactly like `willitrun size --gguf`, errors, limits and the cache."""
import logging
import time
from datetime import UTC, date, datetime, timedelta
from threading import Thread

import pytest
import yaml

from bot.catalog.schema import Model
from bot.cli.main import main
from bot.hub import HubAccessError, HubClient, HubFileError, HubNotFoundError, HubUnavailableError
from bot.hub.names import repo_ref
from bot.settings import Settings
from bot.sizing.schema import SizingRequest
from tests.fake_hub import FakeHub, wait_until

LLAMA_31_8B = {  # meta-llama/Llama-3.1-8B config.json
    "architectures": ["LlamaForCausalLM"], "attention_bias": False, "hidden_act": "silu", "hidden_size": 4096,
    "intermediate_size": 14336, "max_position_embeddings": 131072, "mlp_bias": False, "model_type": "llama",
    "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
    "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "rope_theta": 500000.0, "tie_word_embeddings": False, "torch_dtype": "bfloat16", "vocab_size": 128256}
QWEN3_30B_A3B = {  # Qwen/Qwen3-30B-A3B config.json
    "architectures": ["Qwen3MoeForCausalLM"], "decoder_sparse_step": 1, "head_dim": 128, "hidden_act": "silu",
    "hidden_size": 2048, "intermediate_size": 6144, "max_position_embeddings": 40960, "max_window_layers": 48,
    "mlp_only_layers": [], "model_type": "qwen3_moe", "moe_intermediate_size": 768, "norm_topk_prob": True,
    "num_attention_heads": 32, "num_experts": 128, "num_experts_per_tok": 8, "num_hidden_layers": 48,
    "num_key_value_heads": 4, "sliding_window": None, "tie_word_embeddings": False, "use_sliding_window": False,
    "vocab_size": 151936}
SMOL_REPO = "bartowski/SmolLM2-135M-Instruct-GGUF"
SMOL_FILE = "SmolLM2-135M-Instruct-Q4_1.gguf"


@pytest.fixture
def hub(smollm2_gguf):
    fake = FakeHub()
    fake.add("meta-llama/Llama-3.1-8B", {"config.json": LLAMA_31_8B, "model-00001-of-00004.safetensors": b""},
             safetensors_total=8_030_261_248, gated=True)
    fake.add("Qwen/Qwen3-30B-A3B", {"config.json": QWEN3_30B_A3B, "README.md": b"# Qwen3"})
    fake.add(SMOL_REPO, {SMOL_FILE: smollm2_gguf, "SmolLM2-135M-Instruct-Q8_0.gguf": b"GGUF"})
    fake.add("someone/private-model", {"config.json": LLAMA_31_8B}, private=True)
    fake.add("someone/truncated-GGUF", {"m-Q4_K_M.gguf": smollm2_gguf.read_bytes()[:1_500_000]})
    fake.add("someone/broken", {"config.json": b"{not json"})
    fake.url = fake.start()
    yield fake
    fake.stop()


def client(hub: FakeHub, tmp_path, **kw) -> HubClient:
    given = {"hf_endpoint": hub.url, "data_dir": tmp_path, "hf_hub_offline": False, "hf_token": None,
             "hf_timeout_s": 5.0, **kw}
    return HubClient(Settings(**given))


# -- config.json -> Model ---------------------------------------------------------------------------------------
def test_a_llama_config_becomes_the_catalog_model(hub, tmp_path, catalog):
    result = client(hub, tmp_path, hf_token=hub.token).lookup("meta-llama/Llama-3.1-8B")
    known = catalog.model("llama 3.1 8b")
    fields = ("layers", "hidden_size", "intermediate_size", "attention_heads", "kv_heads", "head_dim_k",
              "head_dim_v", "vocab_size", "context_length", "tied_embeddings", "architecture", "params_b")
    assert {f: getattr(result.model, f) for f in fields} == {f: getattr(known, f) for f in fields}
    assert result.sized is None and result.url == f"{hub.url}/meta-llama/Llama-3.1-8B"
    assert result.source_note == f"from the model's config.json on Hugging Face, fetched {date.today().isoformat()}"


def test_a_qwen3_moe_config_counts_experts_and_active_parameters_from_the_shapes(hub, tmp_path):
    model = client(hub, tmp_path).lookup("https://huggingface.co/Qwen/Qwen3-30B-A3B").model
    assert (model.architecture, model.layers, model.kv_heads, model.head_dim_k) == ("qwen3moe", 48, 4, 128)
    assert model.moe.model_dump() == {"experts": 128, "active": 8, "shared": 0, "expert_ffn": 768, "moe_layers": 48}
    assert model.intermediate_size is None
    assert model.params_b == pytest.approx(30.5, abs=0.1) and model.active_params_b == pytest.approx(3.3, abs=0.1)


def test_texts_that_name_no_repo_are_not_looked_up(hub, tmp_path):
    hub_client = client(hub, tmp_path)
    assert hub_client.lookup("llama 3.1 8b on two 3090s") is None
    assert hub.requests == []


def test_repo_names_are_read_in_the_ways_people_write_them():
    assert repo_ref("hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M").quant == "Q4_K_M"
    assert repo_ref("https://huggingface.co/Qwen/Qwen3-8B/tree/refs%2Fpr%2F1").revision == "refs%2Fpr%2F1"
    assert repo_ref("Qwen/Qwen3-8B", "Q8_0").repo == "Qwen/Qwen3-8B"
    assert repo_ref("qwen3 8b") is None


def test_a_bare_repo_name_is_found_by_the_hub_search(hub, tmp_path):
    assert client(hub, tmp_path).lookup("Qwen3-30B-A3B").repo == "Qwen/Qwen3-30B-A3B"


# -- GGUF headers by Range requests -----------------------------------------------------------------------------
def test_a_gguf_repo_is_sized_exactly_as_the_local_file(hub, tmp_path, engine, smollm2_gguf):
    result = client(hub, tmp_path).lookup(SMOL_REPO, "Q4_1")
    from_file = engine.sized_model(SizingRequest(gguf=str(smollm2_gguf)))    # what `size --gguf FILE` reads
    assert result.sized.layout == from_file.layout and result.sized.quant == from_file.quant
    for context, fa in ((2048, False), (8192, True)):
        remote = engine.size(SizingRequest(model=result.model.id, context=context, flash_attention=fa, ram_gb=16,
                                           gpu="rtx 3060"), sized=result.sized)
        local = engine.size(SizingRequest(gguf=str(smollm2_gguf), context=context, flash_attention=fa, ram_gb=16,
                                          gpu="rtx 3060"), sized=from_file)
        keys = ("weights_bytes", "kv_cache_bytes", "total_bytes", "verdict", "gpu_layers", "devices", "quant")
        assert {k: getattr(remote, k) for k in keys} == {k: getattr(local, k) for k in keys}
    assert result.quant == "Q4_1" and result.file == SMOL_FILE
    assert result.source_note.startswith(f"from the header of {SMOL_FILE} on Hugging Face, fetched ")


def test_the_header_is_read_in_growing_ranges_not_the_whole_file(hub, tmp_path, smollm2_gguf):
    client(hub, tmp_path).lookup(SMOL_REPO, "q4_1")
    ranges = [headers.get("range") for path, headers in hub.requests if path.endswith(".gguf")]
    assert ranges[0] == "bytes=0-1048575" and len(ranges) == 2       # the header is 1.7 MB long
    last_end = int(ranges[-1].split("-")[1])
    assert last_end < 4 * 2**20 < smollm2_gguf.stat().st_size


def test_a_missing_quant_names_the_ones_the_repo_has(hub, tmp_path):
    with pytest.raises(HubNotFoundError, match="has no Q5_K_M GGUF file; it has Q4_1, Q8_0"):
        client(hub, tmp_path).lookup(SMOL_REPO, "Q5_K_M")


def test_a_truncated_header_is_a_clear_error(hub, tmp_path):
    with pytest.raises(HubFileError, match="ends inside its own header: the file on the Hub is truncated"):
        client(hub, tmp_path).lookup("someone/truncated-GGUF", "Q4_K_M")


def test_a_header_past_the_cap_is_not_read(hub, tmp_path):
    with pytest.raises(HubFileError, match="longer than the 1 MB a look-up reads"):
        client(hub, tmp_path, hf_max_header_mb=1).lookup(SMOL_REPO, "Q4_1")
    assert all(int(h["range"].split("-")[1]) < 2**20 for p, h in hub.requests if p.endswith(".gguf"))


# -- errors -----------------------------------------------------------------------------------------------------
def test_a_missing_repo_is_a_404_error(hub, tmp_path):
    with pytest.raises(HubNotFoundError, match="No Hugging Face repo"):
        client(hub, tmp_path).lookup("nobody/no-such-model")


def test_a_private_repo_without_a_token_asks_for_one(hub, tmp_path):
    with pytest.raises(HubNotFoundError, match="private and HF_TOKEN cannot read it"):
        client(hub, tmp_path).lookup("someone/private-model")
    assert client(hub, tmp_path / "b", hf_token=hub.token).lookup("someone/private-model").model.layers == 32


def test_a_gated_repo_without_a_token_is_a_401_with_the_way_out(hub, tmp_path):
    with pytest.raises(HubAccessError, match=r"gated repo \(401\): set HF_TOKEN"):
        client(hub, tmp_path).lookup("meta-llama/Llama-3.1-8B")


def test_the_token_never_appears_in_errors_or_logs(hub, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "hf_wrong_token_abcdef987654"
    with pytest.raises(HubAccessError) as failed:
        client(hub, tmp_path, hf_token=wrong).lookup("meta-llama/Llama-3.1-8B")
    client(hub, tmp_path, hf_token=hub.token).lookup("meta-llama/Llama-3.1-8B")
    assert "gated" in str(failed.value)
    assert [h["authorization"] for p, h in hub.requests if "resolve" in p][-1] == f"Bearer {hub.token}"
    for secret in (wrong, hub.token):
        assert secret not in str(failed.value) and secret not in caplog.text
        assert secret not in repr(Settings(hf_token=secret))


def test_a_malformed_config_is_a_clear_error(hub, tmp_path):
    with pytest.raises(HubFileError, match="someone/broken config.json is not valid JSON"):
        client(hub, tmp_path).lookup("someone/broken")


def test_a_stalling_hub_times_out_quickly(hub, tmp_path):
    hub.stall_s = 5
    start = time.monotonic()
    with pytest.raises(HubUnavailableError, match="did not answer in time"):
        client(hub, tmp_path, hf_timeout_s=0.5).lookup("Qwen/Qwen3-30B-A3B")
    assert time.monotonic() - start < 2


def test_at_most_four_look_ups_reach_the_hub_at_once(hub, tmp_path):
    for i in range(8):
        hub.add(f"org/model-{i}", {"config.json": LLAMA_31_8B})
    hub.stall_s = 0.3
    shared = client(hub, tmp_path)
    threads = [Thread(target=shared.lookup, args=(f"org/model-{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert hub.max_in_flight == 4


# -- the cache --------------------------------------------------------------------------------------------------
def test_an_offline_bot_answers_from_the_cache(hub, tmp_path):
    online = client(hub, tmp_path).lookup(SMOL_REPO, "Q4_1")
    hub.stop()
    offline = client(hub, tmp_path, hf_hub_offline=True)
    again = offline.lookup(SMOL_REPO, "Q4_1")
    assert again.model == online.model and again.sized.layout == online.sized.layout
    assert offline.lookup("Qwen/Qwen3-30B-A3B") is None        # never fetched, and offline: no answer


def test_a_stale_entry_answers_at_once_and_is_refreshed_in_the_background(hub, tmp_path):
    first = client(hub, tmp_path)
    first.lookup("Qwen/Qwen3-30B-A3B")
    key = "Qwen/Qwen3-30B-A3B@main:"
    record, _ = first.cache.record(key)
    old = datetime.now(UTC) - timedelta(days=30)
    first.cache.put(key, record, fetched_at=old)
    asked = len(hub.requests)
    assert first.lookup("Qwen/Qwen3-30B-A3B").stale
    assert wait_until(lambda: first.cache.record(key)[1] > old)
    assert len(hub.requests) > asked
    assert not first.lookup("Qwen/Qwen3-30B-A3B").stale


# -- willitrun catalog add --------------------------------------------------------------------------------------
def entry_of(out: str) -> Model:
    return Model.model_validate(yaml.safe_load(out)[0])


def test_catalog_add_from_hf_prints_a_reviewable_entry(hub, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert main(["catalog", "add", "--from-hf", "Qwen/Qwen3-30B-A3B"]) == 0
    out = capsys.readouterr().out
    model = entry_of(out)
    assert model.id == "qwen3-30b-a3b" and model.moe.experts == 128
    assert model.sources == [f"{hub.url}/Qwen/Qwen3-30B-A3B/blob/main/config.json", f"{hub.url}/Qwen/Qwen3-30B-A3B"]
    assert "moe: {experts: 128, active: 8, shared: 0, expert_ffn: 768, moe_layers: 48}" in out
    assert out.startswith("# Generated from the model's config.json on Hugging Face, fetched ")


def test_catalog_add_from_a_config_or_a_gguf_file(tmp_path, capsys, smollm2_gguf):
    config = tmp_path / "config.json"
    config.write_text(__import__("json").dumps(LLAMA_31_8B))
    assert main(["catalog", "add", "--from-config", str(config), "--repo", "meta-llama/Llama-3.1-8B"]) == 0
    model = entry_of(capsys.readouterr().out)
    assert (model.id, model.params_b, model.kv_heads) == ("llama-3.1-8b", 8.03, 8)
    assert main(["catalog", "add", "--from-gguf", str(smollm2_gguf)]) == 0
    assert entry_of(capsys.readouterr().out).layers == 30
