"""The bot end to end: the real discord.py client running our bot against the fake Discord in fake_discord.py, with
the real core (catalog, sizing engine, retriever). The language model is off (answers from the entries), the fake
OpenAI-compatible server where streaming matters, and the real bundled model in one test."""
from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import discord
import pytest
from conftest import KNOWLEDGE
from discord import app_commands
from fake_discord import EPHEMERAL, FakeDiscord, message_text
from fake_openai import FakeOpenAIServer
from helpers import NEW_ENTRY, core_with

from bot.core import Core, open_core
from bot.discord.app import MESSAGE_CONTENT_REFUSED, StartupError, WillItRunBot
from bot.discord.limits import CONTENT
from bot.discord.platform import pointed_at
from bot.discord.render import text_posts
from bot.discord.replies import respond
from bot.discord.store import Store, default_path
from bot.llm.openai_http import OpenAICompatibleBackend
from bot.sizing.devices import GIB
from bot.sizing.schema import SizingRequest

MANAGE_GUILD = 1 << 5
SUPPRESS_NOTIFICATIONS = 1 << 12


@pytest.fixture
def streaming_server(kb):
    """A server that rephrases faithfully, word by word: the kv-cache entry's own summary (the guard lets previews
    of supported whole sentences through, so they show as they come)."""
    summary = " ".join(kb.entries["kv-cache"].meta.summary.split())
    server = FakeOpenAIServer(pieces=[w + " " for w in summary.split()], seconds_between_pieces=0.1)
    server.start()
    yield server
    server.stop()


def run(scenario: Callable[[FakeDiscord], Awaitable[None]], timeout: float = 30, **fake_options) -> None:
    async def main() -> None:
        async with FakeDiscord(**fake_options) as fake:
            with pointed_at(fake.api_base, fake.gateway_url):
                await scenario(fake)

    asyncio.run(asyncio.wait_for(main(), timeout))


@contextlib.asynccontextmanager
async def running(fake: FakeDiscord, core: Core, data_dir: Path, bot_class: type = WillItRunBot,
                  metrics=None, **settings) -> AsyncIterator[WillItRunBot]:
    """Our bot, logged in to the fake and ready; closed afterwards."""
    options = dict(data_dir=data_dir, discord_guild_id=int(fake.guild_id), discord_cooldown_s=0,
                   discord_button_cooldown_s=0)
    store = Store(default_path(data_dir))
    bot = bot_class(core_with(core, core.backend, **{**options, **settings}), store, metrics=metrics,
                    guild_ready_timeout=0.05)
    async with bot:
        task = asyncio.create_task(bot.start(fake.token))
        try:
            await fake.wait_for(lambda: bot.is_ready() or task.done(), 10, what="bot ready")
            if task.done():
                task.result()
            yield bot
        finally:
            await bot.close()
            await asyncio.wait_for(task, 5)
            store.close()


def replies_to(fake: FakeDiscord, message: dict) -> list[dict]:
    return [m for m in fake.bot_messages(message["channel_id"])
            if (m.get("message_reference") or {}).get("message_id") == message["id"]]


async def answer_to(fake: FakeDiscord, message: dict, timeout: float = 10) -> dict:
    """The bot's reply to `message`, once it is final (has its buttons)."""
    await fake.wait_for(lambda: any(m["components"] for m in replies_to(fake, message)), timeout,
                        what=f"an answer to {message['content']!r}")
    return replies_to(fake, message)[0]


def sent_by_bot(fake: FakeDiscord):
    """Every REST call that creates or edits a message the bot writes."""
    for r in fake.requests:
        if r.method == "POST" and r.path.startswith("/interactions/") and (r.json or {}).get("type") in (4, 7):
            yield r, r.json["data"]
        elif r.method in ("POST", "PATCH") and (r.path.startswith("/webhooks/") or
                                                (r.path.startswith("/channels/") and "/messages" in r.path
                                                 and "/threads" not in r.path)):
            yield r, r.json


