"""An unknown model or hardware name in a slash command, end to end with the real discord.py client against the fake
Discord: the three closest real names come back as buttons, and a click asks the same command again with the
picked name, answered once and held to the per-person button limit."""
from __future__ import annotations

from fake_discord import FakeDiscord
from test_discord_e2e import run, running

CUSTOM_ID_LIMIT = 100    # Discord's limits on a button (developer docs, "Button")
LABEL_LIMIT = 80


def buttons(message: dict) -> list[dict]:
    return [c for row in message["components"] for c in row["components"]]


def test_an_unknown_gpu_gets_three_real_names_as_buttons_only_the_asker_sees(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            asked = await fake.slash("willitrun", {"model": "llama-3.1-8b", "gpu": "rtx 4099"})
            await asked.wait_done()
            assert asked.ephemeral and "Closest known" in asked.answered_text()
            picks = buttons(asked.original)
            assert len(picks) == 3
            assert all(b["custom_id"].startswith("pick:gpu:") for b in picks)
            assert all(len(b["custom_id"]) <= CUSTOM_ID_LIMIT and 0 < len(b["label"]) <= LABEL_LIMIT for b in picks)
            assert "pick:gpu:rtx-4090" in [b["custom_id"] for b in picks]

    run(scenario)


def test_a_click_asks_the_same_command_again_with_the_picked_name(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            direct = await fake.slash("willitrun", {"model": "llama-3.1-8b", "gpu": "rtx-4090", "context": 16384})
            await direct.wait_done()
            asked = await fake.slash("willitrun", {"model": "llama-3.1-8b", "gpu": "rtx 4099", "context": 16384})
            await asked.wait_done()
            click = await fake.click(asked.original, "pick:gpu:rtx-4090")
            await click.wait_done()
            # the answer /willitrun gives for that card, with everything else asked kept (the context too)
            assert click.answered_text() == direct.answered_text()
            assert "16,384 tokens" in click.answered_text() and "RTX 4090" in click.answered_text()
            assert not click.ephemeral
            assert any(b["custom_id"].startswith("fb:") for b in buttons(click.original))

    run(scenario)


def test_a_question_picked_from_buttons_is_answered_once(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            asked = await fake.slash("willitrun", {"model": "llama-3.1-8b", "gpu": "rtx 4099"})
            await asked.wait_done()
            first, second = [b["custom_id"] for b in buttons(asked.original)][:2]
            await (await fake.click(asked.original, first)).wait_done()
            answers = len(fake.bot_messages())
            again = await fake.click(asked.original, second)
            await again.wait_done()
            assert "answered already" in again.answered_text() and again.ephemeral
            assert len(fake.bot_messages()) == answers

    run(scenario)


def test_clicks_on_name_buttons_are_held_to_the_per_person_button_limit(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, discord_button_cooldown_s=60):
            asked = await fake.slash("willitrun", {"model": "llama-3.1-8b", "gpu": "rtx 4099"})
            await asked.wait_done()
            first, second = [b["custom_id"] for b in buttons(asked.original)][:2]
            await (await fake.click(asked.original, first)).wait_done()
            too_soon = await fake.click(asked.original, second)
            await too_soon.wait_done()
            assert "please wait" in too_soon.answered_text()

    run(scenario)


def test_a_second_unknown_name_in_the_same_command_gets_its_own_buttons(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            asked = await fake.slash("compare", {"gpu_a": "rtx 4099", "gpu_b": "rtx 3900", "model": "llama-3.1-8b"})
            await asked.wait_done()
            click = await fake.click(asked.original, "pick:gpu_a:rtx-4090")
            await click.wait_done()
            assert "'rtx 3900'" in click.answered_text()      # now about gpu_b, gpu_a's name replaced
            picks = buttons(click.original)
            assert picks and all(b["custom_id"].startswith("pick:gpu_b:") for b in picks)
            compared = await fake.click(click.original, picks[0]["custom_id"])
            await compared.wait_done()
            text = compared.answered_text()
            assert "RTX 4090" in text and picks[0]["label"].split(" (")[0].removeprefix("NVIDIA ") in text

    run(scenario)


def test_an_unknown_model_gets_buttons_too(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            asked = await fake.slash("choosegpu", {"model": "llama 3.1 7b"})
            await asked.wait_done()
            picks = buttons(asked.original)
            assert picks and all(b["custom_id"].startswith("pick:model:") for b in picks)
            click = await fake.click(asked.original, picks[0]["custom_id"])
            await click.wait_done()
            assert picks[0]["label"] in click.answered_text()

    run(scenario)
