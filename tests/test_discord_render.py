"""What the bot posts: long text split into messages without breaking code fences, every message and embed within
Discord's limits, numbered source links, and sizing embeds that carry the engine's numbers."""
import re

import pytest
from conftest import KNOWLEDGE

from bot.answer.schema import Answer, Source
from bot.discord.limits import CONTENT, EMBED_TOTAL, embed_length, embed_problems, fit_embed
from bot.discord.render import (
    choose_post,
    compare_post,
    entry_post,
    knowledge_text,
    post_as_text,
    render_answer,
    sizing_post,
    streaming_preview,
)
from bot.discord.splitting import split_message
from bot.kb.load import load_knowledge
from bot.sizing.choose import choose
from bot.sizing.devices import GIB
from bot.sizing.schema import SizingRequest


def fence_lines(chunk: str) -> list[str]:
    return [line.strip() for line in chunk.split("\n") if line.strip().startswith("```")]


def words_outside_added_fences(chunks: list[str]) -> list[str]:
    return [w for chunk in chunks for w in chunk.split()]


def paragraph(n: int, word: str = "word") -> str:
    return " ".join(f"{word}{i}" for i in range(n))


# ---------------------------------------------------------------- splitting
def test_short_text_is_one_message():
    assert split_message("Hello there.") == ["Hello there."]


def test_every_chunk_is_within_the_limit_and_no_word_is_lost():
    text = "\n\n".join(paragraph(300, f"p{k}w") for k in range(8))
    chunks = split_message(text)
    assert len(chunks) > 1
    assert all(len(c) <= CONTENT for c in chunks)
    assert words_outside_added_fences(chunks) == text.split()


def test_splits_at_paragraph_ends_when_one_is_in_reach():
    paragraphs = [paragraph(120, f"p{k}w") for k in range(6)]      # about 900 characters each
    chunks = split_message("\n\n".join(paragraphs))
    for chunk in chunks:
        assert chunk.endswith(tuple(p[-12:] for p in paragraphs))


def test_a_line_without_spaces_is_cut_hard_at_the_limit():
    chunks = split_message("x" * 4500)
    assert [len(c) for c in chunks] == [CONTENT - 4, CONTENT - 4, 4500 - 2 * (CONTENT - 4)]


def test_a_code_block_cut_in_two_is_closed_and_reopened_with_its_language():
    code = "\n".join(f"    value_{i} = compute({i})  # step {i}" for i in range(120))
    text = f"Here is the script:\n\n```python\n{code}\n```\n\nRun it with python."
    chunks = split_message(text)
    assert len(chunks) >= 3
    for chunk in chunks:
        assert len(chunk) <= CONTENT
        assert len(fence_lines(chunk)) % 2 == 0, chunk   # every chunk renders its code as code
    assert chunks[1].startswith("```python\n")
    # indentation inside the code survives the cut
    assert all(line.startswith("    value_") for c in chunks[1:-1] for line in c.split("\n")[1:-1])


def test_text_after_a_closed_fence_is_not_wrapped_in_a_new_one():
    text = "```\ncode\n```\n\n" + paragraph(400)
    chunks = split_message(text)
    assert chunks[0].startswith("```\ncode\n```")
    assert all(not c.startswith("```") for c in chunks[1:])


# ---------------------------------------------------------------- knowledge answers
SOURCES = [Source(id="kv-cache", title="KV cache", kind="glossary", url="https://example.org/kv"),
           Source(id="cuda-out-of-memory", title="CUDA out of memory", kind="error", url=None)]


def test_sources_are_numbered_links_that_do_not_unfurl():
    answer = Answer(kind="knowledge", text="The KV cache grows with context.", sources=SOURCES, fallback=True)
    text = knowledge_text(answer)
    assert "[1] [KV cache](<https://example.org/kv>)" in text
    assert "[2] CUDA out of memory" in text
    assert text.index("[1]") < text.index("[2]")


def test_a_phrased_answer_says_which_model_phrased_it():
    answer = Answer(kind="knowledge", text="Text.", sources=SOURCES, model="smollm2")
    assert "Phrased by smollm2" in knowledge_text(answer)


def test_a_long_answer_becomes_several_messages_within_the_limit_with_sources_at_the_end():
    answer = Answer(kind="knowledge", text="\n\n".join(paragraph(200) for _ in range(6)), sources=SOURCES)
    posts = render_answer(answer)
    assert len(posts) > 1
    assert all(0 < len(p.content) <= CONTENT for p in posts)
    assert "**Sources**" in posts[-1].content and "**Sources**" not in posts[0].content


