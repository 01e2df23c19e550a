"""`willitrun health`: can this installation answer? One line per check, exit 0 when all pass, 1 otherwise.

Cheap enough for a container HEALTHCHECK: nothing here loads the embedding model or the language model. The GGUF
check reads the file's header and tensor table (memory-mapped), and the index check compares content hashes.
Only `--fix` embeds anything (it rebuilds a stale index, like `willitrun index build`).
"""
from __future__ import annotations

import base64
import binascii
import json
import os
import re
import tempfile
from pathlib import Path

from pydantic import BaseModel

from bot.core import open_core
from bot.errors import InvalidRequestError, WillItRunError
from bot.kb.load import KnowledgeBase
from bot.settings import Settings
from bot.text import redact, redact_url


class Check(BaseModel):
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


# ---------------------------------------------------------------------------------------------- content
def check_catalog(settings: Settings) -> Check:
    from bot.catalog.load import load_catalog_checked

    catalog, problems = load_catalog_checked(settings.knowledge_dir)
    if catalog is None:
        return Check(name="catalog", ok=False,
                     detail=f"{len(problems)} problem(s), first: {problems[0]}; run `willitrun kb check`")
    return Check(name="catalog", ok=True,
                 detail=f"{len(catalog.hardware)} hardware entries, {len(catalog.models)} models")


def check_knowledge(settings: Settings, kb: KnowledgeBase, problems: list[str]) -> Check:
    if problems:
        return Check(name="knowledge base", ok=False,
                     detail=f"{len(problems)} problem(s), first: {problems[0]}; run `willitrun kb check`")
    if not kb.entries:
        return Check(name="knowledge base", ok=False, detail=f"no entries under {settings.knowledge_dir}")
    return Check(name="knowledge base", ok=True, detail=f"{len(kb.entries)} entries")


# ---------------------------------------------------------------------------------------------- index
def configured_embedding_name(settings: Settings) -> str:
    """The name the index manifest records for the configured model (as `Embedder` names it), without loading it."""
    from bot.retrieval.embed import BUNDLED_NAME, model_identity

    if not settings.embedding_model:
        return BUNDLED_NAME
    folder = Path(settings.embedding_model)
    return model_identity(folder) if folder.is_dir() else folder.name


