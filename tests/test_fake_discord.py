"""The fake Discord server, checked against the real discord.py client: if these pass, a bot's end-to-end tests
against the fake exercise discord.py the way Discord does."""
from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import discord
import pytest
import yarl
from discord import app_commands
from discord.ext import commands

from tests.fake_discord import EPHEMERAL, LOADING, FakeDiscord

NO_PINGS = discord.AllowedMentions(everyone=False, roles=False, users=False, replied_user=False)


def run(
    scenario: Callable[[FakeDiscord], Awaitable[None]], monkeypatch: pytest.MonkeyPatch, **fake_options: Any
) -> None:
    """Run one scenario against a fresh fake, on a fresh event loop, with discord.py pointed at the fake."""

    async def main() -> None:
        async with FakeDiscord(**fake_options) as fake:
            monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
            monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
            await scenario(fake)

    asyncio.run(asyncio.wait_for(main(), 20))


class RecordingBot(commands.Bot):
    """A minimal bot: a guild-synced /ping and /ask, and a record of the events it received."""

    def __init__(self, fake: FakeDiscord, *, message_content: bool = True, **options: Any) -> None:
        intents = discord.Intents.default()
        intents.message_content = message_content
        options.setdefault("allowed_mentions", NO_PINGS)
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.05, **options)
        self.fake = fake
        self.messages: list[discord.Message] = []
        self.threads: list[discord.Thread] = []
        self.errors: list[BaseException] = []
        self.ready_count = 0
        self.ask_handler: Callable[[discord.Interaction, str], Awaitable[None]] = _defer_then_edit

    async def setup_hook(self) -> None:
        guild = discord.Object(id=int(self.fake.guild_id))

        @app_commands.command(name="ping", description="Answers pong")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong")

        @app_commands.command(name="ask", description="Asks the bot a question")
        @app_commands.describe(question="What you want to know")
        async def ask(interaction: discord.Interaction, question: str) -> None:
            try:
                await self.ask_handler(interaction, question)
            except Exception as error:  # kept for the test to assert on
                self.errors.append(error)

        @ask.autocomplete("question")
        async def suggest(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            known = ["will llama 70b fit on a 4090?", "what is gguf?", "what is kv cache?"]
            return [app_commands.Choice(name=q, value=q) for q in known if current in q]

        catalog = app_commands.Group(name="catalog", description="Looks things up in the catalog")

        @catalog.command(name="gpu", description="Shows a GPU")
        async def gpu(interaction: discord.Interaction, name: str, count: int) -> None:
            admin = interaction.permissions.administrator
            await interaction.response.send_message(f"{count!r} x {name} (admin: {admin})")

        for command in (ping, ask, catalog):
            self.tree.add_command(command, guild=guild)
        await self.tree.sync(guild=guild)

    async def on_ready(self) -> None:
        self.ready_count += 1

    async def on_message(self, message: discord.Message) -> None:
        self.messages.append(message)

    async def on_thread_create(self, thread: discord.Thread) -> None:
        self.threads.append(thread)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        pass  # discord.py waits 5 s before every IDENTIFY but the first one; Discord's limit, not the fake's


async def _defer_then_edit(interaction: discord.Interaction, question: str) -> None:
    await interaction.response.defer(thinking=True)
    await interaction.edit_original_response(content=f"You asked: {question}")


@contextlib.asynccontextmanager
async def running(bot: RecordingBot) -> AsyncIterator[RecordingBot]:
    """The bot logged in to the fake and past on_ready; closed and awaited afterwards."""
    async with bot:
        task = asyncio.create_task(bot.start(bot.fake.token))
        try:
            await bot.fake.wait_for(lambda: bot.is_ready() or task.done(), 5)
            if task.done():
                task.result()  # the reason it stopped
            yield bot
        finally:
            await bot.close()
            await asyncio.wait_for(task, 5)


def paths(fake: FakeDiscord, method: str) -> list[str]:
    return [r.path for r in fake.requests if r.method == method]


# --- login and gateway ---


def test_stopping_the_fake_frees_its_port():
    async def scenario() -> None:
        async with FakeDiscord() as fake:
            port = yarl.URL(fake.api_base).port
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)

    asyncio.run(scenario())



