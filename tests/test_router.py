"""The router: which messages are sizing, knowledge or nothing for the bot, and what sizing facts they state.
Real catalog and knowledge base, no mocks."""

import pytest

from bot.errors import InvalidRequestError
from bot.routing import LISTEN_THRESHOLD, DomainVocabulary, GpuRef, Router, to_sizing_request
from bot.routing.classify import knowledge_phrases


@pytest.fixture(scope="module")
def router(catalog, kb):
    return Router(catalog, DomainVocabulary.build(catalog, knowledge_phrases(kb)))


def sizing_of(router, text):
    route = router.route(text)
    assert route.route == "sizing", (text, route)
    return route.sizing


# -- model names ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, model_id", [
    ("will llama 3.1 70b run on my 3090?", "llama-3.1-70b"),
    ("can i run llama3 8b on a 3060?", "llama-3-8b"),
    ("L3.1 70B on 2x 3090?", "llama-3.1-70b"),
    ("does qwen2.5 32b fit on a 4090?", "qwen2.5-32b"),
    ("will qwen 2.5 coder 32b fit in 24gb vram?", "qwen2.5-coder-32b"),
    ("how fast is mixtral 8x7b on a 4090?", "mixtral-8x7b"),
    ("can my 7900 xtx run gemma2 27b?", "gemma-2-27b"),
    ("deepseek r1 distill qwen 14b on a 3060 12gb?", "deepseek-r1-distill-qwen-14b"),
    ("Llama-3.1-8B-Instruct-Q4_K_M.gguf on a 3060, will it fit?", "llama-3.1-8b"),
])
def test_model_names_as_people_write_them_resolve_to_catalog_ids(router, text, model_id):
    model = sizing_of(router, text).model
    assert model.id == model_id
    assert model.params_b == router.extractor.catalog.model(model_id).params_b


def test_a_size_the_catalog_lacks_for_that_family_is_not_another_size(router):
    fields = sizing_of(router, "will llama 3.1 13b run on a 3090?")
    assert fields.model is None
    assert fields.unknown_model == "llama 3.1 13b"


def test_a_family_without_a_size_is_not_a_model(router):
    fields = sizing_of(router, "will llama 3 run on my 3090?")
    assert fields.model is None
    assert fields.unknown_model == "llama 3"


def test_a_size_written_after_a_sizeless_name_picks_that_size(router):
    assert sizing_of(router, "can a 4090 run qwen2.5 instruct 72b?").model.id == "qwen2.5-72b"


def test_a_sizeless_catalog_alias_means_the_size_the_catalog_gives_it(router):
    assert sizing_of(router, "can a 4090 run mixtral?").model.id == "mixtral-8x7b"


def test_a_typo_in_the_letters_of_a_name_still_finds_the_model(router):
    assert sizing_of(router, "will lamma 3.1 70b fit on 2x 3090?").model.id == "llama-3.1-70b"


def test_a_changed_digit_is_not_treated_as_a_typo(router):
    assert sizing_of(router, "will qwen 32b fit on a 3090?").model is None


# -- hardware -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, gpu_id", [
    ("can a 3090 run llama 3.1 8b?", "rtx-3090"),
    ("can an rtx 4090 run llama 3.1 8b?", "rtx-4090"),
    ("will llama 3.1 8b fit on a 4060 ti 16gb?", "rtx-4060-ti-16gb"),
    ("will llama 3.1 8b fit on a 7900 xtx?", "rx-7900-xtx"),
    ("will llama 3.1 405b fit on an a100 80gb?", "a100-80gb-sxm"),
    ("can an m2 max run llama 3.1 8b?", "apple-m2-max"),
    ("can a geforce rtx 3090 run llama 3.1 8b?", "rtx-3090"),
])
def test_gpu_names_resolve_with_or_without_vendor(router, text, gpu_id):
    assert sizing_of(router, text).gpu.id == gpu_id


@pytest.mark.parametrize("text, typed", [
    ("will llama 3.1 8b run on a gtx 4090 ti super", "gtx 4090 ti super"),   # was sized as an RTX 4090
    ("will llama 3.1 8b run on an rtx 5095", "rtx 5095"),                    # was answered "which GPU do I need"
    ("can my rtx5095 run llama 3.1 8b", "rtx5095"),
])
def test_a_gpu_the_catalog_lacks_is_said_back_not_replaced(router, text, typed):
    route = router.route(text)
    assert route.sizing.gpu is None and route.sizing.unknown_gpu == typed
    assert route.kind == "clarify"


