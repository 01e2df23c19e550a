"""Answering end to end without Discord: routing, sizing answers from the engine, knowledge answers from the
entries phrased by the real bundled model or a fake OpenAI-compatible server, the guard, and every fallback."""
import asyncio
import json
import re

import pytest
from fake_openai import FakeOpenAIServer
from helpers import core_with

from bench.retrieval_eval import load_questions
from bot.answer.guard import facts, new_words, problems, repeated_phrase, unsupported_facts
from bot.answer.pipeline import answer as ask
from bot.answer.pipeline import answer_async, entry_full_text
from bot.answer.prompt import clean_generated, strip_think
from bot.llm.local import LocalLlamaBackend
from bot.llm.openai_http import OpenAICompatibleBackend
from bot.llm.queue import GenerationQueue
from bot.sizing.schema import SizingRequest


@pytest.fixture(scope="module")
def local_backend(smollm2_gguf):
    return LocalLlamaBackend(smollm2_gguf, n_ctx=2048, n_threads=2)


@pytest.fixture(scope="module")
def bundled(core, local_backend):
    return core_with(core, local_backend)


@pytest.fixture
def fake_server():
    server = FakeOpenAIServer()
    server.start()
    yield server
    server.stop()


def core_served_by(server, core, timeout_s=5.0):
    backend = OpenAICompatibleBackend(server.base_url, model="fake-model-7b", timeout_s=timeout_s)
    return core_with(core, backend)


# ---------------------------------------------------------------- the guard on its own
def test_facts_are_numbers_with_units_flags_quants_and_env_vars():
    found = facts("Use -ngl 99 and Q4_K_M; set OLLAMA_KV_CACHE_TYPE=q8_0 to save 2 GB on v0.3.36.")
    assert {"flag:-ngl", "number:99", "quant:q4_k_m", "env:ollama_kv_cache_type", "number:2gb",
            "version:v0.3.36"} <= found


def test_an_invented_figure_is_unsupported():
    sources = ["The KV cache of an 8B model at 8k context takes about 1 GB in f16."]
    assert unsupported_facts("The KV cache takes about 12 GB.", sources) == ["12gb"]
    assert unsupported_facts("The KV cache takes about 1 GB.", sources) == []


def test_a_flag_or_quant_the_sources_do_not_name_is_unsupported():
    sources = ["Offload layers with -ngl."]
    assert unsupported_facts("Use --n-gpu-layers with Q8_0.", sources) == ["--n-gpu-layers", "q8_0"]


def test_a_quantity_in_words_must_be_in_the_sources_too():
    assert unsupported_facts("about six bits per weight", ["Q4_K_M averages 4.8 bits per weight"]) == ["6bit"]
    assert unsupported_facts("it halves the memory", ["q8_0 roughly halving cache memory"]) == []


def test_same_quantity_written_differently_is_supported():
    assert unsupported_facts("about 2 GB", ["roughly 2.0 GB of memory"]) == []


def test_a_looping_answer_is_caught():
    assert repeated_phrase("it is a variant of it is a variant of it") == "it is a variant of"
    assert repeated_phrase("every word here is different from the others") is None


def test_words_no_source_uses_are_counted_as_invention():
    assert new_words("Flash attention is a new type of flash memory", ["Flash attention computes attention"]) == \
        ["new", "type", "memory"]


def test_think_blocks_are_stripped_even_unterminated():
    assert strip_think("<think>maybe 99 GB?</think>The answer.") == "The answer."
    assert strip_think("Partial <think>still thinking about 12") == "Partial"
    assert clean_generated("Use Q4_K_M [1].") == "Use Q4_K_M ."


