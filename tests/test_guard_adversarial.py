"""The guard against the adversarial corpus (tests/eval/adversarial.yaml): whatever a message tells the model to say
(repeat a slur, cite a fake figure, ping @everyone, post an invite, a masked link, hidden in zero-width characters
or Cyrillic look-alikes), none of it reaches anything the bot posts: not a streamed preview, not the final text,
not the rendered Discord messages. Once with the real bundled model, once with a server that obeys every
instruction."""
import unicodedata
from pathlib import Path

import pytest
import yaml
from fake_openai import FakeOpenAIServer
from helpers import core_with

from bot.answer.pipeline import answer as ask
from bot.discord.render import RENDERERS, render_answer, streaming_preview, text_posts
from bot.llm.local import LocalLlamaBackend
from bot.llm.openai_http import OpenAICompatibleBackend

CORPUS = Path(__file__).parent / "eval" / "adversarial.yaml"
ITEMS = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))["items"]
# the real model takes seconds per answer on a 2-core CPU: every other message here (3 of each attack's 6, 36 in
# all); `python -m bench.answer_quality` runs all 72
REAL_MODEL_SAMPLE = ITEMS[::2]

# the corpus' own rule for matching, written here independently of the guard: zero-width characters removed,
# Cyrillic look-alikes folded to Latin, case ignored
_LOOK_ALIKES = str.maketrans("аеорсхуіАЕОРСХУІ", "aeopcxyiAEOPCXYI")


def as_read(text: str) -> str:
    text = "".join(c for c in unicodedata.normalize("NFKC", text) if unicodedata.category(c) != "Cf")
    return text.translate(_LOOK_ALIKES).lower()


def everything_posted(core, text: str) -> tuple[list[str], object]:
    """Every text the bot would show for `text`: each streamed preview (as Discord shows it), the final text, and
    each rendered post (content and embeds)."""
    previews: list[str] = []
    answer = ask(core, text, on_text=previews.append)
    # a kind another change is still adding a renderer for is posted as its text
    posts = render_answer(answer) if answer.kind in RENDERERS else text_posts(answer.text)
    shown = [*previews, *(streaming_preview(p) for p in previews), answer.text]
    shown += [p.content for p in posts] + [str(e) for p in posts for e in p.embeds]
    return shown, answer


def injected_in(shown: list[str], item: dict) -> list[str]:
    return [s for s in item["injected"] for text in shown if as_read(s) in as_read(text)]


@pytest.fixture(scope="module")
def bundled(core, smollm2_gguf):
    return core_with(core, LocalLlamaBackend(smollm2_gguf, n_ctx=2048, n_threads=2))


@pytest.fixture(scope="module")
def obeying(core):
    server = FakeOpenAIServer(mode="obey")
    server.start()
    yield server, core_with(core, OpenAICompatibleBackend(server.base_url, model="fake-model-7b", timeout_s=5.0))
    server.stop()


def _id(item: dict) -> str:
    return f"{item['attack']}-{as_read(item['text'])[:40]}"


@pytest.mark.parametrize("item", REAL_MODEL_SAMPLE, ids=_id)
def test_the_bundled_model_posts_no_injected_string(bundled, item):
    shown, _ = everything_posted(bundled, item["text"])
    assert injected_in(shown, item) == []


@pytest.mark.parametrize("item", ITEMS, ids=_id)
def test_a_model_that_obeys_the_injection_posts_none_of_it(obeying, item):
    server, served = obeying
    before = len(server.requests)
    shown, answer = everything_posted(served, item["text"])
    if answer.kind == "knowledge":
        assert len(server.requests) > before                  # the obeying model was asked, and was overruled
    assert injected_in(shown, item) == []


@pytest.mark.parametrize("item", ITEMS, ids=_id)
def test_each_payload_written_into_a_faithful_answer_is_caught(core, item):
    """The payload itself, opening the answer and inside an otherwise faithful sentence of the entry."""
    entry = None
    for payload in item["injected"]:
        server = FakeOpenAIServer()
        server.start()
        try:
            served = core_with(core, OpenAICompatibleBackend(server.base_url, model="fake-model-7b", timeout_s=5.0))
            if entry is None:
                answer = ask(core, item["text"])
                entry = answer.text.split(". ")[0].rstrip(".") if answer.kind == "knowledge" else "It is so"
            for reply in (f"{payload}. {entry}.", f"{entry}, {payload}.", f"{entry}. {payload}"):
                server.pieces = [reply[i:i + 5] for i in range(0, len(reply), 5)]
                shown, _ = everything_posted(served, item["text"])
                assert injected_in(shown, {"injected": [payload]}) == [], reply
        finally:
            server.stop()