def test_the_bot_logs_in_registers_its_guild_commands_and_gets_ready(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)) as bot:
            assert bot.ready_count == 1
            assert bot.user.id == int(fake.bot_user["id"])
            assert bot.get_guild(int(fake.guild_id)).get_channel(int(fake.channel_id)).name == "general"
        assert [c["name"] for c in fake.commands] == ["ping", "ask", "catalog"]
        assert all(c["guild_id"] == fake.guild_id and c["id"] for c in fake.commands)
        assert paths(fake, "PUT") == [f"/applications/{fake.app_id}/guilds/{fake.guild_id}/commands"]
        assert fake.requests[0].headers["Authorization"] == "Bot fake-token"
        assert fake.identifies == 1 and fake.intents & (1 << 15)

    run(scenario, monkeypatch)


def test_a_wrong_token_is_refused_with_login_failure(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        bot = RecordingBot(fake)
        async with bot:
            with pytest.raises(discord.LoginFailure):
                await bot.start("not-the-token")
        assert fake.requests[0].status == 401

    run(scenario, monkeypatch)


def test_asking_for_message_content_without_portal_permission_raises_privileged_intents_required(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        bot = RecordingBot(fake)
        async with bot:
            with pytest.raises(discord.PrivilegedIntentsRequired):
                await asyncio.wait_for(bot.start(fake.token), 5)
        assert fake.identifies == 0

    run(scenario, monkeypatch, message_content_allowed=False)


def test_a_reconnect_request_makes_the_bot_resume_its_session(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)) as bot:
            await fake.send_reconnect()
            await fake.wait_for(lambda: fake.resumes == 1)
            await fake.user_message("still there?", mention_bot=True)
            await fake.wait_for(lambda: bot.messages)
        assert fake.identifies == 1

    run(scenario, monkeypatch)


def test_an_event_sent_while_the_bot_reconnects_is_replayed_on_resume(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)) as bot:
            await fake.send_reconnect()
            await fake.user_message("sent during the reconnect", mention_bot=True)
            await fake.wait_for(lambda: fake.resumes == 1 and bot.messages)
            assert bot.messages[0].content.endswith("sent during the reconnect")

    run(scenario, monkeypatch)


def test_a_resumable_invalid_session_is_resumed(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)):
            await fake.invalidate_session(resumable=True)
            await fake.wait_for(lambda: fake.resumes == 1)
        assert fake.identifies == 1

    run(scenario, monkeypatch)


def test_a_gateway_refusal_on_identify_closes_the_connection_with_its_code(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        fake.close_code_on_identify = 4004
        bot = RecordingBot(fake)
        async with bot:
            with pytest.raises(discord.ConnectionClosed) as closed:
                await asyncio.wait_for(bot.start(fake.token), 5)
        assert closed.value.code == 4004

    run(scenario, monkeypatch)


def test_an_invalidated_session_makes_the_bot_identify_again(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)) as bot:
            await fake.invalidate_session(resumable=False)
            await fake.wait_for(lambda: fake.identifies == 2 and bot.ready_count == 2)
        assert fake.resumes == 0

    run(scenario, monkeypatch)


# --- messages ---


def test_a_mention_reaches_on_message_with_the_bot_in_mentions(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)) as bot:
            await fake.user_message("will llama 70b q4 fit on a 4090?", mention_bot=True)
            await fake.wait_for(lambda: bot.messages)
            message = bot.messages[0]
            assert bot.user in message.mentions
            assert message.content == f"<@{fake.bot_user['id']}> will llama 70b q4 fit on a 4090?"
            assert message.author.id == int(fake.user["id"]) and not message.author.bot

    run(scenario, monkeypatch)


def test_without_the_message_content_intent_only_mentions_keep_their_content(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake, message_content=False)) as bot:
            await fake.user_message("a question nobody addressed to the bot")
            await fake.user_message("a question for the bot", mention_bot=True)
            await fake.wait_for(lambda: len(bot.messages) == 2)
            assert [m.content for m in bot.messages] == ["", f"<@{fake.bot_user['id']}> a question for the bot"]

    run(scenario, monkeypatch)


def test_a_reply_to_the_bot_carries_the_reference_and_pings_the_bot(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)) as bot:
            sent = await bot.get_channel(int(fake.channel_id)).send("It fits.")
            answer = fake.message(str(sent.id))
            await fake.user_message("and with 32k context?", reply_to=answer)
            await fake.wait_for(lambda: bot.messages and bot.messages[-1].type is discord.MessageType.reply)
            reply = bot.messages[-1]
            assert reply.reference.message_id == sent.id
            assert reply.reference.resolved.content == "It fits."
            assert bot.user in reply.mentions

    run(scenario, monkeypatch)