# ---------------------------------------------------------------- sizing answers never touch a model
def test_a_sizing_question_is_answered_by_the_engine_with_its_numbers(core, engine, fake_server):
    answer = ask(core_served_by(fake_server, core), "will llama 3.1 8b fit on a 3060 12gb?")
    expected = engine.size(SizingRequest(model="llama-3.1-8b", gpu="rtx-3060-12gb"))
    assert answer.kind == "sizing" and not fake_server.requests
    assert answer.sizing.total_bytes == expected.total_bytes and answer.sizing.verdict == expected.verdict


def test_a_bare_card_size_is_sized_as_a_typical_card_and_says_so(core):
    answer = ask(core, "can my 12gb card run llama 3.1 8b?")
    assert answer.kind == "sizing" and answer.sizing.devices[0].usable_bytes > 11 * 2**30
    assert "any 12 GB card fits the same" in answer.sizing.assumptions[0]


def test_what_gpu_do_i_need_recommends_hardware(core):
    answer = ask(core, "what gpu do i need for qwen2.5 72b")
    assert answer.kind == "choose" and answer.recommendation["options"]
    assert answer.recommendation["model"] == "qwen2.5-72b"


def test_a_sizing_question_without_a_known_model_asks_which_model(core):
    answer = ask(core, "will llama 9 70b fit on my 3090?")
    assert answer.kind == "clarify" and "Which model?" in answer.text


def test_a_size_without_a_family_is_sized_as_a_representative_architecture_and_says_so(core):
    answer = ask(core, "will a 70b model fit on my 3090?")
    assert answer.kind == "sizing"
    assert any("70b" in note.lower() for note in answer.sizing.assumptions)


def test_a_follow_up_changes_one_field_of_the_previous_request(core):
    first = ask(core, "will llama 3.1 8b run on a 3060 12gb?")
    second = ask(core, "what about 32k context?", previous=first.request)
    assert second.kind == "sizing" and second.sizing.context == 32768
    assert second.sizing.model.id == first.sizing.model.id and second.sizing.hardware == first.sizing.hardware


# ---------------------------------------------------------------- knowledge answers
def test_off_topic_is_not_in_the_knowledge_base_and_no_model_is_asked(core, fake_server):
    answer = ask(core_served_by(fake_server, core), "whats the best pizza topping")
    assert answer.kind == "no_match" and "not in our knowledge base" in answer.text
    assert answer.sources and not fake_server.requests


def test_a_chit_chat_message_seen_in_a_channel_gets_no_answer(core):
    assert ask(core, "lol nice", explicit=False).kind == "none"


def test_a_faithful_rephrasing_from_the_server_is_shown(core, fake_server):
    entry = core.kb.entries["kv-cache-quantization"]
    fake_server.pieces = [entry.meta.summary[:60], entry.meta.summary[60:]]
    answer = ask(core_served_by(fake_server, core), "what is kv cache quantization")
    assert answer.kind == "knowledge" and not answer.fallback
    assert answer.text == entry.meta.summary.strip() and answer.sources[0].id == "kv-cache-quantization"
    assert answer.model == "fake-model-7b"      # the model's name only, never the server's address


def test_a_crafted_answer_with_an_invented_figure_is_replaced_by_the_entries(core, fake_server):
    fake_server.pieces = ["Quantizing the KV cache to q8_0 ", "saves exactly 37 GB on every model."]
    answer = ask(core_served_by(fake_server, core), "what is kv cache quantization")
    assert answer.fallback and "37gb" in answer.fallback_reason
    assert "37" not in answer.text and answer.sources
    assert answer.text.startswith(core.kb.entries[answer.sources[0].id].meta.summary.strip()[:40])


def test_a_failing_backend_still_answers_from_the_sources(core, fake_server):
    fake_server.mode = "fail"
    answer = ask(core_served_by(fake_server, core), "what is flash attention")
    assert answer.kind == "knowledge" and answer.fallback and answer.sources
    assert "500" in answer.fallback_reason and answer.sources[0].id == "flash-attention"


