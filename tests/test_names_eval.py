"""The name-resolution eval's second column: a real local HTTP server standing in for the Hub (bench.names_eval's
LocalHub, built on tests/fake_hub.py) serves the real config.json files in tests/eval/hub_configs/, and the core's
own resolver reaches it through HF_ENDPOINT."""
from pathlib import Path

import pytest
import yaml

from bench.names_eval import EVAL, eval_models, hub_core, local_hub, model_right, silent
from bot.errors import UnknownNameError
from bot.hub import HubNotFoundError
from bot.resolve.resolver import Resolver

HUB_ROWS = [item for item in yaml.safe_load((EVAL / "names_models.yaml").read_text()) if item.get("hub")]


@pytest.fixture(scope="module")
def server():
    hub = local_hub()
    hub.start()
    yield hub
    hub.stop()


@pytest.fixture
def looked_up(server, tmp_path, monkeypatch):
    """The core's resolver with look-ups at the local server and an empty cache; the environment is put back."""
    monkeypatch.setenv("HF_ENDPOINT", "")          # noted now, so that what hub_core sets is undone after
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    core = hub_core(f"http://127.0.0.1:{server.server.server_address[1]}", tmp_path)
    yield core.resolver
    core.hub.close()


def test_the_dev_set_has_names_only_a_look_up_resolves():
    assert len(HUB_ROWS) >= 3
    assert all(row["source"].startswith("https://github.com/") for row in HUB_ROWS)


@pytest.mark.parametrize("row", HUB_ROWS, ids=lambda row: row["text"])
def test_a_name_no_catalog_has_is_unknown_to_the_catalog_alone(row, catalog):
    with pytest.raises(UnknownNameError):
        Resolver(catalog).model(row["text"])


@pytest.mark.parametrize("row", HUB_ROWS, ids=lambda row: row["text"])
def test_the_same_name_is_resolved_right_from_its_config_on_the_local_hub(row, looked_up):
    r = looked_up.model(row["text"])
    assert r.how == "hub"
    assert model_right(row, r)
    assert not silent(r)          # the answer says the architecture came from Hugging Face


def test_a_repo_the_local_hub_lacks_stays_unresolved(looked_up):
    with pytest.raises(HubNotFoundError, match="NoSuchModel-7B"):
        looked_up.model("someone/NoSuchModel-7B")


def test_look_ups_are_timed_apart_from_the_catalog_path(looked_up, server, tmp_path):
    names = tmp_path / "names.yaml"
    names.write_text(yaml.safe_dump([
        {"text": "llama3.1:8b", "params_b": 8.03, "base": "Llama 3.1 8B"},
        {**HUB_ROWS[0]},
    ]))
    stats = eval_models(looked_up, Path(names), verbose=False, server=server)
    assert stats["right"] == 2
    assert len(stats["ms"]) == 1 and len(stats["hub_ms"]) == 1
    assert len(stats["cached_ms"]) == 1     # asked again, from the on-disk cache