def test_messages_from_other_bots_and_webhooks_are_marked_as_such(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)) as bot:
            await fake.user_message("beep", author_is_bot=True)
            await fake.user_message("hook", webhook_id="4242")
            await fake.wait_for(lambda: len(bot.messages) == 2)
            from_bot, from_webhook = bot.messages
            assert from_bot.author.bot and from_bot.webhook_id is None
            assert from_webhook.webhook_id == 4242

    run(scenario, monkeypatch)


def test_the_bot_can_fetch_a_message_and_read_the_channel_history(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)) as bot:
            first = await fake.user_message("first question")
            await fake.user_message("second question")
            channel = bot.get_channel(int(fake.channel_id))
            fetched = await channel.fetch_message(int(first["id"]))
            history = [m.content async for m in channel.history(limit=10)]
        assert fetched.content == "first question"
        assert history == ["second question", "first question"]

    run(scenario, monkeypatch)


def test_sent_messages_keep_their_allowed_mentions_and_ping_only_what_they_allow(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)) as bot:
            channel = bot.get_channel(int(fake.channel_id))
            careful = await channel.send("@everyone look")
            careless = await channel.send("@everyone look", allowed_mentions=discord.AllowedMentions.all())
        assert fake.message(str(careful.id))["allowed_mentions"] == {"parse": []}
        assert fake.message(str(careful.id))["mention_everyone"] is False
        assert fake.message(str(careless.id))["mention_everyone"] is True

    run(scenario, monkeypatch)


def test_content_over_2000_characters_is_refused_with_50035(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)) as bot:
            with pytest.raises(discord.HTTPException) as refused:
                await bot.get_channel(int(fake.channel_id)).send("x" * 2001)
            assert (refused.value.status, refused.value.code) == (400, 50035)
            assert "content" in refused.value.text
            await bot.get_channel(int(fake.channel_id)).send("x" * 2000)
        assert len(fake.bot_messages()) == 1

    run(scenario, monkeypatch)


def test_an_embed_description_over_4096_characters_is_refused_with_50035(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)) as bot:
            with pytest.raises(discord.HTTPException) as refused:
                await bot.get_channel(int(fake.channel_id)).send(embed=discord.Embed(description="y" * 4097))
            assert refused.value.code == 50035

    run(scenario, monkeypatch)


def test_embeds_over_6000_characters_in_total_are_refused_with_50035(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        embeds = [discord.Embed(description="z" * 4000), discord.Embed(description="z" * 2001)]
        async with running(RecordingBot(fake)) as bot:
            with pytest.raises(discord.HTTPException) as refused:
                await bot.get_channel(int(fake.channel_id)).send(embeds=embeds)
            assert refused.value.code == 50035

    run(scenario, monkeypatch)


def test_a_rate_limited_send_is_retried_by_discord_py_after_retry_after(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)) as bot:
            fake.rate_limit_next("POST", "/channels/*/messages", retry_after=0.2)
            started = time.monotonic()
            await bot.get_channel(int(fake.channel_id)).send("after the wait")
            waited = time.monotonic() - started
        sends = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/messages")]
        assert [r.status for r in sends] == [429, 200]
        assert waited >= 0.2
        assert [m["content"] for m in fake.bot_messages()] == ["after the wait"]

    run(scenario, monkeypatch)


def test_a_file_upload_is_recorded_with_name_and_size(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        png = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
        async with running(RecordingBot(fake)) as bot:
            chart = discord.File(io.BytesIO(png), "fit.png")
            sent = await bot.get_channel(int(fake.channel_id)).send("chart", file=chart)
            assert sent.attachments[0].filename == "fit.png"
            assert await sent.attachments[0].read() == png
        upload = next(r for r in fake.requests if r.attachments)
        assert upload.attachments == [{"name": "fit.png", "size": 108, "content_type": "application/octet-stream"}]
        assert upload.json["content"] == "chart"

    run(scenario, monkeypatch)


def test_typing_and_reactions_are_accepted(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)) as bot:
            channel = bot.get_channel(int(fake.channel_id))
            async with channel.typing():
                sent = await channel.send("thinking done")
            await sent.add_reaction("👍")
        assert fake.reactions_of(str(sent.id)) == ["👍"]
        assert [r.status for r in fake.requests if r.path.endswith("/typing")] == [204]

    run(scenario, monkeypatch)


def test_a_thread_started_from_a_message_arrives_as_thread_create(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)) as bot:
            question = await fake.user_message("long discussion ahead", mention_bot=True)
            await fake.wait_for(lambda: bot.messages)
            thread = await bot.messages[0].create_thread(name="llama 70b on a 4090")
            await thread.send("Let's talk here.")
            await fake.wait_for(lambda: bot.threads)
        assert thread.id == int(question["id"])
        assert fake.threads[0]["type"] == 11 and fake.threads[0]["parent_id"] == fake.channel_id
        assert [m["content"] for m in fake.bot_messages(question["id"])] == ["Let's talk here."]

    run(scenario, monkeypatch)