def test_the_clarify_answer_for_an_unknown_gpu_names_the_closest_cards(core):
    from bot.answer.pipeline import answer
    result = answer(core, "will llama 3.1 8b run on an rtx 5095")
    assert result.kind == "clarify"
    assert "I don't know a GPU called 'rtx 5095'" in result.text and "rtx-5090" in result.text


def test_model_sizes_and_contexts_are_not_mistaken_for_gpus(router):
    fields = sizing_of(router, "can i run llama 3.1 8b at 16k context?")
    assert fields.gpu is None


def test_a_card_sold_in_two_sizes_takes_the_stated_size(router):
    assert sizing_of(router, "will llama 3.1 8b fit on an a100 with 40gb?").gpu.id == "a100-40gb-pcie"


def test_a_card_sold_in_two_sizes_without_a_size_takes_the_larger(router):
    assert sizing_of(router, "will llama 3.1 8b fit on a 4060 ti?").gpu.id == "rtx-4060-ti-16gb"


@pytest.mark.parametrize("text, count", [
    ("will llama 3.1 70b run on 2x 3090?", 2),
    ("will llama 3.1 70b run on 2x3090?", 2),
    ("will llama 3.1 70b run on dual 4090?", 2),
    ("will llama 3.1 70b run on two 4060 ti 16gb?", 2),
    ("will llama 3.1 70b run on 3 3090s?", 3),
    ("will llama 3.1 405b run on 4x A100?", 4),
    ("will llama 3.1 70b run on a 3090 x2?", 2),
    ("will llama 3.1 70b run on quad 3090?", 4),
])
def test_gpu_counts_in_the_ways_people_write_them(router, text, count):
    assert sizing_of(router, text).gpus == count


def test_a_single_named_gpu_states_no_count(router):
    assert sizing_of(router, "will llama 3.1 8b run on a 3090?").gpus is None


def test_a_mac_takes_the_unified_memory_that_is_stated(router):
    gpu = sizing_of(router, "m3 max 64gb enough for qwen2.5 32b?").gpu
    assert gpu == GpuRef(id="apple-m3-max-40c", memory_gb=64)


def test_a_macbook_with_ram_stated_gets_it_as_unified_memory(router):
    fields = sizing_of(router, "can my macbook m1 pro 32gb ram run llama3 8b?")
    assert fields.gpu == GpuRef(id="apple-m1-pro", memory_gb=32)
    assert fields.ram_gb is None


def test_a_mac_without_stated_memory_gets_the_catalog_memory(router):
    assert sizing_of(router, "can an m2 max run qwen2.5 32b?").gpu.memory_gb == 32


@pytest.mark.parametrize("text, memory", [
    ("i have a 12gb card, can i run gemma 2 27b?", 12),
    ("will llama 3.1 8b fit in 16gb of vram?", 16),
    ("can my 8 gb gpu run phi 4?", 8),
    ("is 24gb enough for gemma 2 27b?", 24),
])
def test_a_card_known_only_by_its_memory_is_a_bare_card(router, text, memory):
    assert sizing_of(router, text).gpu == GpuRef(id=None, memory_gb=memory)


@pytest.mark.parametrize("text, ram", [
    ("cpu only with 64gb, can i run qwen3 30b a3b?", 64),
    ("no gpu, 32gb ram: will phi 4 run?", 32),
])
def test_cpu_only_states_no_gpu_and_the_ram(router, text, ram):
    fields = sizing_of(router, text)
    assert fields.cpu_only and fields.gpu is None and fields.ram_gb == ram


# -- quantization, context, RAM -------------------------------------------------------------------------------
@pytest.mark.parametrize("phrase, quant", [
    ("q4_k_m", "Q4_K_M"), ("Q4_K_M", "Q4_K_M"), ("q8", "Q8_0"), ("iq4_xs", "IQ4_XS"), ("fp16", "F16"),
    ("awq", "AWQ-4bit"), ("4 bit", "Q4_K_M"), ("4bit", "Q4_K_M"), ("8-bit", "Q8_0"),
])
def test_quantizations_become_catalog_names(router, phrase, quant):
    assert sizing_of(router, f"will llama 3.1 8b at {phrase} fit on a 3060?").quant == quant


def test_a_kv_cache_type_is_not_the_weights_quantization(router):
    assert sizing_of(router, "will llama 3.1 8b fit on a 3060 with q8_0 kv cache?").quant is None


@pytest.mark.parametrize("phrase, tokens", [
    ("16k", 16384), ("32k ctx", 32768), ("8192 context", 8192), ("128k context", 131072), ("context of 4096", 4096),
])
def test_contexts_become_token_counts(router, phrase, tokens):
    assert sizing_of(router, f"will llama 3.1 8b fit on a 3090 at {phrase}?").context == tokens


