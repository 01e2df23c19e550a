"""The "Open in calculator" link button: with PUBLIC_URL set, sizing answers link to the web page that asks the
same (bot.permalinks, shared with the page's own permalinks); without it, or for answers the page cannot ask, there
is no link. End to end against the fake Discord, which refuses malformed buttons as Discord does."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fake_discord import LINK_BUTTON, FakeDiscord
from starlette.datastructures import QueryParams
from test_discord_e2e import answer_to, run, running

from bot.discord.views import calculator_button
from bot.permalinks import sizing_permalink
from bot.sizing.schema import SizingRequest
from bot.web.pages import form_values, sizing_request

PUBLIC_URL = "https://calc.example.org/"


def buttons(message: dict) -> list[dict]:
    return [c for row in message["components"] for c in row["components"] if c["type"] == 2]


def links(message: dict) -> list[dict]:
    return [b for b in buttons(message) if b["style"] == LINK_BUTTON]


def test_a_willitrun_answer_links_to_the_calculator_page_for_the_same_request(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, public_url=PUBLIC_URL):
            interaction = await fake.slash("willitrun", {"model": "llama 3.1 70b", "gpu": "rtx 3090", "gpus": 2,
                                                         "quant": "Q4_K_M", "context": 16384})
            await interaction.wait_done()
            [link] = links(interaction.original)
            assert link["label"] == "Open in calculator"
            assert link["url"] == ("https://calc.example.org/?model=llama-3.1-70b&gpu=rtx-3090&gpus=2&quant=Q4_K_M"
                                   "&context=16384")
            assert "custom_id" not in link
            assert any(b.get("custom_id") == "fb:up" for b in buttons(interaction.original))   # beside the others

    run(scenario)


def test_a_sizing_question_asked_by_mention_links_to_the_calculator(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, public_url=PUBLIC_URL):
            question = await fake.user_message("will llama 3.1 8b fit on a rtx 3060 12gb?", mention_bot=True)
            [link] = links(await answer_to(fake, question))
            url = urlsplit(link["url"])
            assert (url.scheme, url.netloc, url.path) == ("https", "calc.example.org", "/")
            query = parse_qs(url.query)
            assert query["model"] == ["llama-3.1-8b"] and query["gpu"] == ["rtx-3060-12gb"]

    run(scenario)


def test_a_variant_answer_links_to_the_changed_request(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, public_url=PUBLIC_URL):
            first = await fake.slash("willitrun", {"model": "llama-3.1-8b", "gpu": "rtx-3060", "context": 32768})
            await first.wait_done()
            assert "context=32768" in links(first.original)[0]["url"]
            click = await fake.click(first.original, "alt:context:16384")
            await click.wait_done()
            [link] = links(click.original)
            assert "context=16384" in link["url"]

    run(scenario)


def test_without_public_url_there_is_no_link(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, public_url=None):
            interaction = await fake.slash("willitrun", {"model": "llama 3.1 70b", "gpu": "rtx 3090", "gpus": 2})
            await interaction.wait_done()
            assert buttons(interaction.original) and not links(interaction.original)
            question = await fake.user_message("will llama 3.1 8b fit on a rtx 3060 12gb?", mention_bot=True)
            assert not links(await answer_to(fake, question))

    run(scenario)


def test_a_knowledge_answer_has_no_calculator_link(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, public_url=PUBLIC_URL):
            answer = await answer_to(fake, await fake.user_message("what is gguf?", mention_bot=True))
            assert buttons(answer) and not links(answer)

    run(scenario)


def test_the_link_asks_the_web_page_the_same_request():
    request = SizingRequest(model="llama-3.1-70b", gpu="rtx-3090+rtx-3060", gpus=1, quant="Q5_K_M", context=4096,
                            kv_cache_type="q8_0", runtime="vllm")
    query = urlsplit(sizing_permalink(PUBLIC_URL, request)).query
    assert sizing_request(form_values(QueryParams(query))) == request


def test_a_request_the_page_cannot_ask_gets_no_link():
    assert sizing_permalink(PUBLIC_URL, SizingRequest(model="llama-3.1-70b", gpu="rtx-3090", ram_gb=64)) is None
    assert sizing_permalink(PUBLIC_URL, SizingRequest(gguf="/models/x.gguf", gpu="rtx-3090")) is None


def test_a_link_longer_than_discord_takes_is_left_out():
    # Discord refuses the whole message when a link button's url passes 512 characters
    long_name = "some-org/" + "a-very-long-fine-tune-name-" * 20
    assert calculator_button(PUBLIC_URL, SizingRequest(model=long_name, gpu="rtx-3090")) is None
    assert calculator_button(PUBLIC_URL, SizingRequest(model="llama-3.1-8b", gpu="rtx-3090")) is not None


def test_whatcanirun_and_compare_answers_link_to_their_pages_which_give_the_same_result(core, tmp_path):
    from bot.kinds.compare import compare_named
    from bot.kinds.what_can_i_run import for_hardware

    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path, public_url=PUBLIC_URL):
            asked = await fake.slash("whatcanirun", {"hardware": "2x 3090", "use": "coding"})
            await asked.wait_done()
            [link] = links(asked.original)
            url = urlsplit(link["url"])
            assert (url.netloc, url.path) == ("calc.example.org", "/whatcanirun")
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            assert q == {"gpu": "rtx-3090", "gpus": "2", "use": "coding", "context": "8192"}
            # what the page computes from that query is what the bot answered
            page = for_hardware(core, q["gpu"], gpus=int(q["gpus"]), use=q["use"], context=int(q["context"]))
            assert page.options[0].model.name in asked.answered_text()

            versus = await fake.slash("compare", {"gpu_a": "3090", "gpu_b": "2x 4060 ti 16gb"})
            await versus.wait_done()
            [link] = links(versus.original)
            url = urlsplit(link["url"])
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            assert url.path == "/compare" and q == {"a": "rtx-3090", "b": "2x rtx-4060-ti-16gb"}
            sides = compare_named(core, [q["a"], q["b"]]).sides
            assert [(s.hardware.id, s.count) for s in sides] == [("rtx-3090", 1), ("rtx-4060-ti-16gb", 2)]

    run(scenario)