def test_a_forum_post_by_a_person_reaches_the_bot_inside_its_thread(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)) as bot:
            thread, _ = await fake.user_forum_post("Will it run?", "llama 70b on two 3090s?")
            await fake.wait_for(lambda: bot.messages)
            starter = bot.messages[0]
            assert isinstance(starter.channel, discord.Thread)
            assert starter.channel.parent_id == int(fake.forum_channel_id)
            assert starter.id == starter.channel.id == int(thread["id"])
            assert starter.content == "llama 70b on two 3090s?"

    run(scenario, monkeypatch)


def test_the_bot_can_open_a_forum_post(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)) as bot:
            forum = bot.get_channel(int(fake.forum_channel_id))
            created = await forum.create_thread(name="FAQ: VRAM", content="VRAM holds weights and KV cache.")
        assert created.thread.name == "FAQ: VRAM" and created.message.id == created.thread.id
        assert [m["content"] for m in fake.bot_messages(str(created.thread.id))] == ["VRAM holds weights and KV cache."]

    run(scenario, monkeypatch)


# --- interactions ---


def test_a_slash_command_is_answered_through_the_callback(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)):
            interaction = await fake.slash("ping")
            await interaction.wait_done()
        assert [c["type"] for c in interaction.callbacks] == [4]
        assert interaction.answered_text() == "pong"
        assert interaction.original["allowed_mentions"] == {"parse": []}
        assert not interaction.deferred

    run(scenario, monkeypatch)


def test_a_deferred_answer_is_delivered_by_editing_the_original_response(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)):
            interaction = await fake.slash("ask", {"question": "will it fit?"})
            await interaction.wait_done()
        assert interaction.deferred
        assert interaction.answered_text() == "You asked: will it fit?"
        assert not interaction.original["flags"] & LOADING
        [(_, edit)] = fake.edits_of(interaction.original["id"])
        assert edit["allowed_mentions"] == {"parse": []}

    run(scenario, monkeypatch)


def test_the_first_followup_after_a_defer_replaces_the_thinking_message(monkeypatch):
    async def defer_then_followups(interaction: discord.Interaction, question: str) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        await interaction.followup.send("first")
        await interaction.followup.send("second")

    async def scenario(fake: FakeDiscord) -> None:
        bot = RecordingBot(fake)
        bot.ask_handler = defer_then_followups
        async with running(bot):
            interaction = await fake.slash("ask", {"question": "q"})
            await interaction.wait_done(lambda i: i.answered_text() == "second")
        assert interaction.original["content"] == "first" and interaction.original["flags"] & EPHEMERAL
        assert [m["content"] for m in interaction.followups] == ["second"]

    run(scenario, monkeypatch)


def test_subcommand_options_arrive_with_their_registered_types(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)):
            interaction = await fake.slash("catalog", {"name": "RTX 4090", "count": "2"}, subcommand="gpu")
            await interaction.wait_done()
        assert interaction.answered_text() == "2 x RTX 4090 (admin: False)"

    run(scenario, monkeypatch)


def test_the_application_owner_runs_commands_as_an_administrator(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)):
            interaction = await fake.slash(
                "catalog", {"name": "H100", "count": 8}, subcommand="gpu", user=fake.owner_user
            )
            await interaction.wait_done()
        assert interaction.answered_text() == "8 x H100 (admin: True)"

    run(scenario, monkeypatch)


def test_a_response_with_a_file_is_accepted_as_multipart(monkeypatch):
    async def answer_with_chart(interaction: discord.Interaction, question: str) -> None:
        await interaction.response.send_message("chart", file=discord.File(io.BytesIO(b"PNG"), "chart.png"))

    async def scenario(fake: FakeDiscord) -> None:
        bot = RecordingBot(fake)
        bot.ask_handler = answer_with_chart
        async with running(bot):
            interaction = await fake.slash("ask", {"question": "q"})
            await interaction.wait_done()
        assert [a["filename"] for a in interaction.original["attachments"]] == ["chart.png"]
        assert interaction.callbacks[0]["data"]["content"] == "chart"

    run(scenario, monkeypatch)


