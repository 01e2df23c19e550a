"""Sharding: the bot is an AutoShardedBot; DISCORD_SHARD_COUNT and DISCORD_SHARD_IDS split its shards across
processes, and each process answers in the guilds its shards own and nowhere else. The fake Discord routes a guild's
events to the session of shard (guild_id >> 22) % shard_count, as Discord does."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fake_discord import LINK_BUTTON, FakeDiscord, message_text, shard_of
from test_discord_e2e import answer_to, replies_to, run, running

from bot.discord.app import StartupError, WillItRunBot, shard_options
from bot.settings import Settings

QUESTION = "will llama 3.1 8b fit on a rtx 3060 12gb?"


# ---------------------------------------------------------------- the settings
def shards(**env) -> dict:
    return shard_options(Settings(_env_file=None, **env))


def test_without_shard_settings_discord_py_decides():
    assert shards() == {}


def test_shard_ids_split_the_shards_of_a_count():
    assert shards(discord_shard_count=4, discord_shard_ids="3, 1") == {"shard_count": 4, "shard_ids": [1, 3]}
    assert shards(discord_shard_count=2) == {"shard_count": 2, "shard_ids": None}    # both shards here


@pytest.mark.parametrize(("settings", "named"), [
    ({"discord_shard_ids": "0"}, "DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT"),
    ({"discord_shard_count": 2, "discord_shard_ids": "0,2"}, "DISCORD_SHARD_IDS: with DISCORD_SHARD_COUNT=2"),
    ({"discord_shard_count": 2, "discord_shard_ids": "1,1"}, "DISCORD_SHARD_IDS lists a shard twice"),
    ({"discord_shard_count": 0}, "DISCORD_SHARD_COUNT must be at least 1"),
])
def test_impossible_shard_settings_are_refused_naming_the_setting(settings, named):
    with pytest.raises(StartupError, match=named):
        shards(**settings)


def test_willitrun_run_stops_at_once_on_an_impossible_shard_setting(tmp_path):
    env = {**os.environ, "DISCORD_TOKEN": "x", "DISCORD_API_BASE": "http://127.0.0.1:9/api/v10",
           "DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "2", "LLM_ENABLED": "false", "DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "run"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    assert "error: DISCORD_SHARD_IDS: with DISCORD_SHARD_COUNT=2 shard ids run from 0 to 1; 2 is outside" in done.stderr


# ---------------------------------------------------------------- one process, discord.py's count
class BotThatIdentifiesAtOnce(WillItRunBot):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s before each IDENTIFY after the first (Discord's identify rate limit); the fake has
        no such limit, and the wait would eat the 10 s `running` gives a bot to get ready."""


def test_unset_the_bot_opens_as_many_shards_as_discord_recommends_and_answers_in_each(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        guilds = [fake.add_guild(f"guild on shard {i}", shard=i) for i in (0, 1)]
        async with running(fake, core, tmp_path, BotThatIdentifiesAtOnce, discord_guild_id=None,
                           discord_sync_commands=False) as bot:
            assert fake.ready_shards == [0, 1] and bot.shard_count == 2
            assert any(r.path == "/gateway/bot" for r in fake.requests)
            for guild_id, channel_id in guilds:
                question = await fake.user_message(QUESTION, channel_id=channel_id, mention_bot=True)
                assert "RTX 3060" in message_text(await answer_to(fake, question, timeout=30))
                assert bot.get_guild(int(guild_id)).shard_id == shard_of(guild_id, 2)

    run(scenario, timeout=120, shard_count=2)


# ---------------------------------------------------------------- two processes, one shard each
async def start_shard(fake: FakeDiscord, shard_id: int, folder: Path) -> asyncio.subprocess.Process:
    """`willitrun run` for one shard of two, logging to folder/log.txt."""
    folder.mkdir()
    env = {**os.environ, "DISCORD_TOKEN": fake.token, "DISCORD_API_BASE": fake.api_base,
           "DISCORD_GATEWAY_URL": fake.gateway_url, "LLM_ENABLED": "false", "DATA_DIR": str(folder),
           "DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": str(shard_id), "DISCORD_COOLDOWN_S": "0",
           # the link under a sizing answer says which process wrote it
           "PUBLIC_URL": f"https://shard{shard_id}.example.org"}
    env.pop("DISCORD_GUILD_ID", None)
    with (folder / "log.txt").open("wb") as log:      # the child keeps its own copy of the file
        return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", env=env, stdout=log,
                                                    stderr=asyncio.subprocess.STDOUT)


def test_two_shards_in_two_processes_each_answer_in_their_own_guilds_only(tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        guilds = {i: fake.add_guild(f"guild on shard {i}", shard=i) for i in (0, 1)}
        processes = [await start_shard(fake, i, tmp_path / f"shard{i}") for i in (0, 1)]
        try:
            await fake.wait_for(lambda: fake.ready_shards == [0, 1], 120, what="both shards ready")
            assert sorted(tuple(p["shard"]) for p in fake.identify_payloads) == [(0, 2), (1, 2)]
            # the process with shard 0 registers the commands for both; the other leaves them alone
            await fake.wait_for(lambda: fake.global_commands, 30, what="command sync")
            assert len([r for r in fake.requests if r.method == "PUT" and r.path.endswith("/commands")]) == 1

            questions = {i: await fake.user_message(QUESTION, channel_id=guilds[i][1], mention_bot=True)
                         for i in (0, 1)}
            for i, question in questions.items():
                answer = await answer_to(fake, question, timeout=60)
                [link] = [c for row in answer["components"] for c in row["components"] if c["style"] == LINK_BUTTON]
                assert link["url"].startswith(f"https://shard{i}.example.org/?model=llama-3.1-8b")
                seen = [m["id"] for m in fake.session(i).dispatched("MESSAGE_CREATE")]
                unseen = [m["id"] for m in fake.session(1 - i).dispatched("MESSAGE_CREATE")]
                assert question["id"] in seen and question["id"] not in unseen
            await asyncio.sleep(1)      # time enough for a second, wrong answer to show
            assert all(len(replies_to(fake, q)) == 1 for q in questions.values())

            for process in processes:
                process.send_signal(signal.SIGTERM)
            assert [await asyncio.wait_for(p.wait(), 30) for p in processes] == [0, 0]
        except AssertionError as failed:
            raise AssertionError(f"{failed}\n{logs(tmp_path)}") from failed
        finally:
            for process in processes:
                if process.returncode is None:
                    process.kill()
                    await process.wait()

    run(scenario, timeout=300, shard_count=2)


def logs(folder: Path) -> str:
    return "\n".join(f"--- {p.parent.name}\n{p.read_text(errors='replace')[-3000:]}"
                     for p in sorted(folder.glob("shard*/log.txt")))