def test_a_question_not_for_the_bot_posts_nothing():
    assert render_answer(Answer(kind="none", text="")) == []


def test_no_match_lists_the_closest_entries():
    answer = Answer(kind="no_match", text="That is not in our knowledge base, so I won't guess.", sources=SOURCES)
    assert "**Closest entries**" in render_answer(answer)[0].content


def test_streaming_preview_fits_one_message_and_shows_it_is_unfinished():
    preview = streaming_preview(paragraph(1000))
    assert len(preview) <= CONTENT and preview.endswith("…")


# ---------------------------------------------------------------- sizing
def test_sizing_embed_carries_the_engines_numbers(engine):
    report = engine.size(SizingRequest(model="llama-3.1-8b", gpu="rtx-4090"))
    embed = sizing_post(report).embeds[0]
    text = post_as_text(sizing_post(report))
    assert "Fits entirely in GPU memory" in embed["description"]
    assert f"total {report.total_bytes / GIB:.1f} GB" in text
    assert f"{report.decode_tokens_per_s.low:g}–{report.decode_tokens_per_s.high:g} tokens/s" in text
    assert f"{report.max_context:,} tokens" in text
    assert report.best_quant in text


def test_sizing_embed_shows_the_chart_it_is_sent_with(engine):
    report = engine.size(SizingRequest(model="llama-3.1-8b", gpu="rtx-3060"))
    post = sizing_post(report, chart=b"png", chart_alt="alt text")
    assert post.embeds[0]["image"]["url"] == "attachment://memory.png"
    assert "[image memory.png: alt text]" in post_as_text(post)


@pytest.mark.parametrize("gpu,gpus", [("rtx-3090", 16), ("rtx-4090+rtx-3090+rtx-3060+rtx-3060+rtx-3060", 1)])
def test_embeds_of_big_multi_gpu_reports_are_within_limits(engine, gpu, gpus):
    report = engine.size(SizingRequest(model="llama-3.1-405b", gpu=gpu, gpus=gpus, context=131072))
    post = sizing_post(report, chart=b"png")
    assert embed_problems(post.embeds) == []
    device_field = post.embeds[0]["fields"][1]["value"]
    assert device_field.count("\n") >= min(len(report.devices), 10)


def test_compare_puts_the_setups_side_by_side(engine):
    reports = [engine.size(SizingRequest(model="llama-3.1-8b", gpu=g)) for g in ("rtx-3060", "rtx-4090")]
    embed = compare_post(reports).embeds[0]
    assert [f["name"] for f in embed["fields"]] == [r.hardware for r in reports]
    assert all(f["inline"] for f in embed["fields"])
    assert embed_problems([embed]) == []


def test_choose_lists_the_smallest_setup_first(engine):
    rec = choose(engine, "llama-3.1-70b")
    embed = choose_post(rec).embeds[0]
    assert embed_problems([embed]) == []
    assert rec.options[0].name in embed["description"].split("\n")[2]


# ---------------------------------------------------------------- entries and limits
def test_every_knowledge_entry_renders_within_limits():
    kb, _ = load_knowledge(KNOWLEDGE)
    for entry in kb.entries.values():
        embeds = entry_post(entry).embeds
        assert embed_problems(embeds) == [], entry.id
        assert re.search(r"\[1\] \[.+\]\(https?://", embeds[0]["fields"][-1]["value"]), entry.id


def test_fit_embed_cuts_an_oversized_embed_to_every_limit():
    huge = {"title": "t" * 300, "description": "d " * 3000,
            "fields": [{"name": "n" * 300, "value": "v " * 800} for _ in range(30)],
            "footer": {"text": "f" * 3000}}
    assert embed_problems([huge]) != []
    fitted = fit_embed(huge)
    assert embed_problems([fitted]) == []
    assert embed_length(fitted) <= EMBED_TOTAL


def test_a_fence_with_a_long_first_line_is_reopened_with_its_language_only():
    from bot.discord.splitting import split_message

    text = "```python " + "x = 1; " * 400 + "\n" + "y = 2\n" * 300 + "```"
    chunks = split_message(text)
    assert all(len(c) <= 2000 for c in chunks) and len(chunks) > 1
    assert all(c.startswith("```python\n") for c in chunks[1:])