def test_a_followup_before_any_initial_response_is_refused_with_10015(monkeypatch):
    async def followup_first(interaction: discord.Interaction, question: str) -> None:
        await interaction.followup.send("too early")

    async def scenario(fake: FakeDiscord) -> None:
        bot = RecordingBot(fake)
        bot.ask_handler = followup_first
        async with running(bot):
            await fake.slash("ask", {"question": "q"})
            await fake.wait_for(lambda: bot.errors)
        assert isinstance(bot.errors[0], discord.NotFound) and bot.errors[0].code == 10015

    run(scenario, monkeypatch)


def test_deleting_the_original_response_removes_it(monkeypatch):
    async def answer_then_delete(interaction: discord.Interaction, question: str) -> None:
        await interaction.response.send_message("soon gone")
        await interaction.delete_original_response()

    async def scenario(fake: FakeDiscord) -> None:
        bot = RecordingBot(fake)
        bot.ask_handler = answer_then_delete
        async with running(bot):
            interaction = await fake.slash("ask", {"question": "q"})
            await fake.wait_for(lambda: any(r.method == "DELETE" and r.status == 204 for r in fake.requests))
        assert interaction.callbacks and interaction.original is None
        assert fake.bot_messages() == []

    run(scenario, monkeypatch)


def test_a_second_initial_response_is_refused_with_40060(monkeypatch):
    async def answer_twice(interaction: discord.Interaction, question: str) -> None:
        await interaction.response.send_message("one")
        await interaction.client.http.request(  # past discord.py's own guard, as a buggy adapter could be
            discord.http.Route("POST", "/interactions/{i}/{t}/callback", i=interaction.id, t=interaction.token),
            json={"type": 4, "data": {"content": "two"}},
        )

    async def scenario(fake: FakeDiscord) -> None:
        bot = RecordingBot(fake)
        bot.ask_handler = answer_twice
        async with running(bot):
            interaction = await fake.slash("ask", {"question": "q"})
            await fake.wait_for(lambda: bot.errors)
        assert bot.errors[0].code == 40060
        assert interaction.answered_text() == "one"

    run(scenario, monkeypatch)


def test_an_initial_response_after_3_seconds_is_refused_with_10062(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async def too_slow(interaction: discord.Interaction, question: str) -> None:
            fake.advance_clock(3.1)
            await interaction.response.send_message("late")

        bot = RecordingBot(fake)
        bot.ask_handler = too_slow
        async with running(bot):
            await fake.slash("ask", {"question": "q"})
            await fake.wait_for(lambda: bot.errors)
        assert isinstance(bot.errors[0], discord.NotFound) and bot.errors[0].code == 10062

    run(scenario, monkeypatch)


def test_an_edit_after_15_minutes_is_refused_with_50027(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async def very_slow(interaction: discord.Interaction, question: str) -> None:
            await interaction.response.defer(thinking=True)
            fake.advance_clock(15 * 60 + 1)
            await interaction.edit_original_response(content="too late")

        bot = RecordingBot(fake)
        bot.ask_handler = very_slow
        async with running(bot):
            interaction = await fake.slash("ask", {"question": "q"})
            await fake.wait_for(lambda: bot.errors)
        assert (bot.errors[0].status, bot.errors[0].code) == (401, 50027)
        assert interaction.original["flags"] & LOADING

    run(scenario, monkeypatch)


def test_autocomplete_choices_come_back_in_the_callback(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)):
            interaction = await fake.autocomplete("ask", {"question": "what"}, focused="question")
            await interaction.wait_done()
        assert [c["value"] for c in interaction.choices] == ["what is gguf?", "what is kv cache?"]

    run(scenario, monkeypatch)


def test_a_button_click_can_update_the_message_it_is_on(monkeypatch):
    class Feedback(discord.ui.View):
        @discord.ui.button(label="Helpful", custom_id="fb:up")
        async def up(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
            await interaction.response.edit_message(content="Thanks for the feedback!", view=None)

    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)) as bot:
            bot.add_view(Feedback(timeout=None))
            sent = await bot.get_channel(int(fake.channel_id)).send("It fits.", view=Feedback(timeout=None))
            interaction = await fake.click(fake.message(str(sent.id)), "fb:up")
            await interaction.wait_done()
        assert [c["type"] for c in interaction.callbacks] == [7]
        assert fake.message(str(sent.id))["content"] == "Thanks for the feedback!"
        assert fake.message(str(sent.id))["components"] == []

    run(scenario, monkeypatch)


def test_slash_refuses_a_command_the_bot_never_registered(monkeypatch):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(RecordingBot(fake)):
            with pytest.raises(LookupError, match="/size is not registered"):
                await fake.slash("size", {"model": "llama"})

    run(scenario, monkeypatch)
