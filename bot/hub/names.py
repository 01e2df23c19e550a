"""Which texts name a Hugging Face repo: `owner/name`, `hf.co/owner/name:Q4_K_M` (Ollama's spelling), a repo URL,
or a bare repo name such as `Qwen3-30B-A3B-Instruct-2507` (found by the Hub's search, exact matches only)."""
from __future__ import annotations

import re
from dataclasses import dataclass

_PART = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}"
_REPO = re.compile(rf"^(?P<repo>{_PART}/{_PART})(?:/(?:tree|blob|resolve)/(?P<rev>[^/\s]+)(?:/\S*)?)?"
                   rf"(?::(?P<quant>[A-Za-z0-9_\-]+))?$")
_HOSTS = re.compile(r"^(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/", re.IGNORECASE)
# a single token with a digit and a dash or dot: "Qwen3-30B-A3B", "Mistral-Small-3.2-24B"; never "llama 3 8b"
_BARE = re.compile(r"^(?=.*\d)(?=.*[-.])[A-Za-z0-9][A-Za-z0-9_.\-]{2,95}$")


@dataclass(frozen=True)
class RepoRef:
    repo: str
    quant: str | None = None
    revision: str = "main"

    @property
    def owner(self) -> str:
        return self.repo.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.repo.split("/", 1)[1]


def repo_ref(text: str, quant: str | None = None, endpoint: str | None = None) -> RepoRef | None:
    """The repo `text` names, or None. A quant given apart wins over one in the text (`repo:Q4_K_M`)."""
    text = text.strip()
    if endpoint and text.startswith(endpoint.rstrip("/") + "/"):
        text = text[len(endpoint.rstrip("/")) + 1:]
    text = _HOSTS.sub("", text)
    if text.startswith(("models/", "datasets/", "spaces/")):
        return None
    m = _REPO.match(text)
    if not m or ".." in m["repo"]:
        return None
    return RepoRef(m["repo"], quant or m["quant"], m["rev"] or "main")


def bare_repo_name(text: str) -> str | None:
    """A repo name without its owner, which the Hub's search may find; None for ordinary model names."""
    text = text.strip()
    return text if _BARE.match(text) and not text.lower().endswith(".gguf") else None