def test_money_is_not_a_context(router):
    route = router.route("what gpu do i need for llama 3.1 8b, $2k budget?")
    assert route.sizing.context is None
    # a budget makes it a cost question (setups ranked by price per speed), not sizing
    assert route.kind == "cost" and route.sizing.calc.budget_usd == 2000


@pytest.mark.parametrize("phrase, ram", [("32gb ram", 32), ("64 gigs of ram", 64), ("ram: 48gb", 48)])
def test_system_ram_as_people_write_it(router, phrase, ram):
    assert sizing_of(router, f"can a 3090 with {phrase} run llama 3.1 70b?").ram_gb == ram


# -- route decisions ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "will llama 3.1 70b run on 2x 3090?",
    "how fast is mistral 7b on an m1?",
    "how much vram do i need for qwen2.5 72b at q4?",
    "what gpu do i need for mixtral 8x7b",
    "is a 4060 ti 16gb enough for gemma 2 27b",
])
def test_sizing_questions_route_to_sizing_with_high_confidence(router, text):
    route = router.route(text)
    assert route.route == "sizing" and route.confidence >= 0.8


def test_what_gpu_do_i_need_is_sizing_without_hardware(router):
    fields = sizing_of(router, "what gpu do i need for llama 3.3 70b?")
    assert fields.model.id == "llama-3.3-70b" and fields.gpu is None and not fields.cpu_only


def test_a_bare_model_and_hardware_is_a_weaker_sizing_question(router):
    route = router.route("llama 3.1 70b on 2x 3090")
    assert route.route == "sizing" and LISTEN_THRESHOLD <= route.confidence < 0.8


@pytest.mark.parametrize("text", [
    "what does Q4_K_M mean",
    "what is flash attention?",
    "ROCm doesn't see my card",
    "ollama keeps unloading the model",
    "how do i install ollama on windows",
    "explain kv cache",
])
def test_domain_questions_and_problems_route_to_knowledge(router, text):
    route = router.route(text)
    assert route.route == "knowledge" and route.confidence >= 0.8


@pytest.mark.parametrize("text", [
    "CUDA error: out of memory",
    "Traceback (most recent call last):\n  File \"app.py\", line 3, in <module>\n    import torch",
    "llama_model_load: error loading model: unknown model architecture: 'qwen3'",
    "Error: llama runner process has terminated: exit status 2",
])
def test_pasted_errors_route_to_knowledge_without_a_question(router, text):
    assert router.route(text).route == "knowledge"


@pytest.mark.parametrize("text", ["thanks!", "lmao that's wild", "good morning everyone",
                                  "what's the weather like today?", "can someone recommend a good pizza place"])
def test_chit_chat_and_off_topic_route_to_none(router, text):
    assert router.route(text).route == "none"


def test_good_enough_is_about_quality_not_fit(router):
    assert router.route("is llama 3.2 3b good enough for summarization?").route == "knowledge"


def test_an_out_of_memory_mention_in_a_sizing_question_stays_sizing(router):
    route = router.route("got CUDA out of memory with llama 3.1 70b on my 3090, will q3 fit?")
    assert route.route == "sizing" and route.sizing.quant == "Q3_K_M"


def test_buying_a_gpu_is_a_statement_not_a_question(router):
    assert router.route("just bought a 4090!!").route == "none"


def test_an_opinion_about_a_model_is_not_a_question(router):
    assert router.route("llama 3 is so good lol").route == "none"


def test_a_question_to_other_people_is_not_for_the_bot(router):
    assert router.route("anyone up for games tonight?").route == "none"


def test_reporting_a_speed_is_not_asking_for_one(router):
    assert router.route("running qwen2.5 32b on my 3090 at 30 t/s, pretty happy").route == "none"


@pytest.mark.parametrize("text", ["my gpu is crying lol", "ollama is great", "cuda go brrr"])
def test_chit_chat_with_a_domain_word_is_not_answered_in_listen_mode(router, text):
    route = router.route(text)
    assert route.route == "none" or route.confidence < LISTEN_THRESHOLD


def test_the_knowledge_score_breaks_a_tie_for_an_ambiguous_question(catalog, router):
    text = "how do i change the port?"
    assert router.route(text).confidence < LISTEN_THRESHOLD
    sure = Router(catalog, knowledge_score=lambda _: 0.9, vocabulary=router.vocabulary).route(text)
    assert sure.route == "knowledge" and sure.confidence >= LISTEN_THRESHOLD


def test_the_knowledge_score_does_not_override_clear_rules(catalog, router):
    eager = Router(catalog, knowledge_score=lambda _: 1.0, vocabulary=router.vocabulary)
    assert eager.route("thanks!").route == "none"
    assert eager.route("will llama 3.1 70b run on 2x 3090?").route == "sizing"


