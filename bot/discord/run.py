"""`willitrun run` with a DISCORD_TOKEN: open the core's slow parts, connect, and stop cleanly on Ctrl-C or SIGTERM."""
from __future__ import annotations

import asyncio
import logging
import signal
import sys

from bot.core import Core
from bot.discord.app import StartupError, WillItRunBot, shard_options
from bot.discord.platform import point_discord_at
from bot.discord.store import Store, default_path
from bot.llm.base import LLMError
from bot.ops.logs import setup_logging
from bot.ops.metrics import metrics_from_settings

log = logging.getLogger(__name__)


async def serve(bot, token: str) -> None:
    """Run `bot` until it is closed; SIGTERM and SIGINT close it (containers stop with SIGTERM)."""
    loop = asyncio.get_running_loop()
    closing: set[asyncio.Task] = set()     # held: the loop keeps only weak references to tasks

    def stop() -> None:
        task = loop.create_task(bot.close())
        closing.add(task)
        task.add_done_callback(closing.discard)

    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop)
        except (NotImplementedError, RuntimeError):   # not on this platform or not in the main thread
            pass
    async with bot:
        await bot.start(token)


def run_bot(core: Core) -> int:
    """Connect the bot that answers with `core` (its settings name the token and the fake Discord, if any)."""
    settings = core.settings
    setup_logging(settings)
    logging.getLogger("discord").setLevel(logging.INFO)
    point_discord_at(settings.discord_api_base, settings.discord_gateway_url)
    log.info("loading the search index and the language model")
    try:
        shard_options(settings)                  # a shard setting that cannot work stops the start before the slow part
        _ = core.retriever                       # a stale or corrupt index is rebuilt here, with a log line
        load = getattr(core.backend, "load", None)
        if load is not None:                       # a local model that cannot load should stop the start, not
            load()                                 # the first question
    except (LLMError, StartupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    store = Store(default_path(settings.data_dir), retention_days=settings.data_retention_days)
    bot = WillItRunBot(core, store, metrics=metrics_from_settings(settings))
    try:
        asyncio.run(serve(bot, settings.discord_token or ""))
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0
