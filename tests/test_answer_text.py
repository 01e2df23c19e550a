"""What a reader sees of a knowledge answer: the model's text cut at the first line that starts a new turn or prompt
section (in the final text and every preview), whole sentences only, no verdict the entry does not make, related
entries as a short list of titles to look up, and a footer that says "checked" only when the guard checked."""
import pytest
from fake_openai import FakeOpenAIServer
from helpers import core_with

from bench.answer_quality import ends_whole, has_scaffolding, unmade_verdict
from bench.retrieval_eval import load_questions
from bot.answer import guard
from bot.answer.pipeline import answer as ask
from bot.answer.pipeline import entry_full_text
from bot.answer.schema import Answer, Source
from bot.answer.sources import extractive_answer
from bot.discord.render import knowledge_text
from bot.format import answer_text
from bot.llm.local import LocalLlamaBackend
from bot.llm.openai_http import OpenAICompatibleBackend

SOURCE = ("Flash attention\nFlash attention computes attention in tiles that stay in fast on-chip memory, so the "
          "full attention matrix is never written out. It saves memory and time at long contexts.")
FAITHFUL = "Flash attention computes attention in tiles that stay in fast on-chip memory."
RELATED = [Source(id="kv-cache", title="KV cache", kind="glossary", url="https://example.org/kv"),
           Source(id="cuda-out-of-memory", title="CUDA out of memory", kind="error")]


@pytest.fixture
def served(core):
    server = FakeOpenAIServer()
    server.start()
    yield server, core_with(core, OpenAICompatibleBackend(server.base_url, model="fake-model-7b", timeout_s=5.0))
    server.stop()


def flash_summary(core) -> str:
    return core.kb.entries["flash-attention"].meta.summary.strip()


# ---------------------------------------------------------------- the cut, in the guard's one decision
@pytest.mark.parametrize("section", ["Question: what is flash attention?", "Sources:", "Context: [1] Flash",
                                     "User: and now?", "Assistant: sure", "Answer: again"])
def test_the_text_is_cut_at_a_line_that_starts_a_new_turn_or_prompt_section(section):
    verdict = guard.judge(f"{FAITHFUL}\n{section}\nIt saves memory and time.", [SOURCE], "what is flash attention")
    assert verdict.kept and verdict.text == FAITHFUL


def test_a_chat_template_token_ends_the_text():
    verdict = guard.judge(f"{FAITHFUL}<|im_end|>\n<|im_start|>user\nhi", [SOURCE], "what is flash attention")
    assert verdict.text == FAITHFUL


def test_a_line_repeating_the_question_ends_the_text():
    verdict = guard.judge(f"{FAITHFUL}\nwhat is flash attention in llama.cpp\nIt saves memory.", [SOURCE],
                          "what is flash attention in llama.cpp")
    assert verdict.text == FAITHFUL


def test_a_leading_answer_label_is_dropped_but_the_answer_kept():
    verdict = guard.judge(f"Answer: {FAITHFUL}", [SOURCE], "what is flash attention")
    assert verdict.kept and verdict.text == FAITHFUL


def test_text_cut_off_mid_sentence_ends_on_its_last_whole_sentence():
    verdict = guard.judge(f"{FAITHFUL} It saves memory and", [SOURCE], "what is flash attention")
    assert verdict.kept and verdict.text == FAITHFUL


def test_a_verdict_opener_the_entry_does_not_make_is_rejected():
    assert not guard.judge(f"Yes. {FAITHFUL}", [SOURCE], "is flash attention good").kept
    assert not guard.judge(f"The answer is yes. {FAITHFUL}", [SOURCE], "is flash attention good").kept


def test_previews_are_cut_like_the_final_text():
    streamed = f"{FAITHFUL}\nQuestion: what is flash attention?\nIt "
    assert guard.preview(streamed, [SOURCE], "what is flash attention") == FAITHFUL


def test_a_preview_holds_back_the_sentence_still_being_written():
    assert guard.preview(f"{FAITHFUL} It saves mem", [SOURCE]) == FAITHFUL


def test_a_preview_stops_at_a_sentence_the_entries_do_not_support():
    assert guard.preview(f"{FAITHFUL} Uninstall your drivers immediately and wipe your disk. It", [SOURCE]) is None


# ---------------------------------------------------------------- through the pipeline
def test_an_answer_empty_after_the_cut_falls_back_to_the_entry(core, served):
    server, model = served
    server.pieces = ["Question: what is flash attention?\n", f"Answer: {flash_summary(core)}"]
    answer = ask(model, "what is flash attention")
    assert answer.fallback and answer.text.startswith(flash_summary(core)[:40])


