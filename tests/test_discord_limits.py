"""Limits on every way in, end to end (the real discord.py client against the fake Discord, the real core): rate
limits per person and per server on questions, commands and buttons, with at most one "slow down" a window; the
question length cap on every text option; and charts that never hold other answers up."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest
from fake_discord import EPHEMERAL, FakeDiscord, message_text
from test_discord_e2e import answer_to, replies_to, run, running

from bot.discord.app import WillItRunBot
from bot.discord.chart_thread import ChartThread

LONG = "a" * 6000


def slow_down_replies(fake: FakeDiscord) -> list[dict]:
    return [m for m in fake.bot_messages() if "please wait" in message_text(m)]


# ---------------------------------------------------------------- rate limits
def test_a_spammer_is_told_to_slow_down_once_then_ignored_for_the_window(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, discord_cooldown_s=30):
            first = await fake.user_message("what is gguf?", mention_bot=True)
            await answer_to(fake, first)
            spam = [await fake.user_message(f"what is gguf? {i}", mention_bot=True) for i in range(4)]
            await fake.wait_for(lambda: slow_down_replies(fake), 10, what="a slow-down reply")
            await asyncio.sleep(0.5)
            assert len(slow_down_replies(fake)) == 1
            # the four arrive together and are handled concurrently: whichever is checked first gets the one reply
            assert sorted(len(replies_to(fake, m)) for m in spam) == [0, 0, 0, 1]

    run(scenario)


def test_slash_commands_have_the_per_user_limit_with_one_ephemeral_slow_down(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, discord_cooldown_s=30):
            first = await fake.slash("willitrun", {"model": "llama-3.1-8b", "gpu": "rtx-4090"})
            await first.wait_done()
            second = await fake.slash("willitrun", {"model": "llama-3.1-8b", "gpu": "rtx-3060"})
            await second.wait_done()
            assert "please wait" in second.answered_text() and second.ephemeral

    run(scenario)


def test_further_commands_in_the_window_are_acknowledged_without_a_message(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, discord_cooldown_s=30):
            for _ in range(2):
                await (await fake.slash("glossary", {"term": "kv-cache"})).wait_done()
            third = await fake.slash("glossary", {"term": "gguf"})
            await fake.wait_for(lambda: third.callbacks and third.original is None, 10, what="defer, then delete")
            assert third.callbacks == [{"type": 5, "data": {"flags": EPHEMERAL}}]
            assert third.answers == 0

    run(scenario)


@pytest.mark.parametrize("command, options", [
    ("compare", {"gpu_a": "rtx-3060", "gpu_b": "rtx-4090"}),
    ("choosegpu", {"model": "llama-3.1-8b"}),
    ("glossary", {"term": "kv-cache"}),
    ("error", {"text": "CUDA out of memory"}),
])
def test_every_command_counts_against_the_per_user_limit(core, tmp_path, command, options):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, discord_cooldown_s=30):
            await (await fake.slash("ask", {"question": "what is gguf?"})).wait_done()
            again = await fake.slash(command, options)
            await again.wait_done()
            assert "please wait" in again.answered_text() and again.ephemeral

    run(scenario)


def test_buttons_have_a_per_user_limit(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, discord_button_cooldown_s=30) as bot:
            answer = await answer_to(fake, await fake.user_message("what is the kv cache?", mention_bot=True))
            clicks = []
            for vote in ("fb:up", "fb:down", "fb:down"):
                clicks.append(await fake.click(answer, vote))
                await fake.wait_for(lambda: clicks[-1].callbacks, 10, what="the click acknowledged")
            assert "please wait" in clicks[1].answered_text() and clicks[1].ephemeral
            assert clicks[2].callbacks == [{"type": 6}]          # acknowledged, nothing shown
            assert bot.store.feedback_counts(int(answer["id"])).up == 1

    run(scenario)


def test_the_per_server_limit_holds_everyone_together(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, discord_guild_max_per_minute=2):
            people = [fake.make_user(f"person{i}") for i in range(3)]
            asked = [await fake.user_message("what is gguf?", mention_bot=True, author=p) for p in people]
            await fake.wait_for(lambda: all(replies_to(fake, q) for q in asked), 10, what="three replies")
            assert ["please wait" in message_text(replies_to(fake, q)[0]) for q in asked] == [False, False, True]

    run(scenario)


# ---------------------------------------------------------------- the length cap
@pytest.mark.parametrize("command, options", [
    ("glossary", {"term": LONG}),
    ("error", {"text": LONG}),
    ("willitrun", {"model": LONG, "gpu": "rtx-4090"}),
    ("compare", {"gpu_a": LONG, "gpu_b": "rtx-4090"}),
    ("choosegpu", {"model": LONG}),
])
def test_every_text_option_is_held_to_the_question_length_cap(core, tmp_path, command, options):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            interaction = await fake.slash(command, options)
            await interaction.wait_done()
            assert "6,000 characters long; I take at most 1,500" in interaction.answered_text()
            assert interaction.ephemeral

    run(scenario)


def test_autocomplete_offers_nothing_for_text_over_the_cap(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            typed = await fake.autocomplete("glossary", {"term": "kv cache " * 700}, focused="term")
            await typed.wait_done(lambda i: i.callbacks)
            assert typed.callbacks[0]["type"] == 8 and typed.choices == []

    run(scenario)


# ---------------------------------------------------------------- charts
class BotWithASlowFirstChart(WillItRunBot):
    """The first chart takes `slow_s` seconds (as 1,000 GPUs in one request did); the others are real."""
    slow_s = 3.0

    def draw_chart(self, report) -> bytes:
        if getattr(self, "_slowed", False) is False:
            self._slowed = True
            time.sleep(self.slow_s)
        return super().draw_chart(report)


def test_a_chart_over_its_budget_holds_up_no_other_answer(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, bot_class=BotWithASlowFirstChart):
            slow = await fake.slash("willitrun", {"model": "llama-3.1-8b", "gpu": "rtx-4090"})
            await slow.wait_done()
            assert slow.original["attachments"] == []            # answered in time, without its chart
            started = time.monotonic()
            behind = await fake.slash("willitrun", {"model": "llama-3.1-8b", "gpu": "rtx-3060"})
            await behind.wait_done()
            assert time.monotonic() - started < 1.0                # not queued behind the slow chart
            assert behind.original["attachments"] == []

    run(scenario)


def test_charts_are_drawn_again_once_the_slow_one_is_done(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, bot_class=BotWithASlowFirstChart) as bot:
            bot.slow_s = 2.0
            await (await fake.slash("willitrun", {"model": "llama-3.1-8b", "gpu": "rtx-4090"})).wait_done()
            await fake.wait_for(lambda: bot.charts.busy_reason() is None, 10, what="the slow chart finished")
            later = await fake.slash("willitrun", {"model": "llama-3.1-8b", "gpu": "rtx-3060"})
            await later.wait_done()
            assert [a["filename"] for a in later.original["attachments"]] == ["memory.png"]

    run(scenario)


def blocking_draw(release: threading.Event, drawn: list[str]):
    def draw(report: str) -> bytes:
        if report == "slow":
            release.wait(10)
        drawn.append(report)
        return report.encode()
    return draw


def test_a_chart_whose_budget_ran_out_while_it_waited_is_never_drawn():
    release, drawn = threading.Event(), []
    charts = ChartThread(blocking_draw(release, drawn), max_waiting=8)

    async def main() -> None:
        slow = asyncio.ensure_future(charts.draw("slow", 5.0))
        await asyncio.sleep(0.1)
        assert await charts.draw("queued", 0.2) is None
        release.set()
        assert await slow == b"slow"
        await asyncio.sleep(0.2)

    asyncio.run(main())
    charts.shutdown()
    assert drawn == ["slow"]


def test_charts_beyond_the_waiting_bound_are_left_out_at_once():
    release, drawn = threading.Event(), []
    charts = ChartThread(blocking_draw(release, drawn), max_waiting=2)

    async def main() -> None:
        waiting = [asyncio.ensure_future(charts.draw(name, 5.0)) for name in ("slow", "next")]
        await asyncio.sleep(0.1)
        started = time.monotonic()
        assert await charts.draw("one too many", 5.0) is None
        assert time.monotonic() - started < 0.5
        release.set()
        assert await asyncio.gather(*waiting) == [b"slow", b"next"]

    asyncio.run(main())
    charts.shutdown()


# ---------------------------------------------------------------- lookups off the event loop
def test_glossary_lookups_never_block_the_event_loop(core, tmp_path, caplog):
    """A fuzzy match of a long term over every name takes a quarter of a second; on the event loop it would stall
    every other answer and the heartbeat for that long. asyncio's debug mode names each step that held the loop."""
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, max_question_chars=6000):
            loop = asyncio.get_running_loop()
            loop.slow_callback_duration = 0.2
            loop.set_debug(True)
            interaction = await fake.slash("glossary", {"term": "kv cache " * 660})
            await interaction.wait_done(timeout=20)
            loop.set_debug(False)

    with caplog.at_level("WARNING", logger="asyncio"):
        run(scenario)
    stalls = [r.getMessage() for r in caplog.records if r.name == "asyncio" and "_from_interaction" in r.getMessage()]
    assert stalls == []
