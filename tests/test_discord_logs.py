"""Pasted and attached logs end to end: the real discord.py client running our bot against the fake Discord, with
the real core. A .txt/.log attachment up to 1 MB is read as text and answered as a pasted log; anything else gets
one line saying why it was left out."""
from __future__ import annotations

from pathlib import Path

from fake_discord import FakeDiscord, message_text
from test_discord_e2e import run, running

from bot.answer.pipeline import answer as answer_of
from bot.discord.limits import embed_problems
from bot.discord.render import CHART_NAME, render_answer

LOGS = Path(__file__).parent / "data" / "logs"
PARTIAL = (LOGS / "llamacpp_server_partial_offload_4090.log").read_text(encoding="utf-8")
OOM = (LOGS / "llamacpp_kv_cache_oom_3060.log").read_text(encoding="utf-8")


def bot_messages_after(fake: FakeDiscord, question: dict) -> list[dict]:
    return [m for m in fake.bot_messages(question["channel_id"]) if int(m["id"]) > int(question["id"])]


async def final_answer(fake: FakeDiscord, question: dict) -> list[dict]:
    """The bot's messages answering `question`, once the last of them carries its buttons."""
    await fake.wait_for(lambda: any(m["components"] for m in bot_messages_after(fake, question)), 20,
                        what="the answer's buttons")
    return bot_messages_after(fake, question)


async def first_reply(fake: FakeDiscord, question: dict) -> dict:
    await fake.wait_for(lambda: bot_messages_after(fake, question), 20, what="a reply")
    return bot_messages_after(fake, question)[0]


def test_a_log_attached_to_a_mention_is_read_and_explained_with_its_sizing_and_chart(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            question = await fake.user_message("why are only 50 layers on the gpu?", mention_bot=True,
                                               files={"llama-server.log": PARTIAL.encode()})
            log_post, sizing_post = await final_answer(fake, question)
            text = message_text(log_post)
            assert "Only 50 of 65 layers are on the GPU because" in text
            assert "Layers on GPU: 50/65" in text and "Context: 32,768 tokens" in text
            assert (log_post.get("message_reference") or {}).get("message_id") == question["id"]
            assert "Qwen2.5 32B · Q4_K_M · 32,768 tokens" in message_text(sizing_post)
            chart = sizing_post["attachments"][0]
            assert chart["filename"] == CHART_NAME

    run(scenario, timeout=60)


def test_a_log_written_by_powershell_in_utf16_is_read(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            question = await fake.user_message("help", mention_bot=True, files={"ollama.log": OOM.encode("utf-16")})
            posts = await final_answer(fake, question)
            assert "It ran out of GPU memory because" in message_text(posts[0])

    run(scenario, timeout=60)


def test_an_attachment_over_one_megabyte_gets_a_one_line_reason(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            question = await fake.user_message("", mention_bot=True, files={"huge.log": b"x" * 1_500_000})
            reply = await first_reply(fake, question)
            assert reply["content"] == ("huge.log is 1.5 MB and I read logs up to 1 MB: attach the part from the "
                                        "start-up to the error.")

    run(scenario, timeout=60)


def test_a_binary_attachment_is_not_read(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            question = await fake.user_message("", mention_bot=True,
                                               files={"model.log": b"GGUF\x03\x00\x00\x00" + bytes(range(256))})
            reply = await first_reply(fake, question)
            assert reply["content"] == "model.log holds binary data, not text, so I didn't read it."

    run(scenario, timeout=60)


def test_another_kind_of_file_is_left_out_and_the_question_still_answered(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            question = await fake.user_message("will llama 3.1 8b fit on a 3060 12gb?", mention_bot=True,
                                               files={"screenshot.png": b"\x89PNG\r\n\x1a\n" + bytes(64)})
            reply = await first_reply(fake, question)
            assert reply["content"] == "I read only .txt and .log attachments, so I left screenshot.png out."
            posts = await final_answer(fake, question)
            assert any("Llama 3.1 8B" in message_text(p) for p in posts)

    run(scenario, timeout=60)


def test_a_text_file_without_a_log_in_it_is_left_out(core, tmp_path):
    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            question = await fake.user_message("", mention_bot=True, files={"notes.txt": b"buy milk\ncall mum\n"})
            reply = await first_reply(fake, question)
            assert reply["content"].startswith("I found no llama.cpp, Ollama, LM Studio, vLLM, nvidia-smi or "
                                               "rocm-smi output in notes.txt")

    run(scenario, timeout=60)


def test_a_log_pasted_into_a_message_longer_than_a_question_may_be_is_answered(core, tmp_path):
    # the lines people paste: the start-up without the model's metadata, well over a question's length
    skipped = ("- kv", "- type", "print_info", "system", "llama_context: ", "load: ", "....", "Dumping")
    pasted = "\n".join(line for line in PARTIAL.splitlines() if line.strip() and not any(s in line for s in skipped))
    assert core.settings.max_question_chars < len(pasted) < 1950

    async def scenario(fake: FakeDiscord) -> None:
        async with running(fake, core, tmp_path):
            question = await fake.user_message(pasted, mention_bot=True)
            posts = await final_answer(fake, question)
            assert "Only 50 of 65 layers are on the GPU" in message_text(posts[0])

    run(scenario, timeout=60)


def test_log_posts_stay_within_discords_limits(core):
    posts = render_answer(answer_of(core, OOM), b"png", "alt")
    assert len(posts) == 2
    assert all(not embed_problems(p.embeds) for p in posts)
    assert posts[1].chart == b"png" and posts[1].chart_alt == "alt"
    assert posts[0].embeds[0]["fields"][0]["name"] == "Read from the log (reply to correct)"