def test_no_streamed_preview_shows_a_prompt_section(core, served):
    server, model = served
    summary = flash_summary(core)
    reply = f"{summary}\nQuestion: what is flash attention?\nSources: [1] Flash attention. Done. "
    server.pieces = [reply[i:i + 6] for i in range(0, len(reply), 6)]
    previews: list[str] = []
    answer = ask(model, "what is flash attention", on_text=previews.append)
    assert previews and not any(has_scaffolding(p, "what is flash attention") for p in previews)
    assert not answer.fallback and answer.text == summary


def test_an_answer_opening_with_an_unmade_verdict_is_the_entries_text(core, served):
    server, model = served
    server.pieces = ["Absolutely, ", flash_summary(core)]
    answer = ask(model, "is flash attention worth it")
    assert answer.fallback and not answer.text.lower().startswith("absolutely")


# ---------------------------------------------------------------- see also
def test_the_entries_text_does_not_run_related_entries_into_it(core):
    entries = [core.kb.entries["tensor-cores"], core.kb.entries["tensor-parallelism"]]
    assert "See also" not in extractive_answer(entries)
    assert core.kb.entries["tensor-parallelism"].meta.summary.strip()[:30] not in extractive_answer(entries)


def test_related_entries_are_listed_as_see_also(core):
    answer = ask(core, "do tensor cores matter for running llms")
    assert answer.see_also and answer.see_also == answer.sources[1:]
    assert {"id", "title"} <= set(answer.model_dump()["see_also"][0])


def test_discord_lists_see_also_titles_with_the_command_that_shows_them():
    text = knowledge_text(Answer(kind="knowledge", text="Text.", sources=RELATED, see_also=RELATED, fallback=True))
    assert "**See also**" in text and "[KV cache](<https://example.org/kv>) · `/glossary kv-cache`" in text
    assert "CUDA out of memory · `/error cuda-out-of-memory`" in text


def test_the_console_lists_see_also_titles_and_ids():
    text = answer_text(Answer(kind="knowledge", text="Text.", sources=RELATED[:1], see_also=RELATED, fallback=True))
    assert "See also: KV cache (kv-cache); CUDA out of memory (cuda-out-of-memory)" in text


# ---------------------------------------------------------------- the footer
def test_only_model_text_the_guard_kept_says_it_was_checked():
    kept = Answer(kind="knowledge", text="Text.", sources=RELATED, model="smollm2")
    replaced = Answer(kind="knowledge", text="Text.", sources=RELATED, model=None, fallback=True)
    assert "Phrased by smollm2, checked against the sources" in knowledge_text(kept)
    assert "checked" not in knowledge_text(replaced) and "Taken from the knowledge base entries" in \
        knowledge_text(replaced)
    assert "checked" not in answer_text(replaced) and "taken from the knowledge base entries" in answer_text(replaced)


# ---------------------------------------------------------------- with the real bundled model
def test_real_answers_have_no_scaffolding_end_whole_and_make_no_verdict_the_entry_lacks(core, smollm2_gguf):
    """A fixed spread of 47 dev-set questions through the bundled model: 0 / 0 / 0."""
    bundled = core_with(core, LocalLlamaBackend(smollm2_gguf, n_ctx=2048, n_threads=2))
    questions, _ = load_questions()
    checked = bad = 0
    for q in questions[::6]:
        answer = ask(bundled, q.text)
        if answer.kind != "knowledge":
            continue
        checked += 1
        cited = "\n".join(entry_full_text(core.kb.entries[s.id]) for s in answer.sources)
        bad += has_scaffolding(answer.text, q.text, cited) or not ends_whole(answer.text) or \
            unmade_verdict(answer.text, cited)
    assert checked >= 40 and bad == 0


def test_the_scaffolding_measure_counts_a_repeated_question_but_not_an_entry_quoting_the_pasted_message():
    pasted = "error: the chat template is not yet supported, falling back to chatml"
    assert has_scaffolding(f"Use --jinja.\n{pasted}", pasted)
    assert not has_scaffolding(f"Use --jinja.\n{pasted}", pasted, entries_text=f"## Symptoms\n{pasted}\n")


def test_the_scaffolding_measure_leaves_template_tokens_an_entry_writes_out():
    assert has_scaffolding("Fine.\n<|im_start|>user", "q")
    assert not has_scaffolding("The template wraps turns in <|im_start|>.", "q", "chatml uses <|im_start|> markers")