# ---------------------------------------------------------------- login and commands
def test_logs_in_and_syncs_its_commands_to_the_configured_guild(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            commands = {c["name"]: c for c in fake.commands}
            assert set(commands) == {"willitrun", "ask", "glossary", "error", "compare", "choosegpu", "admin",
                                     "finetune", "serve", "image", "cost", "whatcanirun"}
            assert all(c.get("guild_id") == fake.guild_id for c in commands.values())
            assert int(commands["admin"]["default_member_permissions"]) == MANAGE_GUILD
            assert fake.identifies == 1

    run(scenario)


def test_model_names_autocomplete_from_the_catalog(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            interaction = await fake.autocomplete("willitrun", {"model": "llama 3.1 70"}, focused="model")
            await interaction.wait_done(lambda i: i.choices)
            assert "llama-3.1-70b" in [c["value"] for c in interaction.choices][:3]
            assert len(interaction.choices) <= 25

    run(scenario)


# ---------------------------------------------------------------- /willitrun
def test_willitrun_is_answered_at_once_with_the_engines_numbers_and_a_chart(core, tmp_path, engine):
    report = engine.size(SizingRequest(model="llama-3.1-70b", gpu="rtx-3090", gpus=2, context=16384))

    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            interaction = await fake.slash("willitrun", {"model": "llama 3.1 70b", "gpu": "rtx 3090", "gpus": 2,
                                                         "context": 16384})
            await interaction.wait_done()
            callback = next(r for r in fake.requests if r.path.startswith(f"/interactions/{interaction.id}/"))
            assert callback.at - interaction.dispatched_at < 3.0
            assert [c["type"] for c in interaction.callbacks] == [4]        # no defer
            text = interaction.answered_text()
            assert f"total {report.total_bytes / GIB:.1f} GB" in text
            assert f"{report.gpu_layers}/{report.total_layers} layers on GPU" in text
            assert f"{report.max_context:,} tokens" in text
            assert [a["filename"] for a in interaction.original["attachments"]] == ["memory.png"]
            assert callback.attachments[0]["size"] > 10_000

    run(scenario)


def test_an_unknown_gpu_gets_the_closest_names_only_shown_to_the_asker(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            interaction = await fake.slash("willitrun", {"model": "llama-3.1-8b", "gpu": "rtx 3900"})
            await interaction.wait_done()
            assert "Closest known" in interaction.answered_text()
            assert interaction.ephemeral

    run(scenario)


def test_a_variant_button_resizes_the_answer_with_one_thing_changed(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            first = await fake.slash("willitrun", {"model": "llama-3.1-8b", "gpu": "rtx-3060", "context": 32768})
            await first.wait_done()
            buttons = [c["custom_id"] for row in first.original["components"] for c in row["components"]]
            assert "alt:context:16384" in buttons and "alt:kv:q8_0" in buttons
            click = await fake.click(first.original, "alt:context:16384")
            await click.wait_done()
            assert "16,384 tokens" in click.answered_text() and click.ephemeral

    run(scenario)


def test_feedback_is_recorded_once_per_person(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path) as bot:
            question = await fake.user_message("what is the kv cache?", mention_bot=True)
            answer = await answer_to(fake, question)
            for vote in ("fb:up", "fb:down"):
                click = await fake.click(answer, vote)
                await click.wait_done()
            assert "👍 0 · 👎 1" in click.answered_text()
            assert bot.store.feedback_counts(int(answer["id"])).down == 1

    run(scenario)


def test_buttons_on_an_answer_still_work_after_the_bot_restarts(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            answer = await answer_to(fake, await fake.user_message("what is the kv cache?", mention_bot=True))
        async with running(fake, core, tmp_path) as restarted:
            click = await fake.click(answer, "fb:up")
            await click.wait_done()
            assert "👍 1" in click.answered_text()
            assert restarted.store.feedback_counts(int(answer["id"])).up == 1

    run(scenario)


def test_answers_and_feedback_are_counted_in_the_metrics(core, tmp_path):
    metrics_module = pytest.importorskip("bot.ops.metrics")
    pytest.importorskip("prometheus_client")
    metrics = metrics_module.Metrics()

    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, metrics=metrics):
            sizing = await answer_to(fake, await fake.user_message("will llama 3.1 8b fit on a 3060 12gb?",
                                                                   mention_bot=True))
            await answer_to(fake, await fake.user_message("what is the kv cache?", mention_bot=True))
            await (await fake.click(sizing, "fb:up")).wait_done()

    run(scenario)
    text = metrics.exposition().decode()
    assert 'willitrun_questions_total{route="sizing"} 1.0' in text
    assert 'willitrun_questions_total{route="knowledge"} 1.0' in text
    assert 'willitrun_feedback_total{vote="up"} 1.0' in text


def test_compare_shows_the_same_model_on_both_gpus(core, tmp_path, engine):
    reports = [engine.size(SizingRequest(model="llama-3.1-8b", gpu=g)) for g in ("rtx-3060", "rtx-4090")]

    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            interaction = await fake.slash("compare", {"gpu_a": "rtx 3060", "gpu_b": "rtx 4090",
                                                       "model": "llama 3.1 8b"})
            await interaction.wait_done()
            text = interaction.answered_text()
            speeds = [f"{r.decode_tokens_per_s.low:g}–{r.decode_tokens_per_s.high:g} tokens/s" for r in reports]
            assert f"{reports[0].hardware} vs {reports[1].hardware}" in text
            assert all(speed in text for speed in speeds)

    run(scenario)


def test_choosegpu_lists_the_smallest_hardware_that_runs_the_model(core, tmp_path, engine):
    from bot.sizing.choose import choose

    smallest = choose(engine, "llama-3.1-70b").options[0]

    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            interaction = await fake.slash("choosegpu", {"model": "llama 3.1 70b"})
            await interaction.wait_done()
            assert "Needs at least" in interaction.answered_text() and smallest.name in interaction.answered_text()

    run(scenario)


# ---------------------------------------------------------------- the knowledge base
def test_glossary_shows_the_entry_with_numbered_sources(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            suggest = await fake.autocomplete("glossary", {"term": "kv cach"}, focused="term")
            await suggest.wait_done(lambda i: i.choices)
            assert "kv-cache" in [c["value"] for c in suggest.choices][:3]
            interaction = await fake.slash("glossary", {"term": "kv-cache"})
            await interaction.wait_done()
            embed = interaction.original["embeds"][0]
            assert embed["title"] == "KV cache" and "[1] [" in interaction.answered_text()

    run(scenario)


def test_error_finds_the_entry_for_a_pasted_error_message(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            interaction = await fake.slash("error", {"text": "torch.OutOfMemoryError: CUDA out of memory. Tried to "
                                                             "allocate 2.00 GiB"})
            await interaction.wait_done()
            assert "CUDA out of memory" in interaction.original["embeds"][0]["title"]

    run(scenario)


def test_show_sources_reveals_the_cited_entries_to_the_one_who_asked(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path) as bot:
            question = await fake.user_message("what is the kv cache?", mention_bot=True)
            answer = await answer_to(fake, question)
            click = await fake.click(answer, "src")
            await click.wait_done()
            first_source = bot.store.answer_record(int(answer["id"])).sources[0]
            assert f"[1] {first_source.title}" in click.answered_text() and click.ephemeral

    run(scenario)


def test_questions_the_knowledge_base_cannot_answer_are_recorded(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path) as bot:
            question = await fake.user_message("what is the best pizza topping?", mention_bot=True)
            answer = await answer_to(fake, question)
            assert "not in our knowledge base" in message_text(answer)
            await fake.wait_for(lambda: bot.store.most_unanswered(), 5, what="the question recorded")
            assert [q.question for q in bot.store.most_unanswered()] == ["what is the best pizza topping?"]

    run(scenario)


# ---------------------------------------------------------------- /ask
def test_ask_is_deferred_then_streamed_into_the_reply_at_most_once_a_second(core, tmp_path, streaming_server):
    streaming = core_with(core, OpenAICompatibleBackend(streaming_server.base_url, model="fake-model-7b"))

    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, streaming, tmp_path):
            interaction = await fake.slash("ask", {"question": "what is the kv cache?"})
            await interaction.wait_done(lambda i: "Sources" in i.answered_text())
            assert interaction.callbacks[0]["type"] == 5                   # deferred, "thinking"
            edits = fake.edits_of(interaction.original["id"])
            first_sentence = "The KV cache stores the attention keys and values"
            assert any(first_sentence in (body.get("content") or "") for _, body in edits[:-1])   # as it came
            times = [t for t, _ in edits]
            assert len(times) >= 2                   # a whole sentence as it came, then the final answer
            assert min(b - a for a, b in zip(times, times[1:])) >= 0.95
            assert "[1] [" in interaction.answered_text()                 # numbered source links

    run(scenario)


def test_ask_answers_from_the_entries_when_the_model_is_off(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            interaction = await fake.slash("ask", {"question": "what does CUDA out of memory mean?"})
            await interaction.wait_done()
            text = interaction.answered_text()
            assert "[1]" in text and "Taken from the knowledge base entries" in text

    run(scenario)


def test_an_expired_interaction_token_still_gets_the_answer_to_the_channel(core, tmp_path, streaming_server):
    streaming = core_with(core, OpenAICompatibleBackend(streaming_server.base_url, model="fake-model-7b"))

    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, streaming, tmp_path):
            interaction = await fake.slash("ask", {"question": "what is the kv cache?"})
            await interaction.wait_done(lambda i: i.deferred)
            fake.advance_clock(16 * 60)           # past the 15 minutes an interaction token lives
            await fake.wait_for(lambda: any(m["components"] for m in fake.bot_messages()), 10,
                                what="the answer posted to the channel")
            texts = [message_text(m) for m in fake.bot_messages()]
            assert "took longer than Discord" in texts[-2] and "[1] [" in texts[-1]

    run(scenario)


# ---------------------------------------------------------------- questions in channels
def test_with_threads_on_the_answer_goes_in_a_thread_where_follow_ups_are_answered(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, discord_answer_in_threads=True):
            await fake.user_message("what is the kv cache?", mention_bot=True)
            await fake.wait_for(lambda: fake.threads and any(m["components"] for m in
                                                               fake.bot_messages(fake.threads[0]["id"])),
                                10, what="an answer in a thread")
            thread_id = fake.threads[0]["id"]
            assert fake.threads[0]["name"] == "what is the kv cache?"
            assert not [m for m in fake.bot_messages(fake.channel_id) if m["components"]]
            await fake.user_message("and what is flash attention?", channel_id=thread_id)   # no mention
            await fake.wait_for(lambda: sum(bool(m["components"]) for m in fake.bot_messages(thread_id)) == 2,
                                10, what="the follow-up answered in the thread")

    run(scenario)


def test_a_mention_is_answered_in_a_reply_that_pings_nobody(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            question = await fake.user_message("will llama 3.1 8b fit on a 3060 12gb?", mention_bot=True)
            answer = await answer_to(fake, question)
            assert "Llama 3.1 8B" in message_text(answer)
            assert answer["allowed_mentions"]["parse"] == []
            assert not answer["allowed_mentions"].get("replied_user")
            assert answer["mentions"] == []

    run(scenario)


def test_a_reply_to_a_sizing_answer_reuses_its_request(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            question = await fake.user_message("will llama 3.1 70b fit on two 3090s?", mention_bot=True)
            first = await answer_to(fake, question)
            follow_up = await fake.user_message("what about 32k context?", reply_to=first, reply_ping=False)
            second = await answer_to(fake, follow_up)
            assert "Llama 3.1 70B" in message_text(second) and "32,768 tokens" in message_text(second)

    run(scenario)


def test_listen_mode_answers_confident_questions_and_ignores_chit_chat(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            mode = await fake.slash("admin", {"mode": "listen"}, subcommand="mode", user=fake.owner_user)
            await mode.wait_done()
            assert "listen" in mode.answered_text(), mode.answered_text()
            chat = await fake.user_message("haha nice, see you all tomorrow")
            question = await fake.user_message("will qwen2.5 32b run on a 4090?")
            await answer_to(fake, question)
            await asyncio.sleep(0.5)
            assert replies_to(fake, chat) == []
            assert len(fake.bot_messages()) == 1

    run(scenario)


def test_a_forum_post_in_a_listening_forum_is_answered_in_its_thread(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path) as bot:
            bot.store.set_channel_mode(int(fake.forum_channel_id), "listen")
            thread, post = await fake.user_forum_post("Will llama 3.1 8b fit on my GPU?", "I have an rtx 3060.")
            answer = await answer_to(fake, post)
            assert answer["channel_id"] == thread["id"]
            assert "Llama 3.1 8B" in message_text(answer) and "RTX 3060" in message_text(answer)

    run(scenario)


def test_an_admin_reload_of_a_changed_knowledge_folder_changes_routing_without_a_restart(core, tmp_path):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    own = open_core(core.settings.model_copy(update={"knowledge_dir": knowledge, "index_dir": tmp_path / "index"}),
                    backend=None, embedder=core.retriever.embedder)
    entries = len(own.kb.entries)

    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, own, tmp_path) as bot:
            mode = await fake.slash("admin", {"mode": "listen"}, subcommand="mode", user=fake.owner_user)
            await mode.wait_done()
            unknown = await fake.user_message("what is a zorbix cache?")
            await asyncio.sleep(1.0)
            assert replies_to(fake, unknown) == []           # not a word the bot knows: silence in listen mode

            before = bot.core
            (knowledge / "glossary" / "zorbix-cache.md").write_text(NEW_ENTRY)
            reload = await fake.slash("admin", subcommand="reload", user=fake.owner_user)
            await reload.wait_done(timeout=60)
            assert f"Reloaded {entries + 1} entries" in reload.answered_text() and reload.ephemeral
            assert bot.core is not before and bot.core.retriever is not before.retriever

            known = await fake.user_message("what is a zorbix cache?")
            assert "Zorbix cache" in message_text(await answer_to(fake, known))
            status = await fake.slash("admin", subcommand="index", user=fake.owner_user)
            await status.wait_done()
            assert f"Knowledge base: {entries + 1} entries" in status.answered_text()

    run(scenario, timeout=90)


def test_admin_commands_need_the_manage_server_permission(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path) as bot:
            attempt = await fake.slash("admin", {"mode": "listen"}, subcommand="mode", user=fake.user)
            await attempt.wait_done()
            assert "Manage Server" in attempt.answered_text() and attempt.ephemeral
            assert bot.store.channel_mode(int(fake.channel_id)) == "mention"

    run(scenario)


def test_bots_and_webhooks_are_ignored(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            await fake.user_message("what is gguf?", mention_bot=True, author_is_bot=True)
            await fake.user_message("what is gguf?", mention_bot=True, webhook_id="123456789")
            human = await fake.user_message("what is gguf?", mention_bot=True)
            await answer_to(fake, human)
            await asyncio.sleep(0.3)
            assert len(fake.bot_messages()) == 1

    run(scenario)


def test_without_the_message_content_intent_mentions_still_work(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, discord_message_content=False):
            assert not fake.intents & (1 << 15)
            question = await fake.user_message("what is gguf?", mention_bot=True)
            assert "GGUF" in message_text(await answer_to(fake, question))

    run(scenario, message_content_allowed=False)


def test_a_refused_message_content_intent_is_a_clear_startup_error(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        fake.close_code_on_identify = 4014
        with pytest.raises(StartupError) as refused:
            async with running(fake, core, tmp_path):
                pass
        assert str(refused.value) == MESSAGE_CONTENT_REFUSED
        assert "Message Content Intent" in MESSAGE_CONTENT_REFUSED
        assert "DISCORD_MESSAGE_CONTENT=false" in MESSAGE_CONTENT_REFUSED

    run(scenario, message_content_allowed=False)


# ---------------------------------------------------------------- platform rules and load
def test_a_rate_limited_reply_is_retried(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            fake.rate_limit_next("POST", f"/channels/{fake.channel_id}/messages", retry_after=0.3)
            question = await fake.user_message("what is gguf?", mention_bot=True)
            await answer_to(fake, question)
            posts = [r.status for r in fake.requests
                     if r.method == "POST" and r.path == f"/channels/{fake.channel_id}/messages"]
            assert posts[:2] == [429, 200]

    run(scenario)


def test_after_a_reconnect_the_bot_resumes_and_keeps_answering(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            await fake.send_reconnect()
            await fake.wait_for(lambda: fake.resumes == 1, 10, what="RESUME")
            question = await fake.user_message("what is gguf?", mention_bot=True)
            await answer_to(fake, question)
            assert fake.identifies == 1

    run(scenario)


def test_twenty_questions_at_once_are_all_answered(core, tmp_path):
    questions = ["what is gguf?", "what is the kv cache?", "will llama 3.1 8b fit on a 3060 12gb?",
                 "what does CUDA out of memory mean?", "what is flash attention?"]

    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            people = [fake.make_user(f"person{i}") for i in range(20)]
            asked = await asyncio.gather(*(fake.user_message(questions[i % len(questions)], mention_bot=True,
                                                             author=person) for i, person in enumerate(people)))
            await fake.wait_for(lambda: all(replies_to(fake, q) for q in asked), 45, what="20 answers")
            assert all(len(replies_to(fake, q)) == 1 for q in asked)

    run(scenario, timeout=60)


def test_every_message_the_bot_sends_has_allowed_mentions_and_fits_discord(core, tmp_path, streaming_server):
    streaming_server.pieces = ["@everyone " + "x" * 300 + " " for _ in range(10)]   # 3,000 characters of text
    streaming_server.seconds_between_pieces = 0.05
    streaming = core_with(core, OpenAICompatibleBackend(streaming_server.base_url, model="fake-model-7b"))

    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, streaming, tmp_path):
            ask = await fake.slash("ask", {"question": "what is the kv cache?"})
            sized = await fake.slash("willitrun", {"model": "llama-3.1-8b", "gpu": "rtx-4090"})
            question = await fake.user_message("@everyone what is gguf?", mention_bot=True)
            await answer_to(fake, question)
            await ask.wait_done(lambda i: "Sources" in i.answered_text())
            await sized.wait_done()
            sent = list(sent_by_bot(fake))
            assert len(sent) >= 4
            for request, body in sent:
                assert body["allowed_mentions"]["parse"] == [], request.path
                assert len(body.get("content") or "") <= CONTENT
                assert request.status in (200, 204), (request.path, request.status)
            assert not any(m["mention_everyone"] for m in fake.bot_messages())

    run(scenario)


def test_an_interaction_that_arrives_too_late_to_answer_is_dropped(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            fake.ids.lag_s = 5.0            # created 5 s ago: Discord's 3 s window is already over
            late = await fake.slash("willitrun", {"model": "llama-3.1-8b", "gpu": "rtx-4090"})
            fake.ids.lag_s = 0.0
            timely = await fake.slash("willitrun", {"model": "llama-3.1-8b", "gpu": "rtx-4090"})
            await timely.wait_done()
            await asyncio.sleep(0.3)
            assert late.callbacks == []

    run(scenario)


LONG_ANSWER = "\n\n".join(f"Paragraph {i}: " + "words to fill the message " * 40 for i in range(8))


class BotWithALongAnswer(WillItRunBot):
    """Our bot plus /long, which answers with text too long for one message, as a long model answer would be."""

    async def setup_hook(self) -> None:
        @app_commands.command(name="long", description="a long answer")
        async def long(interaction: discord.Interaction) -> None:
            await respond(interaction, text_posts(LONG_ANSWER))

        self.tree.add_command(long)
        await super().setup_hook()


def test_a_long_answer_is_sent_as_several_messages_the_rest_as_silent_followups(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, bot_class=BotWithALongAnswer):
            interaction = await fake.slash("long")
            expected = len(text_posts(LONG_ANSWER))
            assert expected >= 3
            await interaction.wait_done(lambda i: len(i.followups) == expected - 1)
            messages = [interaction.original, *interaction.followups]
            assert all(len(m["content"]) <= CONTENT for m in messages)
            assert " ".join(m["content"] for m in messages).split() == LONG_ANSWER.split()
            assert all(m["flags"] & SUPPRESS_NOTIFICATIONS for m in interaction.followups)

    run(scenario)


def test_a_question_over_the_length_limit_is_refused_politely(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, max_question_chars=100):
            interaction = await fake.slash("ask", {"question": "why " * 60})
            await interaction.wait_done()
            assert "at most 100" in interaction.answered_text() and interaction.ephemeral

    run(scenario)


def test_a_second_question_inside_the_cooldown_is_refused_politely(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, discord_cooldown_s=30):
            first = await fake.slash("ask", {"question": "what is gguf?"})
            second = await fake.slash("ask", {"question": "what is the kv cache?"})
            await first.wait_done()
            await second.wait_done()
            assert "please wait" in second.answered_text() and second.ephemeral

    run(scenario)


# ---------------------------------------------------------------- the real bundled model
def test_ask_with_the_real_bundled_model(core, tmp_path, smollm2_gguf):
    from bot.llm.local import LocalLlamaBackend

    local = core_with(core, LocalLlamaBackend(smollm2_gguf, n_ctx=2048, n_threads=2))

    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, local, tmp_path):
            interaction = await fake.slash("ask", {"question": "what is a GGUF file?"})
            await interaction.wait_done(lambda i: "Sources" in i.answered_text(), timeout=90)
            assert interaction.callbacks[0]["type"] == 5
            text = interaction.answered_text()
            assert "[1] [" in text and ("Phrased by" in text or "Taken from the knowledge base" in text)
            assert not interaction.original["flags"] & EPHEMERAL

    run(scenario, timeout=120)


# ---------------------------------------------------------------- `willitrun run`
def test_willitrun_run_with_a_token_serves_discord_and_stops_cleanly_on_sigterm(tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        env = {**os.environ, "DISCORD_TOKEN": fake.token, "DISCORD_API_BASE": fake.api_base,
               "DISCORD_GATEWAY_URL": fake.gateway_url, "DISCORD_GUILD_ID": fake.guild_id, "LLM_ENABLED": "false",
               "DATA_DIR": str(tmp_path)}
        bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            await fake.wait_ready(timeout=60)
            await fake.wait_for(lambda: fake.commands, 10, what="command sync")
            question = await fake.user_message("what is gguf?", mention_bot=True)
            assert "GGUF" in message_text(await answer_to(fake, question, timeout=20))
            bot.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(bot.wait(), 20) == 0
        finally:
            if bot.returncode is None:
                bot.kill()
                await bot.wait()
        assert (tmp_path / "willitrun.sqlite3").exists()

    run(scenario, timeout=90)


# ---------------------------------------------------------------- a failing database loses no question
def break_table(data_dir: Path, table: str) -> None:
    """Drop one table behind the bot's back, so that every use of it fails as a damaged database would."""
    db = sqlite3.connect(default_path(data_dir))
    db.execute(f"DROP TABLE {table}")
    db.close()


def test_a_question_is_answered_when_the_database_cannot_say_the_channels_mode(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            break_table(tmp_path, "channel_modes")
            question = await fake.user_message("what is gguf?", mention_bot=True)
            assert "GGUF" in message_text(await answer_to(fake, question))

    run(scenario)


def test_an_answer_the_database_cannot_remember_is_still_the_only_reply(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            break_table(tmp_path, "answers")
            question = await fake.user_message("what is gguf?", mention_bot=True)
            await answer_to(fake, question)
            await asyncio.sleep(0.5)
            assert len(replies_to(fake, question)) == 1 and len(fake.bot_messages()) == 1

    run(scenario)


def test_an_unanswered_question_the_database_cannot_count_gets_one_reply(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            break_table(tmp_path, "unanswered")
            question = await fake.user_message("what is the best pizza topping?", mention_bot=True)
            await answer_to(fake, question)
            await asyncio.sleep(0.5)
            assert [message_text(m) for m in fake.bot_messages()] == [message_text(replies_to(fake, question)[0])]
            assert "Something went wrong" not in message_text(fake.bot_messages()[0])

    run(scenario)


def test_the_bot_starts_on_a_corrupt_database(core, tmp_path):
    default_path(tmp_path).write_bytes(b"not a database at all " * 500)

    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            question = await fake.user_message("what is gguf?", mention_bot=True)
            assert "GGUF" in message_text(await answer_to(fake, question))

    run(scenario)


class BotThatPrunesOften(WillItRunBot):
    prune_interval_s = 0.2


def test_old_feedback_and_unanswered_questions_are_deleted_while_the_bot_runs(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, bot_class=BotThatPrunesOften) as bot:
            long_ago = Store(default_path(tmp_path), clock=lambda: 1_000_000_000.0)   # the same file, in 2001
            long_ago.record_unanswered("what is the best pizza topping?")
            long_ago.record_feedback(1, user_id=10, vote="up")
            long_ago.close()
            await fake.wait_for(lambda: not bot.store.most_unanswered() and bot.store.feedback_counts(1).up == 0,
                                5, what="old records deleted")

    run(scenario)


# ---------------------------------------------------------------- /admin: per-server and every-server actions
def test_reload_needs_the_application_owner_not_just_manage_server(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path) as bot:
            before = bot.core
            attempt = await fake.slash("admin", subcommand="reload", user=fake.user,
                                       member_permissions=str(MANAGE_GUILD))
            await attempt.wait_done()
            assert "only the bot's owner" in attempt.answered_text() and attempt.ephemeral
            assert bot.core is before

    run(scenario)


def test_sync_global_needs_the_application_owner_not_just_manage_server(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            attempt = await fake.slash("admin", {"scope": "global"}, subcommand="sync", user=fake.user,
                                       member_permissions=str(MANAGE_GUILD))
            await attempt.wait_done()
            assert "only the bot's owner" in attempt.answered_text()
            assert fake.global_commands == []

    run(scenario)


def test_a_user_listed_as_bot_admin_may_sync_globally(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, discord_admin_user_ids=[int(fake.user["id"])]):
            sync = await fake.slash("admin", {"scope": "global"}, subcommand="sync", user=fake.user,
                                    member_permissions=str(MANAGE_GUILD))
            await sync.wait_done()
            assert "(global)" in sync.answered_text() and fake.global_commands

    run(scenario)


def test_manage_server_is_enough_for_a_channels_mode(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path) as bot:
            mode = await fake.slash("admin", {"mode": "off"}, subcommand="mode", user=fake.user,
                                    member_permissions=str(MANAGE_GUILD))
            await mode.wait_done()
            assert bot.store.channel_mode(int(fake.channel_id)) == "off"

    run(scenario)