def index_staleness(index_dir: Path, kb: KnowledgeBase, model_name: str) -> str | None:
    """Why the saved index does not match the knowledge base, or None when it does."""
    from bot.retrieval.dense_index import MANIFEST_FILE, DenseIndex
    from bot.retrieval.passages import all_passages

    manifest_path = index_dir / MANIFEST_FILE
    if not manifest_path.exists():
        return f"no index in {index_dir}"
    try:
        # the dimensions come from the manifest: a different model shows up as a different name
        dimensions = int(json.loads(manifest_path.read_text(encoding="utf-8"))["dimensions"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"unreadable manifest ({type(exc).__name__}: {exc})"
    index, reason = DenseIndex.load(index_dir, model_name, dimensions)
    if index is None:
        return reason
    wanted = {p.faiss_id: p for p in all_passages(kb)}
    changed = {p.entry_id for fid, p in wanted.items()
               if fid not in index.passages or index.passages[fid]["hash"] != p.content_hash}
    changed |= {meta["entry"] for fid, meta in index.passages.items() if fid not in wanted}
    if not changed:
        return None
    names = sorted(changed)
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"stale: {len(names)} entr{'y' if len(names) == 1 else 'ies'} changed since the last build ({shown})"


def check_index(settings: Settings, kb: KnowledgeBase, fix: bool = False) -> Check:
    problem = index_staleness(settings.index_dir, kb, configured_embedding_name(settings))
    if problem is None:
        return Check(name="index", ok=True, detail=f"up to date with {len(kb.entries)} entries")
    if not fix:
        return Check(name="index", ok=False,
                     detail=f"{problem}; run `willitrun health --fix` or `willitrun index build`")
    try:
        stats = open_core(settings, backend=None).open_index()
    except WillItRunError as exc:
        return Check(name="index", ok=False, detail=f"{problem}; rebuilding failed: {exc}")
    return Check(name="index", ok=True,
                 detail=f"rebuilt ({problem}): {stats.embedded} passages embedded, {stats.total} in the index")


# ---------------------------------------------------------------------------------------------- language model
def check_llm(settings: Settings) -> Check:
    if not settings.llm_enabled:
        return Check(name="llm", ok=True, detail="off (LLM_ENABLED=false): answers come from the entries")
    if settings.llm_base_url:
        return check_llm_server(settings)
    return check_local_model(settings)


def check_local_model(settings: Settings) -> Check:
    from bot.llm.base import LLMError
    from bot.llm.models import resolve_model_path

    try:
        path = resolve_model_path(settings.llm_model_path)
    except LLMError as exc:
        return Check(name="llm", ok=False, detail=str(exc))
    header = gguf_header_or_problem(path)
    if isinstance(header, str):
        return Check(name="llm", ok=False, detail=header)
    try:
        import llama_cpp
    except (ImportError, OSError) as exc:   # OSError: the shared library or a CUDA library it needs is missing
        hint = ("; no NVIDIA driver is visible here: check the container's GPU reservation and the NVIDIA "
                "Container Toolkit" if "libcuda" in str(exc) else "")
        return Check(name="llm", ok=False, detail=f"llama-cpp-python does not load: {exc}{hint}")
    gpu = bool(llama_cpp.llama_supports_gpu_offload())
    if settings.llm_gpu_layers != 0 and not gpu:
        return Check(name="llm", ok=False, detail=(
            f"LLM_GPU_LAYERS={settings.llm_gpu_layers}, but this llama-cpp-python build has no GPU support: "
            "reinstall it with CMAKE_ARGS=\"-DGGML_CUDA=on\" (the Dockerfile's cuda target does), "
            "or set LLM_GPU_LAYERS=0"))
    arch, tensors = header
    offload = f"{settings.llm_gpu_layers} layers on the GPU" if settings.llm_gpu_layers else "CPU only"
    return Check(name="llm", ok=True,
                 detail=f"{path.name} ({arch}, {tensors} tensors, {path.stat().st_size / 1e6:.0f} MB; {offload})")


def gguf_header_or_problem(path: Path) -> tuple[str, int] | str:
    """(architecture, tensor count) when the GGUF header and tensor table read cleanly, else what is wrong: the
    sizing engine's own check (bot/sizing/gguf_file.py `open_gguf`), so both say the same about the same file."""
    from bot.sizing.gguf_file import open_gguf

    try:
        reader, arch = open_gguf(path)
    except InvalidRequestError as exc:
        return str(exc)
    return arch, len(reader.tensors)


def check_llm_server(settings: Settings) -> Check:
    import httpx

    url = (settings.llm_base_url or "").rstrip("/")
    # `base` is what the lines show: LLM_BASE_URL may carry user:password@ or ?api_key=
    base = redact_url(url)
    headers = {"Authorization": f"Bearer {settings.llm_api_key}"} if settings.llm_api_key else {}
    try:
        response = httpx.get(f"{url}/models", headers=headers, timeout=5.0)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        problem = redact(str(exc), (settings.llm_api_key,))
        return Check(name="llm", ok=False, detail=f"no answer from {base}/models ({type(exc).__name__}: {problem}); "
                                                  "is the server up, and does LLM_BASE_URL end in /v1?")
    if response.status_code != 200:
        hint = {401: "; check LLM_API_KEY", 403: "; check LLM_API_KEY",
                404: "; does LLM_BASE_URL end in /v1?"}.get(response.status_code, "")
        return Check(name="llm", ok=False, detail=f"{base}/models answered HTTP {response.status_code}{hint}")
    try:
        ids = [str(m["id"]) for m in response.json()["data"]]
    except (ValueError, KeyError, TypeError):
        return Check(name="llm", ok=False, detail=f"{base}/models did not answer with an OpenAI model list")
    if not ids:
        return Check(name="llm", ok=False, detail=f"{base} serves no model yet")
    detail = f"{base} serves {', '.join(ids[:3])}" + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
    wanted = settings.llm_model
    # a note, not a failure: llama.cpp's server answers whatever name it is given, vLLM and Ollama do not
    if wanted and wanted not in ids and f"{wanted}:latest" not in ids:
        detail += f"; note: LLM_MODEL={wanted} is not among them"
    return Check(name="llm", ok=True, detail=detail)


# ---------------------------------------------------------------------------------------------- host
def check_data_dir(settings: Settings) -> Check:
    folder = settings.data_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".health-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return Check(name="data dir", ok=False, detail=f"{folder} is not writable ({exc.strerror or exc}); "
                                                       "fix its owner or mount, or set DATA_DIR")
    return Check(name="data dir", ok=True, detail=f"{folder} is writable")


def check_database(settings: Settings) -> Check:
    """SQLite's quick check of the bot's database (feedback, channel modes, what answers were about)."""
    import sqlite3

    path = settings.database_path
    if not path.exists():
        return Check(name="database", ok=True, detail=f"none yet: {path.name} is created when the bot starts")
    try:
        db = sqlite3.connect(path, timeout=5.0)
        try:
            rows = db.execute("PRAGMA quick_check").fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        rows = [(str(exc),)]
    problems = [str(r[0]) for r in rows if r[0] != "ok"]
    if problems:
        return Check(name="database", ok=False, detail=(
            f"{path} is damaged ({'; '.join(problems[:3])}); the bot moves it aside and starts a new one when it "
            "starts, or restore it from a backup"))
    return Check(name="database", ok=True, detail=f"{path.name} passed SQLite's integrity check")


# A bot token is three base64url parts joined by dots: the bot's user id, a timestamp, and a signature.
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$")


def discord_token_problem(token: str) -> str | None:
    """What is wrong with the shape of a bot token, or None. No network: Discord alone can say it is valid."""
    if token != token.strip():
        return "it has spaces or a line break around it"
    if token.lower().startswith("bot "):
        return "leave out the 'Bot ' prefix: the library adds it"
    if token[:1] in "\"'":
        return "leave out the quotes"
    if "." not in token:
        return ("it has no dots: that looks like the client secret or the public key, not the bot token "
                "(Developer Portal > your application > Bot > Reset Token)")
    if not TOKEN_SHAPE.match(token):
        return "it is not three dot-separated parts of letters, digits, '-' and '_'"
    first = token.split(".", 1)[0]
    try:
        user_id = base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        user_id = ""
    if not user_id.isdigit():
        return "its first part does not encode a user id; copy the token again"
    return None


def check_discord_token(settings: Settings, required: bool) -> Check:
    token = settings.discord_token
    if not token:
        if required:
            return Check(name="discord token", ok=False,
                         detail="DISCORD_TOKEN is not set (Developer Portal > your application > Bot > Reset Token)")
        return Check(name="discord token", ok=True, detail="not set: `willitrun run` opens the terminal console")
    problem = discord_token_problem(token)
    if problem:
        return Check(name="discord token", ok=False, detail=f"DISCORD_TOKEN looks wrong: {problem}")
    return Check(name="discord token", ok=True, detail="set, and shaped like a bot token (checked offline)")


# ---------------------------------------------------------------------------------------------- all of them
def run_checks(settings: Settings, fix: bool = False, discord: bool = False) -> list[Check]:
    """Every check, in the order a person would fix them. `discord`: the bot is meant to connect, so the token
    is required; `fix`: rebuild a stale index instead of failing."""
    from bot.kb.load import load_knowledge

    kb, problems = load_knowledge(settings.knowledge_dir, required=None)
    return [
        check_catalog(settings),
        check_knowledge(settings, kb, problems),
        check_index(settings, kb, fix=fix),
        check_llm(settings),
        check_data_dir(settings),
        check_database(settings),
        check_discord_token(settings, required=discord),
    ]