# -- follow-ups -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def previous(router):
    return router.route("will llama 3.1 70b run on 2x 3090 at q4_k_m?").sizing


@pytest.mark.parametrize("text, changed", [
    ("what about 32k context?", {"context": 32768}),
    ("what about q8?", {"quant": "Q8_0"}),
    ("with 4 of them?", {"gpus": 4}),
    ("and 64gb ram?", {"ram_gb": 64}),
    ("what about qwen2.5 32b?", {"model": {"id": "qwen2.5-32b", "params_b": 32.5}}),
])
def test_a_follow_up_changes_only_what_it_states(router, previous, text, changed):
    route = router.route(text, previous=previous)
    assert route.route == "sizing"
    expected = previous.model_dump() | changed
    assert route.sizing.model_dump() == expected


def test_a_follow_up_with_another_gpu_drops_the_old_count(router, previous):
    fields = router.route("and on a 4090?", previous=previous).sizing
    assert fields.gpu.id == "rtx-4090" and fields.gpus is None and fields.model == previous.model


def test_a_follow_up_on_a_mac_puts_ram_into_unified_memory(router):
    mac = router.route("can an m2 max run qwen2.5 32b?").sizing
    fields = router.route("and 96gb ram?", previous=mac).sizing
    assert fields.gpu == GpuRef(id="apple-m2-max", memory_gb=96) and fields.ram_gb is None


@pytest.mark.parametrize("text", ["what about 32k context?", "and on a 4090?", "what about q8?", "with 2 of them?",
                                  "and 64gb ram?"])
def test_follow_up_words_without_a_previous_question_are_not_sizing(router, text):
    assert router.route(text).route != "sizing"


def test_a_knowledge_question_after_a_sizing_answer_stays_knowledge(router, previous):
    assert router.route("what is flash attention?", previous=previous).route == "knowledge"


# -- into the sizing engine -----------------------------------------------------------------------------------
def test_a_routed_question_gives_a_real_sizing_report(router, engine, catalog):
    fields = sizing_of(router, "will llama 3.1 70b run on 2x 3090 at 8k context?")
    report = engine.size(to_sizing_request(fields, catalog))
    assert report.model.id == "llama-3.1-70b"
    assert report.hardware == "2x NVIDIA GeForce RTX 3090"
    assert report.context == 8192 and report.quant == "Q4_K_M"
    assert report.verdict == "fits"


def test_a_mac_question_is_sized_with_its_stated_memory(router, engine, catalog):
    request = to_sizing_request(sizing_of(router, "m3 max 64gb enough for qwen2.5 32b?"), catalog)
    assert request.gpu == "apple-m3-max-40c" and request.memory_gb == 64
    assert engine.size(request).hardware.endswith("64GB")


def test_a_discrete_card_does_not_pass_its_memory(router, catalog):
    request = to_sizing_request(sizing_of(router, "will llama 3.1 8b fit on a 3090?"), catalog)
    assert request.gpu == "rtx-3090" and request.memory_gb is None


def test_a_bare_card_leaves_gpu_empty_and_passes_its_memory(router, catalog):
    request = to_sizing_request(sizing_of(router, "i have a 12gb card, can i run gemma 2 27b?"), catalog)
    assert request.gpu is None and request.memory_gb == 12


def test_a_cpu_only_question_is_sized_on_system_ram(router, engine, catalog):
    request = to_sizing_request(sizing_of(router, "cpu only with 64gb ram, can i run qwen3 30b a3b?"), catalog)
    assert request.gpu is None and request.ram_gb == 64
    assert engine.size(request).verdict == "cpu_only"


def test_a_question_without_a_known_model_asks_the_user_to_name_one(router, catalog):
    fields = sizing_of(router, "can my 3060 handle llama 9 70b?")
    with pytest.raises(InvalidRequestError, match="Which model"):
        to_sizing_request(fields, catalog)


# -- interface ------------------------------------------------------------------------------------------------
def test_route_json_has_the_documented_keys(router):
    data = router.route("will llama 3.1 70b run on 2x 3090?").model_dump(mode="json")
    assert {"route", "confidence", "sizing", "reason"} <= set(data)
    assert {"model", "gpu", "gpus", "quant", "context", "ram_gb"} <= set(data["sizing"])
    assert set(data["sizing"]["model"]) == {"id", "params_b"}
    assert set(data["sizing"]["gpu"]) == {"id", "memory_gb"}


def test_non_sizing_routes_carry_no_sizing_fields(router):
    assert router.route("what is flash attention?").model_dump(mode="json")["sizing"] is None