def test_a_backend_that_times_out_still_answers_from_the_sources(core, fake_server):
    fake_server.mode = "stall"
    answer = ask(core_served_by(fake_server, core, timeout_s=0.5), "what is flash attention")
    assert answer.fallback and answer.sources and answer.text


def test_no_model_configured_answers_from_the_entries(core):
    answer = ask(core, "what does q4_k_m mean")
    assert answer.kind == "knowledge" and answer.fallback and answer.sources[0].id == "q4-k-m"


def test_answer_json_keys_are_stable(core):
    data = json.loads(ask(core, "what is gguf").model_dump_json())
    assert {"kind", "text", "sources", "sizing", "confidence", "fallback", "timings"} <= set(data)
    assert {"id", "title"} <= set(data["sources"][0]) and "total" in data["timings"]


def test_answers_through_the_queue_report_their_position_and_stream(core, fake_server):
    entry = core.kb.entries["flash-attention"]
    fake_server.pieces = [entry.meta.summary]
    served = core_served_by(fake_server, core)

    async def main():
        queue = GenerationQueue(served.backend, max_waiting=4)
        positions, streamed = [], []
        answer = await answer_async(served, queue, "what is flash attention", on_text=streamed.append,
                                             on_position=positions.append)
        await queue.close()
        return answer, positions, streamed

    answer, positions, streamed = asyncio.run(main())
    assert positions == [0] and streamed and not answer.fallback
    assert answer.text == entry.meta.summary.strip()


# ---------------------------------------------------------------- with the real bundled model
def test_the_bundled_model_answer_cites_its_sources(bundled):
    answer = ask(bundled, "what is the kv cache")
    assert answer.kind == "knowledge" and answer.sources[0].id in {"kv-cache", "kv-cache-quantization"}
    assert answer.text and answer.timings["generation"] > 0


def test_final_answers_are_faithful_on_dev_set_questions(bundled, core):
    """Every final answer either passed the guard against the entries the model was shown, or is the entries' own
    text: faithfulness 100 %, on a spread of real questions with the real model."""
    questions, _ = load_questions()
    for q in questions[::28]:
        answer = ask(bundled, q.text)
        if answer.kind != "knowledge":
            continue
        assert answer.sources
        # an oracle independent of the guard's patterns: every run of digits in the final text is in the entries
        cited = " ".join(entry_full_text(core.kb.entries[s.id])
                         for s in (answer.sources if answer.fallback else answer.sources[:1]))
        assert set(re.findall(r"\d+(?:\.\d+)?", answer.text)) <= set(re.findall(r"\d+(?:\.\d+)?", cited))
        if not answer.fallback:
            assert problems(answer.text, [entry_full_text(core.kb.entries[answer.sources[0].id])], q.text) == []


def test_streamed_previews_stop_before_an_invented_figure_is_shown(core, fake_server):
    first = re.split(r"(?<=\.)\s", core.kb.entries["kv-cache-quantization"].meta.summary.strip())[0]
    fake_server.pieces = [first[:30], first[30:] + " ", "It saves exactly ", "37 GB", " on every model. ", "Done."]
    shown: list[str] = []
    answer = ask(core_served_by(fake_server, core), "what is kv cache quantization",
                                                                     on_text=shown.append)
    assert shown and not any("37" in text for text in shown)
    assert answer.fallback


def test_a_question_that_gives_up_while_waiting_leaves_the_queue(core, fake_server):
    fake_server.seconds_between_pieces = 0.5
    served = core_served_by(fake_server, core)

    async def main():
        queue = GenerationQueue(served.backend, max_waiting=4)
        first = asyncio.create_task(answer_async(served, queue, "what is flash attention"))
        await asyncio.sleep(0.3)                       # the first question holds the model
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(answer_async(served, queue, "what is gguf", on_position=lambda p: None), 0.5)
        waiting_after = queue.waiting
        await first
        await queue.close()
        return waiting_after

    assert asyncio.run(main()) == 0
